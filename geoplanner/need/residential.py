"""Streets people live along, weighted by the population grid: where a sector's children are spread."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplanner import cache
from geoplanner.core import settings
from geoplanner.inputs.grid import PopulationGrid

__all__ = [
    "FRONTAGE_HIGHWAYS",
    "LINES_VERSION",
    "residential_lines",
    "lines_to_arrays",
    "lines_from_arrays",
    "sector_pieces",
    "sector_weights",
]

#: OSM highway values along which people live (used for the residential weight).
FRONTAGE_HIGHWAYS = (
    "residential",
    "living_street",
    "unclassified",
    "tertiary",
    "secondary",
    "primary",
    "pedestrian",
)


#: Bumped whenever the residential-line rules change (part of the cache key of the lines).
LINES_VERSION = 1


def residential_lines(streets: gpd.GeoDataFrame, region: Any, grid: PopulationGrid) -> gpd.GeoDataFrame:
    """Return the streets that front housing, with their residential weight.

    Parameters
    ----------
    streets
        OSM ways with a ``highway`` column (:func:`geoplanner.inputs.osm.load_osm_lines`); only the
        :data:`FRONTAGE_HIGHWAYS` are kept.
    region
        The region outline (EPSG:31370) the streets are clipped to.
    grid
        The population grid sampled at each street's midpoint.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:31370 LineStrings clipped to the region; columns highway, length_m, density
        (GHSL persons/km² of the cell at the midpoint), weight (= length_m × density / 1000).
    """
    lines = streets[streets["highway"].isin(FRONTAGE_HIGHWAYS)].to_crs(settings.CRS)
    lines = gpd.clip(lines, region).explode(ignore_index=True)
    lines = lines[lines.geom_type == "LineString"].copy()
    lines["length_m"] = lines.length
    mid = lines.geometry.interpolate(0.5, normalized=True)
    lines["density"] = grid.sample(mid.x.to_numpy(), mid.y.to_numpy())
    lines["weight"] = lines["length_m"] * lines["density"] / 1000.0
    return lines.sort_values(["highway", "length_m"], ignore_index=True)[
        ["highway", "length_m", "density", "weight", "geometry"]
    ]


def lines_to_arrays(lines: gpd.GeoDataFrame) -> dict[str, np.ndarray]:
    """Return :func:`residential_lines` as plain arrays (for :func:`geoplanner.cache.save_arrays`)."""
    _, coords, offsets = shapely.to_ragged_array(lines.geometry.to_numpy())
    return {
        "highway": lines["highway"].to_numpy(dtype=str),
        "length_m": lines["length_m"].to_numpy(dtype=float),
        "density": lines["density"].to_numpy(dtype=float),
        "weight": lines["weight"].to_numpy(dtype=float),
        "coords": coords,
        "offsets": offsets[0],
    }


def lines_from_arrays(arrays: dict[str, np.ndarray]) -> gpd.GeoDataFrame | None:
    """Rebuild the lines of :func:`lines_to_arrays` (None when the arrays are not such lines)."""
    try:
        geom = shapely.from_ragged_array(shapely.GeometryType.LINESTRING, arrays["coords"], (arrays["offsets"],))
        frame = {k: arrays[k] for k in ("highway", "length_m", "density", "weight")}
    except (KeyError, ValueError):
        return None
    frame["highway"] = frame["highway"].astype(object)
    return gpd.GeoDataFrame(frame, geometry=geom, crs=settings.CRS)


def sector_pieces(sectors: gpd.GeoDataFrame, lines: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Cut the residential streets by sector: the pieces the residential weight is counted on.

    Parameters
    ----------
    sectors
        Sector polygons with ``cd_sector`` (EPSG:31370).
    lines
        :func:`residential_lines` output.

    Returns
    -------
    geopandas.GeoDataFrame
        One LineString piece per row: cd_sector, weight (the piece's share of its street's weight,
        i.e. piece length × density / 1000), geometry. The need model sums the weights per sector;
        the accessibility engine puts a demand point on each piece.
    """
    src = lines[["density", "geometry"]].to_crs(settings.CRS).reset_index(drop=True)
    src["density"] = np.nan_to_num(src["density"].to_numpy(dtype=float), nan=0.0)
    pieces = gpd.overlay(src, sectors[["cd_sector", "geometry"]], how="intersection", keep_geom_type=True)
    pieces = pieces.explode(ignore_index=True)
    pieces = pieces[pieces.length > 0].copy()
    pieces["weight"] = pieces.length * pieces["density"] / 1000.0
    return pieces[["cd_sector", "weight", "geometry"]].sort_values("cd_sector", kind="stable", ignore_index=True)


def sector_weights(sectors: gpd.GeoDataFrame, lines: gpd.GeoDataFrame, *, use_cache: bool = True) -> pd.Series:
    """Sum, per sector, the weight of the street pieces inside it (:func:`sector_pieces`).

    The overlay takes a few seconds, so its result is kept in :mod:`geoplanner.cache` (kind ``need``), keyed
    by the sector codes and geometries and the lines' geometry and density: any change of either is recomputed.
    """
    h = cache.digest(
        {
            **cache.base_parts(),
            "what": "sector_weights",
            "sectors": cache.frame_digest(sectors[["cd_sector", "geometry"]]),
            "lines": cache.frame_digest(lines[["density", "geometry"]].fillna({"density": 0.0})),
        }
    )
    stored = cache.load_arrays(h, kind="need") if use_cache else None
    if stored is not None and {"cd_sector", "weight"} <= set(stored):
        return pd.Series(stored["weight"], index=pd.Index(stored["cd_sector"].astype(object), name="cd_sector"))
    pieces = sector_pieces(sectors, lines)
    out = pieces.groupby("cd_sector")["weight"].sum().reindex(sectors["cd_sector"], fill_value=0.0)
    if use_cache:
        cache.save_arrays(h, {"cd_sector": out.index.to_numpy(dtype=str), "weight": out.to_numpy(dtype=float)},
                          kind="need")  # fmt: skip
    return out
