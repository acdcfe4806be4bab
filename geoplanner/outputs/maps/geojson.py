"""Polygons into the page: reprojected, simplified to the map's scale and written once per page.

The sector polygons are drawn by three layers of every map (births, deprivation, walking time) and by
both halves of a side-by-side map: each layer's features carry only their fill and stubs, and the page
holds the geometries (and shared tooltips) once (:class:`geoplanner.outputs.maps.elements.SharedData`).
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.utilities import JsCode

from geoplanner.core import settings
from geoplanner.core.errors import DataError
from geoplanner.outputs.maps.data import geometry_digest
from geoplanner.outputs.maps.elements import SharedData
from geoplanner.outputs.maps.markup import esc

__all__ = ["MAP_TOLERANCE_M", "to_wgs84", "geojson", "geojson_layer"]


def to_wgs84(gdf: gpd.GeoDataFrame, tolerance: float = 0.0) -> gpd.GeoDataFrame:
    """Reproject to WGS84 with ~1 m coordinate precision (keeps pages small)."""
    if gdf.crs is None:
        raise DataError("a map layer has no CRS", hint=f"layers must be in {settings.CRS}")
    out = gdf.to_crs(settings.CRS)
    if tolerance:
        out = out.set_geometry(out.geometry.simplify(tolerance, preserve_topology=True))
    out = out.to_crs(settings.WGS84)
    return out.set_geometry(shapely.set_precision(out.geometry.values, 1e-5))


#: Simplification (metres, EPSG:31370) of the polygons drawn: about 3 screen pixels at zoom 16, the
#: closest view of a whole neighbourhood; the coordinates are then rounded to 1e-5 degree (about 1 m).
MAP_TOLERANCE_M = 5.0
_COORD_GRID_DEG = 1e-5

# GeoJSON geometries already converted in this process, keyed by the content of the input geometries:
# the sector polygons are drawn in three layers of every map, and by every map of a run.
_GEOJSON_MEMO: OrderedDict[tuple, tuple[str, str]] = OrderedDict()
_GEOJSON_MEMO_SIZE = 64


def _geojson_geometries(gdf: gpd.GeoDataFrame, tolerance: float, coverage: bool) -> tuple[str, str]:
    """Return a key and the compact JSON array of ``gdf``'s geometries (WGS84), simplified to the map's scale.

    ``coverage``: the polygons tile the plane (sectors, wijken, communes), so shared borders are
    simplified once, together, and neighbours keep meeting without gaps or overlaps (GEOS coverage
    simplification); other polygons (isochrones) are simplified one by one, keeping their topology.
    """
    if gdf.crs is None:
        raise DataError("a map layer has no CRS", hint=f"layers must be in {settings.CRS}")
    geoms = np.asarray(gdf.geometry.to_crs(settings.CRS).values, dtype=object)
    key = (geometry_digest(geoms), float(tolerance), coverage)
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
) -> tuple[dict[str, Any], list[SharedData], JsCode]:
    """Return the features (only ``columns`` as properties), their shared data and the layer filter."""
    key, text = _geojson_geometries(gdf, tolerance, coverage)
    shared = [SharedData(key, text)]
    fill = f"f.geometry = {key}()[i];"
    props = gdf[[c for c in columns if c != "tip"]].to_dict("records") if columns else [{}] * len(gdf)
    if "tip" in columns:
        tkey, ttext = _shared_strings(gdf["tip"].astype(str).tolist())
        shared.append(SharedData(tkey, ttext))
        fill += f" f.properties.tip = {tkey}()[i];"
        for p in props:
            p["tip"] = 0  # filled in the page; folium wants the field present
    features = [{"type": "Feature", "id": str(i), "properties": p, "geometry": _STUB} for i, p in enumerate(props)]
    js = JsCode(
        f"function (f) {{ if (f.geometry && f.geometry.type === {json.dumps(_STUB['type'])}) "
        f"{{ var i = +f.id; {fill} }} return true; }}"
    )
    return {"type": "FeatureCollection", "features": features}, shared, js


def geojson(
    data: gpd.GeoDataFrame, columns: list[str], tolerance: float, coverage: bool, **kwargs: Any
) -> folium.GeoJson:
    """Build a folium GeoJson whose coordinates are shared with the other layers of the page."""
    fc, shared, fill = _feature_collection(data, columns, tolerance, coverage)
    layer = folium.GeoJson(fc, filter=fill, **kwargs)
    for part in shared:
        layer.add_child(part)
    return layer


def geojson_layer(
    gdf: gpd.GeoDataFrame,
    name: str,
    style: dict[str, Any],
    *,
    show: bool,
    tolerance: float = MAP_TOLERANCE_M,
    coverage: bool = True,
) -> folium.GeoJson:
    """Build a GeoJson layer whose per-feature ``fill``, ``tip`` (escaped HTML) and ``lgn`` come from columns.

    ``lgn`` (the network a feature lies in) lets the LGN selector dim the features of the other networks.
    """
    cols = [c for c in ("fill", "tip", "lgn") if c in gdf.columns]
    if "lgn" in cols:  # plain numbers in the page's JSON
        gdf = gdf.assign(lgn=[None if pd.isna(v) else int(v) for v in gdf["lgn"].astype(object)])

    def style_fn(feature: dict[str, Any]) -> dict[str, Any]:
        s = dict(style)
        if "fill" in feature["properties"]:
            s["fillColor"] = feature["properties"]["fill"]
        return s

    tooltip = folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True) if "tip" in cols and len(gdf) else None
    kwargs = {"name": esc(name), "style_function": style_fn, "tooltip": tooltip, "show": show, "control": True}
    return geojson(gdf, cols, tolerance, coverage, **kwargs)
