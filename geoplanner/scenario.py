"""Siting scenarios as TOML files: parse, validate strictly, run, compare.

A scenario file says which services stay open, which close, where new (mobile) consultation
sites may go, how demand is counted and which location model chooses them. Every mistake is
reported with the file, the line and the key (:class:`~geoplanner.errors.ConfigError`).

Layout (all tables optional except the top-level ``name``)::

    name = "mobiel_2_teams"             # also the output folder name
    description = "..."                 # Dutch (optionally English too)
    model = "rotation"                  # none | mclp | lscp | p_median | rotation

    [walk]
    speed_kmh = 4.5
    threshold_min = 10

    [demand]
    kind = "children"                   # children | deprivation_weighted | priority_only
    deprivation_strength = 0.5          # for deprivation_weighted

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

    [siting]
    k = 5                               # mclp, p_median
    target = "priority_wijken"          # lscp: priority_wijken | share
    share = 0.8                         # lscp with target = "share"
    priority_share = 0.5                # share of a priority wijk's children that counts as reached
    time_limit_s = 20

    [rotation]
    teams = 2
    sessions_per_team = 8
    balance_lgn = true                  # every LGN with a priority wijk gets a session

Demand kinds (all counted in young children, ``pop_0_2`` estimated per sector and spread over
the residential streets by :func:`geoplanner.accessibility.demand_points`):

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
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geoplanner.errors import ConfigError, ModelError

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
    "run_scenario",
    "compare",
    "demand_weights",
    "write_scenario_outputs",
    "write_comparison",
    "COMPARISON_LABELS",
]

MODELS = ("none", "mclp", "lscp", "p_median", "rotation")
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
    "demand": {"kind": (str, "children"), "deprivation_strength": (float, 0.5)},
    "services": {"open": (list, ["any_cb"]), "close": (list, [])},
    "candidates": {
        "set": (str, "candidates"),
        "types": (list, []),
        "communes": (list, []),
        "lgn": (list, []),
        "ids": (list, []),
        "exclude": (list, []),
    },
    "siting": {
        "k": (int, None),
        "target": (str, "priority_wijken"),
        "share": (float, None),
        "priority_share": (float, REACH_SHARE),
        "time_limit_s": (float, 20.0),
    },
    "rotation": {"teams": (int, None), "sessions_per_team": (int, None), "balance_lgn": (bool, True)},
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
    path: Path | None = field(default=None, compare=False)

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

    k, target = get("siting", "k"), get("siting", "target")
    teams, sessions = get("rotation", "teams"), get("rotation", "sessions_per_team")
    if model in ("mclp", "p_median"):
        if k is None:
            raise v.error(f"model '{model}' needs the number of new sites", "siting", "k")
        if k < 1:
            raise v.error(f"must be at least 1, got {k}", "siting", "k")
    if model == "lscp":
        if target not in ("priority_wijken", "share"):
            raise v.error(f"unknown target '{target}'", "siting", "target", hint="priority_wijken or share")
        if target == "share" and get("siting", "share") is None:
            raise v.error("target = 'share' needs a share (0-1)", "siting", "share")
    if model == "rotation":
        if teams is None or sessions is None:
            raise v.error("model 'rotation' needs teams and sessions_per_team", "rotation", None)
        if teams < 1:
            raise v.error(f"must be at least 1, got {teams}", "rotation", "teams")
        if not 1 <= sessions <= 10:
            raise v.error(f"must be 1-10 (5 days × 2 dagdelen), got {sessions}", "rotation", "sessions_per_team")
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
        path=path,
    )


def _commune_code(item: int | str, v: _Validator) -> int:
    from geoplanner.lgn import COMMUNES

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
    from geoplanner.load import load_services, service_set_names

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
    """

    net: Any
    demand: pd.DataFrame
    ranking: pd.DataFrame
    data_dir: Path | None
    inputs: tuple[Path, ...] = ()
    need: Any = None
    _snapped: dict = field(default_factory=dict)


def build_context(
    data_dir: Path | None = None, *, network: str | Path | None = None, need: Any = None
) -> SitingContext:
    """Load the network and build the demand points and ranking used by every scenario.

    Parameters
    ----------
    data_dir
        Data folder.
    network
        Network file (default: the bundle's walk network).
    need
        A :func:`geoplanner.need.build_need` result to reuse (built here if omitted).

    Returns
    -------
    SitingContext
    """
    from geoplanner.accessibility import demand_points
    from geoplanner.bundle import dataset_path
    from geoplanner.load import load_sectors
    from geoplanner.need import build_need
    from geoplanner.network import load_network

    net = load_network(network)
    built = need if need is not None else build_need(data_dir)
    lines, sectors_need, ranking = built.lines, built.sectors, built.ranking
    points = demand_points(load_sectors(data_dir), sectors_need, lines)
    info = pd.DataFrame(sectors_need[["cd_sector", "mdrc", "lgn", "commune_nis"]])
    demand = pd.DataFrame(points.drop(columns="geometry")).merge(info, on="cd_sector", how="left")
    wijk = ranking.set_index("mdrc")
    demand["priority"] = demand["mdrc"].map(wijk["priority"]).fillna(False).astype(bool)
    demand["deprivation"] = demand["mdrc"].map(wijk["deprivation"]).astype(float)
    inputs = []
    for key in ("sectors", "wijk_indicators", "pop_age_commune", "ghsl_population", "osm_walk_graphml"):
        try:
            inputs.append(dataset_path(key, data_dir))
        except Exception:  # noqa: BLE001 - a missing optional input is simply not listed
            continue
    return SitingContext(net=net, demand=demand, ranking=pd.DataFrame(ranking.drop(columns="geometry")),
                         data_dir=data_dir, inputs=tuple(inputs) + tuple(built.inputs), need=built)  # fmt: skip


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


def _select_candidates(s: Scenario, cand: pd.DataFrame) -> pd.DataFrame:
    from geoplanner.lgn import lgn_of_commune

    cand = cand.copy()
    cand["lgn"] = cand["commune_nis"].map(lambda n: lgn_of_commune(int(n)) if pd.notna(n) else -1)
    keep = pd.Series(True, index=cand.index)
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


def run_scenario(scenario: Scenario, context: SitingContext) -> ScenarioResult:
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
    """
    from geoplanner.accessibility import nearest_service_times, time_matrix, weighted_quantile
    from geoplanner.load import load_services
    from geoplanner.siting import MaximalCovering, PMedian, Rotation, SetCovering

    s, dem = scenario, context.demand
    xy = dem[["x", "y"]].to_numpy()
    snapped = context._snapped.get("demand")
    if snapped is None:
        from geoplanner.network import snap_points

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
    from geoplanner.lgn import LGN

    wide.insert(1, "lgn_name", wide["lgn"].map(lambda n: LGN.get(int(n), ("?",))[0]))
    return table, wide


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
        The files written, manifest last.
    """
    import geopandas as gpd

    from geoplanner import settings
    from geoplanner._io import write_csv, write_gpkg, write_text
    from geoplanner.manifest import write_manifest

    out = Path(out_dir)
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
    written.append(write_csv(out / "coverage_wijk.csv", wijk))
    text = "\n".join([f"scenario: {s.name}", s.description.strip(), "", *result.notes, *settings.ATTRIBUTION])
    written.append(write_text(out / "notes.txt", text + "\n"))
    manifest = write_manifest(
        out,
        command=f"geoplanner site {s.path or s.name}",
        inputs=[p for p in (s.path, *result.inputs) if p is not None],
        parameters=s.parameters(),
        outputs=written,
        notes=list(result.notes),
    )
    return [*written, manifest]


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
    from geoplanner._io import write_csv
    from geoplanner.manifest import write_manifest

    table, per_lgn = compare(results)
    out = Path(out_dir)
    written = [write_csv(out / "comparison.csv", table), write_csv(out / "comparison_lgn.csv", per_lgn)]
    notes = list(dict.fromkeys(n for r in results for n in r.notes))
    inputs = list(dict.fromkeys(p for r in results for p in (r.scenario.path, *r.inputs) if p is not None))
    manifest = write_manifest(
        out,
        command="geoplanner compare " + " ".join(str(r.scenario.path or r.scenario.name) for r in results),
        inputs=inputs,
        parameters={r.scenario.name: r.scenario.parameters() for r in results},
        outputs=written,
        notes=notes,
    )
    return table, per_lgn, [*written, manifest]
