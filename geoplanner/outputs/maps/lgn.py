"""The 8 local networks (LGN) on the interactive maps: their boundaries, a selector, one network's own map data.

:func:`lgn_areas` dissolves the sectors into the networks (a network is the union of its communes);
:func:`add_lgn` draws their boundaries with their numbers and, on a map of the whole region, a selector that
zooms to one network and filters the tooltips to its wijken and sectors (the page's ``#lgn=N`` opens it so);
:func:`lgn_map_data` cuts a :class:`~geoplanner.outputs.maps.data.MapData` down to one network, for its page.
"""

from __future__ import annotations

from dataclasses import replace

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geoplanner.core import settings
from geoplanner.inputs.lgn import lgn_of_commune
from geoplanner.outputs.maps.data import MapData, lgn_areas, lgn_of_points
from geoplanner.outputs.maps.elements import LgnSelector, PointBatch
from geoplanner.outputs.maps.geojson import MAP_TOLERANCE_M, geojson, to_wgs84
from geoplanner.outputs.maps.layers import Canvas
from geoplanner.outputs.maps.markup import esc, lgn_label, round_coord

__all__ = ["LGN_COLOUR", "SERVICE_MARGIN_M", "lgn_of_sectors", "add_lgn", "lgn_sites", "lgn_map_data"]

#: Colour of the network boundaries (dark blue: apart from the red of the gap and the purple of new sites).
LGN_COLOUR = "#08306b"
#: Metres around a network that its map still shows services in (a bureau just over the border serves it too).
SERVICE_MARGIN_M = 1500.0


def lgn_of_sectors(sectors: pd.DataFrame) -> pd.Series:
    """Return each sector's LGN: its ``lgn`` column, else its commune's network."""
    if "lgn" in sectors.columns:
        return sectors["lgn"].astype(int)
    return sectors["commune_nis"].map(lambda c: lgn_of_commune(int(c))).astype(int)


def _bounds(geom: object) -> list[list[float]]:
    minx, miny, maxx, maxy = gpd.GeoSeries([geom], crs=settings.CRS).to_crs(settings.WGS84).total_bounds
    return [[round_coord(miny), round_coord(minx)], [round_coord(maxy), round_coord(maxx)]]


def add_lgn(
    canvas: Canvas, *, selector: bool = True, only: int | None = None, areas: gpd.GeoDataFrame | None = None
) -> None:
    """Draw the LGN boundaries with their numbers; on a map of the region, the selector.

    Parameters
    ----------
    canvas
        The map being filled.
    selector
        Add the control that zooms to one network and filters the tooltips to its wijken and sectors.
    only
        Draw this network's boundary strongly and the others (its neighbours) faintly: an LGN's own page.
    areas
        The networks' polygons (:func:`~geoplanner.outputs.maps.data.lgn_areas` of the region); default those of
        the canvas's sectors (on an LGN's own page, cut to the network, that would be its own polygon only).
    """
    areas = lgn_areas(canvas.data.sectors) if areas is None else areas
    name = canvas.t("lgn_boundaries")
    fg = folium.FeatureGroup(name=esc(name), show=True)
    areas = areas.assign(gp_class=np.where(areas["lgn"].astype(int) == (only or -1), "gp-lgn-own", "gp-lgn-boundary"))
    for cls, weight, opacity in (("gp-lgn-boundary", 3.0 if only is None else 1.5, 0.9 if only is None else 0.5),
                                 ("gp-lgn-own", 4.5, 1.0)):  # fmt: skip
        part = areas[areas["gp_class"] == cls]
        if not len(part):
            continue
        style = {"color": LGN_COLOUR, "weight": weight, "opacity": opacity, "fill": False, "className": cls}
        geojson(part, [], MAP_TOLERANCE_M, True, style_function=lambda f, s=style: s, interactive=False).add_to(fg)
    shown = areas if only is None else areas[areas["lgn"].astype(int) == only]
    pts = to_wgs84(gpd.GeoDataFrame(shown[["lgn"]], geometry=shown.representative_point(), crs=shown.crs))
    items = [[round_coord(p.y), round_coord(p.x), "", "", f'<div class="gp-lgn-no">LGN {int(n)}</div>']
             for n, p in zip(pts["lgn"], pts.geometry, strict=True)]  # fmt: skip
    PointBatch(items, "icon", {"size": 44, "interactive": False}).add_to(fg)
    canvas.add(fg, name)
    canvas.add_legend(
        f'<div class="sec" data-layer="lgn" data-count="{len(areas)}"><h4>{esc(name)}</h4>'
        f'<span class="sw" style="border:3px solid {LGN_COLOUR};background:none"></span>'
        f"{esc(canvas.t('lgn'))} 1–{len(areas)}</div>"
    )
    if selector and only is None:
        options = [(int(r.lgn), esc(lgn_label(r.lgn)), _bounds(r.geometry)) for r in areas.itertuples()]
        LgnSelector(options, esc(canvas.t("lgn_select")), esc(canvas.t("lgn_all")),
                    _bounds(areas.union_all())).add_to(canvas.m)  # fmt: skip


def lgn_sites(
    data: MapData, lgn: int, areas: gpd.GeoDataFrame | None = None
) -> tuple[gpd.GeoDataFrame | None, pd.DataFrame | None]:
    """Return a map's new sites in network ``lgn`` and their sessions (by the sites' ``lgn``, else their place)."""
    sites, timetable = data.sites, data.timetable
    if sites is None or not len(sites):
        return sites, timetable
    if "lgn" in sites.columns and sites["lgn"].notna().all():
        where = sites["lgn"]
    else:
        where = lgn_of_points(sites, lgn_areas(data.sectors) if areas is None else areas)
    sites = sites[where.fillna(-1).astype(int).to_numpy() == int(lgn)]
    if timetable is not None and "lgn" in timetable.columns:
        timetable = timetable[timetable["lgn"].astype(int) == int(lgn)]
    return sites, timetable


def lgn_map_data(data: MapData, lgn: int, areas: gpd.GeoDataFrame | None = None) -> MapData:
    """Return the part of a map's data that an LGN's own map draws.

    Its sectors (and their coverage and gap), the wijken with a sector in it, the services within
    :data:`SERVICE_MARGIN_M` of it (a bureau just over the border serves it too), its new sites and their
    timetable; the isochrones are cut to that neighbourhood. ``areas``: :func:`lgn_areas` of ``data.sectors``,
    when the caller has them.
    """
    sectors = data.sectors[lgn_of_sectors(data.sectors).to_numpy() == int(lgn)]
    area = lgn_areas(data.sectors) if areas is None else areas
    own = area.loc[area["lgn"].astype(int) == int(lgn), "geometry"].union_all()
    near = own.buffer(SERVICE_MARGIN_M)

    def close(frame: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
        if frame is None or not len(frame):
            return frame
        return frame[frame.geometry.to_crs(settings.CRS).within(near).to_numpy()]

    codes = set(sectors["cd_sector"])
    wijken = data.wijken
    if wijken is not None and "mdrc" in sectors.columns:
        wijken = wijken[wijken["mdrc"].isin(set(sectors["mdrc"]))]
    iso = data.isochrones
    if iso is not None and len(iso):
        iso = iso.assign(geometry=iso.geometry.intersection(near.envelope))
        iso = iso[~iso.geometry.is_empty]
    sites, timetable = lgn_sites(data, lgn, area)
    return replace(
        data,
        sectors=sectors,
        wijken=wijken,
        coverage=None if data.coverage is None else data.coverage[data.coverage["cd_sector"].isin(codes)],
        unserved=None if data.unserved is None else data.unserved[data.unserved["cd_sector"].isin(codes)],
        isochrones=iso,
        services=close(data.services),
        excluded_services=close(data.excluded_services),
        sites=sites,
        timetable=timetable,
    )
