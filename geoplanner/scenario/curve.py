"""The teams curve of a capacitated rotation, and the fewest teams that serve the target."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from geoplanner.core.progress import stage
from geoplanner.scenario.capacity import CapacityInstance, served_figures, solve_capacitated
from geoplanner.scenario.context import SitingContext
from geoplanner.scenario.spec import Scenario

__all__ = ["teams_curve"]


def teams_curve(s: Scenario, inst: CapacityInstance, context: SitingContext | None = None) -> tuple[pd.DataFrame, dict]:
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
    if context is not None and key in context.curves:
        return context.curves[key]
    with stage(f"{s.name}: teamscurve 1-{s.curve_max_teams} teams"):
        curve, needed = _teams_curve(s, inst, key)
    if context is not None:
        context.curves[key] = (curve, needed)
    return curve, needed


def _teams_curve(s: Scenario, inst: CapacityInstance, key: str) -> tuple[pd.DataFrame, dict]:
    rows = []
    for t in range(1, s.curve_max_teams + 1):
        # The curve reads only the served figures: no timetable (its own MILP, ~0.5-1 s a point). A
        # greedy rotation already within the 1 % of the LP bound is kept (most points up to 7 teams).
        res = solve_capacitated(
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
                **served_figures(inst, res),
                "status": res.status,
                "gap_share": res.gap,
            }
        )
    curve = pd.DataFrame(rows)
    d, prio = inst.demand, inst.priority
    target = s.curve_target_share * d[prio].sum()
    still = target - d[prio & inst.existing_cov].sum()
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
        needed.update(teams=0, served_share=float(d[prio & inst.existing_cov].sum() / d[prio].sum()), status="existing")
    value = np.where(prio, 1.0, 0.0)
    for t in range(max(lower, 1), s.curve_max_teams + 1) if lower else ():
        res = solve_capacitated(
            s, t, inst, time_limit=s.curve_time_limit_s, rel_gap=0.005, value=value, floors=False, timetable=False
        )
        share = served_figures(inst, res)["share_priority_served"]
        if share >= s.curve_target_share - 1e-9:
            needed.update(
                teams=t, served_share=share, status="proven" if t == lower or res.status == "optimal" else "found"
            )
            break
    return curve, needed
