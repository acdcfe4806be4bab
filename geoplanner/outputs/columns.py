"""How an output column is shown to a reader: its header, its number format and its coded values in words.

The CSVs keep stable snake_case names and codes (``pop_0_2``, ``all_family``, ``optimal``) for tools; the
workbook (:mod:`geoplanner.outputs.workbook`) shows the same tables in the run's language: :func:`column_header`
names a column, :func:`number_format` says how Excel shows its numbers, :func:`display_value` turns a code into
words (:func:`geoplanner.core.i18n.value_label`).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from geoplanner.core.i18n import DEFAULT_LANG, VALUE_PREFIXES, check_lang, label, value_label
from geoplanner.scenario.measures import MEASURES

__all__ = ["column_header", "default_headers", "number_format", "display_value", "display_frame"]

# Column -> an i18n key, or (nl, fr, en) for headers only the tables need.
_HEADERS: dict[str, str | tuple[str, str, str]] = {
    # scenarios
    "scenario": ("Scenario-id", "Identifiant du scénario", "Scenario id"),
    # ranking (pipeline.RANK_COLUMNS)
    "rank": "rank",
    "priority": ("Prioritair", "Prioritaire", "Priority"),
    "mdrc": ("Wijkcode (MDRC)", "Code quartier (MDRC)", "District code (MDRC)"),
    "name_nl": ("Naam (NL)", "Nom (NL)", "Name (NL)"),
    "name_fr": ("Naam (FR)", "Nom (FR)", "Name (FR)"),
    "communes": ("NIS-codes gemeenten", "Codes INS des communes", "Municipality NIS codes"),
    "commune_names": ("Gemeenten", "Communes", "Municipalities"),
    "lgn": "lgn",
    "lgn_name": ("Naam LGN", "Nom LGN", "LGN name"),
    "pop_total": ("Inwoners", "Habitants", "Residents"),
    "births": "births_wijk",
    "pop_0_2": "pop_0_2",
    "birth_rate_permille": ("Geboortecijfer (‰)", "Taux de natalité (‰)", "Birth rate (‰)"),
    "births_status": ("Status geboorten", "Statut des naissances", "Births status"),
    "pop_0_2_status": ("Status kinderen 0–2", "Statut enfants 0–2 ans", "Children 0–2 status"),
    "pop_total_status": ("Status inwoners", "Statut des habitants", "Residents status"),
    "births_status_mix": ("Herkomst geboortecijfers", "Origine des naissances", "Origin of the births figures"),
    "births_cv": (
        "Onzekerheid geboorten (variatiecoëfficiënt)",
        "Incertitude des naissances (coefficient de variation)",
        "Births uncertainty (coefficient of variation)",
    ),
    "bimd2011_score": ("BIMD 2011-score (kansarmoede)", "Score BIMD 2011 (précarité)", "BIMD 2011 score (deprivation)"),
    "deprivation_method": ("Methode kansarmoede-index", "Méthode de l'indice de précarité", "Deprivation method"),
    "deprivation_by_weights": (
        "Kansarmoede met vaste gewichten",
        "Précarité à poids fixes",
        "Deprivation, fixed weights",
    ),
    "deprivation_by_pca": ("Kansarmoede met PCA-gewichten", "Précarité, poids ACP", "Deprivation, PCA weights"),
    "z_bimd": ("z: BIMD 2011", "z : BIMD 2011", "z: BIMD 2011"),
    "stability": "stability",
    "near_miss": ("Net buiten de selectie", "Juste hors de la sélection", "Just outside the selection"),
    "rank_p05": ("Rang, 5e percentiel", "Rang, 5e centile", "Rank, 5th percentile"),
    "rank_p50": ("Rang, mediaan", "Rang, médiane", "Rank, median"),
    "rank_p95": ("Rang, 95e percentiel", "Rang, 95e centile", "Rank, 95th percentile"),
    "priority_rank": ("Rang prioritaire wijk", "Rang du quartier prioritaire", "Priority district rank"),
    "deprivation": "deprivation",
    "deprivation_source": ("Bron kansarmoede", "Source de la précarité", "Deprivation source"),
    "z_bim": ("z: BIM-rechthebbenden", "z : bénéficiaires BIM", "z: BIM beneficiaries"),
    "z_cpas": ("z: leefloon OCMW", "z : revenu d'intégration CPAS", "z: CPAS income support"),
    "z_unemployment": ("z: werkloosheid", "z : chômage", "z: unemployment"),
    "z_income": ("z: mediaan inkomen (omgekeerd)", "z : revenu médian (inversé)", "z: median income (inverted)"),
    "missing_components": ("Ontbrekende componenten", "Composantes manquantes", "Missing components"),
    "z_birth_rate": ("z: geboortecijfer", "z : taux de natalité", "z: birth rate"),
    "z_births": ("z: geboorten", "z : naissances", "z: births"),
    "contrib_birth_rate": ("Bijdrage geboortecijfer", "Contribution du taux de natalité", "Contribution birth rate"),
    "contrib_births": ("Bijdrage geboorten", "Contribution des naissances", "Contribution births"),
    "contrib_deprivation": ("Bijdrage kansarmoede", "Contribution de la précarité", "Contribution deprivation"),
    "score": "score",
    "p_top21": ("Kans op top 21", "Probabilité d'être dans le top 21", "Probability of top 21"),
    "district_type": ("Type wijk", "Type de quartier", "District type"),
    "excluded_reason": ("Reden niet gerangschikt", "Raison de non-classement", "Reason not ranked"),
    # coverage tables (accessibility.run_coverage)
    "region": ("Gewest", "Région", "Region"),
    "cd_sector": ("Sectorcode", "Code du secteur", "Sector code"),
    "sector_name_nl": ("Sector (NL)", "Secteur (NL)", "Sector (NL)"),
    "sector_name_fr": ("Sector (FR)", "Secteur (FR)", "Sector (FR)"),
    "commune_nis": ("NIS-code gemeente", "Code INS de la commune", "Municipality NIS code"),
    "commune_name_nl": ("Gemeente (NL)", "Commune (NL)", "Municipality (NL)"),
    "commune_name_fr": ("Gemeente (FR)", "Commune (FR)", "Municipality (FR)"),
    "service_set": "service_set",
    "pop_unreachable": ("Kinderen 0–2 onbereikbaar", "Enfants de 0–2 ans sans accès", "Children 0–2 unreachable"),
    "mean_min": ("Gemiddelde wandeltijd (min)", "Temps de marche moyen (min)", "Mean walking time (min)"),
    "p90_min": (
        "90e percentiel wandeltijd (min)",
        "90e centile du temps de marche (min)",
        "90th percentile walking time (min)",
    ),
    "nearest_service_id": ("Dichtstbijzijnde dienst (id)", "Service le plus proche (id)", "Nearest service (id)"),
    "layer_note": ("Volledigheid dienstenlaag", "Complétude de la couche", "Service layer completeness"),
    # timetables (scenario.run_scenario)
    "team": "team",
    "dag": "day",
    "day": "day",
    "dagdeel": "dagdeel",
    "venue_id": ("Locatie (id)", "Lieu (id)", "Venue (id)"),
    "venue_name": ("Locatie", "Lieu", "Venue"),
    "type": ("Soort locatie", "Type de lieu", "Kind of venue"),
    "suitability": ("Geschiktheid", "Adéquation", "Suitability"),
    "dutch_speaking": ("Nederlandstalig", "Néerlandophone", "Dutch-speaking"),
    # a sweep's venues (geoplanner sweep)
    "p_chosen": ("Kans gekozen (aandeel trekkingen)", "Part des tirages où choisi", "Share of draws chosen"),
    "n_chosen": ("Trekkingen gekozen", "Tirages où choisi", "Draws chosen"),
    "base_chosen": ("Gekozen in het scenario", "Choisi dans le scénario", "Chosen in the scenario"),
    "sessions_when_chosen": (
        "Sessies per week als gekozen",
        "Séances par semaine si choisi",
        "Sessions a week when chosen",
    ),
    "consultations_when_chosen": (
        "Consultaties per jaar als gekozen (mediaan)",
        "Consultations par an si choisi (médiane)",
        "Consultations a year when chosen (median)",
    ),
    "capacity": ("Kinderen per sessie", "Enfants par séance", "Children per session"),
    "expected_attendance": (
        "Verwachte kinderen per sessie",
        "Enfants attendus par séance",
        "Expected children per session",
    ),
    "utilisation": ("Bezetting", "Taux d'occupation", "Utilisation"),
    "efficient": ("Efficiënt", "Efficace", "Efficient"),
    "title": "scenario_title",
}
_WITHIN = re.compile(r"^within_(\d+(?:\.\d+)?)_min$")
_SHARE_WITHIN = re.compile(r"^share_within_(\d+(?:\.\d+)?)_min$")
_WITHIN_TEXT = ("Kinderen 0–2 binnen {t} min", "Enfants de 0–2 ans à moins de {t} min", "Children 0–2 within {t} min")

# Words of the ranking's reasons (nl, fr, en).
_TEXT: dict[str, tuple[str, str, str]] = {
    "reason_not_residential": (
        "geen woonwijk ({kind})",
        "pas un quartier résidentiel ({kind})",
        "not residential ({kind})",
    ),
    "reason_small": (
        "minder dan {n} inwoners (1/1/2019)",
        "moins de {n} habitants (1/1/2019)",
        "fewer than {n} residents (1 Jan 2019)",
    ),
}


def _text(key: str, lang: str) -> str:
    return _TEXT[key][("nl", "fr", "en").index(check_lang(lang))]


def column_header(column: str, lang: str = DEFAULT_LANG) -> str:
    """Return the display header of a known output column, else the column name itself.

    Parameters
    ----------
    column
        A column of the priority, coverage or timetable tables (``within_<t>_min`` and
        ``share_within_<t>_min`` for any threshold).
    lang
        ``nl`` (default), ``fr`` or ``en``.
    """
    check_lang(lang)
    i = ("nl", "fr", "en").index(lang)
    entry = _HEADERS.get(column)
    if isinstance(entry, tuple):
        return entry[i]
    if isinstance(entry, str):
        return label(entry, lang)
    if column in _MEASURE_KINDS or column in _EXTRA_LABELLED:  # a scenario measure: its one label everywhere
        text = label(column, lang)
        return text[:1].upper() + text[1:]
    if m := _WITHIN.match(column):
        return _WITHIN_TEXT[i].format(t=m.group(1))
    if m := _SHARE_WITHIN.match(column):
        return f"{label('share_covered', lang)} {m.group(1)} {label('minutes', lang)}"
    return column


def default_headers(frame: pd.DataFrame, lang: str = DEFAULT_LANG) -> dict[str, str]:
    """Map every column of ``frame`` to :func:`column_header`."""
    return {str(c): column_header(str(c), lang) for c in frame.columns}


_COUNT_COLUMNS = frozenset(
    {
        "pop_total",
        "births",
        "pop_0_2",
        "pop_unreachable",
        "children",
        "children_total",
        "children_covered",
        "marginal_children",
        "marginal_demand",
        "cumulative_children",
        "priority_wijken",
        "priority_wijken_reached",
        "sessions_per_week",
        "capacity_per_year",
        "consultations_per_year",
    }
)
_CODE_COLUMNS = frozenset({"rank", "mdrc", "lgn", "commune_nis", "team", "threshold_min", "region", "priority_rank",
                           "rank_p05", "rank_p50", "rank_p95", "capacity", "teams_needed"})  # fmt: skip
_INDEX_COLUMNS = frozenset({"score", "deprivation", "bimd2011_score"})
_SHARE_COLUMNS = frozenset({"utilisation", "solver_gap", "gap_share"})
_PER_SESSION_COLUMNS = frozenset({"expected_attendance"})


_MEASURE_KINDS = {m.column: m.kind for m in MEASURES}
_EXTRA_LABELLED = frozenset({"children", "solver_gap", "solve_s", "status", "model", "demand", "dutch_share"})
_KIND_FORMATS = {"share": "0.0%", "count": "#,##0", "minutes": "0.0"}


def number_format(column: str, values: pd.Series) -> str | None:
    """Return the Excel number format of a numeric column, by its name (None: leave General).

    Shares (``share_*``, ``*_share``, ``p_*``, ``utilisation``, a solver's gap, a coefficient of variation
    ``*_cv``; values 0–1) → ``0.0%``; walking times
    (``*_min`` other than the ``within_*`` counts and the threshold) → ``0.0``; counts of
    children, births, residents → ``#,##0`` (thousands separator); codes and ranks → ``0``;
    z-scores, contributions, scores → ``0.000``; seconds → ``0.00``. Other integer columns
    get ``0``; other numbers keep Excel's General format.

    Parameters
    ----------
    column
        The column name.
    values
        The column (its dtype decides whether a format applies at all).
    """
    if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return None
    if column in _MEASURE_KINDS and _MEASURE_KINDS[column] in _KIND_FORMATS:
        return _KIND_FORMATS[_MEASURE_KINDS[column]]
    if column.startswith(("share_", "p_")) or column.endswith(("_share", "_cv")) or column in _SHARE_COLUMNS:
        return "0.0%"  # a coefficient of variation is a share of the estimate too
    if column in _COUNT_COLUMNS or _WITHIN.match(column) or column.startswith(("n_", "pop_", "births")):
        return "#,##0"
    if column in _CODE_COLUMNS:
        return "0"
    if column.endswith("_min"):
        return "0.0"
    if column.startswith(("z_", "contrib_", "deprivation_by_", "reconcile_")) or column in _INDEX_COLUMNS:
        return "0.000"
    if column in _PER_SESSION_COLUMNS:
        return "0.0"
    if column.endswith("_permille"):
        return "0.0"
    if column.endswith("_s"):
        return "0.00"
    if pd.api.types.is_integer_dtype(values.dtype):
        return "0"
    return None


# Columns that hold a figure's status (observed / derived / estimated / mixed / missing).
_FIGURE_STATUS = re.compile(r"^(pop_\w+|births|kansarmoede_index)_status$")
_STATUS_WORD = re.compile(r"\b(observed|derived|estimated|mixed|missing)\b")
_NOT_RESIDENTIAL = re.compile(r"^geen woonwijk \((\w+)\)$")
_TOO_SMALL = re.compile(r"^minder dan (\d+) inwoners \(1/1/2019\)$")
# Columns whose codes have labels: every kind of value_label (a map popup and the workbook say the same words).
_VALUE_COLUMNS = frozenset(VALUE_PREFIXES) - {"figure_status"}


def display_value(column: str, value: Any, lang: str = DEFAULT_LANG) -> Any:
    """Return a cell's value as the workbook shows it: a coded text value in words of ``lang``, else as it is.

    Codes become labels (:func:`geoplanner.core.i18n.value_label`): a service set (``all_family``), a solver's
    status (``optimal``), a model, a demand kind, a figure's status (``derived``), a venue type, a day or part of a
    day, a suitability class; the ranking's reasons are said in ``lang``. Numbers, booleans and free text (names,
    notes) are kept: the CSV holds the codes, for tools; the workbook is for reading.
    """
    if not isinstance(value, str):
        return value
    if column == "births_status_mix":
        return _STATUS_WORD.sub(lambda m: value_label("figure_status", m.group(1), lang), value)
    if column == "excluded_reason":
        if m := _NOT_RESIDENTIAL.match(value):
            return _text("reason_not_residential", lang).format(kind=value_label("district_type", m.group(1), lang))
        if m := _TOO_SMALL.match(value):
            return _text("reason_small", lang).format(n=m.group(1))
        return value
    if _FIGURE_STATUS.match(column):
        return value_label("figure_status", value, lang)
    if column in _VALUE_COLUMNS:
        return value_label(column, value, lang)
    return value


def display_frame(frame: pd.DataFrame, lang: str = DEFAULT_LANG) -> pd.DataFrame:
    """Return ``frame`` with the coded text values of its columns in words (:func:`display_value`)."""
    check_lang(lang)
    out = frame.copy()
    for col in out.columns:
        name = str(col)
        coded = name in _VALUE_COLUMNS or name in ("births_status_mix", "excluded_reason") or _FIGURE_STATUS.match(name)
        if coded and not pd.api.types.is_numeric_dtype(out[col].dtype):
            out[col] = out[col].map(lambda v, c=name: display_value(c, v, lang)).astype(object)
    return out
