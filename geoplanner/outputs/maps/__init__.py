"""Interactive maps (folium/Leaflet) of the coverage gap and of siting scenarios.

Plain functions over plain inputs: a :class:`MapData` holds GeoDataFrames in EPSG:31370 and
DataFrames; :func:`build_gap_map`, :func:`build_scenario_map` and :func:`build_dual_map`
return folium objects; :func:`save_map` writes them, online (scripts from the CDN) or
self-contained (scripts inlined, see :mod:`geoplanner.outputs.maps.assets`).

Every string that comes from data is HTML-escaped before it reaches the page, including
``$`` and backticks, because folium places popups inside JavaScript template literals.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
from collections import OrderedDict
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.plugins import DualMap
from folium.template import Template
from folium.utilities import JsCode

from geoplanner.core import settings
from geoplanner.core.errors import DataError
from geoplanner.core.i18n import DEFAULT_LANG, check_lang, fmt_num, label
from geoplanner.outputs.files import write_text
from geoplanner.outputs.maps import assets
from geoplanner.outputs.maps.data import (  # re-exported: the inputs of a map live apart from folium
    MapData,
    MapScales,
    _gap_values,
    _quantile_breaks,  # noqa: F401 - re-exported
    covered_column,
    map_scales,
)

__all__ = [
    "MapData",
    "MapScales",
    "map_scales",
    "covered_column",
    "esc",
    "build_gap_map",
    "build_scenario_map",
    "build_dual_map",
    "render_html",
    "save_map",
    "layer_names",
    "MINUTE_BREAKS",
    "THRESHOLD_COLOURS",
]

#: Walking-time classes (minutes) shared by every map and the report.
MINUTE_BREAKS = (0, 5, 10, 15, 20, 30)
_MINUTE_COLOURS = ("#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027")
#: Isochrone fill per threshold (minutes); others fall back to grey.
THRESHOLD_COLOURS = {5: "#08519c", 10: "#3182bd", 15: "#6baed6", 20: "#bdd7e7"}
_BIRTH_COLOURS = ("#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704")
_DEPRIVATION_COLOURS = ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f")
_TYPE_COLOURS = (
    "#e41a1c",
    "#377eb8",
    "#4daf4a",
    "#984ea3",
    "#ff7f00",
    "#a65628",
    "#f781bf",
    "#999999",
    "#66c2a5",
    "#e6ab02",
    "#1b9e77",
    "#7570b3",
)
_SHAPES = ("square", "diamond", "triangle", "circle", "hexagon")
_GAP_COLOUR = "#b2182b"
_SITE_COLOUR = "#6a3d9a"
_UNSERVED_CAPACITY_COLOUR = "#e08214"
# Muted, hollow grey marker of service rows that are not current supply (historical, unverified, …).
_EXCLUDED_MARKER = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="12" height="12" opacity="0.7">'
    '<circle cx="6" cy="6" r="4.5" fill="#f0f0f0" stroke="#888" stroke-width="1.5" stroke-dasharray="2 1.5"/>'
    '<line x1="2.8" y1="2.8" x2="9.2" y2="9.2" stroke="#888" stroke-width="1.2"/></svg>'
)
_GAP_MAX_RADIUS = 18.0  # pixels for the sector with the largest gap


def esc(value: Any) -> str:
    """HTML-escape ``value`` for a page where folium puts it inside a JS template literal.

    Besides ``& < > " '``, ``$`` and backtick are encoded so ``${...}`` cannot run.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True).replace("$", "&#36;").replace("`", "&#96;")


def _classify(values: np.ndarray, breaks: tuple[float, ...]) -> np.ndarray:
    """Return the class index of each value (-1 for missing); the top break closes the last class."""
    idx = np.searchsorted(np.asarray(breaks[1:-1]), values, side="right")
    return np.where(np.isfinite(values), idx, -1)


def _to_wgs84(gdf: gpd.GeoDataFrame, tolerance: float = 0.0) -> gpd.GeoDataFrame:
    """Reproject to WGS84 with ~1 m coordinate precision (keeps pages small)."""
    if gdf.crs is None:
        raise DataError("a map layer has no CRS", hint=f"layers must be in {settings.CRS}")
    out = gdf.to_crs(settings.CRS)
    if tolerance:
        out = out.set_geometry(out.geometry.simplify(tolerance, preserve_topology=True))
    out = out.to_crs(settings.WGS84)
    return out.set_geometry(shapely.set_precision(out.geometry.values, 1e-5))


def _sector_names(sectors: pd.DataFrame, lang: str) -> dict[str, str]:
    """Return the display name of every sector, by code."""
    cols = [c for c in ("cd_sector", "sector_name_nl", "sector_name_fr") if c in sectors.columns]
    return {r["cd_sector"]: _sector_name(r, lang) for r in pd.DataFrame(sectors[cols]).to_dict("records")}


def _sector_name(row: pd.Series | dict[str, Any], lang: str) -> str:
    key = "sector_name_fr" if lang == "fr" else "sector_name_nl"
    return str(row.get(key) or row.get("sector_name_nl") or row["cd_sector"])


def _r(value: float) -> float:
    """Round a coordinate to ~1 m."""
    return round(float(value), 5)


def _table(rows: list[tuple[str, str]]) -> str:
    """Two-column HTML table; both cells must already be escaped."""
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="gp-pop">{body}</table>'


#: Simplification (metres, EPSG:31370) of the polygons drawn: about 3 screen pixels at zoom 16, the
#: closest view of a whole neighbourhood; the coordinates are then rounded to 1e-5 degree (about 1 m).
MAP_TOLERANCE_M = 5.0
_COORD_GRID_DEG = 1e-5

# GeoJSON geometries already converted in this process, keyed by the content of the input geometries:
# the sector polygons are drawn in three layers of every map, and by every map of a run.
_GEOJSON_MEMO: OrderedDict[tuple, tuple[str, str]] = OrderedDict()
_GEOJSON_MEMO_SIZE = 64
_DISSOLVED: dict[tuple, gpd.GeoDataFrame] = {}


def _digest(geoms: np.ndarray) -> bytes:
    return hashlib.sha256(b"".join(shapely.to_wkb(geoms))).digest()


def _geojson_geometries(gdf: gpd.GeoDataFrame, tolerance: float, coverage: bool) -> tuple[str, str]:
    """Return a key and the compact JSON array of ``gdf``'s geometries (WGS84), simplified to the map's scale.

    ``coverage``: the polygons tile the plane (sectors, wijken, communes), so shared borders are
    simplified once, together, and neighbours keep meeting without gaps or overlaps (GEOS coverage
    simplification); other polygons (isochrones) are simplified one by one, keeping their topology.
    """
    if gdf.crs is None:
        raise DataError("a map layer has no CRS", hint=f"layers must be in {settings.CRS}")
    geoms = np.asarray(gdf.geometry.to_crs(settings.CRS).values, dtype=object)
    key = (_digest(geoms), float(tolerance), coverage)
    hit = _GEOJSON_MEMO.get(key)
    if hit is not None:
        _GEOJSON_MEMO.move_to_end(key)
        return hit
    if tolerance and len(geoms):
        polygonal = bool(np.isin(shapely.get_type_id(geoms), (3, 6)).all())
        if coverage and polygonal:
            geoms = shapely.coverage_simplify(geoms, tolerance)
        else:
            geoms = shapely.simplify(geoms, tolerance, preserve_topology=True)
    wgs = gpd.GeoSeries(geoms, crs=settings.CRS).to_crs(settings.WGS84).values
    wgs = shapely.set_precision(np.asarray(wgs, dtype=object), _COORD_GRID_DEG)
    # GEOS writes the JSON (with the shortest exact decimals), far faster than __geo_interface__
    text = "[" + ",".join(shapely.to_geojson(wgs)) + "]"
    out = ("gp_geom_" + hashlib.sha256(text.encode()).hexdigest()[:16], text)
    _GEOJSON_MEMO[key] = out
    while len(_GEOJSON_MEMO) > _GEOJSON_MEMO_SIZE:
        _GEOJSON_MEMO.popitem(last=False)
    return out


class _Raw(Element):
    """Text put into the page as it is (no template: the text is data, not Jinja)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class _Shared(MacroElement):
    """Data written into the page once, read by every layer that draws it.

    The three sector layers of a map (births, deprivation, walking time), and both halves of a
    side-by-side map, draw the same polygons, and two of them show the same tooltips: each layer's
    features carry only their fill and stubs that the layer's ``filter`` replaces by the shared
    geometry and tooltip, so the page holds them once. The data sits in a function declaration, which
    JavaScript hoists: layers written before it can call it, and the same name written twice is one
    entry of the page's script.
    """

    def __init__(self, key: str, text: str) -> None:
        super().__init__()
        self.key, self.text = key, text

    def render(self, **kwargs: Any) -> None:
        js = f"function {self.key}() {{ return {self.key}.v || ({self.key}.v = {self.text}); }}\n"
        self.get_root().script.add_child(_Raw(js), name=self.key)


def _shared_strings(values: list[str]) -> tuple[str, str]:
    """Return a key and a JSON array of ``values`` safe inside a script element."""
    # The strings are HTML we built around escaped data; inside <script> only "</" and "<!" could end
    # or disturb the element, so only those are escaped (cheaper than escaping every "<").
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("</", "<\\/").replace("<!", "\\u003c!")
    return "gp_text_" + hashlib.sha256(text.encode()).hexdigest()[:16], text


_STUB = {"type": "gp_shared"}  # truthy, so Leaflet passes the feature to the layer's filter


def _feature_collection(
    gdf: gpd.GeoDataFrame, columns: list[str], tolerance: float, coverage: bool
) -> tuple[dict[str, Any], list[_Shared], JsCode]:
    """Return the features (only ``columns`` as properties), their shared data and the layer filter."""
    key, text = _geojson_geometries(gdf, tolerance, coverage)
    shared = [_Shared(key, text)]
    fill = f"f.geometry = {key}()[i];"
    props = gdf[[c for c in columns if c != "tip"]].to_dict("records") if columns else [{}] * len(gdf)
    if "tip" in columns:
        tkey, ttext = _shared_strings(gdf["tip"].astype(str).tolist())
        shared.append(_Shared(tkey, ttext))
        fill += f" f.properties.tip = {tkey}()[i];"
        for p in props:
            p["tip"] = 0  # filled in the page; folium wants the field present
    features = [{"type": "Feature", "id": str(i), "properties": p, "geometry": _STUB} for i, p in enumerate(props)]
    js = JsCode(
        f"function (f) {{ if (f.geometry && f.geometry.type === {json.dumps(_STUB['type'])}) "
        f"{{ var i = +f.id; {fill} }} return true; }}"
    )
    return {"type": "FeatureCollection", "features": features}, shared, js


def _geojson(data: gpd.GeoDataFrame, columns: list[str], tolerance: float, coverage: bool, **kwargs: Any):
    """Build a folium GeoJson whose coordinates are shared with the other layers of the page."""
    fc, shared, fill = _feature_collection(data, columns, tolerance, coverage)
    layer = folium.GeoJson(fc, filter=fill, **kwargs)
    for part in shared:
        layer.add_child(part)
    return layer


def _geojson_layer(
    gdf: gpd.GeoDataFrame,
    name: str,
    style: dict[str, Any],
    *,
    show: bool,
    tolerance: float = MAP_TOLERANCE_M,
    coverage: bool = True,
) -> folium.GeoJson:
    """Build a GeoJson layer whose per-feature ``fill`` and ``tip`` (escaped HTML) come from columns."""
    cols = [c for c in ("fill", "tip") if c in gdf.columns]

    def style_fn(feature: dict[str, Any]) -> dict[str, Any]:
        s = dict(style)
        if "fill" in feature["properties"]:
            s["fillColor"] = feature["properties"]["fill"]
        return s

    tooltip = folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True) if "tip" in cols else None
    kwargs = {"name": esc(name), "style_function": style_fn, "tooltip": tooltip, "show": show, "control": True}
    return _geojson(gdf, cols, tolerance, coverage, **kwargs)


def _communes(sectors: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Commune polygons dissolved from the sectors (kept per content: every map of a run draws them)."""
    key = ("communes", _digest(np.asarray(sectors.geometry.values, dtype=object)))
    key += (tuple(sectors["commune_nis"].astype(str)),)
    hit = _DISSOLVED.get(key)
    if hit is None:
        hit = sectors.dissolve(by="commune_nis", as_index=False)[["commune_nis", "geometry"]]
        _DISSOLVED.clear()  # one region per run: keep the last
        _DISSOLVED[key] = hit
    return hit


class _Html(MacroElement):
    """A Leaflet control holding fixed, already-escaped HTML (legend, title)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var ctl = L.control({position: {{ this.position|tojson }}});
            ctl.onAdd = function() {
                var div = L.DomUtil.create('div', {{ this.css_class|tojson }});
                div.innerHTML = {{ this.content|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            ctl.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, content: str, position: str, css_class: str) -> None:
        super().__init__()
        self.content = content
        self.position = position
        self.css_class = css_class


class _PointBatch(MacroElement):
    """Many point markers added to their parent layer by one loop in the page.

    One folium ``Marker`` + ``Popup`` per point costs a template compilation each; the
    batch keeps pages small and fast. Items are ``[lat, lon, tooltip, popup, extra]`` where
    ``extra`` is the SVG of a ``divIcon`` (``kind="icon"``) or a radius in pixels
    (``kind="circle"``). Tooltip and popup HTML must already be escaped; the list reaches the
    page through ``tojson``, which also escapes ``<`` so no data can close the script.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var layer = {{ this._parent.get_name() }};
            var style = {{ this.style|tojson }};
            {{ this.items|tojson }}.forEach(function(it) {
                var mk;
                if ({{ (this.kind == "icon")|tojson }}) {
                    mk = L.marker([it[0], it[1]], {icon: L.divIcon({html: it[4], className: "gp-icon",
                        iconSize: [style.size, style.size], iconAnchor: [style.size / 2, style.size / 2]}),
                        interactive: style.interactive, zIndexOffset: style.z || 0});
                } else {
                    mk = L.circleMarker([it[0], it[1]], Object.assign({radius: it[4]}, style));
                }
                if (it[2]) { mk.bindTooltip(it[2], {sticky: true}); }
                if (it[3]) { mk.bindPopup(it[3], {maxWidth: 360}); }
                mk.addTo(layer);
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, items: list[list[Any]], kind: str, style: dict[str, Any]) -> None:
        super().__init__()
        self.items = items
        self.kind = kind
        self.style = style


class _Attribution(MacroElement):
    """Adds the data sources to Leaflet's attribution box (shown even without tiles)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


_CSS = """
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
</style>
"""


def _svg_marker(shape: str, colour: str, size: int = 14, text: str = "") -> str:
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


def _circle_svg(r: float) -> str:
    """Return a legend circle of radius ``r`` pixels, drawn like the gap markers."""
    return (
        f'<svg width="{2 * r + 2:.0f}" height="{2 * r + 2:.0f}"><circle cx="{r + 1:.1f}" cy="{r + 1:.1f}" '
        f'r="{r:.1f}" fill="{_GAP_COLOUR}" fill-opacity=".45" stroke="{_GAP_COLOUR}"/></svg>'
    )


def _legend_classes(breaks: tuple[float, ...], colours: tuple[str, ...], counts: np.ndarray, lang: str) -> str:
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


def _palette(n: int, colours: tuple[str, ...]) -> tuple[str, ...]:
    """Pick ``n`` colours spread over a sequential palette."""
    if n >= len(colours):
        return colours
    idx = np.round(np.linspace(0, len(colours) - 1, n)).astype(int)
    return tuple(colours[i] for i in idx)


def _coverage_geo(data: MapData) -> gpd.GeoDataFrame:
    cov = data.coverage
    assert cov is not None
    base = data.sectors[["cd_sector", "geometry"]]
    cols = [c for c in cov.columns if c != "geometry"]
    merged = base.merge(pd.DataFrame(cov[cols]), on="cd_sector", how="inner")
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=data.sectors.crs)


class _MapBuilder:
    """Adds the layers of one :class:`MapData` to one folium map and collects its legend."""

    def __init__(self, m: folium.Map, data: MapData, scales: MapScales, lang: str) -> None:
        self.m, self.data, self.scales, self.lang = m, data, scales, lang
        self.legend: list[str] = []
        self.names: list[str] = []

    def t(self, key: str) -> str:
        return label(key, self.lang)

    def set_label(self, code: Any) -> str:
        return self.data.labels.get(str(code), str(code))

    def add(self, layer: Any, name: str) -> None:
        layer.add_to(self.m)
        self.names.append(name)

    # -- layers -------------------------------------------------------------------------
    def outlines(self) -> None:
        communes = _communes(self.data.sectors)
        fg = folium.FeatureGroup(name=esc(self.t("outlines")), show=True)
        _geojson(
            communes,
            [],
            MAP_TOLERANCE_M,
            True,
            style_function=lambda f: {"color": "#444", "weight": 1.6, "fill": False},
            interactive=False,
        ).add_to(fg)
        if self.data.wijken is not None:
            _geojson(
                self.data.wijken,
                [],
                MAP_TOLERANCE_M,
                True,
                style_function=lambda f: {"color": "#888", "weight": 0.6, "fill": False, "dashArray": "3"},
                interactive=False,
            ).add_to(fg)
        self.add(fg, self.t("outlines"))

    def need(self) -> None:
        s = self.data.sectors.copy()
        lang = self.lang
        births = s["births"].to_numpy(dtype=float)
        br = self.scales.births
        colours = _palette(len(br) - 1, _BIRTH_COLOURS)
        cls = _classify(births, br)
        s["fill"] = [colours[c] if c >= 0 else "#ffffff" for c in cls]
        status_col = "births_status" if "births_status" in s.columns else None
        known = ("observed", "derived", "estimated", "mixed")
        tips = []
        for row in pd.DataFrame(s.drop(columns="geometry")).to_dict("records"):  # dicts: far faster than iterrows
            status = self.t(row[status_col]) if status_col and row[status_col] in known else ""
            rows = [
                (esc(self.t("sector")), esc(_sector_name(row, lang))),
                (esc(self.t("births")), esc(f"{fmt_num(row['births'], lang, 1)} ({status})")),
                (esc(self.t("pop_0_2")), esc(fmt_num(row.get("pop_0_2"), lang, 1))),
            ]
            if "deprivation" in s.columns:
                rows.append((esc(self.t("deprivation")), esc(fmt_num(row["deprivation"], lang, 2))))
            tips.append(_table(rows))
        s["tip"] = tips
        present = [k for k in known if status_col and (s[status_col] == k).any()] or ["estimated"]
        name = f"{self.t('births')} ({', '.join(self.t(k) for k in present)})"
        style = {"color": "#999", "weight": 0.3, "fillOpacity": 0.7}
        self.add(_geojson_layer(s, name, style, show=True), name)
        counts = np.bincount(cls[cls >= 0], minlength=len(br) - 1)
        self.legend.append(
            f'<div class="sec" data-layer="births"><h4>{esc(name)}</h4>'
            f"{_legend_classes(br, colours, counts, lang)}"
            f'<div class="note">{esc(self.t("births_unit"))}</div></div>'
        )
        if self.scales.deprivation is not None:
            dr = self.scales.deprivation
            dcol = _palette(len(dr) - 1, _DEPRIVATION_COLOURS)
            dcls = _classify(s["deprivation"].to_numpy(dtype=float), dr)
            s["fill"] = [dcol[c] if c >= 0 else "#ffffff" for c in dcls]
            dname = self.t("deprivation")
            self.add(_geojson_layer(s, dname, style, show=False), dname)
            dcounts = np.bincount(dcls[dcls >= 0], minlength=len(dr) - 1)
            self.legend.append(
                f'<div class="sec" data-layer="deprivation"><h4>{esc(dname)}</h4>'
                f"{_legend_classes(dr, dcol, dcounts, lang)}</div>"
            )

    def priority(self) -> None:
        w = self.data.wijken
        if w is None or "priority" not in w.columns:
            return
        w = w[w["priority"].astype(bool)].sort_values("rank").copy()
        name_col = "name_fr" if self.lang == "fr" else "name_nl"
        w["tip"] = [
            _table(
                [
                    (esc(self.t("rank")), esc(int(r["rank"]))),
                    (esc(self.t("wijk")), esc(r[name_col])),
                    (esc(self.t("score")), esc(fmt_num(r.get("score"), self.lang, 2))),
                    *self._stability_rows(r),
                ]
            )
            for _, r in w.iterrows()
        ]
        name = self.t("priority")
        fg = folium.FeatureGroup(name=esc(name), show=True)
        outline = {"color": "#000", "weight": 2.5, "fill": True, "fillOpacity": 0.0}
        _geojson_layer(w, name, outline, show=True).add_to(fg)
        pts = _to_wgs84(gpd.GeoDataFrame(w[["rank"]], geometry=w.representative_point(), crs=w.crs))
        items = [
            [_r(r.geometry.y), _r(r.geometry.x), "", "", f'<div class="gp-rank">{int(r["rank"])}</div>']
            for _, r in pts.iterrows()
        ]
        _PointBatch(items, "icon", {"size": 16, "interactive": False}).add_to(fg)
        self.add(fg, name)
        self.legend.append(
            f'<div class="sec" data-layer="priority" data-count="{len(w)}"><h4>{esc(name)}</h4>'
            f'<span class="sw" style="border:2.5px solid #000;background:none"></span>{len(w)}</div>'
        )

    def _stability_rows(self, r: pd.Series) -> list[tuple[str, str]]:
        """Popup rows on how sure the wijk's place in the selection is (empty without a stability run)."""
        p = r.get("p_top")
        if p is None or not np.isfinite(float(p)):
            return []
        rows = [
            (esc(self.t("p_top")), esc(f"{fmt_num(100 * float(p), self.lang, 1)} %")),
            (esc(self.t("stability")), esc(self.t(f"stability_{r['stability']}"))),
        ]
        if np.isfinite(float(r.get("rank_p05", np.nan))):
            rows.append((esc(self.t("rank_range")), esc(f"{int(r['rank_p05'])}–{int(r['rank_p95'])}")))
        return rows

    def walking_time(self) -> None:
        if self.data.coverage is None or "mean_min" not in self.data.coverage.columns:
            return
        cov = _coverage_geo(self.data)
        breaks = (*MINUTE_BREAKS, math.inf)
        for set_name, part in cov.groupby("service_set", sort=True):
            part = part.copy()
            minutes = part["mean_min"].to_numpy(dtype=float)
            cls = _classify(minutes, breaks)
            part["fill"] = [_MINUTE_COLOURS[c] if c >= 0 else "#bbbbbb" for c in cls]
            part["tip"] = [
                _table(
                    [
                        (esc(self.t("sector")), esc(r["cd_sector"])),
                        (esc(self.t("mean_min")), esc(f"{fmt_num(r['mean_min'], self.lang, 1)} {self.t('minutes')}")),
                    ]
                )
                for r in pd.DataFrame(part.drop(columns="geometry")).to_dict("records")
            ]
            name = f"{self.t('walk_time')} — {self.set_label(set_name)}"
            style = {"color": "#999", "weight": 0.3, "fillOpacity": 0.7}
            self.add(_geojson_layer(part, name, style, show=False), name)
        rows = "".join(
            f'<div class="cls"><span class="sw" style="background:{c}"></span>'
            f"{lo}{'–' + str(hi) if math.isfinite(hi) else '+'} {esc(self.t('minutes'))}</div>"
            for lo, hi, c in zip(breaks[:-1], breaks[1:], _MINUTE_COLOURS, strict=True)
        )
        self.legend.append(f'<div class="sec" data-layer="walk_time"><h4>{esc(self.t("walk_time"))}</h4>{rows}</div>')

    def isochrones(self) -> None:
        iso = self.data.isochrones
        if iso is None or iso.empty:
            return
        iso = iso[iso["service_id"].astype(str) == "*"] if (iso["service_id"].astype(str) == "*").any() else iso
        seen = []
        for (set_name, thr), part in iso.groupby(["service_set", "threshold_min"], sort=True):
            colour = THRESHOLD_COLOURS.get(int(thr), "#999999")
            part = part.dissolve()[["geometry"]]
            name = f"{self.t('isochrone')} {int(thr)} {self.t('minutes')} — {self.set_label(set_name)}"
            style = {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.25}
            self.add(_geojson_layer(part, name, style, show=False, coverage=False), name)
            seen.append(int(thr))
        rows = "".join(
            f'<div class="cls"><span class="sw" style="background:{THRESHOLD_COLOURS.get(t, "#999999")};opacity:.6">'
            f"</span>{t} {esc(self.t('minutes'))}</div>"
            for t in sorted(set(seen))
        )
        self.legend.append(f'<div class="sec" data-layer="isochrones"><h4>{esc(self.t("isochrone"))}</h4>{rows}</div>')

    def services(self) -> None:
        sv = self.data.services
        if sv is None or sv.empty:
            return
        pts = _to_wgs84(sv)
        types = sorted(pts["type"].fillna("").astype(str).unique())
        type_colour = {t: _TYPE_COLOURS[i % len(_TYPE_COLOURS)] for i, t in enumerate(types)}
        layers = sorted(pts["layer"].astype(str).unique())
        layer_shape = {name: _SHAPES[i % len(_SHAPES)] for i, name in enumerate(layers)}
        for layer_name in layers:
            part = pts[pts["layer"].astype(str) == layer_name].sort_values("id")
            name = f"{self.t('services')} — {self.set_label(layer_name)}"
            fg = folium.FeatureGroup(name=esc(name), show=layer_name != "candidates")
            items = []
            for _, r in part.iterrows():
                address = " ".join(
                    str(r[c]).removesuffix(".0")
                    for c in ("street", "number", "postcode", "commune")
                    if c in r and pd.notna(r[c]) and str(r[c]).strip()
                )
                approx = bool(r.get("approximate", False))
                fields = [
                    (esc(self.t("name")), esc(r["name"])),
                    (esc(self.t("address")), esc(address)),
                    (esc(self.t("type")), esc(r["type"])),
                    (esc(self.t("source")), esc(r.get("source"))),
                    (esc(self.t("approximate")), esc(self.t("yes") if approx else self.t("no"))),
                ]
                radius = pd.to_numeric(r.get("uncertainty_m"), errors="coerce")
                if pd.notna(radius):  # geocoded rows: the radius that holds the true address ~9 times in 10
                    fields.append((esc(self.t("uncertainty")), esc(f"± {float(radius):.0f} m")))
                popup = _table(fields)
                colour = type_colour[str(r["type"]) if pd.notna(r["type"]) else ""]
                svg = _svg_marker(layer_shape[layer_name], colour)
                items.append([_r(r.geometry.y), _r(r.geometry.x), esc(r["name"]), popup, svg])
            _PointBatch(items, "icon", {"size": 14, "interactive": True}).add_to(fg)
            self.add(fg, name)
        shapes = "".join(
            f'<div class="cls">{_svg_marker(layer_shape[n], "#ffffff", 12)} {esc(self.set_label(n))}</div>'
            for n in layers
        )
        colours = "".join(
            f'<div class="cls" data-type="{esc(t)}"><span class="sw" style="background:{type_colour[t]}"></span>'
            f"{esc(t or self.t('no_data'))}</div>"
            for t in types
        )
        self.legend.append(
            f'<div class="sec" data-layer="services"><h4>{esc(self.t("services"))}</h4>{shapes}'
            f"<h4>{esc(self.t('type'))}</h4>{colours}</div>"
        )

    def excluded_services(self) -> None:
        """Rows of the service lists that are not current supply, muted, with their status and reason."""
        sv = self.data.excluded_services
        if sv is None or sv.empty:
            return
        pts = _to_wgs84(sv).sort_values("id")
        name = f"{self.t('services')} — {self.t('excluded_services')}"
        fg = folium.FeatureGroup(name=esc(name), show=True)
        items = []
        for _, r in pts.iterrows():
            address = " ".join(
                str(r[c]).removesuffix(".0")
                for c in ("street", "number", "postcode", "commune")
                if c in r and pd.notna(r[c]) and str(r[c]).strip()
            )
            popup = _table(
                [
                    (esc(self.t("name")), esc(r["name"])),
                    (esc(self.t("address")), esc(address)),
                    (esc(self.t("type")), esc(r.get("type"))),
                    (esc(self.t("service_status")), esc(r.get("status"))),
                    (esc(self.t("excluded_reason")), esc(r.get("excluded_reason"))),
                    (esc(self.t("source")), esc(r.get("source"))),
                ]
            )
            tip = f"{esc(r['name'])} ({esc(r.get('status') or self.t('excluded_services'))})"
            items.append([_r(r.geometry.y), _r(r.geometry.x), tip, popup, _EXCLUDED_MARKER])
        _PointBatch(items, "icon", {"size": 12, "interactive": True}).add_to(fg)
        self.add(fg, name)
        self.legend.append(
            f'<div class="sec" data-layer="excluded_services" data-count="{len(pts)}">'
            f"<h4>{esc(name)}</h4>{_EXCLUDED_MARKER} {len(pts)}</div>"
        )

    def gap(self) -> None:
        gaps = _gap_values(self.data)
        if gaps.empty:
            return
        pts = self.data.sectors[["cd_sector", "geometry"]].copy()
        pts["geometry"] = pts.representative_point()
        names = _sector_names(self.data.sectors, self.lang)
        gmax = self.scales.gap_max or 1.0
        thr = self.data.threshold_min
        for set_name, part in gaps.groupby("service_set", sort=True):
            p = gpd.GeoDataFrame(pts.merge(part, on="cd_sector"), geometry="geometry", crs=pts.crs)
            p = _to_wgs84(p[p["gap"] >= 0.05].sort_values(["gap", "cd_sector"], ascending=[False, True]))
            name = f"{self.t('gap')} (> {thr} {self.t('minutes')}) — {self.set_label(set_name)}"
            fg = folium.FeatureGroup(name=esc(name), show=True)
            items = []
            for r, x, y in zip(p[["cd_sector", "gap"]].to_dict("records"), p.geometry.x, p.geometry.y, strict=True):
                tip = (
                    f"{esc(names[r['cd_sector']])}: ≈ {esc(fmt_num(r['gap'], self.lang, 1))} "
                    f"{esc(self.t('gap_unit'))} {thr} {esc(self.t('minutes'))} ({esc(self.t('estimated'))})"
                )
                radius = round(max(2.0, _GAP_MAX_RADIUS * math.sqrt(r["gap"] / gmax)), 2)
                items.append([_r(y), _r(x), tip, "", radius])
            style = {"color": _GAP_COLOUR, "weight": 1, "fillColor": _GAP_COLOUR, "fillOpacity": 0.45}
            _PointBatch(items, "circle", style).add_to(fg)
            self.add(fg, name)
        total = float(gaps.groupby("service_set")["gap"].sum().iloc[0])
        rows = "".join(
            f'<div class="cls">{_circle_svg(_GAP_MAX_RADIUS * math.sqrt(v / gmax))} '
            f"{esc(fmt_num(v, self.lang, 1))}</div>"
            for v in (gmax, gmax / 4)
            if v > 0
        )
        self.legend.append(
            f'<div class="sec" data-layer="gap" data-max="{gmax:.6g}" data-total="{total:.6g}">'
            f"<h4>{esc(self.t('gap'))}</h4>{rows}"
            f'<div class="note">{esc(self.t("gap_unit"))} {thr} {esc(self.t("minutes"))}; '
            f"{esc(self.t('estimated'))}</div></div>"
        )

    def unserved(self) -> None:
        """Consultations not served per sector, in two layers: because of distance, because of capacity."""
        un = self.data.unserved
        if un is None or un.empty:
            return
        pts = self.data.sectors[["cd_sector", "geometry"]].copy()
        pts["geometry"] = pts.representative_point()
        names = _sector_names(self.data.sectors, self.lang)
        p = gpd.GeoDataFrame(pts.merge(un, on="cd_sector"), geometry="geometry", crs=pts.crs)
        vmax = float(max(p["unserved_distance"].max(), p["unserved_capacity"].max(), 1.0))
        rows = []
        for col, colour in (("unserved_distance", _GAP_COLOUR), ("unserved_capacity", _UNSERVED_CAPACITY_COLOUR)):
            part = _to_wgs84(p[p[col] >= 0.5].sort_values([col, "cd_sector"], ascending=[False, True]))
            name = self.t(col)
            fg = folium.FeatureGroup(name=esc(name), show=col == "unserved_capacity")
            items = []
            for _, r in part.iterrows():
                tip = (
                    f"{esc(names[r['cd_sector']])}: ≈ {esc(fmt_num(r[col], self.lang, 0))} "
                    f"{esc(self.t('consult_unit'))} ({esc(self.t('estimated'))})"
                )
                radius = round(max(2.0, _GAP_MAX_RADIUS * math.sqrt(r[col] / vmax)), 2)
                items.append([_r(r.geometry.y), _r(r.geometry.x), tip, "", radius])
            _PointBatch(
                items, "circle", {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.45}
            ).add_to(fg)
            self.add(fg, name)
            rows.append(
                f'<div class="cls">{_circle_svg(8).replace(_GAP_COLOUR, colour)} {esc(name)}: '
                f"{esc(fmt_num(float(p[col].sum()), self.lang, 0))}</div>"
            )
        self.legend.append(
            f'<div class="sec" data-layer="unserved" data-max="{vmax:.6g}"><h4>{esc(self.t("unserved"))}</h4>'
            f'{"".join(rows)}<div class="note">{esc(self.t("consult_unit"))}; {esc(self.t("estimated"))}</div></div>'
        )

    def sites(self) -> None:
        sites = self.data.sites
        if sites is None or sites.empty:
            return
        tt = self.data.timetable
        pts = _to_wgs84(sites.sort_values("order"))
        name = self.t("new_sites")
        fg = folium.FeatureGroup(name=esc(name), show=True)
        items = []
        for _, r in pts.iterrows():
            rows = [
                (esc(self.t("order")), esc(int(r["order"]))),
                (esc(self.t("name")), esc(r["name"])),
                (esc(self.t("type")), esc(r.get("type"))),
                (esc(self.t("marginal_demand")), esc(fmt_num(r.get("marginal_demand"), self.lang, 1))),
            ]
            popup = _table(rows)
            if tt is not None and not tt.empty:
                mine = tt[tt["venue_id"].astype(str) == str(r["id"])]
                if not mine.empty:
                    head = "".join(f"<th>{esc(self.t(k))}</th>" for k in ("team", "day", "dagdeel"))
                    body = "".join(
                        f"<tr><td>{esc(x['team'])}</td><td>{esc(x['day'])}</td><td>{esc(x['dagdeel'])}</td></tr>"
                        for _, x in mine.iterrows()
                    )
                    popup += f'<h4>{esc(self.t("timetable"))}</h4><table class="gp-pop"><tr>{head}</tr>{body}</table>'
            svg = _svg_marker("circle", _SITE_COLOUR, 22, str(int(r["order"])))
            items.append([_r(r.geometry.y), _r(r.geometry.x), f"{int(r['order'])}. {esc(r['name'])}", popup, svg])
        # z: Leaflet stacks markers by latitude; new sites must stay on top of the rank labels
        _PointBatch(items, "icon", {"size": 22, "interactive": True, "z": 1000}).add_to(fg)
        self.add(fg, name)
        self.legend.append(
            f'<div class="sec" data-layer="sites" data-count="{len(pts)}"><h4>{esc(name)}</h4>'
            f"{_svg_marker('circle', _SITE_COLOUR, 18, '1')} {len(pts)}</div>"
        )

    def finish(self, title: str, compact: bool = False) -> None:
        t = self.t
        notes = "".join(f'<div class="note">{esc(n)}</div>' for n in self.data.notes)
        legend = (
            f"<details{'' if compact else ' open'}><summary><b>{esc(t('legend'))}</b></summary>"
            f"{''.join(self.legend)}{notes}"
            f'<div class="note">{esc(t("estimate_note"))}</div></details>'
        )
        _Html(legend, "bottomleft", "gp-legend").add_to(self.m)
        _Html(f"{esc(title)}<small>{esc(t('estimate_note'))}</small>", "bottomright", "gp-title").add_to(self.m)
        _Attribution(esc(" | ".join(a for a in settings.ATTRIBUTION if "OpenStreetMap" not in a))).add_to(self.m)
        folium.LayerControl(collapsed=compact, position="topright").add_to(self.m)


def _new_map(data: MapData, lang: str, **kwargs: Any) -> folium.Map:
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=False, **kwargs)
    _configure(m, data)
    return m


def _configure(m: folium.Map, data: MapData) -> None:
    """Trim folium's default CDN assets to the pinned ones and centre on the data."""
    m.default_js = list(assets.MAP_JS)
    m.default_css = list(assets.MAP_CSS)
    minx, miny, maxx, maxy = data.sectors.to_crs(settings.WGS84).total_bounds
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    m.get_root().header.add_child(folium.Element(_CSS), name="gp_css")


def _fill(m: folium.Map, data: MapData, scales: MapScales, lang: str, title: str, compact: bool = False) -> list[str]:
    osm = [a for a in settings.ATTRIBUTION if "OpenStreetMap" in a][0]
    folium.TileLayer(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        attr=esc(osm),
        name=esc(label("basemap", lang)),
        max_zoom=19,
    ).add_to(m)
    b = _MapBuilder(m, data, scales, lang)
    b.names.append(label("basemap", lang))
    b.outlines()
    b.need()
    b.priority()
    b.walking_time()
    b.isochrones()
    b.gap()
    b.unserved()
    b.services()
    b.excluded_services()
    b.sites()
    b.finish(title, compact)
    return b.names


def build_gap_map(data: MapData, *, lang: str = DEFAULT_LANG, scales: MapScales | None = None) -> folium.Map:
    """Build the interactive map of the current coverage gap.

    Parameters
    ----------
    data
        The layers to draw (``sites`` is ignored).
    lang
        ``nl`` (default), ``fr`` or ``en``.
    scales
        Class breaks; default computed from ``data``.

    Returns
    -------
    folium.Map
        The map; ``m.gp_layers`` lists the layer-control entries in order.
    """
    check_lang(lang)
    data = MapData(**{**data.__dict__, "sites": None, "timetable": None})
    m = _new_map(data, lang)
    m.gp_layers = _fill(m, data, scales or map_scales(data), lang, data.title or label("gap_title", lang))
    return m


def build_scenario_map(data: MapData, *, lang: str = DEFAULT_LANG, scales: MapScales | None = None) -> folium.Map:
    """Build the interactive map of one scenario: the gap that remains and the new sites.

    Parameters
    ----------
    data
        The layers; ``coverage`` should be the coverage *with* the scenario's sites, and
        ``sites``/``timetable`` the scenario's choice.
    lang
        ``nl`` (default), ``fr`` or ``en``.
    scales
        Class breaks; pass the same object to maps that will be compared.

    Returns
    -------
    folium.Map
        The map; ``m.gp_layers`` lists the layer-control entries in order.
    """
    check_lang(lang)
    m = _new_map(data, lang)
    title = data.title or label("scenario_title", lang)
    m.gp_layers = _fill(m, data, scales or map_scales(data), lang, title)
    return m


def build_dual_map(a: MapData, b: MapData, *, lang: str = DEFAULT_LANG) -> DualMap:
    """Build two scenario maps side by side, panning together, with the same colour scales.

    Returns
    -------
    folium.plugins.DualMap
        ``.m1`` / ``.m2`` carry ``gp_layers`` like the single maps.
    """
    check_lang(lang)
    scales = map_scales(a, b)
    dual = DualMap(tiles=None, control_scale=True)
    dual.default_js = list(assets.SYNC_JS)
    for m, data in ((dual.m1, a), (dual.m2, b)):
        _configure(m, data)
        # Half a screen each: layer list and legend start folded so the map stays visible.
        m.gp_layers = _fill(m, data, scales, lang, data.title or label("scenario_title", lang), compact=True)
    return dual


def layer_names(m: folium.Map | DualMap) -> list[str]:
    """Return the layer-control entries of a map built here (both halves for a dual map)."""
    if isinstance(m, DualMap):
        return [*m.m1.gp_layers, *m.m2.gp_layers]
    return list(m.gp_layers)


def render_html(m: folium.Map | DualMap, *, self_contained: bool = False, cache_dir: Path | None = None) -> str:
    """Render a map to one HTML page; ``self_contained`` inlines every script and stylesheet."""
    page = m.get_root().render()
    if self_contained:
        page = assets.inline_assets(page, cache_dir)
    return page


def save_map(
    m: folium.Map | DualMap, path: str | Path, *, self_contained: bool = False, cache_dir: Path | None = None
) -> Path:
    """Write a map to ``path`` atomically (see :func:`render_html`) and return the path."""
    return write_text(path, render_html(m, self_contained=self_contained, cache_dir=cache_dir))
