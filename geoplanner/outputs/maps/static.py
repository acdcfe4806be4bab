"""Static PNG maps (matplotlib) of the coverage gap and of siting scenarios, for print and reports.

Drawn in the working CRS (Belgian Lambert 72, metres), so the scale bar is exact. Each map
carries a legend, a north arrow, a scale bar and a source line with the attributions; it is
sized for an A4 page at print resolution.
"""

from __future__ import annotations

import io
import math
import textwrap

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")  # files only; never needs a display

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

from geoplanner.core import settings  # noqa: E402
from geoplanner.core.i18n import DEFAULT_LANG, check_lang, fmt_num, label  # noqa: E402
from geoplanner.outputs.maps.data import MapData, MapScales, commune_outlines, gap_values, map_scales  # noqa: E402
from geoplanner.outputs.maps.style import (  # noqa: E402
    BIRTH_COLOURS,
    GAP_COLOUR,
    MINUTE_BREAKS,
    MINUTE_COLOURS,
    SITE_COLOUR,
    classify,
    palette,
)

__all__ = ["gap_figure", "scenario_figure", "png_bytes", "A4_LANDSCAPE"]

#: Figure size in inches (A4 landscape).
A4_LANDSCAPE = (11.69, 8.27)
_MARKERS = ("s", "D", "^", "o", "h")
_GAP_MAX_AREA = 260.0  # points² for the sector with the largest gap
_FOOTER_CHARS = 190  # characters a footer line holds at 7 pt across an A4 landscape page


def _scale_bar(ax: plt.Axes, lang: str) -> None:
    """Draw a 0–1–2 km bar in the lower right; axes units are metres."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    span = x1 - x0
    length = 2000.0 if span > 8000 else 1000.0
    bx = x1 - 0.05 * span - length
    by = y0 + 0.05 * (y1 - y0)
    h = 0.008 * (y1 - y0)
    for i in range(2):
        ax.add_patch(
            Rectangle(
                (bx + i * length / 2, by), length / 2, h, facecolor="black" if i == 0 else "white", edgecolor="black"
            )
        )
    for frac in (0.0, 0.5, 1.0):
        km = frac * length / 1000
        ax.text(
            bx + frac * length,
            by + 1.8 * h,
            fmt_num(km, lang, 0 if km.is_integer() else 1),
            ha="center",
            fontsize=8,
        )
    ax.text(bx + length + 0.01 * span, by, label("scale_bar", lang), va="bottom", fontsize=8)


def _north_arrow(ax: plt.Axes, lang: str) -> None:
    """North arrow in the upper right (Lambert 72 grid north is close to true north in Brussels)."""
    ax.annotate(
        label("north", lang),
        xy=(0.95, 0.95),
        xytext=(0.95, 0.86),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=12,
        fontweight="bold",
        arrowprops={"facecolor": "black", "width": 4, "headwidth": 12, "headlength": 10},
    )


def _sector_fill(
    data: MapData, sectors: gpd.GeoDataFrame, scales: MapScales, lang: str
) -> tuple[list, str, list, list]:
    """Return the sectors' fill colours, the legend title and the legend entries of the fill.

    Walking time to the first service set when the coverage has it, else births in classes.
    """
    handles: list = []
    labels: list = []
    cov = data.coverage
    if cov is not None and "mean_min" in cov.columns and not cov.empty:
        first = sorted(cov["service_set"].astype(str).unique())[0]
        part = cov[cov["service_set"].astype(str) == first].set_index("cd_sector")["mean_min"]
        minutes = sectors["cd_sector"].map(part).to_numpy(dtype=float)
        breaks = (*MINUTE_BREAKS, math.inf)
        cls = classify(minutes, breaks)
        colours = [MINUTE_COLOURS[c] if c >= 0 else "#dddddd" for c in cls]
        fill_title = f"{label('walk_time', lang)}\n{data.labels.get(first, first)}"
        for lo, hi, c in zip(breaks[:-1], breaks[1:], MINUTE_COLOURS, strict=True):
            handles.append(Patch(facecolor=c, edgecolor="#777"))
            labels.append(
                f"{lo}–{hi} {label('minutes', lang)}" if math.isfinite(hi) else f"{lo}+ {label('minutes', lang)}"
            )
    else:
        br = scales.births
        pal = palette(len(br) - 1, BIRTH_COLOURS)
        cls = classify(sectors["births"].to_numpy(dtype=float), br)
        colours = [pal[c] if c >= 0 else "#dddddd" for c in cls]
        fill_title = f"{label('births', lang)} ({label('estimated', lang)})"
        for i, c in enumerate(pal):
            handles.append(Patch(facecolor=c, edgecolor="#777"))
            labels.append(f"{fmt_num(br[i], lang, 0)}–{fmt_num(br[i + 1], lang, 0)}")
    return colours, fill_title, handles, labels


def _base(data: MapData, scales: MapScales, lang: str, title: str) -> tuple[Figure, plt.Axes, list, list]:
    """Figure with the sector fill, outlines, priority wijken and gap circles; returns legend handles."""
    fig = Figure(figsize=A4_LANDSCAPE, layout="constrained")
    ax = fig.add_subplot()
    sectors = data.sectors.to_crs(settings.CRS)
    colours, fill_title, handles, labels = _sector_fill(data, sectors, scales, lang)
    handles.insert(0, Patch(visible=False))
    labels.insert(0, fill_title)
    sectors.plot(ax=ax, color=colours, edgecolor="#bbbbbb", linewidth=0.2)
    commune_outlines(sectors).boundary.plot(ax=ax, color="#333333", linewidth=0.8)  # dissolved once per run
    if data.wijken is not None and "priority" in data.wijken.columns:
        prio = data.wijken[data.wijken["priority"].astype(bool)].to_crs(settings.CRS)
        prio.boundary.plot(ax=ax, color="black", linewidth=1.6)
        for _, r in prio.iterrows():
            p = r.geometry.representative_point()
            ax.text(
                p.x,
                p.y,
                str(int(r["rank"])),
                ha="center",
                va="center",
                fontsize=7,
                fontweight="bold",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
                zorder=4.5,  # above the gap circles, below services and new sites
            )
        handles.append(Patch(facecolor="none", edgecolor="black", linewidth=1.6))
        labels.append(label("priority", lang))
    gaps = gap_values(data)
    if not gaps.empty:
        first = sorted(gaps["service_set"].astype(str).unique())[0]
        g = gaps[gaps["service_set"].astype(str) == first].set_index("cd_sector")["gap"]
        pts = sectors.set_index("cd_sector").representative_point()
        vals = g.reindex(pts.index).fillna(0.0).to_numpy()
        keep = vals >= 0.05
        gmax = scales.gap_max or 1.0
        ax.scatter(
            pts.x[keep],
            pts.y[keep],
            s=_GAP_MAX_AREA * vals[keep] / gmax,
            color=GAP_COLOUR,
            alpha=0.45,
            edgecolor=GAP_COLOUR,
            linewidth=0.5,
            zorder=4,
        )
        thr = data.threshold_min
        for v in (gmax, gmax / 4):
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="o",
                    linestyle="",
                    markersize=math.sqrt(_GAP_MAX_AREA * v / gmax),
                    markerfacecolor=GAP_COLOUR,
                    alpha=0.45,
                    markeredgecolor=GAP_COLOUR,
                )
            )
            labels.append(f"{fmt_num(v, lang, 0)} {label('gap_unit', lang)} {thr} {label('minutes', lang)}")
    ax.set_title(title, fontsize=14, loc="left")
    ax.set_axis_off()
    ax.set_aspect("equal")
    return fig, ax, handles, labels


def _services(ax: plt.Axes, data: MapData, handles: list, labels: list, lang: str) -> None:
    sv = data.services
    if sv is None or sv.empty:
        return
    pts = sv.to_crs(settings.CRS)
    for i, layer in enumerate(sorted(pts["layer"].astype(str).unique())):
        if layer == "candidates":
            continue  # hundreds of venues would hide the map; the interactive map has them
        part = pts[pts["layer"].astype(str) == layer]
        m = _MARKERS[i % len(_MARKERS)]
        ax.scatter(
            part.geometry.x,
            part.geometry.y,
            marker=m,
            s=36,
            color="#377eb8",
            edgecolor="black",
            linewidth=0.6,
            zorder=5,
        )
        handles.append(Line2D([], [], marker=m, linestyle="", markerfacecolor="#377eb8", markeredgecolor="black"))
        labels.append(f"{label('services', lang)} — {data.labels.get(layer, layer)}")


def _finish(fig: Figure, ax: plt.Axes, handles: list, labels: list, lang: str, notes: tuple[str, ...]) -> Figure:
    fig.legend(
        handles,
        labels,
        loc="outside right upper",
        fontsize=8,
        title=label("legend", lang),
        title_fontsize=9,
        frameon=True,
        framealpha=0.92,
    )
    _scale_bar(ax, lang)
    _north_arrow(ax, lang)
    src = f"{label('sources', lang)}: " + "; ".join(settings.ATTRIBUTION) + ". " + label("estimate_note", lang)
    lines = [textwrap.fill(src, _FOOTER_CHARS)]
    lines += [textwrap.fill(f"• {n}", _FOOTER_CHARS, subsequent_indent="  ") for n in notes]  # one note a line
    # supxlabel, not fig.text: constrained layout reserves room for it, so the map (and its scale
    # bar) never runs under the source lines
    fig.supxlabel("\n".join(lines), x=0.01, ha="left", fontsize=7, color="#333333", linespacing=1.3)
    return fig


def gap_figure(data: MapData, *, lang: str = DEFAULT_LANG, scales: MapScales | None = None) -> Figure:
    """Draw the coverage gap: walking time per sector, children beyond the threshold, services.

    Parameters
    ----------
    data
        The same inputs as :func:`geoplanner.outputs.maps.build_gap_map`.
    lang
        ``nl`` (default), ``fr`` or ``en``.
    scales
        Shared class breaks (pass the same to maps that will be compared).

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_lang(lang)
    scales = scales or map_scales(data)
    fig, ax, handles, labels = _base(data, scales, lang, data.title or label("gap_title", lang))
    _services(ax, data, handles, labels, lang)
    return _finish(fig, ax, handles, labels, lang, data.notes)


def scenario_figure(data: MapData, *, lang: str = DEFAULT_LANG, scales: MapScales | None = None) -> Figure:
    """Draw a scenario: the remaining gap and the new sites numbered in the order chosen.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_lang(lang)
    scales = scales or map_scales(data)
    fig, ax, handles, labels = _base(data, scales, lang, data.title or label("scenario_title", lang))
    _services(ax, data, handles, labels, lang)
    if data.sites is not None and not data.sites.empty:
        sites = data.sites.to_crs(settings.CRS).sort_values("order")
        ax.scatter(
            sites.geometry.x, sites.geometry.y, s=170, color=SITE_COLOUR, edgecolor="white", linewidth=1, zorder=6
        )
        for _, r in sites.iterrows():
            ax.text(
                r.geometry.x,
                r.geometry.y,
                str(int(r["order"])),
                ha="center",
                va="center",
                color="white",
                fontsize=7,
                fontweight="bold",
                zorder=7,
            )
        handles.append(
            Line2D(
                [], [], marker="o", linestyle="", markersize=11, markerfacecolor=SITE_COLOUR, markeredgecolor="white"
            )
        )
        labels.append(f"{label('new_sites', lang)} ({len(sites)})")
    return _finish(fig, ax, handles, labels, lang, data.notes)


def png_bytes(fig: Figure, *, dpi: int = 200) -> bytes:
    """Render a figure to PNG bytes (for embedding in a report)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()
