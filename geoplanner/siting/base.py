"""Shared parts of the location models: result type, input checks, the MILP builder, helpers.

Every model takes plain arrays, so it does not depend on how the walking times were made:

- ``cost``: minutes from each demand point (rows) to each candidate venue (columns), ``np.inf``
  where a venue is out of reach;
- ``weights``: the demand of each row (young children, possibly weighted by deprivation);
- ``existing``: minutes from each demand point to the services that stay open (columns); they
  count as already covering and are never chosen or closed by a model.

:class:`Milp` assembles named variable blocks and sparse constraints for
:func:`scipy.optimize.milp` (HiGHS), so each model reads like its formulation.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import NamedTuple, Self

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from geoplanner.core.errors import ModelError

#: Days of a working week, in Dutch (the timetable language).
DAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag")
#: Parts of a day (dagdelen) a team can hold a session in.
DAGDELEN = ("voormiddag", "namiddag")
SLOT_ORDER = tuple((d, p) for p in range(len(DAGDELEN)) for d in range(len(DAYS)))  # mornings first

# Relative tolerance when comparing objectives (covered weights are sums of floats).
TOL = 1e-9


#: Seconds allowed for an LP relaxation solved only for its bound (it takes well under a second here).
LP_BOUND_TIME_S = 60.0


def greedy_note(bound: float | None) -> str:
    """Say what a run that fell back on the greedy solution returns, bound or not."""
    if bound is None:
        return "HiGHS reached the time limit before any bound; the greedy solution is returned without one"
    return "HiGHS reached the time limit; the greedy solution is returned with the proven bound"


class Session(NamedTuple):
    """One line of a weekly timetable: ``team`` (1-based) holds a session at candidate ``site``."""

    team: int
    day: str
    dagdeel: str
    site: int


@dataclass(frozen=True, eq=False)
class SitingResult:
    """The outcome of a location model.

    Attributes
    ----------
    model
        ``'mclp'``, ``'lscp'``, ``'p_median'`` or ``'rotation'``.
    chosen
        Candidate column indices, in greedy marginal order (cut the list at any budget).
    marginal
        Covered demand each chosen site adds, given the sites before it (same order).
    marginal_objective
        Improvement of the model's own objective per site in that order (covered demand for
        the covering models and rotation, demand-weighted minutes saved for p-median, 1 site
        for set covering).
    objective
        The model's objective: covered demand including existing services (MCLP, rotation),
        number of new sites (LSCP), demand-weighted minutes to the nearest open site (p-median).
    status
        ``'optimal'`` (proven by HiGHS), ``'time_limit'`` (best found before the limit) or
        ``'greedy'`` (greedy heuristic).
    bound
        Best proven bound on the objective (equal to it when optimal).
    gap
        Relative gap ``|bound - objective| / |objective|`` (0 when optimal).
    seconds
        Wall-clock time of the solve.
    covered
        Per demand row: within the threshold of an existing service or a chosen site.
    nearest
        Per demand row: minutes to the nearest open site (existing or chosen), ``inf`` if none.
    sessions
        Rotation only: weekly sessions per chosen site (same order as ``chosen``).
    timetable
        Rotation only: the weekly timetable.
    notes
        Plain-language remarks (excluded demand, unused budget, fallback used).
    """

    model: str
    chosen: tuple[int, ...]
    marginal: tuple[float, ...]
    marginal_objective: tuple[float, ...]
    objective: float
    status: str
    bound: float | None
    gap: float | None
    seconds: float
    covered: np.ndarray
    nearest: np.ndarray
    sessions: tuple[int, ...] = ()
    timetable: tuple[Session, ...] = ()
    notes: tuple[str, ...] = field(default=())


# ---------------------------------------------------------------------------------------------
# Input checks shared by all models
# ---------------------------------------------------------------------------------------------


def as_cost(cost: np.ndarray, name: str = "cost") -> np.ndarray:
    """Return ``cost`` as a 2-D float array, refusing other shapes and negative or NaN times."""
    arr = np.asarray(cost, dtype=float)
    if arr.ndim != 2:
        raise ModelError(f"{name} must be a 2-D matrix (demand × sites), got {arr.ndim} dimension(s)")
    if np.isnan(arr).any():
        raise ModelError(f"{name} contains NaN; use np.inf for unreachable pairs")
    if (arr < 0).any():
        raise ModelError(f"{name} contains negative travel times")
    return arr


def check_common(
    cost: np.ndarray, threshold: float, weights: np.ndarray | None, existing: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check the inputs every model shares; return the cost matrix, the weights and the existing times."""
    cost = as_cost(cost)
    n_dem, n_cand = cost.shape
    if n_dem == 0:
        raise ModelError("no demand: the demand set is empty", hint="check the demand filter of the scenario")
    if n_cand == 0:
        raise ModelError("no candidate venues to choose from", hint="widen the candidate selection")
    if not (isinstance(threshold, int | float) and math.isfinite(threshold) and threshold > 0):
        raise ModelError(f"threshold must be a positive number of minutes, got {threshold!r}")
    w = np.ones(n_dem) if weights is None else np.asarray(weights, dtype=float).ravel()
    if w.shape != (n_dem,):
        raise ModelError(f"weights has {w.size} values for {n_dem} demand rows")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ModelError("weights must be finite and non-negative")
    if w.sum() <= 0:
        raise ModelError("no demand: all demand weights are zero", hint="check the demand filter of the scenario")
    if existing is None:
        ex = np.full(n_dem, np.inf)
    else:
        e = as_cost(existing, "existing")
        if e.shape[0] != n_dem:
            raise ModelError(f"existing has {e.shape[0]} rows for {n_dem} demand rows")
        ex = e.min(axis=1) if e.shape[1] else np.full(n_dem, np.inf)
    return cost, w, ex


def check_k(k: int, n_cand: int, what: str = "k") -> int:
    """Return ``k`` when it is a whole number from 1 to the number of candidates."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ModelError(f"{what} must be a positive whole number, got {k!r}")
    if k > n_cand:
        raise ModelError(
            f"{what}={k} is larger than the number of candidate venues ({n_cand})",
            hint="lower the number of sites or widen the candidate selection",
        )
    return int(k)


# ---------------------------------------------------------------------------------------------
# The shared MILP builder
# ---------------------------------------------------------------------------------------------


class _Outcome(NamedTuple):
    values: dict[str, np.ndarray] | None
    objective: float | None
    bound: float | None
    status: str  # 'optimal' | 'within_gap' | 'time_limit' | 'node_limit' | 'infeasible' | 'none'


class Milp:
    """Assemble named variable blocks and sparse constraints, then call ``scipy.optimize.milp``.

    Models add variables (``var``) with their objective coefficients and constraints
    (``constrain``) as sparse blocks per variable name, so each model reads like its
    formulation.
    """

    def __init__(self, sense: str) -> None:
        self.sense = sense  # 'min' | 'max'
        self._blocks: dict[str, tuple[int, int]] = {}
        self._c: list[np.ndarray] = []
        self._lb: list[np.ndarray] = []
        self._ub: list[np.ndarray] = []
        self._int: list[np.ndarray] = []
        self._rows: list[tuple[dict[str, sparse.spmatrix], np.ndarray, np.ndarray]] = []
        self.n = 0

    def var(self, name: str, size: int, *, obj: np.ndarray | float = 0.0, lb=0.0, ub=1.0, integer=True) -> None:
        """Add a block of ``size`` variables with objective coefficients ``obj`` and bounds."""
        self._blocks[name] = (self.n, size)
        self._c.append(np.broadcast_to(np.asarray(obj, dtype=float), (size,)).copy())
        self._lb.append(np.broadcast_to(np.asarray(lb, dtype=float), (size,)).copy())
        self._ub.append(np.broadcast_to(np.asarray(ub, dtype=float), (size,)).copy())
        self._int.append(np.full(size, 1 if integer else 0))
        self.n += size

    def constrain(self, terms: dict[str, sparse.spmatrix | np.ndarray], lb=-np.inf, ub=np.inf) -> None:
        """Add ``lb <= sum(terms[name] @ var[name]) <= ub`` (one row per matrix row)."""
        mats = {k: sparse.csr_matrix(v) for k, v in terms.items()}
        m = next(iter(mats.values())).shape[0]
        if m == 0:
            return
        self._rows.append((mats, np.broadcast_to(lb, (m,)).astype(float), np.broadcast_to(ub, (m,)).astype(float)))

    def _matrix(self, mats: dict[str, sparse.csr_matrix]) -> sparse.csr_matrix:
        m = next(iter(mats.values())).shape[0]
        parts = []
        for name, (_, size) in self._blocks.items():
            parts.append(mats.get(name, sparse.csr_matrix((m, size))))
        return sparse.hstack(parts, format="csr")

    def solve(
        self, time_limit: float, *, relax: bool = False, rel_gap: float = 0.0, node_limit: int | None = None
    ) -> _Outcome:
        """Solve (or solve the LP relaxation) and return values per block, objective and bound.

        ``rel_gap`` > 0 lets HiGHS stop once its incumbent is within that relative gap of the
        bound; the status is then ``'within_gap'`` unless the gap is in fact closed. ``node_limit``
        stops the branch and bound after that many nodes (status ``'node_limit'``): unlike the
        time limit, the same model then gives the same answer on any machine and under any load.
        """
        sign = -1.0 if self.sense == "max" else 1.0
        c = sign * np.concatenate(self._c)
        integrality = np.zeros(self.n) if relax else np.concatenate(self._int)
        constraints = [LinearConstraint(self._matrix(m), lo, hi) for m, lo, hi in self._rows]
        res = milp(
            c,
            integrality=integrality,
            bounds=Bounds(np.concatenate(self._lb), np.concatenate(self._ub)),
            constraints=constraints,
            # mip_rel_gap=0: "optimal" means proven optimal, not within HiGHS' default 0.01 %.
            options={
                "time_limit": float(time_limit),
                "presolve": True,
                "mip_rel_gap": float(rel_gap),
                **({"node_limit": int(node_limit)} if node_limit and not relax else {}),
            },
        )
        if res.status == 2:
            return _Outcome(None, None, None, "infeasible")
        if res.x is None:
            bound = getattr(res, "mip_dual_bound", None)
            return _Outcome(None, None, None if bound is None else sign * bound, "none")
        values = {name: res.x[o : o + s] for name, (o, s) in self._blocks.items()}
        objective = sign * res.fun
        bound = getattr(res, "mip_dual_bound", None)
        stopped = "node_limit" if res.status == 4 and node_limit and not relax else "time_limit"
        if bound is None or (res.status == 0 and rel_gap == 0.0):
            return _Outcome(values, objective, objective, "optimal" if res.status == 0 else stopped)
        bound = sign * bound
        if res.status != 0:
            return _Outcome(values, objective, bound, stopped)
        closed = abs(bound - objective) <= 1e-9 * max(abs(objective), 1.0)
        return _Outcome(values, objective, objective if closed else bound, "optimal" if closed else "within_gap")


def relative_gap(objective: float, bound: float | None) -> float | None:
    """Return the relative gap between a solution's objective and the proven bound (None without a bound)."""
    if bound is None or not math.isfinite(bound):
        return None
    return abs(bound - objective) / max(abs(objective), 1e-12)


# ---------------------------------------------------------------------------------------------
# Coverage helpers
# ---------------------------------------------------------------------------------------------


def reach_matrix(cost: np.ndarray, threshold: float) -> sparse.csc_matrix:
    """Return the 0/1 coverage matrix (demand × candidates) as sparse CSC."""
    return sparse.csc_matrix(cost <= threshold, dtype=float)


def _greedy_order(
    a: sparse.csc_matrix, w: np.ndarray, covered0: np.ndarray, chosen: list[int] | np.ndarray
) -> tuple[list[int], list[float]]:
    """Order ``chosen`` greedily by added covered weight; ties by column index."""
    rest = sorted(int(j) for j in chosen)
    uncovered = (~covered0).astype(float) * w
    order, gains = [], []
    while rest:
        g = a[:, rest].T @ uncovered
        best = int(np.argmax(g))  # first maximum = lowest index among ties
        j = rest.pop(best)
        order.append(j)
        gains.append(float(g[best]))
        col = a[:, [j]].toarray().ravel() > 0
        uncovered[col] = 0.0
    return order, gains


def greedy_max_cover(
    a: sparse.csc_matrix, w: np.ndarray, covered0: np.ndarray, k: int, forced: list[int] = ()
) -> list[int]:
    """Greedy maximal covering: repeatedly add the column that covers most uncovered weight."""
    uncovered = (~covered0).astype(float) * w
    picked = list(forced)
    for j in forced:
        uncovered[a[:, [j]].toarray().ravel() > 0] = 0.0
    while len(picked) < k:
        g = a.T @ uncovered
        g[picked] = -1.0
        j = int(np.argmax(g))
        if g[j] <= 0:
            break
        picked.append(j)
        uncovered[a[:, [j]].toarray().ravel() > 0] = 0.0
    return picked


def unique_rows(
    a: sparse.csr_matrix, w: np.ndarray, label: np.ndarray | None = None
) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """Merge demand rows reached by exactly the same candidates (and with the same ``label``).

    Many demand points share a coverage pattern; merging them (summing their weights) shrinks
    the MILP without changing its optimum. Returns the unique rows, their weights and, per
    original row, the index of its merged row.
    """
    a = sparse.csr_matrix(a)
    a.sort_indices()
    keys: dict[tuple[int, bytes], int] = {}
    groups = np.empty(a.shape[0], dtype=int)
    lab = np.zeros(a.shape[0], dtype=int) if label is None else np.asarray(label, dtype=int)
    for i in range(a.shape[0]):
        key = (int(lab[i]), a.indices[a.indptr[i] : a.indptr[i + 1]].tobytes())
        groups[i] = keys.setdefault(key, len(keys))
    first = np.zeros(len(keys), dtype=int)
    first[groups[::-1]] = np.arange(a.shape[0])[::-1]
    return a[first], np.bincount(groups, weights=w, minlength=len(keys)), groups


def undominated(a: sparse.csc_matrix, region: np.ndarray | None = None) -> np.ndarray:
    """Return the columns worth keeping: those that cover something and are not dominated.

    Column ``j`` is dominated when another column (of the same region, if regions matter)
    covers every row ``j`` covers; of identical columns the lowest index is kept. Swapping a
    dominated site for its dominator never lowers coverage, so the optimum is unchanged.
    """
    inter = (a.T @ a).toarray()
    size = np.diag(inter).copy()
    n = a.shape[1]
    subset = inter >= size[:, None]  # subset[j, j2]: j's rows all covered by j2
    np.fill_diagonal(subset, False)
    if region is not None:
        subset &= region[:, None] == region[None, :]
    same = subset & subset.T
    lower = np.arange(n)[None, :] < np.arange(n)[:, None]
    dominated = (subset & ~same).any(axis=1) | (same & lower).any(axis=1)
    return np.flatnonzero(~dominated & (size > 0))


def finish(
    model: str,
    *,
    cost: np.ndarray,
    threshold: float,
    w: np.ndarray,
    ex: np.ndarray,
    chosen: list[int],
    objective: float,
    status: str,
    bound: float | None,
    started: float,
    notes: list[str],
    order_by: str = "cover",
    drop_useless: bool = True,
    budget: int | None = None,
) -> SitingResult:
    """Turn a model's chosen sites into a :class:`SitingResult`: marginal order, coverage, gap and notes."""
    a = reach_matrix(cost, threshold)
    covered0 = ex <= threshold
    if order_by == "cover":
        order, gains = _greedy_order(a, w, covered0, chosen)
        mobj = gains
    else:  # p-median: order by minutes saved
        order, mobj = _greedy_time_order(cost, w, ex, chosen)
        gains = _gains_in_order(a, w, covered0, order)
    if drop_useless:
        keep = [i for i, g in enumerate(gains) if g > TOL * max(w.sum(), 1.0)]
        order, gains, mobj = [order[i] for i in keep], [gains[i] for i in keep], [mobj[i] for i in keep]
    if budget is not None and len(order) < budget:
        notes.append(f"only {len(order)} of the {budget} allowed sites add covered demand; the others are left out")
    nearest = ex.copy()
    if order:
        nearest = np.minimum(nearest, cost[:, order].min(axis=1))
    seconds = time.perf_counter() - started
    if status == "optimal":
        bound = objective
    return SitingResult(
        model=model,
        chosen=tuple(order),
        marginal=tuple(gains),
        marginal_objective=tuple(float(x) for x in mobj),
        objective=float(objective),
        status=status,
        bound=None if bound is None else float(bound),
        gap=0.0 if status == "optimal" else relative_gap(objective, bound),
        seconds=seconds,
        covered=nearest <= threshold,
        nearest=nearest,
        notes=tuple(notes),
    )


def _gains_in_order(a: sparse.csc_matrix, w: np.ndarray, covered0: np.ndarray, order: list[int]) -> list[float]:
    uncovered = (~covered0).astype(float) * w
    gains = []
    for j in order:
        col = a[:, [j]].toarray().ravel() > 0
        gains.append(float(uncovered[col].sum()))
        uncovered[col] = 0.0
    return gains


def _greedy_time_order(
    cost: np.ndarray, w: np.ndarray, ex: np.ndarray, chosen: list[int]
) -> tuple[list[int], list[float]]:
    """Order sites greedily by demand-weighted minutes saved (unreachable rows ignored)."""
    reach = np.isfinite(np.minimum(ex, cost[:, chosen].min(axis=1))) if chosen else np.isfinite(ex)
    cur = np.where(reach, ex, 0.0)
    big = cost[:, chosen].max(initial=0.0, where=np.isfinite(cost[:, chosen])) if chosen else 0.0
    cur = np.where(np.isfinite(cur), cur, big + 1e6)  # rows only chosen sites reach
    rest = sorted(chosen)
    order, saved = [], []
    while rest:
        sub = np.where(reach[:, None], np.minimum(cost[:, rest], cur[:, None]), cur[:, None])
        gain = (w[:, None] * (cur[:, None] - sub)).sum(axis=0)
        best = int(np.argmax(gain))
        j = rest.pop(best)
        order.append(j)
        saved.append(float(gain[best]))
        cur = np.where(reach, np.minimum(cur, cost[:, j]), cur)
    return order, saved


# ---------------------------------------------------------------------------------------------
# Maximal covering
# ---------------------------------------------------------------------------------------------


class KSites:
    """Shared constructor of the models that open exactly ``k`` new sites (MCLP, p-median)."""

    def __init__(self, cost: np.ndarray, threshold: float, w: np.ndarray, ex: np.ndarray, k: int) -> None:
        self.cost, self.threshold, self.weights, self.existing_min, self.k = cost, threshold, w, ex, k

    @classmethod
    def from_cost_matrix(
        cls,
        cost: np.ndarray,
        threshold: float,
        weights: np.ndarray | None = None,
        *,
        k: int,
        existing: np.ndarray | None = None,
    ) -> Self:
        """Build the model from a demand × candidate matrix of minutes.

        Parameters
        ----------
        cost
            Minutes from each demand row to each candidate (``np.inf`` if unreachable).
        threshold
            Walking time (minutes) within which a site covers a demand row (for p-median it is
            used only to report coverage and marginal covered demand).
        weights
            Demand per row (default 1 each).
        k
            Number of new sites.
        existing
            Minutes from each demand row to the services that stay open.

        Returns
        -------
        The model, ready to ``solve``.
        """
        cost, w, ex = check_common(cost, threshold, weights, existing)
        return cls(cost, float(threshold), w, ex, check_k(k, cost.shape[1]))


def check_groups(groups: np.ndarray | None, n_dem: int) -> np.ndarray | None:
    """Return the group label per demand point as integers (-1: in no group), or None."""
    if groups is None:
        return None
    g = np.asarray(groups).ravel()
    if g.shape != (n_dem,):
        raise ModelError(f"groups has {g.size} labels for {n_dem} demand rows")
    return g.astype(int)


def check_share(share: float, what: str) -> float:
    """Return ``share`` when it is a fraction in (0, 1]."""
    if not (isinstance(share, int | float) and 0 < share <= 1):
        raise ModelError(f"{what} must be a fraction in (0, 1], got {share!r}")
    return float(share)


def group_requirements(
    groups: np.ndarray | None, share: float | None, group_share: float, w: np.ndarray, covered0: np.ndarray
) -> tuple[np.ndarray, list[tuple[np.ndarray, float]]]:
    """Translate coverage targets into (required rows, [(row mask, weight still needed)]).

    Rows that must each be covered become per-row constraints (tighter than a sum); targets on
    a share of weight become one sum constraint per group.
    """
    n = w.size
    required = np.zeros(n, bool)
    sums: list[tuple[np.ndarray, float]] = []
    if groups is None and share is None:
        required = (w > 0) & ~covered0
    if groups is not None:
        labels = sorted(set(groups[groups >= 0].tolist()))
        for g in labels:
            rows = (groups == g) & (w > 0)
            if group_share >= 1.0:
                required |= rows & ~covered0
            else:
                need = group_share * w[rows].sum() - w[rows & covered0].sum()
                if need > TOL * max(w[rows].sum(), 1.0):
                    sums.append((rows & ~covered0, need))
    if share is not None:
        need = share * w.sum() - w[covered0].sum()
        if need > TOL * w.sum():
            sums.append((~covered0 & (w > 0), need))
    return required, sums


def covers(a: sparse.csc_matrix, cols: list[int]) -> np.ndarray:
    """Return which demand points the chosen columns ``cols`` of the reach matrix cover."""
    if not cols:
        return np.zeros(a.shape[0], bool)
    return np.asarray(a[:, cols].sum(axis=1)).ravel() > 0
