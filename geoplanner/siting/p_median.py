"""p-median: minimise the demand-weighted walking time to the nearest open site."""

from __future__ import annotations

import time

import numpy as np
from scipy import sparse

from geoplanner.core.errors import ModelError
from geoplanner.siting.base import KSites, Milp, SitingResult, finish, greedy_note

__all__ = ["PMedian"]


class PMedian(KSites):
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
        m = Milp("min")
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
                chosen, obj, bound = greedy, g_obj, out.bound
                notes.append(greedy_note(bound))
                status = "time_limit" if out.values is not None else "greedy"
        return finish(
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
