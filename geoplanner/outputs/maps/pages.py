"""The interactive map pages (folium/Leaflet): the current gap, a scenario, two scenarios side by side.

Plain functions over plain inputs: a :class:`~geoplanner.outputs.maps.data.MapData` holds GeoDataFrames
in EPSG:31370 and DataFrames; :func:`build_gap_map`, :func:`build_scenario_map` and
:func:`build_dual_map` return folium objects; :func:`render_html` turns one into the page's text,
online (scripts from the CDN) or self-contained (scripts inlined from a folder of pinned files, see
:mod:`geoplanner.outputs.maps.assets`). Writing the page is :mod:`geoplanner.pipeline.maps`' job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import folium
from folium.plugins import DualMap

from geoplanner.core import settings
from geoplanner.core.i18n import DEFAULT_LANG, check_lang, label
from geoplanner.outputs.maps import assets
from geoplanner.outputs.maps.data import MapData, MapScales, lgn_areas, map_scales
from geoplanner.outputs.maps.elements import Attribution, HtmlControl, LegendToggle
from geoplanner.outputs.maps.layers import (
    Canvas,
    add_isochrones,
    add_need,
    add_outlines,
    add_priority,
    add_walking_time,
)
from geoplanner.outputs.maps.lgn import add_lgn, lgn_map_data, lgn_sites
from geoplanner.outputs.maps.markup import PAGE_CSS, circle_svg, esc, svg_marker
from geoplanner.outputs.maps.points import (
    add_excluded_services,
    add_gap,
    add_services,
    add_site_layer,
    add_sites,
    add_unserved,
)
from geoplanner.outputs.maps.style import GAP_MAX_RADIUS, MINUTE_BREAKS, MINUTE_COLOURS

__all__ = [
    "stable_ids",
    "LAYERS",
    "build_gap_map",
    "build_scenario_map",
    "build_dual_map",
    "build_lgn_map",
    "SCENARIO_MARKERS",
    "layer_names",
    "render_html",
    "render_parts",
]

#: The layers of every map, in drawing (and layer-control) order.
LAYERS: tuple[Callable[[Canvas], None], ...] = (
    add_outlines,
    add_lgn,
    add_need,
    add_priority,
    add_walking_time,
    add_isochrones,
    add_gap,
    add_unserved,
    add_services,
    add_excluded_services,
    add_sites,
)


def _new_map(data: MapData, lang: str, **kwargs: Any) -> folium.Map:
    """Return an empty map of the data's area, with the pinned scripts only."""
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=False, **kwargs)
    _configure(m, data)
    return m


def _configure(m: folium.Map, data: MapData) -> None:
    """Trim folium's default CDN assets to the pinned ones and centre on the data."""
    m.default_js = list(assets.MAP_JS)
    m.default_css = list(assets.MAP_CSS)
    minx, miny, maxx, maxy = data.sectors.to_crs(settings.WGS84).total_bounds
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    m.get_root().header.add_child(folium.Element(PAGE_CSS), name="gp_css")


def _base_tiles(m: folium.Map, data: MapData, scales: MapScales, lang: str) -> Canvas:
    """Add the OpenStreetMap background to ``m``; return the canvas its layers go on."""
    osm = [a for a in settings.ATTRIBUTION if "OpenStreetMap" in a][0]
    folium.TileLayer(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        attr=esc(osm),
        name=esc(label("basemap", lang)),
        max_zoom=19,
    ).add_to(m)
    canvas = Canvas(m, data, scales, lang)
    canvas.names.append(label("basemap", lang))
    return canvas


def _fill(m: folium.Map, data: MapData, scales: MapScales, lang: str, title: str, compact: bool = False) -> list[str]:
    """Add the base map and every layer of ``data`` to ``m``; return the layer-control entries."""
    canvas = _base_tiles(m, data, scales, lang)
    for add in LAYERS:
        add(canvas)
    _legend_and_title(canvas, title, compact)
    return canvas.names


def _legend_and_title(canvas: Canvas, title: str, compact: bool = False) -> None:
    """Add the legend (folded on a half map), the title, the data sources and the layer control."""
    t = canvas.t
    notes = "".join(f'<div class="note">{esc(n)}</div>' for n in canvas.data.notes)
    legend = (
        f"<details{'' if compact else ' open'}><summary><b>{esc(t('legend'))}</b></summary>"
        f"{''.join(canvas.legend)}{notes}"
        f'<div class="note">{esc(t("estimate_note"))}</div></details>'
    )
    HtmlControl(legend, "bottomleft", "gp-legend").add_to(canvas.m)
    LegendToggle().add_to(canvas.m)
    if title:  # an LGN's page has its own heading
        HtmlControl(f"{esc(title)}<small>{esc(t('estimate_note'))}</small>", "bottomright", "gp-title").add_to(canvas.m)
    Attribution(esc(" | ".join(a for a in settings.ATTRIBUTION if "OpenStreetMap" not in a))).add_to(canvas.m)
    folium.LayerControl(collapsed=compact, position="topright").add_to(canvas.m)


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


#: Marker colour and shape of each scenario's sites on an LGN's map, in the order of the scenarios.
SCENARIO_MARKERS = (("#6a3d9a", "circle"), ("#1b9e77", "square"), ("#d95f02", "diamond"), ("#e7298a", "triangle"),
                    ("#66a61e", "hexagon"), ("#a6761d", "square"))  # fmt: skip


def build_lgn_map(
    base: MapData,
    scenarios: Sequence[tuple[str, MapData]],
    lgn: int,
    *,
    lang: str = DEFAULT_LANG,
    scales: MapScales | None = None,
) -> folium.Map:
    """Build the map of one local network (LGN): zoomed to it, with its boundary, wijken and every scenario's sites.

    Walking time to the nearest known service and the children not reached are on; births, deprivation and the
    isochrones can be switched on; the priority wijken are outlined with their rank; the known services (and those
    within :data:`~geoplanner.outputs.maps.lgn.SERVICE_MARGIN_M` of the network) are shown, and each scenario's new
    sites or sessions inside the network in a layer of their own, numbered as in the scenario.

    Parameters
    ----------
    base
        The current situation's map data (the gap map's), for the whole region.
    scenarios
        ``(title, map data)`` of each scenario with new sites, in order.
    lgn
        The network's number.
    lang
        ``nl`` (default), ``fr`` or ``en``.
    scales
        Class breaks of the region's maps (so colours mean the same as on them); default computed from ``base``.

    Returns
    -------
    folium.Map
        The map; ``m.gp_layers`` lists the layer-control entries in order, and ``m.gp_key`` the key printed under
        it on paper: ``(symbol markup, words)`` for walking time, the gap and each scenario's markers (the map's own
        legend stays folded).
    """
    check_lang(lang)
    areas = lgn_areas(base.sectors)
    own = lgn_map_data(MapData(**{**base.__dict__, "sites": None, "timetable": None}), lgn, areas)
    m = _new_map(own, lang, zoom_snap=0.25)  # a network fills its box, not only the nearest whole zoom level
    canvas = _base_tiles(m, own, scales or map_scales(base), lang)
    for add in (add_outlines, lambda c: add_lgn(c, selector=False, only=lgn, areas=areas), add_need, add_priority,
                add_walking_time, add_isochrones, add_gap, add_services, add_excluded_services):  # fmt: skip
        add(canvas)
    rows = []
    key = _base_key(own, lang)
    for i, (title, data) in enumerate(scenarios):
        sites, timetable = lgn_sites(data, lgn, areas)
        if sites is None or not len(sites):
            continue
        colour, shape = SCENARIO_MARKERS[i % len(SCENARIO_MARKERS)]
        name = f"{label('new_sites', lang)} — {title}"
        add_site_layer(canvas, sites, timetable, name, colour, shape)
        rows.append(f'<div class="cls">{svg_marker(shape, colour, 14)} {esc(title)} ({len(sites)})</div>')
        key.append((svg_marker(shape, colour, 14), f"{name} ({len(sites)})"))
    if rows:
        canvas.add_legend(f'<div class="sec" data-layer="sites"><h4>{esc(label("new_sites", lang))}</h4>'
                          f"{''.join(rows)}</div>")  # fmt: skip
    _legend_and_title(canvas, "", compact=True)
    m.gp_layers = canvas.names
    m.gp_key = key
    return m


def _base_key(data: MapData, lang: str) -> list[tuple[str, str]]:
    """Return the printed key of an LGN map's walking time and gap (trusted symbols, plain words)."""
    swatches = "".join(f'<span class="sw" style="background:{c}"></span>' for c in MINUTE_COLOURS)
    bounds = f"{MINUTE_BREAKS[0]}–{MINUTE_BREAKS[-1]}+ {label('minutes', lang)}"
    gap = f"{label('gap', lang)} (> {data.threshold_min} {label('minutes', lang)}, {label('estimated', lang)})"
    return [(swatches, f"{label('walk_time', lang)} ({bounds})"), (circle_svg(GAP_MAX_RADIUS / 3), gap)]


def layer_names(m: folium.Map | DualMap) -> list[str]:
    """Return the layer-control entries of a map built here (both halves for a dual map)."""
    if isinstance(m, DualMap):
        return [*m.m1.gp_layers, *m.m2.gp_layers]
    return list(m.gp_layers)


#: folium/branca name every element with 32 random hex digits (``map_3f2a…``); they are renumbered in order.
_ELEMENT_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")


def stable_ids(page: str) -> str:
    """Renumber the random element ids of a rendered page in order of appearance: the same map, the same bytes."""
    ids: dict[str, str] = {}
    return _ELEMENT_ID.sub(lambda m: ids.setdefault(m.group(0), f"{len(ids):032x}"), page)


_HEAD = re.compile(r"<head>(.*)</head>\s*<body>(.*)</body>\s*<script>(.*)</script>\s*</html>\s*$", re.S)


def render_parts(
    m: folium.Map, *, self_contained: bool = False, assets_dir: Path | None = None
) -> tuple[str, str, str]:
    """Render a map as the three parts another page embeds: what goes in its head, its body and its script.

    The same text as :func:`render_html` (stable ids, scripts inlined when ``self_contained``), cut where the
    map's own page puts its ``<head>``, ``<body>`` and closing ``<script>``.
    """
    page = render_html(m, self_contained=self_contained, assets_dir=assets_dir)
    found = _HEAD.search(page)
    if found is None:  # folium's page template changed: a programming error, not a user's
        raise ValueError("cannot cut the map page into head, body and script")
    return found.group(1), found.group(2), found.group(3)


def render_html(m: folium.Map | DualMap, *, self_contained: bool = False, assets_dir: Path | None = None) -> str:
    """Render a map to one HTML page.

    Parameters
    ----------
    m
        A map built here.
    self_contained
        Inline every script and stylesheet (the page then works offline).
    assets_dir
        The folder of the pinned files (:func:`geoplanner.pipeline.assets.assets_dir`); needed when
        ``self_contained``.

    Raises
    ------
    DataMissingError
        If a pinned file is not in ``assets_dir`` (the message names ``geoplanner assets fetch``).
    """
    page = stable_ids(m.get_root().render())
    if self_contained:
        if assets_dir is None:
            raise ValueError("a self-contained page needs the folder of the pinned assets (assets_dir)")
        page = assets.inline_assets(page, assets_dir)
    return page
