"""The GHSL population grid (1 km, persons per km²), read once and sampled at points."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from pyproj import Transformer

from geoplanner.core import settings
from geoplanner.inputs.bundle import dataset_path

__all__ = ["PopulationGrid", "load_population_grid"]


@dataclass(frozen=True, eq=False)
class PopulationGrid:
    """A population raster in memory.

    Attributes
    ----------
    values
        Persons per km² per cell (float; NaN where the file has no data).
    transform
        The raster's affine transform.
    crs
        The raster's CRS (GHSL: ESRI:54009, Mollweide).
    """

    values: np.ndarray
    transform: object
    crs: object

    def sample(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Return the density of the cell under each point given in EPSG:31370 (0 outside the grid or NaN)."""
        to_grid = Transformer.from_crs(settings.CRS, self.crs, always_xy=True)
        gx, gy = to_grid.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        rows, cols = rasterio.transform.rowcol(self.transform, gx, gy)
        rows, cols = np.asarray(rows), np.asarray(cols)
        ok = (rows >= 0) & (rows < self.values.shape[0]) & (cols >= 0) & (cols < self.values.shape[1])
        out = np.zeros(len(rows))
        out[ok] = self.values[rows[ok], cols[ok]]
        return np.nan_to_num(out, nan=0.0)


def load_population_grid(data_dir: Path | None = None) -> PopulationGrid:
    """Read the bundle's GHSL grid (``ghsl_population``) into memory."""
    path = dataset_path("ghsl_population", data_dir)
    with rasterio.open(path) as src:
        return PopulationGrid(src.read(1, masked=False).astype(float), src.transform, src.crs)
