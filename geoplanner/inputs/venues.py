"""Which candidate venues can host a consultation: suitability classes and the venue's language.

A consultation (weighing, a talk with the nurse or doctor, a vaccination) needs a room that can
be closed, privacy and a family-friendly setting. The candidate file only says what *kind* of
place a venue is (``type``, from OpenStreetMap tags or the source page), so suitability is
judged per type, with the reason written down:

- ``geschikt`` (suitable): places that work with families or offer care in private rooms.
- ``na_te_gaan`` (to check): the type mixes suitable and unsuitable places (OSM
  ``amenity=community_centre`` holds neighbourhood houses next to dance and hip-hop schools,
  religious and cultural associations); check each venue before use.
- ``ongeschikt`` (unsuitable): no room or privacy for a consultation.

This is an authored fact table (reasons below), not data: a user who knows a venue better can
put a ``suitability`` column in their own candidate file (``geoplanner services import``);
a value there wins over the type.

Whether a venue is **Dutch-speaking** comes from the data: the ``language`` column of the
candidate file (``nl``, ``fr``, ``nl/fr``, ``unknown``; worked out from the name, operator and
OSM language tags, a hint rather than an official language community, see the PROVENANCE of
``data/services``). A venue counts as Dutch-speaking when that column starts with ``nl`` (so
bilingual ``nl/fr`` counts); ``unknown`` stays unknown and is never guessed.
"""

from __future__ import annotations

import pandas as pd

from geoplanner.core.errors import DataError

__all__ = ["SUITABILITY_CLASSES", "TYPE_SUITABILITY", "suitability", "dutch_speaking"]

#: Suitability classes, best first.
SUITABILITY_CLASSES = ("geschikt", "na_te_gaan", "ongeschikt")

#: Candidate ``type`` -> (suitability class, reason). Types of ``data/services/candidate_sites.csv``.
TYPE_SUITABILITY: dict[str, tuple[str, str]] = {
    "community_centre_vgc": (
        "geschikt",
        "Nederlandstalig gemeenschapscentrum (VGC): zalen en lokalen, werkt al met gezinnen in de buurt",
    ),
    "maison_de_quartier": ("geschikt", "buurthuis van de gemeente: lokalen, laagdrempelig, werkt met buurtbewoners"),
    "wgc_maison_medicale": ("geschikt", "wijkgezondheidscentrum: consultatieruimtes met privacy, eerstelijnszorg"),
    "inloop_spel_ontmoeting": ("geschikt", "Baboes / inloopteam (Huis van het Kind-partner): werkt met gezinnen 0-4"),
    "brede_school": ("geschikt", "brede school: lokalen, bereikt gezinnen met jonge kinderen"),
    "kindercampus": ("geschikt", "kindercampus met een Kind & Gezin-consultatiebureau"),
    "one_site": ("geschikt", "ONE-consultatieplaats: ingericht voor consultaties"),
    "childcare_or_preschool": (
        "geschikt",
        "kinderopvang of kleuterschool: ouders met jonge kinderen komen er dagelijks; een lokaal nodig",
    ),
    "community_centre": (
        "na_te_gaan",
        "OSM community_centre: mengt buurthuizen met dans- en hiphopscholen, culturele en religieuze verenigingen",
    ),
    "library": ("na_te_gaan", "bibliotheek: open ruimte; een afsluitbaar lokaal is niet zeker"),
    "clinic_other": (
        "na_te_gaan",
        "kliniek of medisch centrum: ruimtes met privacy, maar vaak ziekenhuisdiensten of privépraktijken",
    ),
    "social_facility": ("na_te_gaan", "sociale voorziening (hier sociale kruideniers): geen consultatieruimte zeker"),
}


def suitability(cand: pd.DataFrame) -> pd.Series:
    """Return the suitability class of each candidate venue.

    A ``suitability`` column in the data wins (a user who knows the venue); otherwise the class
    of the venue's ``type`` in :data:`TYPE_SUITABILITY`; a type not in the table is ``na_te_gaan``.

    Parameters
    ----------
    cand
        Candidate venues with ``type`` (and optionally ``suitability``).

    Returns
    -------
    pandas.Series
        One of :data:`SUITABILITY_CLASSES` per row, same index.
    """
    by_type = cand["type"].map(lambda t: TYPE_SUITABILITY.get(str(t), ("na_te_gaan", ""))[0])
    if "suitability" not in cand.columns:
        return by_type.rename("suitability")
    given = cand["suitability"].astype("string").str.strip().str.lower()
    bad = given.notna() & (given != "") & ~given.isin(SUITABILITY_CLASSES)
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise DataError(
            f"unknown suitability {given.iloc[i]!r} (use {', '.join(SUITABILITY_CLASSES)})",
            row=i + 2,
            column="suitability",
        )
    return given.where(given.notna() & (given != ""), by_type).astype(str).rename("suitability")


def dutch_speaking(cand: pd.DataFrame) -> pd.Series:
    """Return, per venue, True (Dutch-speaking or bilingual), False (not) or None (unknown).

    Read from the data's ``language`` column (see the module docstring); a file without that
    column gives unknown for every venue.
    """
    if "language" not in cand.columns:
        return pd.Series([None] * len(cand), index=cand.index, dtype=object, name="dutch_speaking")
    lang = cand["language"].astype("string").str.strip().str.lower().fillna("unknown")
    out = lang.map(lambda v: None if v in ("", "unknown") else v.startswith("nl") or "/nl" in v)
    return out.astype(object).rename("dutch_speaking")
