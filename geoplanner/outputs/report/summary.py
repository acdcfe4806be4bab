"""The report's first page: what each scenario gives and costs, on one scale, in plain words, to decide on.

Page 1 says first what the figures rest on when the known services are too few to be a baseline, then one row
per scenario (its title, the staffed sessions it costs, the consultations it serves, the priority wijken it
serves, what a session serves, its reach and its teams), the trade-off chart, what each scenario is, and the main
caveats. Internal names (scenario ids, TOML keys, models, solver words) are in the appendix
(:func:`appendix_section`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from geoplanner.core.i18n import DEFAULT_LANG, check_lang, fmt_num, label
from geoplanner.outputs.report.tables import format_cell

__all__ = ["BaselineLayer", "summary_section", "appendix_section", "group_notes", "short_description"]

# The first page's own words (nl, fr, en), kept next to the functions that use them.
_TEXT: dict[str, tuple[str, str, str]] = {
    "title": (
        "Samenvatting: de scenario's naast elkaar",
        "Résumé : les scénarios côte à côte",
        "Summary: the scenarios side by side",
    ),
    "intro": (
        "Vaste locaties en mobiele teams op één schaal: de kost in nieuwe bemande sessies per week, de consultaties "
        "per jaar bediend binnen de capaciteit, de kinderen binnen {t} minuten wandelen.",
        "Sites fixes et équipes mobiles sur une même échelle : le coût en nouvelles séances par semaine, les "
        "consultations par an servies dans la capacité, les enfants à moins de {t} minutes à pied.",
        "Fixed sites and mobile teams on one scale: the cost in new staffed sessions a week, the consultations a "
        "year served within capacity, the children within {t} minutes' walk.",
    ),
    "baseline": (
        "Let op: de gekende basis is onvolledig. {layers} De huidige situatie hier is dus niet het aanbod van "
        "Brussel; elk scenario staat als wat het toevoegt aan de gekende basis (+).",
        "Attention : la base connue est incomplète. {layers} La situation actuelle affichée n'est donc pas l'offre "
        "réelle de Bruxelles ; chaque scénario est montré comme ce qu'il ajoute à la base connue (+).",
        "Note: the known baseline is incomplete. {layers} What shows as the current situation is therefore not what "
        "Brussels offers today; each scenario is shown as what it adds to the known baseline (+).",
    ),
    "baseline_layer": (
        "{name}: {n} van ~{expected} locaties bekend.",
        "{name} : {n} sur ~{expected} lieux connus.",
        "{name}: {n} of ~{expected} sites known.",
    ),
    "todo": (
        "Wat te doen: laad de echte lijst van de bureaus met `geoplanner services import lijst.csv --set cb_2025` "
        "en kies die set in de scenario's; dan stijgt de huidige situatie en tonen de scenario's wat ze werkelijk "
        "toevoegen waar geen bureau in de buurt is.",
        "À faire : chargez la vraie liste des bureaux avec `geoplanner services import liste.csv --set cb_2025` et "
        "choisissez cet ensemble dans les scénarios. La couverture actuelle augmente alors, et les scénarios "
        "montrent ce qu'ils ajoutent vraiment là où aucun bureau n'est proche aujourd'hui.",
        "What to do: load the real list of bureaus with `geoplanner services import list.csv --set cb_2025` and use "
        "that set in the scenarios. The current reach and service then rise, and the scenarios show what they "
        "really add where no bureau is near today.",
    ),
    "col_scenario": ("Scenario", "Scénario", "Scenario"),
    "col_sessions": ("Sessies per week (kost)", "Séances par semaine (coût)", "Sessions a week (cost)"),
    "col_served": (
        "Consultaties per jaar bediend (afgeleid)",
        "Consultations par an servies (dérivé)",
        "Consultations a year served (derived)",
    ),
    "col_priority": ("In prioritaire wijken", "Dans les quartiers prioritaires", "In priority districts"),
    "col_wijken": ("Prioritaire wijken bediend", "Quartiers prioritaires servis", "Priority districts served"),
    "col_per_session": ("Per sessie", "Par séance", "Per session"),
    "col_reach": (
        "Kinderen binnen {t} min (geschat)",
        "Enfants à moins de {t} min (estimé)",
        "Children within {t} min (estimated)",
    ),
    "col_teams": ("Teams", "Équipes", "Teams"),
    "of": ("{a} van {b}", "{a} sur {b}", "{a} of {b}"),
    "teams_cell": ("{a} ingezet", "{a} prévues", "{a} deployed"),
    "needed_cell": ("{a} nodig", "{a} nécessaires", "{a} needed"),
    "needed_legend": (
        "Nodig: de teams om {p} van de verwachte consultaties in de prioritaire wijken te bedienen, afgelezen op "
        "de curve verder in het rapport.",
        "Nécessaires : les équipes pour servir {p} des consultations attendues dans les quartiers prioritaires, "
        "lues sur la courbe plus loin dans le rapport.",
        "Needed: the teams to serve {p} of the expected consultations in the priority districts, read off the "
        "curve further in the report.",
    ),
    "efficient": (
        "★ efficiënt: geen ander scenario bedient evenveel consultaties en prioritaire wijken met "
        "evenveel of minder sessies.",
        "★ efficace : aucun autre scénario ne sert autant de consultations et de quartiers prioritaires "
        "avec autant de séances ou moins.",
        "★ efficient: no other scenario serves as many consultations and priority districts with as many "
        "sessions or fewer.",
    ),
    "legend": (
        "Consultaties en sessies zijn afgeleid uit aannames (hieronder); kinderen per buurt zijn geschat, niet "
        "geteld. Een + is wat het scenario toevoegt aan de gekende basis.",
        "Consultations et séances sont dérivées d'hypothèses (ci-dessous) ; les enfants par quartier sont estimés, "
        "pas comptés. Un + est ce que le scénario ajoute à la base connue.",
        "Consultations and sessions are derived from assumptions (below); children per neighbourhood are estimated, "
        "not counted. A + is what the scenario adds to the known baseline.",
    ),
    "what_title": ("Wat elk scenario is", "Ce qu'est chaque scénario", "What each scenario is"),
    "caveats": ("Waar de cijfers op rusten", "Sur quoi reposent les chiffres", "What the figures rest on"),
    "caveat_children": (
        "Het aantal jonge kinderen per buurt is afgeleid uit de leeftijdsopbouw en de gemeentecijfers, niet "
        "geteld: kleine verschillen tussen wijken zeggen weinig.",
        "Le nombre de jeunes enfants par quartier est dérivé de la structure par âge et des chiffres communaux, pas "
        "compté : de petites différences entre quartiers ont peu de sens.",
        "The number of young children per neighbourhood is derived from the age structure and the municipal "
        "figures, not counted: small differences between districts mean little.",
    ),
    "caveat_network": (
        "Wandeltijden zijn berekend op het OpenStreetMap-stratennet van 2013.",
        "Les temps de marche sont calculés sur le réseau de rues OpenStreetMap de 2013.",
        "Walking times are computed on the OpenStreetMap street network of 2013.",
    ),
    "caveat_assumptions": (
        "Aannames (elk met zijn bron in de bijlage): {age} consultaties per jaar voor een kind van 0, 1 en 2 jaar; "
        "{uptake} van de gezinnen gebruikt een consultatiebureau; {dutch} zou een Nederlandstalig bureau kiezen; "
        "{cps} kinderen per sessie, voor {fill} ingepland, {weeks} weken per jaar; een vaste locatie houdt {sps} "
        "sessies per week; een team werkt hoogstens {spd} sessies per dag.",
        "Hypothèses (chacune avec sa source en annexe) : {age} consultations par an pour un enfant de 0, 1 et 2 "
        "ans ; {uptake} des familles utilisent une consultation ; {dutch} choisiraient un bureau néerlandophone ; "
        "{cps} enfants par séance, planifiée à {fill}, {weeks} semaines par an ; un site fixe tient {sps} séances "
        "par semaine ; une équipe travaille au plus {spd} séances par jour.",
        "Assumptions (each with its source in the appendix): {age} consultations a year for a child aged 0, 1 and "
        "2; {uptake} of families use a consultation bureau; {dutch} would choose a Dutch-speaking bureau; {cps} "
        "children a session, planned at {fill}, {weeks} weeks a year; a fixed site holds {sps} sessions a week; a "
        "team works at most {spd} sessions a day.",
    ),
    "or": (" of ", " ou ", " or "),
    "chart_numbers": (
        "Nummers als in de tabel; gevuld: efficiënt (★).",
        "Numéros du tableau ; plein : efficace (★).",
        "Numbers as in the table; filled: efficient (★).",
    ),
}

#: The placeholders of ``caveat_assumptions`` and the parameters they show.
_ASSUMPTION_SLOTS = {
    "uptake": "demand.uptake",
    "dutch": "demand.dutch_share",
    "cps": "capacity.children_per_session",
    "fill": "capacity.planned_fill",
    "weeks": "capacity.weeks_per_year",
    "sps": "capacity.sessions_per_site",
    "spd": "rotation.sessions_per_day",
}


def _t(key: str, lang: str) -> str:
    return _TEXT[key][("nl", "fr", "en").index(check_lang(lang))]


class BaselineLayer(dict):
    """A layer of known services the baseline opens: ``name``, ``located`` sites, ``expected`` sites (or None)."""

    @property
    def incomplete(self) -> bool:
        """True when fewer than half of the sites known to exist are located."""
        return self.get("expected") is not None and self["located"] < 0.5 * self["expected"]


def _value_text(key: str, values: Sequence[float], lang: str) -> str:
    """Return the values one parameter takes across the scenarios as a reader writes them (shares in %)."""
    share = key.endswith(("uptake", "dutch_share", "planned_fill", "target_share"))
    texts = [fmt_num(100 * v, lang, 0) + " %" if share else fmt_num(v, lang, 0 if v == int(v) else 1) for v in values]
    return _t("or", lang).join(texts)


def assumptions_sentence(assumptions: Sequence[Any], lang: str = DEFAULT_LANG) -> str:
    """Return the assumptions page 1 rests on in one plain sentence (every value a parameter takes in the run).

    Parameters
    ----------
    assumptions
        :class:`geoplanner.scenario.Assumption` objects (key and value); a parameter set differently in two
        scenarios shows both values.
    lang
        ``nl`` (default), ``fr`` or ``en``.
    """
    values: dict[str, list[float]] = {}
    for a in assumptions:
        if a.value not in values.setdefault(a.key, []):
            values[a.key].append(a.value)
    missing = {*_ASSUMPTION_SLOTS.values(), "demand.consultations_age0"} - set(values)
    if missing:
        raise ValueError(f"assumptions without {sorted(missing)}")
    ages = [values.get(f"demand.consultations_age{i}", []) for i in range(3)]
    age = "/".join(_value_text("age", v, lang) for v in ages)
    slots = {slot: _value_text(key, values[key], lang) for slot, key in _ASSUMPTION_SLOTS.items()}
    return _t("caveat_assumptions", lang).format(age=age, **slots)


def _present(v: Any) -> bool:
    return v is not None and not (isinstance(v, float | np.floating) and math.isnan(v))


def short_description(text: str) -> str:
    """Return a scenario's description for page 1: its first sentence, in Dutch (no English summary line)."""
    kept = [line for line in text.strip().splitlines() if not line.strip().startswith("EN:")]
    flat = re.sub(r"\s+", " ", " ".join(kept)).strip()
    first = re.match(r"(.+?[.!?])(\s|$)", flat)
    return first.group(1) if first else flat


def _cell(text: str, measure: str | None = None, value: Any = None, gain: bool = False) -> dict[str, Any]:
    """Return a table cell: its text and, for the figures test, the measure and the raw value it shows."""
    raw = None if not _present(value) else float(value)
    return {"text": text, "measure": measure, "value": raw, "gain": gain}


def _figure(row: Mapping[str, Any], base: Mapping[str, Any], col: str, kind: str, lang: str, gain: bool) -> dict:
    """Return a scenario's figure: absolute for the baseline (and a complete baseline), else what it adds (+)."""
    v = row.get(col)
    if not _present(v):
        return _cell("–", col)
    if gain and row is not base and _present(base.get(col)):
        d = float(v) - float(base[col])
        return _cell(("+" if d >= 0 else "−") + format_cell(abs(d), kind, lang), col, d, gain=True)
    return _cell(format_cell(v, kind, lang), col, v)


def _row(n: int, row: Mapping[str, Any], base: Mapping[str, Any], gain: bool, lang: str) -> list[dict[str, Any]]:
    is_base = row is base
    star = " ★" if row.get("efficient") and not is_base else ""
    title = f"{n}. " + str(row.get("title") or row.get("scenario")) + star
    wijken = row.get("priority_wijken_served")
    of = "–"
    if _present(wijken):
        of = _t("of", lang).format(a=format_cell(wijken, "count", lang),
                                   b=format_cell(row.get("priority_wijken"), "count", lang))  # fmt: skip
    teams = []
    if row.get("teams"):
        teams.append(_t("teams_cell", lang).format(a=int(row["teams"])))
    if _present(row.get("teams_needed")):
        teams.append(_t("needed_cell", lang).format(a=int(row["teams_needed"])))
    return [
        _cell(title),
        _cell(
            "–" if is_base else format_cell(row.get("sessions_per_week"), "count", lang),
            "sessions_per_week",
            None if is_base else row.get("sessions_per_week"),
        ),  # fmt: skip
        _figure(row, base, "consultations_served", "count", lang, gain),
        _figure(row, base, "share_priority_served", "share", lang, False),
        _cell(of, "priority_wijken_served", wijken),
        _figure(row, base, "consultations_per_session", "count", lang, False),
        _figure(row, base, "children_within_threshold", "count", lang, gain),
        _cell("; ".join(teams) or "–", "teams_needed", row.get("teams_needed")),
    ]


def _needed_legend(comparison: pd.DataFrame, lang: str) -> list[str]:
    """Return the sentence that says what "needed" means, with the target(s) of the scenarios that have one."""
    if "teams_target_share" not in comparison.columns:
        return []
    targets = [float(v) for v in comparison["teams_target_share"].dropna().unique()]
    if not targets:
        return []
    return [_t("needed_legend", lang).format(p=_value_text("curve.target_share", targets, lang))]


def summary_section(
    comparison: pd.DataFrame,
    *,
    descriptions: Mapping[str, str] | None = None,
    layers: Sequence[BaselineLayer] = (),
    assumptions: Sequence[Any] = (),
    lang: str = DEFAULT_LANG,
) -> dict[str, Any]:
    """Build the report's first page (see the module docstring).

    Parameters
    ----------
    comparison
        :func:`geoplanner.scenario.compare`'s table, the current situation first.
    descriptions
        Scenario name -> its description (from the TOML); shown in plain words under the table.
    layers
        The known-service layers the current situation opens; when one holds fewer than half of the sites that
        exist, the page says so first and shows each scenario as a gain over the known baseline.
    assumptions
        The :class:`geoplanner.scenario.Assumption` objects the figures rest on (shown in plain words).
    lang
        ``nl`` (default), ``fr`` or ``en``.

    Returns
    -------
    dict
        ``title``, ``baseline`` (None, or the warning and what to do), ``intro``, ``header``, ``rows`` (cells with
        ``text``, ``measure`` and ``value``), ``efficient`` and ``legend``, ``descriptions``, ``caveats``.
    """
    records = comparison.to_dict("records")
    base = records[0]
    thin = [layer for layer in layers if BaselineLayer(layer).incomplete]
    gain = bool(thin)
    t = int(round(float(base.get("threshold_min") or 10)))
    keys = ("col_scenario", "col_sessions", "col_served", "col_priority", "col_wijken", "col_per_session")
    header = [_t(k, lang) for k in keys] + [_t("col_reach", lang).format(t=t), _t("col_teams", lang)]
    baseline = None
    if thin:
        names = " ".join(_t("baseline_layer", lang).format(name=x["name"], n=x["located"], expected=x["expected"])
                         for x in thin)  # fmt: skip
        baseline = {"warning": _t("baseline", lang).format(layers=names), "todo": _t("todo", lang)}
    caveats = [_t("caveat_children", lang), _t("caveat_network", lang)]
    if assumptions:
        caveats.append(assumptions_sentence(assumptions, lang))
    return {
        "title": _t("title", lang),
        "baseline": baseline,
        "intro": _t("intro", lang).format(t=t),
        "header": header,
        "rows": [
            {"scenario": str(r.get("scenario")), "cells": _row(i + 1, r, base, gain, lang)}
            for i, r in enumerate(records)
        ],
        "efficient": _t("efficient", lang),
        "legend": " ".join([_t("legend", lang), *_needed_legend(comparison, lang)]),
        "chart_numbers": _t("chart_numbers", lang),
        "what_title": _t("what_title", lang),
        "descriptions": [
            (
                f"{i + 1}. " + str(r.get("title") or r.get("scenario")),
                short_description((descriptions or {}).get(str(r.get("scenario")), "")),
            )
            for i, r in enumerate(records)
        ],  # fmt: skip
        "caveats_title": _t("caveats", lang),
        "caveats": caveats,
    }


_APPENDIX: dict[str, tuple[str, str, str]] = {
    "title": ("Technische bijlage", "Annexe technique", "Technical appendix"),
    "intro": (
        "Voor wie de cijfers nagaat: de namen van de scenario's en hun bestanden, de modellen, hoe de oplossing "
        "gevonden is, en elke parameter met zijn sleutel in het scenariobestand.",
        "Pour qui vérifie les chiffres : les noms des scénarios et de leurs fichiers, les modèles, comment la "
        "solution a été trouvée, et chaque paramètre avec sa clé dans le fichier de scénario.",
        "For whoever checks the figures: the scenarios' names and files, the models, how the solution was found, "
        "and every parameter with its key in the scenario file.",
    ),
    "parameters": (
        "Parameters (sleutel in het scenariobestand)",
        "Paramètres (clé du fichier de scénario)",
        "Parameters (key in the scenario file)",
    ),
    "all_measures": ("Alle maten per scenario", "Toutes les mesures par scénario", "Every measure per scenario"),
}


def appendix_section(runs: Sequence[Mapping[str, Any]], assumptions: Sequence[Any], *, lang: str) -> dict[str, Any]:
    """Build the technical appendix: per scenario its id, file, model, demand kind and solver; every parameter.

    Parameters
    ----------
    runs
        Per scenario: ``scenario`` (id), ``title``, ``file``, ``model``, ``demand``, ``status`` and ``solver_gap``
        (the seconds and whether the solution came from the cache are in ``manifest_run.json``: they vary
        between runs, the report does not).
    assumptions
        :class:`geoplanner.scenario.Assumption` objects, each with its TOML key.
    lang
        ``nl`` (default), ``fr`` or ``en``.
    """
    i = ("nl", "fr", "en").index(check_lang(lang))
    head = [label("scenario_title", lang), "id", label("source", lang), label("model", lang), label("demand", lang),
            label("status", lang), label("solver_gap", lang)]  # fmt: skip
    rows = [[str(r.get("title", "")), str(r["scenario"]), str(r.get("file") or "–"), str(r.get("model", "")),
             str(r.get("demand", "")), label(f"status_{r.get('status')}", lang) if r.get("status") != "-" else "–",
             format_cell(r.get("solver_gap"), "share", lang)] for r in runs]  # fmt: skip
    params = [[a.key, f"{a.value:g}", a.label, a.basis] for a in assumptions]
    return {"title": _APPENDIX["title"][i], "intro": _APPENDIX["intro"][i], "header": head, "rows": rows,
            "parameters_title": _APPENDIX["parameters"][i], "parameters": params,
            "all_measures_title": _APPENDIX["all_measures"][i]}  # fmt: skip


def group_notes(results: Sequence[Any], extra: Sequence[str] = ()) -> tuple[list[str], list[tuple[str, str]]]:
    """Split the caveats of scenario results into general ones and scenario-specific ones.

    A note every result carries (the current situation's service layers, estimated children) is
    general; any other note is tied to the scenarios that carry it.

    Parameters
    ----------
    results
        :class:`~geoplanner.scenario.ScenarioResult` objects (``.scenario``, ``.notes``).
    extra
        Further notes (e.g. from the maps); general unless a result carries them.

    Returns
    -------
    general : list of str
        In first-seen order.
    per_scenario : list of (str, str)
        ``(scenario titles joined by ", ", note)``, in scenario order then note order; a note
        several (not all) scenarios share is listed once with all their titles.
    """
    owners: dict[str, list[str]] = {}
    for r in results:
        for n in dict.fromkeys(r.notes):
            owners.setdefault(n, []).append(r.scenario.label)
    everyone = len(results)
    general = [n for n, names in owners.items() if len(names) == everyone]
    general += [n for n in dict.fromkeys(extra) if n not in owners]
    order = {r.scenario.label: i for i, r in enumerate(results)}
    # sorted by the first scenario carrying the note; stable, so each scenario's note order stays
    shared = sorted((item for item in owners.items() if len(item[1]) < everyone), key=lambda it: order[it[1][0]])
    return general, [(", ".join(names), n) for n, names in shared]
