"""Tables made from a solved scenario: chosen sites, the timetable, coverage per point, LGN and wijk.

Pure functions of the solution: the evaluation builds a :class:`~geoplanner.scenario.result.ScenarioResult`
with them, and the CSVs, the workbook, the report and the maps show what they return.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from geoplanner.access.tables import weighted_quantile
from geoplanner.scenario.capacity import CapacityInstance
from geoplanner.scenario.spec import Scenario

__all__ = [
    "TIMETABLE_COLUMNS",
    "covering_sites",
    "covering_timetable",
    "capacitated_sites",
    "capacitated_timetable",
    "coverage_summary",
    "unserved_by_wijk",
    "wijk_table",
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


def coverage_summary(s: Scenario, points: pd.DataFrame, dem: pd.DataFrame) -> tuple[dict, pd.DataFrame]:
    """Return the walking-reach figures of a scenario, overall and per LGN.

    Parameters
    ----------
    s
        The scenario (name, model, demand kind, threshold, the share that makes a priority wijk reached).
    points
        Per demand point: children, minutes to the nearest open site, covered, mdrc, lgn.
    dem
        The context's demand points (priority, deprivation).

    Returns
    -------
    summary : dict
        children total and within the threshold, its share, the deprivation-weighted share (every scenario
        with the default proportional-universalism weights, so rows compare), priority wijken reached, mean
        and 90th-percentile minutes.
    per_lgn : pandas.DataFrame
        scenario, lgn, children, children_covered, share_covered.
    """
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
        "p90_min": float(weighted_quantile(minutes, children, 0.9)),
    }
    per_lgn = (
        points.assign(cov_children=np.where(covered, children, 0.0))
        .groupby("lgn", as_index=False)
        .agg(children=("children", "sum"), children_covered=("cov_children", "sum"))
    )
    per_lgn["share_covered"] = per_lgn["children_covered"] / per_lgn["children"]
    per_lgn.insert(0, "scenario", s.name)
    return summary, per_lgn


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


def wijk_table(points: pd.DataFrame) -> pd.DataFrame:
    """Return children and children covered per wijk (and, for a capacitated scenario, consultations)."""
    wijk = (
        points.assign(cov=np.where(points["covered"], points["children"], 0.0))
        .groupby("mdrc", as_index=False)
        .agg(children=("children", "sum"), children_covered=("cov", "sum"))
    )
    wijk["share_covered"] = wijk["children_covered"] / wijk["children"].where(wijk["children"] > 0)
    if "consultations" in points.columns:  # capacitated: served within capacity, unserved by distance vs capacity
        wijk = wijk.merge(unserved_by_wijk(points), on="mdrc", how="left")
    return wijk
