"""Where a query says the address is: a postcode area, a commune, or nowhere in particular.

The area decides which of several same-named streets is meant, which stretch of a long street stands for
the address, and when a result's postcode is flagged as a mismatch. See ``docs/methods/geocoder.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import shapely
from shapely.geometry import LineString, MultiLineString, Point

from geoplanner.geocode.index import AddressIndex, runtime
from geoplanner.geocode.normalise import normalise_street, street_variants

__all__ = [
    "Area",
    "NO_AREA",
    "resolve_area",
    "area_zone",
    "point_in_area",
    "xy_in_area",
    "clip_way",
    "part_in_zone",
    "describe_point",
    "commune_of",
]


@dataclass(frozen=True)
class Area:
    """Where the query says the address is.

    Attributes
    ----------
    kind
        'postcode', 'commune' or '' (none given, or not known).
    code
        The postcode (str) or the commune's NIS code (int); ``None`` without an area.
    check
        ``postcode_check`` of the result when the street lies in the area ('ok', 'commune ok',
        'unknown postcode', 'unknown commune', 'not given').
    """

    kind: str
    code: str | int | None
    check: str

    @property
    def label(self) -> str:
        """The area in words ("postcode 1040", "commune 21004")."""
        return f"postcode {self.code}" if self.kind == "postcode" else f"commune {self.code}"


#: No area: every street and point counts as inside.
NO_AREA = Area("", None, "")


def resolve_area(index: AddressIndex, postcode: str, commune: str) -> Area:
    """Return the area a (cleaned) postcode or, without one, a commune name stands for.

    Parameters
    ----------
    index
        The address index (its postcode areas and commune names).
    postcode
        Four digits, or "" when not given.
    commune
        A commune or sub-municipality name in French or Dutch ("Molenbeek" for
        "Molenbeek-Saint-Jean" when only one commune's name holds it), or "".

    Returns
    -------
    Area
    """
    if postcode:
        if postcode in runtime(index).area_geom:
            return Area("postcode", postcode, "ok")
        return Area("", None, "unknown postcode")
    if commune:
        variants = [normalise_street(commune), *street_variants(commune)]
        for v in variants:
            if v in index.commune_names:
                return Area("commune", index.commune_names[v], "commune ok")
        # "Molenbeek" for "Molenbeek-Saint-Jean": accept a name contained in exactly one commune's name.
        found = {
            nis
            for v in variants
            for name, nis in index.commune_names.items()
            if re.search(rf"(^| ){re.escape(v)}( |$)", name)
        }
        if len(found) == 1:
            return Area("commune", found.pop(), "commune ok")
        return Area("", None, "unknown commune")
    return Area("", None, "not given")


def area_zone(index: AddressIndex, area: Area) -> shapely.Geometry:
    """Return the area's polygon with its slack (prepared), for a postcode or a commune."""
    rt = runtime(index)
    return rt.area_geom[area.code] if area.kind == "postcode" else rt.commune_geom[area.code]


def point_in_area(index: AddressIndex, i: int, area: Area) -> bool:
    """Tell whether address point ``i`` lies in the area (always, without one)."""
    rt = runtime(index)
    if area.kind == "postcode":
        return area.code in rt.ppcs[i]
    if area.kind == "commune":
        return int(rt.pnis[i]) == area.code
    return True


def xy_in_area(index: AddressIndex, pt: Point, area: Area) -> bool:
    """Tell whether a point lies in the area with its slack (always, without one)."""
    if area.kind in ("postcode", "commune"):
        return bool(shapely.contains(area_zone(index, area), pt))
    return True


def clip_way(index: AddressIndex, w: int, area: Area) -> list[LineString]:
    """Return the pieces of way ``w`` inside the area (with slack); remembered per way and area."""
    rt = runtime(index)
    key = (w, area.kind, (area.code,))
    if key in rt.clipped:
        return rt.clipped[key]
    geom = rt.way_geoms[w]
    zone = area_zone(index, area)
    if not shapely.intersects(zone, geom):
        rt.clipped[key] = []
        return []
    if area.kind == "postcode":
        inside = area.code in rt.way_pcs_full[w]
    else:
        inside = bool(shapely.contains(zone, geom))
    clipped = geom if inside else shapely.intersection(geom, zone)
    pieces = [p for p in getattr(clipped, "geoms", [clipped]) if isinstance(p, LineString) and not p.is_empty]
    rt.clipped[key] = pieces
    return pieces


def part_in_zone(index: AddressIndex, geom: LineString, area: Area) -> LineString | MultiLineString | None:
    """Return the part of ``geom`` inside the area (with slack), or ``None`` when nothing is inside."""
    inside = shapely.intersection(geom, area_zone(index, area))
    lines = [p for p in getattr(inside, "geoms", [inside]) if isinstance(p, LineString) and p.length >= 1.0]
    if not lines:
        return None
    return lines[0] if len(lines) == 1 else MultiLineString(lines)


def describe_point(index: AddressIndex, i: int) -> str:
    """Postcode(s) and commune of address point ``i`` in words."""
    rt = runtime(index)
    pcs = "/".join(sorted(rt.ppcs[i])) or "?"
    return f"postcode {pcs}, commune {int(rt.pnis[i])}"


def commune_of(index: AddressIndex, pt: Point) -> int:
    """Return the NIS code of the commune holding the point (the nearest one when it lies outside all)."""
    rt = runtime(index)
    hits = rt.commune_tree.query(pt, predicate="within")
    if len(hits):
        return int(rt.commune_codes[int(min(hits))])
    nearest = rt.commune_tree.query_nearest(pt)
    return int(rt.commune_codes[int(min(nearest))])
