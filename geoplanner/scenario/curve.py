"""The teams curve of a capacitated rotation: what 1, 2, … teams serve, and the fewest teams that meet the target.

Every point is the scenario itself with another number of teams — its demand weighting, LGN rule, sessions a
day, candidates and capacity, but not its per-wijk floor (which few teams cannot always meet) — solved within
``[curve] time_limit_s`` and the scenario's ``mip_gap`` (a greedy rotation already within that gap of the LP
bound is kept). The scenario's own solution, floor included, *is* the point of its team count (``floors`` True,
``scenario_solution`` True): the same figures everywhere. When the floor cannot be met, the scenario is solved
without it and says so.

*Teams needed* is read off the drawn curve: the first point whose share of the priority wijken's expected
consultations served (known bureaus included) reaches ``[curve] target_share``. How it moves with the share of
families for a Dutch-speaking bureau (``demand.dutch_share``) is :func:`teams_by_dutch_share`.

``[curve] max_teams = 0`` is the *quick* evaluation (an editor's what-if): only the scenario's own point is
solved — no other point, no teams needed, no Dutch-share table (:func:`quick`).
"""

from __future__ import annotations

import contextvars
import dataclasses
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from geoplanner.core.errors import ModelError
from geoplanner.core.progress import stage
from geoplanner.scenario.capacity import CapacityInstance, served_figures, solve_capacitated
from geoplanner.scenario.context import SitingContext
from geoplanner.scenario.spec import SWEEP_FIELDS, Scenario
from geoplanner.siting import CapacityResult

__all__ = [
    "DUTCH_SHARES",
    "curve_key",
    "curve_top",
    "rotation_points",
    "teams_curve",
    "capacity_bound",
    "teams_needed",
    "own_point",
    "search_teams_needed",
    "teams_by_dutch_share",
    "quick",
    "QUICK_NOTE",
]

#: Shares of families for a Dutch-speaking bureau the report shows teams needed for (the Brussels norm to all).
DUTCH_SHARES = (0.3, 0.5, 0.75, 1.0)


#: Said of a quick evaluation (``[curve] max_teams = 0``): why it has no teams curve and no teams needed.
QUICK_NOTE = (
    "snelle berekening ([curve] max_teams = 0): alleen dit aantal teams is opgelost, zonder teamscurve; "
    "hoeveel teams nodig zijn is niet berekend"
)


def quick(s: Scenario) -> bool:
    """Tell whether a scenario asks for its own point only (``[curve] max_teams = 0``): no curve, no teams needed."""
    return s.curve_max_teams == 0


def curve_top(s: Scenario) -> int:
    """Return the curve's last number of teams: ``[curve] max_teams``, or the scenario's own teams when more."""
    return max(s.curve_max_teams, int(s.teams or 1))


def curve_key(s: Scenario) -> str:
    """Return what a curve depends on: every parameter of the scenario but its name, description, teams and sweep."""
    skip = {"name", "title", "description", "path", "teams", *SWEEP_FIELDS}
    return repr(sorted((k, v) for k, v in s.parameters().items() if k not in skip))


def _point(s: Scenario, t: int, inst: CapacityInstance, *, floors: bool = False) -> tuple[CapacityResult, bool]:
    """Solve the rotation with ``t`` teams like the scenario (with its per-wijk floor when asked and possible)."""
    kw = {"time_limit": s.curve_time_limit_s, "rel_gap": s.mip_gap, "timetable": False,
          "greedy_within_gap": s.mip_gap > 0, "node_limit": s.node_limit}  # fmt: skip
    if floors:
        try:
            return solve_capacitated(s, t, inst, floors=True, **kw), True
        except ModelError:
            pass
    return solve_capacitated(s, t, inst, floors=False, **kw), False


def rotation_points(
    s: Scenario, inst: CapacityInstance, context: SitingContext | None = None
) -> dict[int, tuple[CapacityResult, bool]]:
    """Return the solution (and whether the floor held) for 1 to ``max(curve.max_teams, teams)`` teams.

    The point of the scenario's own team count is the scenario (its per-wijk floor included); the others are
    solved without the floor. Scenarios that differ only in their number of teams share the other points (kept in
    ``context.curves``). A quick scenario (:func:`quick`) returns its own point only.
    """
    key = curve_key(s)
    memo = context.curves.setdefault(key, {}) if context is not None else {}
    own = int(s.teams or 1)
    top = curve_top(s)
    todo = [] if quick(s) else [t for t in range(1, top + 1) if t != own and t not in memo]
    if todo:
        with stage(f"{s.name}: teamscurve {todo[0]}-{todo[-1]} teams"):
            _solve_points(s, inst, todo, memo)
    with stage(f"{s.name}: oplossen met capaciteit ({own} team{'s' if own > 1 else ''})"):
        mine = _point(s, own, inst, floors=True)
    if quick(s):
        return {own: mine}
    return {t: mine if t == own else memo[t] for t in range(1, top + 1)}


#: Points of a curve solved at once. HiGHS releases the GIL, so two solves use two cores (1.5x faster on 2 cores);
#: each point is solved on its own, so the answer does not depend on the order or the number of threads.
CURVE_THREADS = max(1, min(2, os.cpu_count() or 1))


def _labelled_point(s: Scenario, t: int, inst: CapacityInstance) -> tuple[CapacityResult, bool]:
    with stage(f"{s.name}: {t} team{'s' if t > 1 else ''}"):  # one step per point (progress, cancel)
        return _point(s, t, inst)


def _solve_points(s: Scenario, inst: CapacityInstance, teams: Sequence[int], memo: dict) -> None:
    """Solve the curve's points for ``teams`` into ``memo``, :data:`CURVE_THREADS` at a time, in order.

    Each point runs in a copy of the caller's context, so its step reaches the caller's progress reporter (which
    may stop the curve: the points not yet started are dropped, those running finish, the finished are kept).
    """
    if CURVE_THREADS == 1 or len(teams) == 1:
        for t in teams:
            memo[t] = _labelled_point(s, t, inst)
        return
    pool = ThreadPoolExecutor(CURVE_THREADS, thread_name_prefix="geoplanner-curve")
    try:
        futures = [(t, pool.submit(contextvars.copy_context().run, _labelled_point, s, t, inst)) for t in teams]
        for t, future in futures:
            memo[t] = future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def own_point(s: Scenario, inst: CapacityInstance) -> tuple[CapacityResult, bool]:
    """Return the scenario's own solution (its per-wijk floor when it can be met) and whether the floor held.

    The same solve as the point of the scenario's team count in :func:`rotation_points`, without its timetable.
    """
    return _point(s, int(s.teams or 1), inst, floors=True)


def teams_curve(s: Scenario, inst: CapacityInstance, points: dict[int, tuple[CapacityResult, bool]]) -> pd.DataFrame:
    """Return the curve as a table: per number of teams, the sessions and what they serve.

    Columns: ``teams``, ``sessions_per_week``, ``consultations_served``, ``share_consultations_served``,
    ``children_served``, ``share_priority_served``, ``share_deprivation_served``, ``floors`` (the per-wijk floor
    held), ``status``, ``gap_share`` (to the bound), ``scenario_solution`` (the scenario's own team count).
    """
    rows = []
    for t, (res, floors) in points.items():
        rows.append({"teams": t, "sessions_per_week": int((res.sessions > 0).sum()), **served_figures(inst, res),
                     "floors": floors, "status": res.status, "gap_share": res.gap,
                     "scenario_solution": t == s.teams})  # fmt: skip
    return pd.DataFrame(rows)


def capacity_bound(s: Scenario, inst: CapacityInstance) -> int:
    """Return the fewest teams capacity alone allows for the target (0 when the known bureaus already meet it)."""
    d, prio = inst.demand, inst.priority
    still = s.curve_target_share * d[prio].sum() - d[prio & inst.existing_cov].sum()
    return max(1, math.ceil(still / (s.sessions_per_team * s.session_capacity))) if still > 0 else 0


def teams_needed(s: Scenario, curve: pd.DataFrame, inst: CapacityInstance) -> dict[str, Any]:
    """Return the fewest teams on the curve that meet the target (None when no point does), and the basis.

    ``lower_bound`` is what capacity alone allows: the consultations still needed after the known bureaus, over
    the places of one team's week.
    """
    lower = capacity_bound(s, inst)
    met = curve[curve["share_priority_served"] >= s.curve_target_share - 1e-9]
    first = met.iloc[0] if len(met) else None
    return {
        "target_share": s.curve_target_share,
        "teams": None if first is None else int(first["teams"]),
        "served_share": None if first is None else float(first["share_priority_served"]),
        "lower_bound": lower,
        "status": "existing" if lower == 0 else ("reached" if first is not None else "not_reached"),
        "max_teams": int(curve["teams"].max()),
    }


def _first_meeting(
    s: Scenario, inst: CapacityInstance, teams: range, known: dict[int, CapacityResult] | None = None
) -> tuple[int | None, float | None]:
    """Return the first number of teams in ``teams`` that meets the target, and its share served (None: none does).

    A number of teams in ``known`` takes that solution; the others are solved as the curve's points are.
    """
    for t in teams:
        res = (known or {}).get(t) or _point(s, t, inst)[0]
        share_prio = served_figures(inst, res)["share_priority_served"]
        if share_prio >= s.curve_target_share - 1e-9:
            return t, share_prio
    return None, None


def search_teams_needed(s: Scenario, inst: CapacityInstance, own: CapacityResult) -> dict[str, Any]:
    """Return the teams needed as :func:`teams_needed` reads it off the curve, solving only from the capacity bound.

    Fewer teams than :func:`capacity_bound` cannot serve the target (their places are too few), so the first point
    of the curve that meets it is the first from the bound up: one or two solves instead of the whole curve. The
    scenario's own team count takes ``own`` (its solution, floor included, as on the curve). Used by a sweep's
    draws, where the whole curve of every draw would cost ten solves.

    Returns
    -------
    dict
        The keys of :func:`teams_needed`.
    """
    lower = capacity_bound(s, inst)
    top = curve_top(s)
    found, served = _first_meeting(s, inst, range(max(1, lower), top + 1), {int(s.teams or 1): own})
    return {
        "target_share": s.curve_target_share,
        "teams": found,
        "served_share": served,
        "lower_bound": lower,
        "status": "existing" if lower == 0 else ("reached" if found is not None else "not_reached"),
        "max_teams": top,
    }


def _scaled(inst: CapacityInstance, factor: float) -> CapacityInstance:
    return dataclasses.replace(inst, demand=inst.demand * factor)


def teams_by_dutch_share(
    s: Scenario, inst: CapacityInstance, needed: dict[str, Any], shares: Sequence[float] = DUTCH_SHARES
) -> pd.DataFrame:
    """Return the teams needed when a share of families other than the scenario's would choose a Dutch-speaking bureau.

    Each share's demand is the scenario's scaled by ``share / dutch_share``; its teams needed is found as on the
    curve (the first number of teams, from the capacity bound up to ``curve.max_teams``, that meets the target);
    the scenario's own share takes ``needed``, read off its curve.

    Returns
    -------
    pandas.DataFrame
        ``dutch_share``, ``consultations_demand``, ``teams_needed`` (NaN: more than ``curve.max_teams``),
        ``share_priority_served`` at that number, ``scenario_share`` (True for the scenario's own share).
    """
    rows = []
    for share in sorted({*shares, s.dutch_share}):
        scaled = _scaled(inst, share / s.dutch_share)
        found, served = (needed["teams"], needed["served_share"]) if share == s.dutch_share else (None, None)
        if share != s.dutch_share:
            found, served = _first_meeting(s, scaled, range(max(1, capacity_bound(s, scaled)), s.curve_max_teams + 1))
        rows.append({"dutch_share": share, "consultations_demand": float(scaled.demand.sum()),
                     "teams_needed": np.nan if found is None else found, "share_priority_served": served,
                     "scenario_share": share == s.dutch_share})  # fmt: skip
    return pd.DataFrame(rows)
