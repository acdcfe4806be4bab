"""Walking-time grids as GeoTIFF bytes (EPSG:31370, deflate), with their description and tags."""

from __future__ import annotations

import numpy as np
from rasterio.io import MemoryFile

from geoplanner.access.isochrones import TimeGrid
from geoplanner.core import settings

__all__ = ["geotiff_bytes"]


def geotiff_bytes(grid: TimeGrid, *, note: str = "") -> bytes:
    """Return a single-band float32 GeoTIFF of a :class:`~geoplanner.access.isochrones.TimeGrid`.

    Parameters
    ----------
    grid
        Walking minutes per cell (NaN outside the region, the nodata value).
    note
        Completeness note of the service layer, stored as the ``layer_note`` tag.

    Returns
    -------
    bytes
        The file's content, for :func:`geoplanner.outputs.files.write_with`.
    """
    height, width = grid.values.shape
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": settings.CRS,
        "transform": grid.transform,
        "nodata": np.nan,
        "compress": "deflate",
    }
    with MemoryFile() as memory:
        with memory.open(**profile) as dst:
            dst.write(grid.values, 1)
            dst.set_band_description(1, f"walking minutes to nearest service at {grid.speed_kmh:g} km/h")
            dst.update_tags(units="minutes", attribution=settings.ATTRIBUTION[0], layer_note=note)
        return memory.read()
