"""Walking isochrones from the street edges people can actually reach, and a walking-time raster.

An isochrone is built from the *street pieces* reachable within the time budget: whole edges whose
every point is in reach (every street as drawn: loop streets and parallel streets included), plus the
reachable stretch at the end of edges walked only part of the way,
plus the stretch along a service's own edge (what is left after its access leg). Those lines are buffered (default
40 m: a street with the homes on both sides), unioned and clipped to the region. Unlike a convex hull
this never claims parks, railway yards or blocks nobody can walk into.

The raster gives, per 50 m cell, the walking time to the nearest service of a set: the cell centre is
snapped to the nearest street like any demand point (straight access leg at walking speed).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.ops import substring

from geoplanner import settings
from geoplanner._io import write_with
from geoplanner.accessibility import _augmented, node_distances, point_distances
from geoplanner.errors import ModelError
from geoplanner.network import (
    DEFAULT_THRESHOLDS_MIN,
    WALK_SPEED_KMH,
    SnapResult,
    WalkNetwork,
    metres_per_minute,
    snap_points,
)

__all__ = ["reachable_lines", "isochrones", "walking_time_raster", "ISOCHRONE_BUFFER_M"]

#: Half-width (metres) of the band around reachable streets that counts as reached.
ISOCHRONE_BUFFER_M = 40.0


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
        Metres from the sources to every node (e.g. :func:`geoplanner.accessibility.node_distances`).
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
    # Every raw street edge, not only the routing ones: a loop street or the longer of two parallel
    # streets is walked from its ends like any other (on a loop both ends are its one node).
    length = net.raw_length
    reach_u = np.clip(budget_m - dist[net.raw_u], 0.0, length)
    reach_v = np.clip(budget_m - dist[net.raw_v], 0.0, length)
    full = reach_u + reach_v >= length
    pieces = [net.raw_geometry[full]]
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
    pieces.append(np.asarray(extra, dtype=object))
    out = np.concatenate(pieces)
    out = out[~shapely.is_empty(out) & (shapely.get_type_id(out) == 1)]
    return out


def _polygon(lines: np.ndarray, buffer_m: float, region) -> shapely.Geometry:
    if len(lines) == 0:
        return shapely.Polygon()
    # Buffer each piece (vectorised) then one cascaded union: measured ~50x faster on the Brussels
    # network than buffering one big MultiLineString.
    poly = shapely.union_all(shapely.buffer(lines, buffer_m, quad_segs=4))
    if region is not None:
        poly = shapely.intersection(poly, region)
    return shapely.make_valid(poly)


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
        Polygon to clip to (EPSG:31370), e.g. :func:`geoplanner.load.load_region`; ``None``: no clip.
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
    rows = []
    dist, _ = node_distances(net, src, limit_m=max(ths) * mpm)
    for th in ths:
        lines = reachable_lines(net, dist, th * mpm, src)
        rows.append((set_name, "*", th, _polygon(lines, buffer_m, region)))
    if per_service:
        from scipy.sparse.csgraph import dijkstra

        aug = _augmented(net, src)
        n = net.n_nodes
        for i in np.argsort(np.asarray(ids), kind="stable"):
            d = dijkstra(aug, directed=True, indices=n + i, limit=max(ths) * mpm)[:n]
            for th in ths:
                lines = reachable_lines(net, d, th * mpm, src, [i])
                rows.append((set_name, ids[i], th, _polygon(lines, buffer_m, region)))
    gdf = gpd.GeoDataFrame(
        rows, columns=["service_set", "service_id", "threshold_min", "geometry"], geometry="geometry", crs=settings.CRS
    )
    gdf.insert(3, "area_km2", gdf.geometry.area / 1e6)
    return gdf


def walking_time_raster(
    net: WalkNetwork,
    services: np.ndarray | SnapResult,
    target: str | Path,
    *,
    region,
    speed_kmh: float = WALK_SPEED_KMH,
    cell_m: float = 50.0,
    note: str = "",
) -> Path:
    """Write a GeoTIFF of walking minutes to the nearest service (EPSG:31370, NaN outside the region).

    Parameters
    ----------
    net
        The walking network.
    services
        (k, 2) EPSG:31370 array or snapped services.
    target
        Output ``.tif`` path (written atomically).
    region
        Region polygon (EPSG:31370); cells whose centre is outside are NaN.
    speed_kmh
        Walking speed.
    cell_m
        Cell size in metres; the grid is aligned to multiples of it.
    note
        Completeness note of the service layer, stored as the ``layer_note`` tag.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    import rasterio
    from affine import Affine
    from rasterio.features import geometry_mask

    src = services if isinstance(services, SnapResult) else snap_points(net, services)
    if len(src) == 0:
        raise ModelError("the service set is empty: no walking-time surface to draw")
    minx, miny, maxx, maxy = shapely.bounds(region)
    x0, y1 = np.floor(minx / cell_m) * cell_m, np.ceil(maxy / cell_m) * cell_m
    width = int(np.ceil((maxx - x0) / cell_m))
    height = int(np.ceil((y1 - miny) / cell_m))
    transform = Affine(cell_m, 0.0, x0, 0.0, -cell_m, y1)  # north-up grid
    inside = ~geometry_mask([region], out_shape=(height, width), transform=transform)
    rr, cc = np.nonzero(inside)
    cx = x0 + (cc + 0.5) * cell_m
    cy = y1 - (rr + 0.5) * cell_m
    cells = snap_points(net, np.c_[cx, cy])
    dist, source = node_distances(net, src)
    metres, _ = point_distances(cells, dist, source, src)
    grid = np.full((height, width), np.nan, dtype=np.float32)
    grid[rr, cc] = (metres / metres_per_minute(speed_kmh)).astype(np.float32)
    grid[~np.isfinite(grid)] = np.nan
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": settings.CRS,
        "transform": transform,
        "nodata": np.nan,
        "compress": "deflate",
    }

    def _write(tmp: Path) -> None:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(grid, 1)
            dst.set_band_description(1, f"walking minutes to nearest service at {speed_kmh:g} km/h")
            dst.update_tags(units="minutes", attribution=settings.ATTRIBUTION[0], layer_note=note)

    return write_with(target, _write)
