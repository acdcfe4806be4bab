"""The outcome of one scenario, and the tables made from it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from geoplanner.scenario.spec import Scenario

__all__ = ["ScenarioResult", "solution_record"]


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


def solution_record(result: ScenarioResult) -> dict[str, Any]:
    """Return what a manifest records of the solution's origin (see :mod:`geoplanner.cache`)."""
    if result.cache is None:
        return {"used": False, "hit": False, "key": None}
    return {"used": True, "hit": bool(result.cache.get("hit")), "key": result.cache.get("key")}
