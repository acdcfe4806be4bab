"""Capacitated scenarios: demand in consultations a year, supply in session places, and one solve."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geoplanner.scenario.spec import CAPACITY_PARAMETERS, EXISTING_ASSUMPTION, Scenario
from geoplanner.siting import WEEK_SLOTS, CapacitatedCovering, CapacitatedRotation, CapacityResult

__all__ = ["consultation_demand", "capacity_notes", "CapacityInstance", "solve_capacitated", "served_figures"]


def consultation_demand(
    scenario: Scenario, demand: pd.DataFrame, sectors: pd.DataFrame | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return the consultations a year each demand point asks, and the consultations per child.

    A point's children (``weight``, aged 0-2) ask ``consultations_age0`` for the 0-year-olds and
    the mean of ``consultations_age1`` and ``consultations_age2`` for the others (ages 1 and 2
    are taken as equally many: an assumption), times ``uptake`` and ``dutch_share``. The share of
    0-year-olds is the sector's ``births / pop_0_2`` from the need model (births ≈ 0-year-olds);
    without those figures every age counts a third (an assumption, noted).

    Parameters
    ----------
    scenario
        Gives the consultation schedule, uptake and Dutch-speaking share.
    demand
        Demand points with ``weight`` (children) and ``cd_sector``.
    sectors
        The need model's sectors (``cd_sector``, ``births``, ``pop_0_2``).

    Returns
    -------
    consultations : numpy.ndarray
        Consultations a year per point (expected users only).
    per_child : numpy.ndarray
        Consultations a year per child of the point, before uptake.
    """
    c0, c1, c2 = scenario.consultations_per_child
    children = demand["weight"].to_numpy(dtype=float)
    rate = np.full(children.size, (c0 + c1 + c2) / 3.0)
    if sectors is not None and {"cd_sector", "births", "pop_0_2"} <= set(sectors.columns):
        sec = pd.DataFrame(sectors).drop_duplicates("cd_sector").set_index("cd_sector")
        b = demand["cd_sector"].map(sec["births"]).to_numpy(dtype=float)
        p = demand["cd_sector"].map(sec["pop_0_2"]).to_numpy(dtype=float)
        ok = np.isfinite(b) & np.isfinite(p) & (p > 0)
        share0 = np.clip(np.divide(b, p, out=np.zeros_like(b), where=ok), 0.0, 1.0)
        rate = np.where(ok, c0 * share0 + 0.5 * (c1 + c2) * (1.0 - share0), rate)
    return children * rate * scenario.uptake * scenario.dutch_share, rate


def capacity_notes(scenario: Scenario) -> list[str]:
    """Return the capacity parameters of a scenario with their basis, for the notes of the outputs."""
    values = {
        "demand.consultations_age0": scenario.consultations_per_child[0],
        "demand.consultations_age1": scenario.consultations_per_child[1],
        "demand.consultations_age2": scenario.consultations_per_child[2],
        "demand.uptake": scenario.uptake,
        "demand.dutch_share": scenario.dutch_share,
        "capacity.children_per_session": scenario.children_per_session,
        "capacity.weeks_per_year": scenario.weeks_per_year,
        "curve.target_share": scenario.curve_target_share,
    }
    out = []
    for key, default, basis in CAPACITY_PARAMETERS:
        x = values[key]
        out.append(f"{key} = {x:g}: " + (basis if x == default else "waarde uit het scenariobestand"))
    out.append(EXISTING_ASSUMPTION)
    return out


@dataclass(frozen=True, eq=False)
class CapacityInstance:
    """Everything a capacitated model of one scenario is solved on (one row per demand point or venue).

    Attributes
    ----------
    cost
        Minutes from each demand point (rows) to each candidate venue (columns).
    demand
        Consultations a year each point asks (:func:`consultation_demand`).
    rate
        Consultations a year per child of each point, before uptake.
    value
        Weight of a consultation served at each point (the demand kind's weight per child).
    groups
        The priority wijk (mdrc) of each point, -1 outside the priority wijken.
    priority
        Whether each point lies in a priority wijk.
    zone
        The LGN of each venue.
    existing
        Minutes from each point to the nearest open existing service, as a column.
    existing_cov
        Whether each point is within the threshold of an existing service.
    regions
        LGNs that must get a session (those with a priority wijk and a candidate venue).
    dep_weight
        The default deprivation weight of each point (``1 + 0.5 × max(deprivation, 0)``).
    prefer
        Venues that break ties (Dutch-speaking partners when the scenario prefers them).
    """

    cost: np.ndarray
    demand: np.ndarray
    rate: np.ndarray
    value: np.ndarray
    groups: np.ndarray
    priority: np.ndarray
    zone: np.ndarray
    existing: np.ndarray
    existing_cov: np.ndarray
    regions: list[int]
    dep_weight: np.ndarray
    prefer: np.ndarray

    @classmethod
    def build(cls, s: Scenario, dem: pd.DataFrame, cand: pd.DataFrame, cost: np.ndarray, *, weights: np.ndarray,
              groups: np.ndarray, ex_near: np.ndarray, sectors: pd.DataFrame | None) -> CapacityInstance:  # fmt: skip
        """Make the instance of scenario ``s`` from its demand points, candidate venues and time matrix."""
        children = dem["weight"].to_numpy(dtype=float)
        d, rate = consultation_demand(s, dem, sectors)
        dep = np.nan_to_num(dem["deprivation"].to_numpy(dtype=float), nan=0.0)
        prio_lgn = sorted(set(dem.loc[dem["priority"], "lgn"].dropna().astype(int))) if s.balance_lgn else []
        prio_lgn = [r for r in prio_lgn if (cand["lgn"].to_numpy() == r).any()]
        prefer = (
            cand["dutch_speaking"].map(lambda x: x is True).to_numpy() if s.prefer_dutch else np.zeros(len(cand), bool)
        )
        return cls(
            cost=cost,
            demand=d,
            rate=rate,
            value=np.divide(weights, children, out=np.zeros_like(weights), where=children > 0),
            groups=groups,
            priority=dem["priority"].to_numpy(),
            zone=cand["lgn"].to_numpy(dtype=int),
            existing=ex_near[:, None],
            existing_cov=ex_near <= s.threshold_min,
            regions=prio_lgn,
            dep_weight=1.0 + 0.5 * np.maximum(dep, 0.0),
            prefer=prefer,
        )


def solve_capacitated(
    s: Scenario,
    teams: int,
    inst: CapacityInstance,
    *,
    time_limit: float,
    rel_gap: float,
    value: np.ndarray | None = None,
    floors: bool = True,
    timetable: bool = True,
    greedy_within_gap: bool = False,
) -> CapacityResult:
    """Solve the scenario's capacitated model on ``inst`` with ``teams`` teams.

    Parameters
    ----------
    s
        The scenario (model, threshold, capacity, sessions, slots, floors).
    teams
        Teams of a rotation (ignored by ``capacitated_mclp``, which places ``k`` sessions).
    inst
        The instance.
    time_limit, rel_gap
        Solver limits.
    value
        Another weight per consultation (default ``inst.value``), e.g. only the priority wijken's.
    floors
        Apply the per-wijk floor and the LGN rule (off for the points of the teams curve).
    timetable
        Also solve the weekly timetable (a second, small model).
    greedy_within_gap
        Keep the greedy rotation when it is already within ``rel_gap`` of the LP bound.

    Returns
    -------
    geoplanner.siting.CapacityResult
    """
    v = inst.value if value is None else value
    if s.model == "capacitated_mclp":
        model = CapacitatedCovering.from_cost_matrix(inst.cost, s.threshold_min, inst.demand,
                                                     capacity=s.session_capacity, sessions=int(s.k), value=v,
                                                     existing=inst.existing)  # fmt: skip
        return model.solve(time_limit=time_limit, rel_gap=rel_gap)
    regions = inst.regions if teams * s.sessions_per_team >= len(inst.regions) and floors else []
    model = CapacitatedRotation.from_cost_matrix(
        inst.cost,
        s.threshold_min,
        inst.demand,
        capacity=s.session_capacity,
        teams=teams,
        sessions_per_team=s.sessions_per_team,
        slots=s.slots or WEEK_SLOTS,
        zone=inst.zone,
        groups=inst.groups,
        group_share=s.priority_served_share if floors else 0.0,
        regions_required=regions,
        value=v,
        prefer=inst.prefer,
        existing=inst.existing,
        cap_at_reach=True,
    )
    return model.solve(time_limit=time_limit, rel_gap=rel_gap, timetable=timetable, greedy_within_gap=greedy_within_gap)


def served_figures(inst: CapacityInstance, res: Any) -> dict[str, float]:
    """Return consultations and children served (existing bureaus + new sessions): overall, priority, weighted."""
    d, rate, prio, dep_w = inst.demand, inst.rate, inst.priority, inst.dep_weight
    served = np.where(res.existing, d, res.served)
    frac = np.divide(served, d, out=np.zeros_like(d), where=d > 0)
    return {
        "consultations_served": float(served.sum()),
        "share_consultations_served": float(served.sum() / d.sum()),
        "children_served": float((served / np.where(rate > 0, rate, 1.0)).sum()),
        "share_priority_served": float(served[prio].sum() / d[prio].sum()) if d[prio].sum() > 0 else float("nan"),
        "share_deprivation_served": float((dep_w * d * frac).sum() / (dep_w * d).sum()),
    }
