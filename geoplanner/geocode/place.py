"""Number placement on a matched street: address point, interpolation, stretch of the street, or the street.

Each placement carries its uncertainty radius, the distance from the point meant to hold the true address
at least 9 times in 10. See ``docs/methods/geocoder.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, Point
from shapely.ops import linemerge, nearest_points, substring

from geoplanner.geocode.area import NO_AREA, Area, clip_way, describe_point, part_in_zone, point_in_area, xy_in_area
from geoplanner.geocode.index import ADDRESS_NEAR_M, AddressIndex, runtime
from geoplanner.geocode.normalise import HouseNumber, names_agree, parse_house_number

__all__ = [
    "ADDRESS_POINT_RADIUS_M",
    "STREET_SETBACK_M",
    "INTERPOLATION_RADIUS_SHARE",
    "Placement",
    "place_on_street",
]

#: Smallest uncertainty radius of any result (metres): two OSM points of one address (a building
#: and a node inside it) lie this close in 95 % of the 214 such pairs of the 2013 extract.
ADDRESS_POINT_RADIUS_M = 50.0
#: Set-back of an address point from the street's centre line (metres), added to every
#: street-level radius: 95 % of the OSM 2013 address points lie within 33 m of their street.
STREET_SETBACK_M = 35.0
#: Interpolation radius as a share of the distance from the point to the farther of its two
#: neighbouring numbers (at least :data:`ADDRESS_POINT_RADIUS_M`); half, set before measuring.
INTERPOLATION_RADIUS_SHARE = 0.5

# Interpolation only between numbers this close (in numbers and in metres).
_INTERP_MAX_GAP = 60
_INTERP_MAX_DIST_M = 800.0
# Points of one number farther apart than this are different places (numbering restarts).
_SAME_PLACE_M = 150.0


@dataclass
class Placement:
    """Where a number is put on its street.

    Attributes
    ----------
    point
        EPSG:31370.
    radius
        Uncertainty radius in metres.
    accuracy
        'address_point', 'interpolated' or 'street'.
    method
        How, in words.
    points
        The address points it rests on (row positions in the index).
    flags
        Caveats (a postcode mismatch of the point).
    """

    point: Point
    radius: float
    accuracy: str
    method: str
    points: list[int] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


def _number_kind(ids_a: np.ndarray, hn: HouseNumber, index: AddressIndex) -> tuple[np.ndarray, str]:
    """Select the stored points that hold ``hn``: as written, within a stored range, or without its suffix."""
    rt = runtime(index)
    lo, hi, number = rt.lo[ids_a], rt.hi[ids_a], rt.number[ids_a]
    # A stored range over both sides (14-15) or a query of that kind matches either parity.
    stored_parity = np.where((hi - lo) % 2 == 0, lo % 2, -1)
    parity_ok = (stored_parity == -1) | (hn.parity is None) | (stored_parity == hn.parity)
    sel = number == hn.text
    if sel.any():
        return sel, "exact"
    if not hn.is_range:
        sel = (lo <= hn.lo) & (hi >= hn.lo) & (hi > lo) & parity_ok
        if not sel.any() and hn.suffix:
            return number == str(hn.lo), "without_suffix"
        return sel, "in_range"
    return (lo <= hn.hi) & (hi >= hn.lo) & parity_ok, "range"


def _point_method(kind: str, n_points: int, street: str, nums: str, hn: HouseNumber) -> str:
    if kind == "exact" and n_points == 1:
        return f"OSM address point ({street} {nums})"
    if kind == "exact":
        return f"mean of {n_points} OSM address points of {street} {nums}"
    if kind == "in_range":
        return f"OSM address point of the range {street} {nums}, which holds number {hn.text}"
    if kind == "without_suffix":
        return f"OSM address point {street} {nums} ({hn.text} is not in OSM)"
    return f"OSM address point(s) {street} {nums}, within the range {hn.text}"


def _match_number(index: AddressIndex, ids: list[int], hn: HouseNumber, area: Area) -> Placement | None:
    """Find the OSM address point(s) of number or range ``hn`` among the street's points ``ids``."""
    if not ids:
        return None
    rt = runtime(index)
    ids_a = np.asarray(ids)
    sel, kind = _number_kind(ids_a, hn, index)
    if not sel.any():
        return None
    chosen = [int(i) for i in ids_a[sel]]
    inside = [i for i in chosen if point_in_area(index, i, area)]
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
    method = _point_method(kind, len(group), rt.street[first], nums, hn)
    flags = []
    if len(pool) > len(group):
        flags.append(f"number {hn.text} found at {len(pool)} places along the street; the first is used")
    if outside_only and area.kind:
        flags.append(f"{area.kind} mismatch: address point lies in {describe_point(index, first)}")
    return Placement(Point(x, y), radius, "address_point", method, group, flags)


def _street_parts(index: AddressIndex, ways: list[int]) -> list[LineString]:
    merged = linemerge(MultiLineString([runtime(index).way_geoms[w] for w in ways]))
    return list(getattr(merged, "geoms", [merged]))


def _numbered(index: AddressIndex, ids: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Known numbers of the street: (number, x, y, point id); a range gives its two ends."""
    rt = runtime(index)
    ids_a = np.asarray(ids, dtype=int)
    nums = np.r_[rt.lo[ids_a], rt.hi[ids_a]]
    keep = np.r_[np.ones(len(ids_a), bool), rt.hi[ids_a] > rt.lo[ids_a]]
    pid = np.r_[ids_a, ids_a][keep]
    return nums[keep], rt.px[pid], rt.py[pid], pid


def _nearest_known(
    nums: np.ndarray, xs: np.ndarray, ys: np.ndarray, ok: np.ndarray, below_of: float, above_of: float
) -> tuple[int, int]:
    """Nearest known number below ``below_of`` and above ``above_of`` (-1 when none); ties by position."""
    below = np.flatnonzero(ok & (nums < below_of))
    above = np.flatnonzero(ok & (nums > above_of))
    i_lo = int(below[np.lexsort((xs[below], ys[below], nums[below]))[-1]]) if len(below) else -1
    i_hi = int(above[np.lexsort((xs[above], ys[above], -nums[above]))[-1]]) if len(above) else -1
    return i_lo, i_hi


def _interpolate(index: AddressIndex, parts: list[LineString], ids: list[int], hn: HouseNumber) -> Placement | None:
    """Interpolate between the nearest known numbers below and above, same side of the street first."""
    if not ids:
        return None
    nums, xs, ys, pid = _numbered(index, ids)
    target = (hn.lo + hn.hi) / 2
    for same_side in (True, False):
        if same_side and hn.parity is None:
            continue
        ok = (nums % 2 == hn.parity) if same_side else np.ones(len(nums), bool)
        i_lo, i_hi = _nearest_known(nums, xs, ys, ok, target, target)
        if i_lo < 0 or i_hi < 0:
            continue
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
        street = runtime(index).street[int(pid[i_lo])]
        method = f"interpolated between OSM address points {street} {n_lo} and {n_hi} ({side}) along the street"
        return Placement(point, radius, "interpolated", method, [int(pid[i_lo]), int(pid[i_hi])])
    return None


def _street_point(geom: LineString | MultiLineString, how: str) -> Placement:
    """Place a street-level point: nearest the centre of ``geom``, radius to its farthest end."""
    if isinstance(geom, LineString):
        point = geom.interpolate(0.5, normalized=True)
    else:
        point = nearest_points(geom, geom.centroid)[0]
    reach = float(shapely.hausdorff_distance(point, geom))
    return Placement(point, max(ADDRESS_POINT_RADIUS_M, reach + STREET_SETBACK_M), "street", how)


def _section_between(parts: list[LineString], p_lo: Point, p_hi: Point) -> LineString | None:
    """Return the stretch of the street between two known numbers (``None`` when not on one line)."""
    part = min(parts, key=lambda g: g.distance(p_lo) + g.distance(p_hi))
    if part.distance(p_lo) > ADDRESS_NEAR_M or part.distance(p_hi) > ADDRESS_NEAR_M:
        return None
    d_lo, d_hi = sorted((part.project(p_lo), part.project(p_hi)))
    return substring(part, d_lo, d_hi)


def _section_beyond(
    parts: list[LineString], nums: np.ndarray, xs: np.ndarray, ys: np.ndarray, near_i: int, far_i: int, target: float
) -> tuple[LineString, str] | None:
    """Return the stretch beyond the nearest known number, twice as far as the numbers' spacing says."""
    p_near, p_far = Point(xs[near_i], ys[near_i]), Point(xs[far_i], ys[far_i])
    part = min(parts, key=lambda g: g.distance(p_near) + g.distance(p_far))
    if part.distance(p_near) > ADDRESS_NEAR_M or part.distance(p_far) > ADDRESS_NEAR_M:
        return None
    d_near, d_far = part.project(p_near), part.project(p_far)
    if abs(d_near - d_far) < _SAME_PLACE_M / 5 or nums[near_i] == nums[far_i]:
        return None
    per_number = abs(d_near - d_far) / abs(nums[near_i] - nums[far_i])
    reach = abs(target - nums[near_i]) * per_number
    d = d_near + reach if d_near > d_far else d_near - reach
    if not 0.0 <= d <= part.length:
        return None  # beyond this line's end: the street goes on elsewhere, or the number does not exist
    # The stretch from the nearest known number to twice the estimated distance stands for the doubt.
    section = substring(part, *sorted((d_near, min(max(d_near + 2 * (d - d_near), 0.0), part.length))))
    how = f"beyond the known number {nums[near_i]} ({per_number:.0f} m per number from {nums[far_i]})"
    return section, how


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
    i_lo, i_hi = _nearest_known(nums, xs, ys, side, hn.lo, hn.hi)
    if i_lo < 0 and i_hi < 0:
        return None
    if i_lo >= 0 and i_hi >= 0:
        section = _section_between(parts, Point(xs[i_lo], ys[i_lo]), Point(xs[i_hi], ys[i_hi]))
        if section is None:
            return None
        how = f"between the known numbers {nums[i_lo]} and {nums[i_hi]}"
    else:
        # One side only: the nearest and the farthest known numbers give the direction and the
        # metres per number; the wanted number is that far beyond the nearest one.
        known = np.flatnonzero(side & ((nums < hn.lo) if i_lo >= 0 else (nums > hn.hi)))
        near_i = i_lo if i_lo >= 0 else i_hi
        far_i = int(known[np.argmax(np.abs(nums[known] - hn.lo))])
        found = _section_beyond(parts, nums, xs, ys, near_i, far_i, (hn.lo + hn.hi) / 2)
        if found is None:
            return None
        section, how = found
    if not isinstance(section, LineString) or section.length < 1.0:
        return None
    return section, how


def _known_numbers(index: AddressIndex, ways: list[int], query: list[str] | None) -> list[int]:
    """Return the address points of the street's ways; after a fuzzy name match, only those whose street agrees.

    A point is linked to the way it stands on; its own ``addr:street`` must also agree with the name the user
    wrote (:func:`~geoplanner.geocode.normalise.names_agree`) when the street was found by a similar name only,
    so a near-miss street never lends its numbers (issue 21: "Steenweg op Waterloo 216" on Chaussée de Wavre 216).
    """
    ids = sorted(i for w in ways for i in index.way_points.get(w, ()))
    if query is None:
        return ids
    keys = runtime(index).point_keys
    return [i for i in ids if names_agree(query, keys[i])]


def _place_number(
    index: AddressIndex, ids: list[int], ways: list[int], hn: HouseNumber, number: str, area: Area, in_area: bool
) -> tuple[Placement | None, list[str]]:
    """Place a parsed number: its address point, an interpolation, or the stretch its neighbours give."""
    parts = _street_parts(index, ways)
    placed = _match_number(index, ids, hn, area if in_area else NO_AREA)
    if placed is None:
        placed = _interpolate(index, parts, ids, hn)
        if placed is not None and in_area and not xy_in_area(index, placed.point, area):
            placed.flags.append(
                f"{area.kind} mismatch: the interpolated point lies outside {area.label}"
                f" ({describe_point(index, placed.points[0])})"
            )
    if placed is not None:
        return placed, []
    flags = [f"number {number} not in OSM: street-level point"]
    section = _numbered_section(index, parts, ids, hn)
    if section is None:
        return None, flags
    geom, how = section
    # Within the postcode area when the stretch reaches it; else the numbers overrule the
    # postcode, as an address point in another postcode does (hold-out: right far more often).
    inside = part_in_zone(index, geom, area) if in_area else None
    placed = _street_point(inside or geom, f"OSM street geometry: middle of the stretch {how}")
    if in_area and inside is None:
        placed.flags.append(f"{area.kind} mismatch: the stretch {how} lies outside {area.label}")
    return placed, flags


def _whole_street(index: AddressIndex, ways: list[int], area: Area, in_area: bool) -> Placement:
    """Place the point of the street (or of its stretch in the area) nearest to its centre."""
    rt = runtime(index)
    # The stretch the postcode points at (the whole street when it lies elsewhere).
    if in_area:
        stretch = [p for w in ways for p in clip_way(index, w, area)] or [rt.way_geoms[w] for w in ways]
    else:
        stretch = [rt.way_geoms[w] for w in ways]
    placed = _street_point(
        MultiLineString(stretch),
        "OSM street geometry: point of the street nearest to its centre" + (f" within {area.label}" if in_area else ""),
    )
    others = sorted({pc for w in ways for pc in rt.way_pcs[w]} - {area.code})
    if in_area and area.kind == "postcode" and others:
        # Only the postcode picks the stretch: say so, a wrong postcode would put the point there.
        placed.flags.append(f"the street also runs through postcode {'/'.join(others)}")
    return placed


def place_on_street(
    index: AddressIndex, ways: list[int], number: str, area: Area, in_area: bool, *, query: list[str] | None = None
) -> tuple[Placement, list[str]]:
    """Place a house number (or none) on a matched street.

    Parameters
    ----------
    index
        The address index.
    ways
        The matched street's ways.
    number
        The house number as written (cleaned; "" when none).
    area
        The query's area.
    in_area
        Whether the street runs through the area (then the area picks the stretch).
    query
        The normalised names the user wrote, when the street was matched by a similar name only (``None``
        for an exact match): then only address points whose own street agrees with them place the number.

    Returns
    -------
    placement : Placement
        In order of preference: the OSM address point, an interpolation, the stretch the known numbers
        give, or the street's point nearest its centre (within the area).
    flags : list of str
        Caveats about the number ("not understood", "not in OSM", "no house number").
    """
    flags: list[str] = []
    hn = parse_house_number(number) if number else None
    if number and hn is None:
        flags.append(f"house number {number!r} not understood")
    placed = None
    if hn is not None:
        placed, number_flags = _place_number(index, _known_numbers(index, ways, query), ways, hn, number, area, in_area)
        flags += number_flags
    elif not number:
        flags.append("no house number: street-level point")
    if placed is None:
        placed = _whole_street(index, ways, area, in_area)
    return placed, flags
