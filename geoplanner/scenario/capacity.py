"""Capacitated scenarios: demand in consultations a year, supply in session places, and one solve."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geoplanner.scenario.spec import CAPACITY_PARAMETERS, EXISTING_ASSUMPTION, Scenario
from geoplanner.siting import WEEK_SLOTS, CapacitatedCovering, CapacitatedRotation, CapacityResult

__all__ = [
    "PARAMETER_LABELS",
    "Assumption",
    "assumptions",
    "consultation_demand",
    "capacity_notes",
    "CapacityInstance",
    "UNCOUNTED_VALUE",
    "consultation_value",
    "capacity_model",
    "solve_capacitated",
    "served_figures",
]


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


#: Weight of a consultation the scenario's demand kind does not count (priority_only outside the priority wijken):
#: small, so free places serve those children too, but never at the cost of a counted consultation.
UNCOUNTED_VALUE = 1e-3


def consultation_value(weights: np.ndarray, children: np.ndarray) -> np.ndarray:
    """Return the weight of one consultation per point: its weight per child, at least ``UNCOUNTED_VALUE``."""
    value = np.divide(weights, children, out=np.zeros_like(weights, dtype=float), where=children > 0)
    return np.maximum(value, UNCOUNTED_VALUE)


#: What each capacity parameter means, in plain Dutch (the reader's words; the TOML key is in the appendix).
PARAMETER_LABELS = {
    "demand.consultations_age0": "consultaties per jaar voor een kind van 0 jaar",
    "demand.consultations_age1": "consultaties per jaar voor een kind van 1 jaar",
    "demand.consultations_age2": "consultaties per jaar voor een kind van 2 jaar",
    "demand.uptake": "aandeel gezinnen dat een consultatiebureau gebruikt",
    "demand.dutch_share": "aandeel gezinnen voor een Nederlandstalig bureau",
    "capacity.children_per_session": "kinderen per sessie (dagdeel)",
    "capacity.weeks_per_year": "werkweken per jaar",
    "capacity.planned_fill": "geplande bezetting van een sessie",
    "capacity.sessions_per_site": "bemande sessies per week op een nieuwe vaste locatie",
    "rotation.sessions_per_day": "sessies per team per dag, hoogstens",
    "curve.target_share": "doel: aandeel van de verwachte consultaties in de prioritaire wijken",
}


@dataclass(frozen=True)
class Assumption:
    """One parameter a scenario's figures rest on: its key, value, meaning and basis."""

    key: str
    value: float
    label: str
    basis: str
    from_file: bool

    @property
    def source(self) -> str:
        """What the value rests on, in one word: aanname, beleidsnorm, beleidskeuze, a study, or the file."""
        if self.from_file:
            return "scenariobestand"
        return self.basis.split(":", 1)[0].strip()

    @property
    def short(self) -> str:
        """The assumption in a few words: its meaning, value and source (the basis is in the appendix)."""
        return f"{self.label} {self.value_text} ({self.source})"

    @property
    def value_text(self) -> str:
        """The value as a reader writes it (shares as percentages)."""
        share = self.key.endswith(("uptake", "dutch_share", "planned_fill", "target_share"))
        return f"{100 * self.value:.0f} %" if share else f"{self.value:g}"

    @property
    def sentence(self) -> str:
        """The assumption in plain Dutch, for notes and the report's first page."""
        basis = "waarde uit het scenariobestand" if self.from_file else self.basis
        return f"{self.label}: {self.value_text} ({basis})"


def assumptions(scenario: Scenario) -> list[Assumption]:
    """Return the parameters a scenario's consultations, sessions and teams curve rest on, with their basis."""
    values = {
        "demand.consultations_age0": scenario.consultations_per_child[0],
        "demand.consultations_age1": scenario.consultations_per_child[1],
        "demand.consultations_age2": scenario.consultations_per_child[2],
        "demand.uptake": scenario.uptake,
        "demand.dutch_share": scenario.dutch_share,
        "capacity.children_per_session": scenario.children_per_session,
        "capacity.weeks_per_year": scenario.weeks_per_year,
        "capacity.planned_fill": scenario.planned_fill,
        "capacity.sessions_per_site": scenario.sessions_per_site,
        "rotation.sessions_per_day": scenario.sessions_per_day,
        "curve.target_share": scenario.curve_target_share,
    }
    return [Assumption(key, float(values[key]), PARAMETER_LABELS[key], basis, values[key] != default)
            for key, default, basis in CAPACITY_PARAMETERS]  # fmt: skip


def capacity_notes(scenario: Scenario) -> list[str]:
    """Return the assumptions of a scenario as plain-Dutch notes, and how existing bureaus are counted."""
    return [a.sentence for a in assumptions(scenario)] + [EXISTING_ASSUMPTION]


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
        LGNs that must get a session (those with a priority wijk, or every LGN with ``every_lgn``, that have a
        candidate venue).
    dep_weight
        The default deprivation weight of each point (``1 + 0.5 × max(deprivation, 0)``).
    prefer
        Venues that break ties (Dutch-speaking partners when the scenario prefers them).
    regions_without_venue
        LGNs that should get a session but have no candidate venue left by the selection (said in the notes).
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
    regions_without_venue: tuple[int, ...] = ()

    @classmethod
    def build(cls, s: Scenario, dem: pd.DataFrame, cand: pd.DataFrame, cost: np.ndarray, *, weights: np.ndarray,
              groups: np.ndarray, ex_near: np.ndarray, sectors: pd.DataFrame | None) -> CapacityInstance:  # fmt: skip
        """Make the instance of scenario ``s`` from its demand points, candidate venues and time matrix."""
        children = dem["weight"].to_numpy(dtype=float)
        d, rate = consultation_demand(s, dem, sectors)
        dep = np.nan_to_num(dem["deprivation"].to_numpy(dtype=float), nan=0.0)
        prio_lgn = sorted(set(dem.loc[dem["priority"], "lgn"].dropna().astype(int))) if s.balance_lgn else []
        if s.every_lgn:  # every LGN a session, not only those with a priority wijk
            prio_lgn = sorted(set(dem["lgn"].dropna().astype(int)))
        without = tuple(r for r in prio_lgn if not (cand["lgn"].to_numpy() == r).any())
        prio_lgn = [r for r in prio_lgn if r not in without]
        prefer = (
            cand["dutch_speaking"].map(lambda x: x is True).to_numpy() if s.prefer_dutch else np.zeros(len(cand), bool)
        )
        return cls(
            cost=cost,
            demand=d,
            rate=rate,
            value=consultation_value(weights, children),
            groups=groups,
            priority=dem["priority"].to_numpy(),
            zone=cand["lgn"].to_numpy(dtype=int),
            existing=ex_near[:, None],
            existing_cov=ex_near <= s.threshold_min,
            regions=prio_lgn,
            dep_weight=1.0 + 0.5 * np.maximum(dep, 0.0),
            prefer=prefer,
            regions_without_venue=without,
        )


def capacity_model(
    s: Scenario, teams: int, inst: CapacityInstance, *, value: np.ndarray | None = None, floors: bool = True
) -> CapacitatedCovering | CapacitatedRotation:
    """Build the scenario's capacitated model on ``inst`` (``teams`` teams for a rotation).

    Parameters
    ----------
    s
        The scenario (model, threshold, capacity, sessions, slots, sessions a day, floors).
    teams
        Teams of a rotation (ignored by ``capacitated_mclp``, which places ``k`` sessions).
    inst
        The instance.
    value
        Another weight per consultation (default ``inst.value``).
    floors
        Apply the per-wijk floor and the LGN rule (when the teams' sessions can visit every required LGN).
    """
    v = inst.value if value is None else value
    if s.model == "capacitated_mclp":
        return CapacitatedCovering.from_cost_matrix(
            inst.cost, s.threshold_min, inst.demand, capacity=s.session_capacity, sessions=int(s.k), value=v,
            existing=inst.existing,
        )  # fmt: skip
    regions = inst.regions if teams * s.sessions_per_team >= len(inst.regions) and floors else []
    return CapacitatedRotation.from_cost_matrix(
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
        sessions_per_day=s.sessions_per_day,
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
    node_limit: int | None = None,
) -> CapacityResult:
    """Solve the scenario's capacitated model (:func:`capacity_model`) with ``teams`` teams.

    ``time_limit``, ``rel_gap`` and ``node_limit`` bound the solver; ``timetable`` also builds the weekly
    timetable (a second, small model); ``greedy_within_gap`` keeps the greedy rotation when it is already within
    ``rel_gap`` of the LP bound.
    """
    model = capacity_model(s, teams, inst, value=value, floors=floors)
    if isinstance(model, CapacitatedCovering):
        return model.solve(time_limit=time_limit, rel_gap=rel_gap, node_limit=node_limit)
    return model.solve(time_limit=time_limit, rel_gap=rel_gap, timetable=timetable,
                       greedy_within_gap=greedy_within_gap, node_limit=node_limit)  # fmt: skip


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
