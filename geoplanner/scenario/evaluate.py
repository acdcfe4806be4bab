"""Evaluate a scenario in a context: ``evaluate(spec, context) -> ScenarioResult``, the one entry for every front end.

The command line, the main job and any other front end evaluate scenarios only through :func:`evaluate`;
renderers (CSV, workbook, report, maps) take its results and never solve. A solution is reused from
:mod:`geoplanner.cache` when nothing that shapes it changed (:func:`geoplanner.scenario.keys.solution_key`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geoplanner import cache
from geoplanner.access.times import nearest_service_times, time_matrix
from geoplanner.core.errors import ConfigError, ModelError
from geoplanner.core.progress import stage
from geoplanner.inputs.lgn import lgn_of_commune
from geoplanner.inputs.venues import dutch_speaking, suitability
from geoplanner.scenario.capacity import CapacityInstance, capacity_notes, served_figures, solve_capacitated
from geoplanner.scenario.context import SitingContext, demand_weights
from geoplanner.scenario.curve import teams_curve
from geoplanner.scenario.keys import solution_key
from geoplanner.scenario.result import ScenarioResult
from geoplanner.scenario.spec import Scenario
from geoplanner.scenario.tables import (
    capacitated_sites,
    capacitated_timetable,
    coverage_summary,
    covering_sites,
    covering_timetable,
)
from geoplanner.siting import MaximalCovering, PMedian, Rotation, SetCovering

__all__ = ["evaluate", "select_candidates"]

#: Said of every result when the need model's notes are not at hand.
_CHILDREN_NOTE = "kinderen 0-2 jaar per sector zijn geschat (geen publieke cijfers onder gemeenteniveau)"


def evaluate(scenario: Scenario, context: SitingContext) -> ScenarioResult:
    """Evaluate a scenario: build the time matrices, solve its model, measure coverage.

    Parameters
    ----------
    scenario
        A validated scenario.
    context
        The shared context (:func:`geoplanner.scenario.context.make_context`).

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
    if cache.enabled(context.cache):
        key = solution_key(scenario, context)
        stored = cache.load(key)
        if stored is not None:
            # the current Scenario object and the files of this context (the path of either may differ: the
            # key holds their content, never where they lie)
            return dataclasses.replace(stored, scenario=scenario, inputs=_inputs(scenario, context),
                                       cache={"key": key, "hit": True})  # fmt: skip
    try:
        result = _solve(scenario, context)
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
    notes: list[str]
    inputs: list


def _existing(s: Scenario, context: SitingContext) -> _Work:
    """Open the scenario's existing services (minus those it closes) and time every home to the nearest."""
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
    return _Work(s, context, demand_weights(s, dem), dem["weight"].to_numpy(dtype=float), ex_near, notes, inputs)


def _solve(s: Scenario, context: SitingContext) -> ScenarioResult:
    """Solve the scenario's model (none: the existing services as they are) and measure the result."""
    work = _existing(s, context)
    if s.model == "none":
        return _reach_result(work, work.ex_near, None, pd.DataFrame(), covering_timetable(pd.DataFrame(), None))
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
    if s.capacitated:
        return _capacitated_result(work, cand, cost, groups)
    result = _covering_model(work, cand, cost, groups).solve(time_limit=s.time_limit_s)
    work.notes += list(result.notes)
    if result.status != "optimal":
        work.notes.append(_gap_note(result))
    sites = covering_sites(cand, result, work.children, work.weights, s.threshold_min, work.ex_near, cost)
    return _reach_result(work, result.nearest, result, sites, covering_timetable(cand, result))


def _gap_note(result: object) -> str:
    return f"oplossing niet bewezen optimaal ({result.status}); gat tot de grens {100 * (result.gap or 0):.2f} %"


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
    return Rotation.from_cost_matrix(cost, thr, w, teams=s.teams, sessions=s.sessions_per_team, groups=groups,
                                     group_share=s.priority_share, site_region=cand["lgn"].to_numpy(),
                                     regions_required=prio_lgn, existing=ex_col)  # fmt: skip


def _need_notes(context: SitingContext) -> list[str]:
    return list(context.need.notes) if context.need is not None else [_CHILDREN_NOTE]


def _reach_result(work: _Work, nearest: np.ndarray, result: object | None, sites: pd.DataFrame,
                  timetable: pd.DataFrame) -> ScenarioResult:  # fmt: skip
    """Measure a reach-only solution (or the existing services alone) and make its result."""
    s, dem = work.s, work.context.demand
    points = dem[["cd_sector", "mdrc", "lgn"]].assign(children=work.children, weight=work.weights, minutes=nearest,
                                                      covered=nearest <= s.threshold_min)  # fmt: skip
    summary, per_lgn = coverage_summary(s, points, dem)
    summary["n_new_sites"] = len(sites)
    summary["status"] = "-" if result is None else result.status
    summary["solve_s"] = None if result is None else round(result.seconds, 3)
    notes = work.notes + _need_notes(work.context)
    return ScenarioResult(s, sites, timetable, points, summary, per_lgn, result, tuple(dict.fromkeys(notes)),
                          tuple(dict.fromkeys(work.inputs)))  # fmt: skip


def _named_groups(res: object, ranking: pd.DataFrame) -> object:
    """Name the priority wijken in the solver's notes ('groep 62:' -> 'prioritaire wijk 62 (Machtens):')."""
    names = ranking.set_index("mdrc")["name_nl"] if "name_nl" in ranking.columns else {}

    def name(m: re.Match) -> str:
        return f"prioritaire wijk {m.group(1)} ({names.get(int(m.group(1)), '?')}):"

    return dataclasses.replace(res, notes=tuple(re.sub(r"^groep (\d+):", name, n) for n in res.notes))


def _served_points(inst: CapacityInstance, res: object) -> dict[str, np.ndarray]:
    """Per demand point: consultations asked, served by existing bureaus and new sessions, unserved and why."""
    d, rate = inst.demand, inst.rate
    served = np.where(res.existing, d, res.served)
    return {
        "consultations": d,
        "consultations_per_child": rate,
        "served_existing": np.where(res.existing, d, 0.0),
        "served_new": res.served,
        "unserved_distance": np.where(res.existing | res.in_reach, 0.0, d),
        "unserved_capacity": np.maximum(np.where(res.in_reach & ~res.existing, d - res.served, 0.0), 0.0),
        "children_served": served / np.where(rate > 0, rate, 1.0),
    }


def _capacity_summary(inst: CapacityInstance, res: object, columns: dict, children: np.ndarray) -> dict:
    """Return the figures of a capacitated solution: served, unserved by distance and by capacity, sessions."""
    figures = served_figures(inst, res)
    held = res.sessions > 0
    peak = float((res.load[held] / (res.capacity[held] * res.sessions[held])).max()) if held.any() else None
    return {
        "children_in_reach": float(children[res.existing | res.in_reach].sum()),
        "children_covered": figures["children_served"],
        "share_covered": figures["children_served"] / children.sum(),
        "deprivation_weighted_share": figures["share_deprivation_served"],
        "consultations_demand": float(inst.demand.sum()),
        "consultations_served": figures["consultations_served"],
        "share_consultations_served": figures["share_consultations_served"],
        "share_priority_served": figures["share_priority_served"],
        "unserved_distance": float(columns["unserved_distance"].sum()),
        "unserved_capacity": float(columns["unserved_capacity"].sum()),
        "sessions_per_week": int(held.sum()),
        "peak_utilisation_share": peak,
        "solver_gap": res.gap,
    }


def _capacitated_result(work: _Work, cand: pd.DataFrame, cost: np.ndarray, groups: np.ndarray) -> ScenarioResult:
    """Solve a capacitated scenario and measure it (consultations served within capacity)."""
    s, context, dem = work.s, work.context, work.context.demand
    sectors = None if context.need is None else context.need.sectors
    inst = CapacityInstance.build(s, dem, cand, cost, weights=work.weights, groups=groups, ex_near=work.ex_near,
                                  sectors=sectors)  # fmt: skip
    teams = int(s.teams) if s.model == "capacitated_rotation" else 1
    with stage(f"{s.name}: oplossen met capaciteit ({teams} team{'s' if teams > 1 else ''})"):
        res = solve_capacitated(s, teams, inst, time_limit=s.time_limit_s, rel_gap=s.mip_gap)
    notes = capacity_notes(s)
    if sectors is None or not {"cd_sector", "births", "pop_0_2"} <= set(sectors.columns):
        notes.append("aanname: geen geboorten per sector beschikbaar, elke leeftijd (0, 1, 2) telt voor een derde")
    res = _named_groups(res, context.ranking)
    if res.status not in ("optimal",):
        notes.append(_gap_note(res))
    held = res.sessions > 0
    nearest = np.minimum(work.ex_near, cost[:, held].min(axis=1)) if held.any() else work.ex_near.copy()
    columns = _served_points(inst, res)
    summary = _capacity_summary(inst, res, columns, work.children)
    curve = needed = None
    if s.model == "capacitated_rotation":
        curve, needed = teams_curve(s, inst, context)
        curve = curve.assign(scenario=s.name)
        summary["teams_needed"] = needed["teams"]
        summary["teams_target_share"] = needed["target_share"]
        if needed["teams"] is None:
            notes.append(f"meer dan {needed['max_teams']} teams nodig voor {needed['target_share']:.0%} van de "
                         f"verwachte consultaties in de prioritaire wijken")  # fmt: skip
    points = dem[["cd_sector", "mdrc", "lgn"]].assign(children=work.children, weight=work.weights, minutes=nearest,
                                                      covered=nearest <= s.threshold_min, **columns)  # fmt: skip
    reach, per_lgn = coverage_summary(s, points, dem)
    reach.update(summary)
    # per LGN too: children served within capacity, not within walking distance
    served_lgn = points.groupby("lgn")["children_served"].sum()
    per_lgn["children_covered"] = per_lgn["lgn"].map(served_lgn).fillna(0.0).to_numpy()
    per_lgn["share_covered"] = per_lgn["children_covered"] / per_lgn["children"]
    reach.update(n_new_sites=int(held.sum()), status=res.status, solve_s=round(res.seconds, 3))
    all_notes = work.notes + list(res.notes) + notes + _need_notes(context)
    sites = capacitated_sites(cand, res, inst, s.threshold_min, work.children)
    return ScenarioResult(s, sites, capacitated_timetable(s, cand, res), points, reach, per_lgn, res,
                          tuple(dict.fromkeys(all_notes)), tuple(dict.fromkeys(work.inputs)), curve=curve,
                          teams_needed=needed)  # fmt: skip
