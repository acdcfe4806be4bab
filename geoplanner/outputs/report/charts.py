"""The report's charts (matplotlib): coverage per LGN, gain curves, the teams curve, as PNG data URIs.

Each chart is drawn only when what it shows was not drawn before: the PNG is kept in the render cache
(:mod:`geoplanner.outputs.maps.page_cache`), keyed on the chart's inputs.
"""

from __future__ import annotations

import base64
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from geoplanner import cache
from geoplanner.core.i18n import DEFAULT_LANG, check_lang, label
from geoplanner.outputs.maps import page_cache
from geoplanner.outputs.maps.static import png_bytes

__all__ = ["CHART_DPI", "data_uri", "chart_uri", "coverage_bars", "gain_curve", "tradeoff_chart", "teams_chart"]

#: Resolution of the charts embedded in the report.
CHART_DPI = 150


def data_uri(png: bytes | Figure) -> str:
    """Return a PNG (bytes, or a figure drawn at :data:`CHART_DPI`) as a ``data:`` URI for an ``<img>``."""
    blob = png if isinstance(png, bytes) else png_bytes(png, dpi=CHART_DPI)
    return "data:image/png;base64," + base64.b64encode(blob).decode("ascii")


def chart_uri(kind: str, inputs: Mapping[str, Any], lang: str, build: Callable[[], Figure], use: bool = True) -> str:
    """Return a chart as a data URI, drawn by ``build()`` only when these inputs were not drawn before.

    Parameters
    ----------
    kind
        Which chart (part of the key).
    inputs
        Everything the chart shows (tables by their :func:`geoplanner.cache.frame_digest`).
    lang
        Language of the chart's words.
    build
        Draws the chart.
    use
        Use the render cache (:mod:`geoplanner.outputs.maps.page_cache`); False (``--no-cache``) or
        ``$GEOPLANNER_NO_CACHE``: always draw, store nothing.
    """
    on = cache.enabled(use)
    key = ""
    if on:
        shown = {k: cache.frame_digest(v) if hasattr(v, "columns") else v for k, v in inputs.items()}
        key = page_cache.page_key(f"{kind}.png", [cache.digest(shown)], None, lang=lang, dpi=CHART_DPI)
    return data_uri(page_cache.cached(key, lambda: png_bytes(build(), dpi=CHART_DPI), use=on))


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
    ax.set_ylabel(f"{label('share_within_threshold', lang)}, {threshold_min} {label('minutes', lang)} (%)")
    ax.set_ylim(0, 100)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(label("coverage_table", lang), loc="left", fontsize=11)
    return fig


#: Line styles and markers, so that every curve can be told apart even where two coincide.
_STYLES = (("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1)), "v"), ((0, (1, 1)), "P"))


def gain_curve(gains: Mapping[str, Sequence[float]], *, lang: str = DEFAULT_LANG) -> Figure:
    """Line chart: children newly reached (cumulative) against the number of sites added.

    Each scenario has its own line style and marker and is nudged sideways by a fraction of a site, so two
    scenarios that chose the same sites stay visible.

    Parameters
    ----------
    gains
        Per scenario (its title), the marginal gain of each site in the order chosen.
    lang
        ``nl`` (default), ``fr`` or ``en``.
    """
    check_lang(lang)
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    shown = [(name, np.asarray(v, dtype=float)) for name, v in gains.items() if len(v)]
    for i, (name, v) in enumerate(shown):
        style, marker = _STYLES[i % len(_STYLES)]
        dx = (i - (len(shown) - 1) / 2) * 0.08
        ax.plot(np.arange(0, v.size + 1) + dx, np.concatenate([[0.0], np.cumsum(v)]), linestyle=style, marker=marker,
                ms=5, mfc="none", label=str(name))  # fmt: skip
    ax.set_xlabel(label("n_sites", lang))
    ax.set_ylabel(label("cumulative_reached", lang))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    ax.set_title(label("marginal_curve", lang), loc="left", fontsize=11)
    return fig


def tradeoff_chart(comparison: pd.DataFrame, *, lang: str = DEFAULT_LANG) -> Figure:
    """Draw the trade-off: consultations and priority wijken served against the new staffed sessions a week.

    One point per scenario, numbered in the comparison's order (the report's first table names them); efficient
    scenarios (``efficient``) are filled, the others hollow; the current situation (the first row) is a grey square
    at 0 sessions. Scenarios on the same point share it.

    Parameters
    ----------
    comparison
        :func:`geoplanner.scenario.compare`'s table.
    lang
        ``nl`` (default), ``fr`` or ``en``.
    """
    check_lang(lang)
    fig = Figure(figsize=(5.2, 4.4), layout="constrained")
    x = comparison["sessions_per_week"].fillna(0).to_numpy(dtype=float)
    eff = comparison["efficient"].fillna(False).to_numpy(dtype=bool, copy=True)
    eff[0] = False  # the current situation: its own marker
    rest = ~eff
    rest[0] = False
    axes = fig.subplots(2, 1)
    for ax, col in zip(axes, ("consultations_served", "priority_wijken_served"), strict=True):
        y = comparison[col].to_numpy(dtype=float)
        ax.scatter(x[:1], y[:1], s=50, marker="s", color="#999999", zorder=3)
        ax.scatter(x[eff], y[eff], s=50, color="#2166ac", zorder=3)
        ax.scatter(x[rest], y[rest], s=50, facecolors="none", edgecolors="#2166ac", zorder=3)
        at: dict[tuple[float, float], list[str]] = {}
        for i, (xi, yi) in enumerate(zip(x, y, strict=True)):
            # scenarios at the same point (sums that differ in their last bits) share one label
            at.setdefault((round(float(xi), 6), round(float(yi), 1)), []).append(str(i + 1))
        for (xi, yi), nums in at.items():
            ax.annotate(",".join(nums), (xi, yi), xytext=(6, 2), textcoords="offset points", fontsize=10)
        ax.set_xlabel(label("sessions_per_week", lang))
        ax.set_ylabel(label(col, lang))
        ax.set_xlim(-1.5, max(x.max() * 1.15, 10))
        ax.set_ylim(bottom=0, top=max(np.nanmax(y) * 1.15, 1))
        ax.grid(alpha=0.3)
    return fig


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
        own = part[part["solution_of"].astype(str) != ""] if "solution_of" in part else part.iloc[:0]
        ax.scatter(own["teams"], 100 * own["share_priority_served"], s=60, facecolors="none", edgecolors="#b2182b",
                   zorder=4)  # fmt: skip
        for _, r in own.iterrows():
            ax.annotate(str(r["solution_of"]), (r["teams"], 100 * r["share_priority_served"]), xytext=(4, -10),
                        textcoords="offset points", fontsize=7, color="#b2182b")  # fmt: skip
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
