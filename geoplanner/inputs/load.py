"""Load and validate every input: sectors, wijken, indicators, population, services, region.

Each loader returns plain (Geo)DataFrames in EPSG:31370 with stable column names, and turns
any defect of the file into a :class:`~geoplanner.core.errors.DataError` that names the file,
the row and the column. Missing values stay missing (never 0).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from shapely.geometry import MultiPolygon, Polygon
from shapely.ops import unary_union

from geoplanner.core import settings
from geoplanner.core.errors import DataError, DataMissingError
from geoplanner.inputs.bundle import dataset_path, get_dataset
from geoplanner.inputs.lgn import COMMUNES, lgn_table

__all__ = [
    "SERVICE_COLUMNS",
    "SERVICE_SETS",
    "ServiceSet",
    "load_sectors",
    "load_crosswalk",
    "load_wijken",
    "load_wijk_indicators",
    "load_commune_population",
    "load_sector_population",
    "load_sector_age_bands",
    "load_sector_bimd",
    "load_commune_age_shares",
    "AGE_BANDS",
    "SECTOR_TOTAL_TOLERANCE",
    "SERVICE_STATUSES",
    "CURRENT_STATUSES",
    "load_region",
    "load_communes",
    "load_services",
    "service_set_names",
    "read_table",
    "lgn_table",
]

#: Columns of a service list (the schema of the bundled CSVs and of imported user sets).
SERVICE_COLUMNS = (
    "id",
    "name",
    "type",
    "operator",
    "language",
    "street",
    "number",
    "postcode",
    "commune",
    "commune_nis",
    "lat",
    "lon",
    "geocode_method",
    "source",
    "source_date",
    "notes",
    "uncertainty_m",  # radius (m) around a geocoded point that holds the true address ~9 times in 10
)

#: Built-in service sets: label, the bundle datasets they draw on and the row types they keep.
#: ``None`` keeps every type but planned ones. Planned rows and prenatal-only consultations are left out on purpose.
SERVICE_SETS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...] | None]] = {
    "kg": ("Consultatiebureaus Kind & Gezin", ("services_kg",), ("kg_consultatiebureau",)),
    "one": (
        "Consultaties ONE",
        ("services_one",),
        ("one_consultation_enfants", "consultation_nourrissons_operator_unspecified", "one_site_unverified"),
    ),
    "hvhk": (
        "Huis van het Kind",
        ("services_hvhk",),
        ("hvhk_physical_location", "hvhk_coordination_office"),
    ),
    "any_cb": (
        "Alle consultatiebureaus (K&G + ONE)",
        ("services_kg", "services_one"),
        (
            "kg_consultatiebureau",
            "one_consultation_enfants",
            "consultation_nourrissons_operator_unspecified",
            "one_site_unverified",
        ),
    ),
    "candidates": ("Kandidaat-locaties (bestaande gezinsvoorzieningen)", ("services_candidates",), None),
    "all_family": (
        "Alle gezinsvoorzieningen",
        ("services_kg", "services_one", "services_hvhk", "services_candidates"),
        None,
    ),
}

#: Values of the optional ``status`` column of a service list. Only :data:`CURRENT_STATUSES` count as current
#: supply by default; the others stay in :attr:`ServiceSet.excluded` with the reason, and the maps show them as such.
SERVICE_STATUSES = ("current", "historical", "unverified", "prenatal_only", "planned")
CURRENT_STATUSES = ("current",)

_SECTOR_CODE = re.compile(r"^21\d{3}[A-Z0-9]{3}[A-Z0-9-]$")
_MISSING_FLAGS = {"", "ND", "VS", "NA", "N/A", "-"}
# Lambert 72 envelope of the region with a margin; anything else means a wrong CRS.
_BRUSSELS_31370 = (135_000.0, 155_000.0, 165_000.0, 185_000.0)
_REGION_TOLERANCE_M = 250.0


def read_table(path: str | Path, *, required: tuple[str, ...] = (), sep: str | None = None) -> pd.DataFrame:
    """Read a CSV as strings, checking it exists and has the required columns.

    Parameters
    ----------
    path
        The CSV file.
    required
        Columns that must be present.
    sep
        Delimiter; ``None`` sniffs ``,`` / ``;`` / tab from the header line.

    Returns
    -------
    pandas.DataFrame
        All cells as strings (missing cells as ``NA``); row numbers in errors are 1-based
        data rows (the header is row 0).
    """
    path = Path(path)
    if not path.exists():
        raise DataMissingError("file not found", path=path)
    try:
        header = path.read_text(encoding="utf-8-sig").splitlines()[0] if path.stat().st_size else ""
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=path) from None
    if not header:
        raise DataError("file is empty", path=path)
    if sep is None:
        sep = max((",", ";", "\t"), key=header.count)
    try:
        df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(f"cannot parse CSV: {exc}", path=path) from None
    df.columns = [c.strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(missing)}; found {', '.join(df.columns)}",
            path=path,
            column=missing[0],
        )
    return df.replace({"": pd.NA})


def _numeric(df: pd.DataFrame, column: str, path: Path, *, allow_missing: bool = True) -> pd.Series:
    """Convert a string column to float; missing flags become NaN, anything else non-numeric is an error."""
    raw = df[column].astype("string").str.strip()
    flagged = raw.isna() | raw.str.upper().isin(_MISSING_FLAGS)
    values = pd.to_numeric(raw.where(~flagged).str.replace(",", ".", regex=False), errors="coerce")
    bad = values.isna() & ~flagged
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"not a number: {raw.iloc[i]!r}", path=path, row=i + 1, column=column)
    if not allow_missing and flagged.any():
        i = int(np.flatnonzero(flagged.to_numpy())[0])
        raise DataError("value is missing", path=path, row=i + 1, column=column)
    return values.astype(float)


def _check_unique(values: pd.Series, path: Path, column: str) -> None:
    dup = values.duplicated(keep="first")
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError(f"duplicate id {values.iloc[i]!r}", path=path, row=i + 1, column=column)


def _read_layer(path: Path, columns: tuple[str, ...]) -> gpd.GeoDataFrame:
    if not path.exists():
        raise DataMissingError("file not found", path=path)
    try:
        gdf = pyogrio.read_dataframe(path)
    except Exception as exc:  # pyogrio raises several DataSourceError types
        raise DataError(f"cannot read vector file: {exc}", path=path) from None
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise DataError(f"missing column(s) {', '.join(missing)}", path=path, column=missing[0])
    return _to_working_crs(gdf, path)


def _to_working_crs(gdf: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    """Reproject to EPSG:31370, refusing files without a CRS or whose coordinates don't fit it."""
    if gdf.crs is None:
        raise DataError("the layer has no CRS", path=path, hint="save it with its CRS (EPSG:31370 or EPSG:4326)")
    gdf = gdf.to_crs(settings.CRS)
    xmin, ymin, xmax, ymax = gdf.total_bounds
    bx0, by0, bx1, by1 = _BRUSSELS_31370
    if not (bx0 <= xmin and xmax <= bx1 and by0 <= ymin and ymax <= by1):
        raise DataError(
            f"coordinates do not fall in Brussels under the declared CRS {gdf.crs.to_string()}"
            f" (bounds in EPSG:31370: {xmin:.0f}, {ymin:.0f}, {xmax:.0f}, {ymax:.0f})",
            path=path,
            hint="the file's CRS tag is probably wrong",
        )
    return gdf


def load_sectors(data_dir: Path | None = None, path: Path | None = None) -> gpd.GeoDataFrame:
    """Load the statistical sectors (Statbel 2022) with their wijk code.

    Parameters
    ----------
    data_dir
        Data folder (default :func:`settings.data_dir`).
    path
        Another sector file with the same columns (overrides the bundle).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:31370; columns cd_sector, sector_name_nl, sector_name_fr, commune_nis,
        commune_name_nl, commune_name_fr, mdrc, area_ha, geometry; sorted by cd_sector.
    """
    path = path or dataset_path("sectors", data_dir)
    cols = ("cd_sector", "tx_sector_descr_nl", "tx_sector_descr_fr", "cd_munty_refnis", "mdrc")
    gdf = _read_layer(path, cols)
    codes = gdf["cd_sector"].astype("string").str.strip()
    bad = ~codes.fillna("").str.match(_SECTOR_CODE)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"not a Brussels sector code: {codes.iloc[i]!r}", path=path, row=i + 1, column="cd_sector")
    _check_unique(codes, path, "cd_sector")
    nis = _numeric(gdf, "cd_munty_refnis", path, allow_missing=False).astype(int)
    wrong = ~nis.isin(list(COMMUNES)) | (codes.str[:5].astype(int) != nis)
    if wrong.any():
        i = int(np.flatnonzero(wrong.to_numpy())[0])
        raise DataError(
            f"commune {nis.iloc[i]} does not match sector {codes.iloc[i]}",
            path=path,
            row=i + 1,
            column="cd_munty_refnis",
        )
    mdrc = _numeric(gdf, "mdrc", path, allow_missing=False).astype(int)
    out = gpd.GeoDataFrame(
        {
            "cd_sector": codes.astype(str),
            "sector_name_nl": gdf["tx_sector_descr_nl"].astype(str),
            "sector_name_fr": gdf["tx_sector_descr_fr"].astype(str),
            "commune_nis": nis,
            "commune_name_nl": nis.map(lambda n: COMMUNES[n][0]),
            "commune_name_fr": nis.map(lambda n: COMMUNES[n][1]),
            "mdrc": mdrc,
        },
        geometry=gdf.geometry.values,
        crs=settings.CRS,
    )
    out["area_ha"] = out.geometry.area / 1e4
    return out.sort_values("cd_sector", ignore_index=True)


def load_crosswalk(data_dir: Path | None = None, *, vintage: int = 2022) -> pd.DataFrame:
    """Load the IBSA crosswalk sector -> wijk.

    Parameters
    ----------
    data_dir
        Data folder.
    vintage
        2022 (the codes of the sector geometry) or 2025 (Statbel's revised codes).

    Returns
    -------
    pandas.DataFrame
        cd_sector, commune_nis, mdrc.
    """
    if vintage == 2022:
        path = dataset_path("sector_crosswalk", data_dir)
        df = read_table(path, required=("cd_sector", "commune_nis", "mdrc"))
        code_col, nis_col, md_col = "cd_sector", "commune_nis", "mdrc"
    elif vintage == 2025:
        path = dataset_path("sector_crosswalk_2025", data_dir)
        df = read_table(path, required=("secteurstatistique_code", "quartier_code", "commune_code"), sep=";")
        code_col, nis_col, md_col = "secteurstatistique_code", "commune_code", "quartier_code"
    else:
        raise ValueError("vintage must be 2022 or 2025")
    codes = df[code_col].astype("string").str.strip().str.strip('"')
    bad = ~codes.fillna("").str.match(_SECTOR_CODE)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"not a Brussels sector code: {codes.iloc[i]!r}", path=path, row=i + 1, column=code_col)
    _check_unique(codes, path, code_col)
    return pd.DataFrame(
        {
            "cd_sector": codes.astype(str),
            "commune_nis": _numeric(df, nis_col, path, allow_missing=False).astype(int),
            "mdrc": _numeric(df, md_col, path, allow_missing=False).astype(int),
        }
    )


def _district_type(code: int) -> str:
    if 1 <= code <= 118:
        return "residential"
    if 700 <= code < 800:
        return "cemetery"
    if 800 <= code < 900:
        return "industrial"
    if 900 <= code < 1000:
        return "park"
    return "unknown"


def load_wijken(data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Load the 145 monitoring districts (wijken).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:31370; mdrc, name_nl, name_fr, district_type ('residential' for codes 1-118,
        'cemetery', 'industrial', 'park'), geometry; sorted by mdrc.
    """
    path = dataset_path("wijken", data_dir)
    gdf = _read_layer(path, ("MDRC", "NAME_FRE", "NAME_DUT"))
    mdrc = _numeric(gdf, "MDRC", path, allow_missing=False).astype(int)
    _check_unique(mdrc, path, "MDRC")
    types = mdrc.map(_district_type)
    if (types == "unknown").any():
        i = int(np.flatnonzero((types == "unknown").to_numpy())[0])
        raise DataError(f"unknown wijk code {mdrc.iloc[i]}", path=path, row=i + 1, column="MDRC")
    out = gpd.GeoDataFrame(
        {
            "mdrc": mdrc,
            "name_nl": gdf["NAME_DUT"].astype(str).str.strip(),
            "name_fr": gdf["NAME_FRE"].astype(str).str.strip(),
            "district_type": types,
        },
        geometry=gdf.geometry.values,
        crs=settings.CRS,
    )
    return out.sort_values("mdrc", ignore_index=True)


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
    out = pd.DataFrame({"mdrc": _numeric(df, "md_code", path, allow_missing=False).astype(int)})
    _check_unique(out["mdrc"], path, "md_code")
    out["name_fr"] = df["name_fr"]
    out["name_nl"] = df["name_nl"]
    for col in INDICATOR_COLUMNS:
        out[col] = _numeric(df, col, path)
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
    nis = _numeric(df, "commune_nis", path, allow_missing=False).astype(int)
    unknown = ~nis.isin(list(COMMUNES))
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataError(f"not a Brussels commune: {nis.iloc[i]}", path=path, row=i + 1, column="commune_nis")
    age = _numeric(df, "age", path, allow_missing=False)
    pop = _numeric(df, "population", path, allow_missing=False)
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
    bad = ~codes.fillna("").str.match(_SECTOR_CODE)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"not a Brussels sector code: {codes.iloc[i]!r}", path=path, row=i + 1, column=code_col)
    _check_unique(codes, path, code_col)
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
    nis = _numeric(df, nis_col, path, allow_missing=False).astype(int)
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
    values = _numeric(df, column, path, allow_missing=False)
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
    score = _numeric(df, "bimd2011_score", path, allow_missing=False)
    bad = (score < 0) | (score > 100)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"score {score.iloc[i]} outside 0-100", path=path, row=i + 1, column="bimd2011_score")
    decile = _numeric(df, "bimd2011_decile", path, allow_missing=False)
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
    nis = _numeric(df, "commune_nis", path, allow_missing=False).astype(int)
    unknown = ~nis.isin(list(COMMUNES))
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataError(f"not a Brussels commune: {nis.iloc[i]}", path=path, row=i + 1, column="commune_nis")
    _check_unique(nis, path, "commune_nis")
    missing = sorted(set(COMMUNES) - set(nis))
    if missing:
        raise DataError(f"communes missing: {missing}", path=path, column="commune_nis")
    out = pd.DataFrame({"commune_nis": nis})
    for col in [c for c in df.columns if c.startswith("share_")]:
        out[col] = _numeric(df, col, path)
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


def load_region(data_dir: Path | None = None) -> Polygon | MultiPolygon:
    """Load the outline of the Brussels-Capital Region (Osmosis ``.poly``) in EPSG:31370."""
    path = dataset_path("region_boundary", data_dir)
    outers: list[Polygon] = []
    holes: list[Polygon] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    ring: list[tuple[float, float]] | None = None
    is_hole = False
    for lineno, line in enumerate(lines[1:], start=2):
        text = line.strip()
        if not text:
            continue
        if ring is None:
            if text == "END":
                break
            ring, is_hole = [], text.startswith("!")
            continue
        if text == "END":
            if len(ring) < 3:
                raise DataError("ring with fewer than 3 points", path=path, row=lineno)
            (holes if is_hole else outers).append(Polygon(ring))
            ring = None
            continue
        try:
            lon, lat = (float(v) for v in text.split()[:2])
        except ValueError:
            raise DataError(f"not a coordinate pair: {text!r}", path=path, row=lineno) from None
        ring.append((lon, lat))
    if not outers:
        raise DataError("no polygon in .poly file", path=path)
    shape = unary_union(outers).difference(unary_union(holes)) if holes else unary_union(outers)
    return gpd.GeoSeries([shape], crs=settings.WGS84).to_crs(settings.CRS).iloc[0]


def load_communes(data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Return the 19 communes (dissolved from the sectors) with their LGN.

    Returns
    -------
    geopandas.GeoDataFrame
        commune_nis, commune_name_nl, commune_name_fr, lgn, lgn_name, geometry (EPSG:31370).
    """
    sectors = load_sectors(data_dir)
    dissolved = sectors[["commune_nis", "geometry"]].dissolve(by="commune_nis").reset_index()
    return gpd.GeoDataFrame(dissolved.merge(lgn_table(), on="commune_nis"), crs=settings.CRS)


@dataclass(frozen=True)
class ServiceSet:
    """A named set of service locations, with what is known of its completeness."""

    name: str
    label: str
    points: gpd.GeoDataFrame
    unlocated: pd.DataFrame
    excluded: pd.DataFrame
    expected_count: int | None
    sources: list[Path] = field(default_factory=list)

    @property
    def incomplete(self) -> bool:
        """True when the set is known to hold fewer locations than exist, or has unplaced rows."""
        known = len(self.points)
        return (self.expected_count is not None and known < self.expected_count) or len(self.unlocated) > 0

    @property
    def completeness_note(self) -> str:
        """One Dutch line on completeness, for outputs and maps."""
        parts = [f"{self.label}: {len(self.points)} locaties op de kaart"]
        if self.expected_count is not None:
            parts.append(f"van ~{self.expected_count} die bestaan")
        if len(self.unlocated):
            parts.append(f"{len(self.unlocated)} zonder coördinaten")
        if "status" in self.excluded.columns and self.excluded["status"].notna().any():
            stale = self.excluded["status"].dropna().astype(str)
            counts = ", ".join(f"{n} {s}" for s, n in stale.value_counts().sort_index().items())
            parts.append(f"{len(stale)} niet als huidig aanbod geteld ({counts})")
        note = ", ".join(parts)
        return note + (" — ONVOLLEDIGE LAAG" if self.incomplete else "")


def _approximate(method: pd.Series) -> pd.Series:
    text = method.fillna("").str.lower()
    return text.str.contains("low precision|street|site match|mean of|interpolat|unverified", regex=True)


def _read_services(path: Path, layer: str, region: Polygon | MultiPolygon) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read one service CSV; return (located rows with x/y, rows without coordinates)."""
    df = read_table(path, required=("id", "name", "type", "lat", "lon"))
    for col in SERVICE_COLUMNS:
        if col not in df.columns:
            df[col] = pd.NA
    df["id"] = df["id"].astype("string").str.strip()
    if df["id"].isna().any():
        i = int(np.flatnonzero(df["id"].isna().to_numpy())[0])
        raise DataError("empty id", path=path, row=i + 1, column="id")
    _check_unique(df["id"], path, "id")
    lat = _numeric(df, "lat", path)
    lon = _numeric(df, "lon", path)
    df["uncertainty_m"] = _numeric(df, "uncertainty_m", path)
    half = lat.isna() != lon.isna()
    if half.any():
        i = int(np.flatnonzero(half.to_numpy())[0])
        raise DataError(
            "only one of lat/lon is given",
            path=path,
            row=i + 1,
            column="lat" if lat.isna().iloc[i] else "lon",
        )
    has_xy = lat.notna()
    status = pd.Series(pd.NA, index=df.index, dtype="string")
    if "status" in df.columns:  # e.g. the ONE list v2: current / historical / unverified / prenatal_only
        status = df["status"].astype("string").str.strip().str.lower()
        bad = status.isna() | ~status.isin(SERVICE_STATUSES)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"unknown status {df['status'].iloc[i]!r}" if pd.notna(status.iloc[i]) else "empty status",
                path=path,
                row=i + 1,
                column="status",
                hint=f"one of {', '.join(SERVICE_STATUSES)}",
            )
    df = df[list(SERVICE_COLUMNS)].copy()
    df["status"] = status
    df["layer"] = layer
    df["lat"], df["lon"] = lat, lon
    df["x"], df["y"] = np.nan, np.nan  # present even when no row has coordinates
    located = df[has_xy].copy()
    if len(located):
        pts = gpd.GeoSeries(gpd.points_from_xy(located["lon"], located["lat"]), crs=settings.WGS84).to_crs(settings.CRS)
        inside = pts.distance(region).to_numpy() <= _REGION_TOLERANCE_M
        if not inside.all():
            i = int(np.flatnonzero(~inside)[0])
            row = int(np.flatnonzero(has_xy.to_numpy())[i]) + 1
            swapped = 50.0 < located["lon"].iloc[i] < 51.5 and 4.0 < located["lat"].iloc[i] < 4.6
            raise DataError(
                f"point ({located['lat'].iloc[i]}, {located['lon'].iloc[i]}) lies outside the Brussels region",
                path=path,
                row=row,
                column="lat",
                hint="lat and lon look swapped" if swapped else "coordinates must be WGS84 lat/lon",
            )
        located["x"], located["y"] = pts.x.to_numpy(), pts.y.to_numpy()
    unlocated = df[~has_xy].drop(columns=["x", "y"])
    unlocated["reason"] = unlocated["geocode_method"].fillna("no coordinates")
    return located, unlocated


def _exclusion(rows: pd.DataFrame, types: tuple[str, ...] | None, statuses: tuple[str, ...]) -> pd.Series:
    """Why each row is not current supply ('' if it is): planned, a type outside the set, or its status."""
    kind = rows["type"].fillna("").astype(str)
    status = rows["status"].astype("string")
    reason = pd.Series("", index=rows.index, dtype=object)
    if types is not None:
        reason[~kind.isin(types)] = "type " + kind[~kind.isin(types)] + " hoort niet bij deze set"
    planned = kind.str.contains("planned") | (status == "planned").fillna(False)
    reason[planned & (reason == "")] = "gepland, nog niet open"
    off = status.notna() & ~status.isin(statuses).fillna(False) & (reason == "")
    reason[off] = "status: " + status[off].astype(str)
    return reason


def service_set_names(data_dir: Path | None = None) -> list[str]:
    """Return the built-in set names followed by the user sets in ``data/services/user/``."""
    user_dir = (data_dir or settings.data_dir()) / "services" / "user"
    user = sorted(p.stem for p in user_dir.glob("*.csv")) if user_dir.is_dir() else []
    return list(SERVICE_SETS) + [u for u in user if u not in SERVICE_SETS]


#: Service sets already read in this process, by (name, data folder, statuses, file stamps).
_SERVICES_READ: dict[tuple, ServiceSet] = {}


def _services_stamp(data_dir: Path) -> tuple:
    """Return size, modification time and inode of every file a service set can read (and the region)."""
    folder = data_dir / "services"
    files = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
    files.append(get_dataset("region_boundary").local_path(data_dir))
    stamp = []
    for f in files:
        try:
            st = f.stat()
        except OSError:
            continue
        stamp.append((str(f), st.st_size, st.st_mtime_ns, st.st_ino))
    return tuple(stamp)


def load_services(
    name: str, data_dir: Path | None = None, *, statuses: tuple[str, ...] = CURRENT_STATUSES
) -> ServiceSet:
    """Load a service set by name.

    A set is read once per process and returned again (as a copy) until one of the service
    files or the region outline changes (size, modification time or inode): the main job asks
    for the same sets many times (validation, coverage, every scenario, every map).

    Parameters
    ----------
    name
        A built-in set (see :data:`SERVICE_SETS`: 'kg', 'one', 'hvhk', 'any_cb',
        'candidates', 'all_family') or a user set stored as ``data/services/user/NAME.csv``.
    data_dir
        Data folder.
    statuses
        For lists with a ``status`` column (the ONE list): the statuses that count as supply
        (default only ``current``). Rows of lists without the column all count.

    Returns
    -------
    ServiceSet
        Located points (EPSG:31370, with ``approximate``, ``layer`` and ``status``), rows without
        coordinates (with a ``reason``), rows left out on purpose (planned, prenatal, or a status
        that is not current, e.g. historical or unverified ONE rows; with ``excluded_reason``), and
        the expected real count where public sources give it.
    """
    root = Path(data_dir or settings.data_dir())
    key = (name, str(root.resolve()), tuple(statuses), _services_stamp(root))
    found = _SERVICES_READ.get(key)
    if found is None:
        found = _load_services(name, data_dir, statuses=statuses)
        if len(_SERVICES_READ) >= 64:
            _SERVICES_READ.clear()
        _SERVICES_READ[key] = found
    # callers may change what they get: hand out copies
    return dataclasses.replace(
        found,
        points=found.points.copy(),
        unlocated=found.unlocated.copy(),
        excluded=found.excluded.copy(),
        sources=list(found.sources),
    )


def _load_services(name: str, data_dir: Path | None, *, statuses: tuple[str, ...]) -> ServiceSet:
    unknown = sorted(set(statuses) - set(SERVICE_STATUSES))
    if unknown:
        raise DataError(f"unknown service status {unknown[0]!r}", hint=f"one of {', '.join(SERVICE_STATUSES)}")
    region = load_region(data_dir)
    data_dir = data_dir or settings.data_dir()
    user_file = data_dir / "services" / "user" / f"{name}.csv"
    if name in SERVICE_SETS:
        label, keys, types = SERVICE_SETS[name]
        sources = [(dataset_path(k, data_dir), k.removeprefix("services_")) for k in keys]
        expected: int | None = 0
        for k in keys:
            ds = get_dataset(k)
            expected = None if expected is None or ds.expected_count is None else expected + ds.expected_count
    elif user_file.exists():
        label, types, expected = name, None, None
        sources = [(user_file, name)]
    else:
        raise DataError(
            f"unknown service set '{name}'",
            hint=f"known: {', '.join(service_set_names(data_dir))}; import one with `geoplanner services import`",
        )
    located_parts, unlocated_parts, excluded_parts = [], [], []
    for path, layer in sources:
        located, unlocated = _read_services(path, layer, region)
        reason_l, reason_u = _exclusion(located, types, statuses), _exclusion(unlocated, types, statuses)
        keep_l, keep_u = reason_l == "", reason_u == ""
        excluded_parts += [
            located[~keep_l].assign(excluded_reason=reason_l[~keep_l]),
            unlocated[~keep_u].assign(excluded_reason=reason_u[~keep_u]),
        ]
        located, unlocated = located[keep_l], unlocated[keep_u]
        located_parts.append(located)
        unlocated_parts.append(unlocated)
    located = pd.concat(located_parts, ignore_index=True)
    dup = located["id"].duplicated()
    if dup.any():
        raise DataError(f"service id {located['id'][dup].iloc[0]!r} occurs in two files of set '{name}'")
    points = gpd.GeoDataFrame(
        located.drop(columns=["x", "y"]),
        geometry=gpd.points_from_xy(located["x"], located["y"]),
        crs=settings.CRS,
    )
    points["approximate"] = _approximate(points["geocode_method"])
    excluded = (
        pd.concat(excluded_parts, ignore_index=True)
        if excluded_parts
        else pd.DataFrame(columns=[*SERVICE_COLUMNS, "status", "excluded_reason"])
    )
    return ServiceSet(
        name=name,
        label=label,
        points=points.sort_values("id", ignore_index=True),
        unlocated=pd.concat(unlocated_parts, ignore_index=True),
        excluded=excluded.drop(columns=["x", "y"], errors="ignore"),
        expected_count=expected,
        sources=[p for p, _ in sources],
    )
