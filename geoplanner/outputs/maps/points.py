"""The point layers of an interactive map: services, rows not counted as supply, the gap, unserved, new sites.

Each ``add_*`` function adds its layer(s) to a :class:`geoplanner.outputs.maps.layers.Canvas` and
appends its legend section.
"""

from __future__ import annotations

import math

import folium
import geopandas as gpd
import pandas as pd

from geoplanner.core.i18n import fmt_num
from geoplanner.outputs.maps.data import gap_values
from geoplanner.outputs.maps.elements import PointBatch
from geoplanner.outputs.maps.geojson import to_wgs84
from geoplanner.outputs.maps.layers import Canvas
from geoplanner.outputs.maps.markup import (
    EXCLUDED_MARKER,
    circle_svg,
    esc,
    popup_table,
    round_coord,
    sector_names,
    svg_marker,
)
from geoplanner.outputs.maps.style import (
    GAP_COLOUR,
    GAP_MAX_RADIUS,
    SHAPES,
    SITE_COLOUR,
    TYPE_COLOURS,
    UNSERVED_CAPACITY_COLOUR,
)

__all__ = ["add_services", "add_excluded_services", "add_gap", "add_unserved", "add_sites"]


def add_services(canvas: Canvas) -> None:
    """Add the services, one layer per service layer: shape by layer, colour by type, address in the popup."""
    sv = canvas.data.services
    if sv is None or sv.empty:
        return
    pts = to_wgs84(sv)
    types = sorted(pts["type"].fillna("").astype(str).unique())
    type_colour = {t: TYPE_COLOURS[i % len(TYPE_COLOURS)] for i, t in enumerate(types)}
    layers = sorted(pts["layer"].astype(str).unique())
    layer_shape = {name: SHAPES[i % len(SHAPES)] for i, name in enumerate(layers)}
    for layer_name in layers:
        part = pts[pts["layer"].astype(str) == layer_name].sort_values("id")
        name = f"{canvas.t('services')} — {canvas.set_label(layer_name)}"
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
                (esc(canvas.t("name")), esc(r["name"])),
                (esc(canvas.t("address")), esc(address)),
                (esc(canvas.t("type")), esc(r["type"])),
                (esc(canvas.t("source")), esc(r.get("source"))),
                (esc(canvas.t("approximate")), esc(canvas.t("yes") if approx else canvas.t("no"))),
            ]
            radius = pd.to_numeric(r.get("uncertainty_m"), errors="coerce")
            if pd.notna(radius):  # geocoded rows: the radius that holds the true address ~9 times in 10
                fields.append((esc(canvas.t("uncertainty")), esc(f"± {float(radius):.0f} m")))
            popup = popup_table(fields)
            colour = type_colour[str(r["type"]) if pd.notna(r["type"]) else ""]
            svg = svg_marker(layer_shape[layer_name], colour)
            items.append([round_coord(r.geometry.y), round_coord(r.geometry.x), esc(r["name"]), popup, svg])
        PointBatch(items, "icon", {"size": 14, "interactive": True}).add_to(fg)
        canvas.add(fg, name)
    shapes = "".join(
        f'<div class="cls">{svg_marker(layer_shape[n], "#ffffff", 12)} {esc(canvas.set_label(n))}</div>' for n in layers
    )
    colours = "".join(
        f'<div class="cls" data-type="{esc(t)}"><span class="sw" style="background:{type_colour[t]}"></span>'
        f"{esc(t or canvas.t('no_data'))}</div>"
        for t in types
    )
    canvas.legend.append(
        f'<div class="sec" data-layer="services"><h4>{esc(canvas.t("services"))}</h4>{shapes}'
        f"<h4>{esc(canvas.t('type'))}</h4>{colours}</div>"
    )


def add_excluded_services(canvas: Canvas) -> None:
    """Rows of the service lists that are not current supply, muted, with their status and reason."""
    sv = canvas.data.excluded_services
    if sv is None or sv.empty:
        return
    pts = to_wgs84(sv).sort_values("id")
    name = f"{canvas.t('services')} — {canvas.t('excluded_services')}"
    fg = folium.FeatureGroup(name=esc(name), show=True)
    items = []
    for _, r in pts.iterrows():
        address = " ".join(
            str(r[c]).removesuffix(".0")
            for c in ("street", "number", "postcode", "commune")
            if c in r and pd.notna(r[c]) and str(r[c]).strip()
        )
        popup = popup_table(
            [
                (esc(canvas.t("name")), esc(r["name"])),
                (esc(canvas.t("address")), esc(address)),
                (esc(canvas.t("type")), esc(r.get("type"))),
                (esc(canvas.t("service_status")), esc(r.get("status"))),
                (esc(canvas.t("excluded_reason")), esc(r.get("excluded_reason"))),
                (esc(canvas.t("source")), esc(r.get("source"))),
            ]
        )
        tip = f"{esc(r['name'])} ({esc(r.get('status') or canvas.t('excluded_services'))})"
        items.append([round_coord(r.geometry.y), round_coord(r.geometry.x), tip, popup, EXCLUDED_MARKER])
    PointBatch(items, "icon", {"size": 12, "interactive": True}).add_to(fg)
    canvas.add(fg, name)
    canvas.legend.append(
        f'<div class="sec" data-layer="excluded_services" data-count="{len(pts)}">'
        f"<h4>{esc(name)}</h4>{EXCLUDED_MARKER} {len(pts)}</div>"
    )


def add_gap(canvas: Canvas) -> None:
    """Children beyond the threshold per sector, as circles sized by their number, one layer per set."""
    gaps = gap_values(canvas.data)
    if gaps.empty:
        return
    pts = canvas.data.sectors[["cd_sector", "geometry"]].copy()
    pts["geometry"] = pts.representative_point()
    names = sector_names(canvas.data.sectors, canvas.lang)
    gmax = canvas.scales.gap_max or 1.0
    thr = canvas.data.threshold_min
    for set_name, part in gaps.groupby("service_set", sort=True):
        p = gpd.GeoDataFrame(pts.merge(part, on="cd_sector"), geometry="geometry", crs=pts.crs)
        p = to_wgs84(p[p["gap"] >= 0.05].sort_values(["gap", "cd_sector"], ascending=[False, True]))
        name = f"{canvas.t('gap')} (> {thr} {canvas.t('minutes')}) — {canvas.set_label(set_name)}"
        fg = folium.FeatureGroup(name=esc(name), show=True)
        items = []
        for r, x, y in zip(p[["cd_sector", "gap"]].to_dict("records"), p.geometry.x, p.geometry.y, strict=True):
            tip = (
                f"{esc(names[r['cd_sector']])}: ≈ {esc(fmt_num(r['gap'], canvas.lang, 1))} "
                f"{esc(canvas.t('gap_unit'))} {thr} {esc(canvas.t('minutes'))} ({esc(canvas.t('estimated'))})"
            )
            radius = round(max(2.0, GAP_MAX_RADIUS * math.sqrt(r["gap"] / gmax)), 2)
            items.append([round_coord(y), round_coord(x), tip, "", radius])
        style = {"color": GAP_COLOUR, "weight": 1, "fillColor": GAP_COLOUR, "fillOpacity": 0.45}
        PointBatch(items, "circle", style).add_to(fg)
        canvas.add(fg, name)
    total = float(gaps.groupby("service_set")["gap"].sum().iloc[0])
    rows = "".join(
        f'<div class="cls">{circle_svg(GAP_MAX_RADIUS * math.sqrt(v / gmax))} {esc(fmt_num(v, canvas.lang, 1))}</div>'
        for v in (gmax, gmax / 4)
        if v > 0
    )
    canvas.legend.append(
        f'<div class="sec" data-layer="gap" data-max="{gmax:.6g}" data-total="{total:.6g}">'
        f"<h4>{esc(canvas.t('gap'))}</h4>{rows}"
        f'<div class="note">{esc(canvas.t("gap_unit"))} {thr} {esc(canvas.t("minutes"))}; '
        f"{esc(canvas.t('estimated'))}</div></div>"
    )


def add_unserved(canvas: Canvas) -> None:
    """Consultations not served per sector, in two layers: because of distance, because of capacity."""
    un = canvas.data.unserved
    if un is None or un.empty:
        return
    pts = canvas.data.sectors[["cd_sector", "geometry"]].copy()
    pts["geometry"] = pts.representative_point()
    names = sector_names(canvas.data.sectors, canvas.lang)
    p = gpd.GeoDataFrame(pts.merge(un, on="cd_sector"), geometry="geometry", crs=pts.crs)
    far, full = "consultations_unserved_distance", "consultations_unserved_capacity"
    vmax = float(max(p[far].max(), p[full].max(), 1.0))
    rows = []
    for col, colour in ((far, GAP_COLOUR), (full, UNSERVED_CAPACITY_COLOUR)):
        part = to_wgs84(p[p[col] >= 0.5].sort_values([col, "cd_sector"], ascending=[False, True]))
        name = canvas.t(col)
        fg = folium.FeatureGroup(name=esc(name), show=col == full)
        items = []
        for _, r in part.iterrows():
            tip = (
                f"{esc(names[r['cd_sector']])}: ≈ {esc(fmt_num(r[col], canvas.lang, 0))} "
                f"{esc(canvas.t('consult_unit'))} ({esc(canvas.t('estimated'))})"
            )
            radius = round(max(2.0, GAP_MAX_RADIUS * math.sqrt(r[col] / vmax)), 2)
            items.append([round_coord(r.geometry.y), round_coord(r.geometry.x), tip, "", radius])
        PointBatch(items, "circle", {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.45}).add_to(fg)
        canvas.add(fg, name)
        rows.append(
            f'<div class="cls">{circle_svg(8).replace(GAP_COLOUR, colour)} {esc(name)}: '
            f"{esc(fmt_num(float(p[col].sum()), canvas.lang, 0))}</div>"
        )
    canvas.legend.append(
        f'<div class="sec" data-layer="unserved" data-max="{vmax:.6g}"><h4>{esc(canvas.t("unserved"))}</h4>'
        f'{"".join(rows)}<div class="note">{esc(canvas.t("consult_unit"))}; {esc(canvas.t("estimated"))}</div></div>'
    )


def add_sites(canvas: Canvas) -> None:
    """Add a scenario's new sites, numbered in the order chosen, with their timetable in the popup."""
    sites = canvas.data.sites
    if sites is None or sites.empty:
        return
    tt = canvas.data.timetable
    pts = to_wgs84(sites.sort_values("order"))
    name = canvas.t("new_sites")
    fg = folium.FeatureGroup(name=esc(name), show=True)
    items = []
    for _, r in pts.iterrows():
        rows = [
            (esc(canvas.t("order")), esc(int(r["order"]))),
            (esc(canvas.t("name")), esc(r["name"])),
            (esc(canvas.t("type")), esc(r.get("type"))),
            (esc(canvas.t("marginal_demand")), esc(fmt_num(r.get("marginal_demand"), canvas.lang, 1))),
        ]
        popup = popup_table(rows)
        if tt is not None and not tt.empty:
            mine = tt[tt["venue_id"].astype(str) == str(r["id"])]
            if not mine.empty:
                head = "".join(f"<th>{esc(canvas.t(k))}</th>" for k in ("team", "day", "dagdeel"))
                body = "".join(
                    f"<tr><td>{esc(x['team'])}</td><td>{esc(x['day'])}</td><td>{esc(x['dagdeel'])}</td></tr>"
                    for _, x in mine.iterrows()
                )
                popup += f'<h4>{esc(canvas.t("timetable"))}</h4><table class="gp-pop"><tr>{head}</tr>{body}</table>'
        svg = svg_marker("circle", SITE_COLOUR, 22, str(int(r["order"])))
        items.append(
            [round_coord(r.geometry.y), round_coord(r.geometry.x), f"{int(r['order'])}. {esc(r['name'])}", popup, svg]
        )
    # z: Leaflet stacks markers by latitude; new sites must stay on top of the rank labels
    PointBatch(items, "icon", {"size": 22, "interactive": True, "z": 1000}).add_to(fg)
    canvas.add(fg, name)
    canvas.legend.append(
        f'<div class="sec" data-layer="sites" data-count="{len(pts)}"><h4>{esc(name)}</h4>'
        f"{svg_marker('circle', SITE_COLOUR, 18, '1')} {len(pts)}</div>"
    )
