"""Tables made from a solved scenario: chosen sites, the timetable, coverage per point, LGN and wijk.

Pure functions of the solution: the evaluation builds a :class:`~geoplanner.scenario.result.ScenarioResult`
with them, and the CSVs, the workbook, the report and the maps show what they return.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from geoplanner.scenario.capacity import CapacityInstance
from geoplanner.scenario.spec import Scenario

__all__ = [
    "TIMETABLE_COLUMNS",
    "covering_sites",
    "covering_timetable",
    "capacitated_sites",
    "capacitated_timetable",
    "with_site_service",
]

#: Columns of a capacitated rotation's timetable, in order.
TIMETABLE_COLUMNS = ["team", "dag", "dagdeel", "venue_id", "venue_name", "lgn", "type", "suitability", "dutch_speaking",
                     "capacity", "expected_attendance", "utilisation"]  # fmt: skip


def _venue(cand: pd.DataFrame, j: int, *columns: str) -> dict[str, Any]:
    """Return the place and identity of candidate venue ``j``, with the extra ``columns`` asked for."""
    row = {"id": cand["id"].iloc[j], "name": cand["name"].iloc[j], "type": cand["type"].iloc[j]}
    row.update({c: cand[c].iloc[j] for c in columns})
    row.update(
        commune_nis=cand["commune_nis"].iloc[j],
        lgn=int(cand["lgn"].iloc[j]),
        x=float(cand.geometry.x.iloc[j]),
        y=float(cand.geometry.y.iloc[j]),
        approximate=bool(cand["approximate"].iloc[j]),
    )
    return row


def _cumulative(sites: pd.DataFrame, total_children: float) -> pd.DataFrame:
    if len(sites):
        sites["cumulative_children"] = sites["marginal_children"].cumsum()
        sites["cumulative_share"] = sites["cumulative_children"] / total_children
    return sites


def covering_sites(cand: pd.DataFrame, result: Any, children: np.ndarray, w: np.ndarray, thr: float,
                   ex_near: np.ndarray, cost: np.ndarray) -> pd.DataFrame:  # fmt: skip
    """Return the chosen venues in the order chosen, with the children (and weighted demand) each adds."""
    covered = ex_near <= thr
    rows = []
    for rank, j in enumerate(result.chosen, start=1):
        reach = (cost[:, j] <= thr) & ~covered
        rows.append({"rank": rank, **_venue(cand, j), "marginal_children": float(children[reach].sum()),
                     "marginal_demand": float(w[reach].sum())})  # fmt: skip
        covered = covered | reach
    out = _cumulative(pd.DataFrame(rows), children.sum())
    if len(out) and result.sessions:
        out["sessions_per_week"] = list(result.sessions)
    return out


def covering_timetable(cand: pd.DataFrame, result: Any | None) -> pd.DataFrame:
    """Return a reach-only rotation's timetable: team, dag, dagdeel, venue (empty for other models and none)."""
    if result is None or not result.timetable:
        return pd.DataFrame(columns=["team", "dag", "dagdeel", "venue_id", "venue_name", "lgn"])
    return pd.DataFrame(
        [
            {
                "team": r.team,
                "dag": r.day,
                "dagdeel": r.dagdeel,
                "venue_id": cand["id"].iloc[r.site],
                "venue_name": cand["name"].iloc[r.site],
                "lgn": int(cand["lgn"].iloc[r.site]),
            }  # fmt: skip
            for r in result.timetable
        ]
    )


def capacitated_sites(cand: pd.DataFrame, res: Any, inst: CapacityInstance, thr: float,
                      children: np.ndarray) -> pd.DataFrame:  # fmt: skip
    """Return the venues holding sessions, busiest first, with sessions, capacity, load and utilisation.

    A venue's children ≈ its consultations / the mean consultations per child in its reach.
    """
    d, rate = inst.demand, inst.rate
    rows = []
    for rank, j in enumerate(res.chosen, start=1):
        reach = inst.cost[:, j] <= thr
        per_child = float(np.average(rate[reach], weights=d[reach])) if d[reach].sum() > 0 else float(rate.mean())
        places = float(res.capacity[j] * res.sessions[j])
        rows.append(
            {
                "rank": rank,
                **_venue(cand, j, "suitability", "dutch_speaking"),
                "sessions_per_week": int(res.sessions[j]),
                "capacity_per_year": places,
                "consultations_per_year": float(res.load[j]),
                "utilisation": float(res.load[j] / places),
                "marginal_children": float(res.load[j] / per_child),
                "marginal_demand": float(res.load[j]),
            }  # fmt: skip
        )
    return _cumulative(pd.DataFrame(rows), children.sum())


def capacitated_timetable(s: Scenario, cand: pd.DataFrame, res: Any) -> pd.DataFrame:
    """Return a capacitated rotation's timetable: one row per session, its expected attendance and utilisation."""
    rows = []
    for team, day, part, j in res.timetable:
        per_week = res.load[j] / s.weeks_per_year / res.sessions[j]
        rows.append(
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
            }  # fmt: skip
        )
    return pd.DataFrame(rows, columns=TIMETABLE_COLUMNS)


def with_site_service(sites: pd.DataFrame, sessions: np.ndarray, service: Any | None) -> pd.DataFrame:
    """Add to fixed sites (in the order chosen) their sessions a week, places, consultations served and utilisation."""
    out = sites.copy()
    out["sessions_per_week"] = np.asarray(sessions, dtype=int)
    if service is None:
        return out
    chosen = np.flatnonzero(np.asarray(service.sessions) > 0)
    load = np.asarray(service.load)[chosen]
    places = np.asarray(service.capacity)[chosen] * np.asarray(service.sessions)[chosen]
    out["capacity_per_year"] = places
    out["consultations_per_year"] = load
    out["utilisation"] = np.divide(load, places, out=np.zeros_like(load), where=places > 0)
    return out
