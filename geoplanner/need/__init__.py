"""Need: young children per sector, deprivation per wijk, the priority wijken and how sure the list is.

``build_need(data, params)`` runs the step on inputs loaded by :mod:`geoplanner.inputs` (see
:func:`geoplanner.pipeline.load.need_data`). Modules: :mod:`~geoplanner.need.population` (observed, derived
and estimated counts per sector; wijk sums), :mod:`~geoplanner.need.residential` (streets people live along),
:mod:`~geoplanner.need.deprivation` (the index), :mod:`~geoplanner.need.ranking` (score and priority),
:mod:`~geoplanner.need.stability` (``p_top``). The method, with its years and uncertainty, is written up in
``docs/methods/need.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geoplanner.need.data import NeedData
from geoplanner.need.deprivation import PcaWeights, deprivation_index, pca_weights
from geoplanner.need.params import DEPRIVATION_COMPONENTS, DEPRIVATION_METHODS, NeedParams
from geoplanner.need.population import (
    DERIVED,
    ESTIMATED,
    IBSA_TOLERANCE,
    MIXED,
    OBSERVED,
    STATUSES,
    combine_status,
    commune_check,
    derive_sector_counts,
    sector_need,
    status_mix,
    uncertainty_basis,
    wijk_need,
)
from geoplanner.need.ranking import MAX_BIRTH_RATE_PERMILLE, rank_wijken
from geoplanner.need.residential import FRONTAGE_HIGHWAYS, residential_lines, sector_pieces
from geoplanner.need.stability import rank_stability, stability_notes

__all__ = [
    "DEPRIVATION_COMPONENTS",
    "DEPRIVATION_METHODS",
    "DERIVED",
    "ESTIMATED",
    "ESTIMATE_NOTE",
    "FRONTAGE_HIGHWAYS",
    "IBSA_TOLERANCE",
    "MAX_BIRTH_RATE_PERMILLE",
    "MIXED",
    "OBSERVED",
    "STATUSES",
    "Need",
    "NeedData",
    "NeedParams",
    "PcaWeights",
    "build_need",
    "combine_status",
    "commune_check",
    "derive_sector_counts",
    "deprivation_index",
    "pca_weights",
    "rank_wijken",
    "residential_lines",
    "sector_need",
    "sector_pieces",
    "status_mix",
    "uncertainty_basis",
    "wijk_need",
]

ESTIMATE_NOTE = (
    "Geboorten en 0-2-jarigen per sector zijn AFGELEID uit de waargenomen leeftijdsopbouw (0-4-jarigen per sector, "
    "~1/1/2022, op de bevolking van 1/1/2019) en afgestemd op de gemeentecijfers (Statbel, 1/1/2020); 49 kleine "
    "sectoren zonder leeftijdsgegevens zijn GESCHAT (gemeentegemiddelde × inwoners 2019). Geen echte telling: "
    "laad echte cijfers met `geoplanner indicators import`."
)


@dataclass(frozen=True)
class Need:
    """Everything the need step produces, shared by the later steps (coverage, siting, maps).

    Attributes
    ----------
    sectors
        :func:`sector_need` output (observed figures applied).
    ranking
        :func:`rank_wijken` output, with the stability columns of
        :func:`geoplanner.need.stability.rank_stability` (``p_top``, ``stability``, …) when it ran.
    lines
        :func:`residential_lines` output (the residential weight, reused for demand points).
    params
        The parameters used.
    inputs
        Files read beyond the bundle: the user's sector figures, when imported.
    notes
        Caveats that must travel with every output (derived/estimated figures, observed figures used,
        wijken whose place in the selection is uncertain).
    communes
        :func:`commune_check` output: the sector figures against the published commune figures.
    pca
        :func:`pca_weights` of the ranked wijken (loadings, explained variance).
    uncertainty
        :func:`uncertainty_basis`: what the uncertainty of the counts rests on.
    """

    sectors: gpd.GeoDataFrame
    ranking: gpd.GeoDataFrame
    lines: gpd.GeoDataFrame
    params: NeedParams
    inputs: tuple[Path, ...]
    notes: tuple[str, ...]
    communes: pd.DataFrame | None = None
    pca: PcaWeights | None = None
    uncertainty: dict[str, float] = field(default_factory=dict)


def build_need(data: NeedData, params: NeedParams | None = None) -> Need:
    """Run the whole need step: sector figures, deprivation, wijk ranking and how sure it is.

    The user's own sector figures (``data.figures``, from ``geoplanner indicators import``) are applied here,
    once, so every later step sees the same observed, derived or estimated figures.

    Parameters
    ----------
    data
        The loaded inputs (:func:`geoplanner.pipeline.load.need_data` reads them from the data folder).
    params
        Need, score and stability parameters (defaults if omitted).

    Returns
    -------
    Need
    """
    params = params or NeedParams()
    figures = data.figures
    observed = figures.by_sector if figures is not None else None
    observed_wijk = figures.by_wijk if figures is not None else None
    sectors = sector_need(data, observed=observed)
    ranking = rank_wijken(data, params, sectors=sectors, observed_wijk=observed_wijk)
    eligible = ranking["rank"].notna()
    z_cols = [f"z_{k}" for k, w in params.deprivation_weights.items() if w > 0]
    pca = pca_weights(ranking.loc[eligible, ["mdrc", *z_cols]].set_index("mdrc").rename(columns=lambda c: c[2:]))
    if params.stability_draws:
        ranking = rank_stability(sectors, ranking, params)
    uncertainty = uncertainty_basis(data.communes.set_index("commune_nis"), sectors)
    notes = []
    if sectors["births_status"].isin([DERIVED, ESTIMATED]).any():
        notes.append(ESTIMATE_NOTE)
    if figures is not None:
        notes.append(_figures_note(figures, sectors))
        notes.extend(figures.warnings)
    if params.stability_draws:
        notes.extend(stability_notes(ranking, params))
    inputs = (figures.source,) if figures is not None else ()
    communes = commune_check(sectors, data.communes, data.age_shares)
    return Need(sectors, ranking, data.lines, params, inputs, tuple(notes), communes, pca, uncertainty)


def _figures_note(figures: Any, sectors: pd.DataFrame) -> str:
    """Say for how many sectors and wijken the user's figures replaced the estimates, or that they replaced none.

    ``figures`` is :attr:`NeedData.figures` (``by_sector``, ``by_wijk``, ``columns``, ``source``).
    """
    by_sector, by_wijk = figures.by_sector, figures.by_wijk
    given = [c for c in figures.columns if c in by_sector.columns]
    codes = by_sector.index[by_sector[given].notna().any(axis=1)] if given else []
    used = sectors[sectors["cd_sector"].isin(codes)]
    wijken = set(used["mdrc"])
    if len(by_wijk):  # 2025 codes, summed per wijk: counts replace a wijk's only when they cover all its sectors
        complete = by_wijk["n_sectors"] == by_wijk["n_sectors_total"] if "n_sectors" in by_wijk else True
        counts = by_wijk.reindex(columns=["pop_total", "births", "pop_0_2"]).notna().any(axis=1) & complete
        wijken |= set(by_wijk.index[counts | by_wijk.reindex(columns=["kansarmoede_index"]).notna().iloc[:, 0]])
    source = f"Echte cijfers van de gebruiker ({figures.source.name})"
    if not wijken:
        why = " (sectorcodes van 2025 vervangen de cijfers van een wijk pas als ze al haar sectoren dekken)"
        return (
            f"{source} NIET gebruikt: geen enkele sector of wijk kreeg er een cijfer uit{why if len(by_wijk) else ''}."
        )
    where = f"{len(used)} sectoren in {len(wijken)} wijken" if len(used) else f"{len(wijken)} wijken"
    return f"{source} gebruikt voor {where}; zie de kolommen *_status (observed/derived/estimated/mixed)."
