"""OpenStreetMap lines of the bundle's extract, read as plain frames for the engines above."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pyogrio

from geoplanner.core import settings
from geoplanner.core.errors import DataError
from geoplanner.inputs.bundle import dataset_path

__all__ = ["load_osm_lines"]


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
