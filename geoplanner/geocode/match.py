"""Street matching: which OSM street a written name means, scored, in the area the query gives.

Names are compared on their core (street type apart); ways of one name close together, or in one commune,
form one street; the postcode or commune picks among same-named streets. Never a silent guess: below
:data:`MATCH_THRESHOLD`, or with two equally good streets, there is no match. See
``docs/methods/geocoder.md``.
"""

from __future__ import annotations

import difflib
import heapq
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np
import shapely

from geoplanner.geocode.area import Area, area_zone
from geoplanner.geocode.index import AddressIndex, runtime
from geoplanner.geocode.normalise import (
    INITIALS_SCORE,
    MATCH_THRESHOLD,
    UNGLUED_SCORE,
    core_similarity,
    initials_match,
    split_type,
    street_variants,
    unglue,
)

__all__ = [
    "MATCH_THRESHOLD",
    "POSTCODE_PENALTY",
    "Candidate",
    "StreetMatch",
    "match_street",
    "key_scores",
    "close_cores",
    "street_candidates",
]

#: Score removed when the street exists, but not in the area of the given postcode.
POSTCODE_PENALTY = 0.10

# Two candidates within this score of each other are equally good (ambiguous).
_AMBIGUITY_MARGIN = 0.02
# With a wrong postcode, of several equally good streets the only one this close to the area wins.
_NEIGHBOUR_M = 1000.0
# A street's ways closer than this belong to one street (gaps at squares and crossings).
_CLUSTER_GAP_M = 150.0


@dataclass
class Candidate:
    """One street that a query may mean: the ways of one name (and their continuation) close together."""

    score: float
    ways: list[int]
    label: str
    nis: tuple[int, ...]  # communes the street touches (30 m slack)
    keys: set[str]
    homes: tuple[int, ...]  # communes holding the middle of its ways


@dataclass
class StreetMatch:
    """The outcome of :func:`match_street`.

    Attributes
    ----------
    street
        The matched street; ``None`` when there is none (``reason`` says why).
    in_area
        The street runs through (or along) the query's area.
    score
        The street's score after the postcode penalty (the best candidate's when there is no match).
    reason
        Why nothing matched ("" for a match).
    flags
        Caveats of a match (a postcode or commune mismatch).
    exact
        The street carries one of the names as written (after normalisation); else it was found by a
        similar name only.
    """

    street: Candidate | None
    in_area: bool = False
    score: float = 0.0
    reason: str = ""
    flags: list[str] = field(default_factory=list)
    exact: bool = False


def key_scores(index: AddressIndex, variants: list[str]) -> tuple[dict[str, float], str]:
    """Score every index key that resembles one of the query variants; also return the best near-miss.

    Parameters
    ----------
    index
        The address index.
    variants
        The query's normalised variants (:func:`~geoplanner.geocode.normalise.street_variants`).

    Returns
    -------
    scores : dict
        Index key -> score (0-1); a street type that differs scores 0.
    near_miss : str
        A key whose core matches but whose street type differs ("" when none), named in the reason.
    """
    scores: dict[str, float] = {}
    near_miss = ""
    all_cores = list(index.core_keys)
    for v in variants:
        if v in index.key_ways:
            scores[v] = 1.0
            continue
        unglued = unglue(v)
        if unglued in index.key_ways:
            scores[unglued] = max(scores.get(unglued, 0.0), UNGLUED_SCORE)
            continue
        q_type, q_core = split_type(v)
        if not q_core:
            continue
        cores = [q_core] if q_core in index.core_keys else []
        cores += close_cores(index, q_core, n=8, cutoff=0.75)
        with_initials = any(len(t) == 1 for t in q_core.split())  # else no core can match by initials
        initials = [core for core in all_cores if initials_match(q_core, core)] if with_initials else []
        for core in dict.fromkeys(cores + initials):
            if core == q_core:
                ratio = 1.0
            elif core in initials:
                ratio = INITIALS_SCORE
            else:
                ratio = core_similarity(q_core, core)
            for key in index.core_keys[core]:
                k_type, _ = index.key_parts[key]
                s = _score_key(q_type, k_type, ratio)
                if s == 0.0 and ratio >= MATCH_THRESHOLD and not near_miss:
                    near_miss = key
                if s > scores.get(key, 0.0):
                    scores[key] = s
    return scores, near_miss


def _score_key(q_type: str, k_type: str, ratio: float) -> float:
    """Score one name pair from its core similarity; a different street type is a different street."""
    if q_type and k_type and q_type != k_type:
        return 0.0
    score = ratio
    if bool(q_type) != bool(k_type):
        score -= 0.05  # "Lessines" for "Rue de Lessines": likely, but say it is less sure
    return score


def close_cores(index: AddressIndex, word: str, n: int, cutoff: float) -> list[str]:
    """Return what ``difflib.get_close_matches(word, cores, n, cutoff)`` returns, faster.

    The same filters in the same order (difflib's ``quick_ratio`` bound, here for every core at
    once from character counts, then ``ratio``), and the same ranking (``heapq.nlargest`` on
    (score, core)), so the result is identical; a plain ``get_close_matches`` over the ~9,000
    cores costs some 80 ms a query.
    """
    rt = runtime(index)
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


def street_candidates(index: AddressIndex, scores: dict[str, float]) -> list[Candidate]:
    """Group the ways of the scored keys, and their continuation, into spatially separate streets.

    Parameters
    ----------
    index
        The address index.
    scores
        Index key -> score (:func:`key_scores`).

    Returns
    -------
    list of Candidate
        Best score first (ties by label and first way).
    """
    if not scores:
        return []
    rt = runtime(index)
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
        out.append(Candidate(best, members, label, nis, keys, homes))
    return sorted(out, key=lambda c: (-c.score, c.label, c.ways[0]))


def _continue_street(index: AddressIndex, direct: list[int], keys: frozenset[str]) -> list[int]:
    """Add the ways that continue the matched ways under another of their names.

    OSM gives the Dutch name on some ways of a street and not on others ("Chaussée de Wavre -
    Waversesteenweg" here, "Chaussée de Wavre" there), so a query in one language would see
    the street cut in pieces. Ways that carry another name of a matched way and touch the
    street (within the cluster gap, step by step) are the same street.
    """
    rt = runtime(index)
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
    rt = runtime(index)
    geoms = rt.way_geoms[ids]
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
        home = int(rt.way_home[way_id])
        b = blob_of[way_id]
        if home in first_blob_of_home:
            parent[find(b)] = find(first_blob_of_home[home])
        else:
            first_blob_of_home[home] = b
    groups: dict[int, list[int]] = defaultdict(list)
    for way_id in ids:
        groups[find(blob_of[way_id])].append(way_id)
    return [sorted(members) for members in groups.values()]


def _street_in_area(index: AddressIndex, cand: Candidate, area: Area) -> int:
    """2 when the street runs through the area, 1 when it only runs along its border, else 0."""
    rt = runtime(index)
    if area.kind == "postcode":
        if any(area.code in rt.way_pcs[w] for w in cand.ways):
            return 2
        return int(any(area.code in rt.way_pcs_edge[w] for w in cand.ways))
    if area.kind == "commune":
        return 2 if area.code in cand.homes else 0
    return 0


def _distance_to_area(index: AddressIndex, cand: Candidate, area: Area) -> float:
    """Distance (metres) from the street to the area."""
    return float(shapely.distance(area_zone(index, area), shapely.union_all(runtime(index).way_geoms[cand.ways])))


def _in_area_first(index: AddressIndex, candidates: list[Candidate], area: Area) -> tuple[list[Candidate], bool]:
    """Return the candidates to choose from, and whether they lie in the area.

    Streets through the area first; streets only along its border when there is none; all streets, with
    the postcode penalty, when none reaches the area.
    """
    in_area: list[Candidate] = []
    if area.kind:
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
    return sorted(pool, key=lambda c: (-c.score, c.label, c.ways[0])), bool(in_area)


def _no_street(pool: list[Candidate], area: Area, in_area: bool, near_miss: str) -> StreetMatch:
    """Return no match, with the reason no candidate scored enough."""
    if pool:
        best = pool[0]
        where = "" if not area.kind or in_area else f" (outside {area.label})"
        reason = f"no street close enough: best '{best.label}' scored {best.score:.2f}{where} < {MATCH_THRESHOLD}"
    else:
        reason = "street not found in OSM"
    if near_miss:
        reason += f"; '{near_miss}' has a different street type"
    best_score = round(max(pool[0].score, 0.0), 3) if pool else 0.0
    return StreetMatch(None, score=best_score, reason=reason)


def match_street(index: AddressIndex, street: str, area: Area) -> StreetMatch:
    """Find the one OSM street a written name means in the query's area.

    Parameters
    ----------
    index
        The address index.
    street
        The street as written (cleaned, not empty).
    area
        The query's area (:func:`~geoplanner.geocode.area.resolve_area`).

    Returns
    -------
    StreetMatch
        The street, or none with the reason: no candidate at or above :data:`MATCH_THRESHOLD`, or two
        equally good ones (ambiguous).
    """
    variants = street_variants(street)
    scores, near_miss = key_scores(index, variants)
    pool, in_area = _in_area_first(index, street_candidates(index, scores), area)
    accepted = [c for c in pool if c.score >= MATCH_THRESHOLD]
    if not accepted:
        return _no_street(pool, area, in_area, near_miss)
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
        reason = f"ambiguous: {len(accepted)} streets match ({names}); {hint}"
        return StreetMatch(None, score=round(best.score, 3), reason=reason)
    flags = []
    if area.kind and not in_area:
        where = "/".join(map(str, best.homes))
        flags.append(f"{area.kind} mismatch: street lies outside {area.label} (in commune {where})")
    exact = bool(set(variants) & best.keys)
    return StreetMatch(best, in_area=bool(area.kind) and in_area, score=best.score, flags=flags, exact=exact)
