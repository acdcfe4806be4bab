"""The report's section on a sweep: how sure each chosen venue is, and how far the results move.

A sweep (``geoplanner sweep``) is shown beside its scenario only when it is a sweep of that scenario as the run
solved it (:func:`geoplanner.pipeline.sweep.read_sweep`); its full page is ``<scenario>/sweep.html``.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from geoplanner.core.i18n import DEFAULT_LANG, check_lang, fmt_num, value_label
from geoplanner.outputs.report.tables import format_cell
from geoplanner.scenario.sweep import SweepTables, top_assumption

__all__ = ["sweep_section", "sweep_labels", "shown_venues", "key_lines", "assumption_label"]

#: Texts of the section, (nl, fr, en).
_TEXT: dict[str, tuple[str, str, str]] = {
    "heading": (
        "Hoe zeker is elke gekozen locatie?",
        "Quelle est la solidité de chaque lieu choisi ?",
        "How sure is each chosen venue?",
    ),
    "intro": (
        "Een gevoeligheidsanalyse (geoplanner sweep) lost het scenario opnieuw op met andere maar aannemelijke "
        "cijfers. Een locatie die in bijna elke trekking gekozen wordt (robuust, ≥ 90 %), is een veilige keuze; een "
        "twijfelgeval hangt af van cijfers die niemand precies kent. Hieronder de locaties van het scenario en elke "
        "andere die in minstens de helft van de trekkingen gekozen wordt.",
        "Une analyse de sensibilité (geoplanner sweep) résout à nouveau le scénario avec d'autres chiffres "
        "plausibles. Un lieu choisi dans presque chaque tirage (robuste, ≥ 90 %) est un choix sûr ; un lieu incertain "
        "dépend de chiffres que personne ne connaît exactement. Ci-dessous les lieux du scénario et tout autre lieu "
        "choisi dans au moins la moitié des tirages.",
        "A sensitivity analysis (geoplanner sweep) solves the scenario again with other plausible figures. A venue "
        "chosen in almost every draw (robust, ≥ 90 %) is a safe choice; a borderline one depends on figures nobody "
        "knows exactly. Below, the scenario's venues and any other chosen in at least half of the draws.",
    ),
    "page": ("volledige analyse", "analyse complète", "full analysis"),
    "lead": (
        "{draws} keer opgelost met andere maar aannemelijke cijfers (afgeleide aantallen binnen hun onzekerheid, "
        "de aannames van het scenario binnen hun bereik; seed {seed}).",
        "Résolu {draws} fois avec d'autres chiffres plausibles (effectifs dérivés dans leur incertitude, hypothèses "
        "du scénario dans leur fourchette ; graine {seed}).",
        "Solved {draws} times with other plausible figures (derived counts within their uncertainty, the "
        "scenario's assumptions within their ranges; seed {seed}).",
    ),
    "classes": (
        "{robust} robuuste, {likely} waarschijnlijke en {borderline} twijfelachtige locaties van de {n} die in "
        "minstens één trekking gekozen zijn",
        "{robust} lieux robustes, {likely} probables et {borderline} incertains parmi les {n} choisis dans au moins "
        "un tirage",
        "{robust} robust, {likely} likely and {borderline} borderline venues of the {n} chosen in at least one draw",
    ),
    "beyond_share": (
        "; in {p} % van de trekkingen meer dan {n}",
        " ; dans {p} % des tirages plus de {n}",
        "; in {p} % of the draws more than {n}",
    ),
    "consultations": (
        "consultaties per jaar bediend: {base} in het scenario, {low} tot {high} (5–95 %)",
        "consultations par an servies : {base} dans le scénario, {low} à {high} (5–95 %)",
        "consultations a year served: {base} in the scenario, {low} to {high} (5–95 %)",
    ),
    "teams": (
        "teams nodig voor het doel: {base} in het scenario, {low} tot {high} (5–95 %)",
        "équipes nécessaires pour l'objectif : {base} dans le scénario, {low} à {high} (5–95 %)",
        "teams needed for the target: {base} in the scenario, {low} to {high} (5–95 %)",
    ),
    "beyond": (
        "meer dan {n}",
        "plus de {n}",
        "more than {n}",
    ),
    "moves": (
        "wat {what} het meest verschuift: {name}, van {low} tot {high}",
        "ce qui déplace le plus {what} : {name}, de {low} à {high}",
        "what moves {what} most: {name}, from {low} to {high}",
    ),
    "what_consultations_served": ("de bediende consultaties", "les consultations servies", "consultations served"),
    "what_teams_needed": ("de benodigde teams", "les équipes nécessaires", "the teams needed"),
    "yes": ("ja", "oui", "yes"),
    "h_name": ("Locatie", "Lieu", "Venue"),
    "h_lgn": ("LGN", "LGN", "LGN"),
    "h_p_chosen": ("Kans gekozen", "Part des tirages où choisi", "Share of draws chosen"),
    "h_stability": ("Zekerheid", "Certitude", "Certainty"),
    "h_base_chosen": ("In het scenario", "Dans le scénario", "In the scenario"),
    "h_sessions_when_chosen": ("Sessies/week als gekozen", "Séances/semaine si choisi", "Sessions/week when chosen"),
    "a_uptake": ("gebruik van een consultatiebureau", "recours à un bureau", "uptake of a bureau"),
    "a_dutch_share": ("aandeel Nederlandstalig", "part néerlandophone", "Dutch-speaking share"),
    "a_children_per_session": ("kinderen per sessie", "enfants par séance", "children per session"),
    "a_planned_fill": ("geplande bezetting", "taux de remplissage prévu", "planned fill"),
    "a_weeks_per_year": ("werkweken per jaar", "semaines par an", "working weeks a year"),
    "a_consultations_age0": ("consultaties 0 jaar", "consultations à 0 an", "consultations at age 0"),
    "a_consultations_age1": ("consultaties 1 jaar", "consultations à 1 an", "consultations at age 1"),
    "a_consultations_age2": ("consultaties 2 jaar", "consultations à 2 ans", "consultations at age 2"),
    "a_counts": (
        "afgeleide aantallen (geboorten, kinderen 0-2)",
        "effectifs dérivés (naissances, enfants 0-2 ans)",
        "derived counts (births, children 0-2)",
    ),
}

#: Columns of the venue table, in order.
_COLUMNS = ("name", "lgn", "p_chosen", "stability", "base_chosen", "sessions_when_chosen")


def _t(key: str, lang: str) -> str:
    return _TEXT[key][("nl", "fr", "en").index(check_lang(lang))]


def sweep_labels(lang: str = DEFAULT_LANG) -> dict[str, str]:
    """Return the section's heading, its introduction and the label of the link to a sweep's own page."""
    return {k: _t(k, lang) for k in ("heading", "intro", "page")}


def _number(v: Any, lang: str, beyond: int | None = None) -> str:
    """Format a count; a missing teams-needed value beyond the curve reads 'more than <max>'."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return _t("beyond", lang).format(n=beyond) if beyond is not None else "–"
    return fmt_num(float(v), lang, 0)


def shown_venues(sites: pd.DataFrame) -> pd.DataFrame:
    """Return the venues the section lists: those the scenario chooses and any chosen in half the draws or more."""
    keep = sites["base_chosen"].astype(bool) | (sites["p_chosen"] >= 0.5)
    return sites[keep].sort_values(["p_chosen", "name"], ascending=[False, True], kind="stable")


def assumption_label(key: str, lang: str = DEFAULT_LANG) -> str:
    """Return what a swept assumption (a ``[sweep]`` key, or ``counts``) is called in ``lang``."""
    return _t(f"a_{key}", lang) if f"a_{key}" in _TEXT else key


def _moves(sensitivity: pd.DataFrame, measure: str, lang: str, beyond: int | None) -> str | None:
    """Say which assumption alone moves ``measure`` most, and from what to what (None: nothing moves it)."""
    top = top_assumption(sensitivity, measure)
    if top is None:
        return None
    key, low, high = top
    return _t("moves", lang).format(what=_t(f"what_{measure}", lang), name=assumption_label(key, lang),
                                    low=_number(low, lang, beyond), high=_number(high, lang, beyond))  # fmt: skip


def key_lines(tables: SweepTables, *, max_teams: int | None = None, lang: str = DEFAULT_LANG) -> list[str]:
    """Return a sweep in a few lines: venues by class, the 5-95 % ranges, what moves them most.

    The report's section, the sweep's own page and the command line show these same lines. ``max_teams``: the
    teams curve's last point (teams needed beyond it reads "more than" it).
    """
    counts = tables.sites["stability"].value_counts()
    lines = [
        _t("classes", lang).format(
            n=len(tables.sites), **{c: int(counts.get(c, 0)) for c in ("robust", "likely", "borderline")}
        )
    ]
    summary = tables.summary.set_index("measure")
    for measure, key in (("consultations_served", "consultations"), ("teams_needed", "teams")):
        if measure in summary.index:
            r = summary.loc[measure]
            beyond = max_teams if measure == "teams_needed" else None  # only teams needed can pass the curve
            base, low, high = (_number(r[c], lang, beyond) for c in ("base", "p05", "p95"))
            line = _t(key, lang).format(base=base, low=low, high=high)
            share = float(r.get("share_beyond_curve", 0) or 0)
            if measure == "teams_needed" and share > 0 and max_teams is not None:
                line += _t("beyond_share", lang).format(p=fmt_num(100 * share, lang, 0), n=max_teams)
            lines.append(line)
    for measure in ("consultations_served", "teams_needed"):
        line = _moves(tables.sensitivity, measure, lang, max_teams if measure == "teams_needed" else None)
        if line:
            lines.append(line)
    return lines


def sweep_section(
    title: str, tables: SweepTables, *, link: str | None = None, max_teams: int | None = None, lang: str = DEFAULT_LANG
) -> dict[str, Any]:
    """Return a sweep's part of the report: its lead, key lines and the venues the scenario chooses or that are likely.

    Parameters
    ----------
    title
        The scenario's title.
    tables
        The sweep's tables (:class:`~geoplanner.scenario.sweep.SweepTables`), rounded as its CSVs are.
    link
        Path of its page ``sweep.html`` relative to the report.
    max_teams
        The teams curve's last point: a teams-needed value missing because no point met the target reads "more
        than" it.
    lang
        ``nl`` (default), ``fr`` or ``en``.
    """
    venues = shown_venues(tables.sites)
    rows = []
    for _, r in venues.iterrows():
        rows.append([str(r["name"]), str(int(r["lgn"])), format_cell(r["p_chosen"], "share", lang),
                     value_label("stability", r["stability"], lang), _t("yes", lang) if bool(r["base_chosen"]) else "",
                     format_cell(r["sessions_when_chosen"], "number", lang)])  # fmt: skip
    return {
        "title": title,
        "lead": _t("lead", lang).format(draws=fmt_num(tables.draws, lang), seed=tables.seed),
        "lines": key_lines(tables, max_teams=max_teams, lang=lang),
        "link": link,
        "table": {"header": [_t(f"h_{c}", lang) for c in _COLUMNS], "rows": rows},
    }
