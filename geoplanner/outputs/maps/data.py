"""What a map shows, apart from how it is drawn: :class:`MapData`, the shared class breaks.

Kept apart from :mod:`geoplanner.outputs.maps` (folium) and :mod:`geoplanner.outputs.maps.static` (matplotlib) so
that preparing a map's inputs, hashing them for the render cache (:mod:`geoplanner.outputs.maps.page_cache`)
and sharing class breaks import neither drawing library; :mod:`geoplanner.outputs.maps` re-exports every
name here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplanner.core.errors import DataError

__all__ = ["MapData", "MapScales", "map_scales", "covered_column"]


@dataclass(frozen=True)
class MapData:
    """Plain inputs of one map; every GeoDataFrame in EPSG:31370.

    Attributes
    ----------
    sectors
        Need per sector: cd_sector, commune_nis, pop_0_2, births, births_status,
        deprivation (optional), geometry; sector_name_nl/fr used when present.
    wijken
        Wijk ranking: mdrc, name_nl, name_fr, rank, priority (bool), score, geometry.
    coverage
        Sector coverage, one row per (cd_sector, service_set): pop_0_2, covered_<t> for the
        threshold, mean_min. Geometry is taken from ``sectors`` when absent.
    isochrones
        service_set, service_id ('*' = union), threshold_min, geometry.
    services
        Service points (the load contract's columns + ``layer`` and ``approximate``).
    excluded_services
        Located rows of the same lists that are *not* current supply (e.g. historical or unverified ONE
        rows), with ``status`` and ``excluded_reason``: drawn muted, in a layer of their own.
    sites, timetable
        A scenario's chosen sites (order, id, name, type, marginal_demand, geometry) and its
        timetable (team, day, dagdeel, venue_id, venue_name, lgn).
    title
        Shown at the top of the map (escaped).
    threshold_min
        Walking time (minutes) that counts as "reached" for the gap layer.
    notes
        Extra lines for the legend, e.g. "K&G layer incomplete" (escaped).
    labels
        Display names of service sets and service layers (e.g. ``{"kg": "Kind & Gezin CB"}``);
        the code itself is shown where none is given.
    """

    sectors: gpd.GeoDataFrame
    wijken: gpd.GeoDataFrame | None = None
    coverage: pd.DataFrame | None = None
    isochrones: gpd.GeoDataFrame | None = None
    services: gpd.GeoDataFrame | None = None
    excluded_services: gpd.GeoDataFrame | None = None
    sites: gpd.GeoDataFrame | None = None
    timetable: pd.DataFrame | None = None
    title: str = ""
    threshold_min: int = 15
    notes: tuple[str, ...] = field(default_factory=tuple)
    labels: dict[str, str] = field(default_factory=dict)
    #: Capacitated scenarios: consultations a year not served per sector (cd_sector,
    #: unserved_distance, unserved_capacity): no session within reach vs sessions full.
    unserved: pd.DataFrame | None = None


@dataclass(frozen=True)
class MapScales:
    """Class breaks shared by the maps drawn side by side, so colours mean the same."""

    births: tuple[float, ...]
    deprivation: tuple[float, ...] | None
    gap_max: float


def _quantile_breaks(values: np.ndarray, n: int = 5) -> tuple[float, ...]:
    """Return up to ``n + 1`` increasing breaks (quantiles, rounded) spanning ``values``."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (0.0, 1.0)
    qs = np.quantile(values, np.linspace(0, 1, n + 1))
    span = float(qs[-1] - qs[0])
    decimals = 0 if span >= 50 else 1 if span >= 5 else 2
    lo = math.floor(float(qs[0]) * 10**decimals) / 10**decimals
    hi = math.ceil(float(qs[-1]) * 10**decimals) / 10**decimals
    inner = [round(float(q), decimals) for q in qs[1:-1]]
    breaks = sorted({lo, *inner, hi})
    if len(breaks) == 1:
        breaks.append(breaks[0] + 1)
    return tuple(breaks)


def _gap_values(data: MapData) -> pd.DataFrame:
    """Return cd_sector, service_set, gap (children beyond the threshold) from the coverage."""
    cov = data.coverage
    if cov is None or cov.empty:
        return pd.DataFrame(columns=["cd_sector", "service_set", "gap"])
    col = covered_column(cov, data.threshold_min)
    if col is None:
        col = f"within_{data.threshold_min}_min"
        raise DataError(
            f"coverage has no column {col!r} for the {data.threshold_min}-minute threshold",
            column=col,
            hint="compute coverage for this threshold",
        )
    out = cov[["cd_sector", "service_set"]].copy()
    out["gap"] = (cov["pop_0_2"] - cov[col]).clip(lower=0).to_numpy()
    return out


def covered_column(coverage: pd.DataFrame, threshold_min: int) -> str | None:
    """Return the column of children reached within ``threshold_min`` (``within_<t>_min`` or ``covered_<t>``)."""
    for col in (f"within_{threshold_min}_min", f"covered_{threshold_min}"):
        if col in coverage.columns:
            return col
    return None


def map_scales(*datas: MapData) -> MapScales:
    """Compute class breaks over all ``datas`` (one map, or both halves of a dual map)."""
    births = np.concatenate([d.sectors["births"].to_numpy(dtype=float) for d in datas])
    dep = None
    if all("deprivation" in d.sectors.columns for d in datas):
        dep = _quantile_breaks(np.concatenate([d.sectors["deprivation"].to_numpy(dtype=float) for d in datas]))
    gaps = [_gap_values(d)["gap"].to_numpy(dtype=float) for d in datas]
    gap_max = max((float(g.max()) for g in gaps if g.size), default=0.0)
    return MapScales(births=_quantile_breaks(births), deprivation=dep, gap_max=gap_max)
