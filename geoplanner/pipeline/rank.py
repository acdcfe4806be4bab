"""Need and priority wijken (`geoplanner rank`, step 1 of the main job): estimate, rank, write."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geoplanner.core import settings
from geoplanner.core.errors import GeoplannerError
from geoplanner.inputs.bundle import dataset_path
from geoplanner.inputs.lgn import with_lgn_names
from geoplanner.need import Need, NeedParams
from geoplanner.outputs.files import output_step, write_csv, write_gpkg
from geoplanner.outputs.manifest import write_manifest
from geoplanner.outputs.precision import round_for_csv
from geoplanner.outputs.qgis_styles import style_priority_gpkg
from geoplanner.pipeline.load import NEED_DATASETS
from geoplanner.pipeline.load import need as load_need

__all__ = ["RANK_COLUMNS", "RankRun", "run_rank"]


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


#: Keys of a parameter file (``--config``), the columns errors about a parameter name.
_PARAM_KEYS = frozenset(f.name for f in fields(NeedParams))


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
        The parameter file, recorded in the manifest and named in errors about one of its keys (e.g. a
        ``min_population`` that leaves too few wijken).

    Returns
    -------
    RankRun
    """
    out_dir = Path(out_dir or settings.output_dir())
    params = params or NeedParams()
    inputs = [dataset_path(k, data_dir) for k in NEED_DATASETS]  # present and intact, before the slow part
    try:
        need = load_need(data_dir, params)
    except GeoplannerError as exc:  # a parameter the data cannot satisfy: name the file it was set in
        if config_path is None or exc.path is not None or exc.column not in _PARAM_KEYS:
            raise
        raise type(exc)(exc.message, path=config_path, column=exc.column, hint=exc.hint) from None
    sectors, ranking, notes = need.sectors, need.ranking, list(need.notes)
    # columns of components left out by the configuration (or no stability run) are written empty
    p_top = {"p_top": f"p_top{params.top_n}"}
    table = pd.DataFrame(ranking.drop(columns="geometry")).reindex(columns=list(RANK_COLUMNS)).rename(columns=p_top)
    table = round_for_csv(table)  # each figure to what it means (outputs.precision)
    sector_table = pd.DataFrame(sectors.drop(columns="geometry"))
    wijk_layer = gpd.GeoDataFrame(
        ranking.reindex(columns=[*RANK_COLUMNS, "geometry"]).rename(columns=p_top), geometry="geometry", crs=ranking.crs
    )
    with output_step(out_dir, manifest="manifest_rank.json"):
        outputs = [
            write_csv(out_dir / "priority_wijken.csv", table),
            write_csv(out_dir / "sector_need.csv", round_for_csv(with_lgn_names(sector_table))),
            write_gpkg(
                out_dir / "priority_wijken.gpkg",
                {"wijken": wijk_layer, "sector_need": sectors},
                after=style_priority_gpkg,
            ),  # QGIS styles inside
        ]
        if need.communes is not None:
            outputs.append(write_csv(out_dir / "commune_need_check.csv", round_for_csv(need.communes)))
        if need.pca is not None:
            outputs.append(write_csv(out_dir / "deprivation_pca.csv", round_for_csv(need.pca.table())))
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
