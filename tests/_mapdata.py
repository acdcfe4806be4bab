"""Map test data shared by test_maps, test_report and test_browser, built once per session.

The real need, ranking and service points dressed up as :class:`geoplanner.outputs.maps.MapData`, with a
hostile venue name. Building it (straight-line coverage for ~720 sectors, buffers) takes seconds,
so :func:`shared_map_data` and :func:`shared_scenario` keep it for the whole session; the cached
objects are read-only by convention (tests derive new MapData rather than mutate them).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplanner.outputs import maps

XSS_NAME = '<script>window.__xss=1</script>${window.__xss2=1}`<img src=x onerror="window.__xss3=1">'


def _stand_in_coverage(sectors: gpd.GeoDataFrame, services: gpd.GeoDataFrame, set_name: str) -> pd.DataFrame:
    """Coverage in the accessibility engine's schema, from straight-line distance (a rendering fixture).

    Minutes = 1.3 × crow-fly metres / 75 m/min; good enough to exercise every layer and legend.
    """
    pts = sectors.representative_point()
    dist = np.array([services.distance(p).min() for p in pts])
    minutes = dist * 1.3 / 75.0
    cov = pd.DataFrame(
        {"cd_sector": sectors["cd_sector"], "service_set": set_name, "pop_0_2": sectors["pop_0_2"], "mean_min": minutes}
    )
    for t in (5, 10, 15):
        cov[f"within_{t}_min"] = np.where(minutes <= t, sectors["pop_0_2"], 0.0)
    return cov


def build_test_data(need_sectors: gpd.GeoDataFrame, ranking: gpd.GeoDataFrame) -> maps.MapData:
    """MapData from the real need, ranking and service points, plus a hostile venue name."""
    from geoplanner.inputs.services import load_services

    sectors = need_sectors.merge(ranking[["mdrc", "deprivation"]], on="mdrc", how="left")
    parts = [load_services(n).points for n in ("kg", "one", "hvhk")]
    services = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    hostile = services.iloc[[0]].copy()
    hostile["id"] = "XSS-1"
    hostile["name"] = XSS_NAME
    hostile["source"] = "<b>not bold</b>"
    services = gpd.GeoDataFrame(pd.concat([services, hostile], ignore_index=True), crs=services.crs)
    cb = services[services["layer"].isin(["kg", "one"])]
    cov = _stand_in_coverage(sectors, cb, "any_cb")
    iso = gpd.GeoDataFrame(
        [
            {
                "service_set": "any_cb",
                "service_id": "*",
                "threshold_min": t,
                "geometry": cb.buffer(t * 75 / 1.3).union_all(),
            }
            for t in (10, 15)
        ],
        crs=services.crs,
    )
    return maps.MapData(
        sectors=sectors,
        wijken=ranking,
        coverage=cov,
        isochrones=iso,
        services=services,
        title="Test <b>gap</b>",
        labels={"kg": "Kind & Gezin", "any_cb": "K&G + ONE"},
    )


def build_test_scenario(data: maps.MapData, name: str, n: int) -> maps.MapData:
    """A scenario fixture: ``n`` venues from the real candidate list, with a timetable."""
    from geoplanner.inputs.services import load_services

    cand = load_services("candidates").points.sort_values("id").iloc[::40].iloc[:n]
    sites = gpd.GeoDataFrame(
        {
            "order": range(1, len(cand) + 1),
            "id": cand["id"].to_numpy(),
            "name": cand["name"].to_numpy(),
            "type": cand["type"].to_numpy(),
            "marginal_demand": np.linspace(80, 10, len(cand)),
        },
        geometry=cand.geometry.to_numpy(),
        crs=cand.crs,
    )
    timetable = pd.DataFrame(
        {
            "team": [f"T{i % 2 + 1}" for i in range(len(sites))],
            "day": ["ma", "di", "wo", "do", "vr", "ma", "di", "wo"][: len(sites)],
            "dagdeel": ["VM"] * len(sites),
            "venue_id": sites["id"],
            "venue_name": sites["name"],
            "lgn": 1,
        }
    )
    both = pd.concat([data.services, cand.assign(layer="scenario")], ignore_index=True)
    cov = _stand_in_coverage(data.sectors, both[both["layer"].isin(["kg", "one", "scenario"])], "any_cb")
    return maps.MapData(
        sectors=data.sectors,
        wijken=data.wijken,
        coverage=cov,
        services=data.services,
        sites=sites,
        timetable=timetable,
        title=name,
        labels=data.labels,
    )


# conftest.py's session fixtures hand every module the same need and ranking objects, so entries
# are keyed on object identity; each entry keeps its inputs alive so an id is never reused.
_CACHE: dict[tuple, tuple] = {}


def shared_map_data(need_sectors: gpd.GeoDataFrame, ranking: gpd.GeoDataFrame) -> maps.MapData:
    """Return :func:`build_test_data` for these inputs, built once per session."""
    key = ("data", id(need_sectors), id(ranking))
    if key not in _CACHE:
        _CACHE[key] = (need_sectors, ranking, build_test_data(need_sectors, ranking))
    return _CACHE[key][-1]


def shared_scenario(data: maps.MapData, name: str, n: int) -> maps.MapData:
    """Return :func:`build_test_scenario` for ``(data, name, n)``, built once per session."""
    key = ("scenario", id(data), name, n)
    if key not in _CACHE:
        _CACHE[key] = (data, build_test_scenario(data, name, n))
    return _CACHE[key][-1]
