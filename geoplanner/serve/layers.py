"""The overview the app opens on: wijken with rank and ``p_top21``, walking time per sector, venues, bureaus.

Built once when the server starts, from the shared context and the current situation's result (the walking time
of each home to the nearest known bureau), as GeoJSON in WGS84: polygons simplified to 15 m, coordinates rounded
to about a metre, so the region's layers stay well under 2 MB.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplanner.core import settings
from geoplanner.inputs.lgn import LGN, lgn_of_commune
from geoplanner.inputs.venues import dutch_speaking, suitability
from geoplanner.scenario import ScenarioResult, SitingContext
from geoplanner.serve.views import plain, to_wgs84

__all__ = ["SIMPLIFY_M", "overview_layers", "wijk_table", "area_figures"]

#: Tolerance of the polygon simplification (metres).
SIMPLIFY_M = 15.0


def _round(coords: Any) -> Any:
    if isinstance(coords, float):
        return round(coords, 5)
    return [_round(c) for c in coords]


def _features(gdf: gpd.GeoDataFrame, props: list[str]) -> dict[str, Any]:
    """Return a FeatureCollection in WGS84 with the given properties (polygons simplified)."""
    geom = gdf.geometry
    if geom.geom_type.isin(["Polygon", "MultiPolygon"]).any():
        geom = geom.simplify(SIMPLIFY_M, preserve_topology=True)
    geom = gpd.GeoSeries(geom, crs=gdf.crs).to_crs(settings.WGS84)
    feats = []
    for (_, row), g in zip(gdf[props].iterrows(), geom, strict=True):
        if g is None or g.is_empty:
            continue
        shape = json.loads(shapely.to_geojson(g))
        shape["coordinates"] = _round(shape["coordinates"])
        feats.append({"type": "Feature", "geometry": shape, "properties": {p: plain(row[p]) for p in props}})
    return {"type": "FeatureCollection", "features": feats}


def _per(points: pd.DataFrame, key: str, threshold: float) -> pd.DataFrame:
    """Children, children-weighted mean walking minutes and children beyond the threshold per ``key``.

    The mean is over the children who can reach a site, as ``mean_min`` is everywhere else
    (:func:`geoplanner.scenario.measures.reach_measures`, the maps' sector tables).
    """
    finite = np.isfinite(points["minutes"])
    p = points.assign(_wm=(points["minutes"] * points["children"]).where(finite, 0.0),
                      _rc=points["children"].where(finite, 0.0),
                      _out=points["children"].where(points["minutes"] > threshold, 0.0))  # fmt: skip
    g = p.groupby(key)
    out = pd.DataFrame({"children": g["children"].sum(), "_wm": g["_wm"].sum(), "_rc": g["_rc"].sum(),
                        "not_reached": g["_out"].sum()})  # fmt: skip
    out["mean_min"] = out["_wm"] / out["_rc"].where(out["_rc"] > 0)
    return out.drop(columns=["_wm", "_rc"])


def wijk_table(context: SitingContext, baseline: ScenarioResult) -> pd.DataFrame:
    """Return per wijk: name, LGN, rank, priority, ``p_top21``, children, mean walking minutes, children not reached."""
    rank = context.ranking
    cols = ["mdrc", "name_nl", "name_fr", "lgn", "rank", "priority", "p_top", "stability", "births", "pop_0_2",
            "deprivation", "birth_rate_permille"]  # fmt: skip
    t = rank[[c for c in cols if c in rank.columns]].copy()
    per = _per(baseline.points, "mdrc", baseline.scenario.threshold_min)
    t = t.merge(per[["mean_min", "not_reached"]], left_on="mdrc", right_index=True, how="left")
    t["lgn_name"] = t["lgn"].map(lambda n: LGN.get(int(n), ("?",))[0] if pd.notna(n) else "")
    return t.sort_values(["rank", "mdrc"], na_position="last", ignore_index=True)


def area_figures(context: SitingContext, baseline: ScenarioResult, lgn: int | None = None) -> dict[str, Any]:
    """Return the region's (or one LGN's) children, children reached and not reached, and its priority wijken.

    ``incomplete`` says that the known bureaus' layer holds under half of the sites known to exist (its note says
    "ONVOLLEDIGE LAAG"): "not reached" then means not reached by the *located* bureaus, which the page says, so
    the gap in the data never reads as a finding (as on the report's first page).
    """
    p = baseline.points if lgn is None else baseline.points[baseline.points["lgn"] == lgn]
    thr = baseline.scenario.threshold_min
    children = float(p["children"].sum())
    reached = float(p.loc[p["minutes"] <= thr, "children"].sum())
    rank = context.ranking
    prio = rank[rank["priority"] & ((rank["lgn"] == lgn) if lgn is not None else True)]
    return {"lgn": lgn, "name": "Brussels Gewest" if lgn is None else LGN.get(lgn, ("?",))[0],
            "children": children, "reached": reached, "not_reached": children - reached, "threshold_min": thr,
            "priority_wijken": int(len(prio)), "baseline": baseline.scenario.label,
            "notes": [n for n in baseline.notes if "LAAG" in n],
            "incomplete": any("ONVOLLEDIGE LAAG" in n for n in baseline.notes)}  # fmt: skip


def _venues(context: SitingContext) -> dict[str, Any]:
    cand = context.services["candidates"].points.copy()
    cand["lgn"] = cand["commune_nis"].map(lambda n: lgn_of_commune(int(n)) if pd.notna(n) else -1)
    cand["suitability"] = suitability(cand)
    cand["dutch_speaking"] = dutch_speaking(cand).map(lambda x: x is True)
    return _features(cand, ["id", "name", "type", "suitability", "dutch_speaking", "lgn"])


def overview_layers(context: SitingContext, baseline: ScenarioResult, open_sets: Mapping[str, Any]) -> dict[str, Any]:
    """Return the overview's GeoJSON layers: wijken, sectors (walking time), candidate venues, known bureaus."""
    wijken = context.ranking[["mdrc"]].merge(wijk_table(context, baseline), on="mdrc")
    wgeo = context.need.ranking[["mdrc", "geometry"]] if context.need is not None else None
    layers: dict[str, Any] = {}
    if wgeo is not None:
        w = gpd.GeoDataFrame(wijken.merge(wgeo, on="mdrc"), geometry="geometry", crs=settings.CRS)
        layers["wijken"] = _features(w, ["mdrc", "name_nl", "lgn", "lgn_name", "rank", "priority", "p_top",
                                         "pop_0_2", "mean_min", "not_reached"])  # fmt: skip
        per = _per(baseline.points, "cd_sector", baseline.scenario.threshold_min)
        sec = context.need.sectors[["cd_sector", "mdrc", "lgn", "geometry"]].merge(
            per, left_on="cd_sector", right_index=True, how="left"
        )
        layers["sectors"] = _features(sec, ["cd_sector", "lgn", "children", "mean_min", "not_reached"])
    layers["venues"] = _venues(context)
    bureaus = []
    for name, ss in open_sets.items():
        if len(ss.points):
            lon, lat = to_wgs84(ss.points.geometry.x.to_numpy(), ss.points.geometry.y.to_numpy())
            bureaus += [{"id": plain(i), "name": plain(n), "set": name, "lon": float(a), "lat": float(b)}
                        for i, n, a, b in zip(ss.points["id"], ss.points["name"], lon, lat, strict=True)]  # fmt: skip
    layers["bureaus"] = bureaus
    return layers
