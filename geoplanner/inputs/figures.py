"""Population and indicator tables: per commune, per sector (residents, age bands, BIMD) and per wijk.

Each loader checks codes against the 2022 sectors and sums against the Statbel commune totals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geoplanner.core.errors import DataError
from geoplanner.inputs.areas import load_crosswalk
from geoplanner.inputs.bundle import dataset_path
from geoplanner.inputs.lgn import COMMUNES
from geoplanner.inputs.tables import SECTOR_CODE, check_unique, numeric_column, read_table

__all__ = [
    "INDICATOR_COLUMNS",
    "load_wijk_indicators",
    "load_commune_population",
    "SECTOR_TOTAL_TOLERANCE",
    "AGE_BANDS",
    "load_sector_population",
    "load_sector_age_bands",
    "load_sector_bimd",
    "load_commune_age_shares",
]


#: Numeric columns of the wijk indicator table that the tool reads.
INDICATOR_COLUMNS = (
    "unemployment_rate_pct_2023",
    "cpas_ris_beneficiaries_share_pct_2023",
    "bim_beneficiaries_share_pct_2024",
    "median_equivalised_income_after_tax_eur_2023",
    "share_pop_65plus_pct_2025",
)


def load_wijk_indicators(data_dir: Path | None = None, path: Path | None = None) -> pd.DataFrame:
    """Load the wijk deprivation indicators.

    ``ND``/``VS`` flags and blanks become missing (NaN), never 0; any other non-numeric value
    is an error naming its row and column.

    Returns
    -------
    pandas.DataFrame
        mdrc, name_fr, name_nl and the numeric :data:`INDICATOR_COLUMNS`.
    """
    path = path or dataset_path("wijk_indicators", data_dir)
    df = read_table(path, required=("md_code", "name_fr", "name_nl", *INDICATOR_COLUMNS))
    out = pd.DataFrame({"mdrc": numeric_column(df, "md_code", path, allow_missing=False).astype(int)})
    check_unique(out["mdrc"], path, "md_code")
    out["name_fr"] = df["name_fr"]
    out["name_nl"] = df["name_nl"]
    for col in INDICATOR_COLUMNS:
        out[col] = numeric_column(df, col, path)
        negative = out[col] < 0
        if negative.any():
            i = int(np.flatnonzero(negative.to_numpy())[0])
            raise DataError(f"negative value {out[col].iloc[i]}", path=path, row=i + 1, column=col)
    return out


def load_commune_population(data_dir: Path | None = None) -> pd.DataFrame:
    """Load the population by single year of age per commune (1 Jan 2020).

    Returns
    -------
    pandas.DataFrame
        One row per commune: commune_nis, pop_total, pop_age0, pop_0_2, pop_0_4, ref_date.
    """
    path = dataset_path("pop_age_commune", data_dir)
    df = read_table(path, required=("commune_nis", "age", "population", "ref_date"))
    nis = numeric_column(df, "commune_nis", path, allow_missing=False).astype(int)
    unknown = ~nis.isin(list(COMMUNES))
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataError(f"not a Brussels commune: {nis.iloc[i]}", path=path, row=i + 1, column="commune_nis")
    age = numeric_column(df, "age", path, allow_missing=False)
    pop = numeric_column(df, "population", path, allow_missing=False)
    if (pop < 0).any():
        i = int(np.flatnonzero((pop < 0).to_numpy())[0])
        raise DataError(f"negative population {pop.iloc[i]}", path=path, row=i + 1, column="population")
    long = pd.DataFrame({"commune_nis": nis, "age": age, "population": pop})
    if long.duplicated(["commune_nis", "age"]).any():
        i = int(np.flatnonzero(long.duplicated(["commune_nis", "age"]).to_numpy())[0])
        raise DataError("duplicate commune/age row", path=path, row=i + 1, column="age")
    grouped = long.groupby("commune_nis")
    out = pd.DataFrame(
        {
            "pop_total": grouped["population"].sum(),
            "pop_age0": long[long["age"] == 0].groupby("commune_nis")["population"].sum(),
            "pop_0_2": long[long["age"] <= 2].groupby("commune_nis")["population"].sum(),
            "pop_0_4": long[long["age"] <= 4].groupby("commune_nis")["population"].sum(),
        }
    ).fillna(0.0)
    missing = sorted(set(COMMUNES) - set(out.index))
    if missing:
        raise DataError(f"communes missing: {missing}", path=path, column="commune_nis")
    out["ref_date"] = str(df["ref_date"].dropna().iloc[0])
    return out.reset_index()


#: Largest relative gap allowed between a commune's sum of sector residents (2019 or 2022) and its
#: Statbel total of 1 Jan 2020. Basis: the population changes by about 1 % a year (the files are one to two
#: years from 2020) and the sector files leave out residents without a known sector (0.25 % in 2019); the
#: real gaps are -2.3 % to +1.5 %. A bigger gap means a wrong or truncated file.
SECTOR_TOTAL_TOLERANCE = 0.05


#: The 5-year bands of the sector age file, in order (the last is open-ended).
AGE_BANDS = (
    "pop_0_4",
    "pop_5_9",
    "pop_10_14",
    "pop_15_19",
    "pop_20_24",
    "pop_25_29",
    "pop_30_34",
    "pop_35_39",
    "pop_40_44",
    "pop_45_49",
    "pop_50_54",
    "pop_55_59",
    "pop_60_64",
    "pop_65_69",
    "pop_70_74",
    "pop_75_79",
    "pop_80_84",
    "pop_85_plus",
)


def _sector_keyed(
    df: pd.DataFrame, path: Path, known: pd.DataFrame, *, code_col: str = "cd_sector", nis_col: str = "commune_nis"
) -> pd.DataFrame:
    """Validate the sector code and commune columns of a per-sector table against the 2022 crosswalk.

    Returns the codes (str) and commune NIS codes (int) as a DataFrame aligned with ``df``. Every code must be
    a Brussels 2022 sector code, unique, and lie in the commune given on its row.
    """
    codes = df[code_col].astype("string").str.strip()
    bad = ~codes.fillna("").str.match(SECTOR_CODE)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"not a Brussels sector code: {codes.iloc[i]!r}", path=path, row=i + 1, column=code_col)
    check_unique(codes, path, code_col)
    unknown = ~codes.isin(known["cd_sector"])
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataError(
            f"sector {codes.iloc[i]} is not a 2022 Statbel sector",
            path=path,
            row=i + 1,
            column=code_col,
            hint="the tool uses the 2022 sector codes",
        )
    nis = numeric_column(df, nis_col, path, allow_missing=False).astype(int)
    wrong = codes.map(known.set_index("cd_sector")["commune_nis"]).astype(int) != nis
    if wrong.any():
        i = int(np.flatnonzero(wrong.to_numpy())[0])
        raise DataError(
            f"sector {codes.iloc[i]} lies in commune {codes.iloc[i][:5]}, not {nis.iloc[i]}",
            path=path,
            row=i + 1,
            column=nis_col,
        )
    return pd.DataFrame({"cd_sector": codes.astype(str).to_numpy(), "commune_nis": nis.to_numpy()}, index=df.index)


def _counts(df: pd.DataFrame, column: str, path: Path) -> pd.Series:
    """Return a column of head counts: present, whole and not negative."""
    values = numeric_column(df, column, path, allow_missing=False)
    bad = (values < 0) | (values != values.round())
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"not a head count: {values.iloc[i]}", path=path, row=i + 1, column=column)
    return values


def _check_commune_sums(sums: pd.Series, path: Path, column: str, data_dir: Path | None, what: str) -> None:
    """Compare per-commune sums with the Statbel 2020 commune totals (see :data:`SECTOR_TOTAL_TOLERANCE`)."""
    ref = load_commune_population(data_dir).set_index("commune_nis")["pop_total"]
    gap = sums.reindex(ref.index).fillna(0.0) / ref - 1
    worst = gap.abs().idxmax()
    if abs(gap[worst]) > SECTOR_TOTAL_TOLERANCE:
        raise DataError(
            f"{what} of commune {worst} sum to {sums.get(worst, 0):.0f}, {gap[worst]:+.1%} from the Statbel "
            f"total of 1/1/2020 ({ref[worst]:.0f}; tolerance ±{SECTOR_TOTAL_TOLERANCE:.0%})",
            path=path,
            column=column,
            hint="a truncated file or one from another region or year",
        )


def load_sector_population(data_dir: Path | None = None, path: Path | None = None) -> pd.DataFrame:
    """Load the residents per statistical sector on 1 January 2019 (Statbel, 2022 sector codes).

    Every sector of the 2022 crosswalk must be present once; counts are whole and not negative; each
    commune's sum must lie within :data:`SECTOR_TOTAL_TOLERANCE` of its Statbel 2020 total.

    Returns
    -------
    pandas.DataFrame
        724 rows sorted by cd_sector: cd_sector, commune_nis, pop_total (residents, float).
    """
    path = path or dataset_path("sector_population", data_dir)
    df = read_table(path, required=("cd_sector", "commune_nis", "pop_total_2019"))
    known = load_crosswalk(data_dir)
    out = _sector_keyed(df, path, known)
    out["pop_total"] = _counts(df, "pop_total_2019", path)
    missing = sorted(set(known["cd_sector"]) - set(out["cd_sector"]))
    if missing:
        raise DataError(
            f"{len(missing)} sector(s) missing, e.g. {missing[0]}",
            path=path,
            column="cd_sector",
            hint="the file must list every 2022 sector (0 for an empty one)",
        )
    _check_commune_sums(out.groupby("commune_nis")["pop_total"].sum(), path, "pop_total_2019", data_dir, "residents")
    return out.sort_values("cd_sector", ignore_index=True)


def load_sector_age_bands(data_dir: Path | None = None, path: Path | None = None) -> pd.DataFrame:
    """Load the residents per sector in 5-year age bands (probably 1 January 2022).

    The file holds 675 of the 724 sectors. The absent ones are *listed*, not dropped: the result has one row
    per 2022 sector, and ``in_age_file`` is False (bands NaN) for the sectors the file does not hold.
    Checked: codes, whole non-negative counts, the bands adding up to ``pop_total`` on every row, and each
    commune's total within :data:`SECTOR_TOTAL_TOLERANCE` of its Statbel 2020 total.

    Returns
    -------
    pandas.DataFrame
        724 rows sorted by cd_sector: cd_sector, commune_nis, in_age_file, the :data:`AGE_BANDS`, pop_total.
    """
    path = path or dataset_path("sector_age_bands", data_dir)
    df = read_table(path, required=("cd_sector", "commune_nis", *AGE_BANDS, "pop_total"))
    known = load_crosswalk(data_dir)
    keys = _sector_keyed(df, path, known)
    bands = pd.DataFrame({c: _counts(df, c, path) for c in (*AGE_BANDS, "pop_total")})
    off = (bands[list(AGE_BANDS)].sum(axis=1) - bands["pop_total"]).abs() > 0.5
    if off.any():
        i = int(np.flatnonzero(off.to_numpy())[0])
        raise DataError(
            f"age bands sum to {bands.loc[bands.index[i], list(AGE_BANDS)].sum():.0f}, "
            f"pop_total is {bands['pop_total'].iloc[i]:.0f}",
            path=path,
            row=i + 1,
            column="pop_total",
        )
    present = pd.concat([keys, bands], axis=1)
    _check_commune_sums(present.groupby("commune_nis")["pop_total"].sum(), path, "pop_total", data_dir, "residents")
    present["in_age_file"] = True
    absent = known[~known["cd_sector"].isin(present["cd_sector"])][["cd_sector", "commune_nis"]]
    out = pd.concat([present, absent.assign(in_age_file=False)], ignore_index=True)
    out["in_age_file"] = out["in_age_file"].astype(bool)
    cols = ["cd_sector", "commune_nis", "in_age_file", *AGE_BANDS, "pop_total"]
    return out[cols].sort_values("cd_sector", ignore_index=True)


def load_sector_bimd(data_dir: Path | None = None, path: Path | None = None) -> pd.DataFrame:
    """Load the BIMD 2011 multiple-deprivation score and decile per sector (higher score = more deprived).

    Checked: codes, scores between 0 and 100, deciles 1–10 that order the scores (decile 1 holds the highest
    scores, as the source defines it).

    Returns
    -------
    pandas.DataFrame
        One row per sector in the file (675), sorted by cd_sector: cd_sector, commune_nis, bimd2011_score,
        bimd2011_decile (int).
    """
    path = path or dataset_path("sector_bimd", data_dir)
    df = read_table(path, required=("cd_sector", "commune_nis", "bimd2011_score", "bimd2011_decile"))
    out = _sector_keyed(df, path, load_crosswalk(data_dir))
    score = numeric_column(df, "bimd2011_score", path, allow_missing=False)
    bad = (score < 0) | (score > 100)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"score {score.iloc[i]} outside 0-100", path=path, row=i + 1, column="bimd2011_score")
    decile = numeric_column(df, "bimd2011_decile", path, allow_missing=False)
    bad = ~decile.isin(range(1, 11))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"decile {decile.iloc[i]} not in 1-10", path=path, row=i + 1, column="bimd2011_decile")
    out["bimd2011_score"], out["bimd2011_decile"] = score, decile.astype(int)
    lo = out.groupby("bimd2011_decile")["bimd2011_score"].min()
    hi = out.groupby("bimd2011_decile")["bimd2011_score"].max()
    crossed = [d for d in lo.index if d + 1 in hi.index and hi[d + 1] > lo[d]]
    if crossed:
        d = crossed[0]
        raise DataError(
            f"decile {d + 1} holds a higher score ({hi[d + 1]}) than decile {d} ({lo[d]})",
            path=path,
            column="bimd2011_decile",
            hint="decile 1 must be the most deprived (highest scores)",
        )
    return out.sort_values("cd_sector", ignore_index=True)


#: Mutually exclusive age groups of the IBSA commune table; their shares add up to 100 %.
_IBSA_EXCLUSIVE = (
    "share_under3_pct",
    "share_3_5_pct",
    "share_6_11_pct",
    "share_12_17_pct",
    "share_18_29_pct",
    "share_30_44_pct",
    "share_45_64_pct",
    "share_65plus_pct",
)


def load_commune_age_shares(data_dir: Path | None = None, path: Path | None = None) -> pd.DataFrame:
    """Load IBSA's share of each age group per commune in 2021 (incl. the share under 3).

    Checked: the 19 communes once each, shares in 0–100, the exclusive groups adding up to 100 % (± 0.1,
    the rounding of the source).

    Returns
    -------
    pandas.DataFrame
        19 rows: commune_nis and the ``share_*_pct`` columns (percent of all residents).
    """
    path = path or dataset_path("commune_age_shares", data_dir)
    df = read_table(path, required=("commune_nis", *_IBSA_EXCLUSIVE))
    nis = numeric_column(df, "commune_nis", path, allow_missing=False).astype(int)
    unknown = ~nis.isin(list(COMMUNES))
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataError(f"not a Brussels commune: {nis.iloc[i]}", path=path, row=i + 1, column="commune_nis")
    check_unique(nis, path, "commune_nis")
    missing = sorted(set(COMMUNES) - set(nis))
    if missing:
        raise DataError(f"communes missing: {missing}", path=path, column="commune_nis")
    out = pd.DataFrame({"commune_nis": nis})
    for col in [c for c in df.columns if c.startswith("share_")]:
        out[col] = numeric_column(df, col, path)
        bad = (out[col] < 0) | (out[col] > 100)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"share {out[col].iloc[i]} outside 0-100", path=path, row=i + 1, column=col)
    total = out[list(_IBSA_EXCLUSIVE)].sum(axis=1)
    off = (total - 100).abs() > 0.1
    if off.any():
        i = int(np.flatnonzero(off.to_numpy())[0])
        raise DataError(f"age groups sum to {total.iloc[i]:.2f} %, not 100", path=path, row=i + 1)
    return out.sort_values("commune_nis", ignore_index=True)
