"""Covering models: maximal covering (MCLP) and location set covering (LSCP)."""

from __future__ import annotations

import math
import time

import numpy as np
from scipy import sparse

from geoplanner.core.errors import ModelError
from geoplanner.siting.base import (
    LP_BOUND_TIME_S,
    TOL,
    KSites,
    Milp,
    SitingResult,
    check_common,
    check_groups,
    check_share,
    finish,
    greedy_max_cover,
    greedy_note,
    group_requirements,
    reach_matrix,
    undominated,
    unique_rows,
)

__all__ = ["MaximalCovering", "SetCovering"]


class MaximalCovering(KSites):
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
        a = reach_matrix(self.cost, self.threshold)
        covered0 = self.existing_min <= self.threshold
        base = float(self.weights[covered0].sum())
        open_rows = (~covered0) & (self.weights > 0) & (np.asarray(a.sum(axis=1)).ravel() > 0)
        if not open_rows.any():
            raise ModelError(
                f"no candidate venue is within {self.threshold:g} min of any demand not yet covered",
                hint="raise the walking threshold or widen the candidate selection",
            )
        sub = sparse.csc_matrix(a[np.flatnonzero(open_rows)])
        useful = undominated(sub)
        sub, sw, _ = unique_rows(sub[:, useful], self.weights[open_rows])
        sub = sparse.csc_matrix(sub)
        k = min(self.k, useful.size)

        greedy = useful[greedy_max_cover(sub, sw, np.zeros(sub.shape[0], bool), k)].tolist()
        g_obj = base + float(sw @ (sub[:, np.searchsorted(useful, greedy)].sum(axis=1).A1 > 0))

        def build() -> Milp:
            m = Milp("max")
            m.var("x", useful.size)
            m.var("z", sub.shape[0], obj=sw, integer=False)
            m.constrain({"z": sparse.identity(sub.shape[0]), "x": -sub}, ub=0.0)
            m.constrain({"x": np.ones((1, useful.size))}, ub=k)
            return m

        chosen, obj, status, bound, notes = self._pick(build, greedy, g_obj, base, useful, method, time_limit)
        return finish(
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
            lp = m.solve(max(time_limit, LP_BOUND_TIME_S), relax=True)
            return greedy, g_obj, "greedy", None if lp.objective is None else base + lp.objective, notes
        out = m.solve(time_limit)
        if out.status == "infeasible":
            raise ModelError("the model has no feasible solution")
        if out.status == "optimal":
            return useful[out.values["x"] > 0.5].tolist(), base + out.objective, "optimal", None, notes
        bound = None if out.bound is None else base + out.bound
        if out.values is not None and base + out.objective >= g_obj:
            return useful[out.values["x"] > 0.5].tolist(), base + out.objective, "time_limit", bound, notes
        if bound is None:
            # The LP relaxation is a valid bound and cheap: give it its own time rather than the tiny MILP limit.
            lp = build().solve(max(time_limit, LP_BOUND_TIME_S), relax=True)
            bound = None if lp.objective is None else base + lp.objective
        notes.append(greedy_note(bound))
        return greedy, g_obj, "time_limit" if out.values is not None else "greedy", bound, notes


# ---------------------------------------------------------------------------------------------
# Set covering
# ---------------------------------------------------------------------------------------------


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
        cost, w, ex = check_common(cost, threshold, weights, existing)
        groups = check_groups(groups, cost.shape[0])
        group_share = check_share(group_share, "group_share")
        share = None if share is None else check_share(share, "share")
        return cls(cost, float(threshold), w, ex, groups, group_share, share)

    def solve(self, *, time_limit: float = 20.0, method: str = "milp") -> SitingResult:
        """Solve exactly with HiGHS or greedily; see :meth:`MaximalCovering.solve`."""
        started = time.perf_counter()
        if method not in ("milp", "greedy"):
            raise ModelError(f"unknown method {method!r}; use 'milp' or 'greedy'")
        a = reach_matrix(self.cost, self.threshold)
        covered0 = self.existing_min <= self.threshold
        required, sums = group_requirements(self.groups, self.share, self.group_share, self.weights, covered0)
        reachable = np.asarray(a.sum(axis=1)).ravel() > 0
        lost = required & ~reachable
        if lost.any():
            raise ModelError(
                f"{int(lost.sum())} required demand row(s) have no candidate venue within {self.threshold:g} min "
                f"(first: row {int(np.flatnonzero(lost)[0])})",
                hint="raise the walking threshold, widen the candidate selection or lower the coverage target",
            )
        for rows, need in sums:
            if self.weights[rows & reachable].sum() < need - TOL * need:
                raise ModelError(
                    f"the coverage target cannot be met: at most {self.weights[rows & reachable].sum():.1f} "
                    f"of the {need:.1f} demand still needed is within {self.threshold:g} min of a candidate",
                    hint="raise the walking threshold or lower the coverage target",
                )
        notes: list[str] = []
        if not required.any() and not sums:
            notes.append("the existing services already meet the coverage target; no new site is needed")
            return finish(
                self.model, cost=self.cost, threshold=self.threshold, w=self.weights, ex=self.existing_min,
                chosen=[], objective=0.0, status="optimal", bound=0.0, started=started, notes=notes,
            )  # fmt: skip

        greedy = self._greedy(a, required, sums)
        m = Milp("min")
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
            lp = m.solve(max(time_limit, LP_BOUND_TIME_S), relax=True)
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
                notes.append(greedy_note(bound))
                chosen, obj = greedy, float(len(greedy))
                status = "time_limit" if out.values is not None else "greedy"
        return finish(
            self.model, cost=self.cost, threshold=self.threshold, w=self.weights, ex=self.existing_min,
            chosen=chosen, objective=obj, status=status, bound=bound, started=started, notes=notes,
            drop_useless=False,
        )  # fmt: skip

    def _greedy(self, a: sparse.csc_matrix, required: np.ndarray, sums: list[tuple[np.ndarray, float]]) -> list[int]:
        """Greedy set cover: add the site that closes most of the remaining (normalised) deficit."""
        req_left = required.astype(float)
        need_left = [need for _, need in sums]
        picked: list[int] = []
        while req_left.any() or any(n > TOL for n in need_left):
            gain = a.T @ req_left
            for (rows, _), left in zip(sums, need_left, strict=True):
                if left > TOL:
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
