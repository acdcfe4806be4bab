"""The shared builder of the capacitated models: merged venue classes and demand rows, assignment rows, checks.

Venues with the same reach, zone, capacity and preference are merged into one class, and demand rows with the
same wijk, value and reachable classes are merged, which keeps the model small without changing its optimum
(see :mod:`geoplanner.siting.capacitated` for the formulations).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from geoplanner.core.errors import ModelError
from geoplanner.siting.base import TOL, Milp, as_cost, relative_gap

__all__ = [
    "CapacityResult",
    "per_column",
    "check_capacity_inputs",
    "Assignment",
    "reach_and_open_rows",
    "group_needs",
    "capacity_result",
    "pick_solution",
]


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


def per_column(value: float | np.ndarray, n: int, what: str) -> np.ndarray:
    """Return one positive number per venue from a scalar or an array (refusing a wrong length or sign)."""
    arr = np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy() if np.ndim(value) == 0 else np.asarray(value)
    arr = np.asarray(arr, dtype=float).ravel()
    if arr.shape != (n,):
        raise ModelError(f"{what} has {arr.size} values for {n} venues")
    if not np.isfinite(arr).all() or (arr <= 0).any():
        raise ModelError(f"{what} must be positive numbers")
    return arr


def check_capacity_inputs(cost, threshold, demand, value, existing):
    """Check a capacitated model's inputs; return the cost matrix, demand, value and existing minutes per row."""
    cost = as_cost(cost)
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
        e = as_cost(existing, "existing")
        if e.shape[0] != n_dem:
            raise ModelError(f"existing has {e.shape[0]} rows for {n_dem} demand rows")
        ex = e.min(axis=1) if e.shape[1] else np.full(n_dem, np.inf)
    return cost, d, v, ex


class Assignment:
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
        """Number of (merged row, class) pairs within reach: one assignment variable each."""
        return self.pair_row.size

    def add(self, m: Milp, *, n_ub: np.ndarray, n_lb: np.ndarray | None = None, bonus: float = 0.0) -> None:
        """Add ``n`` (sessions per class), ``y`` (assignments) and the demand and capacity rows."""
        m.var("n", self.n_cls, obj=bonus * self.prefer, lb=0.0 if n_lb is None else n_lb, ub=n_ub, integer=True)
        m.var("y", self.n_pairs, obj=self.value[self.pair_row], ub=np.inf, integer=False)
        k = np.arange(self.n_pairs)
        ones = np.ones(self.n_pairs)
        m.constrain({"y": sparse.csr_matrix((ones, (self.pair_row, k)), shape=(self.n_rows, self.n_pairs))}, ub=self.D)
        cap_y = sparse.csr_matrix((ones, (self.pair_cls, k)), shape=(self.n_cls, self.n_pairs))
        m.constrain({"y": cap_y, "n": sparse.diags(-self.cap)}, ub=0.0)

    def group_rows(self, m: Milp, needs: dict[int, float]) -> None:
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
        m = Milp("max")
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
            if left > TOL:
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
            if left > TOL:
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


def reach_and_open_rows(cost, threshold, existing_min, demand, method: str):  # noqa: ANN001 - arrays
    """Check ``method``; return the reach matrix, the demand rows already covered and those still open."""
    if method not in ("milp", "greedy"):
        raise ModelError(f"unknown method {method!r}; use 'milp' or 'greedy'")
    a = sparse.csc_matrix(cost <= threshold)
    covered0 = existing_min <= threshold
    open_rows = ~covered0 & (demand > 0) & (np.asarray(a.sum(axis=1)).ravel() > 0)
    return a, covered0, open_rows


def group_needs(groups, share, d, covered0, open_rows, cap_at_reach=False, notes=None) -> dict[int, float]:
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
        if need > TOL * max(d[rows].sum(), 1.0):
            reachable = d[rows & open_rows].sum()
            if reachable < need - TOL * need and cap_at_reach:
                if notes is not None:
                    notes.append(
                        f"groep {g}: slechts {reachable:,.0f} van de {need:,.0f} benodigde consultaties wonen binnen "
                        "wandelafstand van een kandidaat-locatie; de ondergrens is daarop afgetopt"
                    )
                need = reachable
                if need <= TOL:
                    continue
            elif reachable < need - TOL * need:
                raise ModelError(
                    f"group {g}: {share:.0%} of its demand cannot be served: only {reachable:,.0f} of the "
                    f"{need:,.0f} consultations still needed live within the threshold of a candidate venue",
                    hint="lower the share per priority wijk, raise the walking threshold or widen the candidates",
                )
            needs[int(g)] = float(need)
    return needs


def capacity_result(  # noqa: ANN001 - arrays and the builder
    model, asg, n_cls, y, obj, status, bound, started, cost, thr, d, covered0, notes, timetable=()
):
    """Expand a solution over merged classes and rows back to venues and demand rows: a :class:`CapacityResult`."""
    n_cand = cost.shape[1]
    sessions, load, served = asg.expand(n_cls, y, d, n_cand)
    held = np.flatnonzero(sessions > 0)
    in_reach = (cost[:, held] <= thr).any(axis=1) if held.size else np.zeros(d.size, bool)
    cap = np.zeros(n_cand)
    for c, mem in enumerate(asg.members):
        cap[mem] = asg.cap[c]
    gap = 0.0 if status == "optimal" else (None if bound is None else relative_gap(obj, bound))
    return CapacityResult(
        model=model, objective=float(obj), status=status, bound=None if bound is None else float(bound), gap=gap,
        seconds=time.perf_counter() - started, sessions=sessions, load=load, capacity=cap, served=served,
        existing=covered0, in_reach=in_reach & ~covered0, timetable=tuple(timetable), notes=tuple(notes),
        size={"demand_rows": int(d.size), "merged_rows": asg.n_rows, "venues": n_cand, "venue_classes": asg.n_cls,
              "pairs": asg.n_pairs},
    )  # fmt: skip


def pick_solution(out, g_obj, method):
    """Return 'milp' or 'greedy': which solution to keep (the MILP one unless the greedy one is better)."""
    if method == "greedy" or out is None or out.values is None:
        return "greedy"
    if out.status == "optimal" or g_obj is None or out.objective >= g_obj - TOL * max(abs(g_obj), 1.0):
        return "milp"
    return "greedy"
