"""Capacitated models: optimality by brute force (independent LP per session plan), capacity never exceeded."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from geoplanner.core.errors import ModelError
from geoplanner.siting import CapacitatedCovering, CapacitatedRotation
from geoplanner.siting.capacitated import WorkSlot


def _instance(seed: int, n_dem: int = 12, n_cand: int = 6):
    """Random points in a 2 km square; minutes at 80 m/min; demand 5-40 consultations a year."""
    rng = np.random.default_rng(seed)
    dem = rng.uniform(0, 2000, (n_dem, 2))
    cand = rng.uniform(0, 2000, (n_cand, 2))
    d = rng.integers(5, 40, n_dem).astype(float)
    cost = np.hypot(*(dem[:, None, :] - cand[None, :, :]).transpose(2, 0, 1)) / 80.0
    return cost, d, rng


def _served(cost, thr, d, v, sessions, cap, floors=None):
    """Best value-weighted assignment for a fixed session plan, by scipy's LP (HiGHS simplex); None if infeasible."""
    ii, jj = np.nonzero(cost <= thr)
    if ii.size == 0:
        return 0.0 if not floors else None
    n = ii.size
    a_ub, b_ub = [], []
    for i in range(cost.shape[0]):  # demand
        a_ub.append((ii == i).astype(float))
        b_ub.append(d[i])
    for j in range(cost.shape[1]):  # capacity
        a_ub.append((jj == j).astype(float))
        b_ub.append(cap[j] * sessions[j])
    for rows, need in floors or []:  # served in group >= need
        a_ub.append(-np.isin(ii, rows).astype(float))
        b_ub.append(-need)
    res = linprog(-v[ii], A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=[(0, None)] * n, method="highs")
    return None if res.status != 0 else -res.fun


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("sessions", "per_venue"), [(1, 1), (2, 1), (3, 2)])
def test_capacitated_mclp_matches_brute_force(seed, sessions, per_venue):
    cost, d, rng = _instance(seed)
    thr = 9.0
    cap = rng.integers(20, 80, cost.shape[1]).astype(float)
    v = rng.choice([1.0, 1.5], cost.shape[0])
    n_cand = cost.shape[1]
    best = 0.0
    for plan in itertools.product(range(per_venue + 1), repeat=n_cand):
        if 0 < sum(plan) <= sessions:
            best = max(best, _served(cost, thr, d, v, np.array(plan), cap))
    model = CapacitatedCovering.from_cost_matrix(cost, thr, d, capacity=cap, sessions=sessions,
                                                 per_venue=per_venue, value=v)  # fmt: skip
    res = model.solve()
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best, rel=1e-7)
    # a real constraint: no venue serves more than its sessions' capacity, no row more than it asks
    assert (res.load <= res.capacity * res.sessions + 1e-6).all()
    assert (res.served <= d + 1e-6).all() and res.sessions.sum() <= sessions
    assert (res.sessions <= per_venue).all()
    assert (v * res.served).sum() == pytest.approx(best, rel=1e-7)
    g = model.solve(method="greedy")
    assert g.objective <= best + 1e-6 and g.bound >= best - 1e-6


def _team_plans(teams, days, zones, per_team):
    """Every way teams can work: per team and day, off or (zone, number of sessions); yields sessions per zone."""
    options = [None] + [(z, k) for z in zones for k in range(1, max(days) + 1)]
    seen = set()
    per_team_weeks = []
    for week in itertools.product(options, repeat=len(days)):
        if any(o is not None and o[1] > days[dd] for dd, o in enumerate(week)):
            continue
        if sum(o[1] for o in week if o is not None) > per_team:
            continue
        per_team_weeks.append(week)
    for combo in itertools.product(per_team_weeks, repeat=teams):
        h = {z: 0 for z in zones}
        for week in combo:
            for o in week:
                if o is not None:
                    h[o[0]] += o[1]
        key = tuple(h[z] for z in zones)
        if key not in seen:
            seen.add(key)
            yield dict(h)


def _rotation_brute(cost, thr, d, v, cap, zone, teams, slots, per_team, groups, share, regions):
    days = {}
    for s in slots:
        days.setdefault(s[0], []).append(s)
    day_sizes = [len(x) for x in days.values()]
    zones = sorted(set(zone.tolist()))
    feasible_h = list(_team_plans(teams, day_sizes, zones, per_team))
    floors = []
    for g in sorted(set(groups[groups >= 0].tolist())):
        floors.append((np.flatnonzero(groups == g), share * d[groups == g].sum()))
    best = None
    n = cost.shape[1]
    for size in range(1, min(n, teams * per_team) + 1):
        for venues in itertools.combinations(range(n), size):
            h = {z: sum(1 for j in venues if zone[j] == z) for z in zones}
            if not any(all(h[z] <= f[z] for z in zones) for f in feasible_h):
                continue
            if any(h[r] == 0 for r in regions):
                continue
            plan = np.zeros(n)
            plan[list(venues)] = 1
            val = _served(cost, thr, d, v, plan, cap, floors)
            if val is not None and (best is None or val > best + 1e-9):
                best = val
    return best


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize(
    ("teams", "per_team", "slots"),
    [
        (1, 2, [("maandag", "voormiddag"), ("maandag", "namiddag")]),
        (1, 2, [("maandag", "voormiddag"), ("dinsdag", "namiddag"), ("zaterdag", "voormiddag")]),
        (2, 2, [("woensdag", "voormiddag"), ("woensdag", "namiddag"), ("donderdag", "avond")]),
        (2, 1, [("maandag", "voormiddag"), ("maandag", "namiddag")]),
    ],
)
def test_capacitated_rotation_matches_brute_force(seed, teams, per_team, slots):
    cost, d, rng = _instance(seed, n_dem=12, n_cand=7)
    thr = 9.0
    cap = rng.integers(20, 70, cost.shape[1]).astype(float)
    zone = rng.integers(1, 3, cost.shape[1])
    v = rng.choice([1.0, 2.0], cost.shape[0])
    groups = np.full(cost.shape[0], -1)
    reach = (cost <= thr).any(axis=1)
    groups[np.flatnonzero(reach)[:3]] = 0  # a priority group whose rows a venue can reach
    share = 0.3
    regions = [int(zone[0])]
    best = _rotation_brute(cost, thr, d, v, cap, zone, teams, slots, per_team, groups, share, regions)
    model = CapacitatedRotation.from_cost_matrix(
        cost, thr, d, capacity=cap, teams=teams, sessions_per_team=per_team, slots=slots, zone=zone,
        groups=groups, group_share=share, regions_required=regions, value=v,
    )  # fmt: skip
    if best is None:
        with pytest.raises(ModelError):
            model.solve()
        return
    res = model.solve()
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best, rel=1e-6, abs=1e-3)
    # capacity, demand and the floor hold on the answer itself
    assert (res.load <= res.capacity * res.sessions + 1e-6).all()
    assert (res.served <= d + 1e-6).all()
    assert res.served[groups == 0].sum() >= share * d[groups == 0].sum() - 1e-6
    # the timetable is workable: one session per team per slot, within the team's working slots and
    # its week, one zone per team per day, each venue at most once a week, every held session listed
    tt = res.timetable
    assert len({(t, day, part) for t, day, part, _ in tt}) == len(tt)
    assert all(WorkSlot(day, part) in [WorkSlot(*s) for s in slots] for _, day, part, _ in tt)
    for t in range(1, teams + 1):
        assert sum(1 for r in tt if r[0] == t) <= per_team
        for day in {r[1] for r in tt if r[0] == t}:
            assert len({zone[j] for tt_, dd, _, j in tt if tt_ == t and dd == day}) == 1
    assert sorted(j for *_, j in tt) == sorted(np.flatnonzero(res.sessions > 0).tolist())
    assert any(zone[j] == regions[0] for *_, j in tt)
    # without the timetable (the teams curve's solves) the answer is the same, only the timetable is left out
    bare = model.solve(timetable=False)
    assert bare.timetable == () and bare.status == res.status
    assert bare.objective == pytest.approx(res.objective, rel=1e-9, abs=1e-9)
    np.testing.assert_array_equal(bare.sessions, res.sessions)
    np.testing.assert_allclose(bare.served, res.served, atol=1e-9)
    # the greedy rotation kept when within the gap of the LP bound: the gap holds against the brute force
    quick = model.solve(rel_gap=0.05, greedy_within_gap=True, timetable=False)
    assert quick.objective >= (1 - 0.05) * best - 1e-6
    assert quick.bound >= best - 1e-6
    assert quick.status in ("optimal", "within_gap")
    assert (quick.load <= quick.capacity * quick.sessions + 1e-6).all()
    assert quick.served[groups == 0].sum() >= share * d[groups == 0].sum() - 1e-6
    # the greedy answer is feasible when it exists and never beats the optimum
    try:
        g = model.solve(method="greedy")
    except ModelError:
        return
    assert g.objective <= best + 1e-3
    assert g.served[groups == 0].sum() >= share * d[groups == 0].sum() - 1e-6


def test_capacity_binds_where_reach_would_count_everyone():
    # one venue reaches all 100 consultations; one session serves 30: served is 30, not 100
    cost = np.array([[1.0], [2.0], [3.0]])
    res = CapacitatedCovering.from_cost_matrix(cost, 5.0, [50, 30, 20], capacity=30.0, sessions=1).solve()
    assert res.objective == pytest.approx(30.0) and res.load[0] == pytest.approx(30.0)
    assert res.in_reach.all() and res.served.sum() == pytest.approx(30.0)


def test_preferred_venue_breaks_ties_only():
    cost = np.array([[1.0, 1.0, 1.0]])
    res = CapacitatedRotation.from_cost_matrix(
        cost, 5.0, [10.0], capacity=[20.0, 20.0, 5.0], teams=1, sessions_per_team=1,
        prefer=[False, True, True],
    ).solve()  # fmt: skip
    assert res.chosen == (1,)  # same served as venue 0, Dutch-speaking; venue 2 is too small
    assert res.objective == pytest.approx(10.0, abs=1e-3)


def test_unreachable_floor_is_explained():
    cost = np.array([[1.0, 30.0], [30.0, 30.0]])
    with pytest.raises(ModelError, match="cannot be served"):
        CapacitatedRotation.from_cost_matrix(
            cost, 5.0, [10.0, 10.0], capacity=20.0, teams=1, sessions_per_team=1,
            groups=[0, 0], group_share=0.8,
        ).solve()  # fmt: skip


def test_bad_slots_and_sessions():
    cost = np.ones((2, 2))
    with pytest.raises(ModelError, match="unknown slot"):
        CapacitatedRotation.from_cost_matrix(cost, 5, [1, 1], capacity=5, teams=1, sessions_per_team=1,
                                             slots=[("maandag", "nacht")])  # fmt: skip
    with pytest.raises(ModelError, match="between 1 and 2"):
        CapacitatedRotation.from_cost_matrix(cost, 5, [1, 1], capacity=5, teams=1, sessions_per_team=3,
                                             slots=[("maandag", "voormiddag"), ("maandag", "namiddag")])  # fmt: skip
    with pytest.raises(ModelError, match="capacity must be positive"):
        CapacitatedCovering.from_cost_matrix(cost, 5, [1, 1], capacity=0, sessions=1)


@pytest.mark.parametrize("seed", range(6))
def test_serve_sessions_matches_an_independent_lp(seed):
    """Fixed sessions (a fixed site's week): the best assignment within capacity, as scipy's LP finds it."""
    from geoplanner.siting import serve_sessions

    cost, d, rng = _instance(seed, n_dem=14, n_cand=6)
    sessions = rng.integers(0, 3, cost.shape[1])
    sessions[0] = max(sessions[0], 1)
    cap = rng.integers(15, 40, cost.shape[1]).astype(float)
    v = rng.choice([1.0, 2.0], cost.shape[0])
    res = serve_sessions(cost, 9.0, d, sessions, capacity=cap, value=v)
    best = _served(cost, 9.0, d, v, sessions, cap)
    assert (v * res.served).sum() == pytest.approx(best, rel=1e-9, abs=1e-6)
    assert (res.load <= cap * sessions + 1e-6).all() and (res.served <= d + 1e-6).all()
    np.testing.assert_array_equal(res.sessions, sessions)
    assert res.load.sum() == pytest.approx(res.served.sum())


def test_sessions_per_day_caps_every_team_day_against_brute_force():
    """At most ``sessions_per_day`` sessions a team-day: the optimum is the brute force's over capped days."""
    slots = [("maandag", "voormiddag"), ("maandag", "namiddag"), ("maandag", "avond"), ("dinsdag", "namiddag")]
    binds = 0
    for seed in range(6):
        cost, d, rng = _instance(seed, n_dem=12, n_cand=6)
        cap = rng.integers(20, 60, cost.shape[1]).astype(float)
        zone = np.ones(cost.shape[1], dtype=int)
        v = np.ones(cost.shape[0])
        none = np.full(cost.shape[0], -1)
        kw = {"capacity": cap, "teams": 1, "sessions_per_team": 4, "slots": slots, "zone": zone, "value": v}
        res = CapacitatedRotation.from_cost_matrix(cost, 9.0, d, sessions_per_day=1, **kw).solve()
        capped = _rotation_brute(cost, 9.0, d, v, cap, zone, 1, slots[:1] + slots[3:], 4, none, 0.0, [])
        free = _rotation_brute(cost, 9.0, d, v, cap, zone, 1, slots, 4, none, 0.0, [])
        assert res.objective == pytest.approx(capped or 0.0, rel=1e-6, abs=1e-3)
        per_day = {}
        for _, day, _, _ in res.timetable:
            per_day[day] = per_day.get(day, 0) + 1
        assert max(per_day.values()) <= 1
        binds += free is not None and capped is not None and free > capped + 1e-6
    assert binds >= 2  # the cap changes the answer on these instances: the test would see it ignored


def test_node_limit_gives_the_same_answer_on_every_run():
    """A node limit stops HiGHS after that many nodes: status 'node_limit', its bound, and one answer every time."""
    from geoplanner.siting.base import Milp

    stopped = 0
    for seed in range(5):
        rng = np.random.default_rng(seed)
        w = rng.integers(1000, 2000, 60).astype(float)
        m = Milp("max")
        m.var("x", w.size, obj=w + rng.integers(0, 10, w.size))
        m.constrain({"x": w[None, :]}, ub=w.sum() / 2 + 0.5)
        full, a, b = m.solve(60), m.solve(60, node_limit=1), m.solve(60, node_limit=1)
        assert full.status == "optimal" and a.objective <= full.objective + 1e-6
        assert (a.status, a.objective, a.bound) == (b.status, b.objective, b.bound)
        np.testing.assert_array_equal(a.values["x"], b.values["x"])
        if a.status == "node_limit":
            stopped += 1
            assert a.bound >= full.objective - 1e-6
    assert stopped >= 1
