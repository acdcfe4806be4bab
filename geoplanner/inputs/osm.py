"""The bundle's OpenStreetMap extract, read as plain frames for the engines above.

GDAL's OSM driver (through pyogrio) reads the ``.osm.pbf``; other tags stay in the ``other_tags``
hstore text, for the engines to parse. The need model takes the street lines (:func:`load_osm_lines`),
the offline geocoder builds its address index from all three layers (:func:`load_osm_layers`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pyogrio

from geoplanner.core import settings
from geoplanner.core.errors import DataError
from geoplanner.inputs.bundle import dataset_path

__all__ = ["load_osm_lines", "OsmLayers", "load_osm_layers"]


def load_osm_lines(
    data_dir: Path | None = None, *, highways: Sequence[str] | None = None, path: Path | None = None
) -> gpd.GeoDataFrame:
    """Return the OSM ways with a ``highway`` tag, in EPSG:31370.

    Parameters
    ----------
    data_dir
        Data folder (the bundle's ``osm_pbf``).
    highways
        Keep only these ``highway`` values (default: all).
    path
        Another ``.osm.pbf`` instead of the bundle's.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``highway`` and geometry (LineStrings), in the file's order.

    Raises
    ------
    DataError
        If the file cannot be read as OSM.
    """
    pbf = Path(path) if path is not None else dataset_path("osm_pbf", data_dir)
    try:
        lines = pyogrio.read_dataframe(pbf, layer="lines", columns=["highway"])
    except Exception as exc:  # GDAL raises its own error types
        raise DataError(f"cannot read OSM lines: {exc}", path=pbf) from None
    if highways is not None:
        lines = lines[lines["highway"].isin(tuple(highways))]
    return lines.to_crs(settings.CRS)


@dataclass(frozen=True)
class OsmLayers:
    """The three layers of an OSM extract in EPSG:31370.

    Attributes
    ----------
    lines
        Ways: osm_id, name, highway, other_tags, geometry.
    points
        Tagged nodes: osm_id, name, other_tags, geometry.
    multipolygons
        Closed ways and relations: osm_id, osm_way_id, name, admin_level, other_tags, geometry.
    path
        The file read (named in errors about its content).
    """

    lines: gpd.GeoDataFrame
    points: gpd.GeoDataFrame
    multipolygons: gpd.GeoDataFrame
    path: Path


def load_osm_layers(data_dir: Path | None = None, *, path: str | Path | None = None) -> OsmLayers:
    """Read the lines, points and multipolygons of an OSM extract, with their names and other tags.

    Parameters
    ----------
    data_dir
        Data folder (the bundle's ``osm_pbf``).
    path
        Another ``.osm.pbf`` (or ``.osm``) instead of the bundle's.

    Returns
    -------
    OsmLayers

    Raises
    ------
    DataError
        If the file cannot be read as OSM.
    """
    pbf = Path(path) if path is not None else dataset_path("osm_pbf", data_dir)
    try:
        with warnings.catch_warnings():
            # OSM multipolygons clipped at the extract's edge have unclosed rings; GDAL warns and fixes.
            warnings.simplefilter("ignore", RuntimeWarning)
            lines = pyogrio.read_dataframe(pbf, layer="lines", columns=["osm_id", "name", "highway", "other_tags"])
            points = pyogrio.read_dataframe(pbf, layer="points", columns=["osm_id", "name", "other_tags"])
            polys = pyogrio.read_dataframe(
                pbf, layer="multipolygons", columns=["osm_id", "osm_way_id", "name", "admin_level", "other_tags"]
            )
    except Exception as exc:  # pyogrio raises several DataSourceError types
        raise DataError(f"cannot read the OSM extract: {exc}", path=pbf) from None
    return OsmLayers(lines.to_crs(settings.CRS), points.to_crs(settings.CRS), polys.to_crs(settings.CRS), pbf)
