"""One HTML report for policymakers: priority wijken, coverage per LGN, scenarios, maps, charts.

Plain inputs (DataFrames, PNG figures), one self-contained HTML page out: images are embedded
as ``data:`` URIs, links point to the interactive maps beside it. Rendered with Jinja2 with
autoescaping on, so every name from the data appears as text.
"""

from __future__ import annotations

import base64
import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import numpy as np
import pandas as pd

from geoplanner import cache as solutions
from geoplanner.core import settings
from geoplanner.core.errors import GeoplannerError
from geoplanner.core.i18n import DEFAULT_LANG, LABELS, check_lang, fmt_num, label
from geoplanner.outputs.files import output_step, write_text, write_with
from geoplanner.outputs.maps import page_cache as render_cache

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from geoplanner.scenario.context import SitingContext
    from geoplanner.scenario.result import ScenarioResult

__all__ = [
    "ReportMap",
    "comparison_rows",
    "coverage_bars",
    "gain_curve",
    "group_notes",
    "teams_chart",
    "teams_section",
    "unserved_rows",
    "render_report",
    "summary_section",
    "write_report",
    "table_rows",
]


_CHART_DPI = 150  # charts embedded in the report


@dataclass(frozen=True)
class ReportMap:
    """A map in the report: its title, the PNG and (optionally) a link to the interactive map.

    Attributes
    ----------
    title
        Caption (escaped when rendered).
    png
        PNG bytes, a matplotlib Figure rendered at 150 dpi, or None (link only).
    link
        Path of the interactive HTML map, written relative to the report's folder.
    """

    title: str
    png: bytes | Figure | None
    link: Path | None = None


def _png(fig: Figure, *, dpi: int) -> bytes:
    """Render a figure to PNG bytes (:func:`geoplanner.outputs.maps.static.png_bytes`, imported on first use)."""
    from geoplanner.outputs.maps.static import png_bytes as render  # matplotlib only when something is drawn

    return render(fig, dpi=dpi)


def _data_uri(png: bytes | Figure) -> str:
    blob = png if isinstance(png, bytes) else _png(png, dpi=_CHART_DPI)
    return "data:image/png;base64," + base64.b64encode(blob).decode("ascii")


def _chart_uri(kind: str, inputs: Mapping[str, Any], lang: str, build: Any, cache: bool = True) -> str:
    """Return a chart as a data URI, drawn by ``build()`` only when these inputs were not drawn before.

    ``inputs`` are everything the chart shows (tables by their :func:`geoplanner.cache.frame_digest`);
    the cache is :mod:`geoplanner.outputs.maps.page_cache`'s.
    """
    use = solutions.enabled(cache)
    key = ""
    if use:
        shown = {k: solutions.frame_digest(v) if hasattr(v, "columns") else v for k, v in inputs.items()}
        key = render_cache.page_key(f"{kind}.png", [solutions.digest(shown)], None, lang=lang, dpi=_CHART_DPI)
    return _data_uri(render_cache.cached(key, lambda: _png(build(), dpi=_CHART_DPI), use=use))


def _share_col(frame: pd.DataFrame, threshold_min: int) -> str:
    for col in (f"share_within_{threshold_min}_min", f"share_{threshold_min}"):
        if col in frame.columns:
            return col
    raise KeyError(f"share_within_{threshold_min}_min")


def coverage_bars(coverage_lgn: pd.DataFrame, *, threshold_min: int, lang: str = DEFAULT_LANG) -> Figure:
    """Bar chart: share of young children within ``threshold_min`` minutes, per LGN and scenario.

    Parameters
    ----------
    coverage_lgn
        One row per (LGN, scenario): ``lgn``, ``scenario`` (or ``service_set``) and
        ``share_within_<t>_min`` (0–1); ``lgn_name`` used for the axis when present.
    threshold_min
        The threshold whose share is drawn.
    lang
        ``nl`` (default), ``fr`` or ``en``.
    """
    check_lang(lang)
    key = "scenario" if "scenario" in coverage_lgn.columns else "service_set"
    share = _share_col(coverage_lgn, threshold_min)
    pivot = coverage_lgn.pivot_table(index="lgn", columns=key, values=share, aggfunc="first").sort_index()
    names = (
        coverage_lgn.drop_duplicates("lgn").set_index("lgn")["lgn_name"].reindex(pivot.index)
        if "lgn_name" in coverage_lgn.columns
        else pd.Series(pivot.index.astype(str), index=pivot.index)
    )
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.8), layout="constrained")
    ax = fig.add_subplot()
    n = len(pivot.columns)
    width = 0.8 / max(n, 1)
    x = np.arange(len(pivot.index))
    for i, col in enumerate(pivot.columns):
        ax.bar(x + (i - (n - 1) / 2) * width, 100 * pivot[col].to_numpy(dtype=float), width, label=str(col))
    # wrapped, horizontal labels: the LGN names are long and rotated text is hard to read on paper
    ticks = [textwrap.fill(f"{lgn}. {name}", 16) for lgn, name in zip(pivot.index, names, strict=True)]
    ax.set_xticks(x, ticks, fontsize=7)
    ax.set_ylabel(f"{label('share_covered', lang)} {threshold_min} {label('minutes', lang)} (%)")
    ax.set_ylim(0, 100)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(label("coverage_table", lang), loc="left", fontsize=11)
    return fig


def gain_curve(gains: Mapping[str, Sequence[float]], *, lang: str = DEFAULT_LANG) -> Figure:
    """Line chart: children newly reached (cumulative) against the number of sites added.

    Parameters
    ----------
    gains
        Per scenario, the marginal gain of each site in the order chosen.
    lang
        ``nl`` (default), ``fr`` or ``en``.
    """
    check_lang(lang)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    for name, values in gains.items():
        v = np.asarray(values, dtype=float)
        if v.size == 0:
            continue
        ax.plot(np.arange(0, v.size + 1), np.concatenate([[0.0], np.cumsum(v)]), marker="o", label=str(name))
    ax.set_xlabel(label("n_sites", lang))
    ax.set_ylabel(label("cumulative_reached", lang))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    ax.set_title(label("marginal_curve", lang), loc="left", fontsize=11)
    return fig


#: Columns shown as whole numbers (children are estimates: decimals would suggest false precision).
_COUNT_COLUMNS = frozenset(
    {
        "births",
        "pop_0_2",
        "children_total",
        "children_covered",
        "priority_wijken",
        "priority_wijken_reached",
        "n_new_sites",
        "pop_unreachable",
        # capacitated models: consultations and children are estimates, teams and sessions whole numbers
        "consultations",
        "consultations_demand",
        "consultations_served",
        "served_existing",
        "served_new",
        "unserved_distance",
        "unserved_capacity",
        "children_served",
        "children_in_reach",
        "sessions_per_week",
        "teams",
        "teams_needed",
    }
)


def _column_kind(col: str) -> str:
    """How a column's numbers are shown: 'share' (%), 'minutes' (1 decimal), 'count', 'seconds' or 'number'."""
    if col.startswith("share") or col.endswith("_share"):
        return "share"
    if col in _COUNT_COLUMNS or col.startswith("within_"):
        return "count"
    if col.endswith("_min") and col != "threshold_min":
        return "minutes"
    if col.endswith("_s"):
        return "seconds"
    return "number"


def _fmt_cell(v: Any, kind: str, lang: str) -> str:
    if isinstance(v, bool | np.bool_):
        return label("yes", lang) if v else label("no", lang)
    if v is None or (isinstance(v, float | np.floating) and math.isnan(v)):
        return "–"
    if not isinstance(v, int | np.integer | float | np.floating):
        return str(v)
    if kind == "share":
        return fmt_num(100 * float(v), lang, 1) + " %"
    if kind == "count":
        return fmt_num(float(round(float(v))), lang, 0)
    if kind == "minutes":
        return fmt_num(float(v), lang, 1)
    if kind == "seconds":
        return fmt_num(float(v), lang, 2)
    if isinstance(v, int | np.integer):
        return str(int(v))
    return fmt_num(float(v), lang, 0 if abs(v) >= 100 or float(v).is_integer() else 2)


def table_rows(frame: pd.DataFrame, columns: Mapping[str, str], *, lang: str = DEFAULT_LANG) -> dict[str, Any]:
    """Turn a DataFrame into header + rows of display strings (numbers formatted for ``lang``).

    Shares (``share*``, ``*_share``) become percentages with one decimal, walking times
    (``*_min``) get one decimal, children and other counts are whole numbers, ``*_s`` seconds
    two decimals; missing values show as a dash.

    Parameters
    ----------
    frame
        The table.
    columns
        Column name -> header label, in display order; columns absent from ``frame`` are left out.
    lang
        Number format.
    """
    cols = [c for c in columns if c in frame.columns]
    kinds = {c: _column_kind(str(c)) for c in cols}
    rows = [[_fmt_cell(r[c], kinds[c], lang) for c in cols] for _, r in frame[cols].iterrows()]
    return {"header": [columns[c] for c in cols], "rows": rows}


#: Column of :func:`geoplanner.scenario.compare` -> label key of its header.
_COMPARISON_HEADERS = {
    "scenario": "scenario_title",
    "model": "model",
    "demand": "demand",
    "threshold_min": "threshold",
    "children_total": "children_total",
    "children_covered": "children_covered",
    "share_covered": "share_reached",
    "deprivation_weighted_share": "deprivation_weighted_share",
    "priority_wijken_reached": "priority_reached",
    "priority_wijken": "priority_wijken",
    "mean_min": "mean_min",
    "p90_min": "p90_min",
    "n_new_sites": "n_sites",
    "status": "status",
    "solve_s": "solve_s",
    # capacitated models
    "children_in_reach": "children_in_reach",
    "consultations_demand": "consultations_demand",
    "consultations_served": "consultations_served",
    "share_consultations_served": "share_consultations_served",
    "share_priority_served": "share_priority_served",
    "unserved_distance": "unserved_distance",
    "unserved_capacity": "unserved_capacity",
    "sessions_per_week": "sessions_per_week",
    "peak_utilisation_share": "peak_utilisation_share",
    "solver_gap": "solver_gap",
    "teams_needed": "teams_needed",
    "teams_target_share": "teams_target_share",
}
#: Columns whose codes (model, demand kind, solver status) have a label ``<column>_<code>``.
_CODED_COLUMNS = ("model", "demand", "status")


def comparison_rows(comparison: pd.DataFrame, *, lang: str = DEFAULT_LANG) -> dict[str, Any]:
    """Header + rows of the scenario comparison, with localised headers and codes.

    Parameters
    ----------
    comparison
        :func:`geoplanner.scenario.compare`'s table. Every column is shown in order; a column
        without a label keeps its name, a code without a label stays as it is.
    lang
        ``nl`` (default), ``fr`` or ``en``.
    """
    table = LABELS[check_lang(lang)]
    frame = comparison.copy()
    for col in _CODED_COLUMNS:
        if col in frame.columns:
            # '-' is how compare() writes "not applicable" (no model run)
            frame[col] = frame[col].map(lambda v, col=col: None if v == "-" else table.get(f"{col}_{v}", v))
    headers = {}
    for col in frame.columns:
        key = _COMPARISON_HEADERS.get(str(col))
        text = table[key] if key else str(col)
        kind = _column_kind(str(col))
        if col in ("children_total", "children_covered"):  # children 0-2 per sector are estimates
            text += f" ({table['estimated']})"
        if col == "threshold_min" or kind == "minutes":
            text += f" ({table['minutes']})"
        headers[col] = text[:1].upper() + text[1:]
    return table_rows(frame, headers, lang=lang)


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
        children = _fmt_cell(row.get("children_covered"), "count", lang)
        if _present(row, "share_covered"):
            children += f" ({_fmt_cell(row['share_covered'], 'share', lang)})"
        if _present(row, "threshold_min"):
            children += f", {t('within', lang).format(t=_fmt_cell(row['threshold_min'], 'number', lang))}"
        consult = "–"
        if _present(row, "consultations_served"):
            capacitated = True
            consult = _fmt_cell(row["consultations_served"], "count", lang)
            if _present(row, "share_consultations_served"):
                consult += f" ({_fmt_cell(row['share_consultations_served'], 'share', lang)})"
        prio = []
        if _present(row, "priority_wijken_reached") and _present(row, "priority_wijken"):
            a, b = (_fmt_cell(row[c], "count", lang) for c in ("priority_wijken_reached", "priority_wijken"))
            prio.append(t("reached_of", lang).format(a=a, b=b))
        if _present(row, "share_priority_served"):
            prio.append(t("served_share", lang).format(p=_fmt_cell(row["share_priority_served"], "share", lang)))
        team_cells = []
        deployed = (teams or {}).get(str(row.get("scenario")))
        if deployed:
            team_cells.append(t("teams_cell", lang).format(a=int(deployed)))
        if _present(row, "teams_needed"):
            team_cells.append(t("needed_cell", lang).format(a=_fmt_cell(row["teams_needed"], "count", lang)))
        sites = _fmt_cell(row.get("n_new_sites"), "count", lang)
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


_TEMPLATE = """<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; color: #222; max-width: 1100px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 13px; margin: .5em 0 1em; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; }
tr.priority td { background: #fff5eb; }
.scroll { overflow-x: auto; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 13px; color: #555; }
.note { color: #555; font-style: italic; }
.notes h3 { font-size: 14px; margin: 1em 0 .2em; } .notes p.note { margin: .2em 0; }
ul.scenario-notes { margin: .2em 0; padding-left: 1.2em; }
footer { margin-top: 3em; font-size: 12px; color: #555; border-top: 1px solid #ccc; }
.summary table { width: 100%; } .summary .legend { font-size: 12px; color: #555; }
.summary ul { padding-left: 1.2em; } .summary li { margin: .25em 0; }
/* print to A4: the summary alone on page 1, each section from a new page, nothing dark */
@page { size: A4; margin: 14mm 12mm 16mm; }
@media print {
  html, body { background: #fff; }
  body { font: 10pt/1.35 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #000; max-width: none;
         margin: 0; padding: 0; }
  h1 { font-size: 17pt; margin: 0 0 .3em; }
  h2 { break-before: page; page-break-before: always; break-after: avoid; page-break-after: avoid; }
  h3 { break-after: avoid; page-break-after: avoid; }
  .summary { break-after: page; page-break-after: always; break-inside: avoid; page-break-inside: avoid; }
  .summary h2 { break-before: auto; page-break-before: auto; margin-top: .6em; }
  .summary { font-size: 11pt; } .summary table { font-size: 10pt; } .summary .legend { font-size: 9pt; }
  .scroll { overflow: visible; }
  table { font-size: 7.5pt; width: 100%; }
  th, td { padding: 2px 4px; }
  thead { display: table-header-group; }
  tr, figure, .teams-needed, li { break-inside: avoid; page-break-inside: avoid; }
  tr.priority td { background: none; }
  figure img { max-width: 100%; max-height: 225mm; border: none; }
  iframe, .screen-only { display: none !important; }  /* link-only (interactive) maps have no print form */
  a { color: inherit; text-decoration: none; }
  footer { break-inside: avoid; page-break-inside: avoid; }
}
</style>
</head>
<body>
<h1>{{ title }}</h1>
{% if summary %}<section class="summary" id="summary">
<h2>{{ summary.title }}</h2>
<p>{{ summary.intro }}</p>
<table class="summary-table">
<thead><tr>{% for h in summary.header %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in summary.rows %}<tr>{% for c in row %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table>
<p class="legend">{{ summary.legend }}</p>
<h3>{{ summary.caveats_title }}</h3>
<ul class="caveats">{% for c in summary.caveats %}<li>{{ c }}</li>{% endfor %}</ul>
</section>{% endif %}
<p class="note">{{ L.estimate_note }}</p>
{% if notes or scenario_notes %}<div class="notes">
{% if scenario_notes %}<h3>{{ L.notes_general }}</h3>{% endif %}
{% for n in notes %}<p class="note">{{ n }}</p>{% endfor %}
{% if scenario_notes %}<h3>{{ L.notes_scenario }}</h3>
<ul class="scenario-notes">
{% for name, n in scenario_notes %}<li class="note"><b>{{ name }}</b>: {{ n }}</li>{% endfor %}
</ul>
{% endif %}</div>{% endif %}

{% if priority %}
<h2 id="priority">{{ L.priority_table }}</h2>
<div class="scroll"><table class="priority-table">
<thead><tr>{% for h in priority.header %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in priority.rows %}<tr>{% for c in row %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table></div>
{% endif %}

{% if coverage %}
<h2 id="coverage">{{ L.coverage_table }}</h2>
{% if coverage_chart %}<figure><img alt="{{ L.coverage_table }}" src="{{ coverage_chart }}"></figure>{% endif %}
<div class="scroll"><table class="coverage-table">
<thead><tr>{% for h in coverage.header %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in coverage.rows %}<tr>{% for c in row %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table></div>
{% endif %}

{% if comparison %}
<h2 id="comparison">{{ L.comparison_table }}</h2>
<div class="scroll"><table class="comparison-table">
<thead><tr>{% for h in comparison.header %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in comparison.rows %}<tr>{% for c in row %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table></div>
{% if gain_chart %}<figure><img alt="{{ L.marginal_curve }}" src="{{ gain_chart }}"></figure>{% endif %}
{% endif %}

{% if teams %}
<h2 id="teams">{{ L.teams_title }}</h2>
<p class="note">{{ L.capacity_note }}</p>
{% for line in teams.needed %}<p class="teams-needed"><b>{{ line }}</b></p>{% endfor %}
{% if teams.chart %}<figure><img alt="{{ L.teams_title }}" src="{{ teams.chart }}"></figure>{% endif %}
<div class="scroll"><table class="teams-table">
<thead><tr>{% for h in teams.table.header %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in teams.table.rows %}<tr>{% for c in row %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table></div>
{% endif %}

{% for u in unserved %}
<h3 class="unserved">{{ L.unserved_table }} — {{ u.name }}</h3>
<div class="scroll"><table class="unserved-table">
<thead><tr>{% for h in u.table.header %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in u.table.rows %}<tr>{% for c in row %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table></div>
{% endfor %}

{% if maps %}
<h2 id="maps">{{ L.maps }}</h2>
{% for m in maps %}
<figure class="map{% if not m.src %} screen-only{% endif %}">
{% if m.src %}<img alt="{{ m.title }}" src="{{ m.src }}">{% endif %}
<figcaption>{{ m.title }}{% if m.link %} — <a href="{{ m.link }}">{{ L.interactive_map }}</a>{% endif %}</figcaption>
</figure>
{% endfor %}
{% endif %}

<footer>
<p>{{ L.sources }}: {{ attribution }}</p>
<p>{{ L.generated }}</p>
</footer>
</body>
</html>
"""


def render_report(
    *,
    priority: pd.DataFrame | None = None,
    coverage_lgn: pd.DataFrame | None = None,
    comparison: pd.DataFrame | None = None,
    gains: Mapping[str, Sequence[float]] | None = None,
    maps: Sequence[ReportMap] = (),
    threshold_min: int = 15,
    lang: str = DEFAULT_LANG,
    title: str | None = None,
    notes: Sequence[str] = (),
    scenario_notes: Sequence[tuple[str, str]] = (),
    base_dir: Path | None = None,
    teams_curve: pd.DataFrame | None = None,
    unserved: Sequence[tuple[str, pd.DataFrame]] = (),
    teams: Mapping[str, int | None] | None = None,
    cache: bool = True,
) -> str:
    """Render the report as one HTML page.

    With a ``comparison``, the page opens with a one-page summary (:func:`summary_section`);
    printed (A4), the summary is page 1 and each section starts on a new page.

    Parameters
    ----------
    priority
        The wijk ranking (rank_wijken output); only ``priority`` rows are listed.
    coverage_lgn
        Coverage per LGN, one row per (LGN, scenario or service set), accessibility schema.
    comparison
        One row per scenario; every column is shown, in order.
    gains
        Per scenario, the marginal gain of each added site in order (for the curve).
    maps
        Maps to embed.
    threshold_min
        Threshold whose coverage share is charted.
    lang
        ``nl`` (default), ``fr`` or ``en``.
    title
        Page title (default: the localised report title).
    notes
        General remarks shown under the title (layer completeness etc.).
    scenario_notes
        ``(scenario name, note)`` pairs shown after the general remarks (see :func:`group_notes`).
    base_dir
        Folder the report is written to; map links are made relative to it.
    teams_curve
        :func:`geoplanner.scenario.teams_curves`: served shares per number of teams and the
        teams needed (the "how many teams?" section).
    unserved
        ``(scenario name, per-wijk table)`` of capacitated scenarios (:func:`geoplanner.scenario.unserved_by_wijk`
        with ``name_nl``), priority wijken only: whom we still miss, by distance and by capacity.
    teams
        Scenario name -> mobile teams deployed, for the summary.
    cache
        Take the charts from the render cache (:mod:`geoplanner.outputs.maps.page_cache`) when the same were
        drawn before; False (``--no-cache``) or ``$GEOPLANNER_NO_CACHE``: always draw, store nothing.

    Returns
    -------
    str
        The HTML page.
    """
    check_lang(lang)
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    name_col = "name_fr" if lang == "fr" else "name_nl"
    ctx: dict[str, Any] = {
        "lang": lang,
        "L": LABELS[lang],
        "title": title or label("report_title", lang),
        "notes": list(notes),
        "scenario_notes": [(str(a), str(b)) for a, b in scenario_notes],
        "priority": None,
        "coverage": None,
        "coverage_chart": None,
        "comparison": None,
        "gain_chart": None,
        "attribution": "; ".join(settings.ATTRIBUTION),
    }
    if priority is not None and len(priority):
        # the priority wijken, and those just outside that most plausible variations select (near misses)
        near = priority["near_miss"].astype(bool) if "near_miss" in priority.columns else False
        p = priority[priority["priority"].astype(bool) | near].sort_values("rank")
        cols = {
            "rank": label("rank", lang),
            "mdrc": "MDRC",
            name_col: label("wijk", lang),
            "commune_names": label("commune", lang),
            "lgn_name": label("lgn", lang),
            "births": label("births_wijk", lang),
            "pop_0_2": label("pop_0_2", lang),
            "births_status": label("figure_status", lang),
            "deprivation": label("deprivation", lang),
            "score": label("score", lang),
        }
        shown = p.assign(rank=p["rank"].astype(int))
        shown["births_status"] = shown["births_status"].map(lambda v: label(v, lang) if v in LABELS[lang] else v)
        if "p_top" in p.columns and p["p_top"].notna().any():
            shown["p_top_share"] = shown["p_top"]  # shown as a percentage
            cols["p_top_share"] = label("p_top", lang)
            cols["stability"] = label("stability", lang)
            shown["stability"] = [
                label(f"stability_{c}", lang) + (f" ({label('near_miss', lang)})" if m else "")
                for c, m in zip(shown["stability"], shown["near_miss"].astype(bool), strict=True)
            ]
            ctx["notes"].append(label("stability_note", lang))
        ctx["priority"] = table_rows(shown, cols, lang=lang)
    if coverage_lgn is not None and len(coverage_lgn):
        key = "scenario" if "scenario" in coverage_lgn.columns else "service_set"
        c = coverage_lgn.sort_values(["lgn", key])
        cols = {"lgn": label("lgn", lang), "lgn_name": "", key: label("scenario_title", lang)}
        cols["pop_0_2"] = f"{label('pop_0_2', lang)} ({label('estimated', lang)})"
        for t in (5, 10, 15, 20):
            if f"within_{t}_min" in c.columns:
                cols[f"share_within_{t}_min"] = f"{label('share_covered', lang)} {t} {label('minutes', lang)}"
        cols["mean_min"] = f"{label('mean_min', lang)} ({label('minutes', lang)})"
        ctx["coverage"] = table_rows(c, cols, lang=lang)
        ctx["coverage_chart"] = _chart_uri(
            "coverage_bars",
            {"coverage": coverage_lgn, "threshold_min": threshold_min},
            lang,
            lambda: coverage_bars(coverage_lgn, threshold_min=threshold_min, lang=lang),
            cache,
        )
    ctx["summary"] = None
    if comparison is not None and len(comparison):
        ctx["comparison"] = comparison_rows(comparison, lang=lang)
        every_note = [*notes, *(n for _, n in scenario_notes)]
        ctx["summary"] = summary_section(comparison, teams=teams, notes=every_note, lang=lang)
    if gains:
        ctx["gain_chart"] = _chart_uri(
            "gain_curve", {"gains": dict(gains)}, lang, lambda: gain_curve(gains, lang=lang), cache
        )
    ctx["teams"] = (
        teams_section(teams_curve, lang=lang, cache=cache) if teams_curve is not None and len(teams_curve) else None
    )
    ctx["unserved"] = [{"name": str(n), "table": unserved_rows(t, lang=lang)} for n, t in unserved if len(t)]
    out_maps = []
    for m in maps:
        link = None
        if m.link is not None:
            link = Path(m.link)
            if base_dir is not None:
                try:
                    link = link.resolve().relative_to(Path(base_dir).resolve())
                except ValueError:
                    link = link.resolve()
            link = link.as_posix()
        out_maps.append({"title": m.title, "src": _data_uri(m.png) if m.png is not None else None, "link": link})
    ctx["maps"] = out_maps
    return env.from_string(_TEMPLATE).render(**ctx)


def teams_chart(curve: pd.DataFrame, *, lang: str = DEFAULT_LANG) -> Figure:
    """Line chart: share of expected consultations served against the number of mobile teams.

    Three lines per curve (all wijken, priority wijken, deprivation-weighted) and a dotted line
    at the target share with the teams needed marked.

    Parameters
    ----------
    curve
        :func:`geoplanner.scenario.teams_curves` output.
    lang
        ``nl`` (default), ``fr`` or ``en``.
    """
    check_lang(lang)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    series = (
        ("share_consultations_served", "served_all", "-"),
        ("share_priority_served", "served_priority", "--"),
        ("share_deprivation_served", "served_deprivation", ":"),
    )
    for name, part in curve.groupby("scenario", sort=False):
        for col, key, style in series:
            ax.plot(part["teams"], 100 * part[col], style, marker="o", ms=3, label=f"{name}: {label(key, lang)}")
        target, needed = part["target_share"].iloc[0], part["teams_needed"].iloc[0]
        if target == target:
            ax.axhline(100 * target, color="#999", lw=0.8, ls=":")
        if needed == needed and needed is not None:
            ax.axvline(float(needed), color="#b2182b", lw=0.8, ls="--")
    ax.set_xlabel(label("teams_axis", lang))
    ax.set_ylabel(label("served_share_axis", lang) + " (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, frameon=False)
    ax.set_title(label("teams_title", lang), loc="left", fontsize=11)
    return fig


def teams_section(curve: pd.DataFrame, *, lang: str = DEFAULT_LANG, cache: bool = True) -> dict[str, Any]:
    """Build the "how many teams?" section: a sentence per curve with the teams needed, the chart, the table."""
    needed = []
    for name, part in curve.groupby("scenario", sort=False):
        target, n, top = part["target_share"].iloc[0], part["teams_needed"].iloc[0], int(part["teams"].max())
        share = fmt_num(100 * float(target), lang, 0) + " %"
        count = str(int(n)) if n == n and n is not None else label("teams_more_than", lang).format(n=top)
        needed.append(f"{name}: {count} {label('teams_needed_text', lang).format(share=share)}")
    cols = {
        "scenario": label("scenario_title", lang),
        "teams": label("teams_axis", lang),
        "sessions_per_week": label("sessions_per_week", lang),
        "consultations_served": label("consultations_served", lang),
        "children_served": label("children_served", lang),
        "share_consultations_served": label("share_consultations_served", lang),
        "share_priority_served": label("share_priority_served", lang),
        "share_deprivation_served": label("served_deprivation", lang),
        "gap_share": label("solver_gap", lang),
    }
    table = table_rows(curve, cols, lang=lang)
    return {
        "needed": needed,
        "chart": _chart_uri("teams_chart", {"curve": curve}, lang, lambda: teams_chart(curve, lang=lang), cache),
        "table": table,
    }


def unserved_rows(table: pd.DataFrame, *, lang: str = DEFAULT_LANG) -> dict[str, Any]:
    """Header + rows of a per-wijk table of consultations: asked, served, unserved by distance and by capacity."""
    cols = {
        "mdrc": "MDRC",
        "name_nl" if lang != "fr" else "name_fr": label("wijk", lang),
        "consultations": f"{label('consultations_demand', lang)} ({label('estimated', lang)})",
        "served_existing": label("served_existing", lang),
        "served_new": label("served_new", lang),
        "unserved_distance": label("unserved_distance", lang),
        "unserved_capacity": label("unserved_capacity", lang),
        "share_consultations_served": label("share_consultations_served", lang),
    }
    return table_rows(table, cols, lang=lang)


def write_report(target: str | Path, **kwargs: Any) -> Path:
    """Render the report (see :func:`render_report`) and write it atomically to ``target``."""
    target = Path(target)
    kwargs.setdefault("base_dir", target.parent)
    return write_text(target, render_report(**kwargs))


# ---------------------------------------------------------------------------------------------
# From scenario results to map inputs (the glue `geoplanner map` and `geoplanner report` use)
# ---------------------------------------------------------------------------------------------

#: Thresholds (minutes) of the coverage columns and isochrones drawn.
MAP_THRESHOLDS = (5, 10, 15)
_PNG_DPI = 200  # print resolution of the static maps (A4 landscape)


def sector_coverage(points: pd.DataFrame, *, set_name: str, thresholds: Sequence[int] = MAP_THRESHOLDS) -> pd.DataFrame:
    """Aggregate a scenario's demand points to sectors, in the accessibility coverage schema.

    Parameters
    ----------
    points
        ``ScenarioResult.points``: cd_sector, children, minutes (``inf`` = unreachable).
    set_name
        Written in ``service_set``.
    thresholds
        Minutes for the ``within_<t>_min`` columns.

    Returns
    -------
    pandas.DataFrame
        cd_sector, service_set, pop_0_2, within_<t>_min, share_within_<t>_min, mean_min (over
        children who can reach a site), pop_unreachable.
    """
    p = pd.DataFrame(points[["cd_sector", "children", "minutes"]]).copy()
    p["minutes"] = p["minutes"].astype(float)
    finite = np.isfinite(p["minutes"].to_numpy())
    p["reach_children"] = np.where(finite, p["children"], 0.0)
    p["weighted_min"] = np.where(finite, p["children"] * np.where(finite, p["minutes"], 0.0), 0.0)
    for t in thresholds:
        p[f"within_{t}_min"] = np.where(p["minutes"] <= t, p["children"], 0.0)
    agg = p.groupby("cd_sector", sort=True).sum(numeric_only=True)
    out = pd.DataFrame({"cd_sector": agg.index, "service_set": set_name, "pop_0_2": agg["children"].to_numpy()})
    for t in thresholds:
        out[f"within_{t}_min"] = agg[f"within_{t}_min"].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"share_within_{t}_min"] = out[f"within_{t}_min"] / out["pop_0_2"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["mean_min"] = (agg["weighted_min"] / agg["reach_children"]).to_numpy()
    out["pop_unreachable"] = (agg["children"] - agg["reach_children"]).to_numpy()
    return out.reset_index(drop=True)


def lgn_coverage(points: pd.DataFrame, *, scenario: str, thresholds: Sequence[int] = MAP_THRESHOLDS) -> pd.DataFrame:
    """Aggregate a scenario's demand points per LGN (lgn, lgn_name, scenario, pop_0_2, shares, mean_min)."""
    from geoplanner.inputs.lgn import lgn_table

    p = pd.DataFrame(points[["lgn", "children", "minutes"]]).rename(columns={"lgn": "cd_sector"})
    out = sector_coverage(p, set_name=scenario, thresholds=thresholds).rename(
        columns={"cd_sector": "lgn", "service_set": "scenario"}
    )
    names = lgn_table().drop_duplicates("lgn").set_index("lgn")["lgn_name"]
    out.insert(1, "lgn_name", out["lgn"].map(names))
    return out


def _cached(cache: dict | None, key: tuple, build: Any) -> Any:
    """Return ``cache[key]``, building it with ``build()`` the first time (no cache: always build)."""
    if cache is None:
        return build()
    if key not in cache:
        cache[key] = build()
    return cache[key]


def _map_isochrones(
    context: Any, xy: np.ndarray, new_xy: np.ndarray | None, name: str, speed_kmh: float, region: Any, draw: Any
) -> Any:
    """Return a scenario map's isochrones, from the cache (``<cache_dir>/isochrones/``) when nothing changed.

    The key is everything ``draw`` walks from: the network, the open services' and new sites' places,
    the thresholds, speed, region, code and library versions (as the coverage step's isochrones).
    """
    import hashlib

    import geopandas as gpd
    import shapely

    from geoplanner import cache as solutions

    net = context.net
    if not solutions.enabled(getattr(context, "cache", True)) or not getattr(net, "sha256", None):
        return draw()  # a network built in memory has no file digest to key on

    def xy_digest(a: np.ndarray | None) -> str | None:
        return None if a is None else hashlib.sha256(np.ascontiguousarray(a, dtype=float).tobytes()).hexdigest()

    key = solutions.digest(
        {
            **solutions.base_parts(),
            "what": "map isochrones",
            "network": [net.sha256, net.params, net.n_nodes, net.n_edges],
            "set": name,
            "xy": xy_digest(xy),
            "new_xy": xy_digest(new_xy),
            "thresholds": [float(t) for t in MAP_THRESHOLDS],
            "speed_kmh": float(speed_kmh),
            "region": None if region is None else hashlib.sha256(shapely.to_wkb(region)).hexdigest(),
        }
    )
    stored = solutions.load(key, kind="isochrones")
    if isinstance(stored, gpd.GeoDataFrame):
        return stored
    iso = draw()
    solutions.save(key, iso, kind="isochrones")
    return iso


def scenario_map_data(
    result: Any,
    context: Any,
    *,
    data_dir: Path | None = None,
    lang: str = DEFAULT_LANG,
    cache: dict | None = None,
) -> Any:
    """Build :class:`geoplanner.outputs.maps.MapData` for one scenario result.

    Parameters
    ----------
    result
        A :class:`geoplanner.scenario.ScenarioResult`.
    context
        The :class:`geoplanner.scenario.SitingContext` it was run with (network, ranking).
    data_dir
        Data folder.
    lang
        Language of the title.
    cache
        A dict shared by the scenarios of one run: the layers every map draws (sectors, wijken,
        region, service sets) are read and joined once and the maps share the same frames.

    Returns
    -------
    geoplanner.outputs.maps.MapData
        Need, ranking, coverage (from the result's demand points), isochrones of the open
        services, the services and, when the scenario adds sites, the sites and timetable.
    """
    import geopandas as gpd

    from geoplanner.access.isochrones import isochrones, merge_isochrones
    from geoplanner.inputs.areas import load_region, load_sectors, load_wijken
    from geoplanner.inputs.services import load_services
    from geoplanner.outputs.maps.data import MapData

    s = result.scenario
    ranking = context.ranking

    def base_layers() -> tuple[Any, Any]:
        names = load_sectors(data_dir)[["cd_sector", "sector_name_nl", "sector_name_fr"]]
        sectors = context.need.sectors.merge(names, on="cd_sector", how="left").merge(
            ranking[["mdrc", "deprivation"]], on="mdrc", how="left"
        )
        wijken = load_wijken(data_dir)[["mdrc", "geometry"]].merge(
            ranking.drop(columns=[c for c in ("geometry",) if c in ranking.columns]), on="mdrc", how="left"
        )
        return sectors, wijken

    sectors, wijken = _cached(cache, ("base", id(context)), base_layers)

    def service_set(name: str) -> Any:
        return _cached(cache, ("services", name), lambda: load_services(name, data_dir))

    labels: dict[str, str] = {}
    notes: list[str] = []
    parts, stale = [], []
    for set_name in s.open_sets:
        ss = service_set(set_name)
        labels[set_name] = ss.label
        notes.append(ss.completeness_note)
        pts = ss.points[~ss.points["id"].astype(str).isin(set(s.close))]
        parts.append(pts)
        stale.append(ss.excluded.dropna(subset=["lat", "lon"]))  # not current supply, shown as such
    services = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs).drop_duplicates("id")
    stale_rows = pd.concat(stale, ignore_index=True).drop_duplicates("id") if stale else pd.DataFrame()
    excluded = None
    if len(stale_rows):
        excluded = gpd.GeoDataFrame(
            stale_rows,
            geometry=gpd.points_from_xy(stale_rows["lon"].astype(float), stale_rows["lat"].astype(float)),
            crs=settings.WGS84,
        ).to_crs(settings.CRS)
    labels[s.name] = s.name
    for layer in sorted(set(services["layer"].astype(str)) - set(labels)):
        try:  # a layer named like a service set gets that set's Dutch label
            labels[layer] = service_set(layer).label
        except GeoplannerError:
            labels[layer] = layer
    iso = None
    if len(services):
        # The open services and the new sites are drawn apart and joined: the services' polygons are
        # the same in every scenario that keeps them (and as in the coverage step), so they are built
        # once (see geoplanner.access.isochrones), and only the few new sites are walked from per scenario.
        region = _cached(cache, ("region",), lambda: load_region(data_dir))
        xy = np.column_stack([services.geometry.x, services.geometry.y])
        new_xy = None
        if result.sites is not None and len(result.sites):  # the scenario's new sites reach people too
            new_xy = result.sites[["x", "y"]].to_numpy(dtype=float)

        def draw() -> Any:
            kw = {"thresholds_min": MAP_THRESHOLDS, "speed_kmh": s.speed_kmh, "region": region, "per_service": False}
            iso = isochrones(context.net, xy, set_name=s.name, **kw)
            if new_xy is not None:
                new = isochrones(context.net, new_xy, set_name=s.name, **kw)
                iso = merge_isochrones([iso, new], set_name=s.name)
            return iso

        iso = _map_isochrones(context, xy, new_xy, s.name, s.speed_kmh, region, draw)
    sites = timetable = None
    if result.sites is not None and len(result.sites):
        r = result.sites
        sites = gpd.GeoDataFrame(
            {
                "order": r["rank"].astype(int).to_numpy(),
                "id": r["id"].astype(str).to_numpy(),
                "name": r["name"].to_numpy(),
                "type": r["type"].to_numpy(),
                "marginal_demand": r["marginal_children"].to_numpy(dtype=float),
            },
            geometry=gpd.points_from_xy(r["x"], r["y"]),
            crs=settings.CRS,
        )
        if result.timetable is not None and len(result.timetable):
            timetable = result.timetable.rename(columns={"dag": "day"})
    thr = int(round(s.threshold_min))
    cover_thresholds = tuple(sorted({*MAP_THRESHOLDS, thr}))
    return MapData(
        sectors=sectors,
        wijken=wijken,
        coverage=sector_coverage(result.points, set_name=s.name, thresholds=cover_thresholds),
        isochrones=iso,
        services=services,
        excluded_services=excluded,
        sites=sites,
        timetable=timetable,
        title=f"{label('scenario_title', lang)}: {s.name}"
        if sites is not None
        else f"{label('gap_title', lang)}: {s.name}",
        threshold_min=thr,
        notes=tuple(dict.fromkeys([*notes, *result.notes])),
        labels=labels,
        unserved=(
            result.points.groupby("cd_sector", as_index=False)[["unserved_distance", "unserved_capacity"]].sum()
            if "unserved_capacity" in result.points.columns
            else None
        ),
    )


@dataclass(frozen=True)
class MapsRun:
    """What :func:`make_maps` and :func:`make_report` wrote, and what they learnt on the way."""

    outputs: list[Path]
    results: list[Any]
    notes: list[str]
    #: The :class:`geoplanner.scenario.SitingContext` the maps were drawn in (its ranking serves the report).
    context: Any = None


def _html(build: str, *datas: Any, self_contained: bool, **kwargs: Any) -> str:
    """Draw an interactive map page (``maps.<build>``); folium is imported only here."""
    from geoplanner.outputs import maps

    return maps.render_html(getattr(maps, build)(*datas, **kwargs), self_contained=self_contained)


def _static_png(figure: str, data: Any, *, lang: str, scales: Any) -> bytes:
    """Draw a printable map (``static_maps.<figure>``) to PNG; matplotlib is imported only here."""
    from geoplanner.outputs.maps import static as static_maps

    return static_maps.png_bytes(getattr(static_maps, figure)(data, lang=lang, scales=scales), dpi=_PNG_DPI)


def _check_assets(self_contained: bool) -> None:
    from geoplanner.core.errors import DataMissingError
    from geoplanner.outputs.maps import assets

    missing = assets.missing_assets() if self_contained else []
    if missing:  # fail before the slow part, not after
        raise DataMissingError(
            f"offline map assets missing ({missing[0]}, …)",
            path=assets.assets_dir(),
            hint=f"run `{assets.FETCH_COMMAND}` once with internet access",
        )


def make_maps(
    scenario_paths: Sequence[Path] = (),
    out_dir: Path | None = None,
    *,
    lang: str = DEFAULT_LANG,
    self_contained: bool = False,
    network: Path | None = None,
    data_dir: Path | None = None,
    command: str = "geoplanner map",
    context: SitingContext | None = None,
    results: Sequence[ScenarioResult] | None = None,
    dual: tuple[str, str] | None = None,
) -> MapsRun:
    """Write the gap map, one map per scenario and a side-by-side view, as HTML and PNG.

    Parameters
    ----------
    scenario_paths
        Scenario files; with none, only the current gap is drawn.
    out_dir
        Output root (default ``settings.output_dir()``); maps go to ``<out_dir>/maps/``.
    lang
        ``nl`` (default), ``fr`` or ``en``.
    self_contained
        Inline scripts and styles so each HTML file works offline.
    network
        Network file (default: the bundle's).
    data_dir
        Data folder.
    command
        Recorded in the manifest.
    context
        A :func:`~geoplanner.scenario.build_context` already built (saves loading the network again).
    results
        Scenario results already computed, in the order of
        :func:`~geoplanner.scenario.with_baseline` (saves solving them again).
    dual
        Names of the two scenarios of the side-by-side view (default: the first two after the
        current situation).

    Returns
    -------
    MapsRun
        Files written (HTML, PNG, manifest), the scenario results (current first), notes.
    """
    from geoplanner.outputs.manifest import write_manifest
    from geoplanner.outputs.maps import data as map_data
    from geoplanner.pipeline.siting import build_context, load_scenario
    from geoplanner.scenario.evaluate import evaluate
    from geoplanner.scenario.spec import with_baseline

    check_lang(lang)
    _check_assets(self_contained)
    loaded = [load_scenario(p, data_dir=data_dir) for p in scenario_paths]  # validate before the slow part
    out_root = Path(out_dir) if out_dir is not None else settings.output_dir()
    maps_dir = out_root / "maps"
    ordered = with_baseline(loaded)
    context = context or build_context(data_dir, network=network)
    if results is None:
        results = [evaluate(s, context) for s in ordered]
    elif [r.scenario.name for r in results] != [s.name for s in ordered]:
        raise ValueError("results must follow with_baseline(scenarios): the current situation first")
    shared: dict = {}  # layers read once for all the scenarios' maps
    datas = [scenario_map_data(r, context, data_dir=data_dir, lang=lang, cache=shared) for r in results]
    use_cache = solutions.enabled(getattr(context, "cache", True))
    memo: dict[int, str] = {}  # the maps share their sectors and wijken frames: hash them once
    digests = [render_cache.data_digest(d, memo) if use_cache else "" for d in datas]

    def page(kind: str, keys: list[str], scales: Any, render: Any, **options: Any) -> Any:
        """Draw a page, or take it from the cache when exactly the same was drawn before."""
        key = render_cache.page_key(kind, keys, scales, lang=lang, **options) if use_cache else ""
        return render_cache.cached(key, render, use=use_cache)

    with output_step(maps_dir):
        outputs: list[Path] = []
        scales = map_data.map_scales(*datas)
        for i, (r, d) in enumerate(zip(results, datas, strict=True)):
            stem = "gap" if i == 0 else _safe_stem(r.scenario.name)
            kind = "gap" if i == 0 else "scenario"
            build = "build_gap_map" if i == 0 else "build_scenario_map"
            figure = "gap_figure" if i == 0 else "scenario_figure"
            html = page(
                f"{kind}.html",
                [digests[i]],
                scales,
                lambda d=d, build=build: _html(build, d, lang=lang, scales=scales, self_contained=self_contained),
                self_contained=self_contained,
            )
            png = page(
                f"{kind}.png",
                [digests[i]],
                scales,
                lambda d=d, figure=figure: _static_png(figure, d, lang=lang, scales=scales),
                dpi=_PNG_DPI,
            )
            outputs.append(write_text(maps_dir / f"{stem}.html", html))
            outputs.append(write_with(maps_dir / f"{stem}.png", lambda tmp, png=png: tmp.write_bytes(png)))
        names = [r.scenario.name for r in results]
        if dual is not None and not set(dual) <= set(names):
            raise GeoplannerError(f"side-by-side scenarios {dual} are not among {names}")
        pair = (names.index(dual[0]), names.index(dual[1])) if dual is not None else (1, 2)
        if len(datas) >= 3 or dual is not None:
            a, b = datas[pair[0]], datas[pair[1]]
            stem = f"compare_{_safe_stem(names[pair[0]])}_{_safe_stem(names[pair[1]])}"
            html = page(
                "dual.html",
                [digests[pair[0]], digests[pair[1]]],
                None,
                lambda: _html("build_dual_map", a, b, lang=lang, self_contained=self_contained),
                self_contained=self_contained,
            )
            outputs.append(write_text(maps_dir / f"{stem}.html", html))
        notes = list(dict.fromkeys(n for d in datas for n in d.notes))
        inputs = [*context.inputs, *[Path(p) for p in scenario_paths]]
        params = {"lang": lang, "self_contained": self_contained, "scenarios": [s.name for s in loaded]}
        outputs.append(
            write_manifest(maps_dir, command=command, inputs=inputs, parameters=params, outputs=outputs, notes=notes)
        )
    return MapsRun(outputs=outputs, results=results, notes=notes, context=context)


def _safe_stem(name: str) -> str:
    """Return a file name for a scenario name: letters, digits, ``-`` and ``_`` only."""
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name).strip("_")
    return stem or "scenario"


def make_report(
    scenario_paths: Sequence[Path],
    out_dir: Path | None = None,
    *,
    lang: str = DEFAULT_LANG,
    self_contained: bool = False,
    network: Path | None = None,
    data_dir: Path | None = None,
    context: SitingContext | None = None,
    results: Sequence[ScenarioResult] | None = None,
    dual: tuple[str, str] | None = None,
) -> MapsRun:
    """Run the scenarios, write their maps (see :func:`make_maps`) and one HTML report.

    ``context``, ``results`` and ``dual`` are passed on to :func:`make_maps`.

    Returns
    -------
    MapsRun
        Files written (maps, ``report.html``, manifests), results, notes.
    """
    from geoplanner.outputs.manifest import write_manifest
    from geoplanner.scenario.compare import compare

    run = make_maps(
        scenario_paths,
        out_dir,
        lang=lang,
        self_contained=self_contained,
        network=network,
        data_dir=data_dir,
        command="geoplanner report",
        context=context,
        results=results,
        dual=dual,
    )
    out_root = Path(out_dir) if out_dir is not None else settings.output_dir()
    results = run.results
    table, _wide = compare(results)
    general, specific = group_notes(results, run.notes)
    thr = int(round(max(r.scenario.threshold_min for r in results)))
    cov = pd.concat([lgn_coverage(r.points, scenario=r.scenario.name) for r in results], ignore_index=True)
    gains = {r.scenario.name: r.sites["marginal_children"].tolist() for r in results[1:] if len(r.sites)}
    pngs = [p for p in run.outputs if p.suffix == ".png"]
    report_maps = []
    for p in pngs:
        html_twin = p.with_suffix(".html")
        title = label("gap_title", lang) if p.stem == "gap" else f"{label('scenario_title', lang)}: {p.stem}"
        report_maps.append(ReportMap(title, p.read_bytes(), html_twin if html_twin.exists() else None))
    duals = [p for p in run.outputs if p.name.startswith("compare_") and p.suffix == ".html"]
    for p in duals:
        report_maps.append(ReportMap(label("side_by_side", lang), None, p))
    # the ranking the maps and the scenarios used (imported figures included), not ranked again
    ranking = (context or run.context).ranking
    from geoplanner.scenario.compare import teams_curves
    from geoplanner.scenario.tables import unserved_by_wijk

    unserved = []
    for r in results:
        if "consultations" in r.points.columns:
            prio = r.points[
                ranking.set_index("mdrc")["priority"].reindex(r.points["mdrc"]).fillna(False).to_numpy(bool)
            ]
            per_wijk = unserved_by_wijk(prio).merge(ranking[["mdrc", "name_nl", "name_fr"]], on="mdrc", how="left")
            unserved.append((r.scenario.name, per_wijk.sort_values("unserved_capacity", ascending=False)))
    with output_step(out_root, manifest="report_manifest.json"):
        target = write_report(
            out_root / "report.html",
            teams_curve=teams_curves(results),
            unserved=unserved,
            priority=ranking,
            coverage_lgn=cov,
            comparison=table,
            gains=gains,
            maps=report_maps,
            threshold_min=thr,
            lang=lang,
            notes=general,
            scenario_notes=specific,
            teams={r.scenario.name: r.scenario.teams for r in results},
            cache=getattr(run.context, "cache", True),
        )
        manifest = write_manifest(
            out_root,
            command="geoplanner report",
            inputs=[Path(p) for p in scenario_paths],
            parameters={"lang": lang, "scenarios": [r.scenario.name for r in results]},
            outputs=[target],
            notes=run.notes,
            name="report_manifest.json",
        )
    return MapsRun(outputs=[*run.outputs, target, manifest], results=results, notes=run.notes, context=run.context)
