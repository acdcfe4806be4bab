"""Scenario files: the TOML schema, strict validation with the file, line and key of every mistake.

Every key and its default is written up in ``docs/methods/scenarios.md``.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from geoplanner.core.errors import ConfigError
from geoplanner.inputs.lgn import COMMUNES
from geoplanner.inputs.services import ServiceSet
from geoplanner.inputs.venues import SUITABILITY_CLASSES
from geoplanner.siting.capacitated import DAY_PARTS, WEEK_DAYS

__all__ = [
    "MODELS",
    "CAPACITATED_MODELS",
    "CAPACITY_PARAMETERS",
    "EXISTING_ASSUMPTION",
    "DEMAND_KINDS",
    "SWEEP_KEYS",
    "SWEEP_FIELDS",
    "REACH_SHARE",
    "Scenario",
    "parse_scenario",
    "BASELINE_NAME",
    "with_baseline",
    "check_against_data",
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
        0.3,
        "beleidsnorm, geen gemeten gebruik: de Brusselnorm van de Vlaamse overheid (voorzieningen voor 30 % van de "
        "Brusselaars); het werkelijke aandeel gezinnen dat een Nederlandstalig bureau zou kiezen staat niet in de "
        "data; het rapport toont wat 30 tot 100 % verandert",
    ),
    ("capacity.children_per_session", 10.0, "aanname: kinderen die één team in één dagdeel ziet"),
    ("capacity.weeks_per_year", 46.0, "aanname: werkweken per jaar (52 min vakanties en feestdagen)"),
    (
        "capacity.planned_fill",
        0.85,
        "aanname: een sessie wordt voor 85 % ingepland (ruimte voor wie niet komt, voor nieuwe gezinnen en voor "
        "een langer gesprek); de plaatsen per sessie zijn kinderen per sessie × 0,85",
    ),
    (
        "capacity.sessions_per_site",
        2.0,
        "aanname: een nieuwe vaste consultatielocatie houdt 2 bemande sessies (dagdelen) per week, zoals een "
        "klein consultatiebureau; zo telt een vaste locatie in dezelfde sessies als een mobiel team",
    ),
    (
        "rotation.sessions_per_day",
        2.0,
        "aanname: een team werkt hoogstens 2 dagdelen per dag (een dag met een avondsessie: namiddag en avond)",
    ),
    (
        "curve.target_share",
        0.5,
        "beleidskeuze: de helft van de verwachte consultaties in de prioritaire wijken, dezelfde helft als de regel "
        "voor een bereikte prioritaire wijk; de vaste bureaus en andere diensten dragen de rest",
    ),
)


#: Assumptions a ``[sweep]`` table may draw, with the range their value may take (as in ``[demand]`` and
#: ``[capacity]``): key -> (table of the assumption, lowest allowed, highest allowed, 0 allowed).
SWEEP_KEYS: dict[str, tuple[str, float, float, bool]] = {
    "uptake": ("demand", 0.0, 1.0, False),
    "dutch_share": ("demand", 0.0, 1.0, False),
    "consultations_age0": ("demand", 0.0, 52.0, True),
    "consultations_age1": ("demand", 0.0, 52.0, True),
    "consultations_age2": ("demand", 0.0, 52.0, True),
    "children_per_session": ("capacity", 0.0, 100.0, False),
    "weeks_per_year": ("capacity", 0.0, 53.0, False),
    "planned_fill": ("capacity", 0.0, 1.0, False),
}

#: Fields of :class:`Scenario` that only the sweep reads (``[sweep]``): never part of a solution's or a curve's key.
SWEEP_FIELDS = ("sweep_ranges", "sweep_draws", "sweep_seed", "sweep_counts")


#: A note every scenario carries: how existing bureaus are counted.
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
    "title": (str, ""),
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
    "capacity": {
        "children_per_session": (float, None),
        "weeks_per_year": (float, None),
        "planned_fill": (float, None),
        "sessions_per_site": (float, None),
    },
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
        "node_limit": (int, 100),
        "priority_served_share": (float, 0.0),
        "mip_gap": (float, 0.0),
    },
    "rotation": {
        "teams": (int, None),
        "sessions_per_team": (int, None),
        "balance_lgn": (bool, True),
        "every_lgn": (bool, False),
        "sessions_per_day": (float, None),
        "slots": (list, []),
    },
    "sweep": {
        **{key: (list, None) for key in SWEEP_KEYS},
        "draws": (int, 200),
        "seed": (int, 2026),
        "counts": (bool, True),
    },
}


@dataclass(frozen=True)
class Scenario:
    """A validated scenario (see the module docstring for the file layout)."""

    name: str
    title: str = ""
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
    node_limit: int = 100
    teams: int | None = None
    sessions_per_team: int | None = None
    balance_lgn: bool = True
    consultations_per_child: tuple[float, float, float] = (7.0, 3.0, 2.0)
    uptake: float = 0.783
    dutch_share: float = 0.3
    children_per_session: float = 10.0
    weeks_per_year: float = 46.0
    planned_fill: float = 0.85
    sessions_per_site: int = 2
    sessions_per_day: int = 2
    every_lgn: bool = False
    candidate_suitability: tuple[str, ...] = ()
    prefer_dutch: bool = False
    dutch_only: bool = False
    priority_served_share: float = 0.0
    mip_gap: float = 0.0
    slots: tuple[tuple[str, str], ...] = ()
    curve_max_teams: int = 10
    curve_target_share: float = 0.5
    curve_time_limit_s: float = 60.0
    sweep_ranges: tuple[tuple[str, float, float], ...] = ()
    sweep_draws: int = 200
    sweep_seed: int = 2026
    sweep_counts: bool = True
    path: Path | None = field(default=None, compare=False)

    @property
    def capacitated(self) -> bool:
        """True for the models that count session capacity."""
        return self.model in CAPACITATED_MODELS

    @property
    def session_capacity(self) -> float:
        """Consultations a year one weekly session can serve: children per session × weeks a year × planned fill."""
        return self.children_per_session * self.weeks_per_year * self.planned_fill

    @property
    def label(self) -> str:
        """What a reader calls the scenario: its title, else its name."""
        return self.title.strip() or self.name

    def parameters(self) -> dict[str, Any]:
        """Return the scenario as a JSON-friendly dict (for manifests)."""
        out = asdict(self)
        out["path"] = None if self.path is None else str(self.path)
        return out


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
    """The values of one scenario file, read against :data:`_SCHEMA`; its errors name the file, line and key."""

    def __init__(self, text: str, path: Path | None) -> None:
        self.text, self.path = text, path
        self.values: dict[tuple[str | None, str], Any] = {}

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

    def read(self, raw: dict[str, Any]) -> None:
        """Take every key of the parsed TOML, refusing unknown keys and wrong types."""
        for key, value in raw.items():
            spec = _SCHEMA.get(key)
            if spec is None:
                raise self.error(f"unknown key '{key}'", None, key, hint=f"known keys: {', '.join(_SCHEMA)}")
            if isinstance(spec, dict):
                if not isinstance(value, dict):
                    raise self.error(f"'{key}' must be a table [{key}]", None, key)
                for sub, subval in value.items():
                    if sub not in spec:
                        raise self.error(f"unknown key '{sub}' in [{key}]", key, sub,
                                         hint=f"known keys: {', '.join(spec)}")  # fmt: skip
                    self.values[(key, sub)] = self.check_type(subval, spec[sub][0], key, sub)
            else:
                self.values[(None, key)] = self.check_type(value, spec[0], None, key)
        if (None, "name") not in self.values:
            raise ConfigError("the scenario has no 'name'", path=self.path, row=1, column="name")

    def get(self, table: str | None, key: str) -> Any:
        """Return the value of ``[table] key``, or its default."""
        spec = _SCHEMA[key] if table is None else _SCHEMA[table][key]
        return self.values.get((table, key), spec[1])

    def positive(self, table: str, key: str, upper: float = math.inf) -> None:
        """Refuse a value that is not above 0 (and at most ``upper``)."""
        x = self.get(table, key)
        if x is not None and not (0 < x <= upper):
            raise self.error(f"must be > 0{'' if upper == math.inf else f' and <= {upper:g}'}, got {x}", table, key)

    def strings(self, table: str, key: str) -> tuple[str, ...]:
        """Return a list of text items as a tuple, refusing other items."""
        items = self.get(table, key)
        for item in items:
            if not isinstance(item, str):
                raise self.error(f"every item must be text, got {item!r}", table, key)
        return tuple(items)

    def whole(self, table: str, key: str, upper: int) -> int:
        """Return a whole-number parameter from 1 to ``upper``: the file's value, checked, or its stated default."""
        x = self.param(table, key, upper)
        if x != int(x) or x < 1:
            raise self.error(f"must be a whole number from 1 to {upper}, got {x:g}", table, key)
        return int(x)

    def param(self, table: str, key: str, upper: float = math.inf, lower_ok: bool = False) -> float:
        """Return a capacity parameter: the file's value, checked, or its stated default."""
        x = self.get(table, key)
        if x is None:
            return float(dict((k, d) for k, d, _ in CAPACITY_PARAMETERS)[f"{table}.{key}"])
        if not ((0 <= x if lower_ok else 0 < x) and x <= upper):
            bound = ">= 0" if lower_ok else "> 0"
            raise self.error(f"must be {bound}{'' if upper == math.inf else f' and <= {upper:g}'}, got {x}", table, key)
        return float(x)


def parse_scenario(text: str, path: Path | None = None) -> Scenario:
    """Parse and validate the text of a scenario file (syntax, keys, types, ranges).

    Ids, types, communes and sets that need the data are checked by :func:`check_against_data`.

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
    v.read(raw)
    fields = _identity(v)
    fields.update(_candidates(v))
    fields.update(_capacity(v))
    fields.update(_model_keys(v, fields["model"], fields["slots"]))
    fields.update(_sweep(v))
    return Scenario(**fields, path=path)


def _identity(v: _Validator) -> dict[str, Any]:
    """Read name, description, model, walking and demand keys."""
    name, model, kind = v.get(None, "name"), v.get(None, "model"), v.get("demand", "kind")
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", name):
        raise v.error("name must use only letters, digits, '_' and '-' (it names the output folder)", None, "name")
    if model not in MODELS:
        raise v.error(f"unknown model '{model}'", None, "model", hint=f"choose one of {', '.join(MODELS)}")
    if kind not in DEMAND_KINDS:
        raise v.error(f"unknown demand kind '{kind}'", "demand", "kind",
                      hint=f"choose one of {', '.join(DEMAND_KINDS)}")  # fmt: skip
    v.positive("walk", "speed_kmh", 20)
    v.positive("walk", "threshold_min", 120)
    v.positive("siting", "time_limit_s", 3600)
    v.positive("siting", "priority_share", 1)
    v.positive("siting", "share", 1)
    if v.get("demand", "deprivation_strength") < 0:
        raise v.error("must be >= 0", "demand", "deprivation_strength")
    return {
        "name": name, "title": v.get(None, "title").strip(), "description": v.get(None, "description"),
        "model": model, "demand": kind,
        "speed_kmh": v.get("walk", "speed_kmh"), "threshold_min": v.get("walk", "threshold_min"),
        "deprivation_strength": v.get("demand", "deprivation_strength"),
        "open_sets": v.strings("services", "open"), "close": v.strings("services", "close"),
        "share": v.get("siting", "share"), "priority_share": v.get("siting", "priority_share"),
        "time_limit_s": v.get("siting", "time_limit_s"),
    }  # fmt: skip


def _candidates(v: _Validator) -> dict[str, Any]:
    """Read the candidate selection: set, types, communes, LGNs, ids, suitability, language."""
    communes = []
    for item in v.get("candidates", "communes"):
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise v.error(f"a commune is a NIS code or a name, got {item!r}", "candidates", "communes")
        communes.append(_commune_code(item, v))
    lgns = []
    for item in v.get("candidates", "lgn"):
        if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= 8:
            raise v.error(f"an LGN is a number from 1 to 8, got {item!r}", "candidates", "lgn")
        lgns.append(item)
    for item in v.get("candidates", "suitability"):
        if item not in SUITABILITY_CLASSES:
            raise v.error(f"unknown suitability class {item!r}", "candidates", "suitability",
                          hint=f"choose from {', '.join(SUITABILITY_CLASSES)}")  # fmt: skip
    return {
        "candidate_set": v.get("candidates", "set"), "candidate_types": v.strings("candidates", "types"),
        "candidate_communes": tuple(communes), "candidate_lgn": tuple(lgns),
        "candidate_ids": v.strings("candidates", "ids"), "candidate_exclude": v.strings("candidates", "exclude"),
        "candidate_suitability": v.strings("candidates", "suitability"),
        "prefer_dutch": v.get("candidates", "prefer_dutch"), "dutch_only": v.get("candidates", "dutch_only"),
    }  # fmt: skip


def _capacity(v: _Validator) -> dict[str, Any]:
    """Read the capacity parameters, the teams curve, the solver's gap and the working slots."""
    rates = tuple(v.param("demand", f"consultations_age{a}", 52, lower_ok=True) for a in range(3))
    if sum(rates) <= 0:
        raise v.error("at least one age needs consultations", "demand", "consultations_age0")
    max_teams = v.get("curve", "max_teams")
    if max_teams is not None and not 0 <= max_teams <= 40:
        raise v.error(f"must be 0-40 (0: no teams curve), got {max_teams}", "curve", "max_teams")
    curve_limit = v.get("curve", "time_limit_s")
    if curve_limit is not None and not 0 < curve_limit <= 600:
        raise v.error(f"must be > 0 and <= 600, got {curve_limit}", "curve", "time_limit_s")
    served_share = v.get("siting", "priority_served_share")
    if not 0 <= served_share <= 1:
        raise v.error(f"must be between 0 and 1, got {served_share}", "siting", "priority_served_share")
    mip_gap = v.get("siting", "mip_gap")
    if not 0 <= mip_gap < 1:
        raise v.error(f"must be >= 0 and < 1, got {mip_gap}", "siting", "mip_gap")
    node_limit = v.get("siting", "node_limit")
    if not 1 <= node_limit <= 1_000_000:
        raise v.error(f"must be 1-1000000, got {node_limit}", "siting", "node_limit")
    return {
        "consultations_per_child": rates, "uptake": v.param("demand", "uptake", 1),
        "dutch_share": v.param("demand", "dutch_share", 1),
        "children_per_session": v.param("capacity", "children_per_session", 100),
        "weeks_per_year": v.param("capacity", "weeks_per_year", 53),
        "planned_fill": v.param("capacity", "planned_fill", 1),
        "sessions_per_site": v.whole("capacity", "sessions_per_site", 14),
        "sessions_per_day": v.whole("rotation", "sessions_per_day", 3),
        "curve_target_share": v.param("curve", "target_share", 1),
        "curve_max_teams": 10 if max_teams is None else max_teams,
        "curve_time_limit_s": 60.0 if curve_limit is None else float(curve_limit),
        "priority_served_share": served_share, "mip_gap": mip_gap, "node_limit": node_limit, "slots": _slots(v),
    }  # fmt: skip


def _slots(v: _Validator) -> tuple[tuple[str, str], ...]:
    """Read the working slots of a capacitated rotation ('dag dagdeel'), each once."""
    slots: list[tuple[str, str]] = []
    for item in v.get("rotation", "slots"):
        parts = item.split() if isinstance(item, str) else []
        if len(parts) != 2 or parts[0] not in WEEK_DAYS or parts[1] not in DAY_PARTS:
            raise v.error(
                f"a slot is 'dag dagdeel', e.g. 'woensdag namiddag', got {item!r}", "rotation", "slots",
                hint=f"days: {', '.join(WEEK_DAYS)}; dagdelen: {', '.join(DAY_PARTS)}",
            )  # fmt: skip
        if tuple(parts) in slots:
            raise v.error(f"slot {item!r} is listed twice", "rotation", "slots")
        slots.append((parts[0], parts[1]))
    return tuple(slots)


def _model_keys(v: _Validator, model: str, slots: tuple) -> dict[str, Any]:
    """Read the keys each model needs: k, the set-covering target, teams and sessions."""
    k, target = v.get("siting", "k"), v.get("siting", "target")
    teams, sessions = v.get("rotation", "teams"), v.get("rotation", "sessions_per_team")
    if model in ("mclp", "p_median", "capacitated_mclp"):
        if k is None:
            raise v.error(f"model '{model}' needs the number of new sites", "siting", "k")
        if k < 1:
            raise v.error(f"must be at least 1, got {k}", "siting", "k")
    if model == "lscp":
        if target not in ("priority_wijken", "share"):
            raise v.error(f"unknown target '{target}'", "siting", "target", hint="priority_wijken or share")
        if target == "share" and v.get("siting", "share") is None:
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
    return {"k": k, "target": target, "teams": teams, "sessions_per_team": sessions,
            "balance_lgn": v.get("rotation", "balance_lgn"), "every_lgn": v.get("rotation", "every_lgn")}  # fmt: skip


def _sweep(v: _Validator) -> dict[str, Any]:
    """Read the ``[sweep]`` table: the range of each assumption to draw (two numbers, low then high), draws, seed."""
    ranges = []
    for key, (_table, lower, upper, zero_ok) in SWEEP_KEYS.items():
        pair = v.get("sweep", key)
        if pair is None:
            continue
        if len(pair) != 2 or any(isinstance(x, bool) or not isinstance(x, int | float) for x in pair):
            raise v.error(f"must be two numbers [low, high], got {pair!r}", "sweep", key)
        low, high = float(pair[0]), float(pair[1])
        if not all((lower <= x if zero_ok else lower < x) and x <= upper for x in (low, high)):
            bound = ">= 0" if zero_ok else "> 0"
            raise v.error(f"both ends must be {bound} and <= {upper:g}, got {pair!r}", "sweep", key)
        if low > high:
            raise v.error(f"the low end is above the high end: {pair!r}", "sweep", key)
        ranges.append((key, low, high))
    draws, seed = v.get("sweep", "draws"), v.get("sweep", "seed")
    if not 1 <= draws <= 1_000_000:
        raise v.error(f"must be 1-1000000, got {draws}", "sweep", "draws")
    if seed < 0:
        raise v.error(f"must be >= 0, got {seed}", "sweep", "seed")
    return {"sweep_ranges": tuple(ranges), "sweep_draws": draws, "sweep_seed": seed,
            "sweep_counts": v.get("sweep", "counts")}  # fmt: skip


def _commune_code(item: int | str, v: _Validator) -> int:
    if isinstance(item, int):
        if item not in COMMUNES:
            raise v.error(f"unknown commune NIS code {item}", "candidates", "communes", hint="Brussels: 21001-21019")
        return item
    wanted = item.strip().casefold()
    for nis, names in COMMUNES.items():
        if wanted in (n.casefold() for n in names):
            return nis
    raise v.error(f"unknown commune '{item}'", "candidates", "communes", hint="use a NIS code or the Dutch/French name")


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


def check_against_data(s: Scenario, text: str, services: Mapping[str, ServiceSet], known_sets: Sequence[str]) -> None:
    """Check the scenario's service sets, closed ids, candidate ids and types against the data.

    Parameters
    ----------
    s
        The parsed scenario.
    text
        Its TOML text (for the line of a mistake).
    services
        The service sets it names, loaded (:func:`geoplanner.inputs.services.load_services`).
    known_sets
        Every service set there is (:func:`geoplanner.inputs.services.service_set_names`).

    Raises
    ------
    ConfigError
        Naming the file, the line and the key of the first unknown set, id or type.
    """
    v = _Validator(text, s.path)
    for name in (*s.open_sets, s.candidate_set):
        if name not in known_sets:
            key = ("candidates", "set") if name == s.candidate_set else ("services", "open")
            raise v.error(f"unknown service set '{name}'", *key, hint=f"known: {', '.join(known_sets)}")
    open_ids: set[str] = set()
    for name in s.open_sets:
        open_ids |= set(services[name].points["id"])
    for sid in s.close:
        if sid not in open_ids:
            raise v.error(
                f"unknown service id '{sid}' (not a located service of {', '.join(s.open_sets) or 'no set'})",
                "services",
                "close",
            )
    cand = services[s.candidate_set].points
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
