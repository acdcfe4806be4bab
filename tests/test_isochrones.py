"""Isochrone polygons built incrementally and remembered, against an independent reference.

The reference (``tests/_reference.py``) owes nothing to the code under test: services snapped by brute
force, NetworkX distances on the streets cut at every service, and the reached pieces of each street
worked out from those distances; the polygon is those pieces buffered, unioned and clipped, one threshold
on its own (the construction used before the incremental one). The incremental polygons must mean the
same: on the real network and every service set, the symmetric difference is under 0.01 % of the area
and no part of it is 2 m wide (the two constructions differ only where two polygonal round caps of the
40 m buffer meet). The reached streets themselves are checked to the metre: on both sides of every
place where a reach ends inside a street, 0.25 m short of it and 0.25 m beyond, geoplanner's pieces
(:func:`~geoplanner.access.isochrones.reachable_lines`) and the reference's agree.

Guarded mutations (each fails here): a +0.5 m bias on every service's access leg
(``augmented_graph``), a street's reach computed from the wrong end in ``_reach``.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from _reference import on_lines, reference_reach  # tests/_reference.py
from shapely.geometry import box

from geoplanner.access import isochrones as iso_mod
from geoplanner.access.isochrones import ISOCHRONE_BUFFER_M, isochrones, merge_isochrones, reachable_lines
from geoplanner.access.network import metres_per_minute, network_from_graph, snap_points
from geoplanner.access.times import node_distances
from geoplanner.pipeline.load import load_network

SPEED = 6.0  # 100 m/min


def reference_polygons(reaches, region, buffer_m: float = ISOCHRONE_BUFFER_M):
    """The polygon of each threshold built from scratch on the reference's reached pieces."""
    out = []
    for reach in reaches:
        poly = shapely.union_all(shapely.buffer(reach.lines, buffer_m, quad_segs=4))
        if region is not None:
            poly = shapely.intersection(poly, region)
        out.append(shapely.make_valid(poly))
    return out


def assert_same_meaning(poly, ref, *, rel: float = 1e-4, width_m: float = 2.0) -> None:
    diff = shapely.symmetric_difference(poly, ref)
    assert diff.area <= rel * ref.area, (diff.area, ref.area)
    # no part of the difference is ``width_m`` wide: it vanishes when eroded by half that
    assert shapely.buffer(diff, -width_m / 2).is_empty


REAL_MINUTES = (5, 10, 15)


@pytest.fixture(scope="module")
def real():
    """The real network and region, and each service set with its reference reach (worked out once)."""
    from geoplanner import inputs

    net = load_network()
    budgets = [m * metres_per_minute(4.5) for m in REAL_MINUTES]
    sets = {}

    def service_set(name: str):
        if name not in sets:
            pts = inputs.load_services(name).points.sort_values("id")
            xy = np.c_[pts.geometry.x, pts.geometry.y]
            sets[name] = (snap_points(net, xy), budgets, reference_reach(net, xy, budgets))
        return sets[name]

    return net, inputs.load_region(), service_set


@pytest.mark.parametrize("set_name", ["kg", "one", "hvhk", "any_cb", "all_family"])
def test_incremental_polygons_match_reference_on_real_data(real, set_name):
    net, region, service_set = real
    src, _, reaches = service_set(set_name)
    iso_mod.clear_memo()
    got = isochrones(net, src, set_name=set_name, thresholds_min=REAL_MINUTES, region=region, per_service=False)
    assert list(got["threshold_min"]) == [5.0, 10.0, 15.0]
    areas = []
    for poly, ref in zip(got.geometry, reference_polygons(reaches, region), strict=True):
        assert ref.area > 0
        assert_same_meaning(poly, ref)
        areas.append(poly.area)
    assert areas == sorted(areas)  # 5 ⊂ 10 ⊂ 15 minutes


@pytest.mark.parametrize("set_name", ["kg", "hvhk", "all_family"])
def test_reached_streets_end_where_the_reference_says(real, set_name):
    """0.25 m short of every frontier the street is reached, 0.25 m beyond it not: geoplanner as the reference."""
    net, _, service_set = real
    src, budgets, reaches = service_set(set_name)
    for budget, reach in zip(budgets, reaches, strict=True):
        dist, _ = node_distances(net, src, limit_m=budget)
        ours = on_lines(reachable_lines(net, dist, budget, src), reach.probes)
        theirs = on_lines(reach.lines, reach.probes)
        assert len(reach.probes) >= 40 and 0.45 < theirs.mean() < 0.55  # one probe reached, one not, per frontier
        assert (ours == theirs).all(), f"{(ours != theirs).sum()} of {len(ours)} probes disagree at {budget:.0f} m"


def test_per_service_polygons_match_reference_and_are_remembered():
    # Two services on an L-shaped street with a spur; per service = the set of that one service alone.
    net = network_from_graph(
        _toy([(0, 1, 300), (1, 2, 300), (1, 3, 200)], {0: (0, 0), 1: (300, 0), 2: (300, 300), 3: (500, 0)})
    )
    xy = np.array([[0.0, 0.0], [300.0, 290.0]])
    iso_mod.clear_memo()
    got = isochrones(net, xy, service_ids=["b", "a"], thresholds_min=[1.0, 2.5], speed_kmh=SPEED, buffer_m=10)
    assert list(got["service_id"]) == ["*", "*", "a", "a", "b", "b"]
    mpm = metres_per_minute(SPEED)
    for sid, i in (("a", 1), ("b", 0)):
        reaches = reference_reach(net, xy[i : i + 1], [1.0 * mpm, 2.5 * mpm])
        refs = reference_polygons(reaches, None, 10)
        for minutes, ref in zip((1.0, 2.5), refs, strict=True):
            poly = got[(got["service_id"] == sid) & (got["threshold_min"] == minutes)].geometry.iloc[0]
            assert_same_meaning(poly, ref, width_m=0.5)
    # the whole set is the union of its services
    whole = got[got["service_id"] == "*"].geometry.iloc[1]
    parts = shapely.union_all(got[(got["service_id"] != "*") & (got["threshold_min"] == 2.5)].geometry.values)
    assert_same_meaning(whole, parts, width_m=0.5)
    # asked again (services in another order): the very same polygons, from memory
    again = isochrones(net, xy[::-1], service_ids=["a", "b"], thresholds_min=[1.0, 2.5], speed_kmh=SPEED, buffer_m=10)
    assert again.geometry.iloc[1] is got.geometry.iloc[1]
    # a different region, speed or buffer is a different polygon
    clipped = isochrones(
        net,
        xy,
        thresholds_min=[1.0, 2.5],
        speed_kmh=SPEED,
        buffer_m=10,
        region=box(-20, -20, 200, 20),
        per_service=False,
    )
    assert clipped.geometry.iloc[1].bounds[2] == pytest.approx(200.0)
    slower = isochrones(net, xy, thresholds_min=[1.0, 2.5], speed_kmh=3.0, buffer_m=10, per_service=False)
    assert slower.geometry.iloc[1].area < whole.area


def test_merge_equals_the_sets_together():
    net = network_from_graph(
        _toy([(0, 1, 300), (1, 2, 300), (1, 3, 200)], {0: (0, 0), 1: (300, 0), 2: (300, 300), 3: (500, 0)})
    )
    # at 2.5 min (250 m) the street 0-1 (300 m) is reached whole only from both ends: 250 m from a,
    # 150 m from b (100 m up the street 1-2); neither set alone reaches all of it
    a, b = np.array([[0.0, 0.0]]), np.array([[300.0, 100.0]])
    kw = {"thresholds_min": [1.0, 2.5], "speed_kmh": SPEED, "buffer_m": 10, "per_service": False}
    alone = [isochrones(net, a, **kw), isochrones(net, b, **kw)]
    merged = merge_isochrones(alone, set_name="ab")
    together = isochrones(net, np.vstack([a, b]), set_name="ab", **kw)
    assert list(merged["threshold_min"]) == [1.0, 2.5] and set(merged["service_set"]) == {"ab"}
    for m, t in zip(merged.geometry, together.geometry, strict=True):
        assert_same_meaning(m, t, width_m=0.5)
    assert together.geometry.iloc[1].contains(box(0, -5, 300, 5))
    assert not any(f.geometry.iloc[1].contains(box(0, -5, 300, 5)) for f in alone)


def test_raster_grid_is_snapped_once(monkeypatch):
    from geoplanner.access.isochrones import walking_time_grid

    net = network_from_graph(_toy([(0, 1, 300), (1, 2, 300)], {0: (0, 0), 1: (300, 0), 2: (300, 300)}))
    iso_mod.clear_memo()
    calls = []
    real_snap = iso_mod.snap_points
    monkeypatch.setattr(iso_mod, "snap_points", lambda *a, **k: calls.append(len(a[1])) or real_snap(*a, **k))
    region = box(0, 0, 300, 300)
    walking_time_grid(net, np.array([[0.0, 0.0]]), region=region, speed_kmh=SPEED)
    walking_time_grid(net, np.array([[300.0, 300.0]]), region=region, speed_kmh=SPEED)
    assert calls == [1, 36, 1]  # the services of each set, the 6 x 6 grid once


def _toy(edges, pos):
    from test_accessibility import toy_graph  # tests/test_accessibility.py

    return toy_graph(edges, pos)
