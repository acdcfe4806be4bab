"""Runs of whole steps that write outputs: the library calls the CLI commands wrap.

Each ``run_*`` function computes, writes its files atomically under ``out_dir`` and a
manifest (inputs with sha256, parameters, versions), and returns what it computed so a
notebook user can keep working with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from geoplanner import settings
from geoplanner._io import output_step, write_csv, write_gpkg
from geoplanner.bundle import dataset_path
from geoplanner.manifest import write_manifest
from geoplanner.need import Need, NeedParams, build_need
from geoplanner.qgis_styles import style_priority_gpkg

if TYPE_CHECKING:
    from geoplanner.accessibility import CoverageRun
    from geoplanner.scenario import ScenarioResult

__all__ = ["RankRun", "run_rank", "RANK_COLUMNS", "MainRun", "run_all", "scenario_files"]

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


#: The side-by-side map of the main job: the report's question "priority first or deprivation-weighted?".
_DUAL = ("prioritair_eerst", "kansarmoede_gewogen")


@dataclass
class MainRun:
    """Result of :func:`run_all`: every step's result and the files written."""

    rank: RankRun
    coverage: CoverageRun
    scenarios: list[ScenarioResult]
    comparison: pd.DataFrame
    outputs: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


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
) -> MainRun:
    """Run the main job, one step after the other in the order of the data flow.

    need and priority wijken (:func:`run_rank`) → walking access to every service set
    (``outputs/coverage/``) → each siting scenario (``outputs/<scenario>/``) and their comparison
    (``outputs/compare/``) → maps (``outputs/maps/``) and the report (``outputs/report.html``).
    The need step, the network and the scenario solutions are computed once and shared.

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

    Returns
    -------
    MainRun
    """
    from geoplanner.accessibility import run_coverage
    from geoplanner.report import make_report
    from geoplanner.scenario import (
        build_context,
        load_scenario,
        run_scenario,
        with_baseline,
        write_comparison,
        write_scenario_outputs,
    )
    from geoplanner.workbook import write_run_workbook

    out_dir = Path(out_dir or settings.output_dir())
    paths = scenario_files() if scenarios is None else [Path(p) for p in scenarios]
    # every scenario file is validated before the slow part
    ordered = with_baseline([load_scenario(p, data_dir=data_dir) for p in paths])
    ranked = run_rank(out_dir, params=params, data_dir=data_dir)
    coverage = run_coverage(out_dir / "coverage", network_path=network, data_dir=data_dir, need=ranked.need)
    context = build_context(data_dir, network=network, need=ranked.need)
    results = [run_scenario(s, context) for s in ordered]
    outputs = [*ranked.outputs, *coverage.outputs]
    for result in results:
        outputs += write_scenario_outputs(result, out_dir / result.scenario.name)
    table, per_lgn, written = write_comparison(results, out_dir / "compare")
    outputs += written
    report = make_report(
        paths, out_dir, lang=lang, self_contained=self_contained, network=network, data_dir=data_dir,
        context=context, results=results, dual=_DUAL if set(_DUAL) <= {r.scenario.name for r in results} else None,
    )  # fmt: skip
    outputs += report.outputs
    notes = list(dict.fromkeys([*ranked.notes, *coverage.notes.values(), *report.notes]))
    # the Excel deliverable, from the tables exactly as their CSVs hold them (workbook.write_run_workbook)
    outputs += write_run_workbook(out_dir, rank=ranked, coverage=coverage, comparison=table, comparison_lgn=per_lgn,
                                  results=results, notes=notes, lang=lang)  # fmt: skip
    return MainRun(ranked, coverage, results, table, outputs, notes)
