"""Offline geocoding of Brussels addresses against the bundled OpenStreetMap extract.

No online service is called. An address index is built once from the OSM ``.pbf`` (GDAL's
OSM driver through pyogrio) and cached under :func:`geoplanner.settings.cache_dir`, keyed by
the file's sha256:

- **streets**: every named ``highway`` way, indexed under ``name``, ``name:fr`` and
  ``name:nl`` and under each half of Brussels' bilingual names ("Rue X - Xstraat");
- **address points**: nodes and building polygons with ``addr:housenumber`` and
  ``addr:street`` (plus numbered end nodes of ``addr:interpolation`` ways, which take the
  street of their way);
- **communes**: the 19 OSM municipality polygons (``admin_level=8``, ``ref:INS``), used for
  the postcode check through the authored table :data:`POSTCODE_COMMUNES`.

A query is matched in three steps. The street name is normalised (lower case, no accents,
abbreviations such as ``av.``, ``bd``, ``chée``, ``str.``, ``stwg`` expanded) and split into a
street type (``rue``, ``avenue``, ``...straat``, ``...laan``) and a core name. An exact
match scores 1; otherwise cores are compared with :class:`difflib.SequenceMatcher`. Two
names whose street types differ ("Rue des Grenadiers" / "Avenue des Grenadiers") are
treated as different streets, because in Brussels both often exist. Below
:data:`MATCH_THRESHOLD` the result is ``not_found``: the geocoder never guesses silently.
The matched street must lie in the commune(s) of the postcode; a street found only in
another commune is accepted only if it is a single street, with a score penalty and a
``postcode mismatch`` flag, and two or more equally good streets make the result
``not_found`` (ambiguous).

The point is then, in order of preference, the OSM address point with that number
(``address_point``), a point interpolated along the street between the nearest known
numbers of the same parity (``interpolated``), or the point of the street nearest to the
centre of its geometry within the postcode area (``street``). The 2013 extract has few
house numbers (a few thousand address points for the whole region), so most results are
street-level: accurate to a few hundred metres along long streets.
"""

from __future__ import annotations

import difflib
import pickle
import re
import unicodedata
import warnings
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiLineString, Point
from shapely.ops import linemerge, nearest_points

from geoplanner import settings
from geoplanner._io import atomic_path, sha256_file
from geoplanner.errors import DataError

__all__ = [
    "ACCURACY_CLASSES",
    "MATCH_THRESHOLD",
    "POSTCODE_PENALTY",
    "POSTCODE_COMMUNES",
    "AddressIndex",
    "GeocodeResult",
    "normalise_street",
    "street_variants",
    "build_address_index",
    "load_address_index",
    "geocode",
    "geocode_frame",
]

#: Accuracy classes, best first.
ACCURACY_CLASSES = ("address_point", "interpolated", "street", "not_found")

#: Minimum street-name score (0-1) to accept a match. 0.85 accepts a missing article or
#: a one-letter typo in a name of 8+ letters ("Lesines" for "Lessines": 0.93) and rejects
#: distinct short names ("Loi" / "Roi": 0.67).
MATCH_THRESHOLD = 0.85

#: Score removed when the street exists, but not in the commune(s) of the given postcode.
POSTCODE_PENALTY = 0.10

#: Brussels postcodes -> commune NIS codes whose territory they cover (public fact, authored).
#: 1000/1020/1120/1130 are parts of the City of Brussels; 1040 and 1050 also cover parts of
#: the City (European quarter, Avenue Louise / Bois de la Cambre).
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

_INDEX_VERSION = 1
# A street's ways closer than this belong to one street (gaps at squares and crossings).
_CLUSTER_GAP_M = 150.0
# A street counts as being in a commune when it comes this close to the commune polygon.
_COMMUNE_SLACK_M = 30.0
# Address points farther than this from the matched street are not used.
_ADDRESS_MAX_DIST_M = 120.0
# Interpolation only between numbers this close (in numbers and in metres).
_INTERP_MAX_GAP = 60
_INTERP_MAX_DIST_M = 800.0
# Score of a name written with initials ("E. Degas" for "Edgar Degas"): likely, not certain.
_INITIALS_SCORE = 0.92
# Two candidates within this score of each other are equally good (ambiguous).
_AMBIGUITY_MARGIN = 0.02

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
_NUMBER = re.compile(r"^\s*(\d+)\s*([a-zA-Z]?)")
# Highway values that are not streets one lives on (kept out of the street index).
_NOT_STREETS = ("construction", "proposed", "platform", "abandoned", "razed", "motorway", "motorway_link")


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
    score
        Street-name match score (0-1), after the postcode penalty.
    matched_street
        The OSM street name matched (empty when none).
    commune_nis
        Commune of the point (0 when not found).
    postcode_check
        'ok', 'mismatch', 'unknown postcode' or 'not given'.
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
    ways: gpd.GeoDataFrame  # label, keys (tuple), nis (tuple), geometry (EPSG:31370)
    key_ways: dict[str, list[int]]
    core_keys: dict[str, list[str]]
    key_parts: dict[str, tuple[str, str]]
    points: pd.DataFrame  # x, y, number, number_int, suffix, postcode, keys
    key_points: dict[str, list[int]]
    communes: gpd.GeoDataFrame  # commune_nis, names (tuple), geometry
    commune_names: dict[str, int] = field(default_factory=dict)
    version: int = _INDEX_VERSION

    def summary(self) -> dict[str, int]:
        """Return counts describing the index (for reports)."""
        return {
            "street_ways": len(self.ways),
            "street_names": len(self.key_ways),
            "address_points": len(self.points),
            "communes": len(self.communes),
        }


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


def _street_ways(lines: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
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
        gpd.GeoDataFrame(communes[["commune_nis"]], geometry=communes.buffer(_COMMUNE_SLACK_M), crs=settings.CRS),
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
    return ways[ways["nis"].map(len) > 0]


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
            street = tags.get("addr:street") or interp_street.get((round(geom.x, 2), round(geom.y, 2)))
            if not street:
                continue
            names = [street, tags.get("addr:street:fr"), tags.get("addr:street:nl")]
            keys: list[str] = []
            for n in names:
                for v in street_variants(n) if isinstance(n, str) else []:
                    if v not in keys:
                        keys.append(v)
            for number in re.split(r"[;,]", tags["addr:housenumber"]):
                m = _NUMBER.match(number)
                if not m:
                    continue
                rows.append(
                    {
                        "x": geom.x,
                        "y": geom.y,
                        "number": number.strip().lower().replace(" ", ""),
                        "number_int": int(m.group(1)),
                        "postcode": tags.get("addr:postcode", ""),
                        "street": street,
                        "keys": tuple(keys),
                    }
                )
    df = pd.DataFrame(rows, columns=["x", "y", "number", "number_int", "postcode", "street", "keys"])
    return df.drop_duplicates(subset=["x", "y", "number", "street"], ignore_index=True)


def build_address_index(pbf_path: str | Path | None = None, *, data_dir: Path | None = None) -> AddressIndex:
    """Build the address index from an OSM extract (no cache; see :func:`load_address_index`).

    Parameters
    ----------
    pbf_path
        The ``.osm.pbf`` file; default the bundle's ``osm_pbf``.
    data_dir
        Data folder for the bundle lookup.

    Returns
    -------
    AddressIndex
        Streets, address points and commune polygons in EPSG:31370.
    """
    pbf = Path(pbf_path) if pbf_path is not None else _bundle_pbf(data_dir)
    sha = sha256_file(pbf)
    lines, points, polys = _read_osm(pbf)
    communes, commune_names = _communes_from_osm(polys, pbf)
    ways = _street_ways(lines, communes)
    key_ways: dict[str, list[int]] = defaultdict(list)
    for i, keys in enumerate(ways["keys"]):
        for k in keys:
            key_ways[k].append(i)
    ways = ways.reset_index(drop=True)
    key_parts = {k: _split_type(k) for k in key_ways}
    core_keys: dict[str, list[str]] = defaultdict(list)
    for k, (_, core) in key_parts.items():
        core_keys[core].append(k)
    addr = _address_points(points, polys, lines)
    key_points: dict[str, list[int]] = defaultdict(list)
    for i, keys in enumerate(addr["keys"]):
        for k in keys:
            key_points[k].append(i)
    return AddressIndex(
        sha256=sha,
        source=str(pbf),
        ways=ways,
        key_ways=dict(key_ways),
        core_keys={k: sorted(v) for k, v in core_keys.items()},
        key_parts=key_parts,
        points=addr,
        key_points=dict(key_points),
        communes=communes,
        commune_names=commune_names,
    )


def _bundle_pbf(data_dir: Path | None) -> Path:
    from geoplanner.bundle import dataset_path

    return dataset_path("osm_pbf", data_dir)


_MEMORY: dict[str, AddressIndex] = {}


def load_address_index(
    pbf_path: str | Path | None = None, *, data_dir: Path | None = None, use_cache: bool = True
) -> AddressIndex:
    """Return the address index, from the cache when it matches the extract's sha256.

    Parameters
    ----------
    pbf_path
        The ``.osm.pbf`` file; default the bundle's ``osm_pbf``.
    data_dir
        Data folder for the bundle lookup.
    use_cache
        Read and write ``<cache_dir>/geocode/address_index_<sha256[:16]>_v<N>.pkl`` (and keep
        the index in memory for the process).

    Returns
    -------
    AddressIndex
    """
    pbf = Path(pbf_path) if pbf_path is not None else _bundle_pbf(data_dir)
    sha = sha256_file(pbf)
    if use_cache and sha in _MEMORY:
        return _MEMORY[sha]
    cache = settings.cache_dir() / "geocode" / f"address_index_{sha[:16]}_v{_INDEX_VERSION}.pkl"
    index: AddressIndex | None = None
    if use_cache and cache.exists():
        try:
            with open(cache, "rb") as fh:
                loaded = pickle.load(fh)  # our own cache file, written below
            if isinstance(loaded, AddressIndex) and loaded.sha256 == sha and loaded.version == _INDEX_VERSION:
                index = loaded
        except (OSError, pickle.UnpicklingError, AttributeError, EOFError):
            index = None  # stale or broken cache: rebuild
    if index is None:
        index = build_address_index(pbf)
        if use_cache:
            with atomic_path(cache) as tmp, open(tmp, "wb") as fh:
                pickle.dump(index, fh, protocol=pickle.HIGHEST_PROTOCOL)
    if use_cache:
        _MEMORY[sha] = index
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
        q_type, q_core = _split_type(v)
        if not q_core:
            continue
        cores = [q_core] if q_core in index.core_keys else []
        cores += difflib.get_close_matches(q_core, all_cores, n=8, cutoff=0.75)
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


def _clusters(index: AddressIndex, scores: dict[str, float]) -> list[_Candidate]:
    """Group the ways of the scored keys into spatially separate streets."""
    way_score: dict[int, float] = {}
    for key, s in scores.items():
        for w in index.key_ways[key]:
            way_score[w] = max(way_score.get(w, 0.0), s)
    if not way_score:
        return []
    ids = sorted(way_score)
    geoms = index.ways.geometry.iloc[ids]
    blobs = shapely.unary_union(geoms.buffer(_CLUSTER_GAP_M / 2).to_numpy())
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
        home = int(index.ways.at[way_id, "home"])
        b = blob_of[way_id]
        if home in first_blob_of_home:
            parent[find(b)] = find(first_blob_of_home[home])
        else:
            first_blob_of_home[home] = b
    groups: dict[int, list[int]] = defaultdict(list)
    for way_id in ids:
        groups[find(blob_of[way_id])].append(way_id)
    out = []
    for members in groups.values():
        best = max(way_score[w] for w in members)
        labels = Counter(index.ways.at[w, "label"] for w in members if way_score[w] == best)
        label = sorted(labels.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        nis = tuple(sorted({n for w in members for n in index.ways.at[w, "nis"]}))
        keys = {k for w in members for k in index.ways.at[w, "keys"]}
        homes = tuple(sorted({int(index.ways.at[w, "home"]) for w in members}))
        out.append(_Candidate(best, sorted(members), label, nis, keys, homes))
    return sorted(out, key=lambda c: (-c.score, c.label, c.ways[0]))


def _area_nis(index: AddressIndex, postcode: str, commune: str) -> tuple[tuple[int, ...], str]:
    if postcode:
        if postcode in POSTCODE_COMMUNES:
            return POSTCODE_COMMUNES[postcode], "ok"
        return (), "unknown postcode"
    if commune:
        variants = [normalise_street(commune), *street_variants(commune)]
        for v in variants:
            if v in index.commune_names:
                return (index.commune_names[v],), "commune ok"
        # "Molenbeek" for "Molenbeek-Saint-Jean": accept a name contained in exactly one commune's name.
        found = {
            nis
            for v in variants
            for name, nis in index.commune_names.items()
            if re.search(rf"(^| ){re.escape(v)}( |$)", name)
        }
        if len(found) == 1:
            return (found.pop(),), "commune ok"
        return (), "unknown commune"
    return (), "not given"


def _clean(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    text = str(value).strip()
    return "" if text.lower() in ("nan", "<na>", "none") else text


def _postcode(value: object) -> str:
    text = _clean(value)
    if re.fullmatch(r"\d{4}(\.0)?", text):
        return text[:4]
    return text


@lru_cache(maxsize=1)
def _to_wgs84():
    from pyproj import Transformer

    return Transformer.from_crs(settings.CRS, settings.WGS84, always_xy=True)


def _commune_of(index: AddressIndex, pt: Point) -> int:
    hits = index.communes[index.communes.contains(pt)]
    if len(hits):
        return int(hits["commune_nis"].iloc[0])
    return int(index.communes.iloc[int(index.communes.distance(pt).to_numpy().argmin())]["commune_nis"])


def _street_geometry(index: AddressIndex, ways: list[int], area: tuple[int, ...]) -> MultiLineString:
    geoms = [index.ways.geometry.iloc[w] for w in ways]
    if area:
        zone = index.communes[index.communes["commune_nis"].isin(area)].union_all().buffer(_COMMUNE_SLACK_M)
        clipped = [g.intersection(zone) for g in geoms]
        lines = [p for g in clipped for p in getattr(g, "geoms", [g]) if isinstance(p, LineString) and not p.is_empty]
        if lines:
            geoms = lines
    return MultiLineString([g for g in geoms if isinstance(g, LineString)])


def _point_keys(index: AddressIndex, street_keys: set[str]) -> set[str]:
    """Address-point street keys that name the matched street, allowing spelling variants.

    ``addr:street`` is typed by hand on each address ("Louisalaan" for "Louizalaan"), so a
    close name of the same street type counts too; the distance check in :func:`geocode`
    keeps points of a same-named street elsewhere out.
    """
    out = {k for k in street_keys if k in index.key_points}
    point_keys = list(index.key_points)
    for key in street_keys:
        k_type, _ = _split_type(key)
        for close in difflib.get_close_matches(key, point_keys, n=3, cutoff=0.9):
            if _split_type(close)[0] == k_type:
                out.add(close)
    return out


def _interpolate(street: MultiLineString, pts: pd.DataFrame, n: int) -> tuple[Point, str] | None:
    """Interpolate number ``n`` between the nearest known numbers of the same parity along the street."""
    merged = linemerge(street)
    parts = list(getattr(merged, "geoms", [merged]))
    for same_parity in (True, False):
        cand = pts[(pts["number_int"] % 2 == n % 2)] if same_parity else pts
        lower = cand[cand["number_int"] < n].sort_values("number_int")
        upper = cand[cand["number_int"] > n].sort_values("number_int")
        if lower.empty or upper.empty:
            continue
        lo, hi = lower.iloc[-1], upper.iloc[0]
        if hi["number_int"] - lo["number_int"] > _INTERP_MAX_GAP:
            continue
        p_lo, p_hi = Point(lo["x"], lo["y"]), Point(hi["x"], hi["y"])
        part = min(parts, key=lambda g: g.distance(p_lo) + g.distance(p_hi))
        d_lo, d_hi = part.project(p_lo), part.project(p_hi)
        if abs(d_hi - d_lo) > _INTERP_MAX_DIST_M:
            continue
        t = (n - lo["number_int"]) / (hi["number_int"] - lo["number_int"])
        side = "same side" if same_parity else "either side"
        return part.interpolate(d_lo + t * (d_hi - d_lo)), (
            f"interpolated between OSM address points {lo['number']} and {hi['number']} ({side}) along the street"
        )
    return None


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
        House number (optional; "12", "12A", "12 bte 3").
    postcode
        Brussels postcode (optional but recommended; checked against the street's commune).
    commune
        Commune name, used when no postcode is given.

    Returns
    -------
    GeocodeResult
        Never a silent guess: below :data:`MATCH_THRESHOLD`, or when two streets match
        equally well, the result is ``not_found`` with the reason.
    """
    street_s, number_s, postcode_s, commune_s = _clean(street), _clean(number), _postcode(postcode), _clean(commune)
    query = ", ".join(p for p in (f"{street_s} {number_s}".strip(), f"{postcode_s} {commune_s}".strip()) if p)
    if not street_s:
        return GeocodeResult(query, "not_found", "not geocoded", reason="no street given")
    area, pc_check = _area_nis(index, postcode_s, commune_s)
    scores, near_miss = _key_scores(index, street_variants(street_s))
    candidates = _clusters(index, scores)
    in_area = [c for c in candidates if set(c.homes) & set(area)] if area else []
    if in_area:
        pool = in_area
    else:
        pool = candidates
        if area:
            for c in pool:
                c.score -= POSTCODE_PENALTY
    pool = sorted(pool, key=lambda c: (-c.score, c.label, c.ways[0]))
    accepted = [c for c in pool if c.score >= MATCH_THRESHOLD]
    if not accepted:
        if pool:
            best = pool[0]
            where = "" if not area or in_area else f" (outside postcode {postcode_s or commune_s})"
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
    if len(accepted) > 1 and accepted[1].score >= best.score - _AMBIGUITY_MARGIN:
        names = "; ".join(f"'{c.label}' in {'/'.join(str(n) for n in c.homes)}" for c in accepted[:4])
        hint = "give the postcode" if not area else "check the postcode"
        return GeocodeResult(
            query,
            "not_found",
            "not geocoded",
            score=round(best.score, 3),
            postcode_check=pc_check,
            reason=f"ambiguous: {len(accepted)} streets match ({names}); {hint}",
        )
    flags = []
    if area and not in_area:
        pc_check = "mismatch"
        flags.append(f"postcode mismatch: street lies in commune {'/'.join(str(n) for n in best.homes)}")
    geom = _street_geometry(index, best.ways, area if in_area else ())
    point: Point | None = None
    accuracy, method = "street", ""
    number_match = _NUMBER.match(number_s) if number_s else None
    if number_s and not number_match:
        flags.append(f"house number {number_s!r} not understood")
    if number_match:
        n = int(number_match.group(1))
        wanted = (number_match.group(1) + number_match.group(2)).lower()
        ids = sorted({i for k in _point_keys(index, best.keys) for i in index.key_points.get(k, [])})
        pts = index.points.iloc[ids]
        if len(pts):
            dist = shapely.distance(shapely.points(pts["x"].to_numpy(), pts["y"].to_numpy()), geom)
            pts = pts[dist <= _ADDRESS_MAX_DIST_M]
        exact = pts[pts["number"] == wanted]
        if exact.empty:
            exact = pts[(pts["number_int"] == n) & (pts["number"] == str(n))] if not number_match.group(2) else exact
        if len(exact):
            row = exact.sort_values(["y", "x"]).iloc[0]
            point, accuracy = Point(row["x"], row["y"]), "address_point"
            method = f"OSM address point ({row['street']} {row['number']})"
        elif len(pts):
            interp = _interpolate(geom, pts, n)
            if interp is not None:
                point, method = interp
                accuracy = "interpolated"
        if point is None:
            flags.append(f"number {number_s} not in OSM: street-level point")
    elif not number_s:
        flags.append("no house number: street-level point")
    if point is None:
        centre = geom.centroid
        point = nearest_points(geom, centre)[0]
        method = "OSM street geometry: point of the street nearest to its centre" + (
            " within the postcode area" if in_area else ""
        )
    lon, lat = _to_wgs84().transform(point.x, point.y)
    return GeocodeResult(
        query,
        accuracy,
        method,
        lat=round(float(lat), 6),
        lon=round(float(lon), 6),
        x=round(float(point.x), 1),
        y=round(float(point.y), 1),
        score=round(best.score, 3),
        matched_street=best.label,
        commune_nis=_commune_of(index, point),
        postcode_check=pc_check,
        reason="; ".join(flags),
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
