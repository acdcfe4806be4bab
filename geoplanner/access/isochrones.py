"""Walking isochrones from the street edges people can actually reach, and a walking-time raster.

An isochrone is built from the *street pieces* reachable within the time budget: whole edges whose
every point is in reach (every street as drawn: loop streets and parallel streets included), plus the
reachable stretch at the end of edges walked only part of the way,
plus the stretch along a service's own edge (what is left after its access leg). Those lines are buffered (default
40 m: a street with the homes on both sides), unioned and clipped to the region. Unlike a convex hull
this never claims parks, railway yards or blocks nobody can walk into. The thresholds are built on each
other (what is new at 10 minutes is added to the 5-minute polygon), and the polygons are remembered for
the rest of the process, keyed by what they are made of, so the coverage step, the maps and the report of
one `geoplanner run` draw each service set once (:func:`clear_memo` forgets them).

The time grid gives, per 50 m cell, the walking time to the nearest service of a set: the cell centre is
snapped to the nearest street like any demand point (straight access leg at walking speed).
"""

from __future__ import annotations

import hashlib
import itertools
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from rasterio.features import geometry_mask
from scipy.sparse.csgraph import dijkstra
from shapely.ops import substring

from geoplanner import cache
from geoplanner.access.network import (
    DEFAULT_THRESHOLDS_MIN,
    WALK_SPEED_KMH,
    SnapResult,
    WalkNetwork,
    metres_per_minute,
    snap_points,
)
from geoplanner.access.times import augmented_graph, node_distances, point_distances
from geoplanner.core import settings
from geoplanner.core.errors import ModelError

__all__ = [
    "reachable_lines",
    "isochrones",
    "merge_isochrones",
    "clear_memo",
    "TimeGrid",
    "walking_time_grid",
    "isochrone_key",
    "ISOCHRONE_BUFFER_M",
]

#: Half-width (metres) of the band around reachable streets that counts as reached.
ISOCHRONE_BUFFER_M = 40.0


def _reach(
    net: WalkNetwork,
    dist: np.ndarray,
    budget_m: float,
    sources: SnapResult | None,
    source_index: Sequence[int] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the raw edges reached whole (mask) and the partial pieces (LineStrings) within ``budget_m``."""
    # Every raw street edge, not only the routing ones: a loop street or the longer of two parallel
    # streets is walked from its ends like any other (on a loop both ends are its one node).
    length = net.raw_length
    reach_u = np.clip(budget_m - dist[net.raw_u], 0.0, length)
    reach_v = np.clip(budget_m - dist[net.raw_v], 0.0, length)
    full = reach_u + reach_v >= length
    part_u = np.flatnonzero(~full & (reach_u > 0))
    part_v = np.flatnonzero(~full & (reach_v > 0))
    geom = net.raw_geometry
    # Partial edges: the reachable fraction from each end (the OSM length and the drawn length differ
    # slightly, so cut by fraction).
    extra = [substring(geom[e], 0.0, reach_u[e] / length[e], normalized=True) for e in part_u]
    extra += [substring(geom[e], 1.0 - reach_v[e] / length[e], 1.0, normalized=True) for e in part_v]
    if sources is not None and len(sources):
        idx = np.arange(len(sources)) if source_index is None else np.asarray(source_index)
        for i in idx:
            left = budget_m - sources.access_m[i]
            if left <= 0:
                continue
            e = sources.edge[i]
            lo = max(sources.dist_u[i] - left, 0.0) / length[e]
            hi = min(sources.dist_u[i] + left, length[e]) / length[e]
            extra.append(substring(geom[e], lo, hi, normalized=True))
    part = np.asarray(extra, dtype=object)
    part = part[~shapely.is_empty(part) & (shapely.get_type_id(part) == 1)] if len(part) else part
    return full, part


def reachable_lines(
    net: WalkNetwork,
    dist: np.ndarray,
    budget_m: float,
    sources: SnapResult | None = None,
    source_index: Sequence[int] | None = None,
) -> np.ndarray:
    """Return the street pieces within ``budget_m`` of the sources, as LineStrings.

    Parameters
    ----------
    net
        The walking network.
    dist
        Metres from the sources to every node (e.g. :func:`geoplanner.access.times.node_distances`).
    budget_m
        Walking distance allowed.
    sources
        Snapped sources, to add the stretch along each source's own edge.
    source_index
        Which of ``sources`` the distances belong to (default: all).

    Returns
    -------
    numpy.ndarray
        Array of shapely LineStrings (EPSG:31370).
    """
    full, part = _reach(net, dist, budget_m, sources, source_index)
    out = np.concatenate([net.raw_geometry[full], part])
    return out[~shapely.is_empty(out) & (shapely.get_type_id(out) == 1)]


def _polygons(
    net: WalkNetwork,
    dist: np.ndarray,
    budgets_m: Sequence[float],
    sources: SnapResult,
    buffer_m: float,
    region,
) -> tuple[shapely.Geometry, ...]:
    """Reached-street polygons for increasing budgets, each built on the one before.

    Streets reached within 5 minutes are reached within 10, so the 10-minute polygon is the 5-minute
    one plus the buffers of what is new: edges that became whole, and every partial piece (a piece
    grows from the same end, so its new buffer covers the old one). Each whole edge is buffered and
    unioned once instead of once per threshold; the result means the same as buffering all reached
    lines of each budget (it differs only where two polygonal round caps of the buffer meet: by about a
    metre at most, 2e-6 of the area on the Brussels sets). ``budgets_m`` must be increasing.
    """
    out = []
    grown = None
    done = np.zeros(net.n_raw_edges, dtype=bool)
    for budget in budgets_m:
        full, part = _reach(net, dist, budget, sources, None)
        new = np.concatenate([net.raw_geometry[full & ~done], part])
        new = new[~shapely.is_empty(new) & (shapely.get_type_id(new) == 1)]
        done |= full
        if len(new):
            # Buffer each piece (vectorised) then one cascaded union: measured ~50x faster on the
            # Brussels network than buffering one big MultiLineString.
            add = shapely.union_all(shapely.buffer(new, buffer_m, quad_segs=4))
            grown = add if grown is None else shapely.union(grown, add)
        if grown is None:
            out.append(shapely.Polygon())
            continue
        poly = grown if region is None else shapely.intersection(grown, region)
        out.append(shapely.make_valid(poly))
    return tuple(out)


# Polygons already built in this process, so that `geoplanner run` draws the isochrones of a service
# set once for the coverage step, the maps and the report. The key is the content (network file,
# snapped sources, budgets, buffer, region), never an object's identity, so a stale entry cannot be
# served; networks built in memory (no sha256) are keyed by object and forgotten with it.
_MEMO: OrderedDict[tuple, tuple[shapely.Geometry, ...]] = OrderedDict()
_MEMO_SIZE = 128
_CELL_MEMO: dict[tuple, tuple] = {}  # walking-time raster: grid cells snapped to the streets
_LOCAL_NETS: weakref.WeakKeyDictionary[WalkNetwork, int] = weakref.WeakKeyDictionary()
_LOCAL_COUNT = itertools.count()


def _net_key(net: WalkNetwork) -> tuple:
    if net.sha256:
        return (net.sha256, tuple(sorted(net.params.items())), net.n_raw_edges)
    if net not in _LOCAL_NETS:
        _LOCAL_NETS[net] = next(_LOCAL_COUNT)
    return ("local", _LOCAL_NETS[net])


def _sources_key(src: SnapResult) -> bytes:
    """Digest of where the sources meet the streets, in a canonical order (a union has no order)."""
    table = np.column_stack([src.edge.astype(float), src.dist_u, src.dist_v, src.access_m])
    table = table[np.lexsort(table.T[::-1])]
    return hashlib.sha256(np.ascontiguousarray(table).tobytes()).digest()


def _region_key(region) -> bytes | None:
    return None if region is None else hashlib.sha256(shapely.to_wkb(region)).digest()


def _take(src: SnapResult, idx: np.ndarray) -> SnapResult:
    return SnapResult(
        edge=src.edge[idx],
        u=src.u[idx],
        v=src.v[idx],
        dist_u=src.dist_u[idx],
        dist_v=src.dist_v[idx],
        access_m=src.access_m[idx],
        beyond_tolerance=src.beyond_tolerance[idx],
        tolerance_m=src.tolerance_m,
    )


def _memo_polygons(
    net: WalkNetwork,
    src: SnapResult,
    budgets_m: tuple[float, ...],
    buffer_m: float,
    region,
    distances: Callable[[], np.ndarray],
) -> tuple[shapely.Geometry, ...]:
    """Polygons of ``src`` for each budget, from the memo or built (``distances`` runs only then)."""
    key = (_net_key(net), _sources_key(src), budgets_m, float(buffer_m), _region_key(region))
    hit = _MEMO.get(key)
    if hit is not None:
        _MEMO.move_to_end(key)
        return hit
    polys = _polygons(net, distances(), budgets_m, src, buffer_m, region)
    _MEMO[key] = polys
    while len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)
    return polys


def clear_memo() -> None:
    """Forget the isochrone polygons and raster snapping kept in this process."""
    _MEMO.clear()
    _CELL_MEMO.clear()


def isochrones(
    net: WalkNetwork,
    services: np.ndarray | SnapResult,
    *,
    service_ids: Sequence[str] | None = None,
    set_name: str = "",
    thresholds_min: Sequence[float] = DEFAULT_THRESHOLDS_MIN,
    speed_kmh: float = WALK_SPEED_KMH,
    region=None,
    per_service: bool = True,
    buffer_m: float = ISOCHRONE_BUFFER_M,
) -> gpd.GeoDataFrame:
    """Isochrone polygons of a service set: per service and for the whole set.

    Polygons are kept in memory for the rest of the process (see :func:`clear_memo`): the same
    services, thresholds, speed, buffer and region on the same network file are built once.

    Parameters
    ----------
    net
        The walking network.
    services
        (k, 2) EPSG:31370 array or snapped services.
    service_ids
        Id per service.
    set_name
        Name written in the ``service_set`` column.
    thresholds_min
        Minutes.
    speed_kmh
        Walking speed.
    region
        Polygon to clip to (EPSG:31370), e.g. :func:`geoplanner.inputs.areas.load_region`; ``None``: no clip.
    per_service
        Also build one polygon per service and threshold (set to False for large sets).
    buffer_m
        Half-width of the reached band around streets.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns service_set, service_id ('*' for the whole set), threshold_min, area_km2, geometry
        (EPSG:31370).
    """
    src = services if isinstance(services, SnapResult) else snap_points(net, services)
    if len(src) == 0:
        raise ModelError(f"service set '{set_name}' is empty: no isochrones to draw")
    ids = [str(i) for i in range(len(src))] if service_ids is None else [str(s) for s in service_ids]
    mpm = metres_per_minute(speed_kmh)
    ths = sorted(float(t) for t in thresholds_min)
    budgets = tuple(th * mpm for th in ths)
    limit = max(budgets)
    polys = _memo_polygons(net, src, budgets, buffer_m, region, lambda: node_distances(net, src, limit_m=limit)[0])
    rows = [(set_name, "*", th, p) for th, p in zip(ths, polys, strict=True)]
    if per_service:
        aug = None
        n = net.n_nodes

        def one(i: int) -> np.ndarray:
            nonlocal aug
            aug = augmented_graph(net, src) if aug is None else aug  # built only when the memo misses
            return dijkstra(aug, directed=True, indices=n + i, limit=limit)[:n]

        for i in np.argsort(np.asarray(ids), kind="stable"):
            mine = _memo_polygons(net, _take(src, np.array([i])), budgets, buffer_m, region, partial(one, int(i)))
            rows += [(set_name, ids[i], th, p) for th, p in zip(ths, mine, strict=True)]
    gdf = gpd.GeoDataFrame(
        rows, columns=["service_set", "service_id", "threshold_min", "geometry"], geometry="geometry", crs=settings.CRS
    )
    gdf.insert(3, "area_km2", gdf.geometry.area / 1e6)
    return gdf


def merge_isochrones(frames: Sequence[gpd.GeoDataFrame], *, set_name: str) -> gpd.GeoDataFrame:
    """Union the whole-set ('*') isochrones of several service sets, threshold by threshold.

    Within a threshold, a street is reached from the union of two sets exactly when it is reached from
    one of them (a street walked in from both ends is the union of the two stretches), so this is the
    isochrone of the sets together, at the cost of one overlay per threshold when the parts are built.

    Parameters
    ----------
    frames
        Results of :func:`isochrones` (same CRS and thresholds).
    set_name
        Written in the ``service_set`` column.

    Returns
    -------
    geopandas.GeoDataFrame
        One '*' row per threshold, in the schema of :func:`isochrones`.
    """
    whole = pd.concat([f[f["service_id"].astype(str) == "*"] for f in frames], ignore_index=True)
    rows = []
    for th, part in whole.groupby("threshold_min", sort=True):
        rows.append((set_name, "*", float(th), shapely.make_valid(shapely.union_all(part.geometry.values))))
    gdf = gpd.GeoDataFrame(
        rows, columns=["service_set", "service_id", "threshold_min", "geometry"], geometry="geometry", crs=settings.CRS
    )
    gdf.insert(3, "area_km2", gdf.geometry.area / 1e6)
    return gdf


@dataclass(frozen=True, eq=False)
class TimeGrid:
    """Walking minutes to the nearest service on a north-up grid (EPSG:31370; NaN outside the region).

    Attributes
    ----------
    values
        float32 array (rows from north to south).
    transform
        The grid's affine transform (cell size, upper-left corner).
    speed_kmh
        The walking speed the minutes are at.
    """

    values: np.ndarray
    transform: Affine
    speed_kmh: float


def walking_time_grid(
    net: WalkNetwork,
    services: np.ndarray | SnapResult,
    *,
    region: Any,
    speed_kmh: float = WALK_SPEED_KMH,
    cell_m: float = 50.0,
) -> TimeGrid:
    """Return the walking minutes to the nearest service per grid cell (see the module docstring).

    Parameters
    ----------
    net
        The walking network.
    services
        (k, 2) EPSG:31370 array or snapped services.
    region
        Region polygon (EPSG:31370); cells whose centre is outside are NaN.
    speed_kmh
        Walking speed.
    cell_m
        Cell size in metres; the grid is aligned to multiples of it.

    Returns
    -------
    TimeGrid
    """
    src = services if isinstance(services, SnapResult) else snap_points(net, services)
    if len(src) == 0:
        raise ModelError("the service set is empty: no walking-time surface to draw")
    key = (_net_key(net), float(cell_m), _region_key(region))
    if key not in _CELL_MEMO:  # the grid and its snapping are the same for every service set
        minx, miny, maxx, maxy = shapely.bounds(region)
        x0, y1 = np.floor(minx / cell_m) * cell_m, np.ceil(maxy / cell_m) * cell_m
        width = int(np.ceil((maxx - x0) / cell_m))
        height = int(np.ceil((y1 - miny) / cell_m))
        transform = Affine(cell_m, 0.0, x0, 0.0, -cell_m, y1)  # north-up grid
        inside = ~geometry_mask([region], out_shape=(height, width), transform=transform)
        rr, cc = np.nonzero(inside)
        cx = x0 + (cc + 0.5) * cell_m
        cy = y1 - (rr + 0.5) * cell_m
        _CELL_MEMO[key] = (width, height, transform, rr, cc, snap_points(net, np.c_[cx, cy]))
        while len(_CELL_MEMO) > 4:
            _CELL_MEMO.pop(next(iter(_CELL_MEMO)))
    width, height, transform, rr, cc, cells = _CELL_MEMO[key]
    dist, source = node_distances(net, src)
    metres, _ = point_distances(cells, dist, source, src)
    grid = np.full((height, width), np.nan, dtype=np.float32)
    grid[rr, cc] = (metres / metres_per_minute(speed_kmh)).astype(np.float32)
    grid[~np.isfinite(grid)] = np.nan
    return TimeGrid(grid, transform, float(speed_kmh))


def isochrone_key(
    net: WalkNetwork,
    xy: np.ndarray,
    ids: Sequence[str],
    *,
    name: str,
    thresholds: Sequence[float],
    speed_kmh: float,
    tolerance_m: float,
    region: Any,
    per_service: bool,
    extra: dict | None = None,
) -> str:
    """Return the :mod:`geoplanner.cache` key of one service set's isochrones (or, with ``extra``, its raster).

    The key is everything the polygons are drawn from: the network (its content digest and build), the
    services' ids and places, thresholds, speed, snapping tolerance, region, whether each service gets its
    own polygon, and the code and libraries (:func:`geoplanner.cache.base_parts`). ``extra`` adds what else
    shapes a result drawn from the same walking times (e.g. a raster's cell size and note).
    """
    parts = {
        **cache.base_parts(),
        "what": "isochrones",
        "network": [net.sha256, net.params, net.n_nodes, net.n_edges],
        "set": name,
        "ids": [str(i) for i in ids],
        "xy": cache.array_digest(xy),
        "thresholds": [float(t) for t in thresholds],
        "speed_kmh": float(speed_kmh),
        "tolerance_m": float(tolerance_m),
        "per_service": bool(per_service),
        "region": hashlib.sha256(shapely.to_wkb(region)).hexdigest(),
        "extra": extra or {},
    }
    return cache.digest(parts)
