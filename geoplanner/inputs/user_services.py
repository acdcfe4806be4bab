"""A user's list of services checked and mapped to the service-set schema, row by row, without writing.

Columns are recognised in Dutch, French and English; coordinates are read as WGS84 lat/lon or Lambert 72 /
Lambert 2008 x/y (detected from the values, swapped pairs corrected); rows with an address and no usable
point are left for the geocoder (the pipeline runs it: inputs do not geocode). Every row is kept and
accounted for: placed, or not placed with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geoplanner.core import settings
from geoplanner.core.errors import DataError
from geoplanner.inputs.postcodes import POSTCODE_COMMUNES
from geoplanner.inputs.services import SERVICE_COLUMNS, SERVICE_SETS
from geoplanner.inputs.user_tables import is_blank, map_columns, parse_number

__all__ = [
    "SERVICE_ALIASES",
    "CRS_CHOICES",
    "ImportReport",
    "Placements",
    "check_set_name",
    "check_crs",
    "map_service_columns",
    "place_given",
    "rows_to_geocode",
    "finish_services",
]

#: CRS a user may declare for x/y columns (``--crs``).
CRS_CHOICES = ("EPSG:31370", "EPSG:3812", "EPSG:4326")

#: Canonical column -> the names users give it (compared without case, accents or punctuation).
SERVICE_ALIASES: dict[str, tuple[str, ...]] = {
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

# Lambert 72 / Lambert 2008 envelopes of the region with a margin (metres).
_L72 = ((135_000.0, 165_000.0), (155_000.0, 185_000.0))
_L08 = ((635_000.0, 665_000.0), (655_000.0, 685_000.0))
# WGS84 envelope of the region with a margin.
_LAT = (50.70, 50.95)
_LON = (4.20, 4.50)
# Same tolerance as the loader: a point this far outside the region outline is refused.
_REGION_TOLERANCE_M = 250.0
_LAMBERT_LABELS = {"EPSG:31370": "Lambert 72", "EPSG:3812": "Lambert 2008"}
_ACCURACY_ORDER = ["given", "address_point", "interpolated", "street", "not_found", "invalid"]


@dataclass(frozen=True)
class ImportReport:
    """What an import of a service list did.

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
        g = self.rows.groupby("accuracy")
        out = pd.DataFrame(
            {
                "rows": g.size(),
                "median_uncertainty_m": g["uncertainty_m"].median(),
                "max_uncertainty_m": g["uncertainty_m"].max(),
            }
        )
        return out.reindex([a for a in _ACCURACY_ORDER if a in out.index]).rename_axis("accuracy").reset_index()


@dataclass
class Placements:
    """Where each row of a service list stands and how it got there, filled step by step.

    Attributes
    ----------
    x, y
        EPSG:31370 (NaN while a row has no point).
    accuracy
        'given', a geocoder class, 'not_found' or 'invalid' ("" while undecided).
    method
        How the point was obtained.
    reason
        Why a row is not placed, or the caveats of its point.
    problem
        Why the coordinates given in the file cannot be used ("" when they can or there are none).
    commune_nis
        The geocoder's commune of a geocoded point (NaN otherwise).
    uncertainty_m
        Radius of a geocoded point (NaN for coordinates given in the file).
    """

    x: np.ndarray
    y: np.ndarray
    accuracy: list[str]
    method: list[str]
    reason: list[str]
    problem: list[str]
    commune_nis: list[float]
    uncertainty_m: list[float]

    def set_geocoded(
        self, i: int, x: float, y: float, accuracy: str, method: str, reason: str, commune: int, radius: float
    ) -> None:
        """Record the geocoder's point for row ``i`` (a problem with its given coordinates stays in the reason)."""
        self.x[i], self.y[i] = x, y
        self.accuracy[i], self.method[i] = accuracy, method
        self.reason[i] = self._prefix(i) + reason
        self.commune_nis[i], self.uncertainty_m[i] = commune, radius

    def set_not_found(self, i: int, reason: str) -> None:
        """Record that the geocoder could not place row ``i``."""
        self.accuracy[i] = "not_found"
        self.reason[i] = self._prefix(i) + f"address not found: {reason}"

    def _prefix(self, i: int) -> str:
        return f"{self.problem[i]}; " if self.problem[i] else ""


def check_set_name(name: str) -> None:
    """Refuse a set name that is not lower-case letters, digits, '-' and '_', or that is a built-in set's."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", name or ""):
        raise DataError(f"invalid set name {name!r}", hint="use lower-case letters, digits, '-' or '_' (e.g. kg_2025)")
    if name in SERVICE_SETS:
        raise DataError(f"'{name}' is a built-in set name", hint="choose another name, e.g. my_" + name)


def check_crs(crs: str | None) -> str | None:
    """Return a declared CRS in upper case (``None`` stays ``None``); refuse one not in :data:`CRS_CHOICES`."""
    if crs is None:
        return None
    crs = crs.upper()
    if crs not in CRS_CHOICES:
        raise DataError(f"unsupported CRS {crs}", hint="EPSG:31370 (Lambert 72), EPSG:3812 (Lambert 2008), EPSG:4326")
    return crs


def map_service_columns(df: pd.DataFrame, path: Path, default_type: str | None = None) -> pd.DataFrame:
    """Rename a service list's columns to the schema's and check what every row needs.

    Parameters
    ----------
    df
        The user's table as read.
    path
        The user's file, named in errors.
    default_type
        Type for every row when the file has no type column.

    Returns
    -------
    pandas.DataFrame
        With canonical column names.

    Raises
    ------
    DataError
        Missing id, name or type column; neither coordinates nor a street column; an empty id or name; a
        duplicate id.
    """
    df = map_columns(df, SERVICE_ALIASES, path)
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
    return df


def _detect_xy_crs(x: float, y: float) -> tuple[str | None, bool]:
    """Return (EPSG code, swapped) for a Lambert pair, or (None, False) if it fits neither."""
    for epsg, ((x0, x1), (y0, y1)) in (("EPSG:31370", _L72), ("EPSG:3812", _L08)):
        if x0 <= x <= x1 and y0 <= y <= y1:
            return epsg, False
        if x0 <= y <= x1 and y0 <= x <= y1:
            return epsg, True
    return None, False


# One row's coordinates: (x, y) in EPSG:31370 or None, how they were read, the problem, swapped.
_Read = tuple[tuple[float, float] | None, str, str, bool]


def _from_lat_lon(row: pd.Series, crs: str | None, to_l72: Transformer) -> _Read:
    lat, lon = parse_number(row["lat"]), parse_number(row["lon"])
    if lat is None or lon is None:
        bad = "lat" if lat is None else "lon"
        return None, "", f"{bad} is not a number: {row[bad]!r}", False
    if crs not in (None, "EPSG:4326"):
        return None, "", f"--crs {crs} given but the file has lat/lon columns", False
    swapped = _LON[0] <= lat <= _LON[1] and _LAT[0] <= lon <= _LAT[1]
    if swapped:
        lat, lon = lon, lat
        how = "user coordinates (WGS84; lat/lon swapped in the file, corrected)"
    else:
        how = "user coordinates (WGS84)"
    return to_l72.transform(lon, lat), how, "", swapped


def _from_xy(row: pd.Series, crs: str | None, from_l08: Transformer) -> _Read:
    x, y = parse_number(row["x"]), parse_number(row["y"])
    if x is None or y is None:
        bad = "x" if x is None else "y"
        return None, "", f"{bad} is not a number: {row[bad]!r}", False
    epsg, swapped = _detect_xy_crs(x, y)
    if crs is not None and crs != "EPSG:4326":
        if epsg is not None and epsg != crs:
            return None, "", f"x/y look like {epsg}, not the declared {crs}", False
        epsg = crs
    if epsg is None:
        return None, "", f"x/y ({x}, {y}) fit neither Lambert 72 nor Lambert 2008 in Brussels", False
    if swapped:
        x, y = y, x
    fixed = "; x/y swapped in the file, corrected)" if swapped else ")"
    how = f"user coordinates ({_LAMBERT_LABELS[epsg]} x/y" + fixed
    return ((x, y) if epsg == "EPSG:31370" else from_l08.transform(x, y)), how, "", swapped


def _coordinates(
    df: pd.DataFrame, crs: str | None, warnings: list[str]
) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """Per row: x, y in EPSG:31370 (NaN when absent/invalid), how they were read, and problems."""
    n = len(df)
    xs, ys = np.full(n, np.nan), np.full(n, np.nan)
    how, problem = [""] * n, [""] * n
    from_wgs = Transformer.from_crs(settings.WGS84, settings.CRS, always_xy=True)
    from_l08 = Transformer.from_crs("EPSG:3812", settings.CRS, always_xy=True)
    has_ll = "lat" in df.columns and "lon" in df.columns
    has_xy = "x" in df.columns and "y" in df.columns
    swapped_ids = []
    for i in range(n):
        row = df.iloc[i]
        if has_ll and not (is_blank(row["lat"]) and is_blank(row["lon"])):
            point, how[i], problem[i], swapped = _from_lat_lon(row, crs, from_wgs)
        elif has_xy and not (is_blank(row["x"]) and is_blank(row["y"])):
            point, how[i], problem[i], swapped = _from_xy(row, crs, from_l08)
        else:
            continue
        if swapped:
            swapped_ids.append(str(row["id"]))
        if point is not None:
            xs[i], ys[i] = point
    if swapped_ids:
        warnings.append(f"coordinates swapped in {len(swapped_ids)} row(s), corrected: {', '.join(swapped_ids[:10])}")
    return xs, ys, how, problem


def place_given(df: pd.DataFrame, crs: str | None, region: shapely.Geometry, warnings: list[str]) -> Placements:
    """Read the coordinates given in the file and keep those inside the region.

    Parameters
    ----------
    df
        The mapped table (:func:`map_service_columns`).
    crs
        The declared CRS of x/y columns (:func:`check_crs`), or ``None`` to detect it.
    region
        The region outline (EPSG:31370); a point more than 250 m outside it is refused.
    warnings
        File-level warnings, appended to (swapped coordinates).

    Returns
    -------
    Placements
        Rows with usable coordinates are 'given'; the others wait for the geocoder or stay unplaced.
    """
    xs, ys, how, problem = _coordinates(df, crs, warnings)
    for i in np.flatnonzero(~np.isnan(xs)):
        d = float(shapely.distance(shapely.Point(xs[i], ys[i]), region))
        if d > _REGION_TOLERANCE_M:
            problem[i] = f"coordinates lie {d / 1000:.1f} km outside the Brussels region"
            xs[i] = ys[i] = np.nan
    n = len(df)
    return Placements(
        x=xs,
        y=ys,
        accuracy=["given" if how[i] and not problem[i] else "" for i in range(n)],
        method=list(how),
        reason=list(problem),
        problem=problem,
        commune_nis=[np.nan] * n,
        uncertainty_m=[np.nan] * n,
    )


def rows_to_geocode(df: pd.DataFrame, placements: Placements) -> list[int]:
    """Return the positions of the rows with a street and no usable coordinates."""
    if "street" not in df.columns:
        return []
    return [i for i in range(len(df)) if np.isnan(placements.x[i]) and not is_blank(df["street"].iloc[i])]


def _communes_and_postcodes(
    df: pd.DataFrame, placements: Placements, placed: np.ndarray, communes: gpd.GeoDataFrame
) -> tuple[gpd.GeoSeries, list[float]]:
    """Return the placed points in WGS84 and every row's commune; flag given points outside their postcode."""
    commune_nis = list(placements.commune_nis)
    pts = gpd.GeoSeries(gpd.points_from_xy(placements.x[placed], placements.y[placed]), crs=settings.CRS)
    joined = gpd.sjoin_nearest(gpd.GeoDataFrame(geometry=pts), communes[["commune_nis", "geometry"]])
    joined = joined[~joined.index.duplicated(keep="first")]
    for k, i in enumerate(np.flatnonzero(placed)):
        found_nis = int(joined["commune_nis"].iloc[k])
        if not np.isnan(commune_nis[i]) and int(commune_nis[i]) != found_nis:
            found_nis = int(commune_nis[i])  # the geocoder's commune of its own point
        commune_nis[i] = found_nis
        given_pc = df["postcode"].iloc[i] if "postcode" in df.columns else pd.NA
        if placements.accuracy[i] == "given" and not is_blank(given_pc):
            allowed = POSTCODE_COMMUNES.get(str(given_pc).strip()[:4])
            if allowed is not None and found_nis not in allowed:
                placements.reason[i] = f"point lies in commune {found_nis}, not in postcode {given_pc}"
    return pts.to_crs(settings.WGS84), commune_nis


def _service_table(
    df: pd.DataFrame,
    placements: Placements,
    placed: np.ndarray,
    wgs: gpd.GeoSeries,
    commune_nis: list[float],
    path: Path,
) -> pd.DataFrame:
    """Return the rows in the service-set schema, as stored (sorted by id)."""
    out = pd.DataFrame({c: df[c] if c in df.columns else pd.NA for c in SERVICE_COLUMNS}, index=df.index)
    out["source"] = out["source"].fillna(f"user file {path.name}")
    if placed.any():
        out.loc[placed, "lat"] = [f"{v:.6f}" for v in wgs.y]
        out.loc[placed, "lon"] = [f"{v:.6f}" for v in wgs.x]
    out["lat"] = out["lat"].where(placed, pd.NA)
    out["lon"] = out["lon"].where(placed, pd.NA)
    out["commune_nis"] = [pd.NA if np.isnan(v) else str(int(v)) for v in commune_nis]
    reasons = placements.reason
    out["geocode_method"] = [placements.method[i] if placed[i] else f"not placed: {reasons[i]}" for i in range(len(df))]
    out["uncertainty_m"] = [pd.NA if np.isnan(v) else f"{v:.0f}" for v in placements.uncertainty_m]
    notes = out["notes"].astype("string")
    extra = pd.Series([r if placed[i] and r else pd.NA for i, r in enumerate(reasons)], index=out.index, dtype="string")
    out["notes"] = np.where(extra.notna() & notes.notna(), notes + " | " + extra, notes.fillna(extra))
    return out.sort_values("id", kind="stable", ignore_index=True)


def finish_services(
    df: pd.DataFrame, placements: Placements, path: Path, communes: gpd.GeoDataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Close every row's account and return the table to store and the report rows.

    Parameters
    ----------
    df
        The mapped table (:func:`map_service_columns`).
    placements
        Given and geocoded points (rows still without one become 'invalid' or 'not_found').
    path
        The user's file (the default ``source``).
    communes
        The commune polygons (EPSG:31370), for each point's commune.

    Returns
    -------
    table : pandas.DataFrame
        The set in the :data:`~geoplanner.inputs.services.SERVICE_COLUMNS` schema, sorted by id; rows not
        placed have empty lat/lon and the reason in ``geocode_method``.
    rows : pandas.DataFrame
        The report rows of :class:`ImportReport`, sorted by id.
    """
    p = placements
    for i in range(len(df)):
        if np.isnan(p.x[i]) and not p.accuracy[i]:
            p.accuracy[i] = "invalid" if p.problem[i] else "not_found"
            if not p.reason[i]:
                p.reason[i] = "no coordinates and no street to geocode"
    placed = ~np.isnan(p.x)
    wgs, commune_nis = gpd.GeoSeries([], crs=settings.WGS84), list(p.commune_nis)
    if placed.any():
        wgs, commune_nis = _communes_and_postcodes(df, p, placed, communes)
    table = _service_table(df, p, placed, wgs, commune_nis, path)
    rows = pd.DataFrame(
        {
            "id": df["id"].astype(str).to_numpy(),
            "name": df["name"].astype(str).to_numpy(),
            "placed": placed,
            "accuracy": p.accuracy,
            "method": [m if placed[i] else "" for i, m in enumerate(p.method)],
            "uncertainty_m": p.uncertainty_m,
            "reason": p.reason,
        }
    ).sort_values("id", kind="stable", ignore_index=True)
    return table, rows
