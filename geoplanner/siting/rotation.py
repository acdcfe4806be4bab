"""Weekly rotation of mobile teams over candidate venues (uncapacitated: reach within walking distance)."""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np
from scipy import sparse

from geoplanner.core.errors import ModelError
from geoplanner.siting.base import (
    DAGDELEN,
    DAYS,
    SLOT_ORDER,
    TOL,
    Milp,
    Session,
    SitingResult,
    check_common,
    check_groups,
    check_k,
    check_share,
    covers,
    finish,
    greedy_note,
    group_requirements,
    reach_matrix,
    undominated,
    unique_rows,
)

__all__ = ["Rotation"]


class _RotationModel(NamedTuple):
    """The rotation MILP on its shrunk instance, and what the heuristics need of that instance."""

    milp: Milp
    cols: np.ndarray
    sub: sparse.csr_matrix
    sw: np.ndarray
    req_u: np.ndarray
    group_w: np.ndarray


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
        cost, w, ex = check_common(cost, threshold, weights, existing)
        teams = check_k(teams, 10**9, "teams")
        if isinstance(sessions, bool) or not isinstance(sessions, int | np.integer) or not 1 <= sessions <= 10:
            raise ModelError(f"sessions per team must be between 1 and {len(SLOT_ORDER)}, got {sessions!r}")
        groups = check_groups(groups, cost.shape[0])
        group_share = check_share(group_share, "group_share")
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
        a = reach_matrix(self.cost, self.threshold)
        covered0 = self.existing_min <= self.threshold
        required, sums = self._requirements(a, covered0, budget)
        base = float(w[covered0].sum())
        mod = self._model(a, covered0, required, sums, budget)
        region_cols = None if self.site_region is None else self.site_region[mod.cols]
        candidates = [self._greedy(a, covered0, required, sums, budget)]
        found = _swap_search(mod.sub, mod.sw, mod.group_w, np.array([need for _, need in sums]), mod.req_u,
                             region_cols, self.regions_required, budget)  # fmt: skip
        candidates.append(None if found is None else mod.cols[found].tolist())
        scored = [(base + float(w[~covered0 & covers(a, c)].sum()), c) for c in candidates if c is not None]
        g_obj, greedy = max(scored, key=lambda t: t[0]) if scored else (None, None)
        notes: list[str] = []
        chosen, obj, status, bound = self._choose(mod, base, g_obj, greedy, method, time_limit, budget, notes)
        res = finish(self.model, cost=self.cost, threshold=self.threshold, w=w, ex=self.existing_min, chosen=chosen,
                     objective=obj, status=status, bound=bound, started=started, notes=notes,
                     drop_useless=False)  # fmt: skip
        order = self._prune(res.chosen, res.marginal)
        if len(order) < len(res.chosen):
            res = finish(self.model, cost=self.cost, threshold=self.threshold, w=w, ex=self.existing_min,
                         chosen=order, objective=obj, status=status, bound=bound, started=started, notes=notes,
                         drop_useless=False)  # fmt: skip
            order = list(res.chosen)
        return self._week(res, order, a, covered0, budget, notes, started)

    def _requirements(self, a: sparse.csc_matrix, covered0: np.ndarray, budget: int) -> tuple[np.ndarray, list]:
        """Check that the rotation can meet its rules; return the required rows and the groups' needs."""
        w = self.weights
        if budget < len(self.regions_required):
            raise ModelError(
                f"{self.teams} team(s) × {self.sessions} session(s) = {budget} sessions cannot visit all "
                f"{len(self.regions_required)} required LGNs",
                hint="add teams or sessions, or drop the balance over LGNs",
            )
        if self.groups is None:  # no priority groups: only maximise coverage
            required, sums = np.zeros(w.size, bool), []
        else:
            required, sums = group_requirements(self.groups, None, self.group_share, w, covered0)
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
        return required, sums

    def _model(self, a: sparse.csc_matrix, covered0: np.ndarray, required: np.ndarray, sums: list,
               budget: int) -> _RotationModel:  # fmt: skip
        """Build the MILP on a shrunk instance: rows with the same venues and group merged, dominated venues dropped.

        Venues are dropped as dominated only within their LGN, so the balance constraint keeps its meaning.
        """
        w = self.weights
        open_rows = np.flatnonzero(~covered0 & (w > 0))
        label = -1 if self.groups is None else self.groups[open_rows]
        label = np.where(required[open_rows], -2 - np.arange(open_rows.size), label)  # keep required rows apart
        cols = undominated(sparse.csc_matrix(a[open_rows]), self.site_region)
        for r in self.regions_required:
            if not (self.site_region[cols] == r).any():
                cols = np.union1d(cols, np.flatnonzero(self.site_region == r)[:1])
        sub, sw, inverse = unique_rows(a[open_rows][:, cols], w[open_rows], label)
        req_u = np.zeros(sub.shape[0], bool)
        req_u[inverse[required[open_rows]]] = True
        m = Milp("max")
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
        return _RotationModel(m, cols, sub, sw, req_u, group_w)

    def _choose(self, mod: _RotationModel, base: float, g_obj: float | None, greedy: list | None, method: str,
                time_limit: float, budget: int, notes: list[str]) -> tuple:  # fmt: skip
        """Solve the MILP (or its relaxation, for the greedy method); keep the better of it and the heuristics."""
        if method == "greedy":
            if greedy is None:
                raise ModelError("the greedy heuristic found no rotation that meets every constraint")
            lp = mod.milp.solve(time_limit, relax=True)
            if lp.status == "infeasible":
                raise ModelError(self._infeasible_message(budget))
            return greedy, g_obj, "greedy", None if lp.objective is None else base + lp.objective
        out = mod.milp.solve(time_limit)
        if out.status == "infeasible":
            raise ModelError(self._infeasible_message(budget))
        bound = None if out.bound is None else base + out.bound
        if out.values is not None and (out.status == "optimal" or g_obj is None or base + out.objective >= g_obj):
            return mod.cols[out.values["x"] > 0.5].tolist(), base + out.objective, out.status, bound
        if greedy is None:
            raise ModelError("no rotation meeting every constraint was found within the time limit")
        notes.append(greedy_note(bound))
        return greedy, g_obj, "time_limit" if out.values is not None else "greedy", bound

    def _week(self, res: SitingResult, order: list[int], a: sparse.csc_matrix, covered0: np.ndarray, budget: int,
              notes: list[str], started: float) -> SitingResult:  # fmt: skip
        """Spread the sessions over the chosen venues and put them into the teams' week."""
        counts = self._spread_sessions(order, a, covered0, budget)
        timetable, placed = _timetable(order, counts, self.teams, self.sessions, self.site_region)
        if sum(placed) < sum(counts):
            notes.append(f"{sum(counts) - sum(placed)} repeat visit(s) could not be placed without a clash")
        unused = budget - sum(placed)
        if unused:
            notes.append(f"{unused} of the {budget} weekly sessions are left free (no venue left to add)")
        fields = {f: getattr(res, f) for f in res.__dataclass_fields__}
        return SitingResult(**{**fields, "sessions": tuple(placed), "timetable": timetable,
                               "notes": tuple(res.notes) + tuple(notes),
                               "seconds": time.perf_counter() - started})  # fmt: skip

    def _prune(self, chosen: tuple[int, ...], marginal: tuple[float, ...]) -> list[int]:
        """Drop venues that add no covered demand, unless one is an LGN's only session.

        A venue with zero marginal gain in greedy order covers nothing the venues before it
        do not, so dropping all of them keeps the coverage (and every group target) unchanged.
        """
        eps = TOL * max(self.weights.sum(), 1.0)
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
            deficits = [(r, d) for r, d in deficits if d > TOL]
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
        if (required & ~cov).any() or any(n - w[rows & cov].sum() > TOL for rows, n in need):
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
            score = np.where(np.array(counts) < len(SLOT_ORDER), load / np.array(counts), -1.0)
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
            if s[k] > current + TOL * big:
                picked[pos], count, current, short, improved = k, without + col(k), float(s[k]), float(d[k]), True
        if not improved:
            break
    return sorted(picked) if short <= TOL else None


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
                d, p = SLOT_ORDER[s]
                rows.append(Session(team=t + 1, day=DAYS[d], dagdeel=DAGDELEN[p], site=j))
                placed[i] += 1
                break
    rows.sort(key=lambda r: (r.team, DAYS.index(r.day), DAGDELEN.index(r.dagdeel)))
    return tuple(rows), placed
