"""Siting scenarios as TOML files: parse, validate strictly, run, compare.

A scenario file says which services stay open, which close, where new (mobile) consultation
sites may go, how demand is counted and which location model chooses them. Every mistake is
reported with the file, the line and the key (:class:`~geoplanner.core.errors.ConfigError`).

Layout (all tables optional except the top-level ``name``)::

    name = "mobiel_2_teams"             # also the output folder name
    description = "..."                 # Dutch (optionally English too)
    model = "capacitated_rotation"      # none | mclp | lscp | p_median | rotation
                                        # | capacitated_mclp | capacitated_rotation

    [walk]
    speed_kmh = 4.5
    threshold_min = 10

    [demand]
    kind = "children"                   # children | deprivation_weighted | priority_only
    deprivation_strength = 0.5          # for deprivation_weighted
    consultations_age0 = 7              # capacitated models: consultations a year per child aged 0,
    consultations_age1 = 3              #   1 and 2 (aanname: Kind & Gezin's schedule is not in the data)
    consultations_age2 = 2
    uptake = 0.783                      # share of families that use a consultation bureau
                                        #   (VGC research: 21.7 % non-use in Brussels)
    dutch_share = 1.0                   # share that would use a Dutch-speaking service (no figure: 1)

    [capacity]
    children_per_session = 10           # aanname: children one team sees in one dagdeel
    weeks_per_year = 46                 # aanname: working weeks a year

    [services]
    open = ["any_cb"]                   # service sets that stay open
    close = ["ONE-07"]                  # ids of those services that close

    [candidates]
    set = "candidates"
    types = ["community_centre_vgc"]    # candidate types to allow (default: all)
    communes = [21012, "Anderlecht"]    # NIS codes or Dutch/French names
    lgn = [2, 4]
    ids = ["CAND-0001"]                 # explicit venues (added to the filtered ones)
    exclude = ["CAND-0004"]
    suitability = ["geschikt"]          # geschikt | na_te_gaan | ongeschikt (geoplanner.inputs.venues)
    prefer_dutch = true                 # Dutch-speaking venues (data column 'language') break ties
    dutch_only = false                  # only Dutch-speaking venues

    [siting]
    k = 5                               # mclp, p_median
    target = "priority_wijken"          # lscp: priority_wijken | share
    share = 0.8                         # lscp with target = "share"
    priority_share = 0.5                # share of a priority wijk's children that counts as reached
    priority_served_share = 0.05        # capacitated rotation: floor of each priority wijk's consultations
    time_limit_s = 20
    mip_gap = 0.01                      # stop within this relative gap of the proven bound (0: prove)

    [rotation]
    teams = 2
    sessions_per_team = 8
    balance_lgn = true                  # every LGN with a priority wijk gets a session
    slots = ["woensdag namiddag", "zaterdag voormiddag", "dinsdag avond"]
                                        # capacitated rotation: the slots teams work ('dag dagdeel';
                                        #   default Monday-Friday voormiddag and namiddag)

    [curve]                             # capacitated rotation: the teams curve
    max_teams = 10                      # 1..max_teams teams
    target_share = 0.5                  # "teams needed" for this share of the priority wijken's
                                        #   expected consultations (policy choice, see CAPACITY_PARAMETERS)
    time_limit_s = 4                    # per point of the curve

Demand kinds (all counted in young children, ``pop_0_2`` estimated per sector and spread over
the residential streets by :func:`geoplanner.access.times.demand_points`):

- ``children``: every child counts 1.
- ``deprivation_weighted`` (proportional universalism): a child counts
  ``1 + deprivation_strength × max(deprivation, 0)``, with the wijk deprivation index of
  :func:`geoplanner.need.rank_wijken` (a z-score composite; 0 = average wijk). Every child
  counts at least 1; children in more deprived wijken count more. Wijken without an index
  count 1.
- ``priority_only``: only children in the priority wijken count.

A priority wijk is *reached* when at least ``priority_share`` (default 0.5) of its children
live within the walking threshold of an open site; the same rule is the constraint of the set
covering and rotation models and the ``priority_reached`` figure of :func:`compare`.

Capacitated models (``capacitated_mclp``, ``capacitated_rotation``) count demand in consultations a
year (:func:`consultation_demand`) and supply in session places (``children_per_session ×
weeks_per_year`` per weekly session); every default and its basis is in
:data:`CAPACITY_PARAMETERS` and in each scenario's notes. Their ``children_covered`` is the
number of children served *within capacity* (consultations served / consultations per child);
``children_in_reach`` keeps the walking-distance count. Unserved consultations are split into
*because of distance* and *because of capacity* (:func:`unserved_by_wijk`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from geoplanner import cache
from geoplanner.core.errors import ConfigError, ModelError
from geoplanner.core.progress import stage

__all__ = [
    "MODELS",
    "DEMAND_KINDS",
    "REACH_SHARE",
    "Scenario",
    "SitingContext",
    "ScenarioResult",
    "load_scenario",
    "parse_scenario",
    "build_context",
    "evaluate",
    "run_scenario",
    "compare",
    "demand_weights",
    "write_scenario_outputs",
    "write_comparison",
    "COMPARISON_LABELS",
]

MODELS = ("none", "mclp", "lscp", "p_median", "rotation", "capacitated_mclp", "capacitated_rotation")
#: Models that count the capacity of sessions (demand in consultations, supply in sessions).
CAPACITATED_MODELS = ("capacitated_mclp", "capacitated_rotation")

#: Defaults of the capacity parameters and their basis: (key, default, basis). A figure from the
#: VGC research report is cited as such; anything else is an assumption (aanname) and a parameter.
CAPACITY_PARAMETERS: tuple[tuple[str, float, str], ...] = (
    (
        "demand.consultations_age0",
        7.0,
        "aanname: een consultatieschema van ongeveer 7 contacten in het eerste levensjaar "
        "(Kind & Gezin's schema per leeftijd is niet in de data); controleer met Kind & Gezin",
    ),
    ("demand.consultations_age1", 3.0, "aanname: ongeveer 3 consultaties in het tweede levensjaar"),
    ("demand.consultations_age2", 2.0, "aanname: ongeveer 2 consultaties in het derde levensjaar"),
    (
        "demand.uptake",
        0.783,
        "VGC-onderzoek: 21,7 % van de Brusselse gezinnen gebruikt geen consultatiebureau, dus 78,3 % wel",
    ),
    (
        "demand.dutch_share",
        1.0,
        "geen cijfer in de data: het aandeel gezinnen dat een Nederlandstalige dienst zou "
        "gebruiken; 1 = niet toegepast, zet je eigen cijfer",
    ),
    ("capacity.children_per_session", 10.0, "aanname: kinderen die één team in één dagdeel ziet"),
    ("capacity.weeks_per_year", 46.0, "aanname: werkweken per jaar (52 min vakanties en feestdagen)"),
    (
        "curve.target_share",
        0.5,
        "beleidskeuze: de helft van de verwachte consultaties in de prioritaire wijken, "
        "dezelfde helft als de regel voor een bereikte prioritaire wijk (REACH_SHARE); de vaste bureaus en andere "
        "diensten dragen de rest",
    ),
)
#: A note every capacitated scenario carries: how existing bureaus are counted.
EXISTING_ASSUMPTION = (
    "aanname: vraag binnen wandelafstand van een bestaand bureau telt als bediend door dat bureau (de capaciteit van "
    "de bestaande bureaus staat niet in de data)"
)
DEMAND_KINDS = ("children", "deprivation_weighted", "priority_only")
#: Default share of a priority wijk's children within reach for the wijk to count as reached.
REACH_SHARE = 0.5

# key -> (type(s), default); tables hold their own key maps. Types are checked strictly
# (a bool is not a number, an int is accepted where a float is expected).
_SCHEMA: dict[str, Any] = {
    "name": (str, None),
    "description": (str, ""),
    "model": (str, "none"),
    "walk": {"speed_kmh": (float, 4.5), "threshold_min": (float, 10.0)},
    "demand": {
        "kind": (str, "children"),
        "deprivation_strength": (float, 0.5),
        "consultations_age0": (float, None),
        "consultations_age1": (float, None),
        "consultations_age2": (float, None),
        "uptake": (float, None),
        "dutch_share": (float, None),
    },
    "capacity": {"children_per_session": (float, None), "weeks_per_year": (float, None)},
    "curve": {"max_teams": (int, None), "target_share": (float, None), "time_limit_s": (float, None)},
    "services": {"open": (list, ["any_cb"]), "close": (list, [])},
    "candidates": {
        "set": (str, "candidates"),
        "types": (list, []),
        "communes": (list, []),
        "lgn": (list, []),
        "ids": (list, []),
        "exclude": (list, []),
        "suitability": (list, []),
        "prefer_dutch": (bool, False),
        "dutch_only": (bool, False),
    },
    "siting": {
        "k": (int, None),
        "target": (str, "priority_wijken"),
        "share": (float, None),
        "priority_share": (float, REACH_SHARE),
        "time_limit_s": (float, 20.0),
        "priority_served_share": (float, 0.0),
        "mip_gap": (float, 0.0),
    },
    "rotation": {
        "teams": (int, None),
        "sessions_per_team": (int, None),
        "balance_lgn": (bool, True),
        "slots": (list, []),
    },
}


@dataclass(frozen=True)
class Scenario:
    """A validated scenario (see the module docstring for the file layout)."""

    name: str
    description: str = ""
    model: str = "none"
    speed_kmh: float = 4.5
    threshold_min: float = 10.0
    demand: str = "children"
    deprivation_strength: float = 0.5
    open_sets: tuple[str, ...] = ("any_cb",)
    close: tuple[str, ...] = ()
    candidate_set: str = "candidates"
    candidate_types: tuple[str, ...] = ()
    candidate_communes: tuple[int, ...] = ()
    candidate_lgn: tuple[int, ...] = ()
    candidate_ids: tuple[str, ...] = ()
    candidate_exclude: tuple[str, ...] = ()
    k: int | None = None
    target: str = "priority_wijken"
    share: float | None = None
    priority_share: float = REACH_SHARE
    time_limit_s: float = 20.0
    teams: int | None = None
    sessions_per_team: int | None = None
    balance_lgn: bool = True
    consultations_per_child: tuple[float, float, float] = (7.0, 3.0, 2.0)
    uptake: float = 0.783
    dutch_share: float = 1.0
    children_per_session: float = 10.0
    weeks_per_year: float = 46.0
    candidate_suitability: tuple[str, ...] = ()
    prefer_dutch: bool = False
    dutch_only: bool = False
    priority_served_share: float = 0.0
    mip_gap: float = 0.0
    slots: tuple[tuple[str, str], ...] = ()
    curve_max_teams: int = 10
    curve_target_share: float = 0.5
    curve_time_limit_s: float = 4.0
    path: Path | None = field(default=None, compare=False)

    @property
    def capacitated(self) -> bool:
        """True for the models that count session capacity."""
        return self.model in CAPACITATED_MODELS

    @property
    def session_capacity(self) -> float:
        """Consultations a year one weekly session can serve (children per session × weeks a year)."""
        return self.children_per_session * self.weeks_per_year

    def parameters(self) -> dict[str, Any]:
        """Return the scenario as a JSON-friendly dict (for manifests)."""
        out = asdict(self)
        out["path"] = None if self.path is None else str(self.path)
        return out


# ---------------------------------------------------------------------------------------------
# Parsing and validation
# ---------------------------------------------------------------------------------------------


def _line_of(text: str, table: str | None, key: str | None) -> int | None:
    """Return the 1-based line where ``key`` is set in ``[table]`` (or the table header)."""
    current = None
    header_line = None
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        m = re.match(r"^\[\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]", line)
        if m and not line.startswith("[["):
            current = m.group(1).strip().strip("\"'")
            if current == table:
                header_line = no
            continue
        if key is None:
            continue
        m = re.match(r"^([A-Za-z0-9_\-\"'.]+)\s*=", line)
        if not m:
            continue
        dotted = m.group(1).strip("\"'")
        if current == table and dotted == key:
            return no
        if current is None and table is not None and dotted == f"{table}.{key}":
            return no
    return header_line


class _Validator:
    def __init__(self, text: str, path: Path | None) -> None:
        self.text, self.path = text, path

    def error(self, message: str, table: str | None, key: str | None, hint: str | None = None) -> ConfigError:
        column = key if table is None else (f"{table}.{key}" if key else f"[{table}]")
        return ConfigError(message, path=self.path, row=_line_of(self.text, table, key), column=column, hint=hint)

    def check_type(self, value: Any, kind: type, table: str | None, key: str) -> Any:
        names = {str: "text", float: "a number", int: "a whole number", bool: "true or false", list: "a list"}
        ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            ok, value = True, float(value)
        if not ok:
            raise self.error(f"must be {names[kind]}, got {type(value).__name__} {value!r}", table, key)
        return value


def parse_scenario(text: str, path: Path | None = None) -> Scenario:
    """Parse and validate the text of a scenario file (syntax, keys, types, ranges).

    Ids, types, communes and sets that need the data are checked by :func:`load_scenario`.

    Parameters
    ----------
    text
        The TOML text.
    path
        The file it came from, for messages.

    Returns
    -------
    Scenario
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise ConfigError(f"not valid TOML: {exc}", path=path, row=int(m.group(1)) if m else None) from None
    v = _Validator(text, path)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        spec = _SCHEMA.get(key)
        if spec is None:
            raise v.error(f"unknown key '{key}'", None, key, hint=f"known keys: {', '.join(_SCHEMA)}")
        if isinstance(spec, dict):
            if not isinstance(value, dict):
                raise v.error(f"'{key}' must be a table [{key}]", None, key)
            for sub, subval in value.items():
                if sub not in spec:
                    raise v.error(f"unknown key '{sub}' in [{key}]", key, sub, hint=f"known keys: {', '.join(spec)}")
                values[(key, sub)] = v.check_type(subval, spec[sub][0], key, sub)
        else:
            values[(None, key)] = v.check_type(value, spec[0], None, key)
    if (None, "name") not in values:
        raise ConfigError("the scenario has no 'name'", path=path, row=1, column="name")

    def get(table: str | None, key: str) -> Any:
        spec = _SCHEMA[key] if table is None else _SCHEMA[table][key]
        return values.get((table, key), spec[1])

    name = get(None, "name")
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", name):
        raise v.error("name must use only letters, digits, '_' and '-' (it names the output folder)", None, "name")
    model = get(None, "model")
    if model not in MODELS:
        raise v.error(f"unknown model '{model}'", None, "model", hint=f"choose one of {', '.join(MODELS)}")
    kind = get("demand", "kind")
    if kind not in DEMAND_KINDS:
        raise v.error(
            f"unknown demand kind '{kind}'", "demand", "kind", hint=f"choose one of {', '.join(DEMAND_KINDS)}"
        )

    def positive(table: str, key: str, upper: float = math.inf) -> None:
        x = get(table, key)
        if x is not None and not (0 < x <= upper):
            raise v.error(f"must be > 0{'' if upper == math.inf else f' and <= {upper:g}'}, got {x}", table, key)

    positive("walk", "speed_kmh", 20)
    positive("walk", "threshold_min", 120)
    positive("siting", "time_limit_s", 3600)
    positive("siting", "priority_share", 1)
    positive("siting", "share", 1)
    if get("demand", "deprivation_strength") < 0:
        raise v.error("must be >= 0", "demand", "deprivation_strength")

    def strings(table: str, key: str) -> tuple[str, ...]:
        items = get(table, key)
        for item in items:
            if not isinstance(item, str):
                raise v.error(f"every item must be text, got {item!r}", table, key)
        return tuple(items)

    communes = []
    for item in get("candidates", "communes"):
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise v.error(f"a commune is a NIS code or a name, got {item!r}", "candidates", "communes")
        communes.append(_commune_code(item, v))
    lgns = []
    for item in get("candidates", "lgn"):
        if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= 8:
            raise v.error(f"an LGN is a number from 1 to 8, got {item!r}", "candidates", "lgn")
        lgns.append(item)

    defaults = {key: value for key, value, _ in CAPACITY_PARAMETERS}

    def param(table: str, key: str, upper: float = math.inf, lower_ok: bool = False) -> float:
        x = get(table, key)
        if x is None:
            return float(defaults[f"{table}.{key}"])
        if not ((0 <= x if lower_ok else 0 < x) and x <= upper):
            bound = ">= 0" if lower_ok else "> 0"
            raise v.error(f"must be {bound}{'' if upper == math.inf else f' and <= {upper:g}'}, got {x}", table, key)
        return float(x)

    rates = tuple(param("demand", f"consultations_age{a}", 52, lower_ok=True) for a in range(3))
    if sum(rates) <= 0:
        raise v.error("at least one age needs consultations", "demand", "consultations_age0")
    uptake, dutch_share = param("demand", "uptake", 1), param("demand", "dutch_share", 1)
    per_session, weeks = param("capacity", "children_per_session", 100), param("capacity", "weeks_per_year", 53)
    target_share = param("curve", "target_share", 1)
    max_teams = get("curve", "max_teams")
    if max_teams is not None and not 1 <= max_teams <= 40:
        raise v.error(f"must be 1-40, got {max_teams}", "curve", "max_teams")
    curve_limit = get("curve", "time_limit_s")
    if curve_limit is not None and not 0 < curve_limit <= 600:
        raise v.error(f"must be > 0 and <= 600, got {curve_limit}", "curve", "time_limit_s")
    served_share = get("siting", "priority_served_share")
    if not 0 <= served_share <= 1:
        raise v.error(f"must be between 0 and 1, got {served_share}", "siting", "priority_served_share")
    mip_gap = get("siting", "mip_gap")
    if not 0 <= mip_gap < 1:
        raise v.error(f"must be >= 0 and < 1, got {mip_gap}", "siting", "mip_gap")
    from geoplanner.inputs.venues import SUITABILITY_CLASSES
    from geoplanner.siting.capacitated import DAY_PARTS, WEEK_DAYS

    slots = []
    for item in get("rotation", "slots"):
        parts = item.split() if isinstance(item, str) else []
        if len(parts) != 2 or parts[0] not in WEEK_DAYS or parts[1] not in DAY_PARTS:
            raise v.error(
                f"a slot is 'dag dagdeel', e.g. 'woensdag namiddag', got {item!r}", "rotation", "slots",
                hint=f"days: {', '.join(WEEK_DAYS)}; dagdelen: {', '.join(DAY_PARTS)}",
            )  # fmt: skip
        if tuple(parts) in slots:
            raise v.error(f"slot {item!r} is listed twice", "rotation", "slots")
        slots.append(tuple(parts))
    for item in get("candidates", "suitability"):
        if item not in SUITABILITY_CLASSES:
            raise v.error(f"unknown suitability class {item!r}", "candidates", "suitability",
                          hint=f"choose from {', '.join(SUITABILITY_CLASSES)}")  # fmt: skip

    k, target = get("siting", "k"), get("siting", "target")
    teams, sessions = get("rotation", "teams"), get("rotation", "sessions_per_team")
    if model in ("mclp", "p_median", "capacitated_mclp"):
        if k is None:
            raise v.error(f"model '{model}' needs the number of new sites", "siting", "k")
        if k < 1:
            raise v.error(f"must be at least 1, got {k}", "siting", "k")
    if model == "lscp":
        if target not in ("priority_wijken", "share"):
            raise v.error(f"unknown target '{target}'", "siting", "target", hint="priority_wijken or share")
        if target == "share" and get("siting", "share") is None:
            raise v.error("target = 'share' needs a share (0-1)", "siting", "share")
    if model in ("rotation", "capacitated_rotation"):
        if teams is None or sessions is None:
            raise v.error(f"model '{model}' needs teams and sessions_per_team", "rotation", None)
        if teams < 1:
            raise v.error(f"must be at least 1, got {teams}", "rotation", "teams")
        n_slots = len(slots) if (slots and model != "rotation") else 10
        if not 1 <= sessions <= n_slots:
            what = "the working slots" if slots and model != "rotation" else "5 days × 2 dagdelen"
            raise v.error(f"must be 1-{n_slots} ({what}), got {sessions}", "rotation", "sessions_per_team")
    if slots and model == "rotation":
        raise v.error("working slots need model 'capacitated_rotation'", "rotation", "slots")
    return Scenario(
        name=name,
        description=get(None, "description"),
        model=model,
        speed_kmh=get("walk", "speed_kmh"),
        threshold_min=get("walk", "threshold_min"),
        demand=kind,
        deprivation_strength=get("demand", "deprivation_strength"),
        open_sets=strings("services", "open"),
        close=strings("services", "close"),
        candidate_set=get("candidates", "set"),
        candidate_types=strings("candidates", "types"),
        candidate_communes=tuple(communes),
        candidate_lgn=tuple(lgns),
        candidate_ids=strings("candidates", "ids"),
        candidate_exclude=strings("candidates", "exclude"),
        k=k,
        target=target,
        share=get("siting", "share"),
        priority_share=get("siting", "priority_share"),
        time_limit_s=get("siting", "time_limit_s"),
        teams=teams,
        sessions_per_team=sessions,
        balance_lgn=get("rotation", "balance_lgn"),
        consultations_per_child=rates,
        uptake=uptake,
        dutch_share=dutch_share,
        children_per_session=per_session,
        weeks_per_year=weeks,
        candidate_suitability=strings("candidates", "suitability"),
        prefer_dutch=get("candidates", "prefer_dutch"),
        dutch_only=get("candidates", "dutch_only"),
        priority_served_share=served_share,
        mip_gap=mip_gap,
        slots=tuple(slots),
        curve_max_teams=10 if max_teams is None else max_teams,
        curve_target_share=target_share,
        curve_time_limit_s=4.0 if curve_limit is None else float(curve_limit),
        path=path,
    )


def _commune_code(item: int | str, v: _Validator) -> int:
    from geoplanner.inputs.lgn import COMMUNES

    if isinstance(item, int):
        if item not in COMMUNES:
            raise v.error(f"unknown commune NIS code {item}", "candidates", "communes", hint="Brussels: 21001-21019")
        return item
    wanted = item.strip().casefold()
    for nis, names in COMMUNES.items():
        if wanted in (n.casefold() for n in names):
            return nis
    raise v.error(f"unknown commune '{item}'", "candidates", "communes", hint="use a NIS code or the Dutch/French name")


def load_scenario(path: str | Path, *, data_dir: Path | None = None, check_data: bool = True) -> Scenario:
    """Read, parse and validate a scenario file, including ids and sets against the data.

    Parameters
    ----------
    path
        The ``.toml`` file.
    data_dir
        Data folder (for the id checks).
    check_data
        Check service sets, closed ids, candidate ids and types against the data.

    Returns
    -------
    Scenario
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("scenario file not found", path=path) from None
    except UnicodeDecodeError:
        raise ConfigError("scenario file is not UTF-8 text", path=path) from None
    scenario = parse_scenario(text, path)
    if check_data:
        _check_against_data(scenario, text, data_dir)
    return scenario


#: Columns of the comparison table: (summary key, Dutch label, format). Shared by the CLI tables.
COMPARISON_LABELS: tuple[tuple[str, str, str], ...] = (
    ("scenario", "scenario", "{}"),
    ("model", "model", "{}"),
    ("threshold_min", "drempel (min)", "{:.0f}"),
    ("children_covered", "kinderen bereikt", "{:,.0f}"),
    ("share_covered", "aandeel", "{:.1%}"),
    ("deprivation_weighted_share", "kansarmoede-gewogen", "{:.1%}"),
    ("priority_wijken_reached", "prioritaire wijken bereikt", "{:.0f}"),
    ("mean_min", "gem. min", "{:.1f}"),
    ("p90_min", "p90 min", "{:.1f}"),
    ("n_new_sites", "nieuwe locaties", "{:.0f}"),
    ("consultations_served", "consultaties/jaar bediend", "{:,.0f}"),
    ("share_priority_served", "bediend prioritair", "{:.1%}"),
    ("unserved_capacity", "niet bediend: vol", "{:,.0f}"),
    ("teams_needed", "teams nodig", "{:.0f}"),
    ("status", "oplossing", "{}"),
)

#: Name of the current situation, the baseline every comparison and the gap map start from.
BASELINE_NAME = "huidig"


def with_baseline(scenarios: Sequence[Scenario]) -> list[Scenario]:
    """Return the scenarios with the current situation first.

    The scenario named :data:`BASELINE_NAME` (e.g. ``scenarios/current.toml``) is the current
    situation when it is given; otherwise a default one is added (open: ``any_cb``, 10 minutes,
    no new sites). Two scenarios with one name are refused, before any slow work.
    """
    names = [s.name for s in scenarios]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise ConfigError(f"two scenarios share the name '{dup}'", column="name")
    given = [s for s in scenarios if s.name == BASELINE_NAME]
    baseline = given[0] if given else Scenario(name=BASELINE_NAME, description="huidige situatie", model="none")
    return [baseline, *[s for s in scenarios if s.name != BASELINE_NAME]]


def _check_against_data(s: Scenario, text: str, data_dir: Path | None) -> None:
    from geoplanner.inputs.services import load_services, service_set_names

    v = _Validator(text, s.path)
    known_sets = service_set_names(data_dir)
    for name in (*s.open_sets, s.candidate_set):
        if name not in known_sets:
            key = ("candidates", "set") if name == s.candidate_set else ("services", "open")
            raise v.error(f"unknown service set '{name}'", *key, hint=f"known: {', '.join(known_sets)}")
    open_ids: set[str] = set()
    for name in s.open_sets:
        open_ids |= set(load_services(name, data_dir).points["id"])
    for sid in s.close:
        if sid not in open_ids:
            raise v.error(
                f"unknown service id '{sid}' (not a located service of {', '.join(s.open_sets) or 'no set'})",
                "services",
                "close",
            )
    cand = load_services(s.candidate_set, data_dir).points
    ids, types = set(cand["id"]), set(cand["type"].dropna())
    for key, values in (("ids", s.candidate_ids), ("exclude", s.candidate_exclude)):
        for cid in values:
            if cid not in ids:
                raise v.error(
                    f"unknown candidate id '{cid}' (not a located venue of '{s.candidate_set}')", "candidates", key
                )
    for t in s.candidate_types:
        if t not in types:
            raise v.error(
                f"unknown candidate type '{t}'", "candidates", "types", hint=f"known: {', '.join(sorted(types))}"
            )


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SitingContext:
    """What every scenario shares, built once: network, demand points, wijk ranking.

    Attributes
    ----------
    net
        The walking network.
    demand
        Demand points (cd_sector, weight = young children, x, y) with ``mdrc``, ``lgn``,
        ``priority`` and ``deprivation`` of their wijk.
    ranking
        :func:`geoplanner.need.rank_wijken` output.
    data_dir
        Data folder.
    inputs
        Data files used (for manifests).
    need
        The :class:`geoplanner.need.Need` the demand comes from (sector figures, notes).
    cache
        Reuse and store scenario solutions (:mod:`geoplanner.cache`); ``$GEOPLANNER_NO_CACHE=1``
        turns it off whatever this says.
    """

    net: Any
    demand: pd.DataFrame
    ranking: pd.DataFrame
    data_dir: Path | None
    inputs: tuple[Path, ...] = ()
    need: Any = None
    cache: bool = True
    _snapped: dict = field(default_factory=dict)
    _curves: dict = field(default_factory=dict)


def build_context(
    data_dir: Path | None = None,
    *,
    network: Any = None,
    need: Any = None,
    cache: bool = True,
    points: Any = None,
    snapped: Any = None,
) -> SitingContext:
    """Load the network and build the demand points and ranking used by every scenario.

    Parameters
    ----------
    data_dir
        Data folder.
    network
        Network file (default: the bundle's walk network), or a network already loaded.
    need
        A :func:`geoplanner.need.build_need` result to reuse (built here if omitted).
    cache
        Let :func:`run_scenario` reuse solutions stored under the cache folder (False: solve every time).
    points, snapped
        The :func:`geoplanner.access.times.demand_points` of ``need`` and their snapping on ``network``
        (default tolerance), already made and checked by the coverage step; built here if omitted.

    Returns
    -------
    SitingContext
    """
    from geoplanner.access.network import WalkNetwork, load_network, snap_points
    from geoplanner.access.times import check_network_fit, demand_points
    from geoplanner.inputs.areas import load_sectors
    from geoplanner.inputs.bundle import dataset_path
    from geoplanner.need import build_need

    net = network if isinstance(network, WalkNetwork) else load_network(network)
    built = need if need is not None else build_need(data_dir)
    lines, sectors_need, ranking = built.lines, built.sectors, built.ranking
    if points is None:
        points = demand_points(load_sectors(data_dir), sectors_need, lines)
        snapped = None
    info = pd.DataFrame(sectors_need[["cd_sector", "mdrc", "lgn", "commune_nis"]])
    demand = pd.DataFrame(points.drop(columns="geometry")).merge(info, on="cd_sector", how="left")
    wijk = ranking.set_index("mdrc")
    demand["priority"] = demand["mdrc"].map(wijk["priority"]).fillna(False).astype(bool)
    demand["deprivation"] = demand["mdrc"].map(wijk["deprivation"]).astype(float)
    if snapped is None:
        snapped = snap_points(net, demand[["x", "y"]].to_numpy())
        check_network_fit(net, snapped, demand["weight"].to_numpy())
    inputs = []
    for key in ("sectors", "wijk_indicators", "pop_age_commune", "ghsl_population", "osm_walk_graphml"):
        try:
            inputs.append(dataset_path(key, data_dir))
        except Exception:  # noqa: BLE001 - a missing optional input is simply not listed
            continue
    return SitingContext(net=net, demand=demand, ranking=pd.DataFrame(ranking.drop(columns="geometry")),
                         data_dir=data_dir, inputs=tuple(inputs) + tuple(built.inputs), need=built,
                         cache=cache, _snapped={"demand": snapped})  # fmt: skip


def demand_weights(scenario: Scenario, demand: pd.DataFrame) -> np.ndarray:
    """Return the demand weight per point for the scenario's demand kind (see module docstring)."""
    children = demand["weight"].to_numpy(dtype=float)
    if scenario.demand == "children":
        return children
    if scenario.demand == "priority_only":
        return np.where(demand["priority"].to_numpy(), children, 0.0)
    dep = np.nan_to_num(demand["deprivation"].to_numpy(dtype=float), nan=0.0)
    return children * (1.0 + scenario.deprivation_strength * np.maximum(dep, 0.0))


@dataclass(frozen=True, eq=False)
class ScenarioResult:
    """The outcome of one scenario.

    Attributes
    ----------
    scenario
        The scenario.
    sites
        Chosen venues in marginal order: rank, id, name, type, commune, lgn, x, y, marginal
        children (and weighted demand) each adds, cumulative share, sessions a week.
    timetable
        Rotation: team, dag, dagdeel, venue id, venue name, lgn (empty otherwise).
    points
        Per demand point: cd_sector, mdrc, lgn, children, weight, minutes to the nearest open
        site, covered.
    summary
        One-row-per-figure dict, see :func:`compare`.
    per_lgn
        Children covered per LGN.
    siting
        The :class:`~geoplanner.siting.SitingResult` (None for model 'none').
    notes
        Caveats: incomplete service layers, model notes.
    inputs
        Data files used.
    curve
        Capacitated rotation: the teams curve, one row per number of teams (see :func:`teams_curve`).
    teams_needed
        Capacitated rotation: the fewest teams that serve the target share of the priority
        wijken's demand (see :func:`teams_curve`).
    cache
        Where the solution came from: ``{"key": sha256, "hit": True}`` when read from the solution
        cache, ``"hit": False`` when solved (and stored); None when the cache was off.
    """

    scenario: Scenario
    sites: pd.DataFrame
    timetable: pd.DataFrame
    points: pd.DataFrame
    summary: dict[str, Any]
    per_lgn: pd.DataFrame
    siting: Any
    notes: tuple[str, ...]
    inputs: tuple[Path, ...] = ()
    curve: pd.DataFrame | None = None
    teams_needed: dict[str, Any] | None = None
    cache: dict[str, Any] | None = None


def _select_candidates(s: Scenario, cand: pd.DataFrame) -> pd.DataFrame:
    from geoplanner.inputs.lgn import lgn_of_commune
    from geoplanner.inputs.venues import dutch_speaking, suitability

    cand = cand.copy()
    cand["lgn"] = cand["commune_nis"].map(lambda n: lgn_of_commune(int(n)) if pd.notna(n) else -1)
    cand["suitability"] = suitability(cand)
    cand["dutch_speaking"] = dutch_speaking(cand)
    keep = pd.Series(True, index=cand.index)
    if s.candidate_suitability:
        keep &= cand["suitability"].isin(s.candidate_suitability)
    if s.dutch_only:
        keep &= cand["dutch_speaking"].map(lambda x: x is True)
    if s.candidate_types:
        keep &= cand["type"].isin(s.candidate_types)
    if s.candidate_communes:
        keep &= cand["commune_nis"].isin(s.candidate_communes)
    if s.candidate_lgn:
        keep &= cand["lgn"].isin(s.candidate_lgn)
    if s.candidate_ids:
        filtered = bool(s.candidate_types or s.candidate_communes or s.candidate_lgn)
        keep = (keep if filtered else False) | cand["id"].isin(s.candidate_ids)
    keep &= ~cand["id"].isin(s.candidate_exclude)
    return cand[keep].sort_values("id", ignore_index=True)


def _services_digest(names: list[str], data_dir: Path | None) -> dict[str, str]:
    from geoplanner.inputs.services import load_services

    out = {}
    for name in names:
        ss = load_services(name, data_dir)
        pts = pd.DataFrame(ss.points)
        extra = json.dumps([ss.completeness_note, ss.incomplete, [str(p) for p in ss.sources]])
        out[name] = hashlib.sha256((cache.frame_digest(pts) + extra).encode()).hexdigest()
    return out


def solution_key(scenario: Scenario, context: SitingContext) -> str:
    """Return the cache key of a scenario's solution in a context (see the module docstring).

    Parameters
    ----------
    scenario
        A validated scenario.
    context
        From :func:`geoplanner.scenario.build_context`.

    Returns
    -------
    str
        64 hex digits.
    """
    params = scenario.parameters()
    params.pop("path", None)
    net = context.net
    need = context.need
    sectors = None
    if need is not None and getattr(need, "sectors", None) is not None:
        sectors = pd.DataFrame(need.sectors).drop(columns="geometry", errors="ignore")
    parts: dict[str, Any] = {
        **cache.base_parts(),
        "scenario": params,
        "network": {
            "sha256": getattr(net, "sha256", None),
            "params": getattr(net, "params", None),
            "nodes": getattr(net, "n_nodes", None),
            "edges": getattr(net, "n_edges", None),
        },
        "demand": cache.frame_digest(context.demand),
        "ranking": cache.frame_digest(context.ranking),
        "sectors": cache.frame_digest(sectors),
        "need_notes": list(getattr(need, "notes", ()) or ()),
        "inputs": [str(p) for p in context.inputs],
        "services": _services_digest(sorted({*scenario.open_sets, scenario.candidate_set}), context.data_dir),
    }
    return cache.digest(parts)


def evaluate(scenario: Scenario, context: SitingContext) -> ScenarioResult:
    """Run a scenario: build the time matrices, solve its model, measure coverage.

    Parameters
    ----------
    scenario
        A validated scenario.
    context
        From :func:`build_context`.

    Returns
    -------
    ScenarioResult

    Raises
    ------
    ModelError
        If the scenario cannot be solved as asked (e.g. infeasible); the message names the
        scenario and its file, so a run of many scenarios says which one.

    Notes
    -----
    Solutions are reused from the cache folder when nothing that shapes them changed
    (:mod:`geoplanner.cache`: scenario parameters, demand, network, services, code); the
    result's ``cache`` says whether it was. ``context.cache = False`` or ``$GEOPLANNER_NO_CACHE=1``
    solves every time.
    """
    from geoplanner import cache as solutions

    key = None
    if solutions.enabled(context.cache):
        key = solution_key(scenario, context)
        stored = solutions.load(key)
        if stored is not None:
            # the current Scenario object (its path may differ; its parameters are in the key)
            return dataclasses.replace(stored, scenario=scenario, cache={"key": key, "hit": True})
    try:
        result = _run_scenario(scenario, context)
    except ModelError as exc:
        raise ModelError(
            f"scenario '{scenario.name}': {exc.message}",
            path=exc.path or scenario.path,
            row=exc.row,
            column=exc.column,
            hint=exc.hint,
        ) from None
    if key is None:
        return result
    result = dataclasses.replace(result, cache={"key": key, "hit": False})
    solutions.save(key, result)
    return result


#: Former name of :func:`evaluate` (kept while the callers move).
run_scenario = evaluate


def _run_scenario(scenario: Scenario, context: SitingContext) -> ScenarioResult:
    from geoplanner.access.times import nearest_service_times, time_matrix, weighted_quantile
    from geoplanner.inputs.services import load_services
    from geoplanner.siting import MaximalCovering, PMedian, Rotation, SetCovering

    s, dem = scenario, context.demand
    xy = dem[["x", "y"]].to_numpy()
    snapped = context._snapped.get("demand")
    if snapped is None:
        from geoplanner.access.network import snap_points

        snapped = context._snapped.setdefault("demand", snap_points(context.net, xy))
    notes: list[str] = []
    inputs = list(context.inputs)
    # Existing services that stay open.
    frames = []
    for name in s.open_sets:
        ss = load_services(name, context.data_dir)
        inputs += ss.sources
        if ss.incomplete:
            notes.append(ss.completeness_note)
        frames.append(ss.points.assign(set_name=name))
    existing = pd.concat(frames, ignore_index=True).drop_duplicates("id") if frames else pd.DataFrame()
    if len(existing):
        existing = existing[~existing["id"].isin(s.close)]
    if s.close:
        notes.append(f"gesloten in dit scenario: {', '.join(s.close)}")
    w = demand_weights(s, dem)
    children = dem["weight"].to_numpy(dtype=float)
    if len(existing):
        ex_xy = np.c_[existing.geometry.x, existing.geometry.y]
        ex_near = nearest_service_times(context.net, snapped, ex_xy, speed_kmh=s.speed_kmh).minutes
    else:
        ex_near = np.full(len(dem), np.inf)
    sites = pd.DataFrame()
    timetable = pd.DataFrame(columns=["team", "dag", "dagdeel", "venue_id", "venue_name", "lgn"])
    result = None
    nearest = ex_near
    if s.model != "none":
        cset = load_services(s.candidate_set, context.data_dir)
        inputs += cset.sources
        if cset.incomplete:
            notes.append(cset.completeness_note)
        cand = _select_candidates(s, cset.points)
        if cand.empty:
            raise ConfigError("no candidate venue is left after the selection", path=s.path, column="candidates")
        c_xy = np.c_[cand.geometry.x, cand.geometry.y]
        limit = max(30.0, 2 * s.threshold_min)
        cost = time_matrix(context.net, snapped, c_xy, speed_kmh=s.speed_kmh, limit_min=limit)
        ex_col = ex_near[:, None]
        groups = np.where(dem["priority"].to_numpy(), dem["mdrc"].fillna(-1).to_numpy(), -1).astype(int)
        thr = s.threshold_min
        if s.capacitated:
            cap_run = _run_capacitated(s, context, dem, cand, cost, w, children, groups, ex_near)
            notes += list(cap_run.result.notes) + list(cap_run.notes)
            points = dem[["cd_sector", "mdrc", "lgn"]].assign(
                children=children, weight=w, minutes=cap_run.nearest, covered=cap_run.nearest <= thr,
                **cap_run.point_columns,
            )  # fmt: skip
            summary, per_lgn = _summary(s, points, dem, weighted_quantile)
            summary.update(cap_run.summary)
            # per LGN too: children served within capacity, not within walking distance
            served_lgn = points.groupby("lgn")["children_served"].sum()
            per_lgn["children_covered"] = per_lgn["lgn"].map(served_lgn).fillna(0.0).to_numpy()
            per_lgn["share_covered"] = per_lgn["children_covered"] / per_lgn["children"]
            summary["n_new_sites"] = int((cap_run.result.sessions > 0).sum())
            summary["status"] = cap_run.result.status
            summary["solve_s"] = round(cap_run.result.seconds, 3)
            notes += list(context.need.notes) if context.need is not None else []
            return ScenarioResult(s, cap_run.sites, cap_run.timetable, points, summary, per_lgn, cap_run.result,
                                  tuple(dict.fromkeys(notes)), tuple(dict.fromkeys(inputs)), curve=cap_run.curve,
                                  teams_needed=cap_run.teams_needed)  # fmt: skip
        if s.model == "mclp":
            model = MaximalCovering.from_cost_matrix(cost, thr, w, k=_k(s, len(cand)), existing=ex_col)
        elif s.model == "p_median":
            model = PMedian.from_cost_matrix(cost, thr, w, k=_k(s, len(cand)), existing=ex_col)
        elif s.model == "lscp":
            if s.target == "share":
                model = SetCovering.from_cost_matrix(cost, thr, w, share=s.share, existing=ex_col)
            else:
                model = SetCovering.from_cost_matrix(
                    cost, thr, w, groups=groups, group_share=s.priority_share, existing=ex_col
                )
        else:
            prio_lgn = sorted(set(dem.loc[dem["priority"], "lgn"].dropna().astype(int))) if s.balance_lgn else []
            model = Rotation.from_cost_matrix(
                cost, thr, w, teams=s.teams, sessions=s.sessions_per_team, groups=groups,
                group_share=s.priority_share, site_region=cand["lgn"].to_numpy(), regions_required=prio_lgn,
                existing=ex_col,
            )  # fmt: skip
        result = model.solve(time_limit=s.time_limit_s)
        notes += list(result.notes)
        if result.status != "optimal":
            notes.append(
                f"oplossing niet bewezen optimaal ({result.status}); gat tot de grens {100 * (result.gap or 0):.2f} %"
            )
        nearest = result.nearest
        sites = _sites_table(cand, result, children, w, thr, ex_near, cost)
        if result.timetable:
            timetable = pd.DataFrame(
                [
                    {
                        "team": r.team,
                        "dag": r.day,
                        "dagdeel": r.dagdeel,
                        "venue_id": cand["id"].iloc[r.site],
                        "venue_name": cand["name"].iloc[r.site],
                        "lgn": int(cand["lgn"].iloc[r.site]),
                    }
                    for r in result.timetable
                ]
            )
    covered = nearest <= s.threshold_min
    points = dem[["cd_sector", "mdrc", "lgn"]].assign(children=children, weight=w, minutes=nearest, covered=covered)
    summary, per_lgn = _summary(s, points, dem, weighted_quantile)
    summary["n_new_sites"] = len(sites)
    summary["status"] = "-" if result is None else result.status
    summary["solve_s"] = None if result is None else round(result.seconds, 3)
    if context.need is not None:
        notes += list(context.need.notes)
    else:
        notes.append("kinderen 0-2 jaar per sector zijn geschat (geen publieke cijfers onder gemeenteniveau)")
    return ScenarioResult(s, sites, timetable, points, summary, per_lgn, result, tuple(dict.fromkeys(notes)),
                          tuple(dict.fromkeys(inputs)))  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Capacitated scenarios: demand in consultations, supply in session capacity
# ---------------------------------------------------------------------------------------------


def consultation_demand(
    scenario: Scenario, demand: pd.DataFrame, sectors: pd.DataFrame | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return the consultations a year each demand point asks, and the consultations per child.

    A point's children (``weight``, aged 0-2) ask ``consultations_age0`` for the 0-year-olds and
    the mean of ``consultations_age1`` and ``consultations_age2`` for the others (ages 1 and 2
    are taken as equally many: an assumption), times ``uptake`` and ``dutch_share``. The share of
    0-year-olds is the sector's ``births / pop_0_2`` from the need model (births ≈ 0-year-olds);
    without those figures every age counts a third (an assumption, noted).

    Parameters
    ----------
    scenario
        Gives the consultation schedule, uptake and Dutch-speaking share.
    demand
        Demand points with ``weight`` (children) and ``cd_sector``.
    sectors
        The need model's sectors (``cd_sector``, ``births``, ``pop_0_2``).

    Returns
    -------
    consultations : numpy.ndarray
        Consultations a year per point (expected users only).
    per_child : numpy.ndarray
        Consultations a year per child of the point, before uptake.
    """
    c0, c1, c2 = scenario.consultations_per_child
    children = demand["weight"].to_numpy(dtype=float)
    rate = np.full(children.size, (c0 + c1 + c2) / 3.0)
    if sectors is not None and {"cd_sector", "births", "pop_0_2"} <= set(sectors.columns):
        sec = pd.DataFrame(sectors).drop_duplicates("cd_sector").set_index("cd_sector")
        b = demand["cd_sector"].map(sec["births"]).to_numpy(dtype=float)
        p = demand["cd_sector"].map(sec["pop_0_2"]).to_numpy(dtype=float)
        ok = np.isfinite(b) & np.isfinite(p) & (p > 0)
        share0 = np.clip(np.divide(b, p, out=np.zeros_like(b), where=ok), 0.0, 1.0)
        rate = np.where(ok, c0 * share0 + 0.5 * (c1 + c2) * (1.0 - share0), rate)
    return children * rate * scenario.uptake * scenario.dutch_share, rate


def capacity_notes(scenario: Scenario) -> list[str]:
    """Return the capacity parameters of a scenario with their basis, for the notes of the outputs."""
    values = {
        "demand.consultations_age0": scenario.consultations_per_child[0],
        "demand.consultations_age1": scenario.consultations_per_child[1],
        "demand.consultations_age2": scenario.consultations_per_child[2],
        "demand.uptake": scenario.uptake,
        "demand.dutch_share": scenario.dutch_share,
        "capacity.children_per_session": scenario.children_per_session,
        "capacity.weeks_per_year": scenario.weeks_per_year,
        "curve.target_share": scenario.curve_target_share,
    }
    out = []
    for key, default, basis in CAPACITY_PARAMETERS:
        x = values[key]
        out.append(f"{key} = {x:g}: " + (basis if x == default else "waarde uit het scenariobestand"))
    out.append(EXISTING_ASSUMPTION)
    return out


class _CapRun(NamedTuple):
    result: Any
    nearest: np.ndarray
    point_columns: dict[str, np.ndarray]
    summary: dict[str, Any]
    sites: pd.DataFrame
    timetable: pd.DataFrame
    curve: pd.DataFrame | None
    teams_needed: dict[str, Any] | None
    notes: list[str]


def _solve_capacitated(
    s: Scenario,
    teams: int,
    inst: dict[str, Any],
    *,
    time_limit: float,
    rel_gap: float,
    value: np.ndarray | None = None,
    floors: bool = True,
    timetable: bool = True,
    greedy_within_gap: bool = False,
):
    from geoplanner.siting import WEEK_SLOTS, CapacitatedCovering, CapacitatedRotation

    v = inst["value"] if value is None else value
    if s.model == "capacitated_mclp":
        model = CapacitatedCovering.from_cost_matrix(
            inst["cost"],
            s.threshold_min,
            inst["demand"],
            capacity=s.session_capacity,
            sessions=int(s.k),
            value=v,
            existing=inst["existing"],
        )
        return model.solve(time_limit=time_limit, rel_gap=rel_gap)
    regions = inst["regions"] if teams * s.sessions_per_team >= len(inst["regions"]) and floors else []
    model = CapacitatedRotation.from_cost_matrix(
        inst["cost"],
        s.threshold_min,
        inst["demand"],
        capacity=s.session_capacity,
        teams=teams,
        sessions_per_team=s.sessions_per_team,
        slots=s.slots or WEEK_SLOTS,
        zone=inst["zone"],
        groups=inst["groups"],
        group_share=s.priority_served_share if floors else 0.0,
        regions_required=regions,
        value=v,
        prefer=inst["prefer"],
        existing=inst["existing"],
        cap_at_reach=True,
    )
    return model.solve(time_limit=time_limit, rel_gap=rel_gap, timetable=timetable, greedy_within_gap=greedy_within_gap)


def _served_figures(inst: dict[str, Any], res: Any) -> dict[str, float]:
    """Consultations and children served (existing bureaus + new sessions), overall, priority, weighted."""
    d, rate, prio, dep_w = inst["demand"], inst["rate"], inst["priority"], inst["dep_weight"]
    served = np.where(res.existing, d, res.served)
    frac = np.divide(served, d, out=np.zeros_like(d), where=d > 0)
    return {
        "consultations_served": float(served.sum()),
        "share_consultations_served": float(served.sum() / d.sum()),
        "children_served": float((served / np.where(rate > 0, rate, 1.0)).sum()),
        "share_priority_served": float(served[prio].sum() / d[prio].sum()) if d[prio].sum() > 0 else float("nan"),
        "share_deprivation_served": float((dep_w * d * frac).sum() / (dep_w * d).sum()),
    }


def teams_curve(s: Scenario, inst: dict[str, Any], context: SitingContext | None = None) -> tuple[pd.DataFrame, dict]:
    """Return the teams curve of a capacitated rotation and the fewest teams that serve the target.

    For 1 to ``curve.max_teams`` teams (each ``sessions_per_team`` sessions a week), the rotation is
    solved with the scenario's demand weighting and LGN balance but without the per-wijk floor (so
    every point exists), each within ``curve.time_limit_s`` and 1 % of the bound (the gap is
    reported; when the greedy rotation is already within 1 % of the LP relaxation's bound it is kept
    and HiGHS' branch and bound is skipped). *Teams needed*: the fewest teams whose rotation, placed
    to serve the priority wijken first (only their consultations count), serves
    ``curve.target_share`` of the priority wijken's expected consultations (existing bureaus
    included). The search starts at the capacity bound ``ceil(consultations still needed / (sessions
    per team × session capacity))``, so it takes a few solves. Scenarios that differ only in their
    number of teams share one curve (cached on the context).

    Returns
    -------
    curve : pandas.DataFrame
        ``teams``, ``sessions_per_week``, consultations and children served, the shares served
        (overall, priority wijken, deprivation-weighted), ``status`` and ``gap_share`` (to the
        bound) per point.
    needed : dict
        ``target_share``, ``teams`` (None when more than ``max_teams``), ``served_share`` at that
        number, ``lower_bound`` (from capacity alone), ``status``.
    """
    skip = {"name", "description", "path", "teams", "time_limit_s", "priority_served_share", "mip_gap"}
    key = repr(sorted((k, v) for k, v in s.parameters().items() if k not in skip))
    if context is not None and key in context._curves:
        return context._curves[key]
    with stage(f"{s.name}: teamscurve 1-{s.curve_max_teams} teams"):
        curve, needed = _teams_curve(s, inst, key)
    if context is not None:
        context._curves[key] = (curve, needed)
    return curve, needed


def _teams_curve(s: Scenario, inst: dict[str, Any], key: str) -> tuple[pd.DataFrame, dict]:
    rows = []
    for t in range(1, s.curve_max_teams + 1):
        # The curve reads only the served figures: no timetable (its own MILP, ~0.5-1 s a point). A
        # greedy rotation already within the 1 % of the LP bound is kept (most points up to 7 teams).
        res = _solve_capacitated(
            s,
            t,
            inst,
            time_limit=s.curve_time_limit_s,
            rel_gap=0.01,
            floors=False,
            timetable=False,
            greedy_within_gap=True,
        )
        rows.append(
            {
                "teams": t,
                "sessions_per_week": int((res.sessions > 0).sum()),
                **_served_figures(inst, res),
                "status": res.status,
                "gap_share": res.gap,
            }
        )
    curve = pd.DataFrame(rows)
    d, prio = inst["demand"], inst["priority"]
    target = s.curve_target_share * d[prio].sum()
    still = target - d[prio & inst["existing_cov"]].sum()
    lower = max(1, math.ceil(still / (s.sessions_per_team * s.session_capacity))) if still > 0 else 0
    needed: dict[str, Any] = {
        "target_share": s.curve_target_share,
        "teams": None,
        "served_share": None,
        "lower_bound": lower,
        "status": "not_reached",
        "max_teams": s.curve_max_teams,
        "curve_key": key,
    }
    if lower == 0:
        needed.update(
            teams=0, served_share=float(d[prio & inst["existing_cov"]].sum() / d[prio].sum()), status="existing"
        )
    value = np.where(prio, 1.0, 0.0)
    for t in range(max(lower, 1), s.curve_max_teams + 1) if lower else ():
        res = _solve_capacitated(
            s, t, inst, time_limit=s.curve_time_limit_s, rel_gap=0.005, value=value, floors=False, timetable=False
        )
        share = _served_figures(inst, res)["share_priority_served"]
        if share >= s.curve_target_share - 1e-9:
            needed.update(
                teams=t, served_share=share, status="proven" if t == lower or res.status == "optimal" else "found"
            )
            break
    return curve, needed


def _run_capacitated(s, context, dem, cand, cost, w, children, groups, ex_near) -> _CapRun:
    """Solve a capacitated scenario and turn the answer into tables (see :func:`run_scenario`)."""
    sectors = None if context.need is None else context.need.sectors
    d, rate = consultation_demand(s, dem, sectors)
    value = np.divide(w, children, out=np.zeros_like(w), where=children > 0)
    prio = dem["priority"].to_numpy()
    dep = np.nan_to_num(dem["deprivation"].to_numpy(dtype=float), nan=0.0)
    thr = s.threshold_min
    prio_lgn = sorted(set(dem.loc[dem["priority"], "lgn"].dropna().astype(int))) if s.balance_lgn else []
    prio_lgn = [r for r in prio_lgn if (cand["lgn"].to_numpy() == r).any()]
    inst = {
        "cost": cost,
        "demand": d,
        "rate": rate,
        "value": value,
        "groups": groups,
        "priority": prio,
        "zone": cand["lgn"].to_numpy(dtype=int),
        "existing": ex_near[:, None],
        "existing_cov": ex_near <= thr,
        "regions": prio_lgn,
        "dep_weight": 1.0 + 0.5 * np.maximum(dep, 0.0),
        "prefer": (
            cand["dutch_speaking"].map(lambda x: x is True).to_numpy() if s.prefer_dutch else np.zeros(len(cand), bool)
        ),
    }
    teams = int(s.teams) if s.model == "capacitated_rotation" else 1
    with stage(f"{s.name}: oplossen met capaciteit ({teams} team{'s' if teams > 1 else ''})"):
        res = _solve_capacitated(s, teams, inst, time_limit=s.time_limit_s, rel_gap=s.mip_gap)
    notes = capacity_notes(s)
    if sectors is None or not {"cd_sector", "births", "pop_0_2"} <= set(sectors.columns):
        notes.append("aanname: geen geboorten per sector beschikbaar, elke leeftijd (0, 1, 2) telt voor een derde")
    names = context.ranking.set_index("mdrc")["name_nl"] if "name_nl" in context.ranking.columns else {}
    res = dataclasses.replace(
        res,
        notes=tuple(
            re.sub(r"^groep (\d+):", lambda m: f"prioritaire wijk {m.group(1)} ({names.get(int(m.group(1)), '?')}):", n)
            for n in res.notes
        ),
    )
    if res.status not in ("optimal",):
        notes.append(f"oplossing niet bewezen optimaal ({res.status}); gat tot de grens {100 * (res.gap or 0):.2f} %")
    held = res.sessions > 0
    nearest = np.minimum(ex_near, cost[:, held].min(axis=1)) if held.any() else ex_near.copy()
    served = np.where(res.existing, d, res.served)
    unserved_distance = np.where(res.existing | res.in_reach, 0.0, d)
    unserved_capacity = np.where(res.in_reach & ~res.existing, d - res.served, 0.0)
    children_served = served / np.where(rate > 0, rate, 1.0)
    point_columns = {
        "consultations": d,
        "consultations_per_child": rate,
        "served_existing": np.where(res.existing, d, 0.0),
        "served_new": res.served,
        "unserved_distance": unserved_distance,
        "unserved_capacity": np.maximum(unserved_capacity, 0.0),
        "children_served": children_served,
    }
    figures = _served_figures(inst, res)
    summary: dict[str, Any] = {
        "children_in_reach": float(children[res.existing | res.in_reach].sum()),
        "children_covered": figures["children_served"],
        "share_covered": figures["children_served"] / children.sum(),
        "deprivation_weighted_share": figures["share_deprivation_served"],
        "consultations_demand": float(d.sum()),
        "consultations_served": figures["consultations_served"],
        "share_consultations_served": figures["share_consultations_served"],
        "share_priority_served": figures["share_priority_served"],
        "unserved_distance": float(unserved_distance.sum()),
        "unserved_capacity": float(point_columns["unserved_capacity"].sum()),
        "sessions_per_week": int(held.sum()),
        "peak_utilisation_share": float((res.load[held] / (res.capacity[held] * res.sessions[held])).max())
        if held.any()
        else None,
        "solver_gap": res.gap,
    }
    # sites, busiest first: children ≈ the venue's consultations / the mean consultations per child in its reach
    rows = []
    for rank, j in enumerate(res.chosen, start=1):
        reach = cost[:, j] <= thr
        per_child = float(np.average(rate[reach], weights=d[reach])) if d[reach].sum() > 0 else float(rate.mean())
        rows.append(
            {
                "rank": rank,
                "id": cand["id"].iloc[j],
                "name": cand["name"].iloc[j],
                "type": cand["type"].iloc[j],
                "suitability": cand["suitability"].iloc[j],
                "dutch_speaking": cand["dutch_speaking"].iloc[j],
                "commune_nis": cand["commune_nis"].iloc[j],
                "lgn": int(cand["lgn"].iloc[j]),
                "x": float(cand.geometry.x.iloc[j]),
                "y": float(cand.geometry.y.iloc[j]),
                "approximate": bool(cand["approximate"].iloc[j]),
                "sessions_per_week": int(res.sessions[j]),
                "capacity_per_year": float(res.capacity[j] * res.sessions[j]),
                "consultations_per_year": float(res.load[j]),
                "utilisation": float(res.load[j] / (res.capacity[j] * res.sessions[j])),
                "marginal_children": float(res.load[j] / per_child),
                "marginal_demand": float(res.load[j]),
            }
        )
    sites = pd.DataFrame(rows)
    if len(sites):
        sites["cumulative_children"] = sites["marginal_children"].cumsum()
        sites["cumulative_share"] = sites["cumulative_children"] / children.sum()
    tt_rows = []
    for team, day, part, j in res.timetable:
        per_week = res.load[j] / s.weeks_per_year / res.sessions[j]
        tt_rows.append(
            {
                "team": team,
                "dag": day,
                "dagdeel": part,
                "venue_id": cand["id"].iloc[j],
                "venue_name": cand["name"].iloc[j],
                "lgn": int(cand["lgn"].iloc[j]),
                "type": cand["type"].iloc[j],
                "suitability": cand["suitability"].iloc[j],
                "dutch_speaking": cand["dutch_speaking"].iloc[j],
                "capacity": s.children_per_session,
                "expected_attendance": round(float(per_week), 2),
                "utilisation": round(float(per_week / s.children_per_session), 4),
            }
        )
    timetable = pd.DataFrame(
        tt_rows,
        columns=[
            "team",
            "dag",
            "dagdeel",
            "venue_id",
            "venue_name",
            "lgn",
            "type",
            "suitability",
            "dutch_speaking",
            "capacity",
            "expected_attendance",
            "utilisation",
        ],
    )
    curve = needed = None
    if s.model == "capacitated_rotation":
        curve, needed = teams_curve(s, inst, context)
        curve = curve.assign(scenario=s.name)
        summary["teams_needed"] = needed["teams"]
        summary["teams_target_share"] = needed["target_share"]
        if needed["teams"] is None:
            notes.append(
                f"meer dan {needed['max_teams']} teams nodig voor {needed['target_share']:.0%} van de "
                f"verwachte consultaties in de prioritaire wijken"
            )
    return _CapRun(res, nearest, point_columns, summary, sites, timetable, curve, needed, notes)


def _k(s: Scenario, n_cand: int) -> int:
    if s.k is not None and s.k > n_cand:
        raise ModelError(
            f"k={s.k} is larger than the number of candidate venues ({n_cand}) left by the selection",
            path=s.path,
            column="siting.k",
        )
    return int(s.k)


def _sites_table(cand, result, children, w, thr, ex_near, cost) -> pd.DataFrame:
    covered = ex_near <= thr
    rows = []
    for rank, j in enumerate(result.chosen, start=1):
        reach = (cost[:, j] <= thr) & ~covered
        rows.append(
            {
                "rank": rank,
                "id": cand["id"].iloc[j],
                "name": cand["name"].iloc[j],
                "type": cand["type"].iloc[j],
                "commune_nis": cand["commune_nis"].iloc[j],
                "lgn": int(cand["lgn"].iloc[j]),
                "x": float(cand.geometry.x.iloc[j]),
                "y": float(cand.geometry.y.iloc[j]),
                "approximate": bool(cand["approximate"].iloc[j]),
                "marginal_children": float(children[reach].sum()),
                "marginal_demand": float(w[reach].sum()),
            }
        )
        covered = covered | reach
    out = pd.DataFrame(rows)
    if len(out):
        total = children.sum()
        out["cumulative_children"] = out["marginal_children"].cumsum()
        out["cumulative_share"] = out["cumulative_children"] / total
        if result.sessions:
            out["sessions_per_week"] = list(result.sessions)
    return out


def _summary(s: Scenario, points: pd.DataFrame, dem: pd.DataFrame, quantile) -> tuple[dict, pd.DataFrame]:
    children = points["children"].to_numpy()
    covered = points["covered"].to_numpy()
    minutes = points["minutes"].to_numpy()
    dep = np.nan_to_num(dem["deprivation"].to_numpy(dtype=float), nan=0.0)
    dep_w = children * (1.0 + 0.5 * np.maximum(dep, 0.0))  # the deprivation_weighted default, for all
    prio = dem["priority"].to_numpy()
    reach = np.isfinite(minutes)
    by_wijk = (
        points[prio]
        .groupby("mdrc")
        .apply(lambda g: g.loc[g["covered"], "children"].sum() / max(g["children"].sum(), 1e-12), include_groups=False)
    )
    summary = {
        "scenario": s.name,
        "model": s.model,
        "demand": s.demand,
        "threshold_min": s.threshold_min,
        "children_total": float(children.sum()),
        "children_covered": float(children[covered].sum()),
        "share_covered": float(children[covered].sum() / children.sum()),
        "deprivation_weighted_share": float(dep_w[covered].sum() / dep_w.sum()),
        "priority_wijken_reached": int((by_wijk >= s.priority_share - 1e-12).sum()),
        "priority_wijken": int(dem.loc[prio, "mdrc"].nunique()),
        "mean_min": float((children[reach] * minutes[reach]).sum() / children[reach].sum()) if reach.any() else None,
        "p90_min": float(quantile(minutes, children, 0.9)),
    }
    per_lgn = (
        points.assign(cov_children=np.where(covered, children, 0.0))
        .groupby("lgn", as_index=False)
        .agg(children=("children", "sum"), children_covered=("cov_children", "sum"))
    )
    per_lgn["share_covered"] = per_lgn["children_covered"] / per_lgn["children"]
    per_lgn.insert(0, "scenario", s.name)
    return summary, per_lgn


# ---------------------------------------------------------------------------------------------
# Comparing
# ---------------------------------------------------------------------------------------------


def compare(results: Sequence[ScenarioResult]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Side-by-side comparison of scenario results.

    Parameters
    ----------
    results
        Results of :func:`run_scenario`.

    Returns
    -------
    table : pandas.DataFrame
        One row per scenario: children covered (number and share), deprivation-weighted
        coverage (every scenario measured with the default proportional-universalism weights, so
        rows are comparable), priority wijken reached (of the priority wijken), mean and
        90th-percentile walking time (minutes, weighted by children; mean over children who can
        reach a site), new sites, model status, solve seconds.
    per_lgn : pandas.DataFrame
        Share of children covered per LGN, one column per scenario.
    """
    if not results:
        raise ConfigError("nothing to compare: give at least one scenario")
    names = [r.scenario.name for r in results]
    if len(set(names)) < len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ConfigError(f"two scenarios share the name '{dup}'", column="name")
    table = pd.DataFrame([r.summary for r in results])
    per_lgn = pd.concat([r.per_lgn for r in results], ignore_index=True)
    wide = per_lgn.pivot(index="lgn", columns="scenario", values="share_covered")[names].reset_index()
    from geoplanner.inputs.lgn import LGN

    wide.insert(1, "lgn_name", wide["lgn"].map(lambda n: LGN.get(int(n), ("?",))[0]))
    return table, wide


def teams_curves(results: Sequence[ScenarioResult]) -> pd.DataFrame | None:
    """Return the teams curves of the results that have one as one table (None if none has).

    Scenarios that differ only in their number of teams share one curve; it is listed once,
    under the names of all of them.
    """
    groups: dict[str, list[ScenarioResult]] = {}
    for r in results:
        if r.curve is not None:
            groups.setdefault((r.teams_needed or {}).get("curve_key", r.scenario.name), []).append(r)
    frames = []
    for rs in groups.values():
        names = ", ".join(r.scenario.name for r in rs)
        needed = rs[0].teams_needed or {}
        frames.append(
            rs[0]
            .curve.drop(columns="scenario", errors="ignore")
            .assign(teams_needed=needed.get("teams"), target_share=needed.get("target_share"))
            .assign(scenario=names)
        )
    if not frames:
        return None
    out = pd.concat(frames, ignore_index=True)
    return out[["scenario", *[c for c in out.columns if c != "scenario"]]]


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def write_scenario_outputs(result: ScenarioResult, out_dir: str | Path) -> list[Path]:
    """Write a scenario's outputs into ``out_dir`` (created): sites, timetable, coverage, manifest.

    Files: ``sites.csv`` and ``sites.gpkg`` (chosen venues in marginal order), ``timetable.csv``
    (rotation), ``coverage_summary.csv``, ``coverage_lgn.csv``, ``coverage_wijk.csv``,
    ``notes.txt`` (incomplete layers, estimates) and ``manifest.json``.

    Returns
    -------
    list of pathlib.Path
        The files written, manifest last. The folder's files from an earlier run that this
        run does not write (a rotation's ``timetable.csv`` under an MCLP run) are removed.
    """
    from geoplanner.outputs.files import output_step

    out = Path(out_dir)
    with output_step(out):
        return _write_scenario_outputs(result, out)


def _write_scenario_outputs(result: ScenarioResult, out: Path) -> list[Path]:
    import geopandas as gpd

    from geoplanner.core import settings
    from geoplanner.outputs.files import write_csv, write_gpkg, write_text
    from geoplanner.outputs.manifest import write_manifest

    s = result.scenario
    written = []
    sites = result.sites if len(result.sites) else pd.DataFrame(columns=["rank", "id", "name", "x", "y"])
    written.append(write_csv(out / "sites.csv", sites))
    if len(result.sites):
        gdf = gpd.GeoDataFrame(sites, geometry=gpd.points_from_xy(sites["x"], sites["y"]), crs=settings.CRS)
        written.append(write_gpkg(out / "sites.gpkg", {"sites": gdf}))
    if len(result.timetable):
        written.append(write_csv(out / "timetable.csv", result.timetable))
    written.append(write_csv(out / "coverage_summary.csv", pd.DataFrame([result.summary])))
    written.append(write_csv(out / "coverage_lgn.csv", result.per_lgn))
    pts = result.points
    wijk = (
        pts.assign(cov=np.where(pts["covered"], pts["children"], 0.0))
        .groupby("mdrc", as_index=False)
        .agg(children=("children", "sum"), children_covered=("cov", "sum"))
    )
    wijk["share_covered"] = wijk["children_covered"] / wijk["children"].where(wijk["children"] > 0)
    if "consultations" in pts.columns:  # capacitated: served within capacity, unserved by distance vs capacity
        wijk = wijk.merge(unserved_by_wijk(pts), on="mdrc", how="left")
    written.append(write_csv(out / "coverage_wijk.csv", wijk))
    if result.curve is not None:
        written.append(write_csv(out / "teams_curve.csv", result.curve))
    text = "\n".join([f"scenario: {s.name}", s.description.strip(), "", *result.notes, *settings.ATTRIBUTION])
    written.append(write_text(out / "notes.txt", text + "\n"))
    manifest = write_manifest(
        out,
        command=f"geoplanner site {s.path or s.name}",
        inputs=[p for p in (s.path, *result.inputs) if p is not None],
        parameters=s.parameters(),
        outputs=written,
        notes=list(result.notes),
        extra={"solution_cache": solution_record(result)},
    )
    return [*written, manifest]


def solution_record(result: ScenarioResult) -> dict[str, Any]:
    """Return what a manifest records of the solution's origin (see :mod:`geoplanner.cache`)."""
    if result.cache is None:
        return {"used": False, "hit": False, "key": None}
    return {"used": True, "hit": bool(result.cache.get("hit")), "key": result.cache.get("key")}


def unserved_by_wijk(points: pd.DataFrame) -> pd.DataFrame:
    """Return consultations a year per wijk: asked, served, unserved by distance and by capacity.

    *Unserved because of distance*: no held session (and no existing bureau) within the walking
    threshold. *Unserved because of capacity*: a session is within reach but its places are
    taken. Children served = consultations served / consultations per child.

    Parameters
    ----------
    points
        :attr:`ScenarioResult.points` of a capacitated scenario.

    Returns
    -------
    pandas.DataFrame
        One row per wijk (``mdrc``).
    """
    cols = ["consultations", "served_existing", "served_new", "unserved_distance", "unserved_capacity",
            "children_served"]  # fmt: skip
    out = points.groupby("mdrc", as_index=False)[cols].sum()
    served = out["served_existing"] + out["served_new"]
    out["share_consultations_served"] = served / out["consultations"].where(out["consultations"] > 0)
    return out


def write_comparison(
    results: Sequence[ScenarioResult], out_dir: str | Path
) -> tuple[pd.DataFrame, pd.DataFrame, list[Path]]:
    """Compare results and write ``comparison.csv``, ``comparison_lgn.csv`` and a manifest.

    Returns
    -------
    table, per_lgn : pandas.DataFrame
        As :func:`compare`.
    paths : list of pathlib.Path
        Files written.
    """
    from geoplanner.outputs.files import output_step, write_csv
    from geoplanner.outputs.manifest import write_manifest

    table, per_lgn = compare(results)
    out = Path(out_dir)
    with output_step(out):
        written = [write_csv(out / "comparison.csv", table), write_csv(out / "comparison_lgn.csv", per_lgn)]
        curves = teams_curves(results)
        if curves is not None:
            written.append(write_csv(out / "teams_curve.csv", curves))
        notes = list(dict.fromkeys(n for r in results for n in r.notes))
        inputs = list(dict.fromkeys(p for r in results for p in (r.scenario.path, *r.inputs) if p is not None))
        manifest = write_manifest(
            out,
            command="geoplanner compare " + " ".join(str(r.scenario.path or r.scenario.name) for r in results),
            inputs=inputs,
            parameters={r.scenario.name: r.scenario.parameters() for r in results},
            outputs=written,
            notes=notes,
            extra={"solution_cache": {r.scenario.name: solution_record(r) for r in results}},
        )
    return table, per_lgn, [*written, manifest]
