"""Offline geocoding of Brussels addresses against the bundled OpenStreetMap extract.

No online service is called. An address index is built once from the OSM ``.pbf`` (GDAL's
OSM driver through pyogrio) and the Statbel statistical sectors, and cached under
:func:`geoplanner.core.settings.cache_dir`, keyed by both files' sha256:

- **streets**: every named ``highway`` way, indexed under ``name``, ``name:fr`` and
  ``name:nl`` and under each half of Brussels' bilingual names ("Rue X - Xstraat");
- **address points**: nodes and building polygons with ``addr:housenumber`` and
  ``addr:street`` (plus numbered end nodes of ``addr:interpolation`` ways, which take the
  street of their way). Each point is linked once, when the index is built, to the nearest
  street way that carries its street name: within :data:`ADDRESS_NEAR_M` always, and up to
  :data:`ADDRESS_FAR_M` when the point lies in a commune that street touches (large plots
  and streets only partly drawn in OSM 2013 put real addresses hundreds of metres from the
  drawn line). House numbers are parsed with :func:`parse_house_number`, so ranges such as
  "27-31" or "610/640" are kept as ranges;
- **communes**: the 19 OSM municipality polygons (``admin_level=8``, ``ref:INS``);
- **postcode areas**: one polygon per Brussels postcode, the union of the Statbel
  sub-municipalities (``cd_sub_munty``, the first six characters of the sector code) that use
  it, from the authored table :data:`SUBMUNICIPALITY_POSTCODES`. Every commune has one
  postcode except the City of Brussels, whose sub-municipalities are Pentagon, Rue de la Loi,
  Louise, Chaussée d'Anvers (1000; Rue de la Loi also 1040, Louise also 1050), Laeken (1020),
  Neder-Over-Heembeek (1120) and Haren (1130). OSM 2013 cannot draw these areas itself: it
  holds one address with 1120, one with 1130 and six with 1020, and the Leopold quarter mixes
  1000 and 1040 from one building to the next. The OSM ``addr:postcode`` values are used to
  check the areas instead (tested).

A query is matched in three steps. The street name is normalised (lower case, no accents,
abbreviations such as ``av.``, ``bd``, ``chée``, ``str.``, ``stwg`` expanded) and split into a
street type (``rue``, ``avenue``, ``...straat``, ``...laan``) and a core name. An exact
match scores 1; otherwise cores are compared with :class:`difflib.SequenceMatcher`. Two
names whose street types differ ("Rue des Grenadiers" / "Avenue des Grenadiers") are
treated as different streets, because in Brussels both often exist. Below
:data:`MATCH_THRESHOLD` the result is ``not_found``: the geocoder never guesses silently.
The matched street must run through the postcode area (or the commune, when a commune name
is given instead); a street found only outside it is accepted only if it is a single street
(or the only one of several equally good streets that comes within 1 km of the area: a wrong
postcode is most often a neighbour's), with a score penalty and a ``postcode mismatch`` flag;
otherwise two or more equally good streets make the result ``not_found`` (ambiguous). OSM gives
a street's Dutch name on some of its ways only, so ways that carry another name of a matched
way and continue it are the same street.

The point is then, in order of preference, the OSM address point with that number or range
anywhere along the matched street (``address_point``; when it lies outside the postcode area
the postcode is flagged as a mismatch: house numbers run on across commune borders, the
postcode is the likelier mistake), a point interpolated along the street between the
nearest known numbers (``interpolated``), or a point of the street (``street``): the middle
of the stretch where the known numbers of the same side put the wanted one (between its
neighbours, or beyond the nearest one as far as their spacing says), kept inside the postcode
area where the two overlap and flagged as a postcode mismatch where they do not; else the point
nearest the centre of the stretch inside the postcode area.

Every result carries ``uncertainty_m``, a radius in metres around the point meant to hold the
true address at least 9 times in 10: for an address point the size of its building
(:data:`ADDRESS_POINT_RADIUS_M` at least), for an interpolation half the distance to the
farther of the two neighbouring numbers, for a street the distance from the point to the
farthest end of the stretch it stands for plus the usual set-back of a building from the street
line (:data:`STREET_SETBACK_M`). How often the true point does lie within it is measured by
``bench/bench_geocode.py`` on a hold-out of real OSM addresses (README: 96 % for address points
and streets, 94 % for interpolations). The radius assumes the postcode is right when nothing else
tells: a wrong postcode on a street that runs through several postcode areas, with no known number
nearby, puts the point on the wrong stretch (flagged "the street also runs through postcode ...").
"""

from __future__ import annotations

import difflib
import heapq
import pickle
import re
import unicodedata
import warnings
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiLineString, Point
from shapely.ops import linemerge, nearest_points, substring

from geoplanner.core import settings
from geoplanner.core.checksum import sha256_file
from geoplanner.core.errors import DataError
from geoplanner.outputs.files import atomic_path

__all__ = [
    "ACCURACY_CLASSES",
    "ADDRESS_FIELDS",
    "MATCH_THRESHOLD",
    "POSTCODE_PENALTY",
    "POSTCODE_COMMUNES",
    "SUBMUNICIPALITY_POSTCODES",
    "ADDRESS_NEAR_M",
    "ADDRESS_FAR_M",
    "ADDRESS_POINT_RADIUS_M",
    "STREET_SETBACK_M",
    "INTERPOLATION_RADIUS_SHARE",
    "AddressIndex",
    "GeocodeResult",
    "HouseNumber",
    "parse_house_number",
    "normalise_street",
    "street_variants",
    "build_address_index",
    "load_address_index",
    "geocode",
    "geocode_frame",
]

#: The address columns :func:`geocode` takes, in its order.
ADDRESS_FIELDS = ("street", "number", "postcode", "commune")

#: Accuracy classes, best first.
ACCURACY_CLASSES = ("address_point", "interpolated", "street", "not_found")

#: Minimum street-name score (0-1) to accept a match. 0.85 accepts a missing article or
#: a one-letter typo in a name of 8+ letters ("Lesines" for "Lessines": 0.93) and rejects
#: distinct short names ("Loi" / "Roi": 0.67).
MATCH_THRESHOLD = 0.85

#: Score removed when the street exists, but not in the area of the given postcode.
POSTCODE_PENALTY = 0.10

#: Brussels postcodes -> commune NIS codes whose territory they cover (public fact, authored).
#: 1000/1020/1120/1130 are parts of the City of Brussels; 1040 and 1050 also cover parts of
#: the City (European quarter, Avenue Louise / Bois de la Cambre). The geocoder matches on the
#: finer :data:`SUBMUNICIPALITY_POSTCODES`; this table serves checks at commune level.
POSTCODE_COMMUNES: dict[str, tuple[int, ...]] = {
    "1000": (21004,),
    "1020": (21004,),
    "1030": (21015,),
    "1040": (21005, 21004),
    "1050": (21009, 21004),
    "1060": (21013,),
    "1070": (21001,),
    "1080": (21012,),
    "1081": (21011,),
    "1082": (21003,),
    "1083": (21008,),
    "1090": (21010,),
    "1120": (21004,),
    "1130": (21004,),
    "1140": (21006,),
    "1150": (21019,),
    "1160": (21002,),
    "1170": (21017,),
    "1180": (21016,),
    "1190": (21007,),
    "1200": (21018,),
    "1210": (21014,),
}

#: Postcodes of the City of Brussels' Statbel sub-municipalities (``cd_sub_munty``; authored,
#: public fact). The postcodes follow the former communes annexed in 1921 (Laeken 1020,
#: Neder-Over-Heembeek 1120, Haren 1130); the Rue de la Loi (Leopold quarter) and Louise
#: sub-municipalities use 1000 next to 1040 and 1050 respectively. Every other commune's
#: sub-municipalities take the commune's single postcode from :data:`POSTCODE_COMMUNES`.
SUBMUNICIPALITY_POSTCODES: dict[str, tuple[str, ...]] = {
    "21004A": ("1000",),  # Pentagon
    "21004B": ("1000", "1040"),  # Rue de la Loi / Leopold quarter
    "21004C": ("1000", "1050"),  # Louise, Bois de la Cambre
    "21004D": ("1000",),  # Chaussée d'Anvers / Northern quarter
    "21004E": ("1020",),  # Laeken
    "21004F": ("1120",),  # Neder-Over-Heembeek
    "21004G": ("1130",),  # Haren
}

#: An address point is linked to the nearest way of its street within this distance (metres).
ADDRESS_NEAR_M = 120.0
#: ... and up to this distance when the point lies in a commune the way touches: big plots
#: (schools, hospitals) and streets drawn only in part in OSM 2013 put real addresses far from the line.
ADDRESS_FAR_M = 1000.0

#: Smallest uncertainty radius of any result (metres): two OSM points of one address (a building
#: and a node inside it) lie this close in 95 % of the 214 such pairs of the 2013 extract.
ADDRESS_POINT_RADIUS_M = 50.0
#: Set-back of an address point from the street's centre line (metres), added to every
#: street-level radius: 95 % of the OSM 2013 address points lie within 33 m of their street.
STREET_SETBACK_M = 35.0
#: Interpolation radius as a share of the distance from the point to the farther of its two
#: neighbouring numbers (at least :data:`ADDRESS_POINT_RADIUS_M`); half, set before measuring.
INTERPOLATION_RADIUS_SHARE = 0.5

# Names of sub-municipalities that users write instead of the commune (authored).
_EXTRA_COMMUNE_NAMES = {
    "laken": 21004,
    "laeken": 21004,
    "neder over heembeek": 21004,
    "haren": 21004,
    "brussel": 21004,
    "bruxelles": 21004,
    "brussels": 21004,
    "bruxelles ville": 21004,
    "brussel stad": 21004,
}

_INDEX_VERSION = 2
# A street's ways closer than this belong to one street (gaps at squares and crossings).
_CLUSTER_GAP_M = 150.0
# A street counts as being in a commune or postcode area when it comes this close to its polygon.
_AREA_SLACK_M = 30.0
# Interpolation only between numbers this close (in numbers and in metres).
_INTERP_MAX_GAP = 60
_INTERP_MAX_DIST_M = 800.0
# A range wider than this ("2-400") is read as its first number.
_RANGE_MAX_SPAN = 200
# Points of one number farther apart than this are different places (numbering restarts).
_SAME_PLACE_M = 150.0
# Score of a French name with its Dutch street type glued on ("Rue Cervantesstraat"): likely, not certain.
_UNGLUED_SCORE = 0.95
# Score of a name written with initials ("E. Degas" for "Edgar Degas"): likely, not certain.
_INITIALS_SCORE = 0.92
# Two candidates within this score of each other are equally good (ambiguous).
_AMBIGUITY_MARGIN = 0.02
# With a wrong postcode, of several equally good streets the only one this close to the area wins.
_NEIGHBOUR_M = 1000.0

# Abbreviations -> full word, applied to whole tokens after accents are stripped.
_TOKEN_ABBREV = {
    "r": "rue",
    "av": "avenue",
    "ave": "avenue",
    "bd": "boulevard",
    "bld": "boulevard",
    "bvd": "boulevard",
    "boul": "boulevard",
    "chee": "chaussee",
    "ch": "chaussee",
    "chau": "chaussee",
    "chs": "chaussee",
    "pl": "place",
    "sq": "square",
    "imp": "impasse",
    "all": "allee",
    "sent": "sentier",
    "str": "straat",
    "stwg": "steenweg",
    "stw": "steenweg",
    "st": "st",
    "saint": "st",
    "sint": "st",
    "ste": "ste",
    "sainte": "ste",
}
# Dutch abbreviated suffixes of compound names ("Kerkstr." -> "Kerkstraat").
_SUFFIX_ABBREV = (("stwg", "steenweg"), ("str", "straat"), ("ln", "laan"), ("pln", "plein"))

_FR_TYPES = (
    "rue",
    "avenue",
    "boulevard",
    "chaussee",
    "place",
    "square",
    "dreve",
    "chemin",
    "sentier",
    "impasse",
    "allee",
    "quai",
    "parvis",
    "galerie",
    "passage",
    "clos",
    "cite",
    "route",
    "venelle",
    "carre",
    "cour",
    "rond point",
    "promenade",
    "esplanade",
    "pont",
    "voie",
    "petite rue",
    "vieux marche",
)
_NL_TYPES = (
    "steenweg",
    "straat",
    "laan",
    "plein",
    "dreef",
    "kaai",
    "gang",
    "pad",
    "square",
    "weg",
    "lei",
    "dijk",
    "wegel",
    "vest",
    "hof",
    "park",
    "brug",
    "markt",
    "doorgang",
    "galerij",
)
_ARTICLES = {"de", "la", "le", "les", "du", "des", "l", "d", "van", "der", "den", "het", "t", "a", "au", "aux"}


_HSTORE = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')
# Highway values that are not streets one lives on (kept out of the street index).
_NOT_STREETS = ("construction", "proposed", "platform", "abandoned", "razed", "motorway", "motorway_link")
# House numbers: a box ("bte 3", "bus 3", "b3") is dropped; a range is "27-31", "78 / 84", "2 à 4", "2 tot 4".
_BOX = re.compile(r"\s*,?\s*(?:\b(?:bte|boite|bus|box|bt)\b\.?\s*[0-9a-z]+|\s\b[b]\.?\s*\d+)\s*$")
_HOUSE = re.compile(
    r"^(\d+)\s*(bis|ter|quater|[a-z])?"
    r"(?:\s*(-|/|\+|&|,|;|\ba\b|\btot\b|\bet\b|\ben\b)\s*(\d+)\s*(?:bis|ter|quater|[a-z])?)?$"
)
_LEADING = re.compile(r"^(\d+)\s*(bis|ter|quater|[a-z](?![a-z]))?")


@dataclass(frozen=True)
class HouseNumber:
    """A parsed house number: one number (``lo == hi``) or a range.

    Attributes
    ----------
    lo, hi
        First and last number; equal for a single number.
    suffix
        Letter(s) after a single number ("a", "bis"); empty for a range.
    text
        Normalised form used for exact matching: "12a", "27-31".
    """

    lo: int
    hi: int
    suffix: str = ""

    @property
    def text(self) -> str:
        """The normalised number ("12a", "27-31")."""
        return f"{self.lo}-{self.hi}" if self.hi > self.lo else f"{self.lo}{self.suffix}"

    @property
    def is_range(self) -> bool:
        """True for a range such as 27-31."""
        return self.hi > self.lo

    @property
    def parity(self) -> int | None:
        """0 or 1 when every number of it has that parity; ``None`` for a range over both sides (14-15)."""
        return self.lo % 2 if (self.hi - self.lo) % 2 == 0 else None


def parse_house_number(text: object) -> HouseNumber | None:
    """Parse a Belgian house number, range or number with box.

    "12", "12A", "12 bis" are single numbers; "27-31", "78 / 84", "610/640", "2 à 4", "2 tot 4"
    are ranges; a box ("12 bte 3", "12 bus 3", "12 b3", and "12/3" where the second number is
    smaller) is dropped. A range wider than 200 numbers is read as its first number.

    Parameters
    ----------
    text
        The number as written.

    Returns
    -------
    HouseNumber or None
        ``None`` when the text does not start with a number.
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    raw = _strip_accents(str(text)).lower().replace("–", "-").replace("—", "-").strip()
    raw = re.sub(r"\s+", " ", raw)
    raw = _BOX.sub("", raw).strip()
    m = _HOUSE.match(raw)
    if m:
        lo, suffix, sep, second = int(m.group(1)), m.group(2) or "", m.group(3), m.group(4)
        if second is not None:
            hi = int(second)
            if lo < hi <= lo + _RANGE_MAX_SPAN:
                return HouseNumber(lo, hi)
            # "12/3" is number 12, box 3; any other odd pair is read as its first number.
            return HouseNumber(lo, lo, suffix if sep != "/" else "")
        return HouseNumber(lo, lo, suffix)
    m = _LEADING.match(raw)
    if m:
        return HouseNumber(int(m.group(1)), int(m.group(1)), m.group(2) or "")
    return None


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
        (``NaN`` when not found); see the module docstring.
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


@dataclass
class AddressIndex:
    """The offline address index built from one OSM extract (see :func:`build_address_index`)."""

    sha256: str
    source: str
    ways: gpd.GeoDataFrame  # label, keys, nis, home, pcs, pcs_edge, pcs_full, geometry (EPSG:31370)
    key_ways: dict[str, list[int]]
    core_keys: dict[str, list[str]]
    key_parts: dict[str, tuple[str, str]]
    # x, y, number, lo, hi, suffix, postcode, street, keys, extent_m, nis, pcs, way, way_dist_m
    points: pd.DataFrame
    way_points: dict[int, list[int]]
    communes: gpd.GeoDataFrame  # commune_nis, geometry
    postcode_areas: gpd.GeoDataFrame  # postcode, geometry (union of sub-municipalities)
    commune_names: dict[str, int] = field(default_factory=dict)
    sectors_sha256: str = ""
    version: int = _INDEX_VERSION

    def summary(self) -> dict[str, int]:
        """Return counts describing the index (for reports)."""
        return {
            "street_ways": len(self.ways),
            "street_names": len(self.key_ways),
            "address_points": len(self.points),
            "linked_address_points": int((self.points["way"] >= 0).sum()),
            "communes": len(self.communes),
            "postcode_areas": len(self.postcode_areas),
        }

    def without_points(self, ids: object) -> AddressIndex:
        """Return a copy of the index in which the address points ``ids`` (row positions) are not used.

        For hold-out measurements: geocode an address as if OSM did not hold its own point.
        """
        drop = {int(i) for i in np.asarray(ids).ravel()}
        way_points = {w: [i for i in ids_ if i not in drop] for w, ids_ in self.way_points.items()}
        return replace(self, way_points=way_points)

    def __getstate__(self) -> dict:
        # Runtime helpers (prepared polygons, caches) are rebuilt after loading, never pickled.
        return {k: v for k, v in self.__dict__.items() if k != "_rt"}


# ----------------------------------------------------------------------------- names


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def normalise_street(name: str) -> str:
    """Normalise one street name for matching.

    Lower case, accents removed, punctuation to spaces, abbreviations expanded
    (``av.`` -> avenue, ``bd`` -> boulevard, ``chée`` -> chaussee, ``r.`` -> rue, ``pl.`` ->
    place, ``Kerkstr.`` -> kerkstraat, ``stwg`` -> steenweg); saint/sint/st become ``st``.

    Parameters
    ----------
    name
        One name (a single language; see :func:`street_variants` for bilingual names).

    Returns
    -------
    str
        The normalised name, tokens separated by single spaces.
    """
    text = _strip_accents(str(name)).lower().replace("’", "'")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    tokens = []
    for tok in text.split():
        if tok in _TOKEN_ABBREV:
            tok = _TOKEN_ABBREV[tok]
        else:
            for short, full in _SUFFIX_ABBREV:
                if tok.endswith(short) and len(tok) > len(short) + 2 and not tok.endswith(full):
                    tok = tok[: -len(short)] + full
                    break
        tokens.append(tok)
    return " ".join(tokens)


def street_variants(name: str) -> list[str]:
    """Split a (possibly bilingual) street name into its normalised variants.

    "Rue de Lessines - Lessensstraat" gives ``['rue de lessines', 'lessensstraat']``;
    "Nieuwland (Rue Terre-Neuve)" gives ``['nieuwland', 'rue terre neuve']``. Hyphens inside
    a name ("Sans-Souci") do not split it; a hyphen with a space on either side does, and so does a slash.

    Parameters
    ----------
    name
        The street as written.

    Returns
    -------
    list of str
        Distinct non-empty normalised variants, the whole name first when it differs.
    """
    if name is None or (isinstance(name, float) and np.isnan(name)):
        return []
    raw = str(name)
    parts = re.split(r"\s+[-–]\s*|\s*[-–]\s+|[/()]", raw)
    out: list[str] = []
    for part in parts:
        norm = normalise_street(part)
        if norm and norm not in out:
            out.append(norm)
    return out


def _split_type(key: str) -> tuple[str, str]:
    """Split a normalised name into (street type, core name without articles)."""
    street_type = ""
    rest = key
    for t in sorted(_FR_TYPES, key=len, reverse=True):
        if key == t or key.startswith(t + " "):
            street_type, rest = t, key[len(t) :].strip()
            break
    else:
        last = key.split(" ")[-1] if key else ""
        for t in _NL_TYPES:  # order matters: steenweg before weg
            if last.endswith(t):
                street_type = t
                rest = key[: len(key) - len(t)].strip()
                break
    tokens = [tok for tok in rest.split() if tok not in _ARTICLES]
    return street_type, " ".join(tokens) if tokens else rest


def _parse_hstore(text: object) -> dict[str, str]:
    if not isinstance(text, str) or not text:
        return {}
    return {k.replace('\\"', '"'): v.replace('\\"', '"') for k, v in _HSTORE.findall(text)}


def _commune_keys(name: str) -> list[str]:
    return [v for v in street_variants(name) if v]


# ----------------------------------------------------------------------------- index


def _read_osm(pbf: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    import pyogrio

    try:
        with warnings.catch_warnings():
            # OSM multipolygons clipped at the extract's edge have unclosed rings; GDAL warns and fixes.
            warnings.simplefilter("ignore", RuntimeWarning)
            lines = pyogrio.read_dataframe(pbf, layer="lines", columns=["osm_id", "name", "highway", "other_tags"])
            points = pyogrio.read_dataframe(pbf, layer="points", columns=["osm_id", "name", "other_tags"])
            polys = pyogrio.read_dataframe(
                pbf, layer="multipolygons", columns=["osm_id", "osm_way_id", "name", "admin_level", "other_tags"]
            )
    except Exception as exc:  # pyogrio raises several DataSourceError types
        raise DataError(f"cannot read the OSM extract: {exc}", path=pbf) from None
    return lines.to_crs(settings.CRS), points.to_crs(settings.CRS), polys.to_crs(settings.CRS)


def _communes_from_osm(polys: gpd.GeoDataFrame, pbf: Path) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    admin = polys[polys["admin_level"] == "8"]
    rows, names = [], {}
    for _, row in admin.iterrows():
        tags = _parse_hstore(row["other_tags"])
        ref = tags.get("ref:INS", "")
        if not (ref.isdigit() and ref.startswith("21") and len(ref) == 5):
            continue
        nis = int(ref)
        labels = [
            row["name"],
            tags.get("name:fr"),
            tags.get("name:nl"),
            tags.get("alt_name:fr"),
            tags.get("alt_name:nl"),
        ]
        for label in labels:
            if isinstance(label, str) and label:
                for key in [normalise_street(label), *_commune_keys(label)]:
                    names.setdefault(key, nis)
        rows.append({"commune_nis": nis, "geometry": row.geometry})
    communes = gpd.GeoDataFrame(rows, geometry="geometry", crs=settings.CRS)
    communes = communes.dissolve(by="commune_nis").reset_index().sort_values("commune_nis", ignore_index=True)
    if len(communes) != 19:
        raise DataError(
            f"expected the 19 Brussels communes (admin_level=8, ref:INS) in the OSM extract, found {len(communes)}",
            path=pbf,
        )
    for key, nis in _EXTRA_COMMUNE_NAMES.items():
        names.setdefault(key, nis)
    return communes, names


def _postcode_areas(sectors: gpd.GeoDataFrame, path: Path | None = None) -> gpd.GeoDataFrame:
    """One polygon per postcode: the union of the Statbel sub-municipalities that use it."""
    # Every commune but the City of Brussels has one postcode of its own.
    single = {n: pc for pc, nis in POSTCODE_COMMUNES.items() for n in nis if n != 21004}
    sub = sectors["cd_sector"].astype(str).str[:6]
    parts: dict[str, list] = defaultdict(list)
    for code, geom in zip(sub, sectors.geometry, strict=True):
        nis = int(code[:5])
        if code in SUBMUNICIPALITY_POSTCODES:
            pcs = SUBMUNICIPALITY_POSTCODES[code]
        elif nis in single:
            pcs = (single[nis],)
        else:
            raise DataError(
                f"no postcode known for sub-municipality {code}",
                path=path,
                column="cd_sector",
                hint="add it to geoplanner.geocode.SUBMUNICIPALITY_POSTCODES",
            )
        for pc in pcs:
            parts[pc].append(geom)
    rows = [{"postcode": pc, "geometry": shapely.union_all(geoms)} for pc, geoms in sorted(parts.items())]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=settings.CRS)


def _street_ways(lines: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    rows = []
    for _, row in lines[lines["highway"].notna() & ~lines["highway"].isin(_NOT_STREETS)].iterrows():
        tags = _parse_hstore(row["other_tags"])
        names = [row["name"], tags.get("name:fr"), tags.get("name:nl")]
        names = [n for n in names if isinstance(n, str) and n.strip()]
        if not names:
            continue
        keys: list[str] = []
        for n in names:
            for v in street_variants(n):
                if v not in keys:
                    keys.append(v)
        rows.append({"label": names[0], "keys": tuple(keys), "geometry": row.geometry})
    ways = gpd.GeoDataFrame(rows, geometry="geometry", crs=settings.CRS)
    near = gpd.sjoin(
        ways[["geometry"]],
        gpd.GeoDataFrame(communes[["commune_nis"]], geometry=communes.buffer(_AREA_SLACK_M), crs=settings.CRS),
        predicate="intersects",
    )
    nis = near.groupby(level=0)["commune_nis"].apply(lambda s: tuple(sorted(set(int(v) for v in s))))
    ways["nis"] = [nis.get(i, ()) for i in ways.index]
    # Home commune: the one holding the way's middle point (used to tell same-named streets apart).
    mids = gpd.GeoDataFrame(geometry=ways.geometry.interpolate(0.5, normalized=True), crs=settings.CRS)
    home = gpd.sjoin(mids, communes[["commune_nis", "geometry"]], predicate="within")
    home = home[~home.index.duplicated(keep="first")]["commune_nis"]
    ways["home"] = [int(home.get(i, nis.get(i, (0,))[0] if nis.get(i) else 0)) for i in ways.index]
    # Ways of the extract that run past the region's border are not Brussels streets.
    ways = ways[ways["nis"].map(len) > 0].reset_index(drop=True)
    # Postcode areas a way runs through. ``pcs``: its middle lies in the area. ``pcs_edge``: half of
    # it lies within the slack of the area (a street along the border belongs to both sides, but
    # less surely than a street inside; a street that only reaches the border does not count).
    raw = areas.geometry.to_numpy()
    buffered = shapely.buffer(raw, _AREA_SLACK_M)
    geoms = ways.geometry.to_numpy()
    way_i, area_i = shapely.STRtree(buffered).query(geoms, predicate="intersects")
    inside = shapely.length(shapely.intersection(geoms[way_i], buffered[area_i]))
    length = shapely.length(geoms[way_i])
    middle = shapely.line_interpolate_point(geoms[way_i], 0.5, normalized=True)
    core = shapely.within(middle, raw[area_i])
    edge = ~core & (inside >= 0.5 * length)
    full = inside >= length - 0.01
    codes = areas["postcode"].to_numpy()
    sets: dict[str, list[list[str]]] = {k: [[] for _ in range(len(ways))] for k in ("pcs", "pcs_edge", "pcs_full")}
    for w, a, c, e, f in zip(way_i, area_i, core, edge, full, strict=True):
        for key, flag in (("pcs", c), ("pcs_edge", e), ("pcs_full", f)):
            if flag:
                sets[key][w].append(str(codes[a]))
    for key, values in sets.items():
        ways[key] = [tuple(sorted(v)) for v in values]
    return ways


def _address_points(points: gpd.GeoDataFrame, polys: gpd.GeoDataFrame, lines: gpd.GeoDataFrame) -> pd.DataFrame:
    # Street of each interpolation way, given to its numbered end nodes that lack addr:street.
    interp_street: dict[tuple[float, float], str] = {}
    for _, row in lines[lines["other_tags"].fillna("").str.contains("addr:interpolation", regex=False)].iterrows():
        tags = _parse_hstore(row["other_tags"])
        if "addr:interpolation" in tags and tags.get("addr:street"):
            coords = list(row.geometry.coords)
            for c in (coords[0], coords[-1]):
                interp_street.setdefault((round(c[0], 2), round(c[1], 2)), tags["addr:street"])
    rows = []
    candidates = [(points, False), (polys[polys["admin_level"].isna()], True)]
    for frame, is_poly in candidates:
        texts = frame["other_tags"].fillna("")
        frame = frame[texts.str.contains("addr:housenumber", regex=False)]
        for _, row in frame.iterrows():
            tags = _parse_hstore(row["other_tags"])
            geom = row.geometry.representative_point() if is_poly else row.geometry
            # A building's size bounds how far its address may be from its representative point.
            extent = float(shapely.hausdorff_distance(geom, row.geometry.boundary)) if is_poly else 0.0
            street = tags.get("addr:street") or interp_street.get((round(geom.x, 2), round(geom.y, 2)))
            if not street:
                continue
            names = [street, tags.get("addr:street:fr"), tags.get("addr:street:nl")]
            keys: list[str] = []
            for n in names:
                for v in street_variants(n) if isinstance(n, str) else []:
                    if v not in keys:
                        keys.append(v)
            postcode = re.search(r"\b1\d{3}\b", tags.get("addr:postcode", ""))
            for number in re.split(r"[;,]", tags["addr:housenumber"]):
                hn = parse_house_number(number)
                if hn is None:
                    continue
                rows.append(
                    {
                        "x": geom.x,
                        "y": geom.y,
                        "number": hn.text,
                        "lo": hn.lo,
                        "hi": hn.hi,
                        "suffix": hn.suffix,
                        "postcode": postcode.group(0) if postcode else "",
                        "street": street,
                        "keys": tuple(keys),
                        "extent_m": round(extent, 1),
                    }
                )
    cols = ["x", "y", "number", "lo", "hi", "suffix", "postcode", "street", "keys", "extent_m"]
    df = pd.DataFrame(rows, columns=cols)
    return df.drop_duplicates(subset=["x", "y", "number", "street"], ignore_index=True)


def _names_compatible(point_keys: tuple[str, ...], way_keys: tuple[str, ...]) -> bool:
    """Tell whether an ``addr:street`` and a way name are the same street spelled differently.

    ``addr:street`` is typed by hand on each address ("Louisalaan" for "Louizalaan", "Rue Wierz"),
    so a close core name counts when the street types do not contradict each other.
    """
    for pk in point_keys:
        p_type, p_core = _split_type(pk)
        cores = [p_core]
        if _unglue(pk):  # bilingual names glued into one ("Place de Rochefortplein")
            cores.append(_split_type(_unglue(pk))[1])
        for wk in way_keys:
            w_type, w_core = _split_type(wk)
            if p_type and w_type and p_type != w_type:
                continue
            if difflib.SequenceMatcher(None, pk, wk).ratio() >= 0.9 or any(
                difflib.SequenceMatcher(None, c, w_core).ratio() >= MATCH_THRESHOLD for c in cores
            ):
                return True
            # A surname for the full name ("Reyerslaan" for "Auguste Reyerslaan"), same street type.
            if p_type and p_type == w_type and w_core.endswith(" " + p_core):
                return True
    return False


def _link_points(
    addr: pd.DataFrame,
    ways: gpd.GeoDataFrame,
    key_ways: dict[str, list[int]],
    communes: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
) -> pd.DataFrame:
    """Add each address point's commune, postcode areas and the street way it belongs to."""
    addr = addr.copy()
    pts = shapely.points(addr["x"].to_numpy(), addr["y"].to_numpy())
    gpts = gpd.GeoDataFrame(geometry=pts, crs=settings.CRS)
    inside = gpd.sjoin_nearest(gpts, communes[["commune_nis", "geometry"]])
    inside = inside[~inside.index.duplicated(keep="first")]["commune_nis"]
    addr["nis"] = [int(inside.get(i, 0)) for i in range(len(addr))]
    buffered = gpd.GeoDataFrame(areas[["postcode"]], geometry=areas.buffer(_AREA_SLACK_M), crs=settings.CRS)
    in_area = (
        gpd.sjoin(gpts, buffered, predicate="within")
        .groupby(level=0)["postcode"]
        .apply(lambda s: tuple(sorted(set(s))))
    )
    addr["pcs"] = [in_area.get(i, ()) for i in range(len(addr))]
    geoms = ways.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    way_nis = ways["nis"].to_numpy()
    way_keys = ways["keys"].to_numpy()
    linked, dists = [], []
    for i, keys in enumerate(addr["keys"]):
        best_w, best_d = -1, np.inf
        cand = sorted({w for k in keys for w in key_ways.get(k, ())})
        if cand:
            d = shapely.distance(pts[i], geoms[cand])
            j = int(np.argmin(d))
            best_w, best_d = cand[j], float(d[j])
        if best_d > ADDRESS_NEAR_M:
            near = tree.query(pts[i], predicate="dwithin", distance=ADDRESS_NEAR_M)
            near = [int(w) for w in near if _names_compatible(keys, way_keys[w])]
            if near:
                d = shapely.distance(pts[i], geoms[near])
                j = int(np.argmin(d))
                best_w, best_d = near[j], float(d[j])
        ok = best_d <= ADDRESS_NEAR_M or (best_d <= ADDRESS_FAR_M and addr["nis"].iloc[i] in way_nis[best_w])
        linked.append(best_w if ok and best_w >= 0 else -1)
        dists.append(round(best_d, 1) if ok and best_w >= 0 else np.nan)
    addr["way"] = np.asarray(linked, dtype=int)
    addr["way_dist_m"] = dists
    return addr


def build_address_index(
    pbf_path: str | Path | None = None, *, data_dir: Path | None = None, sectors_path: str | Path | None = None
) -> AddressIndex:
    """Build the address index from an OSM extract (no cache; see :func:`load_address_index`).

    Parameters
    ----------
    pbf_path
        The ``.osm.pbf`` file; default the bundle's ``osm_pbf``.
    data_dir
        Data folder for the bundle lookup.
    sectors_path
        Statbel statistical sectors (for the postcode areas); default the bundle's ``sectors``.

    Returns
    -------
    AddressIndex
        Streets, address points (linked to their street), commune polygons and postcode areas
        in EPSG:31370.
    """
    from geoplanner.inputs.areas import load_sectors

    pbf = Path(pbf_path) if pbf_path is not None else _bundle_pbf(data_dir)
    sectors_file = Path(sectors_path) if sectors_path is not None else _bundle_sectors(data_dir)
    sha = sha256_file(pbf)
    lines, points, polys = _read_osm(pbf)
    communes, commune_names = _communes_from_osm(polys, pbf)
    areas = _postcode_areas(load_sectors(data_dir, path=sectors_file), sectors_file)
    ways = _street_ways(lines, communes, areas)
    key_ways: dict[str, list[int]] = defaultdict(list)
    for i, keys in enumerate(ways["keys"]):
        for k in keys:
            key_ways[k].append(i)
    key_parts = {k: _split_type(k) for k in key_ways}
    core_keys: dict[str, list[str]] = defaultdict(list)
    for k, (_, core) in key_parts.items():
        core_keys[core].append(k)
    addr = _link_points(_address_points(points, polys, lines), ways, key_ways, communes, areas)
    way_points: dict[int, list[int]] = defaultdict(list)
    for i, w in enumerate(addr["way"]):
        if w >= 0:
            way_points[int(w)].append(i)
    return AddressIndex(
        sha256=sha,
        source=str(pbf),
        ways=ways,
        key_ways=dict(key_ways),
        core_keys={k: sorted(v) for k, v in core_keys.items()},
        key_parts=key_parts,
        points=addr,
        way_points=dict(way_points),
        communes=communes,
        postcode_areas=areas,
        commune_names=commune_names,
        sectors_sha256=sha256_file(sectors_file),
    )


def _bundle_pbf(data_dir: Path | None) -> Path:
    from geoplanner.inputs.bundle import dataset_path

    return dataset_path("osm_pbf", data_dir)


def _bundle_sectors(data_dir: Path | None) -> Path:
    from geoplanner.inputs.bundle import dataset_path

    return dataset_path("sectors", data_dir)


_MEMORY: dict[tuple[str, str], AddressIndex] = {}


def load_address_index(
    pbf_path: str | Path | None = None,
    *,
    data_dir: Path | None = None,
    sectors_path: str | Path | None = None,
    use_cache: bool = True,
) -> AddressIndex:
    """Return the address index, from the cache when it matches the inputs' sha256.

    Parameters
    ----------
    pbf_path
        The ``.osm.pbf`` file; default the bundle's ``osm_pbf``.
    data_dir
        Data folder for the bundle lookup.
    sectors_path
        Statbel statistical sectors for the postcode areas; default the bundle's ``sectors``.
    use_cache
        Read and write ``<cache_dir>/geocode/address_index_<sha256[:16]>_<sectors sha256[:8]>_v<N>.pkl``
        (and keep the index in memory for the process).

    Returns
    -------
    AddressIndex
    """
    pbf = Path(pbf_path) if pbf_path is not None else _bundle_pbf(data_dir)
    sectors_file = Path(sectors_path) if sectors_path is not None else _bundle_sectors(data_dir)
    sha, ssha = sha256_file(pbf), sha256_file(sectors_file)
    if use_cache and (sha, ssha) in _MEMORY:
        return _MEMORY[(sha, ssha)]
    cache = settings.cache_dir() / "geocode" / f"address_index_{sha[:16]}_{ssha[:8]}_v{_INDEX_VERSION}.pkl"
    index: AddressIndex | None = None
    if use_cache and cache.exists():
        try:
            with open(cache, "rb") as fh:
                loaded = pickle.load(fh)  # our own cache file, written below
            if (
                isinstance(loaded, AddressIndex)
                and loaded.sha256 == sha
                and loaded.sectors_sha256 == ssha
                and loaded.version == _INDEX_VERSION
            ):
                index = loaded
        except (OSError, pickle.UnpicklingError, AttributeError, EOFError, TypeError):
            index = None  # stale or broken cache: rebuild
    if index is None:
        index = build_address_index(pbf, data_dir=data_dir, sectors_path=sectors_file)
        if use_cache:
            with atomic_path(cache) as tmp, open(tmp, "wb") as fh:
                pickle.dump(index, fh, protocol=pickle.HIGHEST_PROTOCOL)
    if use_cache:
        _MEMORY[(sha, ssha)] = index
    return index


# ----------------------------------------------------------------------------- matching


@dataclass
class _Candidate:
    score: float
    ways: list[int]
    label: str
    nis: tuple[int, ...]  # communes the street touches (30 m slack)
    keys: set[str]
    homes: tuple[int, ...]  # communes holding the middle of its ways


def _score_key(q_type: str, q_core: str, k_type: str, k_core: str, ratio: float) -> float:
    """Score one name pair from its core similarity; a different street type is a different street."""
    if q_type and k_type and q_type != k_type:
        return 0.0
    score = ratio
    if bool(q_type) != bool(k_type):
        score -= 0.05  # "Lessines" for "Rue de Lessines": likely, but say it is less sure
    return score


def _key_scores(index: AddressIndex, variants: list[str]) -> tuple[dict[str, float], str]:
    """Score every index key that resembles one of the query variants; also return the best near-miss."""
    scores: dict[str, float] = {}
    near_miss = ""
    all_cores = list(index.core_keys)
    for v in variants:
        if v in index.key_ways:
            scores[v] = 1.0
            continue
        unglued = _unglue(v)
        if unglued in index.key_ways:
            scores[unglued] = max(scores.get(unglued, 0.0), _UNGLUED_SCORE)
            continue
        q_type, q_core = _split_type(v)
        if not q_core:
            continue
        cores = [q_core] if q_core in index.core_keys else []
        cores += _close_cores(index, q_core, n=8, cutoff=0.75)
        initials = _initial_matches(q_core, all_cores)
        for core in dict.fromkeys(cores + initials):
            if core == q_core:
                ratio = 1.0
            elif core in initials:
                ratio = _INITIALS_SCORE
            else:
                ratio = difflib.SequenceMatcher(None, q_core, core).ratio()
            for key in index.core_keys[core]:
                k_type, _ = index.key_parts[key]
                s = _score_key(q_type, q_core, k_type, core, ratio)
                if s == 0.0 and ratio >= MATCH_THRESHOLD and not near_miss:
                    near_miss = key
                if s > scores.get(key, 0.0):
                    scores[key] = s
    return scores, near_miss


def _unglue(key: str) -> str:
    """Drop a Dutch street type glued to a French name: "rue cervantesstraat" -> "rue cervantes".

    Both halves of a bilingual name written as one ("Rue Cervantesstraat", "Avenue Paul Hymans laan")
    occur in ``addr:street`` and in users' lists. Returns "" when the key is not of that form.
    """
    f_type, core = _split_type(key)
    if f_type not in _FR_TYPES or not core:
        return ""
    last = key.split(" ")[-1]
    for t in _NL_TYPES:
        if last.endswith(t) and (len(last) >= len(t) + 3 or last == t):
            rest = key[: len(key) - len(t)].strip()
            return rest if _split_type(rest)[1] else ""
    return ""


def _close_cores(index: AddressIndex, word: str, n: int, cutoff: float) -> list[str]:
    """Return what ``difflib.get_close_matches(word, cores, n, cutoff)`` returns, faster.

    The same filters in the same order (difflib's ``quick_ratio`` bound, here for every core at
    once from character counts, then ``ratio``), and the same ranking (``heapq.nlargest`` on
    (score, core)), so the result is identical; a plain ``get_close_matches`` over the ~9,000
    cores costs some 80 ms a query.
    """
    rt = _rt(index)
    q = np.zeros(len(rt.alphabet), dtype=np.int16)
    for c in word:
        if c in rt.alphabet:
            q[rt.alphabet[c]] += 1
    matches = np.minimum(rt.core_counts, q).sum(axis=1)
    bound = 2.0 * matches / (rt.core_len + len(word))
    result = []
    for i in np.flatnonzero(bound >= cutoff):
        x = rt.cores[i]
        ratio = difflib.SequenceMatcher(None, x, word).ratio()
        if ratio >= cutoff:
            result.append((ratio, x))
    return [x for _, x in heapq.nlargest(n, result)]


def _initial_matches(q_core: str, cores: list[str]) -> list[str]:
    """Cores that the query writes with initials: "e degas" for "edgar degas"."""
    q_tokens = q_core.split()
    if not any(len(t) == 1 for t in q_tokens) or all(len(t) == 1 for t in q_tokens):
        return []
    out = []
    for core in cores:
        tokens = core.split()
        if len(tokens) == len(q_tokens) and all(
            (len(q) == 1 and t.startswith(q)) or q == t for q, t in zip(q_tokens, tokens, strict=True)
        ):
            out.append(core)
    return out


class _Runtime:
    """Per-index helpers built on first use (arrays, prepared polygons, caches); never pickled."""

    def __init__(self, index: AddressIndex) -> None:
        p = index.points
        self.px = p["x"].to_numpy(dtype=float)
        self.py = p["y"].to_numpy(dtype=float)
        self.lo = p["lo"].to_numpy(dtype=int)
        self.hi = p["hi"].to_numpy(dtype=int)
        self.number = p["number"].to_numpy(dtype=object)
        self.extent = p["extent_m"].to_numpy(dtype=float)
        self.pnis = p["nis"].to_numpy(dtype=int)
        self.ppcs = [set(pcs) | ({pc} if pc else set()) for pcs, pc in zip(p["pcs"], p["postcode"], strict=True)]
        self.way_geoms = index.ways.geometry.to_numpy()
        self.way_pcs = [set(v) for v in index.ways["pcs"]]
        self.way_pcs_edge = [set(v) for v in index.ways["pcs_edge"]]
        self.way_pcs_full = [set(v) for v in index.ways["pcs_full"]]
        self.way_home = index.ways["home"].to_numpy(dtype=int)
        self.way_label = index.ways["label"].to_numpy(dtype=object)
        self.way_nis = list(index.ways["nis"])
        self.way_keys = list(index.ways["keys"])
        self.street = p["street"].to_numpy(dtype=object)
        # Character counts of every core name: difflib's quick_ratio for all of them in one step.
        self.cores = list(index.core_keys)
        self.alphabet = {c: i for i, c in enumerate(sorted({c for core in self.cores for c in core}))}
        self.core_counts = np.zeros((len(self.cores), len(self.alphabet)), dtype=np.int16)
        for i, core in enumerate(self.cores):
            for c in core:
                self.core_counts[i, self.alphabet[c]] += 1
        self.core_len = np.array([len(c) for c in self.cores], dtype=float)
        self.area_geom = {
            str(pc): shapely.buffer(g, _AREA_SLACK_M)
            for pc, g in zip(index.postcode_areas["postcode"], index.postcode_areas.geometry, strict=True)
        }
        self.commune_geom = {
            int(n): shapely.buffer(g, _AREA_SLACK_M)
            for n, g in zip(index.communes["commune_nis"], index.communes.geometry, strict=True)
        }
        for g in [*self.area_geom.values(), *self.commune_geom.values()]:
            shapely.prepare(g)
        self.commune_codes = index.communes["commune_nis"].to_numpy(dtype=int)
        self.commune_tree = shapely.STRtree(index.communes.geometry.to_numpy())
        self.clusters: dict[frozenset[int], list[list[int]]] = {}
        self.clipped: dict[tuple[int, str, tuple], list[LineString]] = {}


def _rt(index: AddressIndex) -> _Runtime:
    rt = index.__dict__.get("_rt")
    if rt is None:
        rt = index.__dict__["_rt"] = _Runtime(index)
    return rt


def _clusters(index: AddressIndex, scores: dict[str, float]) -> list[_Candidate]:
    """Group the ways of the scored keys, and their continuation, into spatially separate streets."""
    if not scores:
        return []
    rt = _rt(index)
    key_set = frozenset(scores)
    cached = rt.clusters.get(key_set)
    if cached is None:
        direct = sorted({w for k in scores for w in index.key_ways[k]})
        cached = rt.clusters[key_set] = _group_ways(index, _continue_street(index, direct, key_set))
    way_score: dict[int, float] = {}
    for key, s in scores.items():
        for w in index.key_ways[key]:
            way_score[w] = max(way_score.get(w, 0.0), s)
    out = []
    for members in cached:
        named = [w for w in members if w in way_score]
        best = max(way_score[w] for w in named)
        labels = Counter(rt.way_label[w] for w in named if way_score[w] == best)
        label = sorted(labels.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        nis = tuple(sorted({n for w in members for n in rt.way_nis[w]}))
        keys = {k for w in members for k in rt.way_keys[w]}
        homes = tuple(sorted({int(rt.way_home[w]) for w in members}))
        out.append(_Candidate(best, members, label, nis, keys, homes))
    return sorted(out, key=lambda c: (-c.score, c.label, c.ways[0]))


def _continue_street(index: AddressIndex, direct: list[int], keys: frozenset[str]) -> list[int]:
    """Add the ways that continue the matched ways under another of their names.

    OSM gives the Dutch name on some ways of a street and not on others ("Chaussée de Wavre -
    Waversesteenweg" here, "Chaussée de Wavre" there), so a query in one language would see
    the street cut in pieces. Ways that carry another name of a matched way and touch the
    street (within the cluster gap, step by step) are the same street.
    """
    rt = _rt(index)
    extra = {k for w in direct for k in rt.way_keys[w]} - keys
    pool = sorted({w for k in extra for w in index.key_ways.get(k, ())} - set(direct))
    members = list(direct)
    while pool:
        near = shapely.distance(rt.way_geoms[pool], shapely.union_all(rt.way_geoms[members])) <= _CLUSTER_GAP_M
        if not near.any():
            break
        members += [w for w, n in zip(pool, near, strict=True) if n]
        pool = [w for w, n in zip(pool, near, strict=True) if not n]
    return sorted(members)


def _group_ways(index: AddressIndex, ids: list[int]) -> list[list[int]]:
    """Ways closer than the cluster gap, or of one name in one commune, form one street."""
    geoms = _rt(index).way_geoms[ids]
    blobs = shapely.unary_union(shapely.buffer(geoms, _CLUSTER_GAP_M / 2))
    parts = list(getattr(blobs, "geoms", [blobs]))
    tree = shapely.STRtree(parts)
    blob_of = {}
    for way_id, geom in zip(ids, geoms, strict=True):
        hits = tree.query(geom, predicate="intersects")
        blob_of[way_id] = int(hits[0]) if len(hits) else -1
    # Within one commune a street name is unique, so pieces of the same name in the same
    # commune are one street with a gap (a square, a renamed stretch), not two streets.
    parent = {b: b for b in blob_of.values()}

    def find(b: int) -> int:
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        return b

    first_blob_of_home: dict[int, int] = {}
    for way_id in ids:
        home = int(_rt(index).way_home[way_id])
        b = blob_of[way_id]
        if home in first_blob_of_home:
            parent[find(b)] = find(first_blob_of_home[home])
        else:
            first_blob_of_home[home] = b
    groups: dict[int, list[int]] = defaultdict(list)
    for way_id in ids:
        groups[find(blob_of[way_id])].append(way_id)
    return [sorted(members) for members in groups.values()]


@dataclass(frozen=True)
class _Area:
    """Where the query says the address is: a postcode area, a commune, or nowhere in particular."""

    kind: str  # 'postcode', 'commune' or ''
    code: str | int | None
    check: str  # postcode_check of the result when the street lies in the area

    @property
    def label(self) -> str:
        return f"postcode {self.code}" if self.kind == "postcode" else f"commune {self.code}"


def _area(index: AddressIndex, postcode: str, commune: str) -> _Area:
    if postcode:
        if postcode in _rt(index).area_geom:
            return _Area("postcode", postcode, "ok")
        return _Area("", None, "unknown postcode")
    if commune:
        variants = [normalise_street(commune), *street_variants(commune)]
        for v in variants:
            if v in index.commune_names:
                return _Area("commune", index.commune_names[v], "commune ok")
        # "Molenbeek" for "Molenbeek-Saint-Jean": accept a name contained in exactly one commune's name.
        found = {
            nis
            for v in variants
            for name, nis in index.commune_names.items()
            if re.search(rf"(^| ){re.escape(v)}( |$)", name)
        }
        if len(found) == 1:
            return _Area("commune", found.pop(), "commune ok")
        return _Area("", None, "unknown commune")
    return _Area("", None, "not given")


def _street_in_area(index: AddressIndex, cand: _Candidate, area: _Area) -> int:
    """2 when the street runs through the area, 1 when it only runs along its border, else 0."""
    rt = _rt(index)
    if area.kind == "postcode":
        if any(area.code in rt.way_pcs[w] for w in cand.ways):
            return 2
        return int(any(area.code in rt.way_pcs_edge[w] for w in cand.ways))
    if area.kind == "commune":
        return 2 if area.code in cand.homes else 0
    return 0


def _distance_to_area(index: AddressIndex, cand: _Candidate, area: _Area) -> float:
    """Distance (metres) from the street to the area."""
    rt = _rt(index)
    zone = rt.area_geom[area.code] if area.kind == "postcode" else rt.commune_geom[area.code]
    return float(shapely.distance(zone, shapely.union_all(rt.way_geoms[cand.ways])))


def _point_in_area(index: AddressIndex, i: int, area: _Area) -> bool:
    rt = _rt(index)
    if area.kind == "postcode":
        return area.code in rt.ppcs[i]
    if area.kind == "commune":
        return int(rt.pnis[i]) == area.code
    return True


def _xy_in_area(index: AddressIndex, pt: Point, area: _Area) -> bool:
    rt = _rt(index)
    if area.kind == "postcode":
        return bool(shapely.contains(rt.area_geom[area.code], pt))
    if area.kind == "commune":
        return bool(shapely.contains(rt.commune_geom[area.code], pt))
    return True


def _clip(index: AddressIndex, w: int, area: _Area) -> list[LineString]:
    """Return the pieces of way ``w`` inside the area (with slack)."""
    rt = _rt(index)
    key = (w, area.kind, (area.code,))
    if key in rt.clipped:
        return rt.clipped[key]
    geom = rt.way_geoms[w]
    zone = rt.area_geom[area.code] if area.kind == "postcode" else rt.commune_geom[area.code]
    if not shapely.intersects(zone, geom):
        rt.clipped[key] = []
        return []
    if area.kind == "postcode":
        zone = rt.area_geom[area.code]
        inside = area.code in rt.way_pcs_full[w]
    else:
        zone = rt.commune_geom[area.code]
        inside = bool(shapely.contains(zone, geom))
    clipped = geom if inside else shapely.intersection(geom, zone)
    pieces = [p for p in getattr(clipped, "geoms", [clipped]) if isinstance(p, LineString) and not p.is_empty]
    rt.clipped[key] = pieces
    return pieces


def _in_zone(index: AddressIndex, geom: LineString, area: _Area) -> LineString | MultiLineString | None:
    """Return the part of ``geom`` inside the area (with slack), or ``None`` when nothing is inside."""
    rt = _rt(index)
    zone = rt.area_geom[area.code] if area.kind == "postcode" else rt.commune_geom[area.code]
    inside = shapely.intersection(geom, zone)
    lines = [p for p in getattr(inside, "geoms", [inside]) if isinstance(p, LineString) and p.length >= 1.0]
    if not lines:
        return None
    return lines[0] if len(lines) == 1 else MultiLineString(lines)


def _to_postcodes(index: AddressIndex, i: int) -> str:
    """Postcode(s) and commune of address point ``i`` in words."""
    rt = _rt(index)
    pcs = "/".join(sorted(rt.ppcs[i])) or "?"
    return f"postcode {pcs}, commune {int(rt.pnis[i])}"


def _clean(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    text = str(value).strip()
    return "" if text.lower() in ("nan", "<na>", "none") else text


def _postcode(value: object) -> str:
    text = _clean(value)
    if re.fullmatch(r"\d{4}(\.0)?", text):
        return text[:4]
    m = re.fullmatch(r"(?:b\s*-?\s*)?(\d{4})(?:\s+\D.*)?", text.lower())
    return m.group(1) if m else text


@lru_cache(maxsize=1)
def _to_wgs84():
    from pyproj import Transformer

    return Transformer.from_crs(settings.CRS, settings.WGS84, always_xy=True)


def _commune_of(index: AddressIndex, pt: Point) -> int:
    rt = _rt(index)
    hits = rt.commune_tree.query(pt, predicate="within")
    if len(hits):
        return int(rt.commune_codes[int(min(hits))])
    nearest = rt.commune_tree.query_nearest(pt)
    return int(rt.commune_codes[int(min(nearest))])


@dataclass
class _Placement:
    point: Point
    radius: float
    accuracy: str
    method: str
    points: list[int] = field(default_factory=list)  # address points it rests on
    flags: list[str] = field(default_factory=list)


def _match_number(index: AddressIndex, ids: list[int], hn: HouseNumber, area: _Area) -> _Placement | None:
    """Find the OSM address point(s) of number or range ``hn`` among the street's points ``ids``."""
    if not ids:
        return None
    rt = _rt(index)
    ids_a = np.asarray(ids)
    lo, hi, number = rt.lo[ids_a], rt.hi[ids_a], rt.number[ids_a]
    # A stored range over both sides (14-15) or a query of that kind matches either parity.
    stored_parity = np.where((hi - lo) % 2 == 0, lo % 2, -1)
    parity_ok = (stored_parity == -1) | (hn.parity is None) | (stored_parity == hn.parity)
    kind = ""
    sel = number == hn.text
    if sel.any():
        kind = "exact"
    elif not hn.is_range:
        sel = (lo <= hn.lo) & (hi >= hn.lo) & (hi > lo) & parity_ok
        kind = "in_range"
        if not sel.any() and hn.suffix:
            sel = number == str(hn.lo)
            kind = "without_suffix"
    else:
        sel = (lo <= hn.hi) & (hi >= hn.lo) & parity_ok
        kind = "range"
    if not sel.any():
        return None
    chosen = [int(i) for i in ids_a[sel]]
    inside = [i for i in chosen if _point_in_area(index, i, area)]
    outside_only = not inside
    pool = inside or chosen
    # Points of one number far apart are different places (numbering restarting): keep the first group.
    pool = sorted(pool, key=lambda i: (rt.lo[i], rt.py[i], rt.px[i]))
    first = pool[0]
    group = [i for i in pool if np.hypot(rt.px[i] - rt.px[first], rt.py[i] - rt.py[first]) <= _SAME_PLACE_M]
    x, y = float(rt.px[group].mean()), float(rt.py[group].mean())
    spread = max(float(np.hypot(rt.px[i] - x, rt.py[i] - y)) + float(rt.extent[i]) for i in group)
    radius = max(ADDRESS_POINT_RADIUS_M, spread)
    nums = ", ".join(dict.fromkeys(str(rt.number[i]) for i in group))
    street = rt.street[first]
    if kind == "exact" and len(group) == 1:
        method = f"OSM address point ({street} {nums})"
    elif kind == "exact":
        method = f"mean of {len(group)} OSM address points of {street} {nums}"
    elif kind == "in_range":
        method = f"OSM address point of the range {street} {nums}, which holds number {hn.text}"
    elif kind == "without_suffix":
        method = f"OSM address point {street} {nums} ({hn.text} is not in OSM)"
    else:
        method = f"OSM address point(s) {street} {nums}, within the range {hn.text}"
    flags = []
    if len(pool) > len(group):
        flags.append(f"number {hn.text} found at {len(pool)} places along the street; the first is used")
    if outside_only and area.kind:
        flags.append(f"{area.kind} mismatch: address point lies in {_to_postcodes(index, first)}")
    return _Placement(Point(x, y), radius, "address_point", method, group, flags)


def _street_parts(index: AddressIndex, ways: list[int]) -> list[LineString]:
    merged = linemerge(MultiLineString([_rt(index).way_geoms[w] for w in ways]))
    return list(getattr(merged, "geoms", [merged]))


def _numbered(index: AddressIndex, ids: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Known numbers of the street: (number, x, y, point id); a range gives its two ends."""
    rt = _rt(index)
    ids_a = np.asarray(ids, dtype=int)
    nums = np.r_[rt.lo[ids_a], rt.hi[ids_a]]
    keep = np.r_[np.ones(len(ids_a), bool), rt.hi[ids_a] > rt.lo[ids_a]]
    pid = np.r_[ids_a, ids_a][keep]
    return nums[keep], rt.px[pid], rt.py[pid], pid


def _interpolate(index: AddressIndex, parts: list[LineString], ids: list[int], hn: HouseNumber) -> _Placement | None:
    """Interpolate between the nearest known numbers below and above, same side of the street first."""
    if not ids:
        return None
    nums, xs, ys, pid = _numbered(index, ids)
    target = (hn.lo + hn.hi) / 2
    parity = hn.parity
    for same_side in (True, False):
        if same_side and parity is None:
            continue
        ok = (nums % 2 == parity) if same_side else np.ones(len(nums), bool)
        below = np.flatnonzero(ok & (nums < target))
        above = np.flatnonzero(ok & (nums > target))
        if not len(below) or not len(above):
            continue
        # Nearest number on each side; ties broken by position for determinism.
        i_lo = below[np.lexsort((xs[below], ys[below], nums[below]))[-1]]
        i_hi = above[np.lexsort((xs[above], ys[above], -nums[above]))[-1]]
        n_lo, n_hi = nums[i_lo], nums[i_hi]
        if n_hi - n_lo > _INTERP_MAX_GAP:
            continue
        p_lo, p_hi = Point(xs[i_lo], ys[i_lo]), Point(xs[i_hi], ys[i_hi])
        part = min(parts, key=lambda g: g.distance(p_lo) + g.distance(p_hi))
        d_lo, d_hi = part.project(p_lo), part.project(p_hi)
        if abs(d_hi - d_lo) > _INTERP_MAX_DIST_M:
            continue
        t = (target - n_lo) / (n_hi - n_lo)
        on_line = part.interpolate(d_lo + t * (d_hi - d_lo))
        # Carry the neighbours' set-back from the centre line over to the point, in proportion.
        q_lo, q_hi = part.interpolate(d_lo), part.interpolate(d_hi)
        dx = (1 - t) * (p_lo.x - q_lo.x) + t * (p_hi.x - q_hi.x)
        dy = (1 - t) * (p_lo.y - q_lo.y) + t * (p_hi.y - q_hi.y)
        point = Point(on_line.x + dx, on_line.y + dy) if same_side else on_line
        reach = max(point.distance(p_lo), point.distance(p_hi))
        radius = max(
            ADDRESS_POINT_RADIUS_M, INTERPOLATION_RADIUS_SHARE * reach + (0 if same_side else STREET_SETBACK_M)
        )
        side = "same side" if same_side else "either side"
        street = _rt(index).street[int(pid[i_lo])]
        method = f"interpolated between OSM address points {street} {n_lo} and {n_hi} ({side}) along the street"
        return _Placement(point, radius, "interpolated", method, [int(pid[i_lo]), int(pid[i_hi])])
    return None


def _street_point(geom: LineString | MultiLineString, how: str) -> _Placement:
    """Place a street-level point: nearest the centre of ``geom``, radius to its farthest end."""
    if isinstance(geom, LineString):
        point = geom.interpolate(0.5, normalized=True)
    else:
        point = nearest_points(geom, geom.centroid)[0]
    reach = float(shapely.hausdorff_distance(point, geom))
    return _Placement(point, max(ADDRESS_POINT_RADIUS_M, reach + STREET_SETBACK_M), "street", how)


def _numbered_section(
    index: AddressIndex, parts: list[LineString], ids: list[int], hn: HouseNumber
) -> tuple[LineString, str] | None:
    """Return the stretch of the street where number ``hn`` must lie, judging by the known numbers.

    House numbers grow along a street, so the wanted number lies between its known neighbours on
    the same side even when they are too far apart to interpolate; with known numbers on one side
    only, it lies beyond the nearest of them, in the direction the numbers run, about as far as
    the known numbers' spacing says (the stretch spans twice that distance). Returns the
    stretch and its description; ``None`` when the known numbers say nothing (none on the same
    side, a single one, or not on one continuous line).
    """
    if not ids:
        return None
    nums, xs, ys, _ = _numbered(index, ids)
    # Same side only: the odd and even sides of a long road run out of step by hundreds of metres.
    side = (nums % 2 == hn.parity) if hn.parity is not None else np.ones(len(nums), bool)
    below = np.flatnonzero(side & (nums < hn.lo))
    above = np.flatnonzero(side & (nums > hn.hi))
    if not len(below) and not len(above):
        return None
    # Nearest known number on each side; ties broken by position for determinism.
    i_lo = below[np.lexsort((xs[below], ys[below], nums[below]))[-1]] if len(below) else -1
    i_hi = above[np.lexsort((xs[above], ys[above], -nums[above]))[-1]] if len(above) else -1
    if i_lo >= 0 and i_hi >= 0:
        p_lo, p_hi = Point(xs[i_lo], ys[i_lo]), Point(xs[i_hi], ys[i_hi])
        part = min(parts, key=lambda g: g.distance(p_lo) + g.distance(p_hi))
        if part.distance(p_lo) > ADDRESS_NEAR_M or part.distance(p_hi) > ADDRESS_NEAR_M:
            return None
        d_lo, d_hi = sorted((part.project(p_lo), part.project(p_hi)))
        section = substring(part, d_lo, d_hi)
        how = f"between the known numbers {nums[i_lo]} and {nums[i_hi]}"
    else:
        # One side only: the nearest and the farthest known numbers give the direction and the
        # metres per number; the wanted number is that far beyond the nearest one.
        known = below if len(below) else above
        near_i = i_lo if len(below) else i_hi
        far_i = known[np.argmax(np.abs(nums[known] - hn.lo))]
        p_near, p_far = Point(xs[near_i], ys[near_i]), Point(xs[far_i], ys[far_i])
        part = min(parts, key=lambda g: g.distance(p_near) + g.distance(p_far))
        if part.distance(p_near) > ADDRESS_NEAR_M or part.distance(p_far) > ADDRESS_NEAR_M:
            return None
        d_near, d_far = part.project(p_near), part.project(p_far)
        if abs(d_near - d_far) < _SAME_PLACE_M / 5 or nums[near_i] == nums[far_i]:
            return None
        per_number = abs(d_near - d_far) / abs(nums[near_i] - nums[far_i])
        reach = abs((hn.lo + hn.hi) / 2 - nums[near_i]) * per_number
        d = d_near + reach if d_near > d_far else d_near - reach
        if not 0.0 <= d <= part.length:
            return None  # beyond this line's end: the street goes on elsewhere, or the number does not exist
        # The stretch from the nearest known number to twice the estimated distance stands for the doubt.
        section = substring(part, *sorted((d_near, min(max(d_near + 2 * (d - d_near), 0.0), part.length))))
        how = f"beyond the known number {nums[near_i]} ({per_number:.0f} m per number from {nums[far_i]})"
    if not isinstance(section, LineString) or section.length < 1.0:
        return None
    return section, how


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
        From :func:`load_address_index`.
    street
        Street name as written, in French, Dutch or both ("Rue X - Xstraat"),
        abbreviations and missing accents allowed.
    number
        House number, range or number with box (optional; "12", "12A", "27-31", "610/640",
        "12 bte 3"; see :func:`parse_house_number`).
    postcode
        Brussels postcode (optional but recommended; checked against the postcode areas).
    commune
        Commune name, used when no postcode is given.

    Returns
    -------
    GeocodeResult
        Never a silent guess: below :data:`MATCH_THRESHOLD`, or when two streets match
        equally well, the result is ``not_found`` with the reason. A placed result carries its
        ``uncertainty_m``.
    """
    street_s, number_s, postcode_s, commune_s = _clean(street), _clean(number), _postcode(postcode), _clean(commune)
    query = ", ".join(p for p in (f"{street_s} {number_s}".strip(), f"{postcode_s} {commune_s}".strip()) if p)
    if not street_s:
        return GeocodeResult(query, "not_found", "not geocoded", reason="no street given")
    area = _area(index, postcode_s, commune_s)
    pc_check = area.check
    scores, near_miss = _key_scores(index, street_variants(street_s))
    candidates = _clusters(index, scores)
    in_area = []
    if area.kind:
        # Streets through the area first; streets only along its border when there is none.
        level = [_street_in_area(index, c, area) for c in candidates]
        top = max(level, default=0)
        in_area = [c for c, lv in zip(candidates, level, strict=True) if lv == top > 0]
    if in_area:
        pool = in_area
    else:
        pool = candidates
        if area.kind:
            for c in pool:
                c.score -= POSTCODE_PENALTY
    pool = sorted(pool, key=lambda c: (-c.score, c.label, c.ways[0]))
    accepted = [c for c in pool if c.score >= MATCH_THRESHOLD]
    if not accepted:
        if pool:
            best = pool[0]
            where = "" if not area.kind or in_area else f" (outside {area.label})"
            reason = f"no street close enough: best '{best.label}' scored {best.score:.2f}{where} < {MATCH_THRESHOLD}"
        else:
            reason = "street not found in OSM"
        if near_miss:
            reason += f"; '{near_miss}' has a different street type"
        best_score = round(max(pool[0].score, 0.0), 3) if pool else 0.0
        return GeocodeResult(
            query, "not_found", "not geocoded", score=best_score, postcode_check=pc_check, reason=reason
        )
    best = accepted[0]
    tied = [c for c in accepted if c.score >= best.score - _AMBIGUITY_MARGIN]
    if len(tied) > 1 and area.kind and not in_area:
        # A wrong postcode is most often a neighbouring one: a single tied street next to the area wins.
        near = [c for c in tied if _distance_to_area(index, c, area) <= _NEIGHBOUR_M]
        if len(near) == 1:
            best, accepted = near[0], [near[0]]
    if len(accepted) > 1 and accepted[1].score >= best.score - _AMBIGUITY_MARGIN:
        names = "; ".join(f"'{c.label}' in {'/'.join(str(n) for n in c.homes)}" for c in accepted[:4])
        hint = "give the postcode" if not area.kind else "check the postcode"
        return GeocodeResult(
            query,
            "not_found",
            "not geocoded",
            score=round(best.score, 3),
            postcode_check=pc_check,
            reason=f"ambiguous: {len(accepted)} streets match ({names}); {hint}",
        )
    flags = []
    street_in_area = bool(area.kind) and bool(in_area)
    if area.kind and not in_area:
        pc_check = "mismatch"
        flags.append(
            f"{area.kind} mismatch: street lies outside {area.label} (in commune {'/'.join(map(str, best.homes))})"
        )
    rt = _rt(index)
    hn = parse_house_number(number_s) if number_s else None
    if number_s and hn is None:
        flags.append(f"house number {number_s!r} not understood")
    ids = sorted(i for w in best.ways for i in index.way_points.get(w, ()))
    parts = _street_parts(index, best.ways)
    # The stretch the postcode points at (the whole street when it lies elsewhere).
    if street_in_area:
        stretch = [p for w in best.ways for p in _clip(index, w, area)] or [rt.way_geoms[w] for w in best.ways]
    else:
        stretch = [rt.way_geoms[w] for w in best.ways]
    stretch_geom = MultiLineString(stretch)
    placed: _Placement | None = None
    if hn is not None:
        placed = _match_number(index, ids, hn, area if street_in_area else _Area("", None, ""))
        if placed is None:
            placed = _interpolate(index, parts, ids, hn)
            if placed is not None and street_in_area and not _xy_in_area(index, placed.point, area):
                placed.flags.append(
                    f"{area.kind} mismatch: the interpolated point lies outside {area.label}"
                    f" ({_to_postcodes(index, placed.points[0])})"
                )
        if placed is None:
            flags.append(f"number {number_s} not in OSM: street-level point")
            section = _numbered_section(index, parts, ids, hn)
            if section is not None:
                geom, how = section
                # Within the postcode area when the stretch reaches it; else the numbers overrule the
                # postcode, as an address point in another postcode does (hold-out: right far more often).
                inside = _in_zone(index, geom, area) if street_in_area else None
                placed = _street_point(inside or geom, f"OSM street geometry: middle of the stretch {how}")
                if street_in_area and inside is None:
                    placed.flags.append(f"{area.kind} mismatch: the stretch {how} lies outside {area.label}")
    elif not number_s:
        flags.append("no house number: street-level point")
    if placed is None:
        placed = _street_point(
            stretch_geom,
            "OSM street geometry: point of the street nearest to its centre"
            + (f" within {area.label}" if street_in_area else ""),
        )
        others = sorted({pc for w in best.ways for pc in rt.way_pcs[w]} - {area.code})
        if street_in_area and area.kind == "postcode" and others:
            # Only the postcode picks the stretch: say so, a wrong postcode would put the point there.
            placed.flags.append(f"the street also runs through postcode {'/'.join(others)}")
    if any(" mismatch: " in f for f in placed.flags):
        pc_check = "mismatch"
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
        score=round(best.score, 3),
        matched_street=best.label,
        commune_nis=_commune_of(index, point),
        postcode_check=pc_check,
        reason="; ".join(flags + placed.flags),
    )


def geocode_frame(
    df: pd.DataFrame,
    *,
    index: AddressIndex | None = None,
    data_dir: Path | None = None,
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
        Address index (default: :func:`load_address_index` on the bundle's extract).
    data_dir
        Data folder for the bundle lookup.
    street, number, postcode, commune
        Column names.

    Returns
    -------
    pandas.DataFrame
        One row per input row (same index) with the fields of :class:`GeocodeResult`.
    """
    if street not in df.columns:
        raise DataError(f"no '{street}' column to geocode", column=street)
    index = index or load_address_index(data_dir=data_dir)
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
