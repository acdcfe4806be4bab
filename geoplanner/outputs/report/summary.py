"""The report's first page and its caveats: key figures per scenario, notes grouped by whom they concern."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from geoplanner.core.i18n import DEFAULT_LANG, check_lang, label
from geoplanner.outputs.report.tables import format_cell

__all__ = ["summary_section", "group_notes"]


# The one-page summary's own words (nl, fr, en), kept next to the one function that uses them.
_SUMMARY_TEXT: dict[str, tuple[str, str, str]] = {
    "title": ("Samenvatting", "Résumé", "Summary"),
    "intro": (
        "De kerncijfers per scenario, de huidige situatie eerst. Details, kaarten en alle kanttekeningen "
        "volgen op de volgende bladzijden.",
        "Les chiffres clés par scénario, la situation actuelle d'abord. Détails, cartes et toutes les remarques "
        "suivent aux pages suivantes.",
        "The key figures per scenario, the current situation first. Details, maps and every caveat follow on "
        "the next pages.",
    ),
    "children": ("Kinderen 0–2 bereikt", "Enfants de 0–2 ans couverts", "Children aged 0–2 reached"),
    "consultations": ("Consultaties per jaar bediend", "Consultations servies par an", "Consultations served a year"),
    "priority": ("Prioritaire wijken", "Quartiers prioritaires", "Priority districts"),
    "reached_of": ("{a} van {b} bereikt", "{a} sur {b} couverts", "{a} of {b} reached"),
    "served_share": ("{p} van hun vraag bediend", "{p} de leur demande servie", "{p} of their demand served"),
    "teams": ("Teams", "Équipes", "Teams"),
    "teams_cell": ("{a} ingezet", "{a} prévues", "{a} deployed"),
    "needed_cell": ("{a} nodig voor het doel", "{a} nécessaires pour l'objectif", "{a} needed for the target"),
    "sites": ("Nieuwe locaties", "Nouveaux sites", "New sites"),
    "within": ("binnen {t} min", "à moins de {t} min", "within {t} min"),
    "estimated_mark": ("geschat", "estimé", "estimated"),
    "derived_mark": ("afgeleid", "dérivé", "derived"),
    "legend": (
        "geschat: uit geschatte aantallen kinderen per sector; afgeleid: berekend uit aannames over "
        "consultaties per kind en kinderen per sessie.",
        "estimé : à partir du nombre estimé d'enfants par secteur ; dérivé : calculé à partir d'hypothèses "
        "sur les consultations par enfant et les enfants par séance.",
        "estimated: from estimated numbers of children per sector; derived: computed from assumptions on "
        "consultations per child and children per session.",
    ),
    "caveats": ("Belangrijkste kanttekeningen", "Principales remarques", "Main caveats"),
    "caveat_children": (
        "Het aantal jonge kinderen per buurt is geschat uit de leeftijdsopbouw en de gemeentecijfers, "
        "niet geteld. Kleine verschillen tussen wijken zeggen dus weinig.",
        "Le nombre de jeunes enfants par quartier est estimé à partir de la structure par âge et des chiffres "
        "communaux, pas compté. De petites différences entre quartiers ont donc peu de sens.",
        "The number of young children per neighbourhood is estimated from the age structure and the municipal "
        "figures, not counted. Small differences between districts mean little.",
    ),
    "caveat_layers": (
        "{n} lijsten van diensten zijn onvolledig: maar een deel van de bestaande locaties staat op de kaart. "
        "Waar een dienst ontbreekt, is de echte wandeltijd korter dan hier berekend; het bereik van de huidige "
        "situatie is dus een ondergrens. {layers}",
        "{n} listes de services sont incomplètes : seule une partie des lieux existants est sur la carte. Là où "
        "un service manque, le temps de marche réel est plus court que calculé ici ; la couverture actuelle est "
        "donc un minimum. {layers}",
        "{n} lists of services are incomplete: only part of the existing places are on the map. Where a service "
        "is missing, the real walking time is shorter than computed here; the current coverage is thus a lower "
        "bound. {layers}",
    ),
    "caveat_network": (
        "Wandeltijden zijn berekend op het OpenStreetMap-stratennet van 2013; straten en doorsteken die "
        "sindsdien zijn aangelegd, ontbreken.",
        "Les temps de marche sont calculés sur le réseau de rues OpenStreetMap de 2013 ; les rues et passages "
        "ouverts depuis manquent.",
        "Walking times are computed on the OpenStreetMap street network of 2013; streets and passages opened "
        "since are missing.",
    ),
    "caveat_capacity": (
        "Consultaties per kind, gebruik en kinderen per sessie zijn aannames (zie de parameters van elk "
        "scenario); teams en bediende consultaties veranderen mee met die aannames.",
        "Les consultations par enfant, le recours et les enfants par séance sont des hypothèses (voir les "
        "paramètres de chaque scénario) ; équipes et consultations servies en dépendent.",
        "Consultations per child, uptake and children per session are assumptions (see each scenario's "
        "parameters); teams and consultations served change with them.",
    ),
}


def _summary_text(key: str, lang: str) -> str:
    return _SUMMARY_TEXT[key][("nl", "fr", "en").index(check_lang(lang))]


_INCOMPLETE = "ONVOLLEDIGE LAAG"  # the mark of load.ServiceSet.completeness_note
_LAYER_GIST = re.compile(r"^(.+?: \d+ locaties op de kaart(?:, van ~?\d+ die bestaan)?)")


def _layer_gist(note: str) -> str:
    """Shorten an incomplete-layer note to its name, the places on the map and the places that exist."""
    text = note.split(f" — {_INCOMPLETE}")[0]
    m = _LAYER_GIST.match(text)
    return m.group(1) if m else text


def _present(row: Mapping[str, Any], col: str) -> bool:
    v = row.get(col)
    return v is not None and not (isinstance(v, float | np.floating) and math.isnan(v))


def summary_section(
    comparison: pd.DataFrame,
    *,
    teams: Mapping[str, int | None] | None = None,
    notes: Sequence[str] = (),
    lang: str = DEFAULT_LANG,
) -> dict[str, Any]:
    """Build the report's one-page summary: key figures per scenario and the main caveats.

    Parameters
    ----------
    comparison
        :func:`geoplanner.scenario.compare`'s table (one row per scenario, current first).
    teams
        Scenario name -> mobile teams deployed (rotation scenarios), if any.
    notes
        The run's notes; the incomplete service layers (``ONVOLLEDIGE LAAG``) are counted.
    lang
        ``nl`` (default), ``fr`` or ``en``.

    Returns
    -------
    dict
        ``title``, ``intro``, ``header``, ``rows`` (display strings), ``legend`` and ``caveats``.
        Figures from estimated children are marked *geschat*, those from capacity assumptions
        *afgeleid*.
    """
    t = _summary_text
    est, der = f"({t('estimated_mark', lang)})", f"({t('derived_mark', lang)})"
    header = [
        label("scenario_title", lang),
        f"{t('children', lang)} {est}",
        f"{t('consultations', lang)} {der}",
        t("priority", lang),
        t("teams", lang),
        t("sites", lang),
    ]
    rows = []
    capacitated = False
    for row in comparison.to_dict("records"):
        children = format_cell(row.get("children_covered"), "count", lang)
        if _present(row, "share_covered"):
            children += f" ({format_cell(row['share_covered'], 'share', lang)})"
        if _present(row, "threshold_min"):
            children += f", {t('within', lang).format(t=format_cell(row['threshold_min'], 'number', lang))}"
        consult = "–"
        if _present(row, "consultations_served"):
            capacitated = True
            consult = format_cell(row["consultations_served"], "count", lang)
            if _present(row, "share_consultations_served"):
                consult += f" ({format_cell(row['share_consultations_served'], 'share', lang)})"
        prio = []
        if _present(row, "priority_wijken_reached") and _present(row, "priority_wijken"):
            a, b = (format_cell(row[c], "count", lang) for c in ("priority_wijken_reached", "priority_wijken"))
            prio.append(t("reached_of", lang).format(a=a, b=b))
        if _present(row, "share_priority_served"):
            prio.append(t("served_share", lang).format(p=format_cell(row["share_priority_served"], "share", lang)))
        team_cells = []
        deployed = (teams or {}).get(str(row.get("scenario")))
        if deployed:
            team_cells.append(t("teams_cell", lang).format(a=int(deployed)))
        if _present(row, "teams_needed"):
            team_cells.append(t("needed_cell", lang).format(a=format_cell(row["teams_needed"], "count", lang)))
        sites = format_cell(row.get("n_new_sites"), "count", lang)
        rows.append([str(row.get("scenario", "")), children, consult, "; ".join(prio) or "–",
                     "; ".join(team_cells) or "–", sites])  # fmt: skip
    caveats = [t("caveat_children", lang)]
    incomplete = [_layer_gist(n) for n in dict.fromkeys(notes) if _INCOMPLETE in n]
    if incomplete:
        layers = "; ".join(incomplete) + "."
        caveats.append(t("caveat_layers", lang).format(n=len(incomplete), layers=layers))
    caveats.append(t("caveat_network", lang))
    if capacitated:
        caveats.append(t("caveat_capacity", lang))
    return {
        "title": t("title", lang),
        "intro": t("intro", lang),
        "header": header,
        "rows": rows,
        "legend": t("legend", lang),
        "caveats": caveats,
        "caveats_title": t("caveats", lang),
    }


def group_notes(results: Sequence[Any], extra: Sequence[str] = ()) -> tuple[list[str], list[tuple[str, str]]]:
    """Split the caveats of scenario results into general ones and scenario-specific ones.

    A note every result carries (the current situation's service layers, estimated children) is
    general; any other note is tied to the scenarios that carry it.

    Parameters
    ----------
    results
        :class:`~geoplanner.scenario.ScenarioResult` objects (``.scenario.name``, ``.notes``).
    extra
        Further notes (e.g. from the maps); general unless a result carries them.

    Returns
    -------
    general : list of str
        In first-seen order.
    per_scenario : list of (str, str)
        ``(scenario names joined by ", ", note)``, in scenario order then note order; a note
        several (not all) scenarios share is listed once with all their names.
    """
    owners: dict[str, list[str]] = {}
    for r in results:
        for n in dict.fromkeys(r.notes):
            owners.setdefault(n, []).append(r.scenario.name)
    everyone = len(results)
    general = [n for n, names in owners.items() if len(names) == everyone]
    general += [n for n in dict.fromkeys(extra) if n not in owners]
    order = {r.scenario.name: i for i, r in enumerate(results)}
    # sorted by the first scenario carrying the note; stable, so each scenario's note order stays
    shared = sorted((item for item in owners.items() if len(item[1]) < everyone), key=lambda it: order[it[1][0]])
    return general, [(", ".join(names), n) for n, names in shared]
