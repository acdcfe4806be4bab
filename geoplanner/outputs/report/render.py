"""The report rendered: the sections put together and the Jinja template (``templates/report.html.j2``) filled.

Autoescaping is on, so every name from the data appears as text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from matplotlib.figure import Figure

from geoplanner.core import settings
from geoplanner.core.i18n import DEFAULT_LANG, LABELS, check_lang, fmt_num, label
from geoplanner.outputs.report.charts import chart_uri, coverage_bars, data_uri, gain_curve, teams_chart
from geoplanner.outputs.report.summary import summary_section
from geoplanner.outputs.report.tables import (
    comparison_rows,
    coverage_rows,
    priority_rows,
    table_rows,
    unserved_rows,
)

__all__ = ["ReportMap", "TEMPLATE", "render_report", "teams_section"]

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
        "chart": chart_uri("teams_chart", {"curve": curve}, lang, lambda: teams_chart(curve, lang=lang), cache),
        "table": table,
    }


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
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
    ctx: dict[str, Any] = {
        "lang": lang,
        "L": LABELS[lang],
        "title": title or label("report_title", lang),
        "notes": list(notes),
        "scenario_notes": [(str(a), str(b)) for a, b in scenario_notes],
        "attribution": "; ".join(settings.ATTRIBUTION),
        "priority": None,
        "coverage": None,
        "coverage_chart": None,
        "comparison": None,
        "gain_chart": None,
        "summary": None,
    }
    if priority is not None and len(priority):
        ctx["priority"], stability = priority_rows(priority, lang=lang)
        if stability:
            ctx["notes"].append(label("stability_note", lang))
    if coverage_lgn is not None and len(coverage_lgn):
        ctx["coverage"] = coverage_rows(coverage_lgn, lang=lang)
        ctx["coverage_chart"] = chart_uri(
            "coverage_bars",
            {"coverage": coverage_lgn, "threshold_min": threshold_min},
            lang,
            lambda: coverage_bars(coverage_lgn, threshold_min=threshold_min, lang=lang),
            cache,
        )
    if comparison is not None and len(comparison):
        ctx["comparison"] = comparison_rows(comparison, lang=lang)
        every_note = [*notes, *(n for _, n in scenario_notes)]
        ctx["summary"] = summary_section(comparison, teams=teams, notes=every_note, lang=lang)
    if gains:
        ctx["gain_chart"] = chart_uri(
            "gain_curve", {"gains": dict(gains)}, lang, lambda: gain_curve(gains, lang=lang), cache
        )
    ctx["teams"] = (
        teams_section(teams_curve, lang=lang, cache=cache) if teams_curve is not None and len(teams_curve) else None
    )
    ctx["unserved"] = [{"name": str(n), "table": unserved_rows(t, lang=lang)} for n, t in unserved if len(t)]
    ctx["maps"] = [_map_entry(m, base_dir) for m in maps]
    return _environment().get_template(TEMPLATE).render(**ctx)
