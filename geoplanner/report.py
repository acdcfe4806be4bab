"""One HTML report for policymakers: priority wijken, coverage per LGN, scenarios, maps, charts.

Plain inputs (DataFrames, PNG figures), one self-contained HTML page out: images are embedded
as ``data:`` URIs, links point to the interactive maps beside it. Rendered with Jinja2 with
autoescaping on, so every name from the data appears as text.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from geoplanner import settings
from geoplanner._io import write_text
from geoplanner.i18n import DEFAULT_LANG, LABELS, check_lang, fmt_num, label
from geoplanner.static_maps import png_bytes

__all__ = ["ReportMap", "coverage_bars", "gain_curve", "render_report", "write_report", "table_rows"]


@dataclass(frozen=True)
class ReportMap:
    """A map in the report: its title, the PNG and (optionally) a link to the interactive map.

    Attributes
    ----------
    title
        Caption (escaped when rendered).
    png
        PNG bytes, or a matplotlib Figure rendered at 150 dpi.
    link
        Path of the interactive HTML map, written relative to the report's folder.
    """

    title: str
    png: bytes | Figure
    link: Path | None = None


def _data_uri(png: bytes | Figure) -> str:
    blob = png_bytes(png, dpi=150) if isinstance(png, Figure) else png
    return "data:image/png;base64," + base64.b64encode(blob).decode("ascii")


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
    fig = Figure(figsize=(9, 4.2), layout="constrained")
    ax = fig.add_subplot()
    n = len(pivot.columns)
    width = 0.8 / max(n, 1)
    x = np.arange(len(pivot.index))
    for i, col in enumerate(pivot.columns):
        ax.bar(x + (i - (n - 1) / 2) * width, 100 * pivot[col].to_numpy(dtype=float), width, label=str(col))
    ax.set_xticks(x, [f"{lgn}. {name}" for lgn, name in zip(pivot.index, names, strict=True)], rotation=30, ha="right")
    ax.set_ylabel(f"{label('share_covered', lang)} {threshold_min} {label('minutes', lang)} (%)")
    ax.set_ylim(0, 100)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
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


def table_rows(frame: pd.DataFrame, columns: Mapping[str, str], *, lang: str = DEFAULT_LANG) -> dict[str, Any]:
    """Turn a DataFrame into header + rows of display strings (numbers formatted for ``lang``).

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
    rows = []
    for _, r in frame[cols].iterrows():
        cells = []
        for c in cols:
            v = r[c]
            if isinstance(v, bool | np.bool_):
                cells.append(label("yes", lang) if v else label("no", lang))
            elif isinstance(v, int | np.integer):
                cells.append(str(int(v)))
            elif isinstance(v, float | np.floating):
                if math.isnan(v):
                    cells.append("–")
                elif c.startswith("share"):
                    cells.append(fmt_num(100 * v, lang, 1) + " %")
                else:
                    cells.append(fmt_num(v, lang, 0 if abs(v) >= 100 or float(v).is_integer() else 2))
            else:
                cells.append("" if v is None else str(v))
        rows.append(cells)
    return {"header": [columns[c] for c in cols], "rows": rows}


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
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 13px; color: #555; }
.note { color: #555; font-style: italic; }
footer { margin-top: 3em; font-size: 12px; color: #555; border-top: 1px solid #ccc; }
@media print { h2 { page-break-before: always; } figure { page-break-inside: avoid; } }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p class="note">{{ L.estimate_note }}</p>
{% for n in notes %}<p class="note">{{ n }}</p>{% endfor %}

{% if priority %}
<h2 id="priority">{{ L.priority_table }}</h2>
<table class="priority-table">
<tr>{% for h in priority.header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in priority.rows %}<tr>{% for c in row %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}
</table>
{% endif %}

{% if coverage %}
<h2 id="coverage">{{ L.coverage_table }}</h2>
{% if coverage_chart %}<figure><img alt="{{ L.coverage_table }}" src="{{ coverage_chart }}"></figure>{% endif %}
<table class="coverage-table">
<tr>{% for h in coverage.header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in coverage.rows %}<tr>{% for c in row %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}
</table>
{% endif %}

{% if comparison %}
<h2 id="comparison">{{ L.comparison_table }}</h2>
<table class="comparison-table">
<tr>{% for h in comparison.header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in comparison.rows %}<tr>{% for c in row %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}
</table>
{% if gain_chart %}<figure><img alt="{{ L.marginal_curve }}" src="{{ gain_chart }}"></figure>{% endif %}
{% endif %}

{% if maps %}
<h2 id="maps">{{ L.maps }}</h2>
{% for m in maps %}
<figure class="map">
<img alt="{{ m.title }}" src="{{ m.src }}">
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
    base_dir: Path | None = None,
) -> str:
    """Render the report as one HTML page.

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
        Extra remarks shown under the title (layer completeness etc.).
    base_dir
        Folder the report is written to; map links are made relative to it.

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
        "priority": None,
        "coverage": None,
        "coverage_chart": None,
        "comparison": None,
        "gain_chart": None,
        "attribution": "; ".join(settings.ATTRIBUTION),
    }
    if priority is not None and len(priority):
        p = priority[priority["priority"].astype(bool)].sort_values("rank")
        cols = {
            "rank": label("rank", lang),
            "mdrc": "MDRC",
            name_col: label("wijk", lang),
            "commune_names": label("commune", lang),
            "lgn_name": label("lgn", lang),
            "births": f"{label('births', lang)} ({label('estimated', lang)})",
            "pop_0_2": f"{label('pop_0_2', lang)} ({label('estimated', lang)})",
            "deprivation": label("deprivation", lang),
            "score": label("score", lang),
        }
        ctx["priority"] = table_rows(p.assign(rank=p["rank"].astype(int)), cols, lang=lang)
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
        ctx["coverage_chart"] = _data_uri(coverage_bars(coverage_lgn, threshold_min=threshold_min, lang=lang))
    if comparison is not None and len(comparison):
        ctx["comparison"] = table_rows(comparison, {c: str(c) for c in comparison.columns}, lang=lang)
    if gains:
        ctx["gain_chart"] = _data_uri(gain_curve(gains, lang=lang))
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
        out_maps.append({"title": m.title, "src": _data_uri(m.png), "link": link})
    ctx["maps"] = out_maps
    return env.from_string(_TEMPLATE).render(**ctx)


def write_report(target: str | Path, **kwargs: Any) -> Path:
    """Render the report (see :func:`render_report`) and write it atomically to ``target``."""
    target = Path(target)
    kwargs.setdefault("base_dir", target.parent)
    return write_text(target, render_report(**kwargs))
