"""A sweep's deliverables: its report page, its map by ``p_chosen``, its workbook sheets and its QGIS style.

:mod:`geoplanner.scenario.sweep` makes the tables; :mod:`geoplanner.pipeline.sweep` writes them with what this
module renders: ``sweep.html`` (a page of its own, not a section of the main report), the venues coloured by how
sure their choice is (a PNG in the page, and the default QGIS style of ``sweep_sites.gpkg``) and the sheets of
``sweep.xlsx``. Labels are Dutch (the CSV columns stay English).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from geoplanner.core import settings
from geoplanner.core.i18n import label, value_label
from geoplanner.outputs.columns import column_header
from geoplanner.outputs.files import write_layer_styles
from geoplanner.outputs.maps.static import png_bytes
from geoplanner.outputs.precision import csv_decimals, round_for_csv
from geoplanner.outputs.qgis_styles import LayerStyle, Rule, marker_symbol, rule_based_qml
from geoplanner.outputs.report.charts import data_uri
from geoplanner.outputs.report.sweep import assumption_label, key_lines
from geoplanner.outputs.report.tables import format_cell
from geoplanner.outputs.workbook import Sheet
from geoplanner.scenario.curve import curve_top
from geoplanner.scenario.sweep import SweepResult, top_assumption

__all__ = [
    "SWEEP_CLASSES",
    "SWEEP_HEADERS",
    "rounded",
    "sweep_site_style",
    "style_sweep_gpkg",
    "sweep_figure",
    "sweep_sheets",
    "sweep_page",
    "moves_most",
    "sweep_key_lines",
    "map_png",
]

#: Classes of ``p_chosen`` as the map and the QGIS style draw them: (code, lower bound, Dutch label, colour, size).
SWEEP_CLASSES: tuple[tuple[str, float, str, str, float], ...] = (
    ("robust", 0.9, "robuust (≥ 90 % van de trekkingen)", "#1a9850", 4.2),
    ("likely", 0.5, "waarschijnlijk (50-90 %)", "#91cf60", 3.4),
    ("borderline", 0.1, "twijfelgeval (10-50 %)", "#fc8d59", 2.6),
    ("unlikely", 0.0, "onwaarschijnlijk (< 10 %)", "#bdbdbd", 1.8),
)

#: Dutch headers of the sweep's columns (the workbook and the page).
SWEEP_HEADERS: dict[str, str] = {
    # the venue columns the run's workbook also shows: its headers (outputs.columns), the same words in both
    **{
        c: column_header(c, "nl")
        for c in (
            "p_chosen",
            "stability",
            "n_chosen",
            "base_chosen",
            "sessions_when_chosen",
            "consultations_when_chosen",
            "suitability",
            "dutch_speaking",
        )
    },
    "id": "Locatie (id)",
    "name": "Locatie",
    "type": "Type",
    "lgn": "LGN",
    "measure": "Maat",
    "base": "Scenario",
    "p05": "5 %",
    "p50": "mediaan",
    "p95": "95 %",
    "mean": "gemiddelde",
    "min": "minimum",
    "max": "maximum",
    "draws": "trekkingen",
    "share_beyond_curve": "aandeel voorbij de curve",
    "base_sessions": "Sessies in het scenario",
    "p_any": "Kans op een sessie",
    "sessions_p05": "sessies 5 %",
    "sessions_p50": "sessies mediaan",
    "sessions_p95": "sessies 95 %",
    "assumption": "Aanname",
    "base_value": "waarde scenario",
    "low_value": "laag",
    "high_value": "hoog",
    "consultations_served_low": "consultaties bediend (laag)",
    "consultations_served_high": "consultaties bediend (hoog)",
    "consultations_served_swing": "verschil consultaties",
    "teams_needed_low": "teams nodig (laag)",
    "teams_needed_high": "teams nodig (hoog)",
    "teams_needed_swing": "verschil teams",
    "venues_changed": "locaties anders dan in het scenario",
}

#: Columns of the sweep's summary that hold a value of the row's measure.
_MEASURE_VALUES = ("base", "p05", "p50", "p95", "mean", "min", "max")


def _summary_rounded(summary: pd.DataFrame) -> pd.DataFrame:
    """Round the summary (a row per measure): each row's values to the decimals of its measure's column."""
    out = round_for_csv(summary.drop(columns=list(_MEASURE_VALUES), errors="ignore"))
    for col in _MEASURE_VALUES:
        if col in summary.columns:
            out[col] = [round(float(v), csv_decimals(str(m))) if np.isfinite(v) else v
                        for v, m in zip(summary[col], summary["measure"], strict=True)]  # fmt: skip
    return out[list(summary.columns)]


def rounded(result: SweepResult) -> SweepResult:
    """Return ``result`` with its tables rounded as every output table is (:mod:`geoplanner.outputs.precision`).

    Rounded once, before the CSVs, the workbook and the page are made of them, so they show the same numbers. The
    summary has a row per measure: its numbers keep the decimals of that measure (a share 3, consultations 1).
    """
    return dataclasses.replace(
        result,
        sites=round_for_csv(result.sites),
        lgn=round_for_csv(result.lgn),
        summary=_summary_rounded(result.summary),
        sensitivity=round_for_csv(result.sensitivity),
        draws_table=round_for_csv(result.draws_table),
    )


def sweep_site_style(layer: str = "sweep_sites") -> LayerStyle:
    """Return the QGIS style of the swept venues: a class of ``p_chosen`` per colour and size, the surest on top."""
    rules = []
    for i, (_, lower, text, colour, size) in enumerate(SWEEP_CLASSES):
        upper = SWEEP_CLASSES[i - 1][1] if i else None
        expr = f'"p_chosen" >= {lower:g}' + (f' AND "p_chosen" < {upper:g}' if upper is not None else "")
        rules.append(Rule(text, expr, marker_symbol(colour, "circle", size)))
    qml = rule_based_qml(rules, geometry="point", key=f"{layer}:p_chosen", order_by='"p_chosen"',
                         label_expression='CASE WHEN "p_chosen" >= 0.5 THEN "name" END')  # fmt: skip
    return LayerStyle(layer, "Kans gekozen", qml, "locaties naar het aandeel trekkingen waarin ze gekozen zijn", True)


def style_sweep_gpkg(gpkg: str | Path) -> int:
    """Add :func:`sweep_site_style` to ``sweep_sites.gpkg`` (its temporary file); return the rows written."""
    return write_layer_styles(gpkg, [sweep_site_style()])


def sweep_figure(outlines: Any, sites: pd.DataFrame, *, title: str) -> Figure:
    """Draw the venues of a sweep coloured and sized by their class of ``p_chosen``, over the commune outlines.

    Parameters
    ----------
    outlines
        Commune polygons (GeoDataFrame, EPSG:31370).
    sites
        :attr:`geoplanner.scenario.sweep.SweepResult.sites` (x, y, p_chosen, stability, base_chosen).
    title
        The figure's title.
    """
    fig = Figure(figsize=(8.3, 7.0))
    ax = fig.add_subplot(1, 1, 1)
    outlines.boundary.plot(ax=ax, color="#969696", linewidth=0.6)
    for code, _, text, colour, size in reversed(SWEEP_CLASSES):
        part = sites[sites["stability"] == code]
        if part.empty:
            continue
        ax.scatter(part["x"], part["y"], s=(3.0 * size) ** 2, c=colour, edgecolors="#252525", linewidths=0.5,
                   label=f"{text}: {len(part)}", zorder=3)  # fmt: skip
    base = sites[sites["base_chosen"].astype(bool)]
    if len(base):
        ax.scatter(base["x"], base["y"], s=14, marker="x", c="#252525", linewidths=0.9, zorder=4,
                   label="gekozen in het scenario zelf")  # fmt: skip
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower left", fontsize=7, frameon=True, title="Kans gekozen (p_chosen)", title_fontsize=7)
    fig.text(0.01, 0.01, " · ".join(settings.ATTRIBUTION), fontsize=5, color="#636363")
    fig.tight_layout()
    return fig


def _frame(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    out = frame[[c for c in columns if c in frame.columns]].copy()
    if "assumption" in out:
        out["assumption"] = out["assumption"].map(lambda k: assumption_label(k, "nl"))
    for col in ("stability", "type", "suitability"):  # codes in words, as the run's workbook and the maps say them
        if col in out:
            out[col] = out[col].map(lambda k, c=col: value_label(c, k, "nl") if isinstance(k, str) else k)
    if "measure" in out:
        out["measure"] = out["measure"].map(lambda m: label(m, "nl"))
    return out


_SITE_COLUMNS = ("name", "id", "type", "lgn", "p_chosen", "stability", "n_chosen", "base_chosen",
                 "sessions_when_chosen", "consultations_when_chosen", "suitability", "dutch_speaking")  # fmt: skip
_SUMMARY_COLUMNS = ("measure", "base", "p05", "p50", "p95", "mean", "min", "max", "share_beyond_curve")
_LGN_COLUMNS = ("lgn", "base_sessions", "p_any", "sessions_p05", "sessions_p50", "sessions_p95")
_SENS_COLUMNS = ("assumption", "base_value", "low_value", "high_value", "consultations_served_low",
                 "consultations_served_high", "consultations_served_swing", "teams_needed_low", "teams_needed_high",
                 "teams_needed_swing", "venues_changed")  # fmt: skip


def sweep_sheets(result: SweepResult) -> list[Sheet]:
    """Return the workbook sheets of a sweep: venues, range per measure, per LGN, sensitivity, every draw."""
    return [
        Sheet("Locaties", _frame(result.sites, _SITE_COLUMNS), SWEEP_HEADERS, {"p_chosen": "0%"},
              "per locatie: het aandeel trekkingen waarin ze gekozen is (p_chosen) en haar zekerheid"),
        Sheet("Bereik", _frame(result.summary, _SUMMARY_COLUMNS), SWEEP_HEADERS, {},
              "per maat: de waarde in het scenario en 5-95 % over de trekkingen"),
        Sheet("Per LGN", _frame(result.lgn, _LGN_COLUMNS), SWEEP_HEADERS, {"p_any": "0%"},
              "per LGN: sessies per week over de trekkingen"),
        Sheet("Gevoeligheid", _frame(result.sensitivity, _SENS_COLUMNS), SWEEP_HEADERS, {},
              "één aanname tegelijk aan de uiteinden van haar bereik, de rest zoals in het scenario"),
        Sheet("Trekkingen", result.draws_table, {}, {}, "elke trekking: de getrokken waarden, maten en locaties"),
    ]  # fmt: skip


def moves_most(sensitivity: pd.DataFrame, measure: str) -> str | None:
    """Say in Dutch which assumption moves ``measure`` most in the sensitivity table, and from what to what."""
    top = top_assumption(sensitivity, measure)
    if top is None:
        return None
    key, low, high = top
    return f"{assumption_label(key, 'nl')}: van {_value(low, measure)} tot {_value(high, measure)}"


def _value(v: float, measure: str) -> str:
    if math.isnan(v):
        return "meer dan de curve toont" if measure == "teams_needed" else "–"
    return format_cell(v, "count", "nl")


_PAGE = jinja2.Template(
    """<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body { font-family: sans-serif; max-width: 60em; margin: 1.5em auto; color: #222; font-size: 14px; }
table { border-collapse: collapse; margin: 0.8em 0; } th, td { border: 1px solid #ccc; padding: 3px 6px; }
th { background: #f0f0f0; text-align: left; } td.n { text-align: right; }
.robust { background: #d9f0d3; } .likely { background: #f0f9e8; } .borderline { background: #fee8c8; }
.note { color: #555; font-size: 12px; } img { max-width: 100%; }
</style></head><body>
<h1>{{ title }}</h1>
<p>{{ lead }}</p>
<ul>{% for line in key_lines %}<li>{{ line }}</li>{% endfor %}</ul>
{% if map_uri %}<img src="{{ map_uri }}" alt="locaties naar kans gekozen">{% endif %}
{% for t in tables %}<h2>{{ t.title }}</h2>
<table><tr>{% for h in t.header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in t.rows %}<tr{% if t.classes %} class="{{ t.classes[loop.index0] }}"{% endif %}>
{% for cell in row %}<td{% if cell[1] %} class="n"{% endif %}>{{ cell[0] }}</td>{% endfor %}</tr>
{% endfor %}</table>{% endfor %}
<h2>Waarop dit berust</h2>
<ul class="note">{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul>
</body></html>
""",
    autoescape=True,
)


def _kind(col: str) -> str:
    if col in ("p_chosen", "p_any", "share_beyond_curve") or col.startswith("share"):
        return "share"
    if col.startswith(("consultations", "children")) or col in ("lgn", "n_chosen", "draws", "venues_changed"):
        return "count"
    return "number"


def _table(title: str, frame: pd.DataFrame, columns: Sequence[str], classes: Sequence[str] = ()) -> dict[str, Any]:
    """Return a table for the page: Dutch headers, numbers formatted (a row per measure: as that measure)."""
    cols = [c for c in columns if c in frame.columns]
    shown = _frame(frame, cols)
    rows = []
    for i in range(len(frame)):
        raw = frame.iloc[i]
        measure = str(raw["measure"]) if "measure" in frame.columns else None
        row = []
        for c in cols:
            v = raw[c]
            if isinstance(v, int | float | np.number) and not isinstance(v, bool | np.bool_):
                kind = _kind(measure if measure and c != "share_beyond_curve" else c)
                row.append((format_cell(v, kind, "nl"), True))
            else:
                row.append((format_cell(shown.iloc[i][c], "number", "nl"), False))
        rows.append(row)
    return {"title": title, "header": [SWEEP_HEADERS.get(c, c) for c in cols], "rows": rows, "classes": list(classes)}


def sweep_page(result: SweepResult, map_png: bytes | None = None) -> str:
    """Return ``sweep.html``: the key lines, the map, the venues, the ranges, the sensitivity and the notes."""
    s = result.scenario
    sites = result.sites
    tables = [
        _table("Locaties: hoe zeker is de keuze?", sites, _SITE_COLUMNS[:10], list(sites["stability"])),
        _table("Bereik van de uitkomsten over de trekkingen", result.summary, _SUMMARY_COLUMNS),
        _table("Welke aanname weegt het zwaarst? (één tegelijk)", result.sensitivity, _SENS_COLUMNS),
        _table("Sessies per LGN", result.lgn, _LGN_COLUMNS),
    ]
    lead = (f"Het scenario '{s.label}' is {result.draws} keer opgelost, telkens met andere maar aannemelijke "
            f"cijfers (seed {result.seed}). Een locatie die in bijna elke trekking gekozen wordt, is een veilige "
            "keuze; een twijfelgeval hangt af van cijfers die niemand precies kent.")  # fmt: skip
    return _PAGE.render(title=f"Hoe zeker is elke gekozen locatie? {s.label}", lead=lead,
                        key_lines=sweep_key_lines(result), map_uri=data_uri(map_png) if map_png else None,
                        tables=tables, notes=[*result.notes, *settings.ATTRIBUTION])  # fmt: skip


def sweep_key_lines(result: SweepResult) -> list[str]:
    """Return the sweep's key lines in Dutch, as the report's section has them (for its page and the terminal)."""
    top = curve_top(result.scenario) if result.scenario.model == "capacitated_rotation" else None
    return key_lines(result.tables(), max_teams=top, lang="nl")


def map_png(outlines: Any, result: SweepResult) -> bytes:
    """Return the sweep's map as PNG bytes (:func:`sweep_figure`)."""
    title = f"{result.scenario.label}: kans dat een locatie gekozen wordt ({result.draws} trekkingen)"
    return png_bytes(sweep_figure(outlines, result.sites, title=title), dpi=150)
