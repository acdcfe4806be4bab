"""The HTML the interactive maps put into their pages: escaping, popups, SVG markers, legend rows, CSS.

Every string that comes from data is HTML-escaped (:func:`esc`) before it reaches the page, including
``$`` and backticks, because folium places popups inside JavaScript template literals.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import pandas as pd

from geoplanner.core.i18n import fmt_num
from geoplanner.inputs.lgn import LGN
from geoplanner.outputs.maps.style import GAP_COLOUR

__all__ = [
    "esc",
    "round_coord",
    "popup_table",
    "sector_names",
    "sector_name",
    "PAGE_CSS",
    "EXCLUDED_MARKER",
    "svg_marker",
    "circle_svg",
    "legend_classes",
    "lgn_label",
]

#: Muted, hollow grey marker of service rows that are not current supply (historical, unverified, …).
EXCLUDED_MARKER = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="12" height="12" opacity="0.7">'
    '<circle cx="6" cy="6" r="4.5" fill="#f0f0f0" stroke="#888" stroke-width="1.5" stroke-dasharray="2 1.5"/>'
    '<line x1="2.8" y1="2.8" x2="9.2" y2="9.2" stroke="#888" stroke-width="1.2"/></svg>'
)


def esc(value: Any) -> str:
    """HTML-escape ``value`` for a page where folium puts it inside a JS template literal.

    Besides ``& < > " '``, ``$`` and backtick are encoded so ``${...}`` cannot run.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True).replace("$", "&#36;").replace("`", "&#96;")


def sector_names(sectors: pd.DataFrame, lang: str) -> dict[str, str]:
    """Return the display name of every sector, by code."""
    cols = [c for c in ("cd_sector", "sector_name_nl", "sector_name_fr") if c in sectors.columns]
    return {r["cd_sector"]: sector_name(r, lang) for r in pd.DataFrame(sectors[cols]).to_dict("records")}


def sector_name(row: pd.Series | dict[str, Any], lang: str) -> str:
    """Return a sector's name in ``lang`` (Dutch when there is none in French, else its code)."""
    key = "sector_name_fr" if lang == "fr" else "sector_name_nl"
    return str(row.get(key) or row.get("sector_name_nl") or row["cd_sector"])


def lgn_label(n: Any) -> str:
    """Return ``"LGN n — name"`` (the name of the network, as the workbook and the report write it); "" for none."""
    if n is None or (isinstance(n, float) and math.isnan(n)) or n is pd.NA:
        return ""
    n = int(n)
    return f"LGN {n} — {LGN[n][0]}" if n in LGN else f"LGN {n}"


def round_coord(value: float) -> float:
    """Round a coordinate to ~1 m."""
    return round(float(value), 5)


def popup_table(rows: list[tuple[str, str]]) -> str:
    """Two-column HTML table; both cells must already be escaped."""
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="gp-pop">{body}</table>'


#: The maps' own styles (legend, title, popups, rank labels), put once into each page's header.
PAGE_CSS = """
<style>
.gp-legend, .gp-title { background: rgba(255,255,255,.92); padding: 6px 8px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); font: 12px/1.35 system-ui, sans-serif; color: #222; }
.gp-legend { max-height: 48vh; overflow-y: auto; overflow-x: hidden; max-width: 300px; }
.leaflet-control-layers { font: 12px/1.3 system-ui, sans-serif; }
.leaflet-control-attribution { max-width: calc(100% - 110px); font-size: 10px; }  /* leave the scale bar free */
.gp-icon { background: none; border: none; }
.gp-legend h4 { margin: 6px 0 2px; font-size: 12px; }
.gp-legend .sw { display: inline-block; width: 14px; height: 10px; margin-right: 5px;
  border: 1px solid #777; vertical-align: middle; }
.gp-legend .note { color: #555; font-style: italic; }
.gp-title { font-size: 14px; font-weight: 600; }
.gp-title small { display: block; font-weight: 400; font-size: 11px; color: #555; }
table.gp-pop { border-collapse: collapse; font: 12px system-ui, sans-serif; }
table.gp-pop th { text-align: left; padding: 1px 6px 1px 0; vertical-align: top; }
.gp-rank { font: 700 11px system-ui, sans-serif; color: #000; text-shadow: 0 0 3px #fff, 0 0 3px #fff; }
.gp-lgn-no { font: 700 12px system-ui, sans-serif; color: #08306b; text-align: center; white-space: nowrap;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff; }
.gp-lgn-select { background: rgba(255,255,255,.92); padding: 4px 6px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); font: 12px/1.3 system-ui, sans-serif; }
.gp-lgn-select select { max-width: 260px; font: 12px system-ui, sans-serif; }
details.gp-src { margin-top: 4px; color: #555; font-size: 11px; max-width: 330px; overflow-wrap: anywhere; }
details.gp-src summary { cursor: pointer; }
</style>
"""


def svg_marker(shape: str, colour: str, size: int = 14, text: str = "") -> str:
    """Inline SVG marker (no icon fonts, so it works offline)."""
    h = size
    c = h / 2
    common = f'fill="{colour}" stroke="#222" stroke-width="1.2"'
    if shape == "square":
        body = f'<rect x="1.5" y="1.5" width="{h - 3}" height="{h - 3}" {common}/>'
    elif shape == "diamond":
        body = f'<polygon points="{c},1 {h - 1},{c} {c},{h - 1} 1,{c}" {common}/>'
    elif shape == "triangle":
        body = f'<polygon points="{c},1 {h - 1},{h - 1} 1,{h - 1}" {common}/>'
    elif shape == "hexagon":
        pts = " ".join(
            f"{c + (c - 1) * math.cos(math.pi / 3 * k):.1f},{c + (c - 1) * math.sin(math.pi / 3 * k):.1f}"
            for k in range(6)
        )
        body = f'<polygon points="{pts}" {common}/>'
    else:
        body = f'<circle cx="{c}" cy="{c}" r="{c - 1.5}" {common}/>'
    if text:
        body += (
            f'<text x="{c}" y="{c + 4}" text-anchor="middle" font-size="{int(h * 0.55)}" '
            f'font-family="sans-serif" font-weight="700" fill="#fff">{esc(text)}</text>'
        )
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{h}" height="{h}">{body}</svg>'


def circle_svg(r: float) -> str:
    """Return a legend circle of radius ``r`` pixels, drawn like the gap markers."""
    return (
        f'<svg width="{2 * r + 2:.0f}" height="{2 * r + 2:.0f}"><circle cx="{r + 1:.1f}" cy="{r + 1:.1f}" '
        f'r="{r:.1f}" fill="{GAP_COLOUR}" fill-opacity=".45" stroke="{GAP_COLOUR}"/></svg>'
    )


def legend_classes(breaks: tuple[float, ...], colours: tuple[str, ...], counts: np.ndarray, lang: str) -> str:
    """Return the legend rows of classed fills: each class's bounds, colour and number of areas."""
    rows = []
    decimals = 0 if all(float(b).is_integer() for b in breaks) else 2 if abs(breaks[-1]) < 5 else 1
    for i in range(len(breaks) - 1):
        lo, hi = fmt_num(breaks[i], lang, decimals), fmt_num(breaks[i + 1], lang, decimals)
        rows.append(
            f'<div class="cls" data-lo="{breaks[i]}" data-hi="{breaks[i + 1]}" data-count="{int(counts[i])}">'
            f'<span class="sw" style="background:{colours[i]}"></span>{esc(lo)} – {esc(hi)}'
            f' <span class="note">({int(counts[i])})</span></div>'
        )
    return "".join(rows)
