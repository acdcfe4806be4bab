"""What a map shows, apart from how it is drawn: :class:`MapData`, the shared class breaks.

Kept apart from :mod:`geoplanner.outputs.maps.pages` (folium) and :mod:`geoplanner.outputs.maps.static`
(matplotlib): preparing a map's inputs, hashing them for the render cache
(:mod:`geoplanner.outputs.maps.page_cache`) and sharing class breaks draw nothing. The functions here
are pure: :func:`assemble_map_data` puts one scenario's map together from frames already loaded
(:mod:`geoplanner.pipeline.maps` loads them).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplanner.core import settings
from geoplanner.core.errors import DataError
from geoplanner.core.i18n import DEFAULT_LANG, label
from geoplanner.inputs.lgn import LGN, lgn_of_commune
from geoplanner.inputs.services import ServiceSet

__all__ = [
    "MapData",
    "MapScales",
    "MAP_THRESHOLDS",
    "map_scales",
    "covered_column",
    "quantile_breaks",
    "gap_values",
    "geometry_digest",
    "commune_outlines",
    "lgn_areas",
    "lgn_of_points",
    "sector_coverage",
    "ScenarioServices",
    "map_base_layers",
    "scenario_services",
    "assemble_map_data",
]

#: Thresholds (minutes) of the coverage columns and isochrones the scenario maps draw.
MAP_THRESHOLDS = (5, 10, 15)


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
    #: Scenarios with new sessions: consultations a year not served per sector (cd_sector,
    #: consultations_unserved_distance, consultations_unserved_capacity): no site within reach vs sessions full.
    unserved: pd.DataFrame | None = None


@dataclass(frozen=True)
class MapScales:
    """Class breaks shared by the maps drawn side by side, so colours mean the same."""

    births: tuple[float, ...]
    deprivation: tuple[float, ...] | None
    gap_max: float


def quantile_breaks(values: np.ndarray, n: int = 5) -> tuple[float, ...]:
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


def gap_values(data: MapData) -> pd.DataFrame:
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
        dep = quantile_breaks(np.concatenate([d.sectors["deprivation"].to_numpy(dtype=float) for d in datas]))
    gaps = [gap_values(d)["gap"].to_numpy(dtype=float) for d in datas]
    gap_max = max((float(g.max()) for g in gaps if g.size), default=0.0)
    return MapScales(births=quantile_breaks(births), deprivation=dep, gap_max=gap_max)


def geometry_digest(geoms: np.ndarray) -> bytes:
    """Return the sha256 (raw bytes) of geometries by their WKB: equal shapes, equal digests."""
    return hashlib.sha256(b"".join(shapely.to_wkb(geoms))).digest()


# Communes and networks dissolved in this process, by the content of the sectors: every map of a run draws them.
_DISSOLVED: dict[tuple, gpd.GeoDataFrame] = {}
_AREAS: dict[tuple, gpd.GeoDataFrame] = {}


def commune_outlines(sectors: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Commune polygons dissolved from the sectors (kept per content: every map of a run draws them)."""
    key = ("communes", geometry_digest(np.asarray(sectors.geometry.values, dtype=object)))
    key += (tuple(sectors["commune_nis"].astype(str)),)
    hit = _DISSOLVED.get(key)
    if hit is None:
        hit = sectors.dissolve(by="commune_nis", as_index=False)[["commune_nis", "geometry"]]
        while len(_DISSOLVED) >= 16:  # the region and the 8 LGNs of a run, not more
            _DISSOLVED.pop(next(iter(_DISSOLVED)))
        _DISSOLVED[key] = hit
    return hit


def lgn_areas(sectors: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return one polygon per LGN (lgn, lgn_name, geometry; EPSG:31370), the union of its communes.

    Dissolved from the commune outlines of ``sectors`` and kept per content (every map of a run draws them).
    """
    communes = commune_outlines(sectors)
    key = ("lgn", geometry_digest(np.asarray(communes.geometry.values, dtype=object)))
    hit = _AREAS.get(key)
    if hit is None:
        c = communes.assign(lgn=communes["commune_nis"].map(lambda n: lgn_of_commune(int(n))))
        hit = c.dissolve(by="lgn", as_index=False)[["lgn", "geometry"]].sort_values("lgn", ignore_index=True)
        hit.insert(1, "lgn_name", hit["lgn"].map(lambda n: LGN[int(n)][0]))
        while len(_AREAS) >= 16:  # the region and the 8 LGNs of a run, not more
            _AREAS.pop(next(iter(_AREAS)))
        _AREAS[key] = hit
    return hit


def lgn_of_points(points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> pd.Series:
    """Return the LGN each point lies in (``<NA>`` outside the region), by where it is, not by its address."""
    if points is None or not len(points):
        return pd.Series([], dtype="Int64")
    pts = gpd.GeoDataFrame(geometry=points.geometry.to_crs(settings.CRS).to_numpy(), crs=settings.CRS)
    joined = gpd.sjoin(pts, areas[["lgn", "geometry"]], how="left", predicate="within")
    first = joined[~joined.index.duplicated()]["lgn"]
    return pd.Series(first.to_numpy(), index=points.index).astype("Int64")


def sector_coverage(points: pd.DataFrame, *, set_name: str, thresholds: Sequence[int] = MAP_THRESHOLDS) -> pd.DataFrame:
    """Aggregate a scenario's demand points to sectors, in the accessibility coverage schema.

    Parameters
    ----------
    points
        ``ScenarioResult.points``: cd_sector, children, minutes (``inf`` = unreachable).
    set_name
        Written in ``service_set``.
    thresholds
        Minutes for the ``within_<t>_min`` columns.

    Returns
    -------
    pandas.DataFrame
        cd_sector, service_set, pop_0_2, within_<t>_min, share_within_<t>_min, mean_min (over
        children who can reach a site), pop_unreachable.
    """
    p = pd.DataFrame(points[["cd_sector", "children", "minutes"]]).copy()
    p["minutes"] = p["minutes"].astype(float)
    finite = np.isfinite(p["minutes"].to_numpy())
    p["reach_children"] = np.where(finite, p["children"], 0.0)
    p["weighted_min"] = np.where(finite, p["children"] * np.where(finite, p["minutes"], 0.0), 0.0)
    for t in thresholds:
        p[f"within_{t}_min"] = np.where(p["minutes"] <= t, p["children"], 0.0)
    agg = p.groupby("cd_sector", sort=True).sum(numeric_only=True)
    out = pd.DataFrame({"cd_sector": agg.index, "service_set": set_name, "pop_0_2": agg["children"].to_numpy()})
    for t in thresholds:
        out[f"within_{t}_min"] = agg[f"within_{t}_min"].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"share_within_{t}_min"] = out[f"within_{t}_min"] / out["pop_0_2"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["mean_min"] = (agg["weighted_min"] / agg["reach_children"]).to_numpy()
    out["pop_unreachable"] = (agg["children"] - agg["reach_children"]).to_numpy()
    return out.reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# One scenario's map, from frames already loaded
# ---------------------------------------------------------------------------------------------


def map_base_layers(
    need_sectors: gpd.GeoDataFrame, sector_names: pd.DataFrame, wijken: gpd.GeoDataFrame, ranking: pd.DataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return the sectors (need, names, deprivation) and the wijken (ranking) every map of a run draws.

    Parameters
    ----------
    need_sectors
        The need per sector (``Need.sectors``).
    sector_names
        The sector layer (cd_sector, sector_name_nl, sector_name_fr).
    wijken
        The wijk polygons (mdrc, geometry).
    ranking
        The wijk ranking the scenarios used (deprivation, rank, priority, …).
    """
    names = sector_names[["cd_sector", "sector_name_nl", "sector_name_fr"]]
    sectors = need_sectors.merge(names, on="cd_sector", how="left").merge(
        ranking[["mdrc", "deprivation"]], on="mdrc", how="left"
    )
    ranked = wijken[["mdrc", "geometry"]].merge(
        ranking.drop(columns=[c for c in ("geometry",) if c in ranking.columns]), on="mdrc", how="left"
    )
    return sectors, ranked


@dataclass(frozen=True)
class ScenarioServices:
    """The services a scenario keeps open, as a map draws them.

    Attributes
    ----------
    points
        The open services (EPSG:31370), the scenario's closures removed, one row per id.
    excluded
        Located rows of the same lists that are not current supply (or None).
    labels
        Display names of the open sets, the scenario and the service layers.
    notes
        The open sets' completeness notes.
    """

    points: gpd.GeoDataFrame
    excluded: gpd.GeoDataFrame | None
    labels: dict[str, str]
    notes: list[str]


def scenario_services(
    scenario: Any, sets: Mapping[str, ServiceSet], layer_label: Callable[[str], str]
) -> ScenarioServices:
    """Return the services ``scenario`` keeps open, from its open service sets already loaded.

    Parameters
    ----------
    scenario
        The :class:`geoplanner.scenario.Scenario` (``open_sets``, ``close``, ``name``).
    sets
        Each of the scenario's open sets by name.
    layer_label
        Display name of a service layer that is not an open set (e.g. ``kg`` inside ``any_cb``).
    """
    labels: dict[str, str] = {}
    notes: list[str] = []
    parts, stale = [], []
    for set_name in scenario.open_sets:
        ss = sets[set_name]
        labels[set_name] = ss.label
        notes.append(ss.completeness_note)
        parts.append(ss.points[~ss.points["id"].astype(str).isin(set(scenario.close))])
        stale.append(ss.excluded.dropna(subset=["lat", "lon"]))  # not current supply, shown as such
    services = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs).drop_duplicates("id")
    stale_rows = pd.concat(stale, ignore_index=True).drop_duplicates("id") if stale else pd.DataFrame()
    excluded = None
    if len(stale_rows):
        excluded = gpd.GeoDataFrame(
            stale_rows,
            geometry=gpd.points_from_xy(stale_rows["lon"].astype(float), stale_rows["lat"].astype(float)),
            crs=settings.WGS84,
        ).to_crs(settings.CRS)
    labels[scenario.name] = scenario.label
    for layer in sorted(set(services["layer"].astype(str)) - set(labels)):
        labels[layer] = layer_label(layer)
    return ScenarioServices(services, excluded, labels, notes)


def _sites(result: Any) -> tuple[gpd.GeoDataFrame | None, pd.DataFrame | None]:
    """Return a scenario's new sites in the order chosen and their timetable (None without new sites)."""
    if result.sites is None or not len(result.sites):
        return None, None
    r = result.sites
    sites = gpd.GeoDataFrame(
        {
            "order": r["rank"].astype(int).to_numpy(),
            "id": r["id"].astype(str).to_numpy(),
            "name": r["name"].to_numpy(),
            "type": r["type"].to_numpy(),
            "marginal_demand": r["marginal_children"].to_numpy(dtype=float),
            "lgn": r["lgn"].to_numpy() if "lgn" in r.columns else None,
        },
        geometry=gpd.points_from_xy(r["x"], r["y"]),
        crs=settings.CRS,
    )
    timetable = None
    if result.timetable is not None and len(result.timetable):
        timetable = result.timetable.rename(columns={"dag": "day"})
    return sites, timetable


def assemble_map_data(
    result: Any,
    *,
    sectors: gpd.GeoDataFrame,
    wijken: gpd.GeoDataFrame,
    services: ScenarioServices,
    isochrones: gpd.GeoDataFrame | None,
    lang: str = DEFAULT_LANG,
) -> MapData:
    """Put one scenario's map together: need, ranking, coverage from its demand points, services, sites.

    Parameters
    ----------
    result
        A :class:`geoplanner.scenario.ScenarioResult`.
    sectors, wijken
        :func:`map_base_layers` (the same objects for every map of a run: their digests are kept).
    services
        :func:`scenario_services` of the result's scenario.
    isochrones
        The walking-time polygons of the open services and the new sites (None when there are none).
    lang
        Language of the title.

    Returns
    -------
    MapData
    """
    s = result.scenario
    sites, timetable = _sites(result)
    thr = int(round(s.threshold_min))
    areas = lgn_areas(sectors)
    points = (
        services.points.assign(lgn=lgn_of_points(services.points, areas)) if len(services.points) else services.points
    )
    excluded = services.excluded
    if excluded is not None and len(excluded):
        excluded = excluded.assign(lgn=lgn_of_points(excluded, areas))
    cover_thresholds = tuple(sorted({*MAP_THRESHOLDS, thr}))
    return MapData(
        sectors=sectors,
        wijken=wijken,
        coverage=sector_coverage(result.points, set_name=s.name, thresholds=cover_thresholds),
        isochrones=isochrones,
        services=points,
        excluded_services=excluded,
        sites=sites,
        timetable=timetable,
        title=f"{label('scenario_title', lang)}: {s.label}"
        if sites is not None
        else f"{label('gap_title', lang)}: {s.label}",
        threshold_min=thr,
        notes=tuple(dict.fromkeys([*services.notes, *result.notes])),
        labels=services.labels,
        unserved=(
            result.points.groupby("cd_sector", as_index=False)[
                ["consultations_unserved_distance", "consultations_unserved_capacity"]
            ].sum()
            if result.summary.get("sessions_per_week")
            else None
        ),
    )
