"""Young children and births per sector: observed, derived from the age structure, or estimated.

How each figure is made, with the years and the uncertainty, is written up in ``docs/methods/need.md``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplanner.core import settings
from geoplanner.core.errors import DataError
from geoplanner.inputs.lgn import lgn_of_commune
from geoplanner.need.data import NeedData
from geoplanner.need.residential import sector_weights

__all__ = [
    "OBSERVED",
    "DERIVED",
    "ESTIMATED",
    "MIXED",
    "STATUSES",
    "IBSA_TOLERANCE",
    "uncertainty_basis",
    "derive_sector_counts",
    "sector_need",
    "combine_status",
    "status_mix",
    "status_mix_by",
    "wijk_need",
    "commune_check",
]


OBSERVED = "observed"


DERIVED = "derived"


ESTIMATED = "estimated"


MIXED = "mixed"


#: Figure statuses, strongest first.
STATUSES = (OBSERVED, DERIVED, ESTIMATED)


#: Largest relative gap allowed between the derived share of 0–2-year-olds of a commune (2020 count over
#: 2019 residents) and IBSA's share under 3 in 2021. Basis: the two count one birth year apart (born
#: 2017–2019 against 2018–2020) while Brussels births fell about 4 % a year (17,377 in 2018, 16,635 in 2019,
#: 14,744 in 2022), and their denominators are two years apart; the real gaps are +0.5 % to +10.5 %.
IBSA_TOLERANCE = 0.12


def _rms_share_gap(
    share: np.ndarray, commune: np.ndarray, pop: np.ndarray, has_age: np.ndarray, young: np.ndarray
) -> float:
    """Resident-weighted RMS gap between sectors' 0–4 shares and their commune's (the estimate's error)."""
    ok = has_age & np.isfinite(share) & (pop > 0)
    if not ok.any():
        return float("nan")
    frame = pd.DataFrame({"c": commune[ok], "young": young[ok], "pop": pop[ok], "share": share[ok]})
    by = frame.groupby("c")[["young", "pop"]].transform("sum")
    commune_share = by["young"] / by["pop"]
    ratio = (frame["share"] / commune_share.where(commune_share > 0)).fillna(1.0)
    return float(np.sqrt(np.average((ratio - 1.0) ** 2, weights=frame["pop"])))


def uncertainty_basis(communes: pd.DataFrame, table: pd.DataFrame) -> dict[str, float]:
    """Return the figures the uncertainty of derived and estimated counts rests on.

    Parameters
    ----------
    communes
        Indexed by commune_nis: pop_age0, pop_0_2, pop_0_4 (Statbel, 1 Jan 2020).
    table
        Per sector: commune_nis, pop_total (2019), in_age_file, share_0_4_2022.

    Returns
    -------
    dict
        ``cv_communes_births`` / ``cv_communes_pop_0_2``: the between-commune coefficient of variation of
        the ratio age 0 / 0–4 and 0–2 / 0–4; ``cv_estimated``: the resident-weighted RMS relative gap between
        a sector's 0–4 share and its commune's (see the module docstring).
    """
    r0 = communes["pop_age0"] / communes["pop_0_4"]
    r02 = communes["pop_0_2"] / communes["pop_0_4"]
    pop = table["pop_total"].to_numpy(dtype=float)
    share = table["share_0_4_2022"].to_numpy(dtype=float)
    has_age = table["in_age_file"].to_numpy(dtype=bool)
    return {
        "cv_communes_births": float(r0.std(ddof=1) / r0.mean()),
        "cv_communes_pop_0_2": float(r02.std(ddof=1) / r02.mean()),
        "cv_estimated": _rms_share_gap(
            share, table["commune_nis"].to_numpy(), pop, has_age, np.nan_to_num(pop * share, nan=0.0)
        ),
    }


def derive_sector_counts(table: pd.DataFrame, communes: pd.DataFrame) -> pd.DataFrame:
    """Derive births and 0–2-year-olds per sector from its observed age structure (see the module docstring).

    Parameters
    ----------
    table
        One row per sector: cd_sector, commune_nis, pop_total (residents 1 Jan 2019), in_age_file (bool),
        pop_0_4_2022 and pop_total_2022 (the age-band file; NaN where ``in_age_file`` is False).
    communes
        Indexed by commune_nis: pop_total, pop_age0, pop_0_2, pop_0_4 (Statbel, 1 Jan 2020).

    Returns
    -------
    pandas.DataFrame
        Aligned with ``table``: share_0_4_2022, births and pop_0_2 with their ``*_status`` ('derived' where
        the age file holds the sector, else 'estimated'), ``*_cv`` (coefficient of variation) and
        ``reconcile_*`` (the commune's scaling factor). Per commune, births and pop_0_2 add up exactly to
        the 2020 counts of children aged 0 and 0–2.

    Raises
    ------
    DataError
        If a commune with children has no resident in any sector to carry them.
    """
    nis = table["commune_nis"].to_numpy()
    missing = sorted(set(nis) - set(communes.index))
    if missing:
        raise DataError(f"no 2020 commune figures for commune {missing[0]}", column="commune_nis")
    c = communes.reindex(nis)
    pop = table["pop_total"].to_numpy(dtype=float)
    has_age = table["in_age_file"].to_numpy(dtype=bool)
    n04 = table["pop_0_4_2022"].to_numpy(dtype=float)
    tot22 = table["pop_total_2022"].to_numpy(dtype=float)
    # a sector the age file holds with no resident in 2022 has an observed structure too: no children
    share = np.where(has_age, np.divide(n04, tot22, out=np.zeros_like(n04), where=tot22 > 0), np.nan)
    young = np.where(has_age, pop * np.nan_to_num(share, nan=0.0), 0.0)
    basis = uncertainty_basis(communes, table.assign(share_0_4_2022=share))
    out = pd.DataFrame({"share_0_4_2022": share}, index=table.index)
    status = np.where(has_age, DERIVED, ESTIMATED)
    for column, ref in (("births", "pop_age0"), ("pop_0_2", "pop_0_2")):
        ratio = (c[ref] / c["pop_0_4"]).to_numpy(dtype=float)  # age 0 (or 0–2) per child aged 0–4, 2020
        per_resident = (c[ref] / c["pop_total"]).to_numpy(dtype=float)
        raw = np.where(has_age, young * ratio, pop * per_resident)
        sums = pd.Series(raw).groupby(nis).transform("sum").to_numpy()
        target = c[ref].to_numpy(dtype=float)
        empty = (sums <= 0) & (target > 0)
        if empty.any():
            raise DataError(f"commune {nis[np.flatnonzero(empty)[0]]} has no resident to carry its {column}")
        factor = np.divide(target, sums, out=np.zeros_like(target), where=sums > 0)
        out[column] = raw * factor
        out[f"{column}_status"] = status
        cv_ratio = basis[f"cv_communes_{column}"]
        binomial = np.divide(1.0 - ratio, ratio * n04, out=np.zeros_like(n04), where=has_age & (n04 > 0))
        cv = np.where(has_age, np.sqrt(cv_ratio**2 + binomial), basis["cv_estimated"])
        out[f"{column}_cv"] = np.where(out[column] > 0, cv, 0.0)
        out[f"reconcile_{column}"] = factor
    return out


def sector_need(data: NeedData, *, observed: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """Young children, births, residents and deprivation per statistical sector.

    Parameters
    ----------
    data
        The loaded inputs (sectors, commune and sector populations, age bands, BIMD, residential lines).
    observed
        Real figures indexed by 2022 ``cd_sector`` with any of the columns ``births``,
        ``pop_0_2``, ``pop_total``, ``kansarmoede_index``. Where given they replace the
        derived or estimated figure (as is) and the row is marked ``observed``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per sector: cd_sector, commune_nis, mdrc, lgn, res_weight (street length × GHSL, for the
        demand points), pop_total (residents 1 Jan 2019), in_age_file, pop_0_4_2022, pop_total_2022,
        share_0_4_2022, births, pop_0_2 (see :func:`derive_sector_counts`), bimd2011_score,
        bimd2011_decile, kansarmoede_index (NaN unless observed), ``<figure>_status``
        ('observed' | 'derived' | 'estimated'), ``births_cv``, ``pop_0_2_cv``, ``reconcile_*``; geometry.
    """
    sectors = data.sectors
    communes = data.communes.set_index("commune_nis")
    residents = data.residents.set_index("cd_sector")["pop_total"]
    ages = data.age_bands.set_index("cd_sector")
    bimd = data.bimd.set_index("cd_sector")
    out = sectors[["cd_sector", "commune_nis", "mdrc", "geometry"]].copy()
    out["lgn"] = out["commune_nis"].map(lgn_of_commune)
    out["res_weight"] = sector_weights(sectors, data.lines, use_cache=data.use_cache).to_numpy()
    codes = out["cd_sector"]
    out["pop_total"] = codes.map(residents).to_numpy(dtype=float)
    out["pop_total_status"] = OBSERVED
    out["in_age_file"] = codes.map(ages["in_age_file"]).fillna(False).astype(bool).to_numpy()
    out["pop_0_4_2022"] = codes.map(ages["pop_0_4"]).to_numpy(dtype=float)
    out["pop_total_2022"] = codes.map(ages["pop_total"]).to_numpy(dtype=float)
    derived = derive_sector_counts(out, communes)
    for col in derived.columns:
        out[col] = derived[col].to_numpy()
    out["bimd2011_score"] = codes.map(bimd["bimd2011_score"]).to_numpy(dtype=float)
    out["bimd2011_decile"] = codes.map(bimd["bimd2011_decile"]).astype("Int64").to_numpy()
    out["kansarmoede_index"] = np.nan
    out["kansarmoede_index_status"] = "missing"
    if observed is not None and len(observed):
        unknown = sorted(set(observed.index) - set(out["cd_sector"]))
        if unknown:
            raise DataError(f"{len(unknown)} observed sector code(s) not in the 2022 sectors, e.g. {unknown[0]}")
        idx = out.set_index("cd_sector").index
        for column in ("pop_total", "births", "pop_0_2", "kansarmoede_index"):
            if column not in observed.columns:
                continue
            values = observed[column].reindex(idx)
            has = values.notna().to_numpy()
            out.loc[has, column] = values.to_numpy()[has]
            out.loc[has, f"{column}_status"] = OBSERVED
            if f"{column}_cv" in out.columns:
                out.loc[has, f"{column}_cv"] = 0.0
    return gpd.GeoDataFrame(out, geometry="geometry", crs=settings.CRS)


def combine_status(statuses: pd.Series | list[str]) -> str:
    """Return the status of a sum of figures: their common status, or 'mixed' when they differ."""
    values = set(pd.Series(statuses).dropna().astype(str))
    if len(values) == 1:
        return values.pop()
    return MIXED if values else ESTIMATED


def _fmt_share(share: float) -> str:
    if 0 < share < 0.005:
        return "<1 %"
    if 0.995 <= share < 1:
        return ">99 %"
    return f"{share:.0%}".replace("%", " %")


def status_mix(values: pd.Series, statuses: pd.Series) -> str:
    """Describe which share of a total rests on which status, strongest first, e.g. 'derived 98 %, estimated 2 %'.

    Shares are of the total value; when the total is 0 they are of the number of figures. Every status
    present is named, even with a share of 0.
    """
    keys = pd.Series(0, index=range(len(np.asarray(values))))
    return status_mix_by(keys, pd.Series(np.asarray(values, dtype=float)), pd.Series(np.asarray(statuses))).iloc[0]


def status_mix_by(keys: pd.Series, values: pd.Series, statuses: pd.Series) -> pd.Series:
    """Return :func:`status_mix` for every group of ``keys`` at once."""
    frame = pd.DataFrame({"k": keys.to_numpy(), "v": values.to_numpy(dtype=float), "s": statuses.to_numpy()})
    total = frame.pivot_table(index="k", columns="s", values="v", aggfunc="sum", fill_value=0.0)
    count = frame.pivot_table(index="k", columns="s", values="v", aggfunc="size", fill_value=0)
    base = total.where(total.sum(axis=1).gt(0), count.astype(float), axis=0)
    share = base.div(base.sum(axis=1), axis=0)
    order = [s for s in STATUSES if s in share.columns]
    return pd.Series(
        [
            ", ".join(f"{s} {_fmt_share(row[s])}" for s in order if cnt[s] > 0)
            for row, cnt in zip(share.to_dict("records"), count.to_dict("records"), strict=True)
        ],
        index=share.index,
    )


def wijk_need(sectors: pd.DataFrame, observed_wijk: pd.DataFrame | None = None) -> pd.DataFrame:
    """Aggregate sector figures to wijken.

    Parameters
    ----------
    sectors
        Output of :func:`sector_need`.
    observed_wijk
        Real figures per wijk (indexed by mdrc), e.g. from sector codes of 2025 that only map to
        wijken. Counts replace the aggregate only where they cover every sector of the wijk
        (columns ``n_sectors`` and ``n_sectors_total``, when present, must agree); the
        kansarmoede-index is used wherever given.

    Returns
    -------
    pandas.DataFrame
        Indexed by mdrc: pop_total, births, pop_0_2, birth_rate_permille, each count's status
        ('observed', 'derived', 'estimated' or 'mixed', see :func:`combine_status`), births_status_mix and
        pop_0_2_status_mix (:func:`status_mix`), births_cv (coefficient of variation of the wijk's births,
        sectors taken as independent), bimd2011_score (mean of the sector scores weighted by 2019
        residents) and bimd2011_pop_share (share of the residents living in a sector with a score),
        kansarmoede_index (pop_0_2-weighted mean of observed sectors, else NaN), communes ('|'-joined NIS
        codes), commune_nis (the commune holding most of the wijk's young children) and lgn.
    """
    g = sectors.groupby("mdrc")
    out = g[["pop_total", "births", "pop_0_2"]].sum()
    for column in ("pop_total", "births", "pop_0_2"):
        status_col = f"{column}_status"
        if status_col not in sectors.columns:
            out[status_col] = ESTIMATED
            continue
        # the common status of the wijk's sectors, else 'mixed' (what combine_status does, vectorised)
        uniform = g[status_col].nunique() == 1
        out[status_col] = g[status_col].first().where(uniform, MIXED)
    for column in ("births", "pop_0_2"):
        out[f"{column}_status_mix"] = status_mix_by(
            sectors["mdrc"], sectors[column], sectors[f"{column}_status"]
        ).reindex(out.index)
    if "births_cv" in sectors.columns:
        sd = (sectors["births"] * sectors["births_cv"]) ** 2
        out["births_cv"] = np.sqrt(sd.groupby(sectors["mdrc"]).sum()) / out["births"].where(out["births"] > 0)
    out["birth_rate_permille"] = np.where(
        out["pop_total"] > 0, 1000 * out["births"] / out["pop_total"].where(out["pop_total"] > 0), np.nan
    )
    if "bimd2011_score" in sectors.columns:
        scored = sectors[sectors["bimd2011_score"].notna() & (sectors["pop_total"] > 0)]
        weighted = (scored["bimd2011_score"] * scored["pop_total"]).groupby(scored["mdrc"]).sum()
        residents = scored.groupby("mdrc")["pop_total"].sum()
        out["bimd2011_score"] = weighted / residents
        out["bimd2011_pop_share"] = residents.reindex(out.index).fillna(0) / out["pop_total"].where(
            out["pop_total"] > 0
        )
    ki = sectors.dropna(subset=["kansarmoede_index"])
    if len(ki):
        weighted = (ki["kansarmoede_index"] * ki["pop_0_2"]).groupby(ki["mdrc"]).sum()
        out["kansarmoede_index"] = weighted / ki.groupby("mdrc")["pop_0_2"].sum()
    else:
        out["kansarmoede_index"] = np.nan
    if observed_wijk is not None and len(observed_wijk):
        _apply_observed_wijk(out, observed_wijk)
    by_commune = sectors.groupby(["mdrc", "commune_nis"])["pop_0_2"].sum().reset_index()
    by_commune = by_commune.sort_values(["mdrc", "pop_0_2", "commune_nis"], ascending=[True, False, True])
    out["commune_nis"] = by_commune.drop_duplicates("mdrc").set_index("mdrc")["commune_nis"]
    out["communes"] = g["commune_nis"].agg(lambda s: "|".join(str(v) for v in sorted(set(s))))
    out["lgn"] = out["commune_nis"].map(lgn_of_commune)
    return out


def _apply_observed_wijk(out: pd.DataFrame, observed: pd.DataFrame) -> None:
    """Replace wijk aggregates by observed wijk figures in place (see :func:`wijk_need`)."""
    obs = observed.reindex(out.index)
    complete = pd.Series(True, index=out.index)
    if {"n_sectors", "n_sectors_total"} <= set(obs.columns):
        complete = obs["n_sectors"] == obs["n_sectors_total"]
    for column in ("pop_total", "births", "pop_0_2"):
        if column not in obs.columns:
            continue
        has = obs[column].notna() & complete
        out.loc[has, column] = obs.loc[has, column]
        out.loc[has, f"{column}_status"] = OBSERVED
        if f"{column}_status_mix" in out.columns:
            out.loc[has, f"{column}_status_mix"] = f"{OBSERVED} 100 %"
        if f"{column}_cv" in out.columns:
            out.loc[has, f"{column}_cv"] = 0.0
    if "kansarmoede_index" in obs.columns:
        has = obs["kansarmoede_index"].notna()
        out.loc[has, "kansarmoede_index"] = obs.loc[has, "kansarmoede_index"]
    out["birth_rate_permille"] = 1000 * out["births"] / out["pop_total"].where(out["pop_total"] > 0)


def commune_check(sectors: pd.DataFrame, communes: pd.DataFrame, age_shares: pd.DataFrame) -> pd.DataFrame:
    """Compare the sector figures, summed per commune, with the published commune figures.

    Parameters
    ----------
    sectors
        :func:`sector_need` output.
    communes
        :func:`geoplanner.inputs.figures.load_commune_population` (Statbel, 1 Jan 2020).
    age_shares
        :func:`geoplanner.inputs.figures.load_commune_age_shares` (IBSA, 2021).

    Returns
    -------
    pandas.DataFrame
        One row per commune: commune_nis, residents 2019 (sum of the sectors) and 2020 (Statbel), births and
        pop_0_2 (sums of the sectors) against the 2020 counts of children aged 0 and 0–2, the ratios age 0 /
        0–4 and 0–2 / 0–4 (2020), the 0–4 count of the age file (2022), the reconciliation factors, the
        number of derived and estimated sectors, the derived share of 0–2-year-olds among the 2019 residents
        (%), IBSA's share under 3 in 2021 (%) and their relative gap (``ibsa_gap``, tolerance
        :data:`IBSA_TOLERANCE`).
    """
    communes = communes.set_index("commune_nis")
    ibsa = age_shares.set_index("commune_nis")["share_under3_pct"]
    g = sectors.groupby("commune_nis")
    out = pd.DataFrame(index=communes.index)
    out["pop_total_2019"] = g["pop_total"].sum()
    out["pop_total_2020"] = communes["pop_total"]
    out["births"] = g["births"].sum()
    out["pop_age0_2020"] = communes["pop_age0"]
    out["pop_0_2"] = g["pop_0_2"].sum()
    out["pop_0_2_2020"] = communes["pop_0_2"]
    out["ratio_age0_0_4_2020"] = communes["pop_age0"] / communes["pop_0_4"]
    out["ratio_0_2_0_4_2020"] = communes["pop_0_2"] / communes["pop_0_4"]
    out["pop_0_4_2022"] = g["pop_0_4_2022"].sum()
    for col in ("reconcile_births", "reconcile_pop_0_2"):
        out[col] = g[col].first()
    out["n_derived"] = g["births_status"].agg(lambda s: int((s == DERIVED).sum()))
    out["n_estimated"] = g["births_status"].agg(lambda s: int((s == ESTIMATED).sum()))
    out["share_0_2_pct"] = 100 * out["pop_0_2"] / out["pop_total_2019"]
    out["ibsa_share_under3_pct_2021"] = ibsa
    out["ibsa_gap"] = out["share_0_2_pct"] / out["ibsa_share_under3_pct_2021"] - 1
    return out.reset_index()
