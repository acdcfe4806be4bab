"""Reading helpers every loader shares: CSV as strings, numbers, unique ids, vector layers in EPSG:31370."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from geoplanner.core import settings
from geoplanner.core.errors import DataError, DataMissingError

__all__ = [
    "MISSING_FLAGS",
    "BRUSSELS_31370",
    "SECTOR_CODE",
    "read_table",
    "numeric_column",
    "check_unique",
    "read_layer",
    "to_working_crs",
]


MISSING_FLAGS = {"", "ND", "VS", "NA", "N/A", "-"}


# Lambert 72 envelope of the region with a margin; anything else means a wrong CRS.
BRUSSELS_31370 = (135_000.0, 155_000.0, 165_000.0, 185_000.0)


SECTOR_CODE = re.compile(r"^21\d{3}[A-Z0-9]{3}[A-Z0-9-]$")


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


def numeric_column(df: pd.DataFrame, column: str, path: Path, *, allow_missing: bool = True) -> pd.Series:
    """Convert a string column to float; missing flags become NaN, anything else non-numeric is an error."""
    raw = df[column].astype("string").str.strip()
    flagged = raw.isna() | raw.str.upper().isin(MISSING_FLAGS)
    values = pd.to_numeric(raw.where(~flagged).str.replace(",", ".", regex=False), errors="coerce")
    bad = values.isna() & ~flagged
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"not a number: {raw.iloc[i]!r}", path=path, row=i + 1, column=column)
    if not allow_missing and flagged.any():
        i = int(np.flatnonzero(flagged.to_numpy())[0])
        raise DataError("value is missing", path=path, row=i + 1, column=column)
    return values.astype(float)


def check_unique(values: pd.Series, path: Path, column: str) -> None:
    """Refuse a duplicated id, naming its first repeat's row."""
    dup = values.duplicated(keep="first")
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError(f"duplicate id {values.iloc[i]!r}", path=path, row=i + 1, column=column)


def read_layer(path: Path, columns: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Read a vector file with the required columns, in EPSG:31370 (see :func:`to_working_crs`)."""
    if not path.exists():
        raise DataMissingError("file not found", path=path)
    try:
        gdf = pyogrio.read_dataframe(path)
    except Exception as exc:  # pyogrio raises several DataSourceError types
        raise DataError(f"cannot read vector file: {exc}", path=path) from None
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise DataError(f"missing column(s) {', '.join(missing)}", path=path, column=missing[0])
    return to_working_crs(gdf, path)


def to_working_crs(gdf: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    """Reproject to EPSG:31370, refusing files without a CRS or whose coordinates don't fit it."""
    if gdf.crs is None:
        raise DataError("the layer has no CRS", path=path, hint="save it with its CRS (EPSG:31370 or EPSG:4326)")
    gdf = gdf.to_crs(settings.CRS)
    xmin, ymin, xmax, ymax = gdf.total_bounds
    bx0, by0, bx1, by1 = BRUSSELS_31370
    if not (bx0 <= xmin and xmax <= bx1 and by0 <= ymin and ymax <= by1):
        raise DataError(
            f"coordinates do not fall in Brussels under the declared CRS {gdf.crs.to_string()}"
            f" (bounds in EPSG:31370: {xmin:.0f}, {ymin:.0f}, {xmax:.0f}, {ymax:.0f})",
            path=path,
            hint="the file's CRS tag is probably wrong",
        )
    return gdf
