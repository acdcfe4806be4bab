"""Accessibility engine: travel times against NetworkX, access legs, coverage tables, isochrones, raster.

The reference times (``tests/_reference.py``) snap points by brute force and route with NetworkX on the
streets cut at every point: no geoplanner snapping or Dijkstra. Guarded mutations (each fails here): a
+0.5 m bias on the service legs in ``augmented_graph``; a biased or flipped position along the street in
``snap_points`` (``dist_u = frac * length + 1`` or ``dist_u = length - frac * length``).
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from _reference import reference_metres  # tests/_reference.py: brute-force snapping, NetworkX on split streets
from shapely.geometry import LineString, Point, box

from geoplanner.access.demand import demand_points
from geoplanner.access.isochrones import isochrones, walking_time_grid
from geoplanner.access.network import metres_per_minute, network_from_graph, snap_points
from geoplanner.access.tables import coverage_tables as coverage
from geoplanner.access.tables import weighted_quantile
from geoplanner.access.times import nearest_service_times, time_matrix
from geoplanner.core.errors import DataError, ModelError

SPEED = 6.0  # 100 m per minute: easy arithmetic
MPM = metres_per_minute(SPEED)


def toy_graph(edges, coords):
    """A MultiDiGraph like OSMnx makes, in metres; an edge ``(u, v, length, drawing)`` stores its geometry."""
    g = nx.MultiDiGraph(crs="EPSG:31370")
    for n, (x, y) in coords.items():
        g.add_node(n, x=float(x), y=float(y))
    for u, v, length, *drawing in edges:
        g.add_edge(u, v, length=float(length), **({"geometry": LineString(drawing[0])} if drawing else {}))
    return g


def grid_graph(size=5, block=100.0):
    coords = {r * size + c: (c * block, r * block) for r in range(size) for c in range(size)}
    edges = []
    for r in range(size):
        for c in range(size):
            n = r * size + c
            if c < size - 1:
                edges.append((n, n + 1, block))
            if r < size - 1:
                edges.append((n, n + size, block))
    return toy_graph(edges, coords)


LOOP = [(0, 0), (0, 100), (-100, 100), (-100, 0), (0, 0)]  # 400 m round, leaving node 0 and coming back
ARCH = [(100, 0), (150, 50), (200, 0)]  # 141.4 m, parallel to the straight 100 m street from node 1 to 2


def loop_and_parallel_graph():
    """Node 0 with a loop street; nodes 0-1-2 on a straight line; a longer arched street also joins 1 and 2.

    Every street is stored both ways, as OSMnx stores a walk graph.
    """
    streets = [(0, 1, 100.0), (1, 2, 100.0), (1, 2, 100 * np.sqrt(2), ARCH), (0, 0, 400.0, LOOP)]
    both = []
    for u, v, length, *drawing in streets:
        both.append((u, v, length, *drawing))
        both.append((v, u, length, *[d[::-1] for d in drawing]))
    return toy_graph(both, {0: (0, 0), 1: (100, 0), 2: (200, 0)})


def test_times_at_nodes_match_networkx():
    g = grid_graph()
    net = network_from_graph(g)
    services = np.array([[0.0, 0.0], [400.0, 300.0]])
    st = nearest_service_times(net, np.c_[net.x, net.y], services, service_ids=["A", "B"], speed_kmh=SPEED)
    ref = nx.multi_source_dijkstra_path_length(nx.Graph(g), {0, 19}, weight="length")
    for i, node in enumerate(net.node_ids):
        assert st.minutes[i] * MPM == pytest.approx(ref[int(node)])
    assert st.service_id[0] == "A" and st.service_id[int(np.flatnonzero(net.node_ids == 24)[0])] == "B"


def test_times_with_access_legs_and_mid_edge_points_match_split_graph_reference():
    g = grid_graph()
    net = network_from_graph(g)
    rng = np.random.default_rng(3)
    points = rng.uniform(-60, 460, size=(60, 2))
    services = np.array([[150.0, 42.0], [350.0, 310.0], [175.0, 20.0]])  # two on the same street edge
    # and demand points on the same edge as a service, on both sides of it
    points = np.vstack([points, [[150.0, 5.0], [110.0, -3.0], [140.0, 0.0]]])
    st = nearest_service_times(net, points, services, speed_kmh=SPEED)
    ref = reference_metres(net, points, services)
    np.testing.assert_allclose(st.minutes * MPM, ref, rtol=1e-9, atol=1e-6)
    assert st.minutes[-1] * MPM == pytest.approx(42.0 + 0.0 + 10.0)  # along the shared edge, no node


def test_time_matrix_matches_nearest_and_limit():
    net = network_from_graph(grid_graph())
    rng = np.random.default_rng(5)
    origins = rng.uniform(0, 400, size=(40, 2))
    targets = rng.uniform(0, 400, size=(7, 2))
    m = time_matrix(net, origins, targets, speed_kmh=SPEED, limit_min=100.0, batch=3)
    for j in range(len(targets)):
        ref = reference_metres(net, origins, targets[j : j + 1]) / MPM
        np.testing.assert_allclose(m[:, j], ref, rtol=1e-9)
    st = nearest_service_times(net, origins, targets, speed_kmh=SPEED)
    np.testing.assert_allclose(m.min(axis=1), st.minutes, rtol=1e-12)
    np.testing.assert_array_equal(m.argmin(axis=1), st.service_index)
    limited = time_matrix(net, origins, targets, speed_kmh=SPEED, limit_min=3.0)
    assert np.isinf(limited[m > 3.0]).all()
    np.testing.assert_allclose(limited[m <= 3.0], m[m <= 3.0])


def test_homes_on_a_loop_and_on_the_longer_parallel_street_walk_their_own_street():
    net = network_from_graph(loop_and_parallel_graph())
    node2 = np.array([[200.0, 0.0]])
    homes = np.array([[-100.0, 50.0], [150.0, 50.0], [150.0, 0.0], [150.0, 45.0]])
    st = nearest_service_times(net, homes, node2, speed_kmh=SPEED)
    # round the loop the short way (150 m) to node 0, then 200 m; half the arch; half the straight street
    assert st.minutes[:3] * MPM == pytest.approx([350.0, 100 * np.sqrt(2) / 2, 50.0])
    np.testing.assert_allclose(st.minutes * MPM, reference_metres(net, homes, node2), rtol=1e-9, atol=1e-6)
    # snapped to the edges of the drawn streets they are on, not across to the merged routing edges
    assert st.point_snap.access_m[:3] == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)


def test_service_on_a_loop_joins_the_network_once_the_short_way_round():
    from geoplanner.access.times import augmented_graph as _augmented
    from geoplanner.access.times import node_distances

    net = network_from_graph(loop_and_parallel_graph())
    on_loop = snap_points(net, np.array([[-100.0, 50.0]]))
    aug = _augmented(net, on_loop)
    row = aug.getrow(net.n_nodes)
    assert row.nnz == 1 and row.data[0] == pytest.approx(150.0)  # one edge to the loop's node, not two
    dist, _ = node_distances(net, on_loop)
    assert dist[np.flatnonzero(net.node_ids == 0)[0]] == pytest.approx(150.0)
    homes = np.array([[-50.0, 100.0], [0.0, 100.0], [100.0, 0.0], [150.0, 50.0]])
    # along the loop without passing its node (100 m and 150 m); via node 0 (250 m); then the arch
    expected = [100.0, 150.0, 250.0, 250.0 + 100 * np.sqrt(2) / 2]
    st = nearest_service_times(net, homes, on_loop, speed_kmh=SPEED)
    assert st.minutes * MPM == pytest.approx(expected)
    np.testing.assert_allclose(st.minutes * MPM, reference_metres(net, homes, np.array([[-100.0, 50.0]])))
    m = time_matrix(net, homes, on_loop, speed_kmh=SPEED, limit_min=100.0)
    assert m[:, 0] * MPM == pytest.approx(expected)


def test_loop_and_parallel_streets_against_split_graph_reference():
    net = network_from_graph(loop_and_parallel_graph())
    rng = np.random.default_rng(17)
    points = rng.uniform([-130, -30], [230, 130], size=(80, 2))
    for services in (np.array([[-80.0, 100.0]]), np.array([[160.0, 42.0], [40.0, -10.0]])):
        st = nearest_service_times(net, points, services, speed_kmh=SPEED)
        np.testing.assert_allclose(st.minutes * MPM, reference_metres(net, points, services), rtol=1e-9)
        m = time_matrix(net, points, services, speed_kmh=SPEED, limit_min=100.0)
        for j in range(len(services)):
            ref = reference_metres(net, points, services[j : j + 1])
            np.testing.assert_allclose(m[:, j] * MPM, ref, rtol=1e-9)
    assert (snap_points(net, points).u == snap_points(net, points).v).sum() > 10  # many points on the loop


def test_empty_service_set_is_a_clear_error():
    net = network_from_graph(grid_graph())
    with pytest.raises(ModelError, match="empty"):
        nearest_service_times(net, np.array([[0.0, 0.0]]), np.zeros((0, 2)))
    with pytest.raises(ModelError, match="empty"):
        isochrones(net, np.zeros((0, 2)))


def test_service_outside_network_is_reported_and_pays_its_access_leg():
    net = network_from_graph(grid_graph())
    far = np.array([[200.0, 1000.0]])  # 600 m north of the top street
    st = nearest_service_times(net, np.array([[200.0, 400.0]]), far, speed_kmh=SPEED, tolerance_m=250)
    assert st.service_snap.beyond_tolerance.tolist() == [True]
    assert st.minutes[0] * MPM == pytest.approx(600.0)


def test_disconnected_pieces_are_unreachable_not_wrong():
    g = grid_graph(3)
    g.add_node(100, x=5000.0, y=0.0)
    g.add_node(101, x=5100.0, y=0.0)
    g.add_edge(100, 101, length=100.0)
    net = network_from_graph(g, largest_component=False)
    st = nearest_service_times(net, np.array([[50.0, 0.0], [5050.0, 0.0]]), np.array([[0.0, 0.0]]))
    assert np.isfinite(st.minutes[0]) and np.isinf(st.minutes[1])
    assert st.service_index.tolist() == [0, -1] and st.service_id[1] is None
    demand = pd.DataFrame({"cd_sector": ["A", "A"], "weight": [1.0, 9.0]})
    info = pd.DataFrame(
        {"cd_sector": ["A"], "commune_nis": [1], "mdrc": [1], "lgn": [1], "pop_0_2_status": ["estimated"]}
    )
    tab = coverage(demand, {"s": st}, info)["sector"].iloc[0]
    assert tab["pop_unreachable"] == 9.0 and tab["within_15_min"] == 1.0
    assert np.isnan(tab["p90_min"]) and tab["mean_min"] == pytest.approx(st.minutes[0])


def test_weighted_quantile():
    assert weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 8.0]), 0.9) == 3.0
    assert weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([9.0, 1.0, 0.0]), 0.9) == 1.0
    assert np.isnan(weighted_quantile(np.array([1.0]), np.array([0.0]), 0.9))


def _toy_sectors():
    geoms = [box(0, 0, 200, 400), box(200, 0, 400, 400), box(1000, 1000, 1100, 1100)]
    return gpd.GeoDataFrame({"cd_sector": ["S1", "S2", "S3"]}, geometry=geoms, crs="EPSG:31370")


def test_demand_points_conserve_population_and_flag_fallbacks():
    from shapely.geometry import LineString

    sectors = _toy_sectors()
    need = pd.DataFrame({"cd_sector": ["S1", "S2", "S3"], "pop_0_2": [30.0, 12.5, 4.0]})
    # density (persons/km²) such that length × density / 1000 gives street weights 10, 30 and 0
    lines = gpd.GeoDataFrame(
        {"density": [10_000.0 / 300, 300.0, 0.0]},
        geometry=[
            LineString([(50, 50), (350, 50)]),
            LineString([(50, 200), (150, 200)]),
            LineString([(250, 300), (350, 300)]),
        ],
        crs="EPSG:31370",
    )
    dp = demand_points(sectors, need, lines)
    per = dp.groupby("cd_sector")["weight"].sum()
    assert per.to_dict() == pytest.approx({"S1": 30.0, "S2": 12.5, "S3": 4.0})
    assert dp.loc[dp["fallback"], "cd_sector"].tolist() == ["S3"]
    # S1 holds 150 m of the first line (weight 5) and the whole second one (30): shares 5/35 and 30/35
    s1 = dp[dp["cd_sector"] == "S1"].sort_values("weight")["weight"].to_numpy()
    assert s1 == pytest.approx([30 * 5 / 35, 30 * 30 / 35])
    # S2: 150 m of the first line (weight 5) and a zero-weight line -> all children on the first
    s2 = dp[dp["cd_sector"] == "S2"].sort_values("weight")["weight"].to_numpy()
    assert s2 == pytest.approx([0.0, 12.5])
    with pytest.raises(DataError):
        demand_points(sectors, need.assign(cd_sector=["S1", "S2", "X"]), lines)


def test_isochrone_follows_streets_and_cuts_partial_edges():
    # An L-shaped street: (0,0)-(300,0)-(300,300). A convex hull would claim the empty corner.
    net = network_from_graph(toy_graph([(0, 1, 300), (1, 2, 300)], {0: (0, 0), 1: (300, 0), 2: (300, 300)}))
    iso = isochrones(
        net,
        np.array([[0.0, 0.0]]),
        service_ids=["S"],
        set_name="t",
        thresholds_min=[2.5, 5.0],
        speed_kmh=SPEED,
        buffer_m=10,
    )
    assert list(iso["service_id"]) == ["*", "*", "S", "S"]
    small = iso.geometry.iloc[0]
    assert small.contains(Point(240, 0)) and not small.contains(Point(270, 0))
    big = iso.geometry.iloc[1]
    assert big.contains(Point(300, 190)) and not big.contains(Point(300, 215))
    assert not big.contains(Point(150, 150))  # the corner nobody can walk into
    assert big.area == pytest.approx(500 * 20, rel=0.05)
    assert iso.geometry.iloc[3].equals_exact(big, 1e-6)


def test_isochrone_of_mid_edge_service_and_clip():
    net = network_from_graph(toy_graph([(0, 1, 1000)], {0: (0, 0), 1: (1000, 0)}))
    region = box(-50, -50, 520, 50)
    iso = isochrones(
        net,
        np.array([[500.0, 30.0]]),
        thresholds_min=[1.0],
        speed_kmh=SPEED,
        buffer_m=5,
        region=region,
        per_service=False,
    )
    poly = iso.geometry.iloc[0]
    # 30 m access leg leaves 70 m each way along the street; clipped at x=520
    assert poly.contains(Point(435, 0)) and not poly.contains(Point(425, 0))
    assert poly.bounds[2] == pytest.approx(520.0)


def test_isochrone_reaches_loop_and_parallel_streets():
    net = network_from_graph(loop_and_parallel_graph())
    iso = isochrones(net, np.array([[0.0, 0.0]]), thresholds_min=[1.5], speed_kmh=SPEED, buffer_m=5)
    poly = iso.geometry.iloc[0]
    assert iso.geometry.iloc[1].equals_exact(poly, 1e-6)  # the one service alone gives the same polygon
    # 150 m: round the loop 140 m either way, not to its far corner (200 m); 42 m up the arch, not 64 m
    for inside in [(0, 100), (-40, 100), (-100, 40), (130, 30)]:
        assert poly.contains(Point(inside)), inside
    for outside in [(-60, 100), (-100, 100), (-100, 60), (145, 45)]:
        assert not poly.contains(Point(outside)), outside


def test_raster_matches_point_times(tmp_path):
    import rasterio

    net = network_from_graph(grid_graph())
    region = box(0, 0, 400, 300)
    services = np.array([[0.0, 0.0]])
    from geoplanner.outputs.rasters import geotiff_bytes

    out = tmp_path / "t.tif"
    out.write_bytes(geotiff_bytes(walking_time_grid(net, services, region=region, speed_kmh=SPEED, cell_m=50)))
    with rasterio.open(out) as src:
        assert src.crs.to_epsg() == 31370 and src.res == (50.0, 50.0)
        grid = src.read(1)
        row, col = src.index(125.0, 75.0)
        expected = nearest_service_times(net, np.array([[125.0, 75.0]]), services, speed_kmh=SPEED).minutes[0]
        assert grid[row, col] == pytest.approx(expected, rel=1e-5)
        assert np.isfinite(grid).sum() == 8 * 6


# ---------------------------------------------------------------------------------------------------
# Real data
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real():
    from geoplanner import inputs, need
    from geoplanner.pipeline.load import load_network, need_data

    nd = need_data()

    lines = nd.lines
    sn = need.sector_need(nd)
    dp = demand_points(inputs.load_sectors(), sn, lines)
    net = load_network()
    snap = snap_points(net, dp[["x", "y"]].to_numpy())
    return {"need": sn, "demand": dp, "net": net, "snap": snap}


def test_real_demand_points_conserve_every_sector(real):
    sn, dp = real["need"], real["demand"]
    per = dp.groupby("cd_sector")["weight"].sum().reindex(sn["cd_sector"]).fillna(0.0)
    np.testing.assert_allclose(per.to_numpy(), sn["pop_0_2"].to_numpy(), rtol=1e-9, atol=1e-9)
    assert len(dp) > 5 * len(sn)  # several points per sector, not one centroid
    assert (~real["snap"].beyond_tolerance).all()


def test_real_coverage_tables_conserve_population(real):
    from geoplanner import inputs

    dp, sn = real["demand"], real["need"]
    times, notes = {}, {}
    for name in ("any_cb", "hvhk"):
        ss = inputs.load_services(name)
        xy = np.c_[ss.points.geometry.x, ss.points.geometry.y]
        times[name] = nearest_service_times(real["net"], real["snap"], xy, service_ids=ss.points["id"])
        notes[name] = ss.completeness_note
    tabs = coverage(dp, times, sn, layer_notes=notes, priority_mdrc=[1, 2, 3])
    total = sn["pop_0_2"].sum()
    for level in ("sector", "wijk", "commune", "lgn", "region"):
        by_set = tabs[level].groupby("service_set")
        np.testing.assert_allclose(by_set["pop_0_2"].sum().to_numpy(), total, rtol=1e-9)
        np.testing.assert_allclose(
            by_set["within_15_min"].sum().to_numpy(),
            tabs["region"].set_index("service_set")["within_15_min"].to_numpy(),
            rtol=1e-9,
        )
    sec = tabs["sector"]
    assert len(sec) == 2 * len(sn)
    assert (sec["within_5_min"] <= sec["within_10_min"] + 1e-9).all()
    assert (sec["within_10_min"] <= sec["within_15_min"] + 1e-9).all()
    assert (sec["within_15_min"] <= sec["pop_0_2"] + 1e-9).all()
    assert set(tabs["lgn"]["lgn"]) == set(range(1, 9))
    assert (tabs["region"]["layer_note"].str.contains("ONVOLLEDIGE")).all()
    assert set(tabs["priority_wijken"]["mdrc"]) == {1, 2, 3}
    # a sector's mean time lies between its demand points' extremes
    t = pd.Series(times["any_cb"].minutes, index=dp["cd_sector"])
    one = sec[(sec["service_set"] == "any_cb") & (sec["pop_0_2"] > 0)].iloc[0]
    pts = t.loc[[one["cd_sector"]]]
    assert pts.min() - 1e-9 <= one["mean_min"] <= pts.max() + 1e-9


def test_real_times_match_networkx_for_sample(real):
    net = real["net"]
    rng = np.random.default_rng(11)
    idx = rng.choice(len(real["demand"]), size=40, replace=False)
    points = real["demand"][["x", "y"]].to_numpy()[idx]
    services = np.c_[net.x[[100, 5000, 20000]], net.y[[100, 5000, 20000]]]
    st = nearest_service_times(net, points, services)
    # services on nodes: their zero-cost legs are kept as edges of 1e-9 m (augmented_graph), hence atol
    ref = reference_metres(net, points, services)
    np.testing.assert_allclose(st.minutes * metres_per_minute(4.5), ref, rtol=1e-12, atol=1e-6)


def test_run_coverage_writes_every_output(tmp_path):
    import json

    import pyogrio
    import rasterio

    from geoplanner.pipeline import run_coverage

    run = run_coverage(tmp_path, sets=["hvhk", "kg"], thresholds=[5, 15], cell_m=200)
    names = {p.name for p in run.outputs}
    for level in ("sector", "wijk", "commune", "lgn", "priority_wijken", "region"):
        assert f"coverage_{level}.csv" in names
    assert {"coverage.gpkg", "isochrones.gpkg", "walking_time_hvhk.tif", "walking_time_kg.tif"} <= names
    assert {n for n, _ in pyogrio.list_layers(tmp_path / "coverage.gpkg")} >= {"sector", "wijk", "commune", "lgn"}
    lgn = pd.read_csv(tmp_path / "coverage_lgn.csv")
    assert len(lgn) == 16 and lgn["layer_note"].str.contains("ONVOLLEDIGE").all() and lgn["lgn_name"].notna().all()
    iso = gpd.read_file(tmp_path / "isochrones.gpkg")
    assert set(iso["service_set"]) == {"hvhk", "kg"} and "*" in set(iso["service_id"])
    assert iso.geometry.is_valid.all() and iso["layer_note"].str.contains("ONVOLLEDIGE").all()
    with rasterio.open(tmp_path / "walking_time_kg.tif") as src:
        assert "ONVOLLEDIGE" in src.tags()["layer_note"]
    manifest = json.loads(run.manifest.read_text())
    assert manifest["command"] == "coverage" and any("ONVOLLEDIGE" in n for n in manifest["notes"])


def test_run_coverage_rejects_only_empty_sets(tmp_path, monkeypatch):
    from dataclasses import replace

    import geoplanner.pipeline.coverage as pipeline
    from geoplanner import inputs
    from geoplanner.pipeline import run_coverage

    real_load = inputs.load_services

    def no_points(name, data_dir=None):
        ss = real_load(name, data_dir)
        return replace(ss, points=ss.points.iloc[:0])

    monkeypatch.setattr(pipeline, "load_services", no_points)
    with pytest.raises(ModelError, match="none of the service sets"):
        run_coverage(tmp_path, sets=["kg"], raster=False)
    assert not list(tmp_path.glob("coverage_*.csv"))  # nothing half-written


def _cli_app():
    import typer

    from geoplanner.cli import coverage as coverage_cli

    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test root."""

    coverage_cli.register(app)
    return app


def test_cli_coverage_summary_and_bad_options(tmp_path):
    from typer.testing import CliRunner

    from geoplanner.core.errors import ConfigError

    runner = CliRunner()
    app = _cli_app()
    bad = runner.invoke(app, ["coverage", "--speed", "4", "--profile", "pram"])
    assert isinstance(bad.exception, ConfigError)
    bad = runner.invoke(app, ["coverage", "--thresholds", "0,5"])
    assert isinstance(bad.exception, ConfigError)
    ok = runner.invoke(app, ["coverage", "--sets", "kg", "--profile", "pram", "--no-raster", "--out", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert "3.6 km/u" in ok.output and "ONVOLLEDIGE LAAG" in ok.output
    assert (tmp_path / "coverage_region.csv").exists() and not list(tmp_path.glob("*.tif"))
