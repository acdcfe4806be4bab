"""Location models for consultation sites: maximal covering, set covering, p-median, rotation.

Every model takes plain arrays, so it does not depend on how the walking times were made:

- ``cost``: minutes from each demand point (rows) to each candidate venue (columns), ``np.inf``
  where a venue is out of reach;
- ``weights``: the demand of each row (young children, possibly weighted by deprivation);
- ``existing``: minutes from each demand point to the services that stay open (columns); they
  count as already covering and are never chosen or closed by a model.

A model is built with ``Model.from_cost_matrix(...)`` and solved exactly with
:func:`scipy.optimize.milp` (HiGHS) under a time limit. When HiGHS cannot prove optimality in
time, the better of its incumbent and a greedy solution is returned with the proven bound and
the gap; with ``method="greedy"`` (or when HiGHS finds nothing) the greedy solution is returned
with the LP-relaxation bound, so the reported gap is always an honest upper bound on the loss.

Each result lists the chosen venues in *greedy marginal order*: the first site adds the most
covered demand, each next one the most given those before it, so the list can be cut at any
budget and ``marginal[i]`` says what the i-th site adds.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import NamedTuple, Self

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from geoplanner.errors import ModelError

__all__ = [
    "DAYS",
    "DAGDELEN",
    "Session",
    "SitingResult",
    "MaximalCovering",
    "SetCovering",
    "PMedian",
    "Rotation",
]

#: Days of a working week, in Dutch (the timetable language).
DAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag")
#: Parts of a day (dagdelen) a team can hold a session in.
DAGDELEN = ("voormiddag", "namiddag")
_SLOTS = tuple((d, p) for p in range(len(DAGDELEN)) for d in range(len(DAYS)))  # mornings first

# Relative tolerance when comparing objectives (covered weights are sums of floats).
_TOL = 1e-9


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


def _as_cost(cost: np.ndarray, name: str = "cost") -> np.ndarray:
    arr = np.asarray(cost, dtype=float)
    if arr.ndim != 2:
        raise ModelError(f"{name} must be a 2-D matrix (demand × sites), got {arr.ndim} dimension(s)")
    if np.isnan(arr).any():
        raise ModelError(f"{name} contains NaN; use np.inf for unreachable pairs")
    if (arr < 0).any():
        raise ModelError(f"{name} contains negative travel times")
    return arr


def _check_common(
    cost: np.ndarray, threshold: float, weights: np.ndarray | None, existing: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cost = _as_cost(cost)
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
        e = _as_cost(existing, "existing")
        if e.shape[0] != n_dem:
            raise ModelError(f"existing has {e.shape[0]} rows for {n_dem} demand rows")
        ex = e.min(axis=1) if e.shape[1] else np.full(n_dem, np.inf)
    return cost, w, ex


def _check_k(k: int, n_cand: int, what: str = "k") -> int:
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
    status: str  # 'optimal' | 'time_limit' | 'none'


class _Milp:
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

    def solve(self, time_limit: float, *, relax: bool = False) -> _Outcome:
        """Solve (or solve the LP relaxation) and return values per block, objective and bound."""
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
            options={"time_limit": float(time_limit), "presolve": True, "mip_rel_gap": 0.0},
        )
        if res.status == 2:
            return _Outcome(None, None, None, "infeasible")
        if res.x is None:
            bound = getattr(res, "mip_dual_bound", None)
            return _Outcome(None, None, None if bound is None else sign * bound, "none")
        values = {name: res.x[o : o + s] for name, (o, s) in self._blocks.items()}
        objective = sign * res.fun
        bound = getattr(res, "mip_dual_bound", None)
        bound = objective if (bound is None or res.status == 0) else sign * bound
        return _Outcome(values, objective, bound, "optimal" if res.status == 0 else "time_limit")


def _gap(objective: float, bound: float | None) -> float | None:
    if bound is None or not math.isfinite(bound):
        return None
    return abs(bound - objective) / max(abs(objective), 1e-12)


# ---------------------------------------------------------------------------------------------
# Coverage helpers
# ---------------------------------------------------------------------------------------------


def _reach(cost: np.ndarray, threshold: float) -> sparse.csc_matrix:
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


def _greedy_max_cover(
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


def _unique_rows(
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


def _undominated(a: sparse.csc_matrix, region: np.ndarray | None = None) -> np.ndarray:
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


def _finish(
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
    a = _reach(cost, threshold)
    covered0 = ex <= threshold
    if order_by == "cover":
        order, gains = _greedy_order(a, w, covered0, chosen)
        mobj = gains
    else:  # p-median: order by minutes saved
        order, mobj = _greedy_time_order(cost, w, ex, chosen)
        gains = _gains_in_order(a, w, covered0, order)
    if drop_useless:
        keep = [i for i, g in enumerate(gains) if g > _TOL * max(w.sum(), 1.0)]
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
        gap=0.0 if status == "optimal" else _gap(objective, bound),
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


class _KSites:
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
        cost, w, ex = _check_common(cost, threshold, weights, existing)
        return cls(cost, float(threshold), w, ex, _check_k(k, cost.shape[1]))


class MaximalCovering(_KSites):
    """Maximal covering location problem (MCLP).

    Choose at most ``k`` candidate venues to maximise the demand within ``threshold`` minutes
    of an open site; demand already within reach of an existing service counts as covered::

        max  sum_i w_i z_i
        s.t. z_i <= sum_j a_ij x_j      (i not covered by existing services)
             sum_j x_j <= k
             x_j in {0, 1},  0 <= z_i <= 1

    Rows with the same coverage pattern are merged before solving (same optimum).
    """

    model = "mclp"

    def solve(self, *, time_limit: float = 20.0, method: str = "milp") -> SitingResult:
        """Solve exactly with HiGHS (``method='milp'``) or with the greedy heuristic.

        Parameters
        ----------
        time_limit
            Seconds HiGHS may spend before the best solution so far is returned.
        method
            ``'milp'`` or ``'greedy'``.

        Returns
        -------
        SitingResult
        """
        started = time.perf_counter()
        a = _reach(self.cost, self.threshold)
        covered0 = self.existing_min <= self.threshold
        base = float(self.weights[covered0].sum())
        open_rows = (~covered0) & (self.weights > 0) & (np.asarray(a.sum(axis=1)).ravel() > 0)
        if not open_rows.any():
            raise ModelError(
                f"no candidate venue is within {self.threshold:g} min of any demand not yet covered",
                hint="raise the walking threshold or widen the candidate selection",
            )
        sub = sparse.csc_matrix(a[np.flatnonzero(open_rows)])
        useful = _undominated(sub)
        sub, sw, _ = _unique_rows(sub[:, useful], self.weights[open_rows])
        sub = sparse.csc_matrix(sub)
        k = min(self.k, useful.size)

        greedy = useful[_greedy_max_cover(sub, sw, np.zeros(sub.shape[0], bool), k)].tolist()
        g_obj = base + float(sw @ (sub[:, np.searchsorted(useful, greedy)].sum(axis=1).A1 > 0))

        def build() -> _Milp:
            m = _Milp("max")
            m.var("x", useful.size)
            m.var("z", sub.shape[0], obj=sw, integer=False)
            m.constrain({"z": sparse.identity(sub.shape[0]), "x": -sub}, ub=0.0)
            m.constrain({"x": np.ones((1, useful.size))}, ub=k)
            return m

        chosen, obj, status, bound, notes = self._pick(build, greedy, g_obj, base, useful, method, time_limit)
        return _finish(
            self.model, cost=self.cost, threshold=self.threshold, w=self.weights, ex=self.existing_min,
            chosen=chosen, objective=obj, status=status, bound=bound, started=started, notes=notes, budget=self.k,
        )  # fmt: skip

    @staticmethod
    def _pick(build, greedy, g_obj, base, useful, method, time_limit):
        """Run MILP or greedy for a maximisation; return chosen columns, objective, status, bound."""
        notes: list[str] = []
        if method not in ("milp", "greedy"):
            raise ModelError(f"unknown method {method!r}; use 'milp' or 'greedy'")
        m = build()
        if method == "greedy":
            lp = m.solve(time_limit, relax=True)
            return greedy, g_obj, "greedy", None if lp.objective is None else base + lp.objective, notes
        out = m.solve(time_limit)
        if out.status == "infeasible":
            raise ModelError("the model has no feasible solution")
        if out.status == "optimal":
            return useful[out.values["x"] > 0.5].tolist(), base + out.objective, "optimal", None, notes
        bound = None if out.bound is None else base + out.bound
        if out.values is not None and base + out.objective >= g_obj:
            return useful[out.values["x"] > 0.5].tolist(), base + out.objective, "time_limit", bound, notes
        notes.append("HiGHS reached the time limit; the greedy solution is returned with the proven bound")
        if bound is None:
            lp = build().solve(time_limit, relax=True)
            bound = None if lp.objective is None else base + lp.objective
        return greedy, g_obj, "time_limit" if out.values is not None else "greedy", bound, notes


# ---------------------------------------------------------------------------------------------
# Set covering
# ---------------------------------------------------------------------------------------------


def _check_groups(groups: np.ndarray | None, n_dem: int) -> np.ndarray | None:
    if groups is None:
        return None
    g = np.asarray(groups).ravel()
    if g.shape != (n_dem,):
        raise ModelError(f"groups has {g.size} labels for {n_dem} demand rows")
    return g.astype(int)


def _check_share(share: float, what: str) -> float:
    if not (isinstance(share, int | float) and 0 < share <= 1):
        raise ModelError(f"{what} must be a fraction in (0, 1], got {share!r}")
    return float(share)


def _group_requirements(
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
                if need > _TOL * max(w[rows].sum(), 1.0):
                    sums.append((rows & ~covered0, need))
    if share is not None:
        need = share * w.sum() - w[covered0].sum()
        if need > _TOL * w.sum():
            sums.append((~covered0 & (w > 0), need))
    return required, sums


class SetCovering:
    """Location set covering problem (LSCP).

    The fewest candidate venues such that every required demand row is within ``threshold``
    minutes of an open site (existing services count), or such that a share of the demand of
    each group (``groups``, e.g. priority wijken) or of all demand (``share``) is covered::

        min  sum_j x_j
        s.t. sum_j a_ij x_j >= 1                   (each required row)
             sum_{i in G} w_i z_i >= need_G        (each share target G)
             z_i <= sum_j a_ij x_j,  x_j in {0, 1},  0 <= z_i <= 1

    Without ``groups`` and ``share`` every row with positive weight is required.
    """

    model = "lscp"

    def __init__(self, cost, threshold, w, ex, groups, group_share, share) -> None:
        self.cost, self.threshold, self.weights, self.existing_min = cost, threshold, w, ex
        self.groups, self.group_share, self.share = groups, group_share, share

    @classmethod
    def from_cost_matrix(
        cls,
        cost: np.ndarray,
        threshold: float,
        weights: np.ndarray | None = None,
        *,
        groups: np.ndarray | None = None,
        group_share: float = 1.0,
        share: float | None = None,
        existing: np.ndarray | None = None,
    ) -> SetCovering:
        """Build the model from a demand × candidate matrix of minutes.

        Parameters
        ----------
        cost, threshold, weights, existing
            As in :meth:`MaximalCovering.from_cost_matrix`.
        groups
            Integer label per demand row (``-1``: no target), e.g. the priority wijk.
        group_share
            Share of each group's demand that must be covered (1: every row of the group).
        share
            Share of all demand that must be covered.

        Returns
        -------
        SetCovering
        """
        cost, w, ex = _check_common(cost, threshold, weights, existing)
        groups = _check_groups(groups, cost.shape[0])
        group_share = _check_share(group_share, "group_share")
        share = None if share is None else _check_share(share, "share")
        return cls(cost, float(threshold), w, ex, groups, group_share, share)

    def solve(self, *, time_limit: float = 20.0, method: str = "milp") -> SitingResult:
        """Solve exactly with HiGHS or greedily; see :meth:`MaximalCovering.solve`."""
        started = time.perf_counter()
        if method not in ("milp", "greedy"):
            raise ModelError(f"unknown method {method!r}; use 'milp' or 'greedy'")
        a = _reach(self.cost, self.threshold)
        covered0 = self.existing_min <= self.threshold
        required, sums = _group_requirements(self.groups, self.share, self.group_share, self.weights, covered0)
        reachable = np.asarray(a.sum(axis=1)).ravel() > 0
        lost = required & ~reachable
        if lost.any():
            raise ModelError(
                f"{int(lost.sum())} required demand row(s) have no candidate venue within {self.threshold:g} min "
                f"(first: row {int(np.flatnonzero(lost)[0])})",
                hint="raise the walking threshold, widen the candidate selection or lower the coverage target",
            )
        for rows, need in sums:
            if self.weights[rows & reachable].sum() < need - _TOL * need:
                raise ModelError(
                    f"the coverage target cannot be met: at most {self.weights[rows & reachable].sum():.1f} "
                    f"of the {need:.1f} demand still needed is within {self.threshold:g} min of a candidate",
                    hint="raise the walking threshold or lower the coverage target",
                )
        notes: list[str] = []
        if not required.any() and not sums:
            notes.append("the existing services already meet the coverage target; no new site is needed")
            return _finish(
                self.model, cost=self.cost, threshold=self.threshold, w=self.weights, ex=self.existing_min,
                chosen=[], objective=0.0, status="optimal", bound=0.0, started=started, notes=notes,
            )  # fmt: skip

        greedy = self._greedy(a, required, sums)
        m = _Milp("min")
        n = self.cost.shape[1]
        m.var("x", n, obj=1.0)
        if sums:
            rows_any = np.zeros(self.weights.size, bool)
            for rows, _ in sums:
                rows_any |= rows
            idx = np.flatnonzero(rows_any)
            m.var("z", idx.size, integer=False)
            m.constrain({"z": sparse.identity(idx.size), "x": -a[idx]}, ub=0.0)
            for rows, need in sums:
                m.constrain({"z": sparse.csr_matrix((self.weights * rows)[idx][None, :])}, lb=need)
        m.constrain({"x": a[np.flatnonzero(required)]}, lb=1.0)
        if method == "greedy":
            lp = m.solve(time_limit, relax=True)
            bound = None if lp.objective is None else math.ceil(lp.objective - 1e-6)
            chosen, obj, status = greedy, float(len(greedy)), "greedy"
        else:
            out = m.solve(time_limit)
            if out.status == "infeasible":
                raise ModelError("the coverage target cannot be met with the candidate venues")
            bound = None if out.bound is None else math.ceil(out.bound - 1e-6)
            if out.values is not None and (out.status == "optimal" or out.objective <= len(greedy)):
                chosen = np.flatnonzero(out.values["x"] > 0.5).tolist()
                obj, status = float(len(chosen)), out.status
            else:
                notes.append("HiGHS reached the time limit; the greedy solution is returned with the proven bound")
                chosen, obj = greedy, float(len(greedy))
                status = "time_limit" if out.values is not None else "greedy"
        return _finish(
            self.model, cost=self.cost, threshold=self.threshold, w=self.weights, ex=self.existing_min,
            chosen=chosen, objective=obj, status=status, bound=bound, started=started, notes=notes,
            drop_useless=False,
        )  # fmt: skip

    def _greedy(self, a: sparse.csc_matrix, required: np.ndarray, sums: list[tuple[np.ndarray, float]]) -> list[int]:
        """Greedy set cover: add the site that closes most of the remaining (normalised) deficit."""
        req_left = required.astype(float)
        need_left = [need for _, need in sums]
        picked: list[int] = []
        while req_left.any() or any(n > _TOL for n in need_left):
            gain = a.T @ req_left
            for (rows, _), left in zip(sums, need_left, strict=True):
                if left > _TOL:
                    gain = gain + np.minimum(a.T @ (self.weights * rows * 1.0), left) / left
            gain[picked] = -1.0
            j = int(np.argmax(gain))
            col = a[:, [j]].toarray().ravel() > 0
            picked.append(j)
            for t, (rows, _) in enumerate(sums):
                need_left[t] -= float(self.weights[rows & col].sum())
            req_left[col] = 0.0
            sums = [(rows & ~col, n) for (rows, n) in sums]
        return picked


# ---------------------------------------------------------------------------------------------
# p-median
# ---------------------------------------------------------------------------------------------


class PMedian(_KSites):
    """p-median: choose ``k`` venues to minimise demand-weighted minutes to the nearest open site.

    Existing services stay open, so a demand row may be served by its nearest existing service::

        min  sum_i w_i (e_i y_i0 + sum_j c_ij y_ij)
        s.t. y_i0 + sum_j y_ij = 1,   y_ij <= x_j,   sum_j x_j = k

    Only pairs closer than the row's nearest existing service get a variable. Rows that no
    site and no existing service can reach are left out of the objective (and reported).
    """

    model = "p_median"

    def _objective(self, chosen: list[int], rows: np.ndarray) -> float:
        near = np.minimum(self.existing_min, self.cost[:, chosen].min(axis=1) if chosen else np.inf)
        return float((self.weights[rows] * near[rows]).sum())

    def solve(self, *, time_limit: float = 20.0, method: str = "milp") -> SitingResult:
        """Solve exactly with HiGHS or greedily; see :meth:`MaximalCovering.solve`."""
        started = time.perf_counter()
        if method not in ("milp", "greedy"):
            raise ModelError(f"unknown method {method!r}; use 'milp' or 'greedy'")
        cost, w, ex = self.cost, self.weights, self.existing_min
        reach_any = np.isfinite(cost).any(axis=1)
        rows = (w > 0) & (reach_any | np.isfinite(ex))
        notes: list[str] = []
        if not (rows & reach_any).any():
            raise ModelError(
                "no candidate venue can be reached from any demand point",
                hint="check the travel-time limit of the cost matrix or widen the candidate selection",
            )
        if (w > 0).sum() > rows.sum():
            notes.append(f"{int((w > 0).sum() - rows.sum())} demand row(s) reach no site and are left out")
        # Only pairs that beat the row's existing service matter.
        ii, jj = np.nonzero(np.isfinite(cost) & (cost < ex[:, None]) & rows[:, None])
        n_cand = cost.shape[1]
        idx = np.flatnonzero(rows)
        pos = np.full(w.size, -1)
        pos[idx] = np.arange(idx.size)
        has_ex = np.isfinite(ex[idx])
        k = self.k
        greedy = self._greedy(rows, k)
        m = _Milp("min")
        m.var("x", n_cand)
        m.var("y", ii.size, obj=w[ii] * cost[ii, jj], integer=False)
        m.var("y0", idx.size, obj=np.where(has_ex, w[idx] * np.where(has_ex, ex[idx], 0.0), 0.0),
              ub=has_ex.astype(float), integer=False)  # fmt: skip
        assign = sparse.csr_matrix((np.ones(ii.size), (pos[ii], np.arange(ii.size))), shape=(idx.size, ii.size))
        m.constrain({"y": assign, "y0": sparse.identity(idx.size)}, lb=1.0, ub=1.0)
        link_x = sparse.csr_matrix((-np.ones(ii.size), (np.arange(ii.size), jj)), shape=(ii.size, n_cand))
        m.constrain({"y": sparse.identity(ii.size), "x": link_x}, ub=0.0)
        m.constrain({"x": np.ones((1, n_cand))}, lb=k, ub=k)
        g_obj = self._objective(greedy, rows)
        if method == "greedy":
            lp = m.solve(time_limit, relax=True)
            chosen, obj, status, bound = greedy, g_obj, "greedy", lp.objective
        else:
            out = m.solve(time_limit)
            if out.status == "infeasible":
                raise ModelError("the p-median model has no feasible solution")
            if out.values is not None and (out.status == "optimal" or out.objective <= g_obj):
                chosen = np.flatnonzero(out.values["x"] > 0.5).tolist()
                obj, status, bound = self._objective(chosen, rows), out.status, out.bound
            else:
                notes.append("HiGHS reached the time limit; the greedy solution is returned with the proven bound")
                chosen, obj, bound = greedy, g_obj, out.bound
                status = "time_limit" if out.values is not None else "greedy"
        return _finish(
            self.model, cost=cost, threshold=self.threshold, w=w, ex=ex, chosen=chosen, objective=obj,
            status=status, bound=bound, started=started, notes=notes, order_by="time", drop_useless=False,
        )  # fmt: skip

    def _greedy(self, rows: np.ndarray, k: int) -> list[int]:
        """Greedy adding: each step opens the site that saves most weighted minutes."""
        big = np.nanmax(np.where(np.isfinite(self.cost), self.cost, np.nan)) + 1.0
        cur = np.where(np.isfinite(self.existing_min), self.existing_min, big * 10)
        c = np.where(np.isfinite(self.cost), self.cost, big * 10)
        w = self.weights * rows
        picked: list[int] = []
        for _ in range(k):
            saved = (w[:, None] * np.maximum(cur[:, None] - c, 0.0)).sum(axis=0)
            saved[picked] = -1.0
            j = int(np.argmax(saved))
            picked.append(j)
            cur = np.minimum(cur, c[:, j])
        return picked


# ---------------------------------------------------------------------------------------------
# Rotation of mobile teams
# ---------------------------------------------------------------------------------------------


class Rotation:
    """Weekly rotation of mobile consultation teams over candidate venues.

    ``teams`` teams each hold ``sessions`` sessions a week, in the 10 weekly slots (maandag to
    vrijdag, voormiddag and namiddag); at most one team per venue per slot.

    *Weekly covered demand* is defined as the demand within ``threshold`` minutes of at least one
    venue visited during the week (or of an existing service): a family is reached if a session
    is held within walking distance once a week, and a second visit to the same venue reaches no
    one new. Coverage therefore depends only on the set of venues visited, so the model chooses
    venues ``x_j`` and the slots are filled afterwards — exact, because any set of at most
    ``teams × sessions`` venues fits the week (each team fills its own slots; a venue appears
    once)::

        max  sum_i w_i z_i
        s.t. z_i <= sum_j a_ij x_j
             sum_j x_j <= teams × sessions
             sum_{i in G} w_i z_i >= need_G         (each group G, e.g. priority wijk)
             sum_{j in region r} x_j >= 1           (each region r in ``regions_required``)
             x_j in {0, 1},  0 <= z_i <= 1

    The region constraint balances the rotation over the LGNs: every LGN that has priority
    demand gets at least one session on its own territory. Sessions left over once every useful
    venue is visited go, one by one, to the venue whose covered demand per session is highest
    (repeat visits on other days; ties by index), up to one visit per slot.
    """

    model = "rotation"

    def __init__(self, cost, threshold, w, ex, teams, sessions, groups, group_share, site_region, regions) -> None:
        self.cost, self.threshold, self.weights, self.existing_min = cost, threshold, w, ex
        self.teams, self.sessions = teams, sessions
        self.groups, self.group_share = groups, group_share
        self.site_region, self.regions_required = site_region, regions

    @classmethod
    def from_cost_matrix(
        cls,
        cost: np.ndarray,
        threshold: float,
        weights: np.ndarray | None = None,
        *,
        teams: int,
        sessions: int,
        groups: np.ndarray | None = None,
        group_share: float = 1.0,
        site_region: np.ndarray | None = None,
        regions_required: list[int] | tuple[int, ...] = (),
        existing: np.ndarray | None = None,
    ) -> Rotation:
        """Build the model from a demand × candidate matrix of minutes.

        Parameters
        ----------
        cost, threshold, weights, existing
            As in :meth:`MaximalCovering.from_cost_matrix`.
        teams
            Number of mobile teams.
        sessions
            Sessions per team per week (at most 10: five days, two dagdelen).
        groups
            Integer label per demand row (``-1``: none): each group (priority wijk) must have
            ``group_share`` of its demand within reach of a session at least once a week.
        group_share
            Share of each group's demand to reach (1: every demand row of the group).
        site_region
            Region label (LGN) of each candidate venue.
        regions_required
            Regions that must get at least one session on their own territory.

        Returns
        -------
        Rotation
        """
        cost, w, ex = _check_common(cost, threshold, weights, existing)
        teams = _check_k(teams, 10**9, "teams")
        if isinstance(sessions, bool) or not isinstance(sessions, int | np.integer) or not 1 <= sessions <= 10:
            raise ModelError(f"sessions per team must be between 1 and {len(_SLOTS)}, got {sessions!r}")
        groups = _check_groups(groups, cost.shape[0])
        group_share = _check_share(group_share, "group_share")
        region = None if site_region is None else np.asarray(site_region).ravel().astype(int)
        if region is not None and region.shape != (cost.shape[1],):
            raise ModelError(f"site_region has {region.size} labels for {cost.shape[1]} candidates")
        regions = tuple(int(r) for r in regions_required)
        if regions and region is None:
            raise ModelError("regions_required needs site_region")
        for r in regions:
            if not (region == r).any():
                raise ModelError(
                    f"region {r} must get a session but has no candidate venue", hint="widen the candidate selection"
                )
        return cls(cost, float(threshold), w, ex, teams, int(sessions), groups, group_share, region, regions)

    def solve(self, *, time_limit: float = 20.0, method: str = "milp") -> SitingResult:
        """Solve exactly with HiGHS or greedily, then build the weekly timetable.

        Returns
        -------
        SitingResult
            With ``sessions`` (per chosen venue) and ``timetable``.
        """
        started = time.perf_counter()
        if method not in ("milp", "greedy"):
            raise ModelError(f"unknown method {method!r}; use 'milp' or 'greedy'")
        w = self.weights
        budget = self.teams * self.sessions
        a = _reach(self.cost, self.threshold)
        covered0 = self.existing_min <= self.threshold
        if budget < len(self.regions_required):
            raise ModelError(
                f"{self.teams} team(s) × {self.sessions} session(s) = {budget} sessions cannot visit all "
                f"{len(self.regions_required)} required LGNs",
                hint="add teams or sessions, or drop the balance over LGNs",
            )
        if self.groups is None:  # no priority groups: only maximise coverage
            required, sums = np.zeros(w.size, bool), []
        else:
            required, sums = _group_requirements(self.groups, None, self.group_share, w, covered0)
        reachable = np.asarray(a.sum(axis=1)).ravel() > 0
        if (required & ~reachable).any():
            raise ModelError(
                f"{int((required & ~reachable).sum())} demand row(s) of a priority group have no candidate venue "
                f"within {self.threshold:g} min",
                hint="raise the walking threshold, widen the candidate selection or lower the group share",
            )
        if not ((w > 0) & ~covered0 & reachable).any() and not self.regions_required:
            raise ModelError(
                f"no candidate venue is within {self.threshold:g} min of any demand not yet covered",
                hint="raise the walking threshold or widen the candidate selection",
            )
        base = float(w[covered0].sum())
        # Shrink the model: merge rows with the same venues and group, drop dominated venues
        # (within their LGN, so the balance constraint keeps its meaning).
        open_rows = np.flatnonzero(~covered0 & (w > 0))
        label = -1 if self.groups is None else self.groups[open_rows]
        label = np.where(required[open_rows], -2 - np.arange(open_rows.size), label)  # keep required rows apart
        cols = _undominated(sparse.csc_matrix(a[open_rows]), self.site_region)
        for r in self.regions_required:
            if not (self.site_region[cols] == r).any():
                cols = np.union1d(cols, np.flatnonzero(self.site_region == r)[:1])
        sub, sw, inverse = _unique_rows(a[open_rows][:, cols], w[open_rows], label)
        req_u = np.zeros(sub.shape[0], bool)
        req_u[inverse[required[open_rows]]] = True
        m = _Milp("max")
        m.var("x", cols.size)
        m.var("z", sub.shape[0], obj=sw, integer=False)
        m.constrain({"z": sparse.identity(sub.shape[0]), "x": -sub}, ub=0.0)
        m.constrain({"x": np.ones((1, cols.size))}, ub=budget)
        m.constrain({"x": sub[np.flatnonzero(req_u)]}, lb=1.0)
        group_w = np.zeros((sub.shape[0], len(sums)))
        for t, (rows, need) in enumerate(sums):
            group_w[:, t] = np.bincount(inverse, weights=(w * rows)[open_rows], minlength=sub.shape[0])
            m.constrain({"z": sparse.csr_matrix(group_w[None, :, t])}, lb=need)
            # Valid knapsack row: the venues' group weights (capped at the need) must add up to
            # the need. The LP already implies it, but as an explicit row HiGHS derives cover
            # cuts from it, which closes most of the gap the fractional z rows leave.
            m.constrain({"x": np.minimum(sub.T @ group_w[:, t], need)[None, :]}, lb=need)
        for r in self.regions_required:
            m.constrain({"x": (self.site_region[cols] == r).astype(float)[None, :]}, lb=1.0)
        notes: list[str] = []
        needs = np.array([need for _, need in sums])
        region_cols = None if self.site_region is None else self.site_region[cols]
        candidates = [self._greedy(a, covered0, required, sums, budget)]
        found = _swap_search(sub, sw, group_w, needs, req_u, region_cols, self.regions_required, budget)
        candidates.append(None if found is None else cols[found].tolist())
        scored = [(base + float(w[~covered0 & _covers(a, c)].sum()), c) for c in candidates if c is not None]
        g_obj, greedy = max(scored, key=lambda t: t[0]) if scored else (None, None)
        if method == "greedy":
            if greedy is None:
                raise ModelError("the greedy heuristic found no rotation that meets every constraint")
            lp = m.solve(time_limit, relax=True)
            if lp.status == "infeasible":
                raise ModelError(self._infeasible_message(budget))
            chosen, obj, status, bound = greedy, g_obj, "greedy", None if lp.objective is None else base + lp.objective
        else:
            out = m.solve(time_limit)
            if out.status == "infeasible":
                raise ModelError(self._infeasible_message(budget))
            bound = None if out.bound is None else base + out.bound
            if out.values is not None and (out.status == "optimal" or g_obj is None or base + out.objective >= g_obj):
                chosen = cols[out.values["x"] > 0.5].tolist()
                obj, status = base + out.objective, out.status
            elif greedy is not None:
                notes.append("HiGHS reached the time limit; the greedy solution is returned with the proven bound")
                chosen, obj = greedy, g_obj
                status = "time_limit" if out.values is not None else "greedy"
            else:
                raise ModelError("no rotation meeting every constraint was found within the time limit")
        res = _finish(
            self.model, cost=self.cost, threshold=self.threshold, w=w, ex=self.existing_min, chosen=chosen,
            objective=obj, status=status, bound=bound, started=started, notes=notes, drop_useless=False,
        )  # fmt: skip
        order = self._prune(res.chosen, res.marginal)
        if len(order) < len(res.chosen):
            res = _finish(
                self.model, cost=self.cost, threshold=self.threshold, w=w, ex=self.existing_min, chosen=order,
                objective=obj, status=status, bound=bound, started=started, notes=notes, drop_useless=False,
            )  # fmt: skip
            order = list(res.chosen)
        counts = self._spread_sessions(order, a, covered0, budget)
        timetable, placed = _timetable(order, counts, self.teams, self.sessions, self.site_region)
        if sum(placed) < sum(counts):
            notes.append(f"{sum(counts) - sum(placed)} repeat visit(s) could not be placed without a clash")
        unused = budget - sum(placed)
        if unused:
            notes.append(f"{unused} of the {budget} weekly sessions are left free (no venue left to add)")
        return SitingResult(
            **{
                **{f: getattr(res, f) for f in res.__dataclass_fields__},
                "sessions": tuple(placed),
                "timetable": timetable,
                "notes": tuple(res.notes) + tuple(notes),
                "seconds": time.perf_counter() - started,
            }
        )

    def _prune(self, chosen: tuple[int, ...], marginal: tuple[float, ...]) -> list[int]:
        """Drop venues that add no covered demand, unless one is an LGN's only session.

        A venue with zero marginal gain in greedy order covers nothing the venues before it
        do not, so dropping all of them keeps the coverage (and every group target) unchanged.
        """
        eps = _TOL * max(self.weights.sum(), 1.0)
        keep = [j for j, g in zip(chosen, marginal, strict=True) if g > eps]
        for r in self.regions_required:
            if not any(self.site_region[j] == r for j in keep):
                keep.append(next(j for j in chosen if self.site_region[j] == r))
        return keep

    def _infeasible_message(self, budget: int) -> str:
        return (
            f"no rotation with {self.teams} team(s) × {self.sessions} session(s) = {budget} weekly sessions reaches "
            f"every priority group within {self.threshold:g} min"
            + (" and visits every required LGN" if self.regions_required else "")
            + "; add teams or sessions, raise the threshold or widen the candidates"
        )

    def _greedy(self, a, covered0, required, sums, budget) -> list[int] | None:
        """Greedy rotation: cover required rows and group targets first, then LGNs, then demand."""
        w = self.weights
        picked: list[int] = []
        cov = covered0.copy()
        need = [(rows, n) for rows, n in sums]

        def add(j: int) -> None:
            nonlocal cov
            picked.append(j)
            cov = cov | (a[:, [j]].toarray().ravel() > 0)

        while len(picked) < budget:
            req_left = (required & ~cov).astype(float)
            deficits = [(rows, n - w[rows & cov].sum()) for rows, n in need]
            deficits = [(r, d) for r, d in deficits if d > _TOL]
            if not req_left.any() and not deficits:
                break
            gain = a.T @ req_left
            for rows, d in deficits:
                gain = gain + np.minimum(a.T @ (w * (rows & ~cov)), d) / d
            gain[picked] = -1.0
            j = int(np.argmax(gain))
            if gain[j] <= 0:
                return None
            add(j)
        for r in self.regions_required:
            if any(self.site_region[j] == r for j in picked):
                continue
            if len(picked) >= budget:
                return None
            cand = np.flatnonzero(self.site_region == r)
            gain = a[:, cand].T @ (w * ~cov)
            add(int(cand[int(np.argmax(gain))]))
        if (required & ~cov).any() or any(n - w[rows & cov].sum() > _TOL for rows, n in need):
            return None
        while len(picked) < budget:
            gain = a.T @ (w * ~cov)
            gain[picked] = -1.0
            j = int(np.argmax(gain))
            if gain[j] <= 0:
                break
            add(j)
        return picked

    def _spread_sessions(self, order: list[int], a, covered0, budget: int) -> list[int]:
        """One session per venue, then spare sessions to the busiest venue per session."""
        counts = [1] * len(order)
        if not order:
            return counts
        # Demand each venue serves: rows assigned to their nearest chosen venue.
        sub = self.cost[:, order]
        nearest = np.argmin(sub, axis=1)
        served = (sub[np.arange(sub.shape[0]), nearest] <= self.threshold) & ~covered0
        load = np.bincount(nearest[served], weights=self.weights[served], minlength=len(order))
        for _ in range(budget - len(order)):
            # At most one visit per slot: a venue holds at most 10 sessions a week.
            score = np.where(np.array(counts) < len(_SLOTS), load / np.array(counts), -1.0)
            i = int(np.argmax(score))
            if score[i] <= 0:
                break
            counts[i] += 1
        return counts


def _swap_search(
    a: sparse.spmatrix,
    w: np.ndarray,
    group_w: np.ndarray,
    needs: np.ndarray,
    required: np.ndarray,
    region: np.ndarray | None,
    regions: tuple[int, ...],
    budget: int,
    max_passes: int = 50,
) -> list[int] | None:
    """Greedy construction then 1-swap local search for the rotation; column indices or None.

    Score = covered weight − M × (relative group deficits + uncovered required rows + missing
    regions), with M above the total weight, so feasibility comes first. Every candidate swap
    for one chosen venue is scored at once with sparse products. Returns None if no feasible
    set was reached (HiGHS then has to find one).
    """
    a = sparse.csc_matrix(a)
    at = sparse.csr_matrix(a.T)
    big = float(w.sum()) + 1.0
    req = required.astype(float)

    def scores(count: np.ndarray, rest: list[int]) -> np.ndarray:
        open_ = count <= 0  # rows not covered by ``rest``
        covered = float(w[~open_].sum()) + at @ (w * open_)
        gcov = group_w.T @ (~open_).astype(float)
        deficit = (np.maximum(needs - gcov - at @ (group_w * open_[:, None]), 0.0) / needs).sum(axis=1)
        deficit = deficit + float((req * open_).sum()) - at @ (req * open_)
        for r in regions:
            if not (region[rest] == r).any():
                deficit = deficit + (region != r)
        out = covered - big * deficit
        out[rest] = -np.inf
        return out, deficit

    def col(j: int) -> np.ndarray:
        return a[:, [j]].toarray().ravel()

    picked: list[int] = []
    count = np.zeros(a.shape[0])
    current, short = 0.0, 0.0
    for _ in range(min(budget, a.shape[1])):
        s, d = scores(count, picked)
        j = int(np.argmax(s))
        picked.append(j)
        count, current, short = count + col(j), float(s[j]), float(d[j])
    for _ in range(max_passes):
        improved = False
        for pos, j in enumerate(picked):
            rest = picked[:pos] + picked[pos + 1 :]
            without = count - col(j)
            s, d = scores(without, rest)
            s[j] = -np.inf
            k = int(np.argmax(s))
            if s[k] > current + _TOL * big:
                picked[pos], count, current, short, improved = k, without + col(k), float(s[k]), float(d[k]), True
        if not improved:
            break
    return sorted(picked) if short <= _TOL else None


def _covers(a: sparse.csc_matrix, cols: list[int]) -> np.ndarray:
    if not cols:
        return np.zeros(a.shape[0], bool)
    return np.asarray(a[:, cols].sum(axis=1)).ravel() > 0


def _timetable(
    order: list[int], counts: list[int], teams: int, sessions: int, region: np.ndarray | None
) -> tuple[tuple[Session, ...], list[int]]:
    """Place venue visits in team slots: grouped by LGN so a team's week stays in few LGNs.

    Each team works its first ``sessions`` slots in the order maandag..vrijdag voormiddag, then
    namiddag, so repeat visits to a venue fall on different days. A visit goes to the first free
    (team, slot) where that venue has no session yet.
    """
    visits = []
    for i, (j, c) in enumerate(zip(order, counts, strict=True)):
        r = -1 if region is None else int(region[j])
        visits.extend([(r, i, j)] * c)
    visits.sort()
    free = [(t, s) for t in range(teams) for s in range(sessions)]
    used_slot: dict[int, set[int]] = {}
    rows: list[Session] = []
    placed = [0] * len(order)
    for _, i, j in visits:
        for pos, (t, s) in enumerate(free):
            if s not in used_slot.setdefault(j, set()):
                used_slot[j].add(s)
                free.pop(pos)
                d, p = _SLOTS[s]
                rows.append(Session(team=t + 1, day=DAYS[d], dagdeel=DAGDELEN[p], site=j))
                placed[i] += 1
                break
    rows.sort(key=lambda r: (r.team, DAYS.index(r.day), DAGDELEN.index(r.dagdeel)))
    return tuple(rows), placed
