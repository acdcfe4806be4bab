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
        Venues with new sessions, in the order chosen (fixed sites: by the children each adds within reach;
        sessions: busiest first): rank, id, name, type, commune, lgn, x, y, sessions a week, places, consultations
        served, utilisation, children each adds.
    timetable
        Rotation: team, dag, dagdeel, venue id, venue name, lgn (empty otherwise).
    points
        Per demand point: cd_sector, mdrc, lgn, children, weight, minutes to the nearest open site,
        ``within_threshold`` and the service columns of :data:`geoplanner.scenario.measures.POINT_SERVICE_COLUMNS`.
    summary
        Every measure of :data:`geoplanner.scenario.measures.MEASURES`, with the scenario's name, title, model,
        demand kind and the solver's status, gap and seconds.
    per_lgn
        Reach and service per LGN (:func:`geoplanner.scenario.measures.lgn_measures`).
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
    by_dutch_share
        Capacitated rotation: teams needed at 30 to 100 % of families for a Dutch-speaking bureau
        (:func:`geoplanner.scenario.curve.teams_by_dutch_share`).
    assumptions
        The parameters the figures rest on (:func:`geoplanner.scenario.capacity.assumptions`).
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
    by_dutch_share: pd.DataFrame | None = None
    assumptions: tuple[Any, ...] = ()


def solution_record(result: ScenarioResult) -> dict[str, Any]:
    """Return what a manifest records of the solution's origin (see :mod:`geoplanner.cache`)."""
    if result.cache is None:
        return {"used": False, "hit": False, "key": None}
    return {"used": True, "hit": bool(result.cache.get("hit")), "key": result.cache.get("key")}
