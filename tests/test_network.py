"""Walking network: building, caching, snapping, and shortest paths checked against NetworkX."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString

from geoplanner.access import network
from geoplanner.access.network import network_from_graph, snap_points, speed_for
from geoplanner.core.errors import ConfigError, DataError
from geoplanner.inputs.graphml import read_graphml
from geoplanner.pipeline.load import load_network


@pytest.fixture(scope="module")
def graphml():
    """The bundle's walk GraphML (the session fixture ``data_dir`` has pulled the real data)."""
    from geoplanner.inputs.bundle import dataset_path

    return dataset_path("osm_walk_graphml")


def toy_graph(edges, coords, crs="EPSG:31370"):
    """A MultiDiGraph like OSMnx makes, in metres (no projection needed).

    An edge ``(u, v, length, drawing)`` also stores its geometry.
    """
    g = nx.MultiDiGraph(crs=crs)
    for n, (x, y) in coords.items():
        g.add_node(n, x=float(x), y=float(y))
    for u, v, length, *drawing in edges:
        g.add_edge(u, v, length=float(length), **({"geometry": LineString(drawing[0])} if drawing else {}))
    return g


LOOP = [(0, 0), (0, 100), (-100, 100), (-100, 0), (0, 0)]  # 400 m round, from node 0 back to node 0
ARCH = [(100, 0), (150, 50), (200, 0)]  # 141.4 m, parallel to the straight 100 m street from node 1 to 2


def loop_and_parallel_graph():
    """A loop street at node 0, straight streets 0-1-2 and a longer arched street 1-2, each stored both ways."""
    streets = [(0, 1, 100.0), (1, 2, 100.0), (1, 2, 100 * np.sqrt(2), ARCH), (0, 0, 400.0, LOOP)]
    both = []
    for u, v, length, *drawing in streets:
        both += [(u, v, length, *drawing), (v, u, length, *[d[::-1] for d in drawing])]
    return toy_graph(both, {0: (0, 0), 1: (100, 0), 2: (200, 0)})


@pytest.fixture
def grid():
    """A 4x4 street grid, 100 m blocks, with some irregular lengths, both directions stored."""
    rng = np.random.default_rng(7)
    coords = {r * 4 + c: (c * 100.0, r * 100.0) for r in range(4) for c in range(4)}
    edges = []
    for r in range(4):
        for c in range(4):
            n = r * 4 + c
            for m in ([n + 1] if c < 3 else []) + ([n + 4] if r < 3 else []):
                length = 100.0 + float(rng.integers(0, 40))
                edges += [(n, m, length), (m, n, length)]
    return toy_graph(edges, coords)


def test_shortest_paths_match_networkx_on_small_graph(grid):
    net = network_from_graph(grid)
    d = dijkstra(net.csr, directed=True)
    ref = dict(nx.all_pairs_dijkstra_path_length(nx.DiGraph(grid), weight="length"))
    index = {int(i): k for k, i in enumerate(net.node_ids)}
    for a, row in ref.items():
        for b, length in row.items():
            assert d[index[a], index[b]] == pytest.approx(length)


def test_one_way_and_parallel_edges_and_loops():
    coords = {1: (0, 0), 2: (100, 0), 3: (200, 0)}
    # one-way 1->2 only, a parallel longer edge 2->3 and a shorter one 3->2, a self-loop on 3
    g = toy_graph([(1, 2, 100), (2, 3, 150), (3, 2, 120), (3, 3, 30)], coords)
    net = network_from_graph(g)
    assert net.n_edges == 2
    d = dijkstra(net.csr, directed=True, indices=[2])[0]  # from node id 3
    assert d[0] == pytest.approx(220.0)  # walked against the one-way, over the shorter parallel edge


def test_raw_edges_keep_loops_and_parallel_streets_once():
    net = network_from_graph(loop_and_parallel_graph())
    assert net.n_edges == 2  # routing: 0-1 and the shorter 1-2
    assert net.n_raw_edges == 4  # every street once, though each is stored both ways
    ends = zip(net.node_ids[net.raw_u].tolist(), net.node_ids[net.raw_v].tolist(), strict=True)
    raw = sorted((a, b, round(float(w), 3)) for (a, b), w in zip(ends, net.raw_length, strict=True))
    assert raw == [(0, 0, 400.0), (0, 1, 100.0), (1, 2, 100.0), (1, 2, 141.421)]
    np.testing.assert_array_equal(net.edge_length, net.raw_length[net.edge_raw])
    assert sorted(net.edge_length.tolist()) == [100.0, 100.0]
    d = dijkstra(net.csr, directed=True, indices=[0])[0]
    assert d.tolist() == [0.0, 100.0, 200.0]
    for e in range(net.n_raw_edges):  # every drawing runs from raw_u to raw_v
        start, end = net.raw_geometry[e].coords[0], net.raw_geometry[e].coords[-1]
        assert start == (net.x[net.raw_u[e]], net.y[net.raw_u[e]]) and end == (net.x[net.raw_v[e]], net.y[net.raw_v[e]])


def test_snapping_to_a_loop_and_to_the_longer_parallel_street():
    net = network_from_graph(loop_and_parallel_graph())
    snap = snap_points(net, np.array([[-100.0, 50.0], [150.0, 50.0], [150.0, 45.0], [150.0, 0.0]]))
    # on the loop: its one node both ways, 150 m the short way round and 250 m the long way
    assert snap.u[0] == snap.v[0] == 0 and snap.access_m[0] == pytest.approx(0.0)
    assert sorted([snap.dist_u[0], snap.dist_v[0]]) == pytest.approx([150.0, 250.0])
    # on the arch (the longer of two parallel streets): half of its own length from each end
    (arch,) = np.flatnonzero(np.isclose(net.raw_length, 100 * np.sqrt(2)))
    assert snap.edge[1] == arch and snap.access_m[1] == pytest.approx(0.0, abs=1e-9)
    assert snap.dist_u[1] == pytest.approx(50 * np.sqrt(2)) and snap.dist_v[1] == pytest.approx(50 * np.sqrt(2))
    assert snap.edge[2] == arch and snap.access_m[2] == pytest.approx(5 / np.sqrt(2))  # 45 m from the straight one
    assert snap.edge[3] != arch and snap.dist_u[3] == pytest.approx(50.0)


def test_disconnected_pieces_kept_or_dropped():
    coords = {1: (0, 0), 2: (100, 0), 3: (200, 0), 10: (5000, 0), 11: (5100, 0)}
    g = toy_graph([(1, 2, 100), (2, 3, 100), (10, 11, 100)], coords)
    kept = network_from_graph(g, largest_component=False)
    assert kept.n_components == 2 and kept.dropped_nodes == 0 and kept.n_nodes == 5
    d = dijkstra(kept.csr, indices=[0])[0]
    assert np.isinf(d).sum() == 2
    pruned = network_from_graph(g)
    assert pruned.n_components == 1 and pruned.dropped_nodes == 2
    assert sorted(pruned.node_ids.tolist()) == [1, 2, 3]


def test_snapping_access_leg_and_tolerance():
    coords = {1: (0, 0), 2: (100, 0)}
    net = network_from_graph(toy_graph([(1, 2, 100)], coords))
    snap = snap_points(net, np.array([[30.0, 40.0], [50.0, -400.0], [-30.0, 40.0]]), tolerance_m=250)
    assert snap.access_m[0] == pytest.approx(40.0)
    assert snap.dist_u[0] == pytest.approx(30.0) and snap.dist_v[0] == pytest.approx(70.0)
    assert snap.beyond_tolerance.tolist() == [False, True, False]
    # beyond the end of the street: snapped to the end node, access leg is the straight distance
    assert snap.access_m[2] == pytest.approx(50.0) and snap.dist_u[2] == pytest.approx(0.0)
    with pytest.raises(DataError):
        snap_points(net, np.array([[np.nan, 1.0]]))


def test_snapping_scales_to_network_length():
    # the drawn geometry is 100 m but the network length (e.g. geodesic) says 110 m
    g = toy_graph([(1, 2, 110)], {1: (0, 0), 2: (100, 0)})
    net = network_from_graph(g)
    snap = snap_points(net, np.array([[50.0, 0.0]]))
    assert snap.dist_u[0] == pytest.approx(55.0) and snap.dist_v[0] == pytest.approx(55.0)


def test_edge_geometry_oriented_from_u_to_v():
    g = toy_graph([], {1: (0, 0), 2: (100, 0)})
    g.add_edge(2, 1, length=120.0, geometry=LineString([(100, 0), (50, 20), (0, 0)]))
    net = network_from_graph(g)
    start = net.edge_geometry[0].coords[0]
    u = net.edge_u[0]
    assert (net.x[u], net.y[u]) == pytest.approx(start)


def test_speed_profiles():
    assert speed_for() == 4.5
    assert speed_for("pram") < speed_for("walk")
    assert speed_for("pram", speed_kmh=5.0) == 5.0
    with pytest.raises(ConfigError):
        speed_for("bike")
    with pytest.raises(ConfigError):
        speed_for(speed_kmh=0)


def _write_graphml(path: Path, length: float) -> None:
    import osmnx as ox

    g = toy_graph(
        [(1, 2, length), (2, 1, length), (2, 3, 50), (3, 2, 50)],
        {1: (4.35, 50.85), 2: (4.351, 50.85), 3: (4.351, 50.8505)},
        crs="EPSG:4326",
    )
    ox.save_graphml(g, path)


def test_cache_hit_miss_and_stale_input(tmp_path, monkeypatch):
    src = tmp_path / "toy.graphml"
    cache = tmp_path / "cache"
    _write_graphml(src, 70.0)
    first = load_network(src, cache_dir=cache)  # miss: builds and writes the cache
    files = list((cache / "network").glob("*.npz"))
    assert len(files) == 1 and first.edge_length.max() == pytest.approx(70.0)

    calls = []
    import geoplanner.pipeline.load as pipeline_load

    real_build = pipeline_load.build_network
    monkeypatch.setattr(pipeline_load, "build_network", lambda *a, **k: calls.append(1) or real_build(*a, **k))
    hit = load_network(src, cache_dir=cache)
    assert calls == []  # served from the cache
    np.testing.assert_array_equal(hit.edge_length, first.edge_length)
    assert hit.edge_geometry[0].equals(first.edge_geometry[0]) and hit.sha256 == first.sha256

    _write_graphml(src, 90.0)  # the input changes: the old cache must not be used
    stale = load_network(src, cache_dir=cache)
    assert calls == [1] and stale.edge_length.max() == pytest.approx(90.0)

    load_network(src, cache_dir=cache, largest_component=False)  # other parameters: other entry
    assert calls == [1, 1] and len(list((cache / "network").glob("*.npz"))) == 3

    for current in (cache / "network").glob("*.npz"):
        current.write_bytes(b"garbage")  # a corrupt cache file is rebuilt, not trusted
    load_network(src, cache_dir=cache)
    assert len(calls) == 3


def test_cache_keeps_raw_edges(tmp_path):
    import osmnx as ox

    src = tmp_path / "loops.graphml"
    ox.save_graphml(loop_and_parallel_graph(), src)
    cold = load_network(src, cache_dir=tmp_path)
    warm = load_network(src, cache_dir=tmp_path)
    assert network.NETWORK_VERSION >= 2  # caches from before the raw edges are never read
    assert warm.n_raw_edges == cold.n_raw_edges == 4 and warm.n_edges == cold.n_edges == 2
    for name in ("raw_u", "raw_v", "raw_length", "edge_raw", "edge_u", "edge_v", "edge_length"):
        np.testing.assert_array_equal(getattr(warm, name), getattr(cold, name))
    assert all(a.equals(b) for a, b in zip(warm.raw_geometry, cold.raw_geometry, strict=True))
    assert all(a.equals(b) for a, b in zip(warm.edge_geometry, cold.edge_geometry, strict=True))


def test_bad_network_inputs(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_network(tmp_path / "missing.graphml", cache_dir=tmp_path)
    bad = tmp_path / "net.shp"
    bad.write_text("x")
    with pytest.raises(DataError, match="unknown network file type"):
        load_network(bad, cache_dir=tmp_path)
    broken = tmp_path / "broken.graphml"
    broken.write_text("<graphml><oops")
    with pytest.raises(DataError):
        load_network(broken, cache_dir=tmp_path)


OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
  <node id="1" lat="50.8500" lon="4.3500"/>
  <node id="2" lat="50.8500" lon="4.3510"/>
  <node id="3" lat="50.8505" lon="4.3510"/>
  <node id="4" lat="50.8510" lon="4.3510"/>
  <node id="5" lat="50.8510" lon="4.3520"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/><tag k="oneway" v="yes"/></way>
  <way id="11"><nd ref="2"/><nd ref="3"/><nd ref="4"/><tag k="highway" v="footway"/></way>
  <way id="12"><nd ref="4"/><nd ref="5"/><tag k="highway" v="motorway"/></way>
  <way id="13"><nd ref="1"/><nd ref="4"/><tag k="highway" v="service"/><tag k="access" v="private"/></way>
</osm>
"""


def test_osm_xml_walkable_both_ways_and_filtered(tmp_path):
    src = tmp_path / "tiny.osm"
    src.write_text(OSM_XML)
    net = load_network(src, cache_dir=tmp_path)
    assert sorted(net.node_ids.tolist()) == [1, 4]  # 2, 3 simplified away; 5 was only on the motorway
    d = dijkstra(net.csr, directed=True)
    i4, i1 = int(np.flatnonzero(net.node_ids == 4)[0]), int(np.flatnonzero(net.node_ids == 1)[0])
    assert np.isfinite(d[i4, i1])  # against the one-way, on foot
    assert d[i4, i1] == pytest.approx(70.3 + 111.2, abs=2.0)  # not via the private road (~111 m)


@pytest.fixture(scope="module")
def brussels(graphml):
    return load_network(graphml)


def test_real_network_size_and_cache(brussels, graphml, monkeypatch):
    from geoplanner.pipeline import load as pipeline_load

    # The fixture built or read the cache: this load must come from it, never from the file again (how
    # fast that is belongs to bench/bench_accessibility.py, not to a test).
    def no_build(*args, **kwargs):
        raise AssertionError("the network was read and built again instead of coming from the cache")

    monkeypatch.setattr(pipeline_load, "read_network_file", no_build)
    monkeypatch.setattr(pipeline_load, "build_network", no_build)
    again = load_network(graphml)
    monkeypatch.undo()
    np.testing.assert_array_equal(again.edge_length, brussels.edge_length)
    assert brussels.n_nodes == 23788  # PROVENANCE.md load test
    assert 34_000 < brussels.n_edges <= 35_570
    # every street once: the 146 loop streets and the parallel streets the routing edges merge away
    assert (brussels.raw_u == brussels.raw_v).sum() == 146
    assert brussels.n_raw_edges == brussels.n_edges + 146 + 419
    assert brussels.x.min() > 140_000 and brussels.x.max() < 165_000  # Lambert 72 over Brussels
    assert 2_700 < brussels.edge_length.sum() / 1000 < 2_816


def test_real_node_pairs_match_networkx(brussels, graphml):
    import osmnx as ox

    g = ox.load_graphml(graphml)
    rng = np.random.default_rng(42)
    index = {int(n): i for i, n in enumerate(brussels.node_ids)}
    pairs = rng.choice(brussels.node_ids, size=(25, 2), replace=False)
    d = dijkstra(brussels.csr, directed=True, indices=[index[int(a)] for a in pairs[:, 0]])
    for row, (a, b) in enumerate(pairs):
        ref = nx.shortest_path_length(g, int(a), int(b), weight="length")
        assert d[row, index[int(b)]] == pytest.approx(ref, rel=1e-9)


def test_pbf_reader_builds_comparable_network():
    from geoplanner.inputs.bundle import dataset_path

    net = load_network(dataset_path("osm_pbf"), cache=False)
    # the PBF route applies the same walk filter; total length within 1 % of the OSMnx graph's 2,815.6 km
    assert net.edge_length.sum() / 1000 == pytest.approx(2815.6, rel=0.01)
    assert net.n_components == 1 and net.dropped_nodes > 0


def _assert_same_network(a, b):
    for f in ("node_ids", "x", "y", "raw_u", "raw_v", "raw_length", "edge_raw", "edge_u", "edge_v", "edge_length"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    import shapely

    assert (shapely.to_wkb(a.raw_geometry) == shapely.to_wkb(b.raw_geometry)).all()
    assert (a.dropped_nodes, a.n_components) == (b.dropped_nodes, b.n_components)


def _osmnx_build(path, largest_component=True):
    """The reference: OSMnx reads the GraphML into NetworkX, then the network is built from that graph."""
    import osmnx as ox

    return network_from_graph(ox.load_graphml(path), largest_component=largest_component)


def test_fast_graphml_reader_matches_osmnx_on_tricky_graph(tmp_path):
    import osmnx as ox

    # loops, parallel streets with and without geometry, an island, edges listed out of node order
    g = loop_and_parallel_graph()
    g.add_node(7, x=500.0, y=500.0)
    g.add_node(8, x=600.0, y=500.0)
    g.add_edge(8, 7, length=100.0)
    g.add_edge(2, 1, length=100.0)  # a third parallel street between 1 and 2, drawn straight
    g.add_edge(2, 0, length=250.0, geometry=LineString([(200, 0), (100, -50), (0, 0)]))
    src = tmp_path / "tricky.graphml"
    ox.save_graphml(g, src)
    for lc in (True, False):
        fast = network.build_network(read_graphml(src), largest_component=lc)
        assert fast is not None
        _assert_same_network(fast, _osmnx_build(src, lc))


def test_fast_graphml_reader_leaves_other_graphml_to_osmnx(tmp_path):
    # values as strings, as OSMnx writes them (OSMnx cannot read typed GraphML)
    g = nx.MultiGraph(crs="EPSG:31370")  # undirected: NetworkX lists its edges differently
    g.add_node(1, x="0.0", y="0.0")
    g.add_node(2, x="100.0", y="0.0")
    g.add_edge(1, 2, length="100.0")
    src = tmp_path / "undirected.graphml"
    nx.write_graphml(g, src)
    assert read_graphml(src) is None
    assert load_network(src, cache=False).n_edges == 1  # built all the same, through OSMnx
    bad = tmp_path / "nolength.graphml"
    h = nx.MultiDiGraph(crs="EPSG:31370")
    h.add_node(1, x="0.0", y="0.0")
    h.add_node(2, x="100.0", y="0.0")
    h.add_edge(1, 2)
    nx.write_graphml(h, bad)
    assert read_graphml(bad) is None
    with pytest.raises(DataError, match="no 'length'"):
        load_network(bad, cache=False)


def test_fast_graphml_reader_matches_osmnx_on_real_network(graphml):
    fast = network.build_network(read_graphml(graphml), largest_component=True)
    _assert_same_network(fast, _osmnx_build(graphml))
