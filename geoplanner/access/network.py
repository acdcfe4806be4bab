"""Walking network as arrays: build it from what was read, snap points to it, walking speeds.

Nodes in EPSG:31370, every street edge once as drawn (loops and parallel streets included, for snapping),
and the routing edges as a symmetric CSR matrix for :mod:`scipy.sparse.csgraph`. The modelling choices
(walking both ways, the largest connected piece, snapping to edges, the pram speed) are written up in
``docs/methods/walking-network.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import shapely
from pyproj import Transformer
from scipy.sparse.csgraph import connected_components

from geoplanner.core import settings
from geoplanner.core.errors import ConfigError, DataError
from geoplanner.inputs.graphml import GraphArrays

__all__ = [
    "WALK_SPEED_KMH",
    "PRAM_SPEED_KMH",
    "SPEED_PROFILES",
    "DEFAULT_THRESHOLDS_MIN",
    "DEFAULT_SNAP_TOLERANCE_M",
    "NETWORK_VERSION",
    "WalkNetwork",
    "SnapResult",
    "build_network",
    "network_from_lists",
    "network_to_arrays",
    "network_from_arrays",
    "network_from_graph",
    "snap_points",
    "speed_for",
    "metres_per_minute",
]

#: Default walking speed (km/h) of an adult in the city.
WALK_SPEED_KMH = 4.5
#: Assumed speed (km/h) of a parent with a pram or small children (a parameter, see module docstring).
PRAM_SPEED_KMH = 3.6
#: Named speed profiles accepted by :func:`speed_for` and the CLI.
SPEED_PROFILES = {"walk": WALK_SPEED_KMH, "pram": PRAM_SPEED_KMH}
#: Default walking-time thresholds in minutes.
DEFAULT_THRESHOLDS_MIN = (5, 10, 15)
#: Points farther than this (metres) from any street are reported as snapping problems.
DEFAULT_SNAP_TOLERANCE_M = 250.0
#: Bumped whenever the build rules or the array layout change (part of the network's cache key).
NETWORK_VERSION = 2  # 2: raw edges (self-loops, parallel streets) kept for snapping

# Shortest edge length kept, in metres. Zero-length edges (duplicated OSM nodes) would be legal in
# csgraph, but a strictly positive floor keeps every path well defined without changing any figure.
_MIN_EDGE_M = 1e-6


def speed_for(profile: str | None = None, speed_kmh: float | None = None) -> float:
    """Return the walking speed in km/h from an explicit speed or a named profile.

    Parameters
    ----------
    profile
        ``'walk'`` (4.5 km/h) or ``'pram'`` (3.6 km/h); ignored when ``speed_kmh`` is given.
    speed_kmh
        An explicit speed; must be positive.

    Returns
    -------
    float
        Speed in km/h.
    """
    if speed_kmh is not None:
        if not np.isfinite(speed_kmh) or speed_kmh <= 0:
            raise ConfigError(f"walking speed must be a positive number of km/h, got {speed_kmh}")
        return float(speed_kmh)
    if profile is None:
        return WALK_SPEED_KMH
    if profile not in SPEED_PROFILES:
        raise ConfigError(
            f"unknown speed profile '{profile}'", hint=f"choose one of {', '.join(sorted(SPEED_PROFILES))}"
        )
    return SPEED_PROFILES[profile]


def metres_per_minute(speed_kmh: float) -> float:
    """Return metres walked per minute at ``speed_kmh``."""
    return speed_kmh * 1000.0 / 60.0


@dataclass(frozen=True, eq=False)
class WalkNetwork:
    """A walking network as arrays (EPSG:31370, metres).

    Attributes
    ----------
    node_ids
        OSM node id per node (int64; negative synthetic ids when the source has none, e.g. ``.pbf``).
    x, y
        Node coordinates in EPSG:31370.
    raw_u, raw_v
        Node indices of each raw street edge (``raw_u <= raw_v``; equal for a self-loop), sorted by
        ``raw_u``, ``raw_v`` and length. Every walkable street edge once, parallel streets and loops
        included: what points are snapped to.
    raw_length
        Length of each raw edge in metres (the OSM/OSMnx length).
    raw_geometry
        Street geometry of each raw edge, a LineString from ``raw_u`` to ``raw_v`` (EPSG:31370).
    edge_raw
        For each routing edge, the index of the raw edge it is (the shortest between its two nodes).
    edge_u, edge_v
        Node indices of each routing edge (``edge_u < edge_v``): one per pair of connected nodes.
    edge_length
        Length of each routing edge in metres (the cost used by shortest paths).
    edge_geometry
        Street geometry of each routing edge, a LineString from ``edge_u`` to ``edge_v`` (EPSG:31370).
    source
        The file the network was built from.
    sha256
        sha256 of that file.
    dropped_nodes
        Nodes removed because they were not in the largest connected piece (0 if all were kept).
    n_components
        Number of connected pieces in the network as kept.
    """

    node_ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    raw_u: np.ndarray
    raw_v: np.ndarray
    raw_length: np.ndarray
    raw_geometry: np.ndarray
    edge_raw: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length: np.ndarray
    edge_geometry: np.ndarray
    source: Path | None = None
    sha256: str | None = None
    dropped_nodes: int = 0
    n_components: int = 1
    params: dict = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.x.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of routing edges (pairs of connected nodes)."""
        return int(self.edge_u.shape[0])

    @property
    def n_raw_edges(self) -> int:
        """Number of raw street edges (parallel streets and self-loops included)."""
        return int(self.raw_u.shape[0])

    @cached_property
    def csr(self) -> sp.csr_matrix:
        """Symmetric CSR matrix of edge lengths (metres), both directions stored."""
        n = self.n_nodes
        rows = np.concatenate([self.edge_u, self.edge_v])
        cols = np.concatenate([self.edge_v, self.edge_u])
        w = np.concatenate([self.edge_length, self.edge_length])
        return sp.csr_matrix((w, (rows, cols)), shape=(n, n))

    @cached_property
    def raw_tree(self) -> shapely.STRtree:
        """Spatial index over the raw edge geometries, for snapping (built on first use)."""
        return shapely.STRtree(self.raw_geometry)

    @cached_property
    def component(self) -> np.ndarray:
        """Connected-piece label of every node."""
        return connected_components(self.csr, directed=False)[1]


@dataclass(frozen=True)
class SnapResult:
    """Where points meet the street network.

    Attributes
    ----------
    edge
        Index of the nearest raw edge per point (into :attr:`WalkNetwork.raw_u` etc.).
    u, v
        End nodes of that edge (``u == v`` on a self-loop).
    dist_u, dist_v
        Distance in metres *along the edge* from the snapped point to ``u`` and to ``v`` (scaled to the
        edge's network length, so ``dist_u + dist_v == raw_length``). On a self-loop they are the two
        ways round the loop to its one node.
    access_m
        Straight-line distance in metres from the point to the street (the access leg).
    beyond_tolerance
        True where ``access_m`` exceeds the tolerance: a data problem to report, not to hide.
    tolerance_m
        The tolerance used.
    """

    edge: np.ndarray
    u: np.ndarray
    v: np.ndarray
    dist_u: np.ndarray
    dist_v: np.ndarray
    access_m: np.ndarray
    beyond_tolerance: np.ndarray
    tolerance_m: float

    def __len__(self) -> int:
        return int(self.edge.shape[0])


def snap_points(net: WalkNetwork, xy: np.ndarray, *, tolerance_m: float = DEFAULT_SNAP_TOLERANCE_M) -> SnapResult:
    """Snap points to the nearest raw street edge (parallel streets and self-loops included).

    Parameters
    ----------
    net
        The walking network.
    xy
        Array of shape (n, 2) with EPSG:31370 coordinates.
    tolerance_m
        Points farther than this from every street are flagged in ``beyond_tolerance``.

    Returns
    -------
    SnapResult
        Nearest edge, position along it, and the straight access leg of each point.

    Raises
    ------
    DataError
        If a coordinate is missing or not finite, or the network has no edges.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        raise DataError(f"point {int(np.flatnonzero(bad)[0])} has no valid coordinates", hint="check x/y")
    if net.n_raw_edges == 0:
        raise DataError("the walking network has no edges", path=net.source)
    pts = shapely.points(xy)
    if len(pts) == 0:
        empty_i = np.zeros(0, dtype=np.int64)
        empty_f = np.zeros(0)
        return SnapResult(empty_i, empty_i, empty_i, empty_f, empty_f, empty_f, np.zeros(0, dtype=bool), tolerance_m)
    (pi, ei), dist = net.raw_tree.query_nearest(pts, return_distance=True, all_matches=True)
    # Ties (a point at equal distance from several edges, e.g. on a node) are broken by the lowest
    # edge index so results never depend on tree internals.
    order = np.lexsort((ei, pi))
    pi, ei, dist = pi[order], ei[order], dist[order]
    first = np.ones(len(pi), dtype=bool)
    first[1:] = pi[1:] != pi[:-1]
    edge = ei[first]
    access = dist[first]
    frac = shapely.line_locate_point(net.raw_geometry[edge], pts, normalized=True)
    frac = np.nan_to_num(frac, nan=0.0)  # zero-length geometries
    length = net.raw_length[edge]
    dist_u = frac * length
    return SnapResult(
        edge=edge.astype(np.int64),
        u=net.raw_u[edge],
        v=net.raw_v[edge],
        dist_u=dist_u,
        dist_v=length - dist_u,
        access_m=access,
        beyond_tolerance=access > tolerance_m,
        tolerance_m=float(tolerance_m),
    )


# --------------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------------


def _canonical_loops(geom: np.ndarray, loop: np.ndarray) -> np.ndarray:
    """Orient every self-loop one fixed way round, so that a loop stored in both directions is one edge.

    A loop starts and ends at its node, so its direction cannot be read from its ends: it is turned so
    that its second vertex is lexicographically no greater than its last-but-one.
    """
    geom = geom.copy()
    for i in np.flatnonzero(loop):
        c = shapely.get_coordinates(geom[i])
        if len(c) > 2 and tuple(c[-2]) < tuple(c[1]):
            geom[i] = shapely.reverse(geom[i])
    return geom


def _finish(
    node_ids: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    eu: np.ndarray,
    ev: np.ndarray,
    length: np.ndarray,
    geom: np.ndarray,
    *,
    largest_component: bool,
    source: Path | None,
    sha256: str | None,
    params: dict,
) -> WalkNetwork:
    """Orient and deduplicate raw edges, derive the routing edges, prune to the largest piece."""
    eu, ev = np.asarray(eu, dtype=np.int64), np.asarray(ev, dtype=np.int64)
    loop = eu == ev
    # A self-loop drawn as a point (no geometry in the source) is no street anyone can stand on.
    keep = ~loop | (shapely.length(geom) > 0)
    eu, ev, length, geom, loop = eu[keep], ev[keep], length[keep], geom[keep], loop[keep]
    # Orient every edge as (low index, high index); reverse geometries that start at the high end.
    swap = eu > ev
    a = np.where(swap, ev, eu)
    b = np.where(swap, eu, ev)
    start = shapely.get_point(geom, 0)
    sx, sy = shapely.get_x(start), shapely.get_y(start)
    near_b = np.hypot(sx - x[b], sy - y[b]) < np.hypot(sx - x[a], sy - y[a])
    geom = np.where(near_b, shapely.reverse(geom), geom)
    geom = _canonical_loops(geom, loop)
    length = np.maximum(np.asarray(length, dtype=float), _MIN_EDGE_M)
    # Stable order: by a, b, length, original position; the shortest of parallel edges comes first.
    order = np.lexsort((np.arange(len(a)), length, b, a))
    a, b, length, geom = a[order], b[order], length[order], geom[order]
    # Raw edges: OSMnx stores each street once per direction; once oriented, the two copies have the same
    # ends and the same geometry. Keep one (the shorter, if the lengths differ by rounding).
    seen: set[tuple[int, int, bytes]] = set()
    first_copy = np.zeros(len(a), dtype=bool)
    for i, key in enumerate(zip(a.tolist(), b.tolist(), shapely.to_wkb(geom).tolist(), strict=True)):
        if key not in seen:
            seen.add(key)
            first_copy[i] = True
    a, b, length, geom = a[first_copy], b[first_copy], length[first_copy], geom[first_copy]
    # Routing edges: no self-loops, and the shortest of parallel edges (the first of each pair).
    routing = a != b
    routing[1:] &= (a[1:] != a[:-1]) | (b[1:] != b[:-1])

    n = len(x)
    dropped = 0
    ra, rb = a[routing], b[routing]
    if n:
        g = sp.csr_matrix((np.ones(len(ra)), (ra, rb)), shape=(n, n))
        ncomp, labels = connected_components(g, directed=False)
    else:
        ncomp, labels = 0, np.zeros(0, dtype=np.int32)
    if largest_component and ncomp > 1:
        sizes = np.bincount(labels)
        big = int(np.argmax(sizes))
        keep_node = labels == big
        dropped = int((~keep_node).sum())
        new_index = np.cumsum(keep_node) - 1
        keep_edge = keep_node[a] & keep_node[b]
        a, b = new_index[a[keep_edge]], new_index[b[keep_edge]]
        length, geom, routing = length[keep_edge], geom[keep_edge], routing[keep_edge]
        node_ids, x, y = node_ids[keep_node], x[keep_node], y[keep_node]
        ncomp = 1
    return _network(
        node_ids,
        x,
        y,
        a,
        b,
        length,
        geom,
        np.flatnonzero(routing),
        source=source,
        sha256=sha256,
        dropped_nodes=dropped,
        n_components=int(ncomp),
        params=params,
    )


def _network(
    node_ids: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    raw_u: np.ndarray,
    raw_v: np.ndarray,
    raw_length: np.ndarray,
    raw_geometry: np.ndarray,
    edge_raw: np.ndarray,
    *,
    source: Path | None,
    sha256: str | None,
    dropped_nodes: int,
    n_components: int,
    params: dict,
) -> WalkNetwork:
    """Assemble a :class:`WalkNetwork` from its raw edges and the raw index of each routing edge."""
    raw_u = np.asarray(raw_u, dtype=np.int64)
    raw_v = np.asarray(raw_v, dtype=np.int64)
    raw_length = np.asarray(raw_length, dtype=float)
    edge_raw = np.asarray(edge_raw, dtype=np.int64)
    return WalkNetwork(
        node_ids=np.asarray(node_ids, dtype=np.int64),
        x=np.asarray(x, dtype=float),
        y=np.asarray(y, dtype=float),
        raw_u=raw_u,
        raw_v=raw_v,
        raw_length=raw_length,
        raw_geometry=raw_geometry,
        edge_raw=edge_raw,
        edge_u=raw_u[edge_raw],
        edge_v=raw_v[edge_raw],
        edge_length=raw_length[edge_raw],
        edge_geometry=raw_geometry[edge_raw],
        source=source,
        sha256=sha256,
        dropped_nodes=dropped_nodes,
        n_components=n_components,
        params=dict(params),
    )


def network_from_graph(
    graph,
    *,
    largest_component: bool = True,
    source: Path | None = None,
    sha256: str | None = None,
    params: dict | None = None,
) -> WalkNetwork:
    """Build a :class:`WalkNetwork` from an OSMnx/NetworkX graph.

    Parameters
    ----------
    graph
        A NetworkX (Multi)(Di)Graph with node attributes ``x``, ``y`` and edge attribute ``length``
        (metres); optional edge ``geometry`` (shapely LineString). Coordinates are taken to be in the
        graph's ``crs`` attribute (default EPSG:4326, as OSMnx stores them) and projected to EPSG:31370.
    largest_component
        Keep only the largest connected piece (see module docstring).
    source, sha256, params
        Provenance kept on the result.

    Returns
    -------
    WalkNetwork
    """
    crs = graph.graph.get("crs", settings.WGS84)
    nodes = list(graph.nodes)
    if not nodes:
        raise DataError("the walking network has no nodes", path=source)
    index = {n: i for i, n in enumerate(nodes)}
    try:
        gx = np.array([graph.nodes[n]["x"] for n in nodes], dtype=float)
        gy = np.array([graph.nodes[n]["y"] for n in nodes], dtype=float)
    except KeyError as exc:
        raise DataError("network nodes need 'x' and 'y' attributes", path=source, column=str(exc)) from exc
    try:
        node_ids = np.array([int(n) for n in nodes], dtype=np.int64)
    except (TypeError, ValueError):
        node_ids = -np.arange(1, len(nodes) + 1, dtype=np.int64)

    eu, ev, length, geoms = [], [], [], []
    multi = graph.is_multigraph()
    edges = graph.edges(keys=True, data=True) if multi else graph.edges(data=True)
    for e in edges:
        u, v, data = e[0], e[1], e[-1]
        if "length" not in data:
            raise DataError(f"edge {u}-{v} has no 'length'", path=source, column="length")
        eu.append(index[u])
        ev.append(index[v])
        length.append(float(data["length"]))
        geoms.append(data.get("geometry"))
    return network_from_lists(
        node_ids,
        gx,
        gy,
        crs,
        eu,
        ev,
        length,
        geoms,
        largest_component=largest_component,
        source=source,
        sha256=sha256,
        params=params or {},
    )


def network_from_lists(
    node_ids: np.ndarray,
    gx: np.ndarray,
    gy: np.ndarray,
    crs,
    eu: list[int],
    ev: list[int],
    length: list[float],
    geoms: list,
    *,
    largest_component: bool,
    source: Path | None,
    sha256: str | None,
    params: dict,
) -> WalkNetwork:
    """Project nodes and edge geometries (shapely or WKT, None for a straight edge) and build the network."""
    same = crs is not None and str(crs).upper() == settings.CRS
    tr = Transformer.from_crs(crs, settings.CRS, always_xy=True)
    x, y = (gx, gy) if same else tr.transform(gx, gy)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    eu_a = np.asarray(eu, dtype=np.int64)
    ev_a = np.asarray(ev, dtype=np.int64)
    geom = np.empty(len(geoms), dtype=object)
    has = np.array([g is not None for g in geoms], dtype=bool)
    if has.any():
        with_geom = np.array([g for g in geoms if g is not None], dtype=object)
        if isinstance(with_geom[0], str):
            with_geom = shapely.from_wkt(with_geom)
        geom[has] = with_geom if same else shapely.transform(with_geom, tr.transform, interleaved=False)
    straight = ~has
    if straight.any():
        su, sv = eu_a[straight], ev_a[straight]
        coords = np.stack([np.stack([x[su], y[su]], axis=1), np.stack([x[sv], y[sv]], axis=1)], axis=1)
        geom[straight] = shapely.linestrings(coords)
    return _finish(
        np.asarray(node_ids, dtype=np.int64),
        x,
        y,
        eu_a,
        ev_a,
        np.asarray(length, dtype=float),
        geom,
        largest_component=largest_component,
        source=source,
        sha256=sha256,
        params=params,
    )


def build_network(
    read: GraphArrays | Any,
    *,
    largest_component: bool = True,
    source: Path | None = None,
    sha256: str | None = None,
    params: dict | None = None,
) -> WalkNetwork:
    """Build the array network from what :func:`geoplanner.inputs.network_files.read_network_file` read.

    Parameters
    ----------
    read
        Lists of nodes and edges (:class:`~geoplanner.inputs.graphml.GraphArrays`) or a NetworkX graph.
    largest_component
        Keep only the largest connected piece (see the module docstring).
    source, sha256, params
        Provenance kept on the result.

    Returns
    -------
    WalkNetwork

    Raises
    ------
    DataError
        If the network has no node or no walkable edge.
    """
    if not isinstance(read, GraphArrays):
        return network_from_graph(
            read, largest_component=largest_component, source=source, sha256=sha256, params=params or {}
        )
    if not read.node_ids:
        raise DataError("the walking network has no nodes", path=source)
    if len(read.edge_u) == 0:
        raise DataError("the walking network has no edges", path=source, hint="is this a walking network file?")
    return network_from_lists(
        np.array(read.node_ids, dtype=np.int64),
        np.asarray(read.x, dtype=float),
        np.asarray(read.y, dtype=float),
        read.crs if read.crs is not None else settings.WGS84,
        read.edge_u,
        read.edge_v,
        read.length,
        list(read.geometry),
        largest_component=largest_component,
        source=source,
        sha256=sha256,
        params=params or {},
    )


def network_to_arrays(net: WalkNetwork) -> dict[str, np.ndarray]:
    """Return the network as plain arrays (for :func:`geoplanner.cache.save_arrays`).

    Only the raw edges are kept: the routing edges are a selection of them (``edge_raw``).
    """
    _, coords, offsets = shapely.to_ragged_array(net.raw_geometry)
    if len(offsets) != 1:
        raise AssertionError("edge geometries must be LineStrings")
    meta = np.array([net.sha256 or "", str(net.dropped_nodes), str(net.n_components)], dtype=str)
    return {
        "node_ids": net.node_ids,
        "x": net.x,
        "y": net.y,
        "raw_u": net.raw_u,
        "raw_v": net.raw_v,
        "raw_length": net.raw_length,
        "edge_raw": net.edge_raw,
        "coords": coords,
        "offsets": offsets[0],
        "meta": meta,
    }


def network_from_arrays(arrays: dict[str, np.ndarray], *, source: Path | None, params: dict) -> WalkNetwork | None:
    """Rebuild a network from :func:`network_to_arrays` (None when the arrays are not such a network)."""
    try:
        geom = shapely.from_ragged_array(shapely.GeometryType.LINESTRING, arrays["coords"], (arrays["offsets"],))
        meta = arrays["meta"]
        return _network(
            arrays["node_ids"],
            arrays["x"],
            arrays["y"],
            arrays["raw_u"],
            arrays["raw_v"],
            arrays["raw_length"],
            geom,
            arrays["edge_raw"],
            source=source,
            sha256=str(meta[0]) or None,
            dropped_nodes=int(meta[1]),
            n_components=int(meta[2]),
            params=params,
        )
    except (KeyError, ValueError, IndexError, TypeError):
        return None
