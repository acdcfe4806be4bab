"""Isochrone polygons built incrementally and remembered, against the straightforward construction.

The reference is the construction used before: for every threshold on its own, buffer every reached
street piece and union them all. The incremental polygons must mean the same: on the real network and
every service set, the symmetric difference is under 0.01 % of the area and no part of it is 2 m wide
(the two constructions differ only where two polygonal round caps of the 40 m buffer meet).
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from geoplanner.access import isochrones as iso_mod
from geoplanner.access.isochrones import ISOCHRONE_BUFFER_M, isochrones, merge_isochrones, reachable_lines
from geoplanner.access.network import metres_per_minute, network_from_graph, snap_points
from geoplanner.access.times import node_distances
from geoplanner.pipeline.load import load_network

SPEED = 6.0  # 100 m/min


def reference_polygon(net, src, minutes: float, speed_kmh: float, region, buffer_m: float = ISOCHRONE_BUFFER_M):
    """The polygon of one threshold built from scratch: buffer every reached piece, union, clip."""
    budget = minutes * metres_per_minute(speed_kmh)
    dist, _ = node_distances(net, src, limit_m=budget)
    lines = reachable_lines(net, dist, budget, src)
    poly = shapely.union_all(shapely.buffer(lines, buffer_m, quad_segs=4))
    if region is not None:
        poly = shapely.intersection(poly, region)
    return shapely.make_valid(poly)


def assert_same_meaning(poly, ref, *, rel: float = 1e-4, width_m: float = 2.0) -> None:
    diff = shapely.symmetric_difference(poly, ref)
    assert diff.area <= rel * ref.area, (diff.area, ref.area)
    # no part of the difference is ``width_m`` wide: it vanishes when eroded by half that
    assert shapely.buffer(diff, -width_m / 2).is_empty


@pytest.fixture(scope="module")
def real():
    from geoplanner import inputs

    return load_network(), inputs.load_region()


@pytest.mark.parametrize("set_name", ["kg", "one", "hvhk", "any_cb", "all_family"])
def test_incremental_polygons_match_reference_on_real_data(real, set_name):
    from geoplanner import inputs

    net, region = real
    pts = inputs.load_services(set_name).points.sort_values("id")
    src = snap_points(net, np.c_[pts.geometry.x, pts.geometry.y])
    iso_mod.clear_memo()
    got = isochrones(net, src, set_name=set_name, thresholds_min=(5, 10, 15), region=region, per_service=False)
    assert list(got["threshold_min"]) == [5.0, 10.0, 15.0]
    areas = []
    for minutes, poly in zip((5, 10, 15), got.geometry, strict=True):
        ref = reference_polygon(net, src, minutes, 4.5, region)
        assert ref.area > 0
        assert_same_meaning(poly, ref)
        areas.append(poly.area)
    assert areas == sorted(areas)  # 5 ⊂ 10 ⊂ 15 minutes


def test_per_service_polygons_match_reference_and_are_remembered():
    # Two services on an L-shaped street with a spur; per service = the set of that one service alone.
    net = network_from_graph(
        _toy([(0, 1, 300), (1, 2, 300), (1, 3, 200)], {0: (0, 0), 1: (300, 0), 2: (300, 300), 3: (500, 0)})
    )
    xy = np.array([[0.0, 0.0], [300.0, 290.0]])
    iso_mod.clear_memo()
    got = isochrones(net, xy, service_ids=["b", "a"], thresholds_min=[1.0, 2.5], speed_kmh=SPEED, buffer_m=10)
    assert list(got["service_id"]) == ["*", "*", "a", "a", "b", "b"]
    src = snap_points(net, xy)
    for sid, i in (("a", 1), ("b", 0)):
        one = iso_mod._take(src, np.array([i]))
        for minutes in (1.0, 2.5):
            poly = got[(got["service_id"] == sid) & (got["threshold_min"] == minutes)].geometry.iloc[0]
            assert_same_meaning(poly, reference_polygon(net, one, minutes, SPEED, None, 10), width_m=0.5)
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
