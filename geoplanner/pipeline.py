"""Runs of whole steps that write outputs: the library calls the CLI commands wrap.

Each ``run_*`` function computes, writes its files atomically under ``out_dir`` and a
manifest (inputs with sha256, parameters, versions), and returns what it computed so a
notebook user can keep working with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geoplanner import settings
from geoplanner._io import write_csv, write_gpkg
from geoplanner.bundle import dataset_path
from geoplanner.manifest import write_manifest
from geoplanner.need import NeedParams, rank_wijken, sector_need

__all__ = ["RankRun", "run_rank", "RANK_COLUMNS", "ESTIMATE_NOTE"]

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
    "births_status",
    "pop_0_2_status",
    "deprivation",
    "deprivation_source",
    "z_bim",
    "z_cpas",
    "z_unemployment",
    "z_income",
    "missing_components",
    "z_birth_rate",
    "z_births",
    "contrib_birth_rate",
    "contrib_births",
    "contrib_deprivation",
    "score",
    "district_type",
    "excluded_reason",
)

ESTIMATE_NOTE = (
    "Geboorten en 0-2-jarigen per sector/wijk zijn SCHATTINGEN: gemeentecijfers (Statbel, 1/1/2020) verdeeld "
    "volgens woonstraatlengte × GHSL-bevolkingsdichtheid; laad echte cijfers met `geoplanner indicators import`."
)

_RANK_INPUTS = (
    "sectors",
    "wijken",
    "wijk_indicators",
    "pop_age_commune",
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
    outputs: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def priority(self) -> gpd.GeoDataFrame:
        """The priority wijken, in rank order."""
        return self.ranking[self.ranking["priority"]]


def _observed_figures(data_dir: Path | None) -> tuple[pd.DataFrame | None, pd.DataFrame | None, list[Path]]:
    """Return the user's sector and wijk figures, if imported (``geoplanner indicators import``)."""
    from geoplanner.user_data import load_sector_figures

    figures = load_sector_figures(data_dir)
    if figures is None:
        return None, None, []
    return figures.by_sector, figures.by_wijk, [figures.source]


def run_rank(
    out_dir: Path | None = None,
    *,
    params: NeedParams | None = None,
    data_dir: Path | None = None,
    config_path: Path | None = None,
) -> RankRun:
    """Estimate need, rank the wijken and write the outputs.

    Writes ``priority_wijken.csv`` (all wijken, ranked ones first), ``priority_wijken.gpkg``
    (layers ``wijken`` and ``sector_need``), ``sector_need.csv`` and ``manifest_rank.json``.

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
    observed, observed_wijk, observed_inputs = _observed_figures(data_dir)
    sectors = sector_need(data_dir, observed=observed)
    ranking = rank_wijken(data_dir, params, sectors=sectors, observed_wijk=observed_wijk)
    table = pd.DataFrame(ranking.drop(columns="geometry"))[list(RANK_COLUMNS)]
    sector_table = pd.DataFrame(sectors.drop(columns="geometry"))
    notes = []
    if (sector_table["pop_0_2_status"] == "estimated").any():
        notes.append(ESTIMATE_NOTE)
    if observed_inputs:
        n_sec = int((sector_table != "estimated").filter(like="_status").any(axis=1).sum())
        n_wijk = int(ranking.filter(like="_status").isin(["observed", "mixed"]).any(axis=1).sum())
        notes.append(
            f"Echte cijfers van de gebruiker ({observed_inputs[0].name}) gebruikt voor {n_sec} sectoren en "
            f"{n_wijk} wijken; zie de kolommen *_status (observed/estimated/mixed)."
        )
    outputs = [
        write_csv(out_dir / "priority_wijken.csv", table.round(4)),
        write_csv(out_dir / "sector_need.csv", sector_table.round(4)),
        write_gpkg(
            out_dir / "priority_wijken.gpkg",
            {"wijken": ranking[[*RANK_COLUMNS, "geometry"]], "sector_need": sectors},
        ),
    ]
    inputs = [dataset_path(k, data_dir) for k in _RANK_INPUTS] + observed_inputs
    if config_path:
        inputs.append(Path(config_path))
    outputs.append(
        write_manifest(
            out_dir,
            command="rank",
            inputs=inputs,
            parameters=params.as_dict(),
            outputs=outputs,
            notes=notes,
            name="manifest_rank.json",
        )
    )
    return RankRun(ranking=ranking, sectors=sectors, params=params, outputs=outputs, notes=notes)
