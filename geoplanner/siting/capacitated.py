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

import math
import time
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy import sparse

from geoplanner.core.errors import ModelError
from geoplanner.siting.base import _TOL, _as_cost, _gap, _greedy_note, _Milp

__all__ = ["WorkSlot", "WEEK_SLOTS", "CapacityResult", "CapacitatedCovering", "CapacitatedRotation"]


class WorkSlot(NamedTuple):
    """A part of a day in which a team can hold one session: ``day`` and ``dagdeel`` in Dutch."""

    day: str
    dagdeel: str


#: Weekdays and parts of a day, in timetable order.
WEEK_DAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
DAY_PARTS = ("voormiddag", "namiddag", "avond")
#: The default working week: five weekdays, morning and afternoon.
WEEK_SLOTS = tuple(WorkSlot(d, p) for d in WEEK_DAYS[:5] for p in DAY_PARTS[:2])


@dataclass(frozen=True, eq=False)
class CapacityResult:
    """The outcome of a capacitated model.

    Attributes
    ----------
    model
        ``'capacitated_mclp'`` or ``'capacitated_rotation'``.
    objective
        Value-weighted consultations a year served by the new sessions (plus the tie-break for
        preferred venues, below one consultation in total).
    status, bound, gap, seconds
        As :class:`geoplanner.siting.SitingResult`: ``'optimal'``, ``'within_gap'`` (HiGHS
        stopped at the requested gap), ``'time_limit'`` or ``'greedy'``; the proven bound and
        the relative gap to it.
    sessions
        Weekly sessions per venue (column of the cost matrix).
    load
        Consultations a year assigned to each venue (all its sessions together).
    capacity
        Consultations a year one weekly session at each venue can serve.
    served
        Consultations a year served per demand row by the new sessions (merged rows share their
        group's served share).
    existing
        Per demand row: within the threshold of an existing service (served by it, assumed).
    in_reach
        Per demand row: within the threshold of a venue that holds a session.
    timetable
        Rotation: ``(team, day, dagdeel, venue column)`` per session, in team and week order.
    notes
        Plain-language remarks.
    size
        Size of the solved model after merging: demand rows, venue classes, assignment pairs.
    """

    model: str
    objective: float
    status: str
    bound: float | None
    gap: float | None
    seconds: float
    sessions: np.ndarray
    load: np.ndarray
    capacity: np.ndarray
    served: np.ndarray
    existing: np.ndarray
    in_reach: np.ndarray
    timetable: tuple[tuple[int, str, str, int], ...] = ()
    notes: tuple[str, ...] = field(default=())
    size: dict[str, int] = field(default_factory=dict)

    @property
    def chosen(self) -> tuple[int, ...]:
        """Venues with at least one session, busiest first (ties by column)."""
        cols = np.flatnonzero(self.sessions > 0)
        return tuple(int(j) for j in cols[np.argsort(-self.load[cols], kind="stable")])


# ---------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------


def _per_column(value: float | np.ndarray, n: int, what: str) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy() if np.ndim(value) == 0 else np.asarray(value)
    arr = np.asarray(arr, dtype=float).ravel()
    if arr.shape != (n,):
        raise ModelError(f"{what} has {arr.size} values for {n} venues")
    if not np.isfinite(arr).all() or (arr <= 0).any():
        raise ModelError(f"{what} must be positive numbers")
    return arr


def _check_inputs(cost, threshold, demand, value, existing):
    cost = _as_cost(cost)
    n_dem, n_cand = cost.shape
    if n_dem == 0:
        raise ModelError("no demand: the demand set is empty", hint="check the demand filter of the scenario")
    if n_cand == 0:
        raise ModelError("no candidate venues to choose from", hint="widen the candidate selection")
    if not (isinstance(threshold, int | float) and math.isfinite(threshold) and threshold > 0):
        raise ModelError(f"threshold must be a positive number of minutes, got {threshold!r}")
    d = np.asarray(demand, dtype=float).ravel()
    if d.shape != (n_dem,):
        raise ModelError(f"demand has {d.size} values for {n_dem} demand rows")
    if not np.isfinite(d).all() or (d < 0).any():
        raise ModelError("demand must be finite and non-negative")
    if d.sum() <= 0:
        raise ModelError("no demand: all demand is zero", hint="check the demand filter of the scenario")
    v = np.ones(n_dem) if value is None else np.asarray(value, dtype=float).ravel()
    if v.shape != (n_dem,) or not np.isfinite(v).all() or (v < 0).any():
        raise ModelError("value must hold one finite, non-negative number per demand row")
    if existing is None:
        ex = np.full(n_dem, np.inf)
    else:
        e = _as_cost(existing, "existing")
        if e.shape[0] != n_dem:
            raise ModelError(f"existing has {e.shape[0]} rows for {n_dem} demand rows")
        ex = e.min(axis=1) if e.shape[1] else np.full(n_dem, np.inf)
    return cost, d, v, ex


# ---------------------------------------------------------------------------------------------
# The shared builder: aggregation, assignment rows, evaluation
# ---------------------------------------------------------------------------------------------


class _Assignment:
    """Merged venue classes and demand rows, and the assignment part of a capacitated MILP.

    Venue class ``c``: venues with one reach pattern (over the open demand rows), zone,
    capacity and preference; ``members[c]`` lists them. Merged row ``r``: open demand rows with
    one group, value and set of reachable classes; ``D[r]`` their demand. ``pairs`` lists the
    (merged row, class) pairs within reach: one ``y`` variable each.
    """

    def __init__(self, a, d, v, groups, zone, cap, prefer, open_rows, keep_cols=()) -> None:
        a = sparse.csc_matrix(a[open_rows])
        a.sort_indices()
        n_cand = a.shape[1]
        keys: dict[tuple, int] = {}
        cls = np.full(n_cand, -1)
        for j in range(n_cand):
            reach = a.indices[a.indptr[j] : a.indptr[j + 1]]
            if reach.size == 0 and j not in keep_cols:
                continue  # reaches nobody: never worth a session
            key = (int(zone[j]), float(cap[j]), bool(prefer[j]), reach.tobytes())
            cls[j] = keys.setdefault(key, len(keys))
        self.cls = cls
        self.n_cls = len(keys)
        self.members = [np.flatnonzero(cls == c) for c in range(self.n_cls)]
        rep = np.array([m[0] for m in self.members], dtype=int)
        self.zone = zone[rep].astype(int)
        self.cap = cap[rep]
        self.prefer = prefer[rep].astype(float)
        self.mult = np.array([m.size for m in self.members], dtype=float)
        ac = sparse.csr_matrix(a[:, rep]) if self.n_cls else sparse.csr_matrix((a.shape[0], 0))
        ac.sort_indices()
        g, val, dem = groups[open_rows], v[open_rows], d[open_rows]
        rkeys: dict[tuple, int] = {}
        inv = np.empty(ac.shape[0], dtype=int)
        for i in range(ac.shape[0]):
            key = (int(g[i]), float(val[i]), ac.indices[ac.indptr[i] : ac.indptr[i + 1]].tobytes())
            inv[i] = rkeys.setdefault(key, len(rkeys))
        self.inverse = inv  # open row -> merged row
        self.n_rows = len(rkeys)
        first = np.zeros(self.n_rows, dtype=int)
        first[inv[::-1]] = np.arange(inv.size)[::-1]
        self.D = np.bincount(inv, weights=dem, minlength=self.n_rows)
        self.value = val[first]
        self.group = g[first]
        reach = sparse.coo_matrix(ac[first])
        self.pair_row, self.pair_cls = reach.row.astype(int), reach.col.astype(int)
        order = np.lexsort((self.pair_cls, self.pair_row))
        self.pair_row, self.pair_cls = self.pair_row[order], self.pair_cls[order]
        self.open_rows = open_rows

    @property
    def n_pairs(self) -> int:
        return self.pair_row.size

    def add(self, m: _Milp, *, n_ub: np.ndarray, n_lb: np.ndarray | None = None, bonus: float = 0.0) -> None:
        """Add ``n`` (sessions per class), ``y`` (assignments) and the demand and capacity rows."""
        m.var("n", self.n_cls, obj=bonus * self.prefer, lb=0.0 if n_lb is None else n_lb, ub=n_ub, integer=True)
        m.var("y", self.n_pairs, obj=self.value[self.pair_row], ub=np.inf, integer=False)
        k = np.arange(self.n_pairs)
        ones = np.ones(self.n_pairs)
        m.constrain({"y": sparse.csr_matrix((ones, (self.pair_row, k)), shape=(self.n_rows, self.n_pairs))}, ub=self.D)
        cap_y = sparse.csr_matrix((ones, (self.pair_cls, k)), shape=(self.n_cls, self.n_pairs))
        m.constrain({"y": cap_y, "n": sparse.diags(-self.cap)}, ub=0.0)

    def group_rows(self, m: _Milp, needs: dict[int, float]) -> None:
        """Add ``served consultations in group G >= needs[G]`` for every group with a need."""
        for gid, need in needs.items():
            sel = (self.group[self.pair_row] == gid).astype(float)
            m.constrain({"y": sparse.csr_matrix(sel[None, :])}, lb=need)

    def zone_matrix(self, zones: list[int]) -> sparse.csr_matrix:
        """Rows: zones; columns: classes; 1 where the class lies in the zone."""
        rows = np.array([zones.index(z) if z in zones else -1 for z in self.zone])
        ok = rows >= 0
        return sparse.csr_matrix(
            (np.ones(int(ok.sum())), (rows[ok], np.flatnonzero(ok))), shape=(len(zones), self.n_cls)
        )

    def evaluate(
        self, n_cls: np.ndarray, needs: dict[int, float], time_limit: float
    ) -> tuple[float, np.ndarray] | None:
        """Best assignment for fixed sessions per class: (objective without bonus, y), or None if infeasible."""
        m = _Milp("max")
        self.add(m, n_ub=n_cls, n_lb=n_cls)
        self.group_rows(m, needs)
        out = m.solve(time_limit, relax=True)
        if out.values is None:
            return None
        y = out.values["y"]
        return float(self.value[self.pair_row] @ y), y

    def greedy_gain(self, resid: np.ndarray, deficit: dict[int, float], used: np.ndarray) -> np.ndarray:
        """Value a session at each class would serve from the residual demand (highest value first).

        Demand of a group with an unmet need counts ``1 + big`` per consultation, so those
        needs are met first.
        """
        big = float(self.value.max(initial=1.0)) * 1e3
        w = self.value.copy()
        for gid, left in deficit.items():
            if left > _TOL:
                w[self.group == gid] += big
        gain = np.zeros(self.n_cls)
        for c in range(self.n_cls):
            if used[c] >= self.mult[c]:
                gain[c] = -1.0
                continue
            rows = self.pair_row[self.pair_cls == c]
            if rows.size == 0:
                continue
            o = rows[np.argsort(-w[rows], kind="stable")]
            take = np.minimum(resid[o], np.maximum(self.cap[c] - np.concatenate([[0.0], np.cumsum(resid[o])[:-1]]), 0))
            gain[c] = float(w[o] @ take)
        return gain

    def greedy_take(self, c: int, resid: np.ndarray, deficit: dict[int, float]) -> None:
        """Serve residual demand from one more session at class ``c`` (same order as the gain)."""
        big = float(self.value.max(initial=1.0)) * 1e3
        w = self.value.copy()
        for gid, left in deficit.items():
            if left > _TOL:
                w[self.group == gid] += big
        rows = self.pair_row[self.pair_cls == c]
        o = rows[np.argsort(-w[rows], kind="stable")]
        left = self.cap[c]
        for r in o:
            t = min(resid[r], left)
            resid[r] -= t
            left -= t
            if self.group[r] in deficit:
                deficit[self.group[r]] -= t
            if left <= 0:
                break

    def expand(self, n_cls: np.ndarray, y: np.ndarray, d: np.ndarray, n_cand: int):
        """Per venue sessions and load, per demand row consultations served (pro rata in a merged row)."""
        sessions = np.zeros(n_cand)
        load = np.zeros(n_cand)
        cls_load = np.bincount(self.pair_cls, weights=y, minlength=self.n_cls)
        for c in range(self.n_cls):
            k = int(round(n_cls[c]))
            if k <= 0:
                continue
            mem = self.members[c]  # identical venues: sessions spread from the lowest column on
            per = np.full(mem.size, k // mem.size, dtype=float)
            per[: k % mem.size] += 1
            sessions[mem] = per
            load[mem] = cls_load[c] * per / k
        served_r = np.bincount(self.pair_row, weights=y, minlength=self.n_rows)
        share = np.divide(served_r, self.D, out=np.zeros_like(served_r), where=self.D > 0)
        served = np.zeros(d.size)
        served[self.open_rows] = d[self.open_rows] * np.minimum(share[self.inverse], 1.0)
        return sessions, load, served


def _reach(cost, threshold, existing_min, demand, method: str):  # noqa: ANN001 - arrays
    """Check ``method``; return the reach matrix, the demand rows already covered and those still open."""
    if method not in ("milp", "greedy"):
        raise ModelError(f"unknown method {method!r}; use 'milp' or 'greedy'")
    a = sparse.csc_matrix(cost <= threshold)
    covered0 = existing_min <= threshold
    open_rows = ~covered0 & (demand > 0) & (np.asarray(a.sum(axis=1)).ravel() > 0)
    return a, covered0, open_rows


def _needs(groups, share, d, covered0, open_rows, cap_at_reach=False, notes=None) -> dict[int, float]:
    """Consultations each group still needs from new sessions: share × its demand − what existing services serve.

    With ``cap_at_reach`` a group whose demand within reach of a candidate is smaller than that
    needs all of its reachable demand instead (said in ``notes``); otherwise that is an error.
    """
    needs: dict[int, float] = {}
    if groups is None or share <= 0:
        return needs
    for g in sorted(set(groups[groups >= 0].tolist())):
        rows = groups == g
        need = share * d[rows].sum() - d[rows & covered0].sum()
        if need > _TOL * max(d[rows].sum(), 1.0):
            reachable = d[rows & open_rows].sum()
            if reachable < need - _TOL * need and cap_at_reach:
                if notes is not None:
                    notes.append(
                        f"groep {g}: slechts {reachable:,.0f} van de {need:,.0f} benodigde consultaties wonen binnen "
                        "wandelafstand van een kandidaat-locatie; de ondergrens is daarop afgetopt"
                    )
                need = reachable
                if need <= _TOL:
                    continue
            elif reachable < need - _TOL * need:
                raise ModelError(
                    f"group {g}: {share:.0%} of its demand cannot be served: only {reachable:,.0f} of the "
                    f"{need:,.0f} consultations still needed live within the threshold of a candidate venue",
                    hint="lower the share per priority wijk, raise the walking threshold or widen the candidates",
                )
            needs[int(g)] = float(need)
    return needs


def _result(model, asg, n_cls, y, obj, status, bound, started, cost, thr, d, covered0, notes, timetable=()):
    n_cand = cost.shape[1]
    sessions, load, served = asg.expand(n_cls, y, d, n_cand)
    held = np.flatnonzero(sessions > 0)
    in_reach = (cost[:, held] <= thr).any(axis=1) if held.size else np.zeros(d.size, bool)
    cap = np.zeros(n_cand)
    for c, mem in enumerate(asg.members):
        cap[mem] = asg.cap[c]
    gap = 0.0 if status == "optimal" else (None if bound is None else _gap(obj, bound))
    return CapacityResult(
        model=model, objective=float(obj), status=status, bound=None if bound is None else float(bound), gap=gap,
        seconds=time.perf_counter() - started, sessions=sessions, load=load, capacity=cap, served=served,
        existing=covered0, in_reach=in_reach & ~covered0, timetable=tuple(timetable), notes=tuple(notes),
        size={"demand_rows": int(d.size), "merged_rows": asg.n_rows, "venues": n_cand, "venue_classes": asg.n_cls,
              "pairs": asg.n_pairs},
    )  # fmt: skip


def _pick(out, g_obj, method):
    """Return 'milp' or 'greedy': which solution to keep (the MILP one unless the greedy one is better)."""
    if method == "greedy" or out is None or out.values is None:
        return "greedy"
    if out.status == "optimal" or g_obj is None or out.objective >= g_obj - _TOL * max(abs(g_obj), 1.0):
        return "milp"
    return "greedy"


# ---------------------------------------------------------------------------------------------
# Capacitated maximal covering
# ---------------------------------------------------------------------------------------------


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
        cost, d, v, ex = _check_inputs(cost, threshold, demand, value, existing)
        cap = _per_column(capacity, cost.shape[1], "capacity")
        for what, k in (("sessions", sessions), ("per_venue", per_venue)):
            if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
                raise ModelError(f"{what} must be a positive whole number, got {k!r}")
        return cls(cost, float(threshold), d, v, ex, cap, int(sessions), int(per_venue))

    def solve(self, *, time_limit: float = 20.0, method: str = "milp", rel_gap: float = 0.0) -> CapacityResult:
        """Solve exactly with HiGHS (``method='milp'``) or with the greedy heuristic.

        Parameters
        ----------
        time_limit
            Seconds HiGHS may spend.
        method
            ``'milp'`` or ``'greedy'``.
        rel_gap
            Stop once within this relative gap of the bound (0: prove optimality).

        Returns
        -------
        CapacityResult
        """
        started = time.perf_counter()
        a, covered0, open_rows = _reach(self.cost, self.threshold, self.existing_min, self.demand, method)
        if not open_rows.any():
            raise ModelError(
                f"no candidate venue is within {self.threshold:g} min of any demand not yet covered",
                hint="raise the walking threshold or widen the candidate selection",
            )
        n_cand = self.cost.shape[1]
        asg = _Assignment(a, self.demand, self.value, np.full(self.demand.size, -1), np.zeros(n_cand),
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
        m = _Milp("max")
        asg.add(m, n_ub=n_ub)
        m.constrain({"n": np.ones((1, asg.n_cls))}, ub=self.sessions)
        notes: list[str] = []
        out = m.solve(time_limit, relax=method == "greedy", rel_gap=rel_gap)
        if _pick(out, g_obj, method) == "milp":
            n_cls, y, obj, status, bound = (
                np.round(out.values["n"]),
                out.values["y"],
                out.objective,
                out.status,
                out.bound,
            )
        else:
            n_cls, y, obj, status = used, g_y, g_obj, "greedy" if method == "greedy" else "time_limit"
            bound = None if out is None else out.bound if method == "milp" else out.objective
            if method == "milp":
                notes.append(_greedy_note(bound))
        return _result(self.model, asg, n_cls, y, obj, status, bound, started, self.cost, self.threshold,
                       self.demand, covered0, notes)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Capacitated rotation of mobile teams
# ---------------------------------------------------------------------------------------------


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

        Returns
        -------
        CapacitatedRotation
        """
        cost, d, v, ex = _check_inputs(cost, threshold, demand, value, existing)
        n_dem, n_cand = cost.shape
        cap = _per_column(capacity, n_cand, "capacity")
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
        )

    # -- the week's shape ------------------------------------------------------------------------

    def _days(self) -> list[tuple[str, list[WorkSlot]]]:
        days: dict[str, list[WorkSlot]] = {}
        for s in self.slots:
            days.setdefault(s.day, []).append(s)
        return [(dname, sorted(ss, key=lambda s: DAY_PARTS.index(s.dagdeel))) for dname, ss in
                sorted(days.items(), key=lambda kv: WEEK_DAYS.index(kv[0]))]  # fmt: skip

    def _add_teams(self, m: _Milp, zones: list[int], zmat: sparse.csr_matrix) -> None:
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
        m = _Milp("min")
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

    def _greedy(self, asg: _Assignment, needs: dict[int, float]) -> np.ndarray:
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

        Returns
        -------
        CapacityResult
        """
        started = time.perf_counter()
        a, covered0, open_rows = _reach(self.cost, self.threshold, self.existing_min, self.demand, method)
        if not open_rows.any() and not self.regions:
            raise ModelError(
                f"no candidate venue is within {self.threshold:g} min of any demand not yet covered",
                hint="raise the walking threshold or widen the candidate selection",
            )
        notes: list[str] = []
        needs = _needs(self.groups, self.group_share, self.demand, covered0, open_rows, self.cap_at_reach, notes)
        keep = [int(np.flatnonzero(self.zone == r)[0]) for r in self.regions]  # an LGN's venue may reach nobody
        bonus = 1e-4 / max(1.0, self.teams * self.per_team)  # < 1e-4 consultation in all: a pure tie-break
        asg = _Assignment(a, self.demand, self.value, self.groups, self.zone, self.capacity, self.prefer,
                          open_rows, keep_cols=keep)  # fmt: skip
        zones = sorted(set(asg.zone.tolist()))
        zmat = asg.zone_matrix(zones)
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
        m = _Milp("max")
        asg.add(m, n_ub=asg.mult, bonus=bonus)  # one session a week per venue
        m.constrain({"n": np.ones((1, asg.n_cls))}, ub=budget)
        asg.group_rows(m, needs)
        for r in self.regions:
            m.constrain({"n": zmat[[zones.index(r)]]}, lb=1.0)
        self._add_teams(m, zones, zmat)
        lp_bound = None
        if method == "milp" and greedy_within_gap and rel_gap > 0 and g_obj is not None:
            # The LP bound is close to HiGHS' final bound here (~0.1 %) and costs ~0.2 s, against
            # 1-2 s of branch and bound to find a rotation the greedy one may already match.
            lp = m.solve(time_limit, relax=True)
            if lp.status == "optimal" and _gap(g_obj, lp.objective) <= rel_gap:
                lp_bound = lp.objective
        if lp_bound is not None:
            n_cls, y, obj, status, bound = g_used, g_y, g_obj, "within_gap", lp_bound
            notes.append(f"greedy rotation kept: within {_gap(g_obj, lp_bound):.2%} of the LP bound")
        else:
            out = None
            if method == "milp":
                out = m.solve(time_limit, rel_gap=rel_gap)
                if out.status == "infeasible":
                    raise ModelError(self._infeasible(needs))
            else:
                out = m.solve(time_limit, relax=True)
                if out.status == "infeasible":
                    raise ModelError(self._infeasible(needs))
            choice = _pick(out, g_obj, method)
            if choice == "milp":
                n_cls, y, obj, status, bound = (
                    np.round(out.values["n"]),
                    out.values["y"],
                    out.objective,
                    out.status,
                    out.bound,
                )
            elif g_obj is not None:
                n_cls, y, obj = g_used, g_y, g_obj
                status = "greedy" if method == "greedy" or out.values is None else "time_limit"
                bound = out.bound if method == "milp" else out.objective
                if method == "milp":
                    notes.append(_greedy_note(bound))
            else:
                raise ModelError(
                    "no rotation meeting every constraint was found"
                    + (" within the time limit" if method == "milp" else " by the greedy heuristic")
                )
        res = _result(self.model, asg, n_cls, y, obj, status, bound, started, self.cost, self.threshold,
                      self.demand, covered0, notes)  # fmt: skip
        if not timetable:
            return CapacityResult(**{**res.__dict__, "notes": tuple(notes), "seconds": time.perf_counter() - started})
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
