"""A user's own table as strings: CSV (``,`` ``;`` or tab; UTF-8 or Windows-1252), XLSX or a vector file.

The shared reading step of :mod:`~geoplanner.inputs.user_services` and :mod:`~geoplanner.inputs.sector_figures`,
with the helpers both use to map the user's column names and to read the numbers people write.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio

from geoplanner.core import settings
from geoplanner.core.errors import DataError, DataMissingError

__all__ = ["read_user_table", "map_columns", "parse_number", "is_blank"]


def _norm_header(name: object) -> str:
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


# Byte-order marks of the Unicode encodings spreadsheets write ("Unicode text" is UTF-16 LE with its BOM).
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _decode(path: Path) -> tuple[str, str]:
    """Decode a text file: by its byte-order mark (UTF-8, UTF-16 LE/BE), else as UTF-8, else as Windows-1252."""
    raw = path.read_bytes()
    bom = next((enc for mark, enc in _BOMS if raw.startswith(mark)), None)
    for encoding in [bom] if bom else ["utf-8-sig", "cp1252"]:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            raise DataError(
                "cannot read the file as text: it holds NUL bytes (UTF-16 without its byte-order mark?)",
                path=path,
                hint="save it as CSV UTF-8 from your spreadsheet program",
            )
        return text, encoding
    raise DataError(
        f"cannot decode the file as {'UTF-16' if bom == 'utf-16' else 'UTF-8 or Windows-1252'} text",
        path=path,
        hint="save it as CSV UTF-8 from your spreadsheet program",
    )


def read_user_table(path: str | Path, *, sheet: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read a user's table (CSV, XLSX or vector file) as strings.

    Parameters
    ----------
    path
        ``.csv``/``.txt`` (delimiter ``,`` ``;`` or tab, sniffed from the header; UTF-8 with or
        without BOM, UTF-16 with BOM (Excel's "Unicode text"), else Windows-1252; every row must have
        as many fields as the header),
        ``.xlsx`` (the sheet that holds data; several such sheets need ``sheet``), or
        ``.gpkg``/``.geojson``/``.shp`` (point geometry becomes ``lon``/``lat`` columns in WGS84).
    sheet
        Sheet of a workbook to read.

    Returns
    -------
    tuple
        The table (all cells strings, blanks as ``NA``, header stripped) and warnings.

    Raises
    ------
    DataError
        Missing, undecodable or unparsable file; a row whose field count differs from the
        header's; no data rows; several sheets with data and no ``sheet``.
    """
    path = Path(path)
    if not path.exists():
        raise DataMissingError("file not found", path=path)
    warnings: list[str] = []
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        df = _read_text(path, warnings)
    elif suffix in (".xlsx", ".xlsm"):
        df = _read_sheet(path, sheet)
    elif suffix in (".gpkg", ".geojson", ".json", ".shp"):
        df = _read_vector(path, warnings)
    else:
        raise DataError(f"unsupported file type {suffix!r}", path=path, hint="use .csv, .xlsx or .gpkg")
    df.columns = [str(c).strip() for c in df.columns]
    df = df.astype("string").apply(lambda s: s.str.strip())
    df = df.replace({"": pd.NA})
    if not len(df) or df.isna().all(axis=None):
        raise DataError("the file has a header but no data rows", path=path, row=1)
    return df, warnings


def _read_text(path: Path, warnings: list[str]) -> pd.DataFrame:
    """Read a delimited text file; the delimiter is the most frequent of ``,`` ``;`` tab in the header."""
    text, encoding = _decode(path)
    if encoding == "cp1252":
        warnings.append("file is not UTF-8; read as Windows-1252 (check accented names)")
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise DataError("file is empty", path=path)
    header = lines[0]
    sep = max((",", ";", "\t"), key=header.count)
    if header.count(sep) == 0:
        raise DataError(
            f"cannot find the delimiter in the header {header[:80]!r}",
            path=path,
            row=0,
            hint="use comma, semicolon or tab between columns",
        )
    _check_field_counts(text, sep, path)
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, index_col=False)
    except pd.errors.ParserError as exc:
        raise DataError(f"cannot parse as {sep!r}-separated CSV: {exc}", path=path) from None


def _check_field_counts(text: str, sep: str, path: Path) -> None:
    """Refuse rows with more or fewer fields than the header (an unquoted delimiter in a name)."""
    rows = csv.reader(io.StringIO(text), delimiter=sep)
    header = next(rows, [])
    for i, row in enumerate(rows, start=1):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise DataError(
                f"{len(row)} fields where the header has {len(header)}",
                path=path,
                row=i,
                hint=f"a {sep!r} inside a name or address? put such a cell in double quotes",
            )


def _read_sheet(path: Path, sheet: str | None) -> pd.DataFrame:
    """Read one sheet of a workbook; refuse to guess when several sheets hold data."""
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False, header=None)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise DataError(f"cannot read the spreadsheet: {exc}", path=path) from None
    filled = [name for name, frame in sheets.items() if (frame.astype(str).map(str.strip) != "").any(axis=None)]
    if sheet is not None:
        if sheet not in sheets:
            raise DataError(f"no sheet named {sheet!r}", path=path, hint=f"sheets: {', '.join(map(str, sheets))}")
        name = sheet
    elif len(filled) > 1:
        raise DataError(
            f"{len(filled)} sheets hold data ({', '.join(map(str, filled))}); which one to import?",
            path=path,
            hint="give --sheet NAME, or keep one sheet in the file",
        )
    elif filled:
        name = filled[0]
    else:
        raise DataError("the workbook is empty", path=path)
    raw = sheets[name]
    raw = raw[(raw.astype(str).map(str.strip) != "").any(axis=1)]
    if raw.empty:
        raise DataError(f"sheet {name!r} is empty", path=path)
    header = [str(c).strip() for c in raw.iloc[0]]
    return pd.DataFrame(raw.iloc[1:].to_numpy(), columns=header)


def _read_vector(path: Path, warnings: list[str]) -> pd.DataFrame:
    try:
        gdf = pyogrio.read_dataframe(path)
    except Exception as exc:  # pyogrio raises several DataSourceError types
        raise DataError(f"cannot read vector file: {exc}", path=path) from None
    if gdf.crs is None:
        raise DataError("the layer has no CRS", path=path, hint="save it with its CRS (EPSG:31370 or EPSG:4326)")
    geom = gdf.geometry
    if not geom.geom_type.isin(["Point"]).all():
        warnings.append("non-point geometries replaced by a point inside each shape")
        geom = geom.representative_point()
    wgs = geom.to_crs(settings.WGS84)
    df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).astype(str).replace({"None": "", "nan": ""})
    for col in ("lat", "lon", "latitude", "longitude", "x", "y"):
        if col in df.columns:
            df = df.drop(columns=col)
            warnings.append(f"column '{col}' ignored: the layer's geometry gives the coordinates")
    df["lat"] = [f"{p.y:.7f}" if p is not None and not p.is_empty else "" for p in wgs]
    df["lon"] = [f"{p.x:.7f}" if p is not None and not p.is_empty else "" for p in wgs]
    return df


def map_columns(df: pd.DataFrame, aliases: dict[str, tuple[str, ...]], path: Path) -> pd.DataFrame:
    """Rename the user's columns to canonical names using an alias table.

    Parameters
    ----------
    df
        The user's table.
    aliases
        Canonical name -> the names users give it (NL/FR/EN); compared without case, accents or punctuation.
    path
        The user's file, named in errors.

    Returns
    -------
    pandas.DataFrame
        The table with the recognised columns renamed; other columns kept as they are.

    Raises
    ------
    DataError
        When two columns mean the same thing.
    """
    lookup = {_norm_header(a): canon for canon, names in aliases.items() for a in (canon, *names)}
    rename: dict[str, str] = {}
    for col in df.columns:
        canon = lookup.get(_norm_header(col))
        if canon is None:
            continue
        if canon in rename.values():
            raise DataError(f"two columns mean '{canon}'", path=path, column=col)
        rename[col] = canon
    return df.rename(columns=rename)


def parse_number(value: object) -> float | None:
    """Parse a number written with a decimal point or comma; ``None`` if it is not a finite number."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if re.fullmatch(r"-?\d+,\d+", text):
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if np.isfinite(value) else None  # 'nan', 'inf' are not numbers a user meant


def is_blank(value: object) -> bool:
    """Tell whether a cell is empty (None, NA, NaN or "")."""
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) or str(value) == ""
