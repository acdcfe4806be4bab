"""Maps of the coverage gap and of siting scenarios: interactive pages (folium/Leaflet) and printable PNGs.

What a map shows is a :class:`MapData` (:mod:`~geoplanner.outputs.maps.data`); how it is drawn:

- :mod:`~geoplanner.outputs.maps.pages`: the interactive pages (:func:`build_gap_map`,
  :func:`build_scenario_map`, :func:`build_dual_map`, one local network's :func:`build_lgn_map`) and their HTML
  (:func:`render_html`, or :func:`render_parts` to embed a map in another page), from the
  area layers (:mod:`~geoplanner.outputs.maps.layers`) and point layers
  (:mod:`~geoplanner.outputs.maps.points`), the polygons written once per page
  (:mod:`~geoplanner.outputs.maps.geojson`), escaped markup (:mod:`~geoplanner.outputs.maps.markup`) and
  page elements (:mod:`~geoplanner.outputs.maps.elements`);
- :mod:`~geoplanner.outputs.maps.lgn`: the local networks (LGN): boundaries, the selector, one network's data;
- :mod:`~geoplanner.outputs.maps.static`: the printable PNGs (matplotlib);
- :mod:`~geoplanner.outputs.maps.style`: the colours and classes both share;
- :mod:`~geoplanner.outputs.maps.assets`: the pinned Leaflet files, inlined for offline pages;
- :mod:`~geoplanner.outputs.maps.page_cache`: rendered pages kept in :mod:`geoplanner.cache`.

Renderers return objects, text or bytes; :mod:`geoplanner.pipeline.maps` writes them.
"""

from geoplanner.outputs.maps.data import MapData, MapScales, covered_column, map_scales
from geoplanner.outputs.maps.geojson import MAP_TOLERANCE_M
from geoplanner.outputs.maps.markup import esc
from geoplanner.outputs.maps.pages import (
    build_dual_map,
    build_gap_map,
    build_lgn_map,
    build_scenario_map,
    layer_names,
    render_html,
    render_parts,
)
from geoplanner.outputs.maps.style import MINUTE_BREAKS, THRESHOLD_COLOURS

__all__ = [
    "MapData",
    "MapScales",
    "map_scales",
    "covered_column",
    "esc",
    "build_gap_map",
    "build_scenario_map",
    "build_dual_map",
    "build_lgn_map",
    "render_html",
    "render_parts",
    "layer_names",
    "MINUTE_BREAKS",
    "THRESHOLD_COLOURS",
    "MAP_TOLERANCE_M",
]
