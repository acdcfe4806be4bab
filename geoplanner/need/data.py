"""What the need step reads, loaded once by :mod:`geoplanner.inputs` and handed in as one object."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

__all__ = ["NeedData"]


@dataclass(frozen=True, eq=False)
class NeedData:
    """The inputs of :func:`geoplanner.need.build_need` (see :func:`geoplanner.pipeline.load.need_data`).

    Attributes
    ----------
    sectors
        Statistical sectors with their wijk (:func:`geoplanner.inputs.areas.load_sectors`).
    wijken
        The 145 wijken (:func:`geoplanner.inputs.areas.load_wijken`).
    indicators
        IBSA wijk indicators (:func:`geoplanner.inputs.figures.load_wijk_indicators`).
    communes
        Commune population by age, 1 Jan 2020 (:func:`geoplanner.inputs.figures.load_commune_population`).
    residents
        Residents per sector, 1 Jan 2019 (:func:`geoplanner.inputs.figures.load_sector_population`).
    age_bands
        Residents per sector in 5-year bands (:func:`geoplanner.inputs.figures.load_sector_age_bands`).
    bimd
        BIMD 2011 per sector (:func:`geoplanner.inputs.figures.load_sector_bimd`).
    age_shares
        IBSA age-group shares per commune, 2021 (:func:`geoplanner.inputs.figures.load_commune_age_shares`).
    lines
        Residential streets with their density (:func:`geoplanner.need.residential.residential_lines`).
    figures
        The user's own sector figures (``by_sector``, ``by_wijk``, ``source``, ``warnings``), or None.
    figures_path
        Where the user's figures are stored, named when they make a wijk implausible.
    use_cache
        Let the sector-weight overlay be kept in :mod:`geoplanner.cache`.
    """

    sectors: gpd.GeoDataFrame
    wijken: gpd.GeoDataFrame
    indicators: pd.DataFrame
    communes: pd.DataFrame
    residents: pd.DataFrame
    age_bands: pd.DataFrame
    bimd: pd.DataFrame
    age_shares: pd.DataFrame
    lines: gpd.GeoDataFrame
    figures: Any = None
    figures_path: Path | None = None
    use_cache: bool = True
