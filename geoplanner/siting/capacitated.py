"""Capacitated models: demand in consultations a year, supply in the capacity of sessions.

A child near a venue is only *served* if a session there has room for it. Demand row ``i``
asks ``d_i`` consultations a year (children × consultations per child × uptake, see
:mod:`geoplanner.scenario`); a weekly session at venue ``j`` offers ``cap_j`` consultations a
year (children seen per session × weeks a year). Demand goes only to venues within the walking
threshold, and never beyond a venue's capacity.

Two models, one shared builder (:class:`_Assignment`):

- :class:`CapacitatedCovering` — the capacitated maximal covering problem: place at most
  ``sessions`` weekly sessions (at most ``per_venue`` at one venue) to serve the most
  (value-weighted) consultations::

      max  sum_ij v_i y_ij
      s.t. sum_j y_ij <= d_i                (row i's demand)
           sum_i y_ij <= cap_j n_j          (capacity of the sessions at venue j)
           sum_j n_j <= sessions
           n_j in {0, …, per_venue},  y_ij >= 0 only where c_ij <= threshold

- :class:`CapacitatedRotation` — mobile teams: ``teams`` teams, each at most
  ``sessions_per_team`` sessions a week in the working slots (e.g. Wednesday afternoon,
  Saturday morning); a team's sessions on one day are in one zone (the LGN), so its day can be
  worked; a venue holds at most one session a week (so never two teams at once); every priority
  wijk ``G`` gets at least ``group_share`` of its demand served; every required LGN at least one
  session::

      max  sum_ij v_i y_ij  (+ a tie-break for preferred, e.g. Dutch-speaking, venues)
      s.t. the two rows above, n_j in {0, 1}
           sum_{j in zone g} n_j <= sum_{t,d} f_tdg          (sessions need team-days there)
           f_tdg <= L_d m_tdg,  sum_g m_tdg <= 1               (one zone per team per day)
           sum_{d,g} f_tdg <= sessions_per_team                (each team's week)
           sum_{i in G} sum_j y_ij >= share_G d_G − served_G^existing   (each priority wijk)
           sum_{j in g} n_j >= 1                               (each required LGN)
           m_tdg in {0, 1},  f_tdg >= 0

  ``L_d`` is the number of working slots on day ``d``. ``f`` may stay continuous: once the
  team-days ``m`` are fixed, moving sessions from teams to zones is a network flow with whole
  capacities, so a whole-number timetable always exists (it is rebuilt after solving).

Both keep the model small without changing its optimum: venues with the same reach, zone,
capacity and preference are merged into one class (``n`` counts how many of them are used),
and demand rows with the same wijk, value and reachable classes are merged (their demand adds
up). Demand within reach of an existing service counts as served by it: the existing bureaus'
capacity is not in the data (an assumption, stated in the outputs).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import sparse

from geoplanner.core.errors import ModelError
from geoplanner.siting.assignment import (
    Assignment,
    CapacityResult,
    capacity_result,
    check_capacity_inputs,
    group_needs,
    per_column,
    pick_solution,
    reach_and_open_rows,
)
from geoplanner.siting.base import Milp, greedy_note, relative_gap

__all__ = [
    "WorkSlot",
    "WEEK_DAYS",
    "DAY_PARTS",
    "WEEK_SLOTS",
    "serve_sessions",
    "CapacitatedCovering",
    "CapacitatedRotation",
]


class WorkSlot(NamedTuple):
    """A part of a day in which a team can hold one session: ``day`` and ``dagdeel`` in Dutch."""

    day: str
    dagdeel: str


#: Weekdays and parts of a day, in timetable order.
WEEK_DAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")


DAY_PARTS = ("voormiddag", "namiddag", "avond")


#: The default working week: five weekdays, morning and afternoon.
WEEK_SLOTS = tuple(WorkSlot(d, p) for d in WEEK_DAYS[:5] for p in DAY_PARTS[:2])


@dataclass
class _Prepared:
    """A rotation's merged instance, priority needs, zones and greedy rotation, before the MILP."""

    asg: Assignment
    covered0: np.ndarray
    needs: dict[int, float]
    zones: list[int]
    zmat: sparse.csr_matrix
    budget: int
    bonus: float
    g_used: np.ndarray
    g_obj: float | None
    g_y: np.ndarray | None


def serve_sessions(
    cost: np.ndarray,
    threshold: float,
    demand: np.ndarray,
    sessions: np.ndarray,
    *,
    capacity: float | np.ndarray,
    value: np.ndarray | None = None,
    existing: np.ndarray | None = None,
    time_limit: float = 20.0,
) -> CapacityResult:
    """Serve demand from sessions already placed (e.g. fixed sites): the best assignment within capacity.

    The same assignment as the capacitated models, with the sessions per venue given instead of chosen: demand
    goes only to venues within the walking threshold, never beyond a venue's places (``capacity`` per weekly
    session × its sessions), the most (value-weighted) consultations first. A linear programme.

    Parameters
    ----------
    cost
        Minutes from each demand row to each venue that holds sessions.
    threshold
        Walking minutes within which a venue can serve a demand row.
    demand
        Consultations a year asked by each row.
    sessions
        Weekly sessions at each venue (0: none).
    capacity
        Consultations a year one weekly session serves (one number, or one per venue).
    value
        Weight of one consultation of each row (default 1).
    existing
        Minutes from each demand row to the services that stay open (their demand counts as served by them).
    time_limit
        Seconds HiGHS may spend.

    Returns
    -------
    CapacityResult
        ``status`` ``optimal``; ``served``, ``load``, ``in_reach`` and ``existing`` as for the models.
    """
    started = time.perf_counter()
    cost, d, v, ex = check_capacity_inputs(cost, threshold, demand, value, existing)
    n_cand = cost.shape[1]
    s = np.asarray(sessions, dtype=float).ravel()
    if s.shape != (n_cand,) or not np.isfinite(s).all() or (s < 0).any():
        raise ModelError(f"sessions must hold one non-negative number per venue ({n_cand})")
    cap = per_column(capacity, n_cand, "capacity")
    held = s > 0
    a, covered0, open_rows = reach_and_open_rows(cost[:, held], threshold, ex, d, "milp")
    asg = Assignment(a, d, v, np.full(d.size, -1), np.zeros(int(held.sum())), cap[held],
                     np.zeros(int(held.sum())), open_rows, keep_cols=tuple(range(int(held.sum()))))  # fmt: skip
    n_cls = np.array([s[held][m].sum() for m in asg.members], dtype=float)
    found = asg.evaluate(n_cls, {}, time_limit) if asg.n_pairs else (0.0, np.zeros(0))
    obj, y = found if found is not None else (0.0, np.zeros(asg.n_pairs))
    part = capacity_result("fixed_sessions", asg, n_cls, y, obj, "optimal", obj, started, cost[:, held], threshold,
                           d, covered0, [])  # fmt: skip
    full = {name: np.zeros(n_cand) for name in ("sessions", "load", "capacity")}
    for name in full:
        full[name][held] = getattr(part, name)
    return CapacityResult(**{**part.__dict__, **full})


class CapacitatedCovering:
    """Capacitated maximal covering (see the module docstring for the formulation)."""

    model = "capacitated_mclp"

    def __init__(self, cost, threshold, d, v, ex, cap, sessions, per_venue) -> None:
        self.cost, self.threshold, self.demand, self.value, self.existing_min = cost, threshold, d, v, ex
        self.capacity, self.sessions, self.per_venue = cap, sessions, per_venue

    @classmethod
    def from_cost_matrix(
        cls,
        cost: np.ndarray,
        threshold: float,
        demand: np.ndarray,
        *,
        capacity: float | np.ndarray,
        sessions: int,
        per_venue: int = 1,
        value: np.ndarray | None = None,
        existing: np.ndarray | None = None,
    ) -> CapacitatedCovering:
        """Build the model from a demand × candidate matrix of minutes.

        Parameters
        ----------
        cost
            Minutes from each demand row to each candidate venue (``np.inf`` if unreachable).
        threshold
            Walking minutes within which a venue can serve a demand row.
        demand
            Consultations a year asked by each row.
        capacity
            Consultations a year one weekly session serves (one number, or one per venue).
        sessions
            Weekly sessions to place.
        per_venue
            Most weekly sessions at one venue.
        value
            Weight of one consultation of each row (default 1; e.g. a deprivation weight).
        existing
            Minutes from each demand row to the services that stay open.

        Returns
        -------
        CapacitatedCovering
        """
        cost, d, v, ex = check_capacity_inputs(cost, threshold, demand, value, existing)
        cap = per_column(capacity, cost.shape[1], "capacity")
        for what, k in (("sessions", sessions), ("per_venue", per_venue)):
            if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
                raise ModelError(f"{what} must be a positive whole number, got {k!r}")
        return cls(cost, float(threshold), d, v, ex, cap, int(sessions), int(per_venue))

    def solve(
        self, *, time_limit: float = 20.0, method: str = "milp", rel_gap: float = 0.0, node_limit: int | None = None
    ) -> CapacityResult:
        """Solve exactly with HiGHS (``method='milp'``) or with the greedy heuristic.

        Parameters
        ----------
        time_limit
            Seconds HiGHS may spend.
        method
            ``'milp'`` or ``'greedy'``.
        rel_gap
            Stop once within this relative gap of the bound (0: prove optimality).
        node_limit
            Stop HiGHS' branch and bound after this many nodes (None: no limit); unlike ``time_limit``, the
            answer is then the same on every machine.

        Returns
        -------
        CapacityResult
        """
        started = time.perf_counter()
        a, covered0, open_rows = reach_and_open_rows(self.cost, self.threshold, self.existing_min, self.demand, method)
        if not open_rows.any():
            raise ModelError(
                f"no candidate venue is within {self.threshold:g} min of any demand not yet covered",
                hint="raise the walking threshold or widen the candidate selection",
            )
        n_cand = self.cost.shape[1]
        asg = Assignment(a, self.demand, self.value, np.full(self.demand.size, -1), np.zeros(n_cand),
                          self.capacity, np.zeros(n_cand), open_rows)  # fmt: skip
        n_ub = asg.mult * self.per_venue
        # greedy: one session at a time to the class that serves most of what is left
        resid, used = asg.D.copy(), np.zeros(asg.n_cls)
        for _ in range(self.sessions):
            gain = asg.greedy_gain(resid, {}, used / self.per_venue)
            c = int(np.argmax(gain))
            if gain[c] <= 0:
                break
            used[c] += 1
            asg.greedy_take(c, resid, {})
        g_obj, g_y = asg.evaluate(used, {}, time_limit)
        m = Milp("max")
        asg.add(m, n_ub=n_ub)
        m.constrain({"n": np.ones((1, asg.n_cls))}, ub=self.sessions)
        notes: list[str] = []
        out = m.solve(time_limit, relax=method == "greedy", rel_gap=rel_gap, node_limit=node_limit)
        if pick_solution(out, g_obj, method) == "milp":
            n_cls, y, obj, status, bound = (
                np.round(out.values["n"]),
                out.values["y"],
                out.objective,
                out.status,
                out.bound,
            )
        else:
            n_cls, y, obj = used, g_y, g_obj
            status = "greedy" if method == "greedy" or out.values is None else out.status
            bound = None if out is None else out.bound if method == "milp" else out.objective
            if method == "milp":
                notes.append(greedy_note(bound))
        return capacity_result(self.model, asg, n_cls, y, obj, status, bound, started, self.cost, self.threshold,
                       self.demand, covered0, notes)  # fmt: skip


class CapacitatedRotation:
    """Mobile teams with session capacity and workable team-days (see the module docstring)."""

    model = "capacitated_rotation"

    def __init__(self, **kw) -> None:
        self.__dict__.update(kw)

    @classmethod
    def from_cost_matrix(
        cls,
        cost: np.ndarray,
        threshold: float,
        demand: np.ndarray,
        *,
        capacity: float | np.ndarray,
        teams: int,
        sessions_per_team: int,
        slots: tuple[WorkSlot, ...] | list[tuple[str, str]] = WEEK_SLOTS,
        zone: np.ndarray | None = None,
        groups: np.ndarray | None = None,
        group_share: float = 0.0,
        regions_required: list[int] | tuple[int, ...] = (),
        value: np.ndarray | None = None,
        prefer: np.ndarray | None = None,
        existing: np.ndarray | None = None,
        cap_at_reach: bool = False,
        sessions_per_day: int | None = None,
    ) -> CapacitatedRotation:
        """Build the model from a demand × candidate matrix of minutes.

        Parameters
        ----------
        cost, threshold, demand, capacity, value, existing
            As in :meth:`CapacitatedCovering.from_cost_matrix`.
        teams
            Number of mobile teams.
        sessions_per_team
            Most sessions one team holds a week (at most the number of working slots).
        slots
            The working slots ``(day, dagdeel)`` of every team; slots on one day make a team-day.
        zone
            Zone (LGN) of each venue: a team's sessions on one day stay in one zone. None: one zone.
        groups
            Label per demand row (``-1``: none), e.g. the priority wijk.
        group_share
            Share of each group's demand (consultations) that must be served (0: no floor).
        regions_required
            Zones that must get at least one session a week.
        prefer
            Per venue, True when preferred (e.g. Dutch-speaking): breaks ties between solutions
            that serve the same, never trades a consultation for it.
        cap_at_reach
            A group whose demand within reach of any candidate is below its floor gets that
            reachable demand as its floor (said in the notes) instead of making the model infeasible.
        sessions_per_day
            Most sessions one team holds on one day (None: as many as the day has slots). A team that works
            an evening slot works the slots just before it, not the morning.

        Returns
        -------
        CapacitatedRotation
        """
        cost, d, v, ex = check_capacity_inputs(cost, threshold, demand, value, existing)
        n_dem, n_cand = cost.shape
        cap = per_column(capacity, n_cand, "capacity")
        if isinstance(teams, bool) or not isinstance(teams, int | np.integer) or teams < 1:
            raise ModelError(f"teams must be a positive whole number, got {teams!r}")
        slots = tuple(WorkSlot(*s) for s in slots)
        if not slots or len(set(slots)) < len(slots):
            raise ModelError("the working slots must be a non-empty list without repeats")
        for s in slots:
            if s.day not in WEEK_DAYS or s.dagdeel not in DAY_PARTS:
                raise ModelError(f"unknown slot {s.day} {s.dagdeel}: days {WEEK_DAYS}, parts {DAY_PARTS}")
        if isinstance(sessions_per_team, bool) or not isinstance(sessions_per_team, int | np.integer):
            raise ModelError(f"sessions per team must be a whole number, got {sessions_per_team!r}")
        if not 1 <= sessions_per_team <= len(slots):
            raise ModelError(f"sessions per team must be between 1 and {len(slots)} (the working slots)")
        if sessions_per_day is not None and (
            isinstance(sessions_per_day, bool)
            or not isinstance(sessions_per_day, int | np.integer)
            or sessions_per_day < 1
        ):
            raise ModelError(f"sessions per day must be a positive whole number, got {sessions_per_day!r}")
        zone = np.zeros(n_cand, int) if zone is None else np.asarray(zone).ravel().astype(int)
        if zone.shape != (n_cand,):
            raise ModelError(f"zone has {zone.size} labels for {n_cand} venues")
        g = np.full(n_dem, -1) if groups is None else np.asarray(groups).ravel().astype(int)
        if g.shape != (n_dem,):
            raise ModelError(f"groups has {g.size} labels for {n_dem} demand rows")
        if not (isinstance(group_share, int | float) and 0 <= group_share <= 1):
            raise ModelError(f"group_share must be a fraction in [0, 1], got {group_share!r}")
        regions = tuple(int(r) for r in regions_required)
        for r in regions:
            if not (zone == r).any():
                raise ModelError(f"region {r} must get a session but has no candidate venue",
                                 hint="widen the candidate selection")  # fmt: skip
        pref = np.zeros(n_cand, bool) if prefer is None else np.asarray(prefer, dtype=bool).ravel()
        if pref.shape != (n_cand,):
            raise ModelError(f"prefer has {pref.size} values for {n_cand} venues")
        return cls(
            cost=cost,
            threshold=float(threshold),
            demand=d,
            value=v,
            existing_min=ex,
            capacity=cap,
            teams=int(teams),
            per_team=int(sessions_per_team),
            slots=slots,
            zone=zone,
            groups=g,
            group_share=float(group_share),
            regions=regions,
            prefer=pref,
            cap_at_reach=bool(cap_at_reach),
            per_day=None if sessions_per_day is None else int(sessions_per_day),
        )

    # -- the week's shape ------------------------------------------------------------------------

    def _days(self) -> list[tuple[str, list[WorkSlot]]]:
        """Return the working days in week order, each with the slots a team may work that day (``per_day`` at most).

        When a day has more slots than a team may work, a day with an evening slot keeps the evening and the
        slots just before it (a team that works the evening starts later), any other day its first slots.
        """
        days: dict[str, list[WorkSlot]] = {}
        for s in self.slots:
            days.setdefault(s.day, []).append(s)
        out = []
        for dname, ss in sorted(days.items(), key=lambda kv: WEEK_DAYS.index(kv[0])):
            ss = sorted(ss, key=lambda s: DAY_PARTS.index(s.dagdeel))
            if self.per_day is not None and len(ss) > self.per_day:
                ss = ss[-self.per_day :] if ss[-1].dagdeel == "avond" else ss[: self.per_day]
            out.append((dname, ss))
        return out

    def _add_teams(self, m: Milp, zones: list[int], zmat: sparse.csr_matrix) -> None:
        """Team-days: m[t,d,g] binary, f[t,d,g] sessions; sessions in a zone need team-days there."""
        days = self._days()
        T, nd, nz = self.teams, len(days), len(zones)
        size = T * nd * nz
        idx = np.arange(size).reshape(T, nd, nz)
        L = np.array([len(ss) for _, ss in days], dtype=float)
        m.var("m", size)
        m.var("f", size, ub=np.broadcast_to(L[None, :, None], (T, nd, nz)).ravel(), integer=False)
        # sessions held in zone g <= sum over teams and days of f[t,d,g]
        fz = sparse.csr_matrix((np.ones(size), (np.broadcast_to(np.arange(nz), (T, nd, nz)).ravel(), idx.ravel())),
                               shape=(nz, size))  # fmt: skip
        m.constrain({"n": zmat, "f": -fz}, ub=0.0)
        m.constrain({"f": sparse.identity(size), "m": sparse.diags(-np.broadcast_to(L[None, :, None],
                    (T, nd, nz)).ravel())}, ub=0.0)  # fmt: skip
        one_zone = sparse.csr_matrix((np.ones(size), (idx.ravel() // nz, idx.ravel())), shape=(T * nd, size))
        m.constrain({"m": one_zone}, ub=1.0)
        per_team = sparse.csr_matrix((np.ones(size), (idx.ravel() // (nd * nz), idx.ravel())), shape=(T, size))
        m.constrain({"f": per_team}, ub=float(self.per_team))
        if T > 1:  # teams are interchangeable: order them by workload (symmetry breaking)
            m.constrain({"f": per_team[:-1] - per_team[1:]}, lb=0.0)

    def _schedule(self, per_zone: dict[int, int], time_limit: float) -> list[tuple[int, int, int, int]] | None:
        """Whole-number team-days for given sessions per zone: [(team, day index, zone, sessions)]."""
        zones = sorted(per_zone)
        if not zones:
            return []
        days = self._days()
        T, nd, nz = self.teams, len(days), len(zones)
        size = T * nd * nz
        idx = np.arange(size).reshape(T, nd, nz)
        L = np.broadcast_to(np.array([len(ss) for _, ss in days], float)[None, :, None], (T, nd, nz)).ravel()
        m = Milp("min")
        m.var("m", size, obj=1.0)  # fewest team-days: a team works as few days as it can
        m.var("f", size, ub=L, integer=True)
        fz = sparse.csr_matrix((np.ones(size), (np.broadcast_to(np.arange(nz), (T, nd, nz)).ravel(), idx.ravel())),
                               shape=(nz, size))  # fmt: skip
        need = np.array([per_zone[z] for z in zones], dtype=float)
        m.constrain({"f": fz}, lb=need, ub=need)
        m.constrain({"f": sparse.identity(size), "m": sparse.diags(-L)}, ub=0.0)
        m.constrain({"m": sparse.csr_matrix((np.ones(size), (idx.ravel() // nz, idx.ravel())), shape=(T * nd, size))},
                    ub=1.0)  # fmt: skip
        per_team = sparse.csr_matrix((np.ones(size), (idx.ravel() // (nd * nz), idx.ravel())), shape=(T, size))
        m.constrain({"f": per_team}, ub=float(self.per_team))
        out = m.solve(max(time_limit, 5.0))
        if out.values is None:
            return None
        f = np.round(out.values["f"]).reshape(T, nd, nz)
        return [(t, dd, zones[z], int(f[t, dd, z])) for t in range(T) for dd in range(nd) for z in range(nz)
                if f[t, dd, z] > 0]  # fmt: skip

    def _timetable(self, sessions: np.ndarray, load: np.ndarray, plan) -> tuple[tuple[int, str, str, int], ...]:
        days = self._days()
        by_zone: dict[int, list[int]] = {}
        held = np.flatnonzero(sessions > 0)
        for j in held[np.argsort(-load[held], kind="stable")]:
            by_zone.setdefault(int(self.zone[j]), []).append(int(j))
        rows = []
        for t, dd, z, k in plan:
            for slot in days[dd][1][:k]:
                rows.append((t + 1, slot.day, slot.dagdeel, by_zone[z].pop(0)))
        rows.sort(key=lambda r: (r[0], WEEK_DAYS.index(r[1]), DAY_PARTS.index(r[2])))
        return tuple(rows)

    # -- greedy ----------------------------------------------------------------------------------

    def _greedy(self, asg: Assignment, needs: dict[int, float]) -> np.ndarray:
        """Team by team, day by day: the zone whose best free venues serve most, then those venues.

        Unmet priority needs count first, then every LGN that must get a session. Always a
        workable week; it may miss a priority need (then HiGHS must find a feasible one).
        """
        days = self._days()
        resid, used = asg.D.copy(), np.zeros(asg.n_cls)
        deficit = dict(needs)
        missing = set(self.regions)
        for _t in range(self.teams):
            left = self.per_team
            for _dname, ss in days:
                if left <= 0:
                    break
                gain = asg.greedy_gain(resid, deficit, used)
                best_z, best_val, best_cls = None, 0.0, []
                for z in sorted(set(asg.zone.tolist())):
                    cand = np.flatnonzero((asg.zone == z) & (gain >= 0))
                    k = min(len(ss), left)
                    # members of one class can take several sessions on one day (one each)
                    picks = np.repeat(cand, np.minimum(asg.mult[cand] - used[cand], k).astype(int))
                    top = picks[np.argsort(-gain[picks], kind="stable")][:k]
                    val = float(gain[top].sum()) + (1e12 if z in missing and top.size else 0.0)
                    if top.size and val > best_val:
                        best_z, best_val, best_cls = z, val, top
                if best_z is None:
                    continue
                for c in best_cls:
                    used[c] += 1
                    asg.greedy_take(int(c), resid, deficit)
                left -= len(best_cls)
                missing.discard(best_z)
        return used

    # -- solve -----------------------------------------------------------------------------------

    def solve(
        self,
        *,
        time_limit: float = 20.0,
        method: str = "milp",
        rel_gap: float = 0.0,
        timetable: bool = True,
        greedy_within_gap: bool = False,
        node_limit: int | None = None,
    ) -> CapacityResult:
        """Solve exactly with HiGHS or greedily, then build the weekly timetable.

        Parameters
        ----------
        time_limit
            Seconds HiGHS may spend on the main model.
        method
            ``'milp'`` or ``'greedy'``.
        rel_gap
            Stop once within this relative gap of the bound (0: prove optimality).
        timetable
            Build the weekly timetable (a second, small MILP). False leaves ``timetable`` empty and
            changes nothing else: for callers that only read the served figures (the teams curve).
        greedy_within_gap
            With ``method='milp'`` and ``rel_gap`` > 0: solve the LP relaxation first, and when the
            greedy rotation is already within ``rel_gap`` of its bound, keep it (status
            ``'within_gap'``, the LP bound as bound) and skip the branch and bound. The answer
            honours the same gap, but is not the one HiGHS would have found.
        node_limit
            Stop HiGHS' branch and bound after this many nodes (None: no limit); unlike ``time_limit``, the
            answer is then the same on every machine.

        Returns
        -------
        CapacityResult
        """
        started = time.perf_counter()
        notes: list[str] = []
        prep = self._prepare(method, notes, time_limit)
        m = self._model(prep)
        lp_bound = None
        if method == "milp" and greedy_within_gap and rel_gap > 0 and prep.g_obj is not None:
            # The LP bound is close to HiGHS' final bound here (~0.1 %) and costs ~0.2 s, against
            # 1-2 s of branch and bound to find a rotation the greedy one may already match.
            lp = m.solve(time_limit, relax=True)
            if lp.status == "optimal" and relative_gap(prep.g_obj, lp.objective) <= rel_gap:
                lp_bound = lp.objective
        if lp_bound is not None:
            chosen = (prep.g_used, prep.g_y, prep.g_obj, "within_gap", lp_bound)
            notes.append(f"greedy rotation kept: within {relative_gap(prep.g_obj, lp_bound):.2%} of the LP bound")
        else:
            chosen = self._solve_model(m, prep, method, (time_limit, node_limit), rel_gap, notes)
        res = capacity_result(self.model, prep.asg, *chosen, started, self.cost, self.threshold, self.demand,
                              prep.covered0, notes)  # fmt: skip
        if not timetable:
            return CapacityResult(**{**res.__dict__, "notes": tuple(notes), "seconds": time.perf_counter() - started})
        return self.with_timetable(res, time_limit, started=started)

    def _prepare(self, method: str, notes: list[str], time_limit: float) -> _Prepared:
        """Merge venues and rows, work out each priority wijk's need and the greedy rotation."""
        a, covered0, open_rows = reach_and_open_rows(self.cost, self.threshold, self.existing_min, self.demand, method)
        if not open_rows.any() and not self.regions:
            raise ModelError(
                f"no candidate venue is within {self.threshold:g} min of any demand not yet covered",
                hint="raise the walking threshold or widen the candidate selection",
            )
        needs = group_needs(self.groups, self.group_share, self.demand, covered0, open_rows, self.cap_at_reach, notes)
        keep = [int(np.flatnonzero(self.zone == r)[0]) for r in self.regions]  # an LGN's venue may reach nobody
        bonus = 1e-4 / max(1.0, self.teams * self.per_team)  # < 1e-4 consultation in all: a pure tie-break
        asg = Assignment(a, self.demand, self.value, self.groups, self.zone, self.capacity, self.prefer, open_rows,
                         keep_cols=keep)  # fmt: skip
        zones = sorted(set(asg.zone.tolist()))
        budget = self.teams * self.per_team
        if len(self.regions) > budget:
            raise ModelError(f"{self.teams} team(s) × {self.per_team} session(s) cannot visit all "
                             f"{len(self.regions)} required LGNs", hint="add teams or sessions")  # fmt: skip
        g_used = self._greedy(asg, needs)
        g_eval = asg.evaluate(g_used, needs, time_limit)
        if g_eval is not None and not all((asg.zone[g_used > 0] == r).any() for r in self.regions):
            g_eval = None
        g_obj, g_y = (None, None) if g_eval is None else g_eval
        if g_obj is not None:
            g_obj += bonus * float(asg.prefer @ g_used)
        return _Prepared(asg, covered0, needs, zones, asg.zone_matrix(zones), budget, bonus, g_used, g_obj, g_y)

    def _model(self, prep: _Prepared) -> Milp:
        """Build the rotation MILP (see the module docstring)."""
        m = Milp("max")
        prep.asg.add(m, n_ub=prep.asg.mult, bonus=prep.bonus)  # one session a week per venue
        m.constrain({"n": np.ones((1, prep.asg.n_cls))}, ub=prep.budget)
        prep.asg.group_rows(m, prep.needs)
        for r in self.regions:
            m.constrain({"n": prep.zmat[[prep.zones.index(r)]]}, lb=1.0)
        self._add_teams(m, prep.zones, prep.zmat)
        return m

    def _solve_model(self, m: Milp, prep: _Prepared, method: str, limits: tuple[float, int | None], rel_gap: float,
                     notes: list[str]) -> tuple:  # fmt: skip
        """Solve the MILP (or its relaxation for the greedy method); keep the better of it and the greedy rotation."""
        time_limit, node_limit = limits
        if method == "milp":
            out = m.solve(time_limit, rel_gap=rel_gap, node_limit=node_limit)
        else:
            out = m.solve(time_limit, relax=True)
        if out.status == "infeasible":
            raise ModelError(self._infeasible(prep.needs))
        if pick_solution(out, prep.g_obj, method) == "milp":
            return np.round(out.values["n"]), out.values["y"], out.objective, out.status, out.bound
        if prep.g_obj is None:
            how = " within the time limit" if method == "milp" else " by the greedy heuristic"
            raise ModelError("no rotation meeting every constraint was found" + how)
        status = "greedy" if method == "greedy" or out.values is None else out.status
        bound = out.bound if method == "milp" else out.objective
        if method == "milp":
            notes.append(greedy_note(bound))
        return prep.g_used, prep.g_y, prep.g_obj, status, bound

    def with_timetable(self, res: CapacityResult, time_limit: float, *, started: float | None = None) -> CapacityResult:
        """Put a solution's sessions into the teams' week (a second, small MILP) and return it with its timetable.

        Parameters
        ----------
        res
            A solution of this model (e.g. solved with ``timetable=False``).
        time_limit
            Seconds the scheduling MILP may take (at least 5).
        started
            When the solve began (for ``seconds``); default: the solution's own seconds ago.
        """
        started = time.perf_counter() - res.seconds if started is None else started
        budget = self.teams * self.per_team
        notes = list(res.notes)
        per_zone: dict[int, int] = {}
        for j in np.flatnonzero(res.sessions > 0):
            per_zone[int(self.zone[j])] = per_zone.get(int(self.zone[j]), 0) + 1
        plan = self._schedule(per_zone, time_limit)
        if plan is None:  # cannot happen for a solution of the model; guard all the same
            raise ModelError("the chosen sessions do not fit the teams' working days")
        timetable = self._timetable(res.sessions, res.load, plan)
        free = budget - len(timetable)
        if free > 0:
            notes.append(f"{free} of the {budget} weekly sessions are left free (no venue left that serves more)")
        return CapacityResult(**{**res.__dict__, "timetable": timetable, "notes": tuple(notes),
                                 "seconds": time.perf_counter() - started})  # fmt: skip

    def _infeasible(self, needs: dict[int, float]) -> str:
        return (
            f"no rotation with {self.teams} team(s) × {self.per_team} session(s) serves "
            f"{self.group_share:.0%} of the demand of each of the {len(needs)} priority groups within "
            f"{self.threshold:g} min"
            + (" and visits every required LGN" if self.regions else "")
            + "; add teams, lower the share per priority wijk or widen the candidates"
        )
