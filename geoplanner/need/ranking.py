"""Rank the residential wijken by birth rate, births and deprivation, and select the priority wijken."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplanner.core import settings
from geoplanner.core.errors import ConfigError, DataError
from geoplanner.inputs.lgn import lgn_table
from geoplanner.need.data import NeedData
from geoplanner.need.deprivation import deprivation_index, zscore
from geoplanner.need.params import NeedParams
from geoplanner.need.population import MIXED, OBSERVED, sector_need, wijk_need

__all__ = ["MAX_BIRTH_RATE_PERMILLE", "rank_wijken"]


def rank_wijken(
    data: NeedData,
    params: NeedParams | None = None,
    *,
    sectors: pd.DataFrame | None = None,
    observed_wijk: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Rank the residential wijken and select the priority wijken.

    The score is ``w_birth_rate·z(birth rate) + w_births·z(births) + w_deprivation·deprivation``,
    with z-scores over the eligible wijken (residential codes 1–118 with at least
    ``min_population`` inhabitants and a deprivation value). Ties are broken by the wijk code,
    so the ranking is deterministic. How sure the selection is: :func:`geoplanner.need.stability.rank_stability`
    (run by :func:`build_need`).

    Parameters
    ----------
    data
        The loaded inputs (wijken, indicators; sectors when ``sectors`` is not given).
    params
        :class:`NeedParams` (defaults if omitted).
    sectors
        Precomputed :func:`sector_need` output (it carries any observed sector figures).
    observed_wijk
        Observed figures per wijk (see :func:`wijk_need`).

    Returns
    -------
    geopandas.GeoDataFrame
        All 145 wijken (EPSG:31370), sorted by rank then mdrc: mdrc, name_nl, name_fr,
        district_type, communes, commune_names, lgn, lgn_name, pop_total, births, pop_0_2,
        birth_rate_permille with their status and status mix, bimd2011_score, the deprivation columns
        (:func:`deprivation_index`), ``contrib_*`` (each component's share of the score), score, rank (NaN
        if not ranked), priority (bool), excluded_reason.
    """
    params = params or NeedParams()
    sectors = sector_need(data) if sectors is None else sectors
    wijken = data.wijken.set_index("mdrc")
    need = wijk_need(sectors, observed_wijk).reindex(wijken.index)
    indicators = data.indicators
    if "bimd2011_score" in need.columns:  # the sector BIMD score, population-weighted to the wijk
        indicators = indicators.merge(need[["bimd2011_score"]], left_on="mdrc", right_index=True, how="left")
    out = wijken.join(need)
    # IBSA's own mixed-case names read better than UrbAdm's upper case; fall back to the latter.
    proper = indicators.set_index("mdrc")[["name_nl", "name_fr"]].reindex(out.index)
    for col in ("name_nl", "name_fr"):
        out[col] = proper[col].fillna(out[col])
    reason = pd.Series("", index=out.index)
    reason[out["district_type"] != "residential"] = "geen woonwijk (" + out["district_type"] + ")"
    small = (reason == "") & (out["pop_total"].fillna(0) < params.min_population)
    reason[small] = f"minder dan {params.min_population:.0f} inwoners (1/1/2019)"
    eligible = out.index[reason == ""]
    _check_enough(len(eligible), params, residential=int((out["district_type"] == "residential").sum()))
    dep = deprivation_index(indicators, params, eligible=eligible, kansarmoede=need["kansarmoede_index"])
    out = out.join(dep)
    no_dep = (reason == "") & out["deprivation"].isna()
    reason[no_dep] = "te weinig indicatoren voor de kansarmoede-index"
    eligible = out.index[reason == ""]
    _check_top_n(len(eligible), params)
    _check_plausible(out.loc[eligible], data.figures_path)
    z_rate = zscore(out.loc[eligible, "birth_rate_permille"])
    z_births = zscore(out.loc[eligible, "births"])
    out["z_birth_rate"] = z_rate
    out["z_births"] = z_births
    out["contrib_birth_rate"] = params.w_birth_rate * z_rate
    out["contrib_births"] = params.w_births * z_births
    out["contrib_deprivation"] = params.w_deprivation * out.loc[eligible, "deprivation"]
    out["score"] = out[["contrib_birth_rate", "contrib_births", "contrib_deprivation"]].sum(axis=1, min_count=3)
    out["excluded_reason"] = reason
    ranked = out.loc[eligible].reset_index().sort_values(["score", "mdrc"], ascending=[False, True])
    out["rank"] = pd.Series(np.arange(1, len(ranked) + 1), index=ranked["mdrc"].to_numpy()).reindex(out.index)
    out["priority"] = out["rank"].le(params.top_n).fillna(False).astype(bool)
    names = lgn_table().set_index("commune_nis")
    out["commune_names"] = (
        out["communes"]
        .fillna("")
        .map(lambda s: ", ".join(names.loc[int(c), "commune_name_nl"] for c in s.split("|") if c))
    )
    lgn_names = names.drop_duplicates("lgn").set_index("lgn")["lgn_name"]
    out["lgn_name"] = out["lgn"].map(lgn_names)
    out = out.reset_index().sort_values(["rank", "mdrc"], na_position="last", ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=settings.CRS)


def _check_enough(n: int, params: NeedParams, *, residential: int) -> None:
    """Refuse a ``min_population`` that leaves too few wijken to standardise and weigh (PCA) the components."""
    k = sum(1 for w in params.deprivation_weights.values() if w > 0)
    if n > max(k, 1):
        return
    raise ConfigError(
        f"only {n} of the {residential} residential wijken have at least {params.min_population:g} inhabitants; "
        f"ranking needs more than {max(k, 1)} (the PCA of the {k} deprivation components)",
        column="min_population",
        hint="lower min_population; the default is 1000",
    )


def _check_top_n(n: int, params: NeedParams) -> None:
    """Refuse a ``top_n`` that makes every rankable wijk a priority wijk: that selects nothing."""
    if params.top_n < n:
        return
    raise ConfigError(
        f"top_n = {params.top_n} would make all {n} rankable wijken priority wijken, so nothing is selected "
        f"(rankable: residential, at least {params.min_population:g} inhabitants (min_population) and "
        f"{params.min_components} deprivation components (min_components))",
        column="top_n",
        hint=f"choose a top_n below {n}, or rank more wijken with a lower min_population",
    )


#: Highest crude birth rate (births per 1,000 residents) a ranked wijk may have. Brussels' wijken lie
#: between about 0 and 30 ‰ and the highest national rates in the world below 50 ‰, so a figure above
#: this comes from mismatched counts (e.g. births of a whole commune over one sector's residents).
MAX_BIRTH_RATE_PERMILLE = 60.0


def _check_plausible(ranked: pd.DataFrame, figures_path: Path | None) -> None:
    """Refuse wijk figures that cannot be true before they reach the ranking.

    A wijk whose birth rate is above :data:`MAX_BIRTH_RATE_PERMILLE`, or with more births than
    children aged 0–2, would top the list on a data error; the user's imported figures are named
    when they took part.
    """
    rate = ranked["birth_rate_permille"]
    bad = ranked[(rate > MAX_BIRTH_RATE_PERMILLE) | (ranked["births"] > ranked["pop_0_2"] + 1e-6)]
    if bad.empty:
        return
    mdrc, row = next(iter(bad.iterrows()))
    statuses = {row.get(f"{c}_status") for c in ("births", "pop_total", "pop_0_2")}
    imported = bool(statuses & {OBSERVED, MIXED})
    path = figures_path if imported else None
    what = (
        f"{row['birth_rate_permille']:.0f} ‰ births per resident (more than {MAX_BIRTH_RATE_PERMILLE:.0f} ‰)"
        if row["birth_rate_permille"] > MAX_BIRTH_RATE_PERMILLE
        else "more births than children aged 0–2"
    )
    others = f" ({len(bad) - 1} more wijken alike)" if len(bad) > 1 else ""
    raise DataError(
        f"wijk {mdrc} ({row.get('name_nl', '')}) would be ranked with {what}: births {row['births']:.0f} "
        f"({row.get('births_status', '?')}), residents {row['pop_total']:.0f} ({row.get('pop_total_status', '?')}), "
        f"aged 0–2 {row['pop_0_2']:.0f} ({row.get('pop_0_2_status', '?')}){others}",
        path=path,
        hint="check the imported sector figures (codes, and that births and residents describe the same sector)"
        if imported
        else "check the data bundle with 'geoplanner data check'",
    )
