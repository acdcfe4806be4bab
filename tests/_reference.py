"""Independent references for walking distances and reached streets, on a :class:`WalkNetwork`'s raw streets.

Nothing here calls geoplanner's snapping (``snap_points``), its Dijkstra (``augmented_graph``,
``node_distances``, ``point_distances``) or its reached pieces (``reachable_lines``): points are snapped
by brute force (shapely distance to every raw street; ties go to the lowest street index, as documented),
every street a point or a service meets is cut at that point, the access legs become edges, and
NetworkX walks the result. Only the network's arrays (raw streets, their lengths and drawings) are
shared with the code under test: the network itself is checked against OSMnx in
``tests/test_reference_routing.py`` and ``tests/test_network.py``.

Used by ``tests/test_accessibility.py`` and ``tests/test_isochrones.py``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import networkx as nx
import numpy as np
import shapely
from shapely.ops import substring

__all__ = ["Snap", "Reach", "reference_snap", "split_graph", "reference_metres", "reference_reach", "on_lines"]


@dataclass(frozen=True)
class Snap:
    """Where one point meets the streets: raw street index, metres from its start node, access leg."""

    street: int
    pos: float
    access: float


def reference_snap(net, xy: np.ndarray) -> list[Snap]:
    """Snap every point to its nearest raw street by brute force (not ``snap_points``)."""
    out = []
    for p in shapely.points(np.asarray(xy, dtype=float).reshape(-1, 2)):
        d = shapely.distance(net.raw_geometry, p)
        e = int(np.argmin(d))  # the first of equally near streets: the lowest index
        geom = net.raw_geometry[e]
        frac = shapely.line_locate_point(geom, p) / geom.length if geom.length > 0 else 0.0
        out.append(Snap(e, float(frac * net.raw_length[e]), float(d[e])))
    return out


def split_graph(net, groups: dict[str, list[Snap]]) -> tuple[nx.MultiGraph, list[tuple]]:
    """The raw streets cut at every snapped point, each point a leaf ``(group, i)`` joined by its access leg.

    Returns the graph (edge attribute ``weight`` in metres) and its street pieces
    ``(a, b, street, pos_a, pos_b)``, from node ``a`` at ``pos_a`` metres along the raw street to ``b``.
    """
    g = nx.MultiGraph()
    cuts: dict[int, list[tuple[float, tuple]]] = {}
    for name, snaps in groups.items():
        for i, s in enumerate(snaps):
            on = (name, i, "on")
            cuts.setdefault(s.street, []).append((s.pos, on))
            g.add_edge((name, i), on, weight=s.access)
    pieces = []
    for e in range(len(net.raw_u)):
        u, v, length = int(net.raw_u[e]), int(net.raw_v[e]), float(net.raw_length[e])
        chain = [(0.0, u), *sorted(cuts.get(e, [])), (length, v)]
        for (p0, a), (p1, b) in itertools.pairwise(chain):
            g.add_edge(a, b, weight=max(p1 - p0, 0.0))
            pieces.append((a, b, e, p0, p1))
    return g, pieces


def reference_metres(net, points_xy: np.ndarray, services_xy: np.ndarray) -> np.ndarray:
    """Metres from every point to its nearest service, by NetworkX on the split streets (``inf``: none)."""
    points, services = reference_snap(net, points_xy), reference_snap(net, services_xy)
    g, _ = split_graph(net, {"p": points, "s": services})
    dist = nx.multi_source_dijkstra_path_length(g, {("s", i) for i in range(len(services))}, weight="weight")
    return np.array([dist.get(("p", i), np.inf) for i in range(len(points))])


@dataclass(frozen=True)
class Reach:
    """The streets reached within one budget: the pieces, and probe points on both sides of every frontier."""

    lines: np.ndarray  # LineStrings
    probes: np.ndarray  # Points: ``probe_m`` short of and beyond each place where a reach ends mid-street


def reference_reach(net, services_xy: np.ndarray, budgets_m: list[float], *, probe_m: float = 0.25) -> list[Reach]:
    """Per budget, the street pieces within that many metres of the nearest service, and frontier probes.

    Every piece of the split streets is reached from each end as far as the budget left at that end
    allows; where the two reaches meet or overlap the whole piece is reached. A reach that ends inside a
    street (a frontier, exactly at the budget) gets two probes on its street, ``probe_m`` before and
    after it: a walking time off by more than ``probe_m`` moves a frontier past one of them.
    """
    services = reference_snap(net, services_xy)
    g, pieces = split_graph(net, {"s": services})
    sources = {("s", i) for i in range(len(services))}
    dist = nx.multi_source_dijkstra_path_length(g, sources, cutoff=max(budgets_m), weight="weight")
    out = []
    for budget in budgets_m:
        lines, probes = [], []
        for a, b, e, p0, p1 in pieces:
            length, full, geom = p1 - p0, float(net.raw_length[e]), net.raw_geometry[e]
            reach_a = min(max(budget - dist.get(a, np.inf), 0.0), length)
            reach_b = min(max(budget - dist.get(b, np.inf), 0.0), length)
            if reach_a + reach_b >= length:
                spans = [(p0, p1)]
            else:
                spans = [(p0, p0 + reach_a), (p1 - reach_b, p1)]
                ends = [(p0 + reach_a, 1.0)] if reach_a > 0 else []  # frontier, and which way is beyond
                ends += [(p1 - reach_b, -1.0)] if reach_b > 0 else []
                for at, beyond in ends:
                    inside, outside = at - beyond * probe_m, at + beyond * probe_m
                    if 0.0 <= min(inside, outside) and max(inside, outside) <= full:
                        probes += [
                            shapely.line_interpolate_point(geom, x / full, normalized=True) for x in (inside, outside)
                        ]
            for lo, hi in spans:
                if lo == 0.0 and hi == full:
                    lines.append(geom)
                elif hi > lo:
                    lines.append(substring(geom, lo / full, hi / full, normalized=True))
        lines = np.asarray([ln for ln in lines if ln.geom_type == "LineString" and not ln.is_empty])
        out.append(Reach(lines, np.asarray(probes)))
    return out


def on_lines(lines: np.ndarray, points: np.ndarray, *, within_m: float = 1e-3) -> np.ndarray:
    """True for each point that lies on one of ``lines`` (within ``within_m``)."""
    if len(lines) == 0:
        return np.zeros(len(points), dtype=bool)
    _, d = shapely.STRtree(lines).query_nearest(points, return_distance=True, all_matches=False)
    return d <= within_m
