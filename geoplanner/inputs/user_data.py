"""Bring your own data: users' service lists and sector figures, validated and stored.

The public lists of consultation bureaus are far from complete and births below commune
level are only estimated; the organisations that run the services hold the real lists and
counts. This module takes them in:

- :func:`import_services` reads a CSV (``,`` ``;`` or tab; UTF-8 or Windows-1252), an XLSX or
  a vector file (GPKG, GeoJSON) of services with coordinates (WGS84 lat/lon, or x/y in
  Lambert 72 or Lambert 2008) and/or addresses, geocodes the addresses offline
  (:mod:`geoplanner.geocode`), and stores the set as ``data/services/user/<NAME>.csv`` in the
  :data:`~geoplanner.inputs.services.SERVICE_COLUMNS` schema, so ``load_services(NAME)`` reads it; a
  geocoded row carries its ``uncertainty_m``, the radius in metres that holds the true address
  about 9 times in 10.
  Rows that cannot be placed are kept (empty lat/lon, the reason in ``geocode_method``) and
  listed in the report: none vanish.
- :func:`import_sector_figures` reads births, young children and a kansarmoede-index per
  statistical sector (2022 or 2025 Statbel codes), checks them, and stores them as
  ``data/indicators/user/sector_figures.csv``; :func:`load_sector_figures` gives them to the
  need model, which then marks those figures 'observed' instead of 'estimated'.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geoplanner.core import settings
from geoplanner.core.errors import DataError, DataMissingError
from geoplanner.outputs.files import write_csv

__all__ = [
    "ImportReport",
    "SectorFigures",
    "FIGURE_COLUMNS",
    "TOTALS_TOLERANCE",
    "REFUSE_FACTOR",
    "read_user_table",
    "import_services",
    "import_sector_figures",
    "load_sector_figures",
    "user_services_dir",
    "sector_figures_path",
]

#: Sector figures a user may give (any subset); counts, except the index in per cent.
FIGURE_COLUMNS = ("births", "pop_0_2", "pop_total", "kansarmoede_index")

#: Relative gap between a commune's summed sector figures and the public commune figure
#: (Statbel, 1 Jan 2020) above which a warning is given. Loose on purpose: the user's year
#: usually differs (births fell 16 % from 2019 to 2023).
TOTALS_TOLERANCE = 0.25

#: A commune's summed sector figures above this multiple of its public count are refused, not
#: warned about: no commune's young children or population doubled between the years the data
#: covers (regional births moved by less than 20 % between 2012 and 2023), so such a sum is a unit
#: or column mistake (e.g. a commune total repeated on every sector row).
REFUSE_FACTOR = 2.0

# Lambert 72 / Lambert 2008 envelopes of the region with a margin (metres).
_L72 = ((135_000.0, 165_000.0), (155_000.0, 185_000.0))
_L08 = ((635_000.0, 665_000.0), (655_000.0, 685_000.0))
# WGS84 envelope of the region with a margin.
_LAT = (50.70, 50.95)
_LON = (4.20, 4.50)
# Same tolerance as the loader: a point this far outside the region outline is refused.
_REGION_TOLERANCE_M = 250.0

_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "code", "identifier", "identifiant", "ref"),
    "name": ("name", "naam", "nom", "benaming", "denomination"),
    "type": ("type", "soort", "categorie", "category", "kind"),
    "operator": ("operator", "organisator", "organisatie", "operateur", "organisation", "pouvoir organisateur"),
    "language": ("language", "taal", "langue"),
    "street": ("street", "straat", "rue", "straatnaam", "street name", "nom de rue"),
    "number": ("number", "huisnummer", "numero", "no", "house number", "housenumber", "nummer", "n"),
    "postcode": ("postcode", "postal code", "code postal", "postal_code", "zip", "cp", "post code"),
    "commune": ("commune", "gemeente", "municipality", "city", "stad", "localite"),
    "lat": ("lat", "latitude", "breedtegraad", "y wgs84", "lat wgs84"),
    "lon": ("lon", "lng", "long", "longitude", "lengtegraad", "x wgs84", "lon wgs84"),
    "x": ("x", "x lambert", "lambert x", "x l72", "x 31370", "x l08", "x 3812", "coord x"),
    "y": ("y", "y lambert", "lambert y", "y l72", "y 31370", "y l08", "y 3812", "coord y"),
    "source": ("source", "bron"),
    "source_date": ("source date", "source_date", "date", "datum"),
    "notes": ("notes", "opmerkingen", "remarques", "note", "comment", "commentaar"),
}
_FIGURE_ALIASES: dict[str, tuple[str, ...]] = {
    "code": (
        "code",
        "cd sector",
        "sector",
        "sector code",
        "secteur",
        "code secteur",
        "secteurstatistique code",
        "nis9",
    ),
    "births": ("births", "geboorten", "naissances", "births count"),
    "pop_0_2": ("pop 0 2", "pop_0_2", "kinderen 0 2", "enfants 0 2", "children 0 2", "population 0 2"),
    "pop_total": ("pop total", "population", "bevolking", "pop_total", "inwoners"),
    "kansarmoede_index": ("kansarmoede index", "kansarmoede", "kansarmoedeindex", "indice de pauvrete", "kai"),
    "year": ("year", "jaar", "annee"),
}


# ----------------------------------------------------------------------------- reading


def _norm_header(name: object) -> str:
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _decode(path: Path) -> tuple[str, str]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise DataError(
        "cannot decode the file as UTF-8 or Windows-1252 text",
        path=path,
        hint="save it as CSV UTF-8 from your spreadsheet program",
    )


def read_user_table(path: str | Path, *, sheet: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read a user's table (CSV, XLSX or vector file) as strings.

    Parameters
    ----------
    path
        ``.csv``/``.txt`` (delimiter ``,`` ``;`` or tab, sniffed from the header; UTF-8, with or
        without BOM, else Windows-1252; every row must have as many fields as the header),
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
        import io

        _check_field_counts(text, sep, path)
        try:
            df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, index_col=False)
        except pd.errors.ParserError as exc:
            raise DataError(f"cannot parse as {sep!r}-separated CSV: {exc}", path=path) from None
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


def _check_field_counts(text: str, sep: str, path: Path) -> None:
    """Refuse rows with more or fewer fields than the header (an unquoted delimiter in a name)."""
    import csv
    import io

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
    import pyogrio

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


def _map_columns(df: pd.DataFrame, aliases: dict[str, tuple[str, ...]], path: Path) -> pd.DataFrame:
    """Rename the user's columns to canonical names using the alias table."""
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


def _number(value: object) -> float | None:
    """Parse a number written with a decimal point or comma; ``None`` if not a number."""
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


def _blank(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) or str(value) == ""


# ----------------------------------------------------------------------------- services


@dataclass(frozen=True)
class ImportReport:
    """What :func:`import_services` did.

    Attributes
    ----------
    set_name
        The stored set's name (``load_services(set_name)`` reads it).
    stored
        The written file, ``data/services/user/<set_name>.csv``.
    source
        The user's file.
    rows
        One row per input row: id, name, placed (bool), accuracy ('given', 'address_point',
        'interpolated', 'street', 'not_found' or 'invalid'), method, uncertainty_m (radius in
        metres around a geocoded point; NaN for given coordinates and rows not placed), reason.
    warnings
        File-level warnings (encoding, swapped coordinates, postcode disagreements).
    """

    set_name: str
    stored: Path
    source: Path
    rows: pd.DataFrame
    warnings: list[str] = field(default_factory=list)

    @property
    def n_placed(self) -> int:
        """Number of rows with a point."""
        return int(self.rows["placed"].sum())

    @property
    def n_unplaced(self) -> int:
        """Number of rows kept without a point."""
        return int((~self.rows["placed"]).sum())

    @property
    def by_accuracy(self) -> pd.DataFrame:
        """Rows per accuracy class, best first, with the median and largest uncertainty radius (m)."""
        order = ["given", "address_point", "interpolated", "street", "not_found", "invalid"]
        g = self.rows.groupby("accuracy")
        out = pd.DataFrame(
            {
                "rows": g.size(),
                "median_uncertainty_m": g["uncertainty_m"].median(),
                "max_uncertainty_m": g["uncertainty_m"].max(),
            }
        )
        return out.reindex([a for a in order if a in out.index]).rename_axis("accuracy").reset_index()


def user_services_dir(data_dir: Path | None = None) -> Path:
    """Return the folder of user service sets, ``data/services/user``."""
    return (data_dir or settings.data_dir()) / "services" / "user"


def _check_set_name(name: str) -> None:
    from geoplanner.inputs.services import SERVICE_SETS

    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", name or ""):
        raise DataError(f"invalid set name {name!r}", hint="use lower-case letters, digits, '-' or '_' (e.g. kg_2025)")
    if name in SERVICE_SETS:
        raise DataError(f"'{name}' is a built-in set name", hint="choose another name, e.g. my_" + name)


def _detect_xy_crs(x: float, y: float) -> tuple[str | None, bool]:
    """Return (EPSG code, swapped) for a Lambert pair, or (None, False) if it fits neither."""
    for epsg, ((x0, x1), (y0, y1)) in (("EPSG:31370", _L72), ("EPSG:3812", _L08)):
        if x0 <= x <= x1 and y0 <= y <= y1:
            return epsg, False
        if x0 <= y <= x1 and y0 <= x <= y1:
            return epsg, True
    return None, False


def _coordinates(
    df: pd.DataFrame, crs: str | None, warnings: list[str]
) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """Per row: x, y in EPSG:31370 (NaN when absent/invalid), how they were read, and problems."""
    from pyproj import Transformer

    n = len(df)
    xs, ys = np.full(n, np.nan), np.full(n, np.nan)
    how, problem = [""] * n, [""] * n
    to_l72 = {
        "EPSG:4326": Transformer.from_crs(settings.WGS84, settings.CRS, always_xy=True),
        "EPSG:3812": Transformer.from_crs("EPSG:3812", settings.CRS, always_xy=True),
    }
    has_ll = "lat" in df.columns and "lon" in df.columns
    has_xy = "x" in df.columns and "y" in df.columns
    swapped_ids = []
    for i in range(n):
        row = df.iloc[i]
        if has_ll and not (_blank(row["lat"]) and _blank(row["lon"])):
            lat, lon = _number(row["lat"]), _number(row["lon"])
            if lat is None or lon is None:
                bad = "lat" if lat is None else "lon"
                problem[i] = f"{bad} is not a number: {row[bad]!r}"
                continue
            if crs not in (None, "EPSG:4326"):
                problem[i] = f"--crs {crs} given but the file has lat/lon columns"
                continue
            if _LON[0] <= lat <= _LON[1] and _LAT[0] <= lon <= _LAT[1]:
                lat, lon = lon, lat
                swapped_ids.append(str(row["id"]))
                how[i] = "user coordinates (WGS84; lat/lon swapped in the file, corrected)"
            else:
                how[i] = "user coordinates (WGS84)"
            xs[i], ys[i] = to_l72["EPSG:4326"].transform(lon, lat)
        elif has_xy and not (_blank(row["x"]) and _blank(row["y"])):
            x, y = _number(row["x"]), _number(row["y"])
            if x is None or y is None:
                bad = "x" if x is None else "y"
                problem[i] = f"{bad} is not a number: {row[bad]!r}"
                continue
            epsg, swapped = _detect_xy_crs(x, y)
            if crs is not None and crs != "EPSG:4326":
                if epsg is not None and epsg != crs:
                    problem[i] = f"x/y look like {epsg}, not the declared {crs}"
                    continue
                epsg = crs
            if epsg is None:
                problem[i] = f"x/y ({x}, {y}) fit neither Lambert 72 nor Lambert 2008 in Brussels"
                continue
            if swapped:
                x, y = y, x
                swapped_ids.append(str(row["id"]))
            label = {"EPSG:31370": "Lambert 72", "EPSG:3812": "Lambert 2008"}[epsg]
            how[i] = f"user coordinates ({label} x/y" + ("; x/y swapped in the file, corrected)" if swapped else ")")
            if epsg == "EPSG:31370":
                xs[i], ys[i] = x, y
            else:
                xs[i], ys[i] = to_l72["EPSG:3812"].transform(x, y)
    if swapped_ids:
        warnings.append(f"coordinates swapped in {len(swapped_ids)} row(s), corrected: {', '.join(swapped_ids[:10])}")
    return xs, ys, how, problem


def import_services(
    path: str | Path,
    set_name: str,
    *,
    data_dir: Path | None = None,
    store_dir: Path | None = None,
    replace: bool = False,
    crs: str | None = None,
    default_type: str | None = None,
    index=None,
    sheet: str | None = None,
) -> ImportReport:
    """Import a user's list of services as a named service set.

    Parameters
    ----------
    path
        CSV, XLSX or GPKG/GeoJSON. Columns (Dutch, French and English names accepted): id,
        name, type (required; ``default_type`` fills a missing type column), coordinates
        (lat/lon in WGS84, or x/y in Lambert 72 / Lambert 2008, detected from the values) and/or
        address (street, number, postcode, commune), and optionally operator, language,
        source, source_date, notes.
    set_name
        Name of the stored set (lower case, digits, '-', '_'); not a built-in set name.
    data_dir
        Data folder (reference data: region outline, communes, OSM extract).
    store_dir
        Where to write ``<set_name>.csv`` (default ``data/services/user``).
    replace
        Overwrite an existing set of that name.
    crs
        Force the CRS of x/y columns ('EPSG:31370' or 'EPSG:3812'); default: detect.
    default_type
        Type for every row when the file has no type column.
    index
        A prebuilt :class:`geoplanner.geocode.AddressIndex` (default: load the cached one
        when some row needs geocoding).
    sheet
        Sheet to read from a workbook with several filled sheets.

    Returns
    -------
    ImportReport
        Placed and unplaced rows with method, accuracy and reason.

    Raises
    ------
    DataError
        Unreadable file, missing required columns, empty or duplicate ids, empty names, or an
        existing set without ``replace``.
    """
    from geoplanner.inputs.areas import load_communes, load_region
    from geoplanner.inputs.services import SERVICE_COLUMNS

    path = Path(path)
    _check_set_name(set_name)
    if crs is not None:
        crs = crs.upper()
        if crs not in ("EPSG:31370", "EPSG:3812", "EPSG:4326"):
            raise DataError(
                f"unsupported CRS {crs}", hint="EPSG:31370 (Lambert 72), EPSG:3812 (Lambert 2008), EPSG:4326"
            )
    target = (store_dir or user_services_dir(data_dir)) / f"{set_name}.csv"
    if target.exists() and not replace:
        raise DataError(f"service set '{set_name}' exists already", path=target, hint="use --replace to overwrite it")
    df, warnings = read_user_table(path, sheet=sheet)
    df = _map_columns(df, _ALIASES, path)
    if "type" not in df.columns and default_type:
        df["type"] = default_type
    missing = [c for c in ("id", "name", "type") if c not in df.columns]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(missing)}; found {', '.join(map(str, df.columns))}",
            path=path,
            column=missing[0],
            hint="required: id, name, type, plus lat/lon, x/y or an address (street, number, postcode)",
        )
    has_coords = {"lat", "lon"} <= set(df.columns) or {"x", "y"} <= set(df.columns)
    if not has_coords and "street" not in df.columns:
        raise DataError(
            "no coordinates (lat/lon or x/y) and no address (street) columns",
            path=path,
            hint="add lat/lon in WGS84, x/y in Lambert 72, or street + number + postcode",
        )
    for col in ("id", "name"):
        empty = df[col].isna()
        if empty.any():
            i = int(np.flatnonzero(empty.to_numpy())[0])
            raise DataError(f"empty {col}", path=path, row=i + 1, column=col)
    dup = df["id"].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError(f"duplicate id {df['id'].iloc[i]!r}", path=path, row=i + 1, column="id")

    xs, ys, how, problem = _coordinates(df, crs, warnings)
    region = load_region(data_dir)
    import geopandas as gpd
    import shapely

    for i in np.flatnonzero(~np.isnan(xs)):
        d = float(shapely.distance(shapely.Point(xs[i], ys[i]), region))
        if d > _REGION_TOLERANCE_M:
            problem[i] = f"coordinates lie {d / 1000:.1f} km outside the Brussels region"
            xs[i] = ys[i] = np.nan

    out = pd.DataFrame({c: df[c] if c in df.columns else pd.NA for c in SERVICE_COLUMNS}, index=df.index)
    out["source"] = out["source"].fillna(f"user file {path.name}")
    accuracy = ["given" if how[i] and not problem[i] else "" for i in range(len(df))]
    methods = list(how)
    reasons = list(problem)
    commune_nis = [np.nan] * len(df)
    # Radius (m) of a geocoded point; unknown (NaN) for coordinates the user gave.
    uncertainty = [np.nan] * len(df)
    # Geocode the rows with an address and no usable coordinates.
    todo = [
        i for i in range(len(df)) if np.isnan(xs[i]) and "street" in df.columns and not _blank(df["street"].iloc[i])
    ]
    if todo:
        from geoplanner import geocode as gc

        index = index or gc.load_address_index(data_dir=data_dir)
        address = {c: df[c].tolist() if c in df.columns else [None] * len(df) for c in gc.ADDRESS_FIELDS}
        for i in todo:
            res = gc.geocode(index, *(address[c][i] for c in gc.ADDRESS_FIELDS))
            prefix = f"{problem[i]}; " if problem[i] else ""
            if res.found:
                xs[i], ys[i] = res.x, res.y
                accuracy[i] = res.accuracy
                methods[i] = (
                    f"offline geocoder, {res.accuracy}: {res.method} (matched '{res.matched_street}', "
                    f"score {res.score:.2f}, OSM 2013)"
                )
                reasons[i] = prefix + res.reason
                commune_nis[i] = res.commune_nis
                uncertainty[i] = res.uncertainty_m
            else:
                accuracy[i] = "not_found"
                reasons[i] = prefix + f"address not found: {res.reason}"
    for i in range(len(df)):
        if np.isnan(xs[i]) and not accuracy[i]:
            accuracy[i] = "invalid" if problem[i] else "not_found"
            if not reasons[i]:
                reasons[i] = "no coordinates and no street to geocode"
    placed = ~np.isnan(xs)
    if placed.any():
        pts = gpd.GeoSeries(gpd.points_from_xy(xs[placed], ys[placed]), crs=settings.CRS)
        wgs = pts.to_crs(settings.WGS84)
        out.loc[placed, "lat"] = [f"{v:.6f}" for v in wgs.y]
        out.loc[placed, "lon"] = [f"{v:.6f}" for v in wgs.x]
        communes = load_communes(data_dir)
        joined = gpd.sjoin_nearest(gpd.GeoDataFrame(geometry=pts), communes[["commune_nis", "geometry"]])
        joined = joined[~joined.index.duplicated(keep="first")]
        for k, i in enumerate(np.flatnonzero(placed)):
            found_nis = int(joined["commune_nis"].iloc[k])
            if not np.isnan(commune_nis[i]) and int(commune_nis[i]) != found_nis:
                found_nis = int(commune_nis[i])
            commune_nis[i] = found_nis
            given_pc = df["postcode"].iloc[i] if "postcode" in df.columns else pd.NA
            if accuracy[i] == "given" and not _blank(given_pc):
                from geoplanner.geocode import POSTCODE_COMMUNES

                allowed = POSTCODE_COMMUNES.get(str(given_pc).strip()[:4])
                if allowed is not None and found_nis not in allowed:
                    reasons[i] = f"point lies in commune {found_nis}, not in postcode {given_pc}"
    out["lat"] = out["lat"].where(placed, pd.NA)
    out["lon"] = out["lon"].where(placed, pd.NA)
    out["commune_nis"] = [pd.NA if np.isnan(v) else str(int(v)) for v in commune_nis]
    out["geocode_method"] = [methods[i] if placed[i] else f"not placed: {reasons[i]}" for i in range(len(df))]
    out["uncertainty_m"] = [pd.NA if np.isnan(v) else f"{v:.0f}" for v in uncertainty]
    notes = out["notes"].astype("string")
    extra = pd.Series([r if placed[i] and r else pd.NA for i, r in enumerate(reasons)], index=out.index, dtype="string")
    out["notes"] = np.where(extra.notna() & notes.notna(), notes + " | " + extra, notes.fillna(extra))
    out = out.sort_values("id", kind="stable", ignore_index=True)
    write_csv(target, out)
    rows = pd.DataFrame(
        {
            "id": df["id"].astype(str).to_numpy(),
            "name": df["name"].astype(str).to_numpy(),
            "placed": placed,
            "accuracy": accuracy,
            "method": [m if placed[i] else "" for i, m in enumerate(methods)],
            "uncertainty_m": uncertainty,
            "reason": reasons,
        }
    ).sort_values("id", kind="stable", ignore_index=True)
    return ImportReport(set_name=set_name, stored=target, source=path, rows=rows, warnings=warnings)


# ----------------------------------------------------------------------------- sector figures


@dataclass(frozen=True)
class SectorFigures:
    """Observed sector figures from a user, ready to replace the estimates.

    Attributes
    ----------
    by_sector
        Indexed by 2022 ``cd_sector`` (files with 2022 codes); columns among
        :data:`FIGURE_COLUMNS` (NaN where the user gave nothing) and ``year``. Empty for
        files with 2025 codes.
    by_wijk
        Indexed by ``mdrc`` (files with 2025 codes, aggregated through the IBSA 2025
        crosswalk): summed counts, the kansarmoede-index as a pop_0_2-weighted mean where
        pop_0_2 is given (else a simple mean, see ``kansarmoede_weighting``), ``n_sectors``
        given and ``n_sectors_total`` in the wijk. Empty for 2022 files.
    vintage
        2022 or 2025.
    source
        The file read.
    warnings
        Plausibility warnings (totals against commune figures).
    """

    by_sector: pd.DataFrame
    by_wijk: pd.DataFrame
    vintage: int
    source: Path
    warnings: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        """The figures the user gave."""
        frame = self.by_sector if self.vintage == 2022 else self.by_wijk
        return [c for c in FIGURE_COLUMNS if c in frame.columns and frame[c].notna().any()]


def sector_figures_path(data_dir: Path | None = None) -> Path:
    """Return where the user's sector figures are stored."""
    return (data_dir or settings.data_dir()) / "indicators" / "user" / "sector_figures.csv"


def _validate_figures(df: pd.DataFrame, path: Path, data_dir: Path | None) -> SectorFigures:
    from geoplanner.inputs.areas import load_crosswalk
    from geoplanner.inputs.figures import load_commune_population

    df = _map_columns(df, _FIGURE_ALIASES, path)
    if "code" not in df.columns:
        raise DataError(
            f"no sector code column; found {', '.join(map(str, df.columns))}",
            path=path,
            column="code",
            hint="name it 'code' (or cd_sector): the 9-character Statbel sector code, e.g. 21001A00-",
        )
    given = [c for c in FIGURE_COLUMNS if c in df.columns]
    if not given:
        raise DataError(
            f"no figure column; expected any of {', '.join(FIGURE_COLUMNS)}", path=path, hint="e.g. births, pop_0_2"
        )
    codes = df["code"].astype("string").str.strip().str.strip('"').str.upper()
    if codes.isna().any():
        i = int(np.flatnonzero(codes.isna().to_numpy())[0])
        raise DataError("empty sector code", path=path, row=i + 1, column="code")
    dup = codes.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError(f"duplicate sector code {codes.iloc[i]!r}", path=path, row=i + 1, column="code")
    cw22 = load_crosswalk(data_dir, vintage=2022).set_index("cd_sector")
    cw25 = load_crosswalk(data_dir, vintage=2025).set_index("cd_sector")
    in22, in25 = codes.isin(cw22.index), codes.isin(cw25.index)
    unknown = ~(in22 | in25)
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataError(
            f"{int(unknown.sum())} unknown sector code(s), first {codes.iloc[i]!r}",
            path=path,
            row=i + 1,
            column="code",
            hint="use Statbel 2022 or 2025 codes of Brussels sectors (e.g. 21001A00-)",
        )
    only22, only25 = in22 & ~in25, in25 & ~in22
    if only22.any() and only25.any():
        i, j = int(np.flatnonzero(only22.to_numpy())[0]), int(np.flatnonzero(only25.to_numpy())[0])
        raise DataError(
            f"mixes 2022-only codes (row {i + 1}: {codes.iloc[i]}) and 2025-only codes ({codes.iloc[j]})",
            path=path,
            row=j + 1,
            column="code",
            hint="use one sector vintage per file",
        )
    vintage = 2025 if only25.any() else 2022
    values = pd.DataFrame(index=pd.Index(codes.astype(str), name="cd_sector"))
    for col in given:
        parsed = []
        for i, raw in enumerate(df[col]):
            if _blank(raw):
                parsed.append(np.nan)
                continue
            v = _number(raw)
            if v is None:
                raise DataError(f"not a number: {raw!r}", path=path, row=i + 1, column=col)
            if v < 0:
                raise DataError(f"negative value {v}", path=path, row=i + 1, column=col)
            if col == "kansarmoede_index" and v > 100:
                raise DataError(f"kansarmoede-index {v} outside 0-100 %", path=path, row=i + 1, column=col)
            parsed.append(v)
        values[col] = parsed
    _check_consistency(values, path)
    if "year" in df.columns:
        years = [_number(y) for y in df["year"]]
        bad = [i for i, (y, raw) in enumerate(zip(years, df["year"], strict=True)) if y is None and not _blank(raw)]
        if bad:
            raise DataError(f"not a year: {df['year'].iloc[bad[0]]!r}", path=path, row=bad[0] + 1, column="year")
        values["year"] = [np.nan if y is None else y for y in years]
    warnings: list[str] = []
    cw = cw25 if vintage == 2025 else cw22
    commune = values.index.map(cw["commune_nis"])
    pop = load_commune_population(data_dir).set_index("commune_nis")
    sectors_per_commune = cw.groupby("commune_nis").size()
    for col, ref_col, label in (
        ("pop_0_2", "pop_0_2", "0-2 year olds"),
        ("births", "pop_age0", "children aged 0"),
        ("pop_total", "pop_total", "inhabitants"),
    ):
        if col not in values.columns:
            continue
        sums = values[col].groupby(commune).sum(min_count=1)
        counts = values[col].notna().groupby(commune).sum()
        for nis, total in sums.dropna().items():
            ref = float(pop.at[nis, ref_col])
            complete = counts[nis] == sectors_per_commune[nis]
            gap = (total - ref) / ref if ref else np.inf
            if total > REFUSE_FACTOR * ref:
                first = int(np.flatnonzero((commune == nis) & values[col].notna().to_numpy())[0])
                raise DataError(
                    f"the sectors of commune {nis} sum to {total:,.0f} {label}, more than {REFUSE_FACTOR:g}x "
                    f"the {ref:,.0f} Statbel counts (1/1/2020)",
                    path=path,
                    row=first + 1,
                    column=col,
                    hint="check the unit and the column (a total in the wrong column, figures per 1,000?)",
                )
            if (complete and abs(gap) > TOTALS_TOLERANCE) or (not complete and gap > TOTALS_TOLERANCE):
                warnings.append(
                    f"{col}: commune {nis} sums to {total:.0f}, Statbel 2020 has {ref:.0f} {label} "
                    f"({gap:+.0%}; tolerance ±{TOTALS_TOLERANCE:.0%}"
                    + (")" if complete else f", {counts[nis]} of {sectors_per_commune[nis]} sectors given)")
                )
    if vintage == 2022:
        by_sector = values.sort_index()
        by_wijk = pd.DataFrame(index=pd.Index([], name="mdrc", dtype=int))
    else:
        by_sector = pd.DataFrame(index=pd.Index([], name="cd_sector", dtype=str))
        by_wijk = _aggregate_to_wijk(values, cw25, warnings)
    return SectorFigures(by_sector=by_sector, by_wijk=by_wijk, vintage=vintage, source=path, warnings=warnings)


def _check_consistency(values: pd.DataFrame, path: Path) -> None:
    """Refuse rows whose counts cannot all be true: more births than 0-2s, more 0-2s than people."""
    pairs = (
        ("births", "pop_0_2", "more births than children aged 0-2"),
        ("births", "pop_total", "more births than inhabitants"),
        ("pop_0_2", "pop_total", "more children aged 0-2 than inhabitants"),
    )
    for small, big, what in pairs:
        if small not in values.columns or big not in values.columns:
            continue
        bad = (values[small] > values[big]).to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{what} ({values[small].iloc[i]:g} > {values[big].iloc[i]:g})", path=path, row=i + 1, column=small
            )


def _aggregate_to_wijk(values: pd.DataFrame, cw25: pd.DataFrame, warnings: list[str]) -> pd.DataFrame:
    """Sum counts and average the index per wijk (mdrc) through the 2025 crosswalk."""
    mdrc = values.index.map(cw25["mdrc"])
    grouped = values.groupby(mdrc)
    out = pd.DataFrame(index=pd.Index(sorted(set(mdrc)), name="mdrc"))
    for col in ("births", "pop_0_2", "pop_total"):
        if col in values.columns:
            out[col] = grouped[col].sum(min_count=1)
    if "kansarmoede_index" in values.columns:
        k = values["kansarmoede_index"]
        weights = values["pop_0_2"] if "pop_0_2" in values.columns else pd.Series(np.nan, index=values.index)
        weighted, how = [], []
        for code in out.index:
            sel = (mdrc == code) & k.notna().to_numpy()
            kv, wv = k[sel], weights[sel]
            if not len(kv):
                weighted.append(np.nan)
                how.append("")
            elif wv.notna().all() and wv.sum() > 0:
                weighted.append(float((kv * wv).sum() / wv.sum()))
                how.append("pop_0_2-weighted mean")
            else:
                weighted.append(float(kv.mean()))
                how.append("unweighted mean (no pop_0_2)")
        out["kansarmoede_index"] = weighted
        out["kansarmoede_weighting"] = how
        if "unweighted mean (no pop_0_2)" in how:
            warnings.append("kansarmoede-index averaged without population weights in some wijken (no pop_0_2)")
    if "year" in values.columns:
        out["year"] = grouped["year"].max()
    out["n_sectors"] = grouped.size()
    out["n_sectors_total"] = cw25.groupby("mdrc").size().reindex(out.index).to_numpy()
    partial = out[out["n_sectors"] < out["n_sectors_total"]]
    if len(partial):
        warnings.append(
            f"{len(partial)} wijk(en) have figures for only some of their sectors; their sums are partial"
            f" (e.g. wijk {partial.index[0]}: {partial['n_sectors'].iloc[0]} of {partial['n_sectors_total'].iloc[0]})"
        )
    return out


def import_sector_figures(
    path: str | Path, *, data_dir: Path | None = None, store_path: Path | None = None, replace: bool = False
) -> SectorFigures:
    """Validate a user's sector figures and store them for the need model.

    Parameters
    ----------
    path
        CSV or XLSX with a sector code column (``code``/``cd_sector``; Statbel 2022 or 2025
        codes, one vintage per file) and any of ``births``, ``pop_0_2``, ``pop_total``,
        ``kansarmoede_index`` (0-100 %), optionally ``year``. Blank cells mean "not given".
    data_dir
        Data folder (crosswalks and commune population for the checks).
    store_path
        Where to store the validated figures (default ``data/indicators/user/sector_figures.csv``).
    replace
        Overwrite figures imported before.

    Returns
    -------
    SectorFigures

    Raises
    ------
    DataError
        Unknown, duplicate or mixed-vintage codes; non-numeric or negative values; a
        kansarmoede-index outside 0-100; an existing file without ``replace``.
    """
    path = Path(path)
    target = store_path or sector_figures_path(data_dir)
    if target.exists() and not replace:
        raise DataError("sector figures were imported before", path=target, hint="use --replace to overwrite them")
    df, read_warnings = read_user_table(path)
    figures = _validate_figures(df, path, data_dir)
    mapped = _map_columns(df, _FIGURE_ALIASES, path)
    write_csv(target, mapped[[c for c in ("code", *FIGURE_COLUMNS, "year") if c in mapped.columns]])
    return SectorFigures(
        by_sector=figures.by_sector,
        by_wijk=figures.by_wijk,
        vintage=figures.vintage,
        source=path,
        warnings=read_warnings + figures.warnings,
    )


def load_sector_figures(data_dir: Path | None = None) -> SectorFigures | None:
    """Return the user's stored sector figures, validated again, or ``None`` if there are none."""
    path = sector_figures_path(data_dir)
    if not path.exists():
        return None
    df, warnings = read_user_table(path)
    figures = _validate_figures(df, path, data_dir)
    return SectorFigures(
        by_sector=figures.by_sector,
        by_wijk=figures.by_wijk,
        vintage=figures.vintage,
        source=path,
        warnings=warnings + figures.warnings,
    )
