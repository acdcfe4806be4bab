"""The offline address index: streets, address points, communes and postcode areas from one OSM extract.

Built from frames already read (:func:`geoplanner.inputs.osm.load_osm_layers`, the Statbel sectors); the
pipeline caches it under the key :func:`address_index_key`. See ``docs/methods/geocoder.md``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString

from geoplanner import cache
from geoplanner.core import settings
from geoplanner.core.errors import DataError
from geoplanner.geocode.normalise import (
    names_compatible,
    normalise_street,
    parse_house_number,
    split_type,
    street_variants,
)
from geoplanner.inputs.osm import OsmLayers
from geoplanner.inputs.postcodes import POSTCODE_COMMUNES, SUBMUNICIPALITY_POSTCODES

__all__ = [
    "ADDRESS_NEAR_M",
    "ADDRESS_FAR_M",
    "AREA_SLACK_M",
    "INDEX_VERSION",
    "AddressIndex",
    "IndexRuntime",
    "address_index_key",
    "build_address_index",
    "runtime",
]

#: An address point is linked to the nearest way of its street within this distance (metres).
ADDRESS_NEAR_M = 120.0
#: ... and up to this distance when the point lies in a commune the way touches: big plots
#: (schools, hospitals) and streets drawn only in part in OSM 2013 put real addresses far from the line.
ADDRESS_FAR_M = 1000.0
#: A street counts as being in a commune or postcode area when it comes this close to its polygon (metres).
AREA_SLACK_M = 30.0
#: Bumped whenever the index's content or layout changes (part of the cache key).
INDEX_VERSION = 3

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
_HSTORE = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')
# Highway values that are not streets one lives on (kept out of the street index).
_NOT_STREETS = ("construction", "proposed", "platform", "abandoned", "razed", "motorway", "motorway_link")
_POINT_COLUMNS = ["x", "y", "number", "lo", "hi", "suffix", "postcode", "street", "keys", "extent_m"]


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
    version: int = INDEX_VERSION

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
        """Return the state to pickle: runtime helpers (prepared polygons, caches) are rebuilt after loading."""
        return {k: v for k, v in self.__dict__.items() if k != "_rt"}


def address_index_key(osm_sha256: str, sectors_sha256: str) -> str:
    """Return the cache key of the index built from these inputs (by content, with :func:`cache.base_parts`).

    Parameters
    ----------
    osm_sha256, sectors_sha256
        sha256 of the OSM extract and of the statistical sectors file.

    Returns
    -------
    str
        64 hex digits; the index is stored as kind ``geocode`` under it.
    """
    parts = {**cache.base_parts(), "what": "address_index", "version": INDEX_VERSION}
    return cache.digest({**parts, "osm": osm_sha256, "sectors": sectors_sha256})


def _parse_hstore(text: object) -> dict[str, str]:
    if not isinstance(text, str) or not text:
        return {}
    return {k.replace('\\"', '"'): v.replace('\\"', '"') for k, v in _HSTORE.findall(text)}


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
                for key in [normalise_street(label), *[v for v in street_variants(label) if v]]:
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
                hint="add it to geoplanner.inputs.postcodes.SUBMUNICIPALITY_POSTCODES",
            )
        for pc in pcs:
            parts[pc].append(geom)
    rows = [{"postcode": pc, "geometry": shapely.union_all(geoms)} for pc, geoms in sorted(parts.items())]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=settings.CRS)


def _named_ways(lines: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every named street way (``highway``, not a motorway or a planned road) with its name variants."""
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
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=settings.CRS)


def _street_ways(lines: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    ways = _named_ways(lines)
    near = gpd.sjoin(
        ways[["geometry"]],
        gpd.GeoDataFrame(communes[["commune_nis"]], geometry=communes.buffer(AREA_SLACK_M), crs=settings.CRS),
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
    return _add_postcode_sets(ways, areas)


def _add_postcode_sets(ways: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add the postcode areas each way runs through.

    ``pcs``: its middle lies in the area. ``pcs_edge``: half of it lies within the slack of the area (a
    street along the border belongs to both sides, but less surely than a street inside; a street that only
    reaches the border does not count). ``pcs_full``: all of it lies within the slack.
    """
    raw = areas.geometry.to_numpy()
    buffered = shapely.buffer(raw, AREA_SLACK_M)
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


def _interpolation_streets(lines: gpd.GeoDataFrame) -> dict[tuple[float, float], str]:
    """Street of each ``addr:interpolation`` way, keyed by its end nodes (which often lack ``addr:street``)."""
    out: dict[tuple[float, float], str] = {}
    for _, row in lines[lines["other_tags"].fillna("").str.contains("addr:interpolation", regex=False)].iterrows():
        tags = _parse_hstore(row["other_tags"])
        if "addr:interpolation" in tags and tags.get("addr:street"):
            coords = list(row.geometry.coords)
            for c in (coords[0], coords[-1]):
                out.setdefault((round(c[0], 2), round(c[1], 2)), tags["addr:street"])
    return out


def _address_points(points: gpd.GeoDataFrame, polys: gpd.GeoDataFrame, lines: gpd.GeoDataFrame) -> pd.DataFrame:
    interp_street = _interpolation_streets(lines)
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
    df = pd.DataFrame(rows, columns=_POINT_COLUMNS)
    return df.drop_duplicates(subset=["x", "y", "number", "street"], ignore_index=True)


def _point_areas(addr: pd.DataFrame, pts: np.ndarray, communes: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> None:
    """Add each address point's commune (``nis``) and the postcode areas holding it (``pcs``), in place."""
    gpts = gpd.GeoDataFrame(geometry=pts, crs=settings.CRS)
    inside = gpd.sjoin_nearest(gpts, communes[["commune_nis", "geometry"]])
    inside = inside[~inside.index.duplicated(keep="first")]["commune_nis"]
    addr["nis"] = [int(inside.get(i, 0)) for i in range(len(addr))]
    buffered = gpd.GeoDataFrame(areas[["postcode"]], geometry=areas.buffer(AREA_SLACK_M), crs=settings.CRS)
    in_area = (
        gpd.sjoin(gpts, buffered, predicate="within")
        .groupby(level=0)["postcode"]
        .apply(lambda s: tuple(sorted(set(s))))
    )
    addr["pcs"] = [in_area.get(i, ()) for i in range(len(addr))]


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
    _point_areas(addr, pts, communes, areas)
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
            near = [int(w) for w in near if names_compatible(keys, way_keys[w])]
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
    osm: OsmLayers,
    sectors: gpd.GeoDataFrame,
    *,
    sectors_path: Path | None = None,
    sha256: str = "",
    sectors_sha256: str = "",
) -> AddressIndex:
    """Build the address index from an OSM extract's layers and the statistical sectors.

    Parameters
    ----------
    osm
        The extract's lines, points and multipolygons (:func:`geoplanner.inputs.osm.load_osm_layers`).
    sectors
        Statbel statistical sectors (:func:`geoplanner.inputs.areas.load_sectors`), for the postcode areas.
    sectors_path
        The sectors file, named in errors.
    sha256, sectors_sha256
        sha256 of the two files, kept in the index as its provenance.

    Returns
    -------
    AddressIndex
        Streets, address points (linked to their street), commune polygons and postcode areas
        in EPSG:31370.
    """
    communes, commune_names = _communes_from_osm(osm.multipolygons, osm.path)
    areas = _postcode_areas(sectors, sectors_path)
    ways = _street_ways(osm.lines, communes, areas)
    key_ways: dict[str, list[int]] = defaultdict(list)
    for i, keys in enumerate(ways["keys"]):
        for k in keys:
            key_ways[k].append(i)
    key_parts = {k: split_type(k) for k in key_ways}
    core_keys: dict[str, list[str]] = defaultdict(list)
    for k, (_, core) in key_parts.items():
        core_keys[core].append(k)
    addr = _link_points(_address_points(osm.points, osm.multipolygons, osm.lines), ways, key_ways, communes, areas)
    way_points: dict[int, list[int]] = defaultdict(list)
    for i, w in enumerate(addr["way"]):
        if w >= 0:
            way_points[int(w)].append(i)
    return AddressIndex(
        sha256=sha256,
        source=str(osm.path),
        ways=ways,
        key_ways=dict(key_ways),
        core_keys={k: sorted(v) for k, v in core_keys.items()},
        key_parts=key_parts,
        points=addr,
        way_points=dict(way_points),
        communes=communes,
        postcode_areas=areas,
        commune_names=commune_names,
        sectors_sha256=sectors_sha256,
    )


class IndexRuntime:
    """Helpers of one index built on first use (arrays, prepared polygons, caches); never pickled.

    Parameters
    ----------
    index
        The index they serve.
    """

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
        self.street = p["street"].to_numpy(dtype=object)
        self.point_keys = list(p["keys"])
        self.way_geoms = index.ways.geometry.to_numpy()
        self.way_pcs = [set(v) for v in index.ways["pcs"]]
        self.way_pcs_edge = [set(v) for v in index.ways["pcs_edge"]]
        self.way_pcs_full = [set(v) for v in index.ways["pcs_full"]]
        self.way_home = index.ways["home"].to_numpy(dtype=int)
        self.way_label = index.ways["label"].to_numpy(dtype=object)
        self.way_nis = list(index.ways["nis"])
        self.way_keys = list(index.ways["keys"])
        # Character counts of every core name: difflib's quick_ratio for all of them in one step.
        self.cores = list(index.core_keys)
        self.alphabet = {c: i for i, c in enumerate(sorted({c for core in self.cores for c in core}))}
        self.core_counts = np.zeros((len(self.cores), len(self.alphabet)), dtype=np.int16)
        for i, core in enumerate(self.cores):
            for c in core:
                self.core_counts[i, self.alphabet[c]] += 1
        self.core_len = np.array([len(c) for c in self.cores], dtype=float)
        self.area_geom = {
            str(pc): shapely.buffer(g, AREA_SLACK_M)
            for pc, g in zip(index.postcode_areas["postcode"], index.postcode_areas.geometry, strict=True)
        }
        self.commune_geom = {
            int(n): shapely.buffer(g, AREA_SLACK_M)
            for n, g in zip(index.communes["commune_nis"], index.communes.geometry, strict=True)
        }
        for g in [*self.area_geom.values(), *self.commune_geom.values()]:
            shapely.prepare(g)
        self.commune_codes = index.communes["commune_nis"].to_numpy(dtype=int)
        self.commune_tree = shapely.STRtree(index.communes.geometry.to_numpy())
        self.clusters: dict[frozenset[str], list[list[int]]] = {}
        self.clipped: dict[tuple[int, str, tuple], list[LineString]] = {}


def runtime(index: AddressIndex) -> IndexRuntime:
    """Return the index's runtime helpers, building them on first use (kept with the index, not pickled)."""
    rt = index.__dict__.get("_rt")
    if rt is None:
        rt = index.__dict__["_rt"] = IndexRuntime(index)
    return rt
