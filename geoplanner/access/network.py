"""Walking network: load an OSM street graph, turn it into a compact array graph, cache it, snap points.

The network is kept as plain arrays so that :mod:`scipy.sparse.csgraph` can run shortest paths over it
in C: node coordinates in EPSG:31370, one row per street edge as drawn (two node indices, a length in
metres and the street geometry), and for routing one row per pair of connected nodes with a symmetric
CSR matrix of edge lengths built from those rows.

Modelling choices (all documented because they change the figures):

- Walking is allowed both ways on every street (``bidirectional=True``): one-way streets are one-way for
  cars, not for parents on foot.
- Two lists of edges. The *raw* edges (``raw_*``) are every walkable street edge once, with its own
  ends, length and geometry, self-loops (a street that leaves a node and comes back to it) and parallel
  streets between the same two nodes included; the two directions OSMnx stores for each street are one
  raw edge. The *routing* edges (``edge_*``, and :attr:`WalkNetwork.csr`) merge parallel edges, keeping
  the shortest, and drop self-loops: neither can shorten a path between nodes. Points are snapped to the
  raw edges, so a home on a loop street or on the longer of two parallel streets stays on its own street
  and walks along it to either end; the node-to-node distances come from the routing edges.
- By default only the largest connected piece of the network is kept (as OSMnx does with
  ``retain_all=False``): small islands are usually footpaths whose connection is missing in OSM, and
  snapping a home or a service to such an island would make it look unreachable. The number of nodes
  dropped is kept in :attr:`WalkNetwork.dropped_nodes`. With ``largest_component=False`` every piece is
  kept and times between pieces are infinite (reported as unreachable by the accessibility engine).
- Points are snapped to the nearest raw street *edge* (not node) with a spatial index; the straight-line
  "access leg" from the point to the street is walked at the same speed. Points farther than a tolerance
  from any street are flagged, never silently dropped.

Default speeds: :data:`WALK_SPEED_KMH` = 4.5 km/h, a usual figure for an adult walking in a city, and the
``pram`` profile at :data:`PRAM_SPEED_KMH` = 3.6 km/h. The pram figure is an *assumption* (20 % slower:
a parent pushing a pram or walking with a toddler, waiting at kerbs and crossings); it is a parameter,
and users with better local figures should pass their own speed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from geoplanner.core import settings
from geoplanner.core.errors import ConfigError, DataError
from geoplanner.outputs.files import atomic_path, sha256_file

__all__ = [
    "WALK_SPEED_KMH",
    "PRAM_SPEED_KMH",
    "SPEED_PROFILES",
    "DEFAULT_THRESHOLDS_MIN",
    "DEFAULT_SNAP_TOLERANCE_M",
    "CACHE_FORMAT_VERSION",
    "WalkNetwork",
    "SnapResult",
    "load_network",
    "download_network",
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
#: Bumped whenever the cache layout or the build rules change, so old caches are never reused.
CACHE_FORMAT_VERSION = 2  # 2: raw edges (self-loops, parallel streets) kept for snapping

# Shortest edge length kept, in metres. Zero-length edges (duplicated OSM nodes) would be legal in
# csgraph, but a strictly positive floor keeps every path well defined without changing any figure.
_MIN_EDGE_M = 1e-6

# OSMnx 2.1 'walk' filter, applied when we read ways from a .pbf ourselves (same rules as the bundle's
# walk extract, see data/osm/PROVENANCE.md): a way is kept when it has `highway` and each tag below is
# absent or does not match the pattern.
_WALK_EXCLUDE = {
    "area": r"yes",
    "access": r"private",
    "highway": r"abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|raceway"
    r"|razed|rest_area|services",
    "foot": r"no",
    "service": r"private",
    "sidewalk": r"separate",
    "sidewalk:both": r"separate",
    "sidewalk:left": r"separate",
    "sidewalk:right": r"separate",
}
_HSTORE_RE = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')


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
    return _network_from_lists(
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


def _network_from_lists(
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
    from pyproj import Transformer

    tr = Transformer.from_crs(crs, settings.CRS, always_xy=True)
    x, y = tr.transform(gx, gy)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    eu_a = np.asarray(eu, dtype=np.int64)
    ev_a = np.asarray(ev, dtype=np.int64)
    geom = np.empty(len(geoms), dtype=object)
    has = np.array([g is not None for g in geoms], dtype=bool)
    if has.any():
        with_geom = np.array([g for g in geoms if g is not None], dtype=object)
        if isinstance(with_geom[0], str):
            with_geom = shapely.from_wkt(with_geom)
        geom[has] = shapely.transform(with_geom, lambda cx, cy: tr.transform(cx, cy), interleaved=False)
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


def _network_from_graphml(path: Path, *, largest_component: bool, sha256: str, params: dict) -> WalkNetwork | None:
    """Build from an OSMnx GraphML with the streaming reader; None when the file needs OSMnx."""
    from geoplanner.access.graphml import read_graphml

    g = read_graphml(path)
    if g is None or not g.node_ids:
        return None
    return _network_from_lists(
        np.array(g.node_ids, dtype=np.int64),
        np.array(g.x, dtype=float),
        np.array(g.y, dtype=float),
        g.crs if g.crs is not None else settings.WGS84,
        g.edge_u,
        g.edge_v,
        g.length,
        g.geometry,
        largest_component=largest_component,
        source=path,
        sha256=sha256,
        params=params,
    )


def _tags(other: str | None) -> dict[str, str]:
    """Parse the OGR OSM driver's ``other_tags`` hstore string."""
    if not isinstance(other, str) or not other:
        return {}
    return {k: v for k, v in _HSTORE_RE.findall(other)}


def _walkable(highway: str | None, other: str | None) -> bool:
    """Apply the OSMnx 'walk' filter to one way."""
    if not isinstance(highway, str) or not highway:
        return False
    tags = _tags(other)
    tags["highway"] = highway
    for key, pattern in _WALK_EXCLUDE.items():
        value = tags.get(key)
        if value is not None and re.search(pattern, value):
            return False
    return True


def _network_from_pbf(path: Path, *, largest_component: bool, sha256: str, params: dict) -> WalkNetwork:
    """Build the walk network from an ``.osm.pbf`` with GDAL's OSM driver (via pyogrio).

    OSMnx reads only OSM XML, so for PBF we read the ``lines`` layer, keep the ways that pass the OSMnx
    'walk' filter, and build the topology from shared vertices: two ways meet where they share an OSM
    node, which in a PBF has exactly the same coordinates. Every segment between consecutive vertices is
    an edge (the graph is not simplified) and lengths are planar in EPSG:31370. OSM node ids are not
    exposed by the driver, so node ids are synthetic (negative).
    """
    import pyogrio
    from pyproj import Transformer

    try:
        df = pyogrio.read_dataframe(path, layer="lines", columns=["highway", "other_tags"], where="highway IS NOT NULL")
    except Exception as exc:  # GDAL raises its own error types
        raise DataError(f"cannot read OSM ways: {exc}", path=path) from exc
    keep = np.array([_walkable(h, o) for h, o in zip(df["highway"], df["other_tags"], strict=True)], dtype=bool)
    lines = df.geometry.values[keep]
    coords, line_idx = shapely.get_coordinates(np.asarray(lines), return_index=True)
    if len(coords) == 0:
        raise DataError("no walkable ways in the OSM file", path=path)
    # OSM nodes are stored at 1e-7 degree precision, so rounding to that recovers shared nodes.
    key = np.round(coords * 1e7).astype(np.int64)
    uniq, inverse = np.unique(key, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    lon, lat = uniq[:, 0] / 1e7, uniq[:, 1] / 1e7
    tr = Transformer.from_crs(settings.WGS84, settings.CRS, always_xy=True)
    x, y = (np.asarray(c, dtype=float) for c in tr.transform(lon, lat))
    same_line = line_idx[1:] == line_idx[:-1]
    eu = inverse[:-1][same_line]
    ev = inverse[1:][same_line]
    seg = np.stack([np.stack([x[eu], y[eu]], axis=1), np.stack([x[ev], y[ev]], axis=1)], axis=1)
    geom = shapely.linestrings(seg)
    length = np.hypot(x[ev] - x[eu], y[ev] - y[eu])
    node_ids = -np.arange(1, len(x) + 1, dtype=np.int64)
    return _finish(
        node_ids,
        x,
        y,
        eu,
        ev,
        length,
        geom,
        largest_component=largest_component,
        source=path,
        sha256=sha256,
        params=params,
    )


def _graph_from_xml(path: Path):
    """Read OSM XML with OSMnx, walkable both ways, and drop ways that fail the 'walk' filter.

    The bundle's walk extract is already filtered; a user's file (e.g. all highways) may hold motorways
    or private roads, so the filter is applied again on the tags OSMnx keeps.
    """
    import osmnx as ox

    saved = ox.settings.useful_tags_way
    ox.settings.useful_tags_way = sorted(set(saved) | set(_WALK_EXCLUDE))
    try:
        # retain_all=True: components are handled by _finish, uniformly for every input kind.
        graph = ox.graph_from_xml(path, bidirectional=True, simplify=False, retain_all=True)
    finally:
        ox.settings.useful_tags_way = saved
    drop = []
    for u, v, k, data in graph.edges(keys=True, data=True):
        for key, pattern in _WALK_EXCLUDE.items():
            value = data.get(key)
            if isinstance(value, str) and re.search(pattern, value):
                drop.append((u, v, k))
                break
    graph.remove_edges_from(drop)
    graph.remove_nodes_from([n for n, deg in graph.degree() if deg == 0])
    return ox.simplify_graph(graph)


def _build(path: Path, *, largest_component: bool, sha256: str, params: dict) -> WalkNetwork:
    """Build a network from a file, choosing the reader by extension."""
    name = path.name.lower()
    if name.endswith(".pbf"):
        return _network_from_pbf(path, largest_component=largest_component, sha256=sha256, params=params)
    if name.endswith(".graphml"):
        net = _network_from_graphml(path, largest_component=largest_component, sha256=sha256, params=params)
        if net is not None:
            return net
    import osmnx as ox

    try:
        if name.endswith(".graphml"):
            graph = ox.load_graphml(path)
        elif name.endswith((".osm", ".osm.bz2", ".xml", ".xml.bz2")):
            graph = _graph_from_xml(path)
        else:
            raise DataError(
                "unknown network file type",
                path=path,
                hint="use .osm, .osm.bz2, .osm.pbf or an OSMnx .graphml",
            )
    except DataError:
        raise
    except Exception as exc:  # parsers raise many types; report one line
        raise DataError(f"cannot read the network: {exc}", path=path) from exc
    return network_from_graph(graph, largest_component=largest_component, source=path, sha256=sha256, params=params)


# --------------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------------


def _cache_file(sha256: str, params: dict, cache_dir: Path) -> Path:
    import hashlib
    import json

    key = json.dumps({"sha256": sha256, "format": CACHE_FORMAT_VERSION, **params}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return cache_dir / "network" / f"walk_{digest}.npz"


def _save_cache(net: WalkNetwork, target: Path) -> None:
    # Only the raw edges are stored: the routing edges are a selection of them (``edge_raw``).
    gtype, coords, offsets = shapely.to_ragged_array(net.raw_geometry)
    if len(offsets) != 1:
        raise AssertionError("edge geometries must be LineStrings")
    meta = np.array([str(net.source or ""), net.sha256 or "", str(net.dropped_nodes), str(net.n_components)], dtype=str)

    with atomic_path(target) as tmp:
        with open(tmp, "wb") as fh:  # np.savez on a path would append '.npz' to the temp name
            np.savez(
                fh,
                node_ids=net.node_ids,
                x=net.x,
                y=net.y,
                raw_u=net.raw_u,
                raw_v=net.raw_v,
                raw_length=net.raw_length,
                edge_raw=net.edge_raw,
                coords=coords,
                offsets=offsets[0],
                meta=meta,
            )


def _load_cache(target: Path, params: dict) -> WalkNetwork | None:
    try:
        with np.load(target, allow_pickle=False) as z:
            geom = shapely.from_ragged_array(shapely.GeometryType.LINESTRING, z["coords"], (z["offsets"],))
            meta = z["meta"]
            return _network(
                z["node_ids"],
                z["x"],
                z["y"],
                z["raw_u"],
                z["raw_v"],
                z["raw_length"],
                geom,
                z["edge_raw"],
                source=Path(meta[0]) if meta[0] else None,
                sha256=str(meta[1]) or None,
                dropped_nodes=int(meta[2]),
                n_components=int(meta[3]),
                params=params,
            )
    except (OSError, KeyError, ValueError):
        return None  # unreadable or old cache: rebuild


def load_network(
    source: str | Path | None = None,
    *,
    cache: bool = True,
    largest_component: bool = True,
    cache_dir: Path | None = None,
) -> WalkNetwork:
    """Load the walking network, from the cache when the input has not changed.

    Parameters
    ----------
    source
        ``.osm``, ``.osm.bz2``, ``.osm.pbf`` or OSMnx ``.graphml``. Default: the bundle's
        ``osm_walk_graphml`` (falling back to ``osm_walk``).
    cache
        Read and write the array cache (``<cache_dir>/network/walk_<key>.npz``). The key is the sha256 of
        the input file, ``largest_component`` and :data:`CACHE_FORMAT_VERSION`, so a changed input or
        rule is rebuilt, never served stale.
    largest_component
        Keep only the largest connected piece (default) or all pieces.
    cache_dir
        Default :func:`geoplanner.core.settings.cache_dir`.

    Returns
    -------
    WalkNetwork

    Raises
    ------
    DataMissingError
        If no source is given and the bundle has no network.
    DataError
        If the file cannot be read or holds no walkable street.
    """
    if source is None:
        source = _default_source()
    path = Path(source)
    if not path.is_file():
        raise DataError("network file not found", path=path, hint="pass --network PATH or run `geoplanner data pull`")
    digest = sha256_file(path)
    params = {"largest_component": bool(largest_component)}
    target = _cache_file(digest, params, Path(cache_dir) if cache_dir else settings.cache_dir())
    if cache and target.is_file():
        net = _load_cache(target, params)
        if net is not None and net.sha256 == digest:
            return net
    net = _build(path, largest_component=largest_component, sha256=digest, params=params)
    if cache:
        _save_cache(net, target)
    return net


def _default_source() -> Path:
    from geoplanner.inputs import bundle

    try:
        return bundle.dataset_path("osm_walk_graphml")
    except DataError:
        return bundle.dataset_path("osm_walk")


def download_network(polygon, *, target: str | Path | None = None, cache: bool = True) -> WalkNetwork:
    """Download a current walking network with OSMnx (needs internet) and load it.

    The graph is saved as GraphML first, so the download is kept, can be cited and re-used offline.

    Parameters
    ----------
    polygon
        Study area, a shapely (Multi)Polygon in EPSG:31370.
    target
        Where to save the GraphML; default ``<cache_dir>/network/walk_download_<date>.graphml``.
    cache
        Passed to :func:`load_network`.

    Returns
    -------
    WalkNetwork
    """
    import datetime as dt

    import geopandas as gpd
    import osmnx as ox

    poly_wgs = gpd.GeoSeries([polygon], crs=settings.CRS).to_crs(settings.WGS84).iloc[0]
    graph = ox.graph_from_polygon(poly_wgs, network_type="walk", simplify=True, retain_all=True)
    if target is None:
        target = settings.cache_dir() / "network" / f"walk_download_{dt.date.today().isoformat()}.graphml"
    target = Path(target)
    with atomic_path(target) as tmp:
        ox.save_graphml(graph, tmp)
    return load_network(target, cache=cache)
