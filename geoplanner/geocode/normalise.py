"""Street names and house numbers as users and OSM write them, made comparable.

Lower case, no accents, abbreviations expanded, bilingual names split into their halves, the street type
("rue", "...straat") told apart from the core name, and Belgian house numbers, ranges and boxes parsed.
See ``docs/methods/geocoder.md``.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

import numpy as np

__all__ = [
    "MATCH_THRESHOLD",
    "FR_TYPES",
    "NL_TYPES",
    "ARTICLES",
    "HouseNumber",
    "parse_house_number",
    "normalise_street",
    "street_variants",
    "split_type",
    "unglue",
    "names_compatible",
    "GENERIC_WORDS",
    "UNGLUED_SCORE",
    "INITIALS_SCORE",
    "core_similarity",
    "initials_match",
    "name_score",
    "names_agree",
]

#: Minimum street-name score (0-1) to accept a match. 0.85 accepts a missing article or
#: a one-letter typo in a name of 8+ letters ("Lesines" for "Lessines": 0.93) and rejects
#: distinct short names ("Loi" / "Roi": 0.67).
MATCH_THRESHOLD = 0.85

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

#: French street types (normalised), matched at the start of a name.
FR_TYPES = (
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
#: Dutch street types (normalised), matched at the end of a name; order matters: steenweg before weg.
NL_TYPES = (
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
#: Dutch street types written before the name ("Steenweg op Waterloo", the Waterloosesteenweg): (prefix, type).
_NL_PREFIX_TYPES = (("steenweg op", "steenweg"),)
#: Articles and prepositions left out of a core name.
ARTICLES = {"de", "la", "le", "les", "du", "des", "l", "d", "van", "der", "den", "het", "t", "a", "au", "aux"}
#: Words many street names share ("steenweg op", "cité", "grande"): two names that share only such words and
#: differ in the others are different streets unless the words that differ agree (:func:`core_similarity`).
GENERIC_WORDS = frozenset(
    ARTICLES
    | {w for t in (*FR_TYPES, *NL_TYPES) for w in t.split()}
    | {"op", "naar", "aan", "sur", "en", "et"}
    | {"grande", "grand", "petite", "petit", "vieille", "vieux", "ancienne", "ancien", "nouvelle", "nouveau"}
    | {"haute", "basse", "oude", "nieuwe", "grote", "kleine"}
)
#: Score of a French name with its Dutch street type glued on ("Rue Cervantesstraat"): likely, not certain.
UNGLUED_SCORE = 0.95
#: Score of a name written with initials ("E. Degas" for "Edgar Degas"): likely, not certain.
INITIALS_SCORE = 0.92

# A range wider than this ("2-400") is read as its first number.
_RANGE_MAX_SPAN = 200
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


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


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


def split_type(key: str) -> tuple[str, str]:
    """Split a normalised name into its street type and its core name without articles.

    Parameters
    ----------
    key
        A normalised name (:func:`normalise_street`).

    Returns
    -------
    tuple of str
        (street type, core): ``('rue', 'lessines')`` for "rue de lessines", ``('straat', 'lessens')``
        for "lessensstraat"; the type is empty when the name has none.
    """
    street_type = ""
    rest = key
    prefixes = [(t, t) for t in sorted(FR_TYPES, key=len, reverse=True)] + list(_NL_PREFIX_TYPES)
    for prefix, t in prefixes:
        if key == prefix or key.startswith(prefix + " "):
            street_type, rest = t, key[len(prefix) :].strip()
            break
    else:
        last = key.split(" ")[-1] if key else ""
        for t in NL_TYPES:  # order matters: steenweg before weg
            if last.endswith(t):
                street_type = t
                rest = key[: len(key) - len(t)].strip()
                break
    tokens = [tok for tok in rest.split() if tok not in ARTICLES]
    return street_type, " ".join(tokens) if tokens else rest


def unglue(key: str) -> str:
    """Drop a Dutch street type glued to a French name: "rue cervantesstraat" -> "rue cervantes".

    Both halves of a bilingual name written as one ("Rue Cervantesstraat", "Avenue Paul Hymans laan")
    occur in ``addr:street`` and in users' lists.

    Parameters
    ----------
    key
        A normalised name.

    Returns
    -------
    str
        The French name without the Dutch type; "" when the key is not of that form.
    """
    f_type, core = split_type(key)
    if f_type not in FR_TYPES or not core:
        return ""
    last = key.split(" ")[-1]
    for t in NL_TYPES:
        if last.endswith(t) and (len(last) >= len(t) + 3 or last == t):
            rest = key[: len(key) - len(t)].strip()
            return rest if split_type(rest)[1] else ""
    return ""


def names_compatible(point_keys: tuple[str, ...], way_keys: tuple[str, ...]) -> bool:
    """Tell whether an ``addr:street`` and a way name are the same street spelled differently.

    ``addr:street`` is typed by hand on each address ("Louisalaan" for "Louizalaan", "Rue Wierz"),
    so a close core name counts when the street types do not contradict each other.

    Parameters
    ----------
    point_keys
        Normalised variants of the address point's street.
    way_keys
        Normalised variants of the way's names.

    Returns
    -------
    bool
    """
    for pk in point_keys:
        p_type, p_core = split_type(pk)
        cores = [p_core]
        if unglue(pk):  # bilingual names glued into one ("Place de Rochefortplein")
            cores.append(split_type(unglue(pk))[1])
        for wk in way_keys:
            w_type, w_core = split_type(wk)
            if p_type and w_type and p_type != w_type:
                continue
            if core_similarity(pk, wk) >= 0.9 or any(core_similarity(c, w_core) >= MATCH_THRESHOLD for c in cores):
                return True
            # A surname for the full name ("Reyerslaan" for "Auguste Reyerslaan"), same street type.
            if p_type and p_type == w_type and w_core.endswith(" " + p_core):
                return True
    return False


def _without_shared_generic(a: list[str], b: list[str]) -> tuple[str, str]:
    """Drop the generic words both token lists hold (as often as both hold them); keep the rest in order."""
    shared = Counter(t for t in a if t in GENERIC_WORDS) & Counter(t for t in b if t in GENERIC_WORDS)

    def rest(tokens: list[str]) -> str:
        left = shared.copy()
        out = []
        for t in tokens:
            if left[t] > 0:
                left[t] -= 1
            else:
                out.append(t)
        return " ".join(out)

    return rest(a), rest(b)


def core_similarity(a: str, b: str) -> float:
    """Compare two (core) names: difflib's ratio, unless a shared generic part carries it.

    When the names share generic words ("steenweg op", "cité", "avenue des") and both have other words, those
    other words tell the streets apart: if they are less alike than :data:`MATCH_THRESHOLD`, their own ratio is
    returned ("steenweg op waterloo" / "steenweg op waver": 0.62, not 0.86). Otherwise the plain ratio.

    Parameters
    ----------
    a, b
        Normalised names or core names.

    Returns
    -------
    float
        0-1.
    """
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    ta, tb = a.split(), b.split()
    da, db = _without_shared_generic(ta, tb)
    if da and db and (len(da) < len(a) or len(db) < len(b)):
        distinct = difflib.SequenceMatcher(None, da, db).ratio()
        if distinct < MATCH_THRESHOLD:
            return min(ratio, distinct)
    return ratio


def initials_match(q_core: str, core: str) -> bool:
    """Tell whether ``q_core`` writes ``core`` with initials: "e degas" for "edgar degas"."""
    q_tokens = q_core.split()
    if not any(len(t) == 1 for t in q_tokens) or all(len(t) == 1 for t in q_tokens):
        return False
    tokens = core.split()
    return len(tokens) == len(q_tokens) and all(
        (len(q) == 1 and t.startswith(q)) or q == t for q, t in zip(q_tokens, tokens, strict=True)
    )


def name_score(query: str, key: str) -> float:
    """Score a normalised street name against another as the street matching does (0-1).

    1 for the same name; :data:`UNGLUED_SCORE` for a French name with its Dutch type glued on;
    0 when the street types differ; :data:`INITIALS_SCORE` for a name written with initials; else
    :func:`core_similarity` of the core names, 0.05 less when only one of the two has a street type.

    Parameters
    ----------
    query
        The name as the user wrote it, normalised.
    key
        A name of the index, normalised.

    Returns
    -------
    float
    """
    if query == key:
        return 1.0
    if unglue(query) == key:
        return UNGLUED_SCORE
    (q_type, q_core), (k_type, k_core) = split_type(query), split_type(key)
    if q_type and k_type and q_type != k_type:
        return 0.0
    if q_core == k_core:
        ratio = 1.0
    elif initials_match(q_core, k_core):
        ratio = INITIALS_SCORE
    else:
        ratio = core_similarity(q_core, k_core)
    return ratio - 0.05 if bool(q_type) != bool(k_type) else ratio


def names_agree(query: list[str], keys: tuple[str, ...] | list[str]) -> bool:
    """Tell whether any of a query's variants scores at least :data:`MATCH_THRESHOLD` against any of ``keys``."""
    return any(name_score(q, k) >= MATCH_THRESHOLD for q in query for k in keys)
