"""Walking access to every service set (`geoplanner coverage`, step 2 of the main job): measure, then write.

:func:`measure_access` computes (walking times, coverage tables, isochrones, time grids, placement
uncertainty) and returns an :class:`AccessResult`; :func:`write_access` writes it as one step; and
:func:`run_coverage` does both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplanner import cache
from geoplanner.access.demand import check_network_fit, demand_points
from geoplanner.access.isochrones import ISOCHRONE_BUFFER_M, isochrone_key, isochrones, walking_time_grid
from geoplanner.access.network import (
    DEFAULT_SNAP_TOLERANCE_M,
    DEFAULT_THRESHOLDS_MIN,
    WALK_SPEED_KMH,
    SnapResult,
    WalkNetwork,
    snap_points,
)
from geoplanner.access.tables import check_thresholds, coverage_tables, placement_uncertainty
from geoplanner.access.times import ServiceTimes, nearest_service_times
from geoplanner.core import settings
from geoplanner.core.errors import ModelError
from geoplanner.inputs.areas import load_communes, load_region, load_sectors
from geoplanner.inputs.bundle import dataset_path
from geoplanner.inputs.lgn import lgn_table, with_lgn_names
from geoplanner.inputs.services import ServiceSet, load_services
from geoplanner.need import Need
from geoplanner.outputs.files import output_step, write_csv, write_gpkg, write_with
from geoplanner.outputs.manifest import write_manifest
from geoplanner.outputs.precision import round_for_csv
from geoplanner.outputs.qgis_styles import style_coverage_gpkg
from geoplanner.outputs.rasters import geotiff_bytes
from geoplanner.pipeline.load import load_network
from geoplanner.pipeline.load import need as load_need

__all__ = ["DEFAULT_SETS", "PER_SERVICE_ISOCHRONE_MAX", "AccessResult", "CoverageRun", "measure_access",
           "write_access", "run_coverage"]  # fmt: skip

#: Service sets measured by default.
DEFAULT_SETS = ("kg", "one", "hvhk", "any_cb", "all_family")
#: Sets with more services than this get only the union isochrone (one polygon per service would take
#: minutes for the ~600 family venues and is rarely what a map needs).
PER_SERVICE_ISOCHRONE_MAX = 50
#: Bundle datasets the coverage step reads (present and intact before the slow part).
COVERAGE_DATASETS = ("sectors", "wijken", "wijk_indicators", "pop_age_commune", "osm_pbf", "ghsl_population",
                     "region_boundary")  # fmt: skip


@dataclass
class AccessResult:
    """What :func:`measure_access` computed, before anything is written.

    Attributes
    ----------
    tables
        Coverage per level (sector, wijk, commune, lgn, priority_wijken, region), with names.
    isochrones
        One row per service set, threshold (and service, for small sets).
    rasters
        Per service set, the walking-time GeoTIFF (empty when no raster was asked for).
    notes
        Per service set, its completeness note.
    skipped
        Per service set without any located service, why it was not measured.
    snap_problems
        Services (and homes) farther than the tolerance from any street.
    service_layers
        The services of each set with their snapping, for the GeoPackage.
    placement_uncertainty
        Children whose threshold class could change through a geocoded service's radius.
    demand, demand_snap
        The demand points and their snapping (handed to the siting context by the main job).
    inputs
        Files read.
    parameters
        What shaped the result (for the manifest).
    run_notes
        The caveats of the run, in order.
    """

    tables: dict[str, pd.DataFrame]
    isochrones: gpd.GeoDataFrame
    rasters: dict[str, bytes]
    notes: dict[str, str]
    skipped: dict[str, str]
    snap_problems: pd.DataFrame
    service_layers: gpd.GeoDataFrame
    placement_uncertainty: pd.DataFrame
    demand: gpd.GeoDataFrame
    demand_snap: SnapResult
    inputs: list[Path]
    parameters: dict[str, Any]
    run_notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CoverageRun:
    """Result of :func:`run_coverage`: the tables, isochrones, notes and the files written."""

    tables: dict[str, pd.DataFrame]
    isochrones: gpd.GeoDataFrame
    notes: dict[str, str]
    skipped: dict[str, str]
    snap_problems: pd.DataFrame
    speed_kmh: float
    thresholds: tuple[float, ...]
    outputs: list
    manifest: object
    placement_uncertainty: pd.DataFrame | None = None
    #: The demand points and their snapping, handed to the siting context by the main job.
    demand: gpd.GeoDataFrame | None = None
    demand_snap: SnapResult | None = None


def _set_isochrones(net: WalkNetwork, snap: SnapResult, pts: pd.DataFrame, name: str, *, thresholds: Sequence[float],
                    speed_kmh: float, tolerance_m: float, region: Any, use: bool) -> gpd.GeoDataFrame:  # fmt: skip
    """Return one set's isochrones, from :mod:`geoplanner.cache` when nothing that shapes them changed."""
    ids = pts["id"].astype(str)
    xy = np.c_[pts.geometry.x, pts.geometry.y]
    per_service = len(ids) <= PER_SERVICE_ISOCHRONE_MAX
    key = isochrone_key(net, xy, ids, name=name, thresholds=thresholds, speed_kmh=speed_kmh, tolerance_m=tolerance_m,
                        region=region, per_service=per_service)  # fmt: skip
    return cache.cached(
        key,
        lambda: isochrones(
            net,
            snap,
            service_ids=ids,
            set_name=name,
            thresholds_min=thresholds,
            speed_kmh=speed_kmh,
            region=region,
            per_service=per_service,
        ),  # fmt: skip
        use=use,
        kind="isochrones",
    )


def _service_layer(name: str, ss: ServiceSet, pts: pd.DataFrame, snap: SnapResult) -> tuple[pd.DataFrame, list]:
    """Return a set's services with their snapping, and the rows of those beyond the tolerance."""
    layer = pts[["id", "name", "type", "layer", "approximate", "geometry"]].copy()
    layer.insert(0, "service_set", name)
    layer["access_m"] = snap.access_m
    layer["beyond_tolerance"] = snap.beyond_tolerance
    layer["layer_note"] = ss.completeness_note
    problems = [
        {"service_set": name, "id": pts["id"].iloc[i], "name": pts["name"].iloc[i], "access_m": snap.access_m[i]}
        for i in np.flatnonzero(snap.beyond_tolerance)
    ]
    return layer, problems


def _with_names(
    tables: dict[str, pd.DataFrame], sectors: pd.DataFrame, ranking: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """Add display names (Dutch and French) and the LGN (number and name) to the coverage tables.

    A sector's LGN is its commune's; a wijk's is the ranking's (the network of the commune holding most of its
    young children), so every wijk- and sector-level table can be filtered on one network.
    """
    lgn = lgn_table()
    sector_lgn = lgn[["commune_nis", "lgn", "lgn_name"]]
    sector_names = sectors[["cd_sector", "sector_name_nl", "sector_name_fr"]]
    wijk_cols = [c for c in ("mdrc", "name_nl", "name_fr", "lgn", "lgn_name") if c in ranking.columns]
    names = {
        "sector": (sector_names, "cd_sector"),
        "wijk": (ranking[wijk_cols], "mdrc"),
        "priority_wijken": (ranking[[*wijk_cols, "rank"]], "mdrc"),
        "commune": (lgn[["commune_nis", "commune_name_nl", "commune_name_fr", "lgn_name"]], "commune_nis"),
        "lgn": (lgn[["lgn", "lgn_name"]].drop_duplicates("lgn"), "lgn"),
    }
    out = dict(tables)
    out["sector"] = out["sector"].merge(sector_lgn, on="commune_nis", how="left")
    for level, (frame, key) in names.items():
        df = out[level].merge(pd.DataFrame(frame).drop_duplicates(key), on=key, how="left", suffixes=("_x", ""))
        df = df.drop(columns=[c for c in df.columns if c.endswith("_x")])
        first = [key] + [c for c in frame.columns if c != key]
        if level in ("sector", "commune"):  # the network right after the commune
            first = [key, *[c for c in frame.columns if c not in (key, "lgn_name")], "commune_nis", "lgn", "lgn_name"]
        first = list(dict.fromkeys(c for c in first if c in df.columns))
        out[level] = df[first + [c for c in df.columns if c not in first]]
    out["priority_wijken"] = out["priority_wijken"].sort_values(["rank", "service_set"], kind="stable",
                                                                ignore_index=True)  # fmt: skip
    return out


def _sector_lgn(uncertain: pd.DataFrame, info: pd.DataFrame) -> pd.DataFrame:
    """Add the LGN (number and name) of each sector row of the placement-uncertainty table (empty for the region)."""
    by_sector = info.drop_duplicates("cd_sector").set_index("cd_sector")["lgn"]
    lgn = uncertain["key"].map(by_sector).where(uncertain["level"] == "sector")
    out = uncertain.copy()
    out.insert(2, "lgn", lgn.astype("Int64"))
    return with_lgn_names(out)


@dataclass
class _PerSet:
    """What the loop over service sets gathers."""

    times: dict[str, ServiceTimes] = field(default_factory=dict)
    radii: dict[str, np.ndarray] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    problems: list = field(default_factory=list)
    layers: list = field(default_factory=list)
    iso: list = field(default_factory=list)
    rasters: dict[str, bytes] = field(default_factory=dict)
    inputs: list = field(default_factory=list)


def _measure_sets(net: WalkNetwork, dsnap: SnapResult, service_sets: dict[str, ServiceSet], *, thresholds: tuple,
                  speed_kmh: float, tolerance_m: float, region: Any, raster: bool, cell_m: float,
                  use_cache: bool) -> _PerSet:  # fmt: skip
    """Measure every set: walking times, service layers, isochrones and time grids."""
    got = _PerSet()
    for name, ss in service_sets.items():
        got.inputs += list(ss.sources)
        got.notes[name] = ss.completeness_note
        if len(ss.points) == 0:
            got.skipped[name] = f"{ss.label}: geen enkele locatie met coördinaten — niet gemeten"
            continue
        pts = ss.points.sort_values("id", kind="stable").reset_index(drop=True)
        xy = np.c_[pts.geometry.x, pts.geometry.y]
        st = nearest_service_times(net, dsnap, xy, service_ids=pts["id"].astype(str), speed_kmh=speed_kmh,
                                   tolerance_m=tolerance_m)  # fmt: skip
        got.times[name] = st
        got.radii[name] = pts.get("uncertainty_m", pd.Series(np.nan, index=pts.index)).to_numpy(dtype=float)
        layer, problems = _service_layer(name, ss, pts, st.service_snap)
        got.layers.append(layer)
        got.problems += problems
        iso = _set_isochrones(net, st.service_snap, pts, name, thresholds=thresholds, speed_kmh=speed_kmh,
                              tolerance_m=tolerance_m, region=region, use=use_cache)  # fmt: skip
        got.iso.append(iso.assign(layer_note=ss.completeness_note))
        if raster:
            got.rasters[name] = _set_raster(net, st.service_snap, pts, name, note=ss.completeness_note,
                                            speed_kmh=speed_kmh, tolerance_m=tolerance_m, region=region,
                                            cell_m=cell_m, use=use_cache)  # fmt: skip
    return got


def _set_raster(net: WalkNetwork, snap: SnapResult, pts: pd.DataFrame, name: str, *, note: str, speed_kmh: float,
                tolerance_m: float, region: Any, cell_m: float, use: bool) -> bytes:  # fmt: skip
    """Return one set's walking-time GeoTIFF bytes, from :mod:`geoplanner.cache` when nothing that shapes it changed."""
    extra = {"what": "walking_time_raster", "cell_m": float(cell_m), "note": note}
    key = isochrone_key(net, np.c_[pts.geometry.x, pts.geometry.y], pts["id"].astype(str), name=name, thresholds=(),
                        speed_kmh=speed_kmh, tolerance_m=tolerance_m, region=region,
                        per_service=len(pts) <= PER_SERVICE_ISOCHRONE_MAX, extra=extra)  # fmt: skip

    def draw() -> bytes:
        grid = walking_time_grid(net, snap, region=region, speed_kmh=speed_kmh, cell_m=cell_m)
        return geotiff_bytes(grid, note=note)

    return cache.cached(key, draw, use=use, kind="rasters")


def _run_notes(got: _PerSet, built: Need, uncertain: pd.DataFrame, snap_problems: pd.DataFrame,
               tolerance_m: float) -> list[str]:  # fmt: skip
    notes = [got.notes[n] for n in got.notes] + list(got.skipped.values()) + list(built.notes)
    for row in uncertain[(uncertain["level"] == "region") & (uncertain["pop_class_uncertain"] > 0)].itertuples():
        notes.append(
            f"{row.service_set}: drempelklasse van {row.pop_class_uncertain:.0f} kinderen onzeker door geocodering"
        )
    if len(snap_problems):
        notes.append(
            f"{len(snap_problems)} punten liggen meer dan {tolerance_m:g} m van een straat (zie snap_problems)."
        )
    return notes


def measure_access(
    *,
    sets: Sequence[str] = DEFAULT_SETS,
    speed_kmh: float = WALK_SPEED_KMH,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS_MIN,
    network: Path | WalkNetwork | None = None,
    raster: bool = True,
    cell_m: float = 50.0,
    tolerance_m: float = DEFAULT_SNAP_TOLERANCE_M,
    data_dir: Path | None = None,
    need: Need | None = None,
    cache_on: bool = True,
) -> AccessResult:
    """Measure walking access of young children to each service set (see :func:`run_coverage`); write nothing."""
    ths = check_thresholds(thresholds)
    # Inputs first: a missing or damaged file, a wrong set name or an all-empty selection fails before the slow steps.
    bundle_inputs = [dataset_path(k, data_dir) for k in COVERAGE_DATASETS]
    service_sets = {name: load_services(name, data_dir) for name in dict.fromkeys(sets)}
    if not any(len(ss.points) for ss in service_sets.values()):
        raise ModelError("none of the service sets has a located service", hint="add coordinates or import a user set")
    net = network if isinstance(network, WalkNetwork) else load_network(network, data_dir=data_dir)
    built = need if need is not None else load_need(data_dir)
    sectors, region = load_sectors(data_dir), load_region(data_dir)
    demand = demand_points(sectors, built.sectors, built.lines)
    dsnap = snap_points(net, demand[["x", "y"]].to_numpy(), tolerance_m=tolerance_m)
    check_network_fit(net, dsnap, demand["weight"].to_numpy())
    use_cache = cache.enabled(cache_on)
    got = _measure_sets(net, dsnap, service_sets, thresholds=ths, speed_kmh=speed_kmh, tolerance_m=tolerance_m,
                        region=region, raster=raster, cell_m=cell_m, use_cache=use_cache)  # fmt: skip
    info = pd.DataFrame(built.sectors.drop(columns="geometry", errors="ignore"))
    if "lgn" not in info.columns:
        info = info.merge(lgn_table()[["commune_nis", "lgn"]], on="commune_nis", how="left")
    priority = built.ranking.loc[built.ranking["priority"].astype(bool), "mdrc"]
    tables = coverage_tables(demand, got.times, info, thresholds=ths, layer_notes=got.notes, priority_mdrc=priority)
    # each figure to what it means, once: the CSVs, the GeoPackage and the workbook hold the same numbers
    tables = {level: round_for_csv(t) for level, t in _with_names(tables, sectors, built.ranking).items()}
    far_homes = int(dsnap.beyond_tolerance.sum())
    if far_homes:
        got.problems.append({"service_set": "*", "id": "demand", "name": f"{far_homes} woonstraatpunten",
                             "access_m": float(dsnap.access_m.max())})  # fmt: skip
    snap_problems = round_for_csv(pd.DataFrame(got.problems, columns=["service_set", "id", "name", "access_m"]))
    uncertain = placement_uncertainty(demand, got.times, got.radii, thresholds=ths, speed_kmh=speed_kmh)
    uncertain = round_for_csv(_sector_lgn(uncertain, info))
    parameters = {
        "sets": list(sets), "speed_kmh": speed_kmh, "thresholds_min": list(ths), "network": str(net.source),
        "network_sha256": net.sha256, "network_nodes": net.n_nodes, "network_edges": net.n_edges,
        "network_dropped_nodes": net.dropped_nodes, "snap_tolerance_m": tolerance_m,
        "raster_cell_m": cell_m if raster else None, "isochrone_buffer_m": ISOCHRONE_BUFFER_M,
        "demand_points": len(demand),
    }  # fmt: skip
    return AccessResult(
        tables=tables,
        isochrones=gpd.GeoDataFrame(pd.concat(got.iso, ignore_index=True), crs=settings.CRS),
        rasters=got.rasters,
        notes=got.notes,
        skipped=got.skipped,
        snap_problems=snap_problems,
        service_layers=gpd.GeoDataFrame(pd.concat(got.layers, ignore_index=True), crs=settings.CRS),
        placement_uncertainty=uncertain,
        demand=demand,
        demand_snap=dsnap,
        inputs=[net.source, *bundle_inputs, *built.inputs, *got.inputs],
        parameters=parameters,
        run_notes=_run_notes(got, built, uncertain, snap_problems, tolerance_m),
    )


def _coverage_layers(result: AccessResult, data_dir: Path | None, ranking: pd.DataFrame) -> dict[str, gpd.GeoDataFrame]:
    """Return the GeoPackage layers: one per level (sector, wijk, commune, lgn) and the services."""
    tables = result.tables
    geo = {
        "sector": load_sectors(data_dir)[["cd_sector", "geometry"]],
        "wijk": ranking[["mdrc", "geometry"]],
        "commune": load_communes(data_dir)[["commune_nis", "geometry"]],
    }
    layers = {}
    for level, key in (("sector", "cd_sector"), ("wijk", "mdrc"), ("commune", "commune_nis")):
        layers[level] = gpd.GeoDataFrame(geo[level].merge(tables[level], on=key, how="inner"), crs=settings.CRS)
    lgn_geo = (
        geo["commune"].merge(lgn_table()[["commune_nis", "lgn"]], on="commune_nis").dissolve(by="lgn").reset_index()
    )
    layers["lgn"] = gpd.GeoDataFrame(lgn_geo[["lgn", "geometry"]].merge(tables["lgn"], on="lgn"), crs=settings.CRS)
    layers["services"] = result.service_layers
    return layers


def write_access(result: AccessResult, out: Path, *, ranking: pd.DataFrame, data_dir: Path | None = None) -> list[Path]:
    """Write a :class:`AccessResult` into ``out`` as one step (see :func:`run_coverage`); return the files."""
    with output_step(out):
        outputs = [write_csv(out / f"coverage_{level}.csv", df) for level, df in result.tables.items()]
        outputs.append(write_csv(out / "coverage_placement_uncertainty.csv", result.placement_uncertainty))
        outputs.append(write_gpkg(out / "coverage.gpkg", _coverage_layers(result, data_dir, ranking),
                                  after=style_coverage_gpkg))  # fmt: skip
        outputs.append(write_gpkg(out / "isochrones.gpkg", {"isochrones": result.isochrones}))
        for name, tif in result.rasters.items():
            outputs.append(write_with(out / f"walking_time_{name}.tif", lambda tmp, tif=tif: tmp.write_bytes(tif)))
        if len(result.snap_problems):
            outputs.append(write_csv(out / "snap_problems.csv", result.snap_problems))
        manifest = write_manifest(out, command="coverage", inputs=[Path(p) for p in dict.fromkeys(result.inputs) if p],
                                  parameters=result.parameters, outputs=outputs, notes=result.run_notes)  # fmt: skip
    return [*outputs, manifest]


def run_coverage(
    out_dir: Path | None = None,
    *,
    sets: Sequence[str] = DEFAULT_SETS,
    speed_kmh: float = WALK_SPEED_KMH,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS_MIN,
    network_path: Path | WalkNetwork | None = None,
    raster: bool = True,
    cell_m: float = 50.0,
    tolerance_m: float = DEFAULT_SNAP_TOLERANCE_M,
    data_dir: Path | None = None,
    need: Need | None = None,
    cache: bool = True,
) -> CoverageRun:
    """Measure walking access of young children to each service set and write every output.

    Writes into ``out_dir`` (default ``outputs/coverage``): ``coverage_<level>.csv`` for sector, wijk,
    commune, lgn, priority_wijken and region; ``coverage_placement_uncertainty.csv`` (children whose
    threshold class could change because a geocoded service's place is uncertain); ``coverage.gpkg`` (one
    layer per level plus ``services`` with their snapping, QGIS styles inside); ``isochrones.gpkg``;
    ``walking_time_<set>.tif`` per set (unless ``raster`` is False) and ``manifest.json``.

    Parameters
    ----------
    out_dir
        Output folder.
    sets
        Service-set names (see :func:`geoplanner.inputs.services.load_services`).
    speed_kmh
        Walking speed.
    thresholds
        Minutes.
    network_path
        Network file (default: the bundle's walk network), or a network already loaded.
    raster
        Also write the walking-time GeoTIFFs.
    cell_m
        Raster cell size (metres).
    tolerance_m
        Snapping tolerance; services and homes farther from a street are listed in ``snap_problems``.
    data_dir
        Data folder.
    need
        A :class:`geoplanner.need.Need` to reuse (built here if omitted).
    cache
        Reuse isochrones and rasters stored in :mod:`geoplanner.cache` when the network, the services' places,
        thresholds, speed, region and code are the same (``$GEOPLANNER_NO_CACHE=1`` turns it off too).

    Returns
    -------
    CoverageRun

    Raises
    ------
    ModelError
        If no requested set has any located service.
    """
    out = Path(out_dir) if out_dir is not None else settings.output_dir() / "coverage"
    built = need if need is not None else load_need(data_dir)
    result = measure_access(sets=sets, speed_kmh=speed_kmh, thresholds=thresholds, network=network_path,
                            raster=raster, cell_m=cell_m, tolerance_m=tolerance_m, data_dir=data_dir, need=built,
                            cache_on=cache)  # fmt: skip
    written = write_access(result, out, ranking=built.ranking, data_dir=data_dir)
    return CoverageRun(
        tables=result.tables,
        isochrones=result.isochrones,
        notes=result.notes,
        skipped=result.skipped,
        snap_problems=result.snap_problems,
        speed_kmh=float(speed_kmh),
        thresholds=tuple(float(t) for t in result.parameters["thresholds_min"]),
        outputs=written[:-1],
        manifest=written[-1],
        placement_uncertainty=result.placement_uncertainty,
        demand=result.demand,
        demand_snap=result.demand_snap,
    )
