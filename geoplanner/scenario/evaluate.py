"""Evaluate a scenario in a context: ``evaluate(spec, context) -> ScenarioResult``, the one entry for every front end.

The command line, the main job and any other front end evaluate scenarios only through :func:`evaluate`;
renderers (CSV, workbook, report, maps) take its results and never solve. A solution is reused from
:mod:`geoplanner.cache` when nothing that shapes it changed (:func:`geoplanner.scenario.keys.solution_key`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geoplanner import cache
from geoplanner.access.times import nearest_service_times, time_matrix
from geoplanner.core.errors import ConfigError, ModelError
from geoplanner.core.i18n import label
from geoplanner.core.progress import stage
from geoplanner.inputs.lgn import LGN, lgn_of_commune
from geoplanner.inputs.venues import dutch_speaking, suitability
from geoplanner.scenario.capacity import (
    CapacityInstance,
    assumptions,
    capacity_model,
    capacity_notes,
    consultation_demand,
    consultation_value,
    solve_capacitated,
)
from geoplanner.scenario.context import SitingContext, demand_weights
from geoplanner.scenario.curve import (
    QUICK_NOTE,
    curve_key,
    own_point,
    quick,
    rotation_points,
    search_teams_needed,
    teams_by_dutch_share,
    teams_curve,
    teams_needed,
)
from geoplanner.scenario.keys import solution_key
from geoplanner.scenario.measures import lgn_measures, reach_measures, service_columns, service_measures
from geoplanner.scenario.result import ScenarioResult
from geoplanner.scenario.spec import Scenario
from geoplanner.scenario.tables import (
    capacitated_sites,
    capacitated_timetable,
    covering_sites,
    covering_timetable,
    with_site_service,
)
from geoplanner.siting import CapacityResult, MaximalCovering, PMedian, Rotation, SetCovering, serve_sessions

__all__ = ["evaluate", "select_candidates"]

#: Said of every result when the need model's notes are not at hand.
_CHILDREN_NOTE = "kinderen 0-2 jaar per sector zijn geschat (geen publieke cijfers onder gemeenteniveau)"


def evaluate(scenario: Scenario, context: SitingContext, *, curve: bool = True) -> ScenarioResult:
    """Evaluate a scenario: build the time matrices, solve its model, measure coverage.

    Parameters
    ----------
    scenario
        A validated scenario.
    context
        The shared context (:func:`geoplanner.scenario.context.make_context`).
    curve
        For a capacitated rotation: draw its teams curve and the teams needed at 30-100 % Dutch-speaking (True),
        or solve only its own team count, without the timetable, and find the teams needed from the capacity bound
        up (:func:`geoplanner.scenario.curve.search_teams_needed`: the same number in one or two solves). False is
        what a sweep's draws need; ``curve``, ``by_dutch_share`` and ``timetable`` are then empty, and the result
        is neither read from nor stored in the solution cache. Other models are evaluated the same either way.

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
    Solutions are reused from :mod:`geoplanner.cache` when nothing that shapes them changed (scenario
    parameters, demand, network, services, code); the result's ``cache`` says whether it was.
    ``context.cache = False`` or ``$GEOPLANNER_NO_CACHE=1`` solves every time.
    """
    key = None
    if curve and cache.enabled(context.cache):
        key = solution_key(scenario, context)
        stored = cache.load(key)
        if stored is not None:
            # the current Scenario object and the files of this context (the path of either may differ: the
            # key holds their content, never where they lie)
            return dataclasses.replace(stored, scenario=scenario, inputs=_inputs(scenario, context),
                                       cache={"key": key, "hit": True})  # fmt: skip
    try:
        result = _solve(scenario, context, curve)
    except ModelError as exc:
        raise ModelError(f"scenario '{scenario.name}': {exc.message}", path=exc.path or scenario.path, row=exc.row,
                         column=exc.column, hint=exc.hint) from None  # fmt: skip
    if key is None:
        return result
    result = dataclasses.replace(result, cache={"key": key, "hit": False})
    cache.save(key, result)
    return result


def _inputs(s: Scenario, context: SitingContext) -> tuple[Path, ...]:
    """Return the files a scenario's result rests on in ``context``: the context's, the open and candidate sets'."""
    names = [*s.open_sets, *([s.candidate_set] if s.model != "none" else [])]
    return tuple(dict.fromkeys([*context.inputs, *(p for n in names for p in context.services[n].sources)]))


def select_candidates(s: Scenario, cand: pd.DataFrame) -> pd.DataFrame:
    """Return the candidate venues the scenario allows, with their LGN, suitability and language, sorted by id."""
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


@dataclass
class _Work:
    """What every model of one scenario starts from."""

    s: Scenario
    context: SitingContext
    weights: np.ndarray  # demand weight per point (the scenario's demand kind)
    children: np.ndarray  # children 0-2 per point
    ex_near: np.ndarray  # minutes to the nearest existing service that stays open
    consultations: np.ndarray  # consultations a year each point's expected users ask
    rate: np.ndarray  # consultations a year per child of each point
    notes: list[str]
    inputs: list


@dataclass
class _Placed:
    """The new supply a scenario places, and how it was found."""

    nearest: np.ndarray  # minutes to the nearest open site, existing or new
    service: CapacityResult | None  # the new sessions' assignment within capacity (None: no new sessions)
    sites: pd.DataFrame
    timetable: pd.DataFrame
    solution: object | None  # the solver's result (None for model 'none')
    teams: int = 0
    curve: pd.DataFrame | None = None
    needed: dict[str, Any] | None = None
    by_dutch_share: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)


def _existing(s: Scenario, context: SitingContext) -> _Work:
    """Open the scenario's existing services (minus those it closes), time every home to the nearest, count demand."""
    notes: list[str] = []
    inputs = list(context.inputs)
    frames = []
    for name in s.open_sets:
        ss = context.services[name]
        inputs += ss.sources
        if ss.incomplete:
            notes.append(ss.completeness_note)
        if ss.points.empty:
            notes.append(f"dienstenset '{name}' heeft geen enkele gelokaliseerde dienst, dus er is er geen open")
        frames.append(ss.points.assign(set_name=name))
    existing = pd.concat(frames, ignore_index=True).drop_duplicates("id") if frames else pd.DataFrame()
    if len(existing):
        existing = existing[~existing["id"].isin(s.close)]
    if s.close:
        notes.append(f"gesloten in dit scenario: {', '.join(s.close)}")
    dem = context.demand
    if len(existing):
        ex_xy = np.c_[existing.geometry.x, existing.geometry.y]
        ex_near = nearest_service_times(context.net, context.snapped, ex_xy, speed_kmh=s.speed_kmh).minutes
    else:
        ex_near = np.full(len(dem), np.inf)
    sectors = None if context.need is None else context.need.sectors
    d, rate = consultation_demand(s, dem, sectors)
    if sectors is None or not {"cd_sector", "births", "pop_0_2"} <= set(sectors.columns):
        notes.append("aanname: geen geboorten per sector beschikbaar, elke leeftijd (0, 1, 2) telt voor een derde")
    return _Work(s, context, demand_weights(s, dem), dem["weight"].to_numpy(dtype=float), ex_near, d, rate, notes,
                 inputs)  # fmt: skip


def _solve(s: Scenario, context: SitingContext, curve: bool = True) -> ScenarioResult:
    """Solve the scenario's model (none: the existing services as they are) and measure the result."""
    work = _existing(s, context)
    if s.model == "none":
        return _measure(work, _Placed(work.ex_near, None, pd.DataFrame(), covering_timetable(pd.DataFrame(), None),
                                      None))  # fmt: skip
    cset = context.services[s.candidate_set]
    work.inputs += cset.sources
    if cset.incomplete:
        work.notes.append(cset.completeness_note)
    cand = select_candidates(s, cset.points)
    if cand.empty:
        raise ConfigError("no candidate venue is left after the selection", path=s.path, column="candidates")
    limit = max(30.0, 2 * s.threshold_min)
    cost = time_matrix(context.net, context.snapped, np.c_[cand.geometry.x, cand.geometry.y], speed_kmh=s.speed_kmh,
                       limit_min=limit)  # fmt: skip
    dem = context.demand
    groups = np.where(dem["priority"].to_numpy(), dem["mdrc"].fillna(-1).to_numpy(), -1).astype(int)
    placed = _capacitated(work, cand, cost, groups, curve) if s.capacitated else _covering(work, cand, cost, groups)
    return _measure(work, placed)


def _gap_note(result: object) -> str:
    """Say how far a solution that is not proven optimal may be from the best (its status in words, its gap)."""
    return f"oplossing: {label('status_' + result.status)}; gat tot de grens {100 * (result.gap or 0):.2f} %"


def _k(s: Scenario, n_cand: int) -> int:
    if s.k is not None and s.k > n_cand:
        raise ModelError(f"k={s.k} is larger than the number of candidate venues ({n_cand}) left by the selection",
                         path=s.path, column="siting.k")  # fmt: skip
    return int(s.k)


def _covering_model(work: _Work, cand: pd.DataFrame, cost: np.ndarray, groups: np.ndarray) -> object:
    """Build the reach-only model the scenario names (mclp, p_median, lscp or rotation)."""
    s, thr, w, ex_col = work.s, work.s.threshold_min, work.weights, work.ex_near[:, None]
    if s.model == "mclp":
        return MaximalCovering.from_cost_matrix(cost, thr, w, k=_k(s, len(cand)), existing=ex_col)
    if s.model == "p_median":
        return PMedian.from_cost_matrix(cost, thr, w, k=_k(s, len(cand)), existing=ex_col)
    if s.model == "lscp":
        if s.target == "share":
            return SetCovering.from_cost_matrix(cost, thr, w, share=s.share, existing=ex_col)
        return SetCovering.from_cost_matrix(cost, thr, w, groups=groups, group_share=s.priority_share, existing=ex_col)
    dem = work.context.demand
    prio_lgn = sorted(set(dem.loc[dem["priority"], "lgn"].dropna().astype(int))) if s.balance_lgn else []
    if s.every_lgn:
        prio_lgn = sorted(set(cand["lgn"].astype(int)) & set(dem["lgn"].dropna().astype(int)))
    return Rotation.from_cost_matrix(cost, thr, w, teams=s.teams, sessions=s.sessions_per_team, groups=groups,
                                     group_share=s.priority_share, site_region=cand["lgn"].to_numpy(),
                                     regions_required=prio_lgn, existing=ex_col)  # fmt: skip


def _covering(work: _Work, cand: pd.DataFrame, cost: np.ndarray, groups: np.ndarray) -> _Placed:
    """Solve a reach-only model, then serve demand from its sites' sessions within their capacity.

    A new fixed site holds ``sessions_per_site`` staffed sessions a week (a reach-only rotation: the sessions it
    placed), so every scenario is measured in the same consultations and sessions.
    """
    s = work.s
    result = _covering_model(work, cand, cost, groups).solve(time_limit=s.time_limit_s)
    notes = list(result.notes) + ([_gap_note(result)] if result.status != "optimal" else [])
    chosen = list(result.chosen)
    sessions = np.array(result.sessions if result.sessions else [s.sessions_per_site] * len(chosen), dtype=float)
    service = None
    if chosen:
        service = serve_sessions(cost[:, chosen], s.threshold_min, work.consultations, sessions,
                                 capacity=s.session_capacity, value=consultation_value(work.weights, work.children),
                                 existing=work.ex_near[:, None], time_limit=s.time_limit_s)  # fmt: skip
    sites = covering_sites(cand, result, work.children, work.weights, s.threshold_min, work.ex_near, cost)
    if len(sites):
        sites = with_site_service(sites, sessions, service)
    teams = int(s.teams or 0) if s.model == "rotation" else 0
    return _Placed(result.nearest, service, sites, covering_timetable(cand, result), result, teams, notes=notes)


def _named_groups(res: CapacityResult, ranking: pd.DataFrame) -> CapacityResult:
    """Name the priority wijken in the solver's notes ('groep 62:' -> 'prioritaire wijk 62 (Machtens):')."""
    names = ranking.set_index("mdrc")["name_nl"] if "name_nl" in ranking.columns else {}

    def name(m: re.Match) -> str:
        return f"prioritaire wijk {m.group(1)} ({names.get(int(m.group(1)), '?')}):"

    return dataclasses.replace(res, notes=tuple(re.sub(r"^groep (\d+):", name, n) for n in res.notes))


def _capacitated(work: _Work, cand: pd.DataFrame, cost: np.ndarray, groups: np.ndarray, full: bool = True) -> _Placed:
    """Solve a capacitated model; a rotation is the point of its team count on its teams curve.

    Not ``full``: a rotation's own solve only, its teams needed searched from the capacity bound (see
    :func:`evaluate`).
    """
    s, context = work.s, work.context
    sectors = None if context.need is None else context.need.sectors
    inst = CapacityInstance.build(s, context.demand, cand, cost, weights=work.weights, groups=groups,
                                  ex_near=work.ex_near, sectors=sectors)  # fmt: skip
    curve = needed = by_share = None
    notes: list[str] = [
        f"LGN {r} ({LGN.get(r, ('?',))[0]}) krijgt geen sessie: de kandidatenselectie laat er geen locatie over"
        for r in inst.regions_without_venue
    ]
    if s.model == "capacitated_rotation":
        if full:
            points = rotation_points(s, inst, context)
            res, floors = points[int(s.teams)]
            res = capacity_model(s, int(s.teams), inst, floors=floors).with_timetable(res, s.curve_time_limit_s)
        else:
            res, floors = own_point(s, inst)
        if not floors and s.priority_served_share > 0:
            notes.append("de ondergrens per prioritaire wijk kan met zoveel teams niet gehaald worden: zonder opgelost")
        if quick(s):
            notes.append(QUICK_NOTE)
        elif full:
            curve, needed, by_share = _curve(s, inst, points, context)
        else:
            needed = search_teams_needed(s, inst, res)
        if needed is not None and needed["teams"] is None:
            notes.append(f"meer dan {needed['max_teams']} teams nodig voor {needed['target_share']:.0%} van de "
                         f"verwachte consultaties in de prioritaire wijken")  # fmt: skip
    else:
        with stage(f"{s.name}: oplossen met capaciteit ({s.k} sessies)"):
            res = solve_capacitated(s, 1, inst, time_limit=s.time_limit_s, rel_gap=s.mip_gap, node_limit=s.node_limit)
    res = _named_groups(res, context.ranking)
    if res.status not in ("optimal",):
        notes.append(_gap_note(res))
    held = res.sessions > 0
    nearest = np.minimum(work.ex_near, cost[:, held].min(axis=1)) if held.any() else work.ex_near.copy()
    sites = capacitated_sites(cand, res, inst, s.threshold_min, work.children)
    teams = int(s.teams) if s.model == "capacitated_rotation" else 0
    return _Placed(nearest, res, sites, capacitated_timetable(s, cand, res), res, teams, curve, needed, by_share,
                   list(res.notes) + notes)  # fmt: skip


def _curve(
    s: Scenario, inst: CapacityInstance, points: dict, context: SitingContext
) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame]:
    """Return a rotation's teams curve, its teams needed and the teams needed per Dutch-speaking share."""
    curve = teams_curve(s, inst, points).assign(scenario=s.name)
    needed = teams_needed(s, curve, inst)
    key = curve_key(s) + "|dutch_share"
    if key not in context.curves:
        with stage(f"{s.name}: teams nodig bij 30-100 % Nederlandstalig"):
            context.curves[key] = teams_by_dutch_share(s, inst, needed)
    return curve, needed, context.curves[key]


def _cost_measures(placed: _Placed, served_new: float) -> dict[str, Any]:
    """Return the new supply's cost in sessions, what a session serves, and where the sessions are."""
    sites = placed.sites
    sessions = int(sites["sessions_per_week"].sum()) if len(sites) else 0
    dutch = None
    if sessions:
        is_dutch = sites["dutch_speaking"].map(lambda x: x is True) if "dutch_speaking" in sites else False
        dutch = float((sites["sessions_per_week"] * is_dutch).sum() / sessions)
    peak = float(sites["utilisation"].max()) if len(sites) and "utilisation" in sites else None
    needed = placed.needed or {}
    return {
        "new_sites": int(len(sites)),
        "teams": placed.teams,
        "sessions_per_week": sessions,
        "consultations_per_session": served_new / sessions if sessions else None,
        "dutch_session_share": dutch,
        "peak_utilisation_share": peak,
        "teams_needed": needed.get("teams"),
        "teams_target_share": needed.get("target_share"),
    }


def _measure(work: _Work, placed: _Placed) -> ScenarioResult:
    """Measure reach, service under capacity and cost, the same way for every model (:mod:`.measures`)."""
    s, dem = work.s, work.context.demand
    existing_cov = work.ex_near <= s.threshold_min
    columns = service_columns(work.consultations, work.rate, existing_cov, placed.service)
    points = dem[["cd_sector", "mdrc", "lgn"]].assign(children=work.children, weight=work.weights,
                                                      minutes=placed.nearest,
                                                      within_threshold=placed.nearest <= s.threshold_min,
                                                      **columns)  # fmt: skip
    summary: dict[str, Any] = {"scenario": s.name, "title": s.label, "model": s.model, "demand": s.demand}
    summary.update(reach_measures(s, points, dem))
    summary.update(service_measures(s, points, dem))
    summary.update(_cost_measures(placed, float(points["consultations_served_new"].sum())))
    sol = placed.solution
    # the solver's seconds are not a figure of the scenario (they vary by machine): manifest_run.json has them
    summary.update(status="-" if sol is None else sol.status, solver_gap=None if sol is None else sol.gap)
    notes = work.notes + placed.notes + capacity_notes(s) + _need_notes(work.context)
    return ScenarioResult(s, placed.sites, placed.timetable, points, summary, lgn_measures(s, points, placed.sites),
                          sol, tuple(dict.fromkeys(notes)), tuple(dict.fromkeys(work.inputs)), curve=placed.curve,
                          teams_needed=placed.needed, by_dutch_share=placed.by_dutch_share,
                          assumptions=tuple(assumptions(s)))  # fmt: skip


def _need_notes(context: SitingContext) -> list[str]:
    return list(context.need.notes) if context.need is not None else [_CHILDREN_NOTE]
