"""The report rendered: the sections put together and the Jinja template (``templates/report.html.j2``) filled.

Autoescaping is on, so every name from the data appears as text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from matplotlib.figure import Figure

from geoplanner.core import settings
from geoplanner.core.i18n import DEFAULT_LANG, LABELS, check_lang, fmt_num, label
from geoplanner.outputs.report.charts import chart_uri, coverage_bars, data_uri, gain_curve, teams_chart, tradeoff_chart
from geoplanner.outputs.report.summary import BaselineLayer, appendix_section, summary_section
from geoplanner.outputs.report.sweep import sweep_labels, sweep_section
from geoplanner.outputs.report.tables import (
    comparison_rows,
    coverage_rows,
    priority_rows,
    table_rows,
    unserved_rows,
)
from geoplanner.scenario.measures import WALK_TIME_MEASURES
from geoplanner.scenario.sweep import SweepTables

__all__ = ["ReportMap", "ReportInputs", "TEMPLATE", "render_report", "teams_section", "template_environment"]

#: The page's template, in ``geoplanner/outputs/report/templates/`` (shipped as package data).
TEMPLATE = "report.html.j2"


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


def teams_section(
    curve: pd.DataFrame, by_share: pd.DataFrame | None = None, *, lang: str = DEFAULT_LANG, cache: bool = True
) -> dict[str, Any]:
    """Build the "how many teams?" section: a sentence per curve, the chart, the table, and the Dutch-share table.

    Teams needed is read off the drawn curve (its first point that meets the target); each scenario is the point
    of its team count, marked on the chart.
    """
    needed = []
    for name, part in curve.groupby("scenario", sort=False):
        target, n, top = part["target_share"].iloc[0], part["teams_needed"].iloc[0], int(part["teams"].max())
        share = fmt_num(100 * float(target), lang, 0) + " %"
        count = str(int(n)) if n == n and n is not None else label("teams_more_than", lang).format(n=top)
        needed.append(f"{name}: {count} {label('teams_needed_text', lang).format(share=share)}")
    cols = {"scenario": label("scenario_title", lang), "teams": label("teams_axis", lang)}
    for col in (
        "sessions_per_week",
        "consultations_served",
        "children_served",
        "share_consultations_served",
        "share_priority_served",
        "share_deprivation_served",
    ):
        cols[col] = label(col, lang)  # fmt: skip
    cols["solution_of"] = label("solution_of", lang)
    cols["gap_share"] = label("solver_gap", lang)
    shares = None
    if by_share is not None and len(by_share):
        cols_share = {c: label(c, lang) for c in ("dutch_share", "consultations_demand", "teams_needed",
                                                  "share_priority_served")}  # fmt: skip
        shares = table_rows(by_share, cols_share, lang=lang)
    return {
        "needed": needed,
        "chart": chart_uri("teams_chart", {"curve": curve}, lang, lambda: teams_chart(curve, lang=lang), cache),
        "table": table_rows(curve, cols, lang=lang),
        "by_share": shares,
    }


@lru_cache(maxsize=1)
def template_environment() -> jinja2.Environment:
    """Return the Jinja environment of the report's templates (autoescaping on, undefined names refused)."""
    loader = jinja2.PackageLoader("geoplanner.outputs.report", "templates")
    return jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)


def _map_entry(m: ReportMap, base_dir: Path | None) -> dict[str, Any]:
    """Return a map as the template shows it: title, PNG data URI, link relative to ``base_dir``."""
    link = None
    if m.link is not None:
        path = Path(m.link)
        if base_dir is not None:
            try:
                path = path.resolve().relative_to(Path(base_dir).resolve())
            except ValueError:
                path = path.resolve()
        link = path.as_posix()
    return {"title": m.title, "src": data_uri(m.png) if m.png is not None else None, "link": link}


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report shows, computed once by the run (nothing here is recomputed).

    Attributes
    ----------
    comparison, per_lgn
        :func:`geoplanner.scenario.compare` of the results (the current situation first).
    priority
        The wijk ranking the scenarios used.
    coverage_lgn
        Share within 5/10/15 minutes per LGN and scenario (for the chart).
    descriptions
        Scenario name -> its description.
    layers
        The known-service layers the current situation opens
        (:class:`~geoplanner.outputs.report.summary.BaselineLayer`).
    assumptions
        The parameters the figures rest on.
    runs
        Per scenario, its id, file, model, demand kind, solver and cache (the appendix).
    gains
        Per scenario title, the children each added fixed site reaches, in order.
    teams_curve, by_dutch_share
        The teams curves (:func:`geoplanner.scenario.teams_curves`) and teams needed by Dutch-speaking share.
    unserved
        ``(scenario title, per-wijk table)`` of the scenarios with new sessions: whom we still miss.
    sweeps
        ``(scenario title, its sweep, link to its page, its teams curve's last point)`` of the scenarios with a
        current sweep (:func:`geoplanner.pipeline.sweep.read_sweep`): how sure each chosen venue is.
    """

    comparison: pd.DataFrame | None = None
    per_lgn: pd.DataFrame | None = None
    priority: pd.DataFrame | None = None
    coverage_lgn: pd.DataFrame | None = None
    descriptions: Mapping[str, str] = field(default_factory=dict)
    layers: Sequence[Mapping[str, Any]] = ()
    assumptions: Sequence[Any] = ()
    runs: Sequence[Mapping[str, Any]] = ()
    gains: Mapping[str, Sequence[float]] = field(default_factory=dict)
    teams_curve: pd.DataFrame | None = None
    by_dutch_share: pd.DataFrame | None = None
    unserved: Sequence[tuple[str, pd.DataFrame]] = ()
    sweeps: Sequence[tuple[str, SweepTables, str | None, int | None]] = ()


def _comparison_sections(inp: ReportInputs, lang: str, cache: bool) -> dict[str, Any]:
    """Return page 1 (summary, trade-off chart) and the full comparison table."""
    comparison = inp.comparison
    assert comparison is not None
    thin = any(BaselineLayer(x).incomplete for x in inp.layers)
    return {
        # walking times to a layer that incomplete would read as a finding about Brussels' bureaus
        "comparison": comparison_rows(comparison, lang=lang, hide=WALK_TIME_MEASURES if thin else ()),
        "summary": summary_section(comparison, descriptions=inp.descriptions,
                                   layers=[BaselineLayer(x) for x in inp.layers], assumptions=inp.assumptions,
                                   lang=lang),
        "tradeoff_chart": chart_uri("tradeoff", {"comparison": comparison}, lang,
                                    lambda: tradeoff_chart(comparison, lang=lang), cache),
    }  # fmt: skip


def _sections(inp: ReportInputs, lang: str, cache: bool) -> dict[str, Any]:
    """Fill every section of the page from the run's results (tables as display strings, charts as data URIs)."""
    ctx: dict[str, Any] = dict.fromkeys(("priority", "coverage", "coverage_chart", "gain_chart", "comparison",
                                         "summary", "tradeoff_chart", "appendix"))  # fmt: skip
    if inp.priority is not None and len(inp.priority):
        ctx["priority"], ctx["stability"] = priority_rows(inp.priority, lang=lang)
    if inp.per_lgn is not None and len(inp.per_lgn):
        ctx["coverage"] = coverage_rows(inp.per_lgn, lang=lang)
    if inp.coverage_lgn is not None and len(inp.coverage_lgn):
        thr = 15 if inp.comparison is None else int(round(float(inp.comparison["threshold_min"].max())))
        ctx["coverage_chart"] = chart_uri("coverage_bars", {"coverage": inp.coverage_lgn, "threshold_min": thr}, lang,
                                          lambda: coverage_bars(inp.coverage_lgn, threshold_min=thr, lang=lang),
                                          cache)  # fmt: skip
    if inp.comparison is not None and len(inp.comparison):
        ctx.update(_comparison_sections(inp, lang, cache))
    if inp.gains:
        ctx["gain_chart"] = chart_uri("gain_curve", {"gains": dict(inp.gains)}, lang,
                                      lambda: gain_curve(inp.gains, lang=lang), cache)  # fmt: skip
    has_curve = inp.teams_curve is not None and len(inp.teams_curve)
    ctx["teams"] = teams_section(inp.teams_curve, inp.by_dutch_share, lang=lang, cache=cache) if has_curve else None
    ctx["unserved"] = [{"name": str(n), "table": unserved_rows(t, lang=lang)} for n, t in inp.unserved if len(t)]
    ctx["sweeps"] = [sweep_section(n, t, link=link, max_teams=top, lang=lang) for n, t, link, top in inp.sweeps]
    ctx["sweep_labels"] = sweep_labels(lang)
    if inp.runs or inp.assumptions:
        ctx["appendix"] = appendix_section(inp.runs, inp.assumptions, lang=lang)
    return ctx


def render_report(
    inputs: ReportInputs | None = None,
    *,
    maps: Sequence[ReportMap] = (),
    lang: str = DEFAULT_LANG,
    title: str | None = None,
    notes: Sequence[str] = (),
    scenario_notes: Sequence[tuple[str, str]] = (),
    base_dir: Path | None = None,
    cache: bool = True,
) -> str:
    """Render the report as one HTML page.

    The page opens with a one-page summary (:func:`~geoplanner.outputs.report.summary.summary_section`) to decide
    on; printed (A4), the summary is page 1 and each section starts on a new page; the technical appendix closes it.

    Parameters
    ----------
    inputs
        What the page shows (:class:`ReportInputs`), from the run's results.
    maps
        Maps to embed.
    lang
        ``nl`` (default), ``fr`` or ``en``.
    title
        Page title (default: the localised report title).
    notes
        General remarks (layer completeness etc.).
    scenario_notes
        ``(scenario titles, note)`` pairs shown after the general remarks
        (:func:`~geoplanner.outputs.report.summary.group_notes`).
    base_dir
        Folder the report is written to; map links are made relative to it.
    cache
        Take the charts from the render cache (:mod:`geoplanner.outputs.maps.page_cache`) when the same were
        drawn before; False (``--no-cache``) or ``$GEOPLANNER_NO_CACHE``: always draw, store nothing.

    Returns
    -------
    str
        The HTML page.
    """
    check_lang(lang)
    ctx: dict[str, Any] = {"lang": lang, "L": LABELS[lang], "title": title or label("report_title", lang),
                           "notes": list(notes), "scenario_notes": [(str(a), str(b)) for a, b in scenario_notes],
                           "attribution": "; ".join(settings.ATTRIBUTION)}  # fmt: skip
    ctx.update(_sections(inputs or ReportInputs(), lang, cache))
    if ctx.pop("stability", False):
        ctx["notes"].append(label("stability_note", lang))
    ctx["maps"] = [_map_entry(m, base_dir) for m in maps]
    return template_environment().get_template(TEMPLATE).render(**ctx)
