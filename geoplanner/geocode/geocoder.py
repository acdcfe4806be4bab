"""Geocode one address or a table of addresses: match the street, then place the number.

See ``docs/methods/geocoder.md`` for the method and its measured accuracy.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from pyproj import Transformer

from geoplanner.core import settings
from geoplanner.core.errors import DataError
from geoplanner.geocode.area import commune_of, resolve_area
from geoplanner.geocode.index import AddressIndex
from geoplanner.geocode.match import match_street
from geoplanner.geocode.normalise import street_variants
from geoplanner.geocode.place import place_on_street

__all__ = ["ACCURACY_CLASSES", "ADDRESS_FIELDS", "GeocodeResult", "geocode", "geocode_frame", "clean_postcode"]

#: The address columns :func:`geocode` takes, in its order.
ADDRESS_FIELDS = ("street", "number", "postcode", "commune")

#: Accuracy classes, best first.
ACCURACY_CLASSES = ("address_point", "interpolated", "street", "not_found")


@dataclass(frozen=True)
class GeocodeResult:
    """One geocoded address.

    Attributes
    ----------
    query
        The address as given (street, number, postcode, commune).
    accuracy
        One of :data:`ACCURACY_CLASSES`.
    method
        How the point was obtained, in words (stored in ``geocode_method``).
    lat, lon
        WGS84 (``NaN`` when not found).
    x, y
        EPSG:31370 metres (``NaN`` when not found).
    uncertainty_m
        Radius in metres around the point that holds the true address about 9 times in 10
        (``NaN`` when not found); see ``docs/methods/geocoder.md``.
    score
        Street-name match score (0-1), after the postcode penalty.
    matched_street
        The OSM street name matched (empty when none).
    commune_nis
        Commune of the point (0 when not found).
    postcode_check
        'ok', 'mismatch', 'unknown postcode', 'not given', 'commune ok' or 'unknown commune'.
    reason
        Why the row was not placed, or the caveats of the match.
    """

    query: str
    accuracy: str
    method: str
    lat: float = float("nan")
    lon: float = float("nan")
    x: float = float("nan")
    y: float = float("nan")
    uncertainty_m: float = float("nan")
    score: float = 0.0
    matched_street: str = ""
    commune_nis: int = 0
    postcode_check: str = "not given"
    reason: str = ""

    @property
    def found(self) -> bool:
        """True when the address was placed."""
        return self.accuracy != "not_found"


def _clean(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    text = str(value).strip()
    return "" if text.lower() in ("nan", "<na>", "none") else text


def clean_postcode(value: object) -> str:
    """Return the four digits of a postcode as users write it ("B-1040", "1040 Bruxelles", 1040.0).

    Parameters
    ----------
    value
        The postcode cell.

    Returns
    -------
    str
        The four digits; the text itself when it holds none; "" for a blank.
    """
    text = _clean(value)
    if re.fullmatch(r"\d{4}(\.0)?", text):
        return text[:4]
    m = re.fullmatch(r"(?:b\s*-?\s*)?(\d{4})(?:\s+\D.*)?", text.lower())
    return m.group(1) if m else text


@lru_cache(maxsize=1)
def _to_wgs84() -> Transformer:
    return Transformer.from_crs(settings.CRS, settings.WGS84, always_xy=True)


def geocode(
    index: AddressIndex,
    street: object,
    number: object = None,
    postcode: object = None,
    commune: object = None,
) -> GeocodeResult:
    """Geocode one Brussels address offline.

    Parameters
    ----------
    index
        The address index (:func:`geoplanner.pipeline.imports.address_index`).
    street
        Street name as written, in French, Dutch or both ("Rue X - Xstraat"),
        abbreviations and missing accents allowed.
    number
        House number, range or number with box (optional; "12", "12A", "27-31", "610/640",
        "12 bte 3"; see :func:`~geoplanner.geocode.normalise.parse_house_number`).
    postcode
        Brussels postcode (optional but recommended; checked against the postcode areas).
    commune
        Commune name, used when no postcode is given.

    Returns
    -------
    GeocodeResult
        Never a silent guess: below :data:`~geoplanner.geocode.match.MATCH_THRESHOLD`, or when two
        streets match equally well, the result is ``not_found`` with the reason. A placed result carries
        its ``uncertainty_m``.
    """
    street_s, number_s, postcode_s, commune_s = (
        _clean(street),
        _clean(number),
        clean_postcode(postcode),
        _clean(commune),
    )
    query = ", ".join(p for p in (f"{street_s} {number_s}".strip(), f"{postcode_s} {commune_s}".strip()) if p)
    if not street_s:
        return GeocodeResult(query, "not_found", "not geocoded", reason="no street given")
    area = resolve_area(index, postcode_s, commune_s)
    match = match_street(index, street_s, area)
    if match.street is None:
        return GeocodeResult(
            query, "not_found", "not geocoded", score=match.score, postcode_check=area.check, reason=match.reason
        )
    fuzzy = None if match.exact else street_variants(street_s)
    placed, number_flags = place_on_street(index, match.street.ways, number_s, area, match.in_area, query=fuzzy)
    mismatch = (area.kind and not match.in_area) or any(" mismatch: " in f for f in placed.flags)
    point = placed.point
    lon, lat = _to_wgs84().transform(point.x, point.y)
    return GeocodeResult(
        query,
        placed.accuracy,
        placed.method,
        lat=round(float(lat), 6),
        lon=round(float(lon), 6),
        x=round(float(point.x), 1),
        y=round(float(point.y), 1),
        uncertainty_m=float(round(placed.radius)),
        score=round(match.score, 3),
        matched_street=match.street.label,
        commune_nis=commune_of(index, point),
        postcode_check="mismatch" if mismatch else area.check,
        reason="; ".join(match.flags + number_flags + placed.flags),
    )


def geocode_frame(
    df: pd.DataFrame,
    index: AddressIndex,
    *,
    street: str = "street",
    number: str = "number",
    postcode: str = "postcode",
    commune: str = "commune",
) -> pd.DataFrame:
    """Geocode every row of a table of addresses.

    Parameters
    ----------
    df
        Table with a street column and optionally number, postcode and commune columns.
    index
        The address index (:func:`geoplanner.pipeline.imports.address_index`).
    street, number, postcode, commune
        Column names.

    Returns
    -------
    pandas.DataFrame
        One row per input row (same index) with the fields of :class:`GeocodeResult`.
    """
    if street not in df.columns:
        raise DataError(f"no '{street}' column to geocode", column=street)
    rows = []
    for _, row in df.iterrows():
        res = geocode(
            index,
            row.get(street),
            row.get(number) if number in df.columns else None,
            row.get(postcode) if postcode in df.columns else None,
            row.get(commune) if commune in df.columns else None,
        )
        rows.append(asdict(res))
    return pd.DataFrame(rows, index=df.index)
