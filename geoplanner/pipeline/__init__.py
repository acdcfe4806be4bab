"""Runs of whole steps that write outputs: the library calls the CLI commands wrap.

The engine modules (:mod:`geoplanner.need`, :mod:`geoplanner.access.times`,
:mod:`geoplanner.access.isochrones`, :mod:`geoplanner.scenario`'s solving) compute and return; the
functions here put their results together and write the files.

Each ``run_*`` function computes, writes its files atomically under ``out_dir`` and a
manifest (inputs with sha256, parameters, versions), and returns what it computed so a
notebook user can keep working with it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplanner.access.isochrones import isochrones, walking_time_raster
from geoplanner.access.network import (
    DEFAULT_SNAP_TOLERANCE_M,
    DEFAULT_THRESHOLDS_MIN,
    WALK_SPEED_KMH,
    SnapResult,
    WalkNetwork,
    load_network,
    snap_points,
)
from geoplanner.access.times import (
    ServiceTimes,
    check_network_fit,
    check_thresholds,
    coverage,
    demand_points,
    nearest_service_times,
    placement_uncertainty,
)
from geoplanner.core import settings
from geoplanner.core.errors import ModelError
from geoplanner.core.progress import stage
from geoplanner.inputs.areas import load_communes, load_region, load_sectors
from geoplanner.inputs.bundle import dataset_path
from geoplanner.inputs.lgn import lgn_table
from geoplanner.inputs.services import load_services
from geoplanner.need import Need, NeedParams, build_need
from geoplanner.outputs.files import output_step, write_csv, write_gpkg
from geoplanner.outputs.manifest import write_manifest
from geoplanner.outputs.qgis_styles import style_coverage_gpkg, style_priority_gpkg

if TYPE_CHECKING:
    from geoplanner.scenario import ScenarioResult

__all__ = [
    "RankRun",
    "run_rank",
    "RANK_COLUMNS",
    "CoverageRun",
    "run_coverage",
    "DEFAULT_SETS",
    "MainRun",
    "run_all",
    "scenario_files",
]

#: Columns of ``priority_wijken.csv``, in order.
RANK_COLUMNS = (
    "rank",
    "priority",
    "mdrc",
    "name_nl",
    "name_fr",
    "communes",
    "commune_names",
    "lgn",
    "lgn_name",
    "pop_total",
    "births",
    "pop_0_2",
    "birth_rate_permille",
    "pop_total_status",
    "births_status",
    "pop_0_2_status",
    "births_status_mix",
    "births_cv",
    "bimd2011_score",
    "deprivation",
    "deprivation_method",
    "deprivation_by_weights",
    "deprivation_by_pca",
    "deprivation_source",
    "z_bim",
    "z_cpas",
    "z_unemployment",
    "z_income",
    "z_bimd",
    "missing_components",
    "z_birth_rate",
    "z_births",
    "contrib_birth_rate",
    "contrib_births",
    "contrib_deprivation",
    "score",
    "p_top",
    "stability",
    "near_miss",
    "rank_p05",
    "rank_p50",
    "rank_p95",
    "district_type",
    "excluded_reason",
)


_RANK_INPUTS = (
    "sectors",
    "wijken",
    "wijk_indicators",
    "pop_age_commune",
    "sector_population",
    "sector_age_bands",
    "sector_bimd",
    "commune_age_shares",
    "osm_pbf",
    "ghsl_population",
    "region_boundary",
)


@dataclass
class RankRun:
    """Result of :func:`run_rank`."""

    ranking: gpd.GeoDataFrame
    sectors: gpd.GeoDataFrame
    params: NeedParams
    need: Need
    outputs: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    table: pd.DataFrame | None = None  # priority_wijken.csv as written (the workbook's sheet)

    @property
    def priority(self) -> gpd.GeoDataFrame:
        """The priority wijken, in rank order."""
        return self.ranking[self.ranking["priority"]]


def run_rank(
    out_dir: Path | None = None,
    *,
    params: NeedParams | None = None,
    data_dir: Path | None = None,
    config_path: Path | None = None,
) -> RankRun:
    """Estimate need, rank the wijken and write the outputs.

    Writes ``priority_wijken.csv`` (all wijken, ranked ones first; the column ``p_top`` is written as
    ``p_top<N>``, e.g. ``p_top21``), ``priority_wijken.gpkg`` (layers ``wijken`` and ``sector_need``),
    ``sector_need.csv``, ``commune_need_check.csv`` (sector figures against the commune figures),
    ``deprivation_pca.csv`` (loadings, weights and explained variance of the PCA) and ``manifest_rank.json``.

    Parameters
    ----------
    out_dir
        Output folder (default :func:`settings.output_dir`).
    params
        Need and score parameters.
    data_dir
        Data folder.
    config_path
        The parameter file, recorded in the manifest.

    Returns
    -------
    RankRun
    """
    out_dir = Path(out_dir or settings.output_dir())
    params = params or NeedParams()
    inputs = [dataset_path(k, data_dir) for k in _RANK_INPUTS]  # present and intact, before the slow part
    need = build_need(data_dir, params)
    sectors, ranking, notes = need.sectors, need.ranking, list(need.notes)
    # columns of components left out by the configuration (or no stability run) are written empty
    p_top = {"p_top": f"p_top{params.top_n}"}
    table = pd.DataFrame(ranking.drop(columns="geometry")).reindex(columns=list(RANK_COLUMNS)).rename(columns=p_top)
    table = table.round(4)
    sector_table = pd.DataFrame(sectors.drop(columns="geometry"))
    wijk_layer = gpd.GeoDataFrame(
        ranking.reindex(columns=[*RANK_COLUMNS, "geometry"]).rename(columns=p_top), geometry="geometry", crs=ranking.crs
    )
    with output_step(out_dir, manifest="manifest_rank.json"):
        outputs = [
            write_csv(out_dir / "priority_wijken.csv", table),
            write_csv(out_dir / "sector_need.csv", sector_table.round(4)),
            write_gpkg(
                out_dir / "priority_wijken.gpkg",
                {"wijken": wijk_layer, "sector_need": sectors},
                after=style_priority_gpkg,
            ),  # QGIS styles inside
        ]
        if need.communes is not None:
            outputs.append(write_csv(out_dir / "commune_need_check.csv", need.communes.round(4)))
        if need.pca is not None:
            outputs.append(write_csv(out_dir / "deprivation_pca.csv", need.pca.table().round(4)))
        inputs += list(need.inputs)
        if config_path:
            inputs.append(Path(config_path))
        parameters = params.as_dict()
        parameters["count_uncertainty_basis"] = need.uncertainty
        if need.pca is not None:
            parameters["pca_weights"] = need.pca.weights
        outputs.append(
            write_manifest(
                out_dir,
                command="rank",
                inputs=inputs,
                parameters=parameters,
                outputs=outputs,
                notes=notes,
                name="manifest_rank.json",
            )
        )
    return RankRun(
        ranking=ranking, sectors=sectors, params=params, need=need, outputs=outputs, notes=notes, table=table
    )


# --------------------------------------------------------------------------------------------------
# Walking access to every service set (`geoplanner coverage`, step 2 of the main job)
# --------------------------------------------------------------------------------------------------

#: Service sets measured by default.
DEFAULT_SETS = ("kg", "one", "hvhk", "any_cb", "all_family")
#: Sets with more services than this get only the union isochrone (one polygon per service would take
#: minutes for the ~600 family venues and is rarely what a map needs).
PER_SERVICE_ISOCHRONE_MAX = 50


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
    #: The demand points and their snapping, handed to :func:`geoplanner.scenario.build_context` by the main job.
    demand: gpd.GeoDataFrame | None = None
    demand_snap: SnapResult | None = None


def run_coverage(
    out_dir=None,
    *,
    sets: Sequence[str] = DEFAULT_SETS,
    speed_kmh: float = WALK_SPEED_KMH,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS_MIN,
    network_path=None,
    raster: bool = True,
    cell_m: float = 50.0,
    tolerance_m: float = DEFAULT_SNAP_TOLERANCE_M,
    data_dir=None,
    need=None,
    cache: bool = True,
) -> CoverageRun:
    """Measure walking access of young children to each service set and write every output.

    Writes into ``out_dir`` (default ``outputs/coverage``): ``coverage_<level>.csv`` for sector, wijk,
    commune, lgn, priority_wijken and region; ``coverage_placement_uncertainty.csv``
    (:func:`placement_uncertainty`: children whose threshold class could change because a geocoded
    service's place is uncertain); ``coverage.gpkg`` (one layer per level plus ``services``
    with their snapping); ``isochrones.gpkg`` (layer ``isochrones``); ``walking_time_<set>.tif`` per set
    (unless ``raster`` is False) and ``manifest.json``.

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
        A :func:`geoplanner.need.build_need` result to reuse (built here if omitted).
    cache
        Reuse isochrones stored under ``<cache_dir>/isochrones/`` when the network, the services'
        places, thresholds, speed, region and code are the same (:mod:`geoplanner.cache`;
        ``$GEOPLANNER_NO_CACHE=1`` turns it off too).

    Returns
    -------
    CoverageRun

    Raises
    ------
    ModelError
        If no requested set has any located service.
    """
    out = Path(out_dir) if out_dir is not None else settings.output_dir() / "coverage"
    ths = check_thresholds(thresholds)
    # Inputs first: a missing or damaged file, a wrong set name or an all-empty selection fails
    # before the slow steps.
    used = (
        "sectors",
        "wijken",
        "wijk_indicators",
        "pop_age_commune",
        "osm_pbf",
        "ghsl_population",
        "region_boundary",
    )
    bundle_inputs = [dataset_path(k, data_dir) for k in used]
    service_sets = {name: load_services(name, data_dir) for name in dict.fromkeys(sets)}
    if not any(len(ss.points) for ss in service_sets.values()):
        raise ModelError("none of the service sets has a located service", hint="add coordinates or import a user set")
    net = network_path if isinstance(network_path, WalkNetwork) else load_network(network_path)
    built = need if need is not None else build_need(data_dir)
    lines, sn, ranking = built.lines, built.sectors, built.ranking
    sectors = load_sectors(data_dir)
    region = load_region(data_dir)
    demand = demand_points(sectors, sn, lines)
    dsnap = snap_points(net, demand[["x", "y"]].to_numpy(), tolerance_m=tolerance_m)
    check_network_fit(net, dsnap, demand["weight"].to_numpy())

    with output_step(out):
        times: dict[str, ServiceTimes] = {}
        radii: dict[str, np.ndarray] = {}  # uncertainty radius (m) per service, NaN where unknown
        notes: dict[str, str] = {}
        skipped: dict[str, str] = {}
        problems = []
        service_layers = []
        iso_parts = []
        inputs = [net.source, *bundle_inputs, *built.inputs]
        outputs = []
        for name, ss in service_sets.items():
            inputs += list(ss.sources)
            notes[name] = ss.completeness_note
            if len(ss.points) == 0:
                skipped[name] = f"{ss.label}: geen enkele locatie met coördinaten — niet gemeten"
                continue
            pts = ss.points.sort_values("id", kind="stable").reset_index(drop=True)
            xy = np.c_[pts.geometry.x, pts.geometry.y]
            st = nearest_service_times(
                net, dsnap, xy, service_ids=pts["id"].astype(str), speed_kmh=speed_kmh, tolerance_m=tolerance_m
            )
            times[name] = st
            radii[name] = pts.get("uncertainty_m", pd.Series(np.nan, index=pts.index)).to_numpy(dtype=float)
            snap = st.service_snap
            layer = pts[["id", "name", "type", "layer", "approximate", "geometry"]].copy()
            layer.insert(0, "service_set", name)
            layer["access_m"] = snap.access_m
            layer["beyond_tolerance"] = snap.beyond_tolerance
            layer["layer_note"] = ss.completeness_note
            service_layers.append(layer)
            for i in np.flatnonzero(snap.beyond_tolerance):
                problems.append(
                    {
                        "service_set": name,
                        "id": pts["id"].iloc[i],
                        "name": pts["name"].iloc[i],
                        "access_m": snap.access_m[i],
                    }
                )
            iso_parts.append(
                _isochrones(
                    net,
                    snap,
                    ids=pts["id"].astype(str),
                    xy=xy,
                    name=name,
                    thresholds=ths,
                    speed_kmh=speed_kmh,
                    tolerance_m=tolerance_m,
                    region=region,
                    cache=cache,
                ).assign(layer_note=ss.completeness_note)
            )
            if raster:
                outputs.append(
                    _raster(
                        net,
                        snap,
                        out / f"walking_time_{name}.tif",
                        ids=pts["id"].astype(str),
                        xy=xy,
                        name=name,
                        speed_kmh=speed_kmh,
                        tolerance_m=tolerance_m,
                        region=region,
                        cell_m=cell_m,
                        note=ss.completeness_note,
                        cache=cache,
                    )
                )
        info = pd.DataFrame(sn.drop(columns="geometry", errors="ignore"))
        if "lgn" not in info.columns:
            info = info.merge(lgn_table()[["commune_nis", "lgn"]], on="commune_nis", how="left")
        priority = ranking.loc[ranking["priority"].astype(bool), "mdrc"]
        tables = coverage(demand, times, info, thresholds=ths, layer_notes=notes, priority_mdrc=priority)
        tables = _with_names(tables, sectors, ranking)
        far_homes = int(dsnap.beyond_tolerance.sum())
        if far_homes:
            problems.append(
                {
                    "service_set": "*",
                    "id": "demand",
                    "name": f"{far_homes} woonstraatpunten",
                    "access_m": float(dsnap.access_m.max()),
                }
            )
        snap_problems = pd.DataFrame(problems, columns=["service_set", "id", "name", "access_m"])

        for level, df in tables.items():
            outputs.append(write_csv(out / f"coverage_{level}.csv", df))
        uncertain = placement_uncertainty(demand, times, radii, thresholds=ths, speed_kmh=speed_kmh)
        outputs.append(write_csv(out / "coverage_placement_uncertainty.csv", uncertain))
        geo = {
            "sector": sectors[["cd_sector", "geometry"]],
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
        layers["services"] = gpd.GeoDataFrame(pd.concat(service_layers, ignore_index=True), crs=settings.CRS)
        outputs.append(write_gpkg(out / "coverage.gpkg", layers, after=style_coverage_gpkg))  # QGIS styles inside
        iso = gpd.GeoDataFrame(pd.concat(iso_parts, ignore_index=True), crs=settings.CRS)
        outputs.append(write_gpkg(out / "isochrones.gpkg", {"isochrones": iso}))
        run_notes = [notes[n] for n in notes] + list(skipped.values()) + list(built.notes)
        for row in uncertain[(uncertain["level"] == "region") & (uncertain["pop_class_uncertain"] > 0)].itertuples():
            run_notes.append(
                f"{row.service_set}: drempelklasse van {row.pop_class_uncertain:.0f} kinderen onzeker door geocodering"
            )
        if len(snap_problems):
            run_notes.append(
                f"{len(snap_problems)} punten liggen meer dan {tolerance_m:g} m van een straat (zie snap_problems)."
            )
            outputs.append(write_csv(out / "snap_problems.csv", snap_problems))
        manifest = write_manifest(
            out,
            command="coverage",
            inputs=[Path(p) for p in dict.fromkeys(inputs) if p is not None],
            parameters={
                "sets": list(sets),
                "speed_kmh": speed_kmh,
                "thresholds_min": list(ths),
                "network": str(net.source),
                "network_sha256": net.sha256,
                "network_nodes": net.n_nodes,
                "network_edges": net.n_edges,
                "network_dropped_nodes": net.dropped_nodes,
                "snap_tolerance_m": tolerance_m,
                "raster_cell_m": cell_m if raster else None,
                "isochrone_buffer_m": 40.0,
                "demand_points": len(demand),
            },
            outputs=outputs,
            notes=run_notes,
        )
    return CoverageRun(
        tables=tables,
        isochrones=iso,
        notes=notes,
        skipped=skipped,
        snap_problems=snap_problems,
        speed_kmh=float(speed_kmh),
        thresholds=ths,
        outputs=outputs,
        manifest=manifest,
        placement_uncertainty=uncertain,
        demand=demand,
        demand_snap=dsnap,
    )


def isochrone_key(
    net: WalkNetwork,
    xy: np.ndarray,
    ids: Sequence[str],
    *,
    name: str,
    thresholds: Sequence[float],
    speed_kmh: float,
    tolerance_m: float,
    region: object,
    extra: dict | None = None,
) -> str:
    """Return the cache key of one service set's isochrones (see :func:`run_coverage`).

    ``extra`` adds what else shapes a result drawn from the same walking times (e.g. a raster's cell
    size and note).
    """
    import hashlib

    import shapely

    from geoplanner import cache as solutions

    parts = {
        **solutions.base_parts(),
        "what": "isochrones",
        "network": [net.sha256, net.params, net.n_nodes, net.n_edges],
        "set": name,
        "ids": [str(i) for i in ids],
        "xy": hashlib.sha256(np.ascontiguousarray(xy, dtype=float).tobytes()).hexdigest(),
        "thresholds": [float(t) for t in thresholds],
        "speed_kmh": float(speed_kmh),
        "tolerance_m": float(tolerance_m),
        "per_service": len(ids) <= PER_SERVICE_ISOCHRONE_MAX,
        "region": hashlib.sha256(shapely.to_wkb(region)).hexdigest(),
        "extra": extra or {},
    }
    return solutions.digest(parts)


def _isochrones(net, snap, *, ids, xy, name, thresholds, speed_kmh, tolerance_m, region, cache):  # noqa: ANN001, ANN202
    """Return the isochrones of one service set, from the cache when nothing that shapes them changed."""
    from geoplanner import cache as solutions

    key = None
    if solutions.enabled(cache):
        key = isochrone_key(net, xy, ids, name=name, thresholds=thresholds, speed_kmh=speed_kmh,
                            tolerance_m=tolerance_m, region=region)  # fmt: skip
        stored = solutions.load(key, kind="isochrones")
        if isinstance(stored, gpd.GeoDataFrame):
            return stored
    iso = isochrones(
        net,
        snap,
        service_ids=ids,
        set_name=name,
        thresholds_min=thresholds,
        speed_kmh=speed_kmh,
        region=region,
        per_service=len(ids) <= PER_SERVICE_ISOCHRONE_MAX,
    )
    if key is not None:
        solutions.save(key, iso, kind="isochrones")
    return iso


def _raster(net, snap, target, *, ids, xy, name, speed_kmh, tolerance_m, region, cell_m, note, cache):  # noqa: ANN001, ANN202
    """Write one set's walking-time GeoTIFF, copying the stored bytes when nothing that shapes it changed."""
    from geoplanner import cache as solutions
    from geoplanner.outputs.files import pending_path, write_with

    key = None
    if solutions.enabled(cache):
        extra = {"what": "walking_time_raster", "cell_m": float(cell_m), "note": note}
        key = isochrone_key(net, xy, ids, name=name, thresholds=(), speed_kmh=speed_kmh, tolerance_m=tolerance_m,
                            region=region, extra=extra)  # fmt: skip
        stored = solutions.load(key, kind="rasters")
        if isinstance(stored, bytes):
            return write_with(target, lambda tmp: tmp.write_bytes(stored))
    path = walking_time_raster(net, snap, target, region=region, speed_kmh=speed_kmh, cell_m=cell_m, note=note)
    if key is not None:
        solutions.save(key, pending_path(path).read_bytes(), kind="rasters")
    return path


def _with_names(
    tables: dict[str, pd.DataFrame], sectors: pd.DataFrame, ranking: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """Add display names (Dutch and French) to the coverage tables."""
    lgn = lgn_table()
    names = {
        "sector": (sectors[["cd_sector", "sector_name_nl", "sector_name_fr"]], "cd_sector"),
        "wijk": (ranking[["mdrc", "name_nl", "name_fr"]], "mdrc"),
        "priority_wijken": (ranking[["mdrc", "name_nl", "name_fr", "rank"]], "mdrc"),
        "commune": (lgn[["commune_nis", "commune_name_nl", "commune_name_fr"]], "commune_nis"),
        "lgn": (lgn[["lgn", "lgn_name"]].drop_duplicates("lgn"), "lgn"),
    }
    out = dict(tables)
    for level, (frame, key) in names.items():
        df = out[level].merge(pd.DataFrame(frame).drop_duplicates(key), on=key, how="left")
        first = [key] + [c for c in frame.columns if c != key]
        out[level] = df[first + [c for c in df.columns if c not in first]]
    out["priority_wijken"] = out["priority_wijken"].sort_values(
        ["rank", "service_set"], kind="stable", ignore_index=True
    )
    return out


#: The side-by-side map of the main job: the report's question "priority first or deprivation-weighted?".
_DUAL = ("prioritair_eerst", "kansarmoede_gewogen")


@dataclass
class MainRun:
    """Result of :func:`run_all`: every step's result, the files written and the seconds per stage."""

    rank: RankRun
    coverage: CoverageRun
    scenarios: list[ScenarioResult]
    comparison: pd.DataFrame
    outputs: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, Any] = field(default_factory=dict)


def scenario_files(folder: Path | None = None) -> list[Path]:
    """Return the scenario files of ``folder`` (default ``./scenarios``), sorted by name."""
    folder = Path(folder) if folder is not None else Path.cwd() / "scenarios"
    return sorted(folder.glob("*.toml"))


def run_all(
    out_dir: Path | None = None,
    *,
    scenarios: list[Path] | None = None,
    params: NeedParams | None = None,
    data_dir: Path | None = None,
    network: Path | None = None,
    lang: str = "nl",
    self_contained: bool = False,
    cache: bool = True,
) -> MainRun:
    """Run the main job, one step after the other in the order of the data flow.

    need and priority wijken (:func:`run_rank`) → walking access to every service set
    (``outputs/coverage/``) → each siting scenario (``outputs/<scenario>/``) and their comparison
    (``outputs/compare/``) → maps (``outputs/maps/``) and the report (``outputs/report.html``).
    The need step, the network and the scenario solutions are computed once and shared; solutions
    are also reused across runs (:mod:`geoplanner.cache`). ``manifest_run.json`` in
    ``out_dir`` records the whole run: scenario files, every output, where each solution came
    from (``solution_cache``) and the seconds of each stage (``timings_s``). Each stage is
    reported to a :mod:`geoplanner.core.progress` reporter when one is set.

    Parameters
    ----------
    out_dir
        Output root (default :func:`settings.output_dir`).
    scenarios
        Scenario files (default: every ``scenarios/*.toml``).
    params
        Need and score parameters.
    data_dir
        Data folder.
    network
        Walking-network file (default: the bundle's).
    lang
        Language of maps and report (``nl``, ``fr``, ``en``).
    self_contained
        Write maps that work offline (needs ``geoplanner assets fetch`` once).
    cache
        Reuse scenario solutions stored under the cache folder (:mod:`geoplanner.cache`).

    Returns
    -------
    MainRun
    """
    from geoplanner.pipeline.maps import make_report
    from geoplanner.pipeline.workbook import write_run_workbook
    from geoplanner.scenario import (
        build_context,
        load_scenario,
        run_scenario,
        solution_record,
        with_baseline,
        write_comparison,
        write_scenario_outputs,
    )

    out_dir = Path(out_dir or settings.output_dir())
    paths = scenario_files() if scenarios is None else [Path(p) for p in scenarios]
    # every scenario file is validated before the slow part
    ordered = with_baseline([load_scenario(p, data_dir=data_dir) for p in paths])
    timings: dict[str, Any] = {}
    started = time.perf_counter()
    with stage("behoefte en prioritaire wijken", into=timings, key="rank"):
        ranked = run_rank(out_dir, params=params, data_dir=data_dir)
    with stage("wandeltoegang tot de diensten", into=timings, key="coverage"):
        net = load_network(network)  # loaded once, shared with the scenarios
        coverage = run_coverage(
            out_dir / "coverage", network_path=net, data_dir=data_dir, need=ranked.need, cache=cache
        )
    with stage("netwerk en vraagpunten", into=timings, key="context"):
        # the coverage step's demand points and snapping (same need, network and default tolerance)
        context = build_context(
            data_dir, network=net, need=ranked.need, cache=cache, points=coverage.demand, snapped=coverage.demand_snap
        )
    outputs = [*ranked.outputs, *coverage.outputs]
    results = []
    timings["scenarios"] = {}
    for s in ordered:
        with stage(f"scenario {s.name}", into=timings["scenarios"], key=s.name):
            results.append(run_scenario(s, context))
            outputs += write_scenario_outputs(results[-1], out_dir / s.name)
    with stage("scenario's vergelijken", into=timings, key="compare"):
        table, per_lgn, written = write_comparison(results, out_dir / "compare")
    outputs += written
    with stage("kaarten en rapport", into=timings, key="report"):
        report = make_report(
            results, context, out_dir, lang=lang, self_contained=self_contained, data_dir=data_dir,
            scenario_paths=paths, dual=_DUAL if set(_DUAL) <= {r.scenario.name for r in results} else None,
        )  # fmt: skip
    outputs += report.outputs
    notes = list(dict.fromkeys([*ranked.notes, *coverage.notes.values(), *report.notes]))
    with stage("werkmap voor een rekenblad", into=timings, key="workbook"):
        # the Excel deliverable, from the tables exactly as their CSVs hold them (workbook.write_run_workbook)
        outputs += write_run_workbook(out_dir, rank=ranked, coverage=coverage, comparison=table,
                                      comparison_lgn=per_lgn, results=results, notes=notes, lang=lang)  # fmt: skip
    timings["total"] = round(time.perf_counter() - started, 3)
    manifest = write_manifest(
        out_dir,
        command="run",
        inputs=paths,
        parameters={
            "scenarios": [s.name for s in ordered],
            "network": str(net.source),
            "network_sha256": net.sha256,
            "lang": lang,
            "self_contained": self_contained,
            "cache": cache,
        },
        outputs=outputs,
        notes=notes,
        name="manifest_run.json",
        extra={
            "timings_s": timings,
            "solution_cache": {r.scenario.name: solution_record(r) for r in results},
        },
    )
    return MainRun(ranked, coverage, results, table, [*outputs, manifest], notes, timings)
