"""Benchmark the accessibility engine on the real Brussels walk network.

Times, in one run and side by side:

(a) geoplanner: walking time from every demand point to the nearest service, for every service set
    (one multi-source Dijkstra per set, exact access legs, nearest-service id);
(b) the usual OSMnx/NetworkX way, as in the OSMnx isochrone example: one ``nx.ego_graph`` per service
    and per threshold, with edge attribute ``time`` in minutes, marking the demand nodes inside;
(c) the floor: bare ``scipy.sparse.csgraph.dijkstra(min_only=True)`` on the same CSR from the services'
    nearest nodes, read at the demand points' nearest nodes (no access legs, no snapping to edges);

plus the cold network build, the warm cached load and peak memory.

Run:  python bench/bench_accessibility.py [--repeat 5] [--b-limit N]
(``--b-limit`` times (b) on the first N services only and extrapolates, clearly labelled.)
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

SETS = ("kg", "one", "hvhk", "any_cb", "all_family")
THRESHOLDS = (5, 10, 15)


def _best(fn, repeat: int) -> tuple[float, float, object]:
    """Return (best, median) wall time in seconds and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), out


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--b-limit", type=int, default=0, help="time (b) on this many services and extrapolate")
    args = parser.parse_args()

    import networkx as nx
    import osmnx as ox
    from scipy.sparse.csgraph import dijkstra
    from scipy.spatial import cKDTree

    from geoplanner import need
    from geoplanner.access.demand import demand_points
    from geoplanner.access.network import WALK_SPEED_KMH, metres_per_minute, snap_points
    from geoplanner.access.times import nearest_service_times
    from geoplanner.inputs import bundle, load
    from geoplanner.pipeline.load import load_network

    rows: list[tuple[str, str, str]] = []
    graphml = bundle.dataset_path("osm_walk_graphml")

    # -- network: cold build into an empty cache, then warm loads from it --------------------------
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        net = load_network(graphml, cache_dir=Path(tmp))
        cold = time.perf_counter() - t0
        warm_best, warm_med, net = _best(lambda: load_network(graphml, cache_dir=Path(tmp)), args.repeat)
    rows += [
        (
            "network cold build (GraphML → CSR + cache)",
            f"{cold:.2f} s",
            f"{net.n_nodes} nodes, {net.n_edges} routing edges, {net.n_raw_edges} raw edges",
        ),
        ("network warm load (cache)", f"{warm_best * 1000:.0f} ms", f"median {warm_med * 1000:.0f} ms"),
    ]

    # -- demand points and services (preparation, not part of the comparison) --------------------
    from geoplanner.pipeline.load import need_data

    nd = need_data()
    lines = nd.lines
    sn = need.sector_need(nd)
    demand = demand_points(load.load_sectors(), sn, lines)
    dxy = demand[["x", "y"]].to_numpy()
    t0 = time.perf_counter()
    dsnap = snap_points(net, dxy)
    snap_s = time.perf_counter() - t0
    services = {}
    for name in SETS:
        pts = load.load_services(name).points
        services[name] = (np.c_[pts.geometry.x, pts.geometry.y], pts["id"].astype(str).to_numpy())
    n_services = sum(len(v[0]) for v in services.values())
    rows.append(("demand points snapped to edges (once)", f"{snap_s * 1000:.0f} ms", f"{len(dxy)} points"))

    # -- (a) geoplanner ----------------------------------------------------------------------------
    def run_a():
        return {n: nearest_service_times(net, dsnap, xy, service_ids=ids) for n, (xy, ids) in services.items()}

    a_best, a_med, a_out = _best(run_a, args.repeat)
    presnapped = {n: (snap_points(net, xy), ids) for n, (xy, ids) in services.items()}

    def run_a_presnapped():
        return {n: nearest_service_times(net, dsnap, s, service_ids=ids) for n, (s, ids) in presnapped.items()}

    a2_best, a2_med, _ = _best(run_a_presnapped, args.repeat)

    # -- (c) bare scipy floor on the same CSR --------------------------------------------------------
    tree = cKDTree(np.c_[net.x, net.y])
    demand_node = tree.query(dxy)[1]
    service_node = {n: tree.query(xy)[1] for n, (xy, _) in services.items()}
    mpm = metres_per_minute(WALK_SPEED_KMH)

    def run_c():
        out = {}
        for name, nodes in service_node.items():
            d = dijkstra(net.csr, directed=True, indices=nodes, min_only=True)
            out[name] = d[demand_node] / mpm
        return out

    c_best, c_med, c_out = _best(run_c, args.repeat)

    # -- (b) OSMnx / NetworkX ego graphs ----------------------------------------------------------
    t0 = time.perf_counter()
    g = ox.load_graphml(graphml)
    for _, _, data in g.edges(data=True):
        data["time"] = data["length"] / mpm
    b_prep = time.perf_counter() - t0
    node_ids = net.node_ids
    centres = {n: node_ids[service_node[n]] for n in SETS}
    demand_osm = node_ids[demand_node]
    todo = [(n, c) for n in SETS for c in centres[n]]
    if args.b_limit:
        todo = todo[: args.b_limit]
    covered = {(n, t): set() for n in SETS for t in THRESHOLDS}
    t0 = time.perf_counter()
    for name, centre in todo:
        for t in THRESHOLDS:
            sub = nx.ego_graph(g, int(centre), radius=t, distance="time")
            covered[(name, t)].update(sub.nodes)
    b_time = time.perf_counter() - t0
    b_label = "measured"
    if args.b_limit and len(todo) < n_services:
        b_time = b_time * n_services / len(todo)
        b_label = f"EXTRAPOLATED from {len(todo)} of {n_services} services"

    # (b) and (c) answer the same question on nodes: check they agree (same graph, same rules)
    agree = []
    for name in SETS:
        for t in THRESHOLDS:
            in_b = np.isin(demand_osm, np.fromiter(covered[(name, t)], dtype=np.int64))
            in_c = c_out[name] <= t
            agree.append((in_b == in_c).mean())

    # -- peak memory of (a) alone ------------------------------------------------------------------
    tracemalloc.start()
    run_a()
    _, a_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    rows += [
        (
            "(a) geoplanner, all sets",
            f"{a_best * 1000:.1f} ms",
            f"median {a_med * 1000:.1f} ms; {len(SETS)} sets, {n_services} services",
        ),
        ("(a') same, services already snapped", f"{a2_best * 1000:.1f} ms", f"median {a2_med * 1000:.1f} ms"),
        (
            "(b) OSMnx/NetworkX ego graphs",
            f"{b_time:.2f} s",
            f"{b_label}; {len(THRESHOLDS)} thresholds × service; graph load {b_prep:.1f} s not counted",
        ),
        (
            "(c) bare scipy multi-source Dijkstra",
            f"{c_best * 1000:.1f} ms",
            f"median {c_med * 1000:.1f} ms; nearest nodes, no access legs",
        ),
        ("ratio (b)/(a)", f"{b_time / a_best:,.0f}×", "aim ≥ 100×"),
        ("ratio (a)/(c)", f"{a_best / c_best:.2f}×", "aim ≤ 3×"),
        ("ratio (a')/(c)", f"{a2_best / c_best:.2f}×", "engine only"),
        (
            "(b) vs (c) coverage agreement at nodes",
            f"{min(agree):.4f}",
            "share of demand nodes classified alike (min over set × threshold)",
        ),
        ("peak traced memory of (a)", f"{a_peak / 2**20:.1f} MiB", "tracemalloc"),
        ("peak RSS of the whole benchmark", f"{_rss_mb():.0f} MiB", "ru_maxrss (includes the NetworkX graph)"),
    ]
    # -- a sanity line: (a) is close to (c) but includes access legs ---------------------------------
    diff = np.concatenate([a_out[n].minutes - c_out[n] for n in SETS])
    rows.append(
        (
            "(a) − (c) minutes, median [p5, p95]",
            f"{np.median(diff):+.2f}",
            f"[{np.percentile(diff, 5):+.2f}, {np.percentile(diff, 95):+.2f}] (access legs, edge snapping)",
        )
    )

    width = max(len(r[0]) for r in rows)
    print(f"Brussels walk network, {time.strftime('%Y-%m-%d')}, speed {WALK_SPEED_KMH} km/h\n")
    for label, value, note in rows:
        print(f"{label:<{width}}  {value:>12}  {note}")


if __name__ == "__main__":
    main()
