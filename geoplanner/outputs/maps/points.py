"""The point layers of an interactive map: services, rows not counted as supply, the gap, unserved, new sites.

Each ``add_*`` function adds its layer(s) to a :class:`geoplanner.outputs.maps.layers.Canvas` and
appends its legend section.
"""

from __future__ import annotations

import math

import folium
import geopandas as gpd
import pandas as pd

from geoplanner.core.i18n import fmt_num, value_label
from geoplanner.outputs.maps.data import gap_values
from geoplanner.outputs.maps.elements import PointBatch
from geoplanner.outputs.maps.geojson import to_wgs84
from geoplanner.outputs.maps.layers import Canvas
from geoplanner.outputs.maps.markup import (
    EXCLUDED_MARKER,
    circle_svg,
    esc,
    lgn_label,
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

__all__ = ["add_services", "add_excluded_services", "add_gap", "add_unserved", "add_sites", "add_site_layer",
           "service_popup"]  # fmt: skip


def _address(r: pd.Series) -> str:
    return " ".join(
        str(r[c]).removesuffix(".0")
        for c in ("street", "number", "postcode", "commune")
        if c in r and pd.notna(r[c]) and str(r[c]).strip()
    )


def _lgn_of(r: pd.Series) -> int | None:
    """Return the LGN a point lies in (None when unknown): the sixth item of its batch, for the LGN selector."""
    v = r.get("lgn")
    return None if v is None or pd.isna(v) else int(v)


def _provenance(canvas: Canvas, source: object) -> str:
    """Return where a row comes from (URLs, files, commits), folded on a details line under the popup (escaped)."""
    if source is None or (isinstance(source, float) and math.isnan(source)) or not str(source).strip():
        return ""
    parts = "<br>".join(esc(p.strip()) for p in str(source).split(" ; ") if p.strip())
    return f'<details class="gp-src"><summary>{esc(canvas.t("provenance"))}</summary>{parts}</details>'


def service_popup(canvas: Canvas, r: pd.Series, *extra: tuple[str, str]) -> str:
    """Return a service's popup: name, address, type in words, its LGN, then ``extra`` rows; provenance folded."""
    lang = canvas.lang
    fields = [
        (esc(canvas.t("name")), esc(r["name"])),
        (esc(canvas.t("address")), esc(_address(r))),
        (esc(canvas.t("type")), esc(value_label("type", r.get("type"), lang) if pd.notna(r.get("type")) else "")),
        *([(esc(canvas.t("lgn")), esc(lgn_label(r["lgn"])))] if _lgn_of(r) is not None else []),
        *extra,
    ]
    return popup_table(fields) + _provenance(canvas, r.get("source"))


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
            approx = bool(r.get("approximate", False))
            extra = [(esc(canvas.t("approximate")), esc(canvas.t("yes") if approx else canvas.t("no")))]
            radius = pd.to_numeric(r.get("uncertainty_m"), errors="coerce")
            if pd.notna(radius):  # geocoded rows: the radius that holds the true address ~9 times in 10
                extra.append((esc(canvas.t("uncertainty")), esc(f"± {float(radius):.0f} m")))
            popup = service_popup(canvas, r, *extra)
            colour = type_colour[str(r["type"]) if pd.notna(r["type"]) else ""]
            svg = svg_marker(layer_shape[layer_name], colour)
            items.append([round_coord(r.geometry.y), round_coord(r.geometry.x), esc(r["name"]), popup, svg, _lgn_of(r)])
        PointBatch(items, "icon", {"size": 14, "interactive": True}).add_to(fg)
        canvas.add(fg, name)
    shapes = "".join(
        f'<div class="cls">{svg_marker(layer_shape[n], "#ffffff", 12)} {esc(canvas.set_label(n))}</div>' for n in layers
    )
    colours = "".join(
        f'<div class="cls" data-type="{esc(t)}"><span class="sw" style="background:{type_colour[t]}"></span>'
        f"{esc(value_label('type', t, canvas.lang) if t else canvas.t('no_data'))}</div>"
        for t in types
    )
    canvas.add_legend(
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
        status = value_label("service_status", r.get("status"), canvas.lang) if pd.notna(r.get("status")) else ""
        popup = service_popup(
            canvas,
            r,
            (esc(canvas.t("service_status")), esc(status)),
            (esc(canvas.t("excluded_reason")), esc(r.get("excluded_reason"))),
        )
        tip = f"{esc(r['name'])} ({esc(status or canvas.t('excluded_services'))})"
        items.append([round_coord(r.geometry.y), round_coord(r.geometry.x), tip, popup, EXCLUDED_MARKER, _lgn_of(r)])
    PointBatch(items, "icon", {"size": 12, "interactive": True}).add_to(fg)
    canvas.add(fg, name)
    canvas.add_legend(
        f'<div class="sec" data-layer="excluded_services" data-count="{len(pts)}">'
        f"<h4>{esc(name)}</h4>{EXCLUDED_MARKER} {len(pts)}</div>"
    )


def add_gap(canvas: Canvas) -> None:
    """Children beyond the threshold per sector, as circles sized by their number, one layer per set."""
    gaps = gap_values(canvas.data)
    if gaps.empty:
        return
    pts = canvas.data.sectors[[c for c in ("cd_sector", "lgn", "geometry") if c in canvas.data.sectors.columns]].copy()
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
        cols = [c for c in ("cd_sector", "gap", "lgn") if c in p.columns]
        for r, x, y in zip(p[cols].to_dict("records"), p.geometry.x, p.geometry.y, strict=True):
            where = f" ({esc(lgn_label(r['lgn']))})" if _lgn_of(r) is not None else ""
            tip = (
                f"{esc(names[r['cd_sector']])}{where}: ≈ {esc(fmt_num(r['gap'], canvas.lang, 1))} "
                f"{esc(canvas.t('gap_unit'))} {thr} {esc(canvas.t('minutes'))} ({esc(canvas.t('estimated'))})"
            )
            radius = round(max(2.0, GAP_MAX_RADIUS * math.sqrt(r["gap"] / gmax)), 2)
            items.append([round_coord(y), round_coord(x), tip, "", radius, _lgn_of(r)])
        style = {"color": GAP_COLOUR, "weight": 1, "fillColor": GAP_COLOUR, "fillOpacity": 0.45}
        PointBatch(items, "circle", style).add_to(fg)
        canvas.add(fg, name)
    total = float(gaps.groupby("service_set")["gap"].sum().iloc[0])
    rows = "".join(
        f'<div class="cls">{circle_svg(GAP_MAX_RADIUS * math.sqrt(v / gmax))} {esc(fmt_num(v, canvas.lang, 1))}</div>'
        for v in (gmax, gmax / 4)
        if v > 0
    )
    canvas.add_legend(
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
    pts = canvas.data.sectors[[c for c in ("cd_sector", "lgn", "geometry") if c in canvas.data.sectors.columns]].copy()
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
            where = f" ({esc(lgn_label(r['lgn']))})" if _lgn_of(r) is not None else ""
            tip = (
                f"{esc(names[r['cd_sector']])}{where}: ≈ {esc(fmt_num(r[col], canvas.lang, 0))} "
                f"{esc(canvas.t('consult_unit'))} ({esc(canvas.t('estimated'))})"
            )
            radius = round(max(2.0, GAP_MAX_RADIUS * math.sqrt(r[col] / vmax)), 2)
            items.append([round_coord(r.geometry.y), round_coord(r.geometry.x), tip, "", radius, _lgn_of(r)])
        PointBatch(items, "circle", {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.45}).add_to(fg)
        canvas.add(fg, name)
        rows.append(
            f'<div class="cls">{circle_svg(8).replace(GAP_COLOUR, colour)} {esc(name)}: '
            f"{esc(fmt_num(float(p[col].sum()), canvas.lang, 0))}</div>"
        )
    canvas.add_legend(
        f'<div class="sec" data-layer="unserved" data-max="{vmax:.6g}"><h4>{esc(canvas.t("unserved"))}</h4>'
        f'{"".join(rows)}<div class="note">{esc(canvas.t("consult_unit"))}; {esc(canvas.t("estimated"))}</div></div>'
    )


def add_sites(canvas: Canvas) -> None:
    """Add a scenario's new sites, numbered in the order chosen, with their timetable in the popup."""
    sites = canvas.data.sites
    if sites is None or sites.empty:
        return
    name = canvas.t("new_sites")
    add_site_layer(canvas, sites, canvas.data.timetable, name, SITE_COLOUR)
    canvas.add_legend(
        f'<div class="sec" data-layer="sites" data-count="{len(sites)}"><h4>{esc(name)}</h4>'
        f"{svg_marker('circle', SITE_COLOUR, 18, '1')} {len(sites)}</div>"
    )


def add_site_layer(
    canvas: Canvas, sites: gpd.GeoDataFrame, timetable: pd.DataFrame | None, name: str, colour: str,
    shape: str = "circle", show: bool = True,
) -> None:  # fmt: skip
    """Add one layer of new sites (numbered markers in ``colour``), each with its sessions in the popup."""
    pts = to_wgs84(sites.sort_values("order"))
    fg = folium.FeatureGroup(name=esc(name), show=show)
    items = []
    for _, r in pts.iterrows():
        rows = [
            (esc(canvas.t("order")), esc(int(r["order"]))),
            (esc(canvas.t("name")), esc(r["name"])),
            (esc(canvas.t("type")), esc(value_label("type", r.get("type"), canvas.lang))),
            *([(esc(canvas.t("lgn")), esc(lgn_label(r["lgn"])))] if _lgn_of(r) is not None else []),
            (esc(canvas.t("marginal_demand")), esc(fmt_num(r.get("marginal_demand"), canvas.lang, 1))),
        ]
        popup = popup_table(rows)
        if timetable is not None and not timetable.empty:
            mine = timetable[timetable["venue_id"].astype(str) == str(r["id"])]
            if not mine.empty:
                head = "".join(f"<th>{esc(canvas.t(k))}</th>" for k in ("team", "day", "dagdeel"))
                body = "".join(
                    f"<tr><td>{esc(x['team'])}</td><td>{esc(value_label('day', x['day'], canvas.lang))}</td>"
                    f"<td>{esc(value_label('dagdeel', x['dagdeel'], canvas.lang))}</td></tr>"
                    for _, x in mine.iterrows()
                )
                popup += f'<h4>{esc(canvas.t("timetable"))}</h4><table class="gp-pop"><tr>{head}</tr>{body}</table>'
        svg = svg_marker(shape, colour, 22, str(int(r["order"])))
        tip = f"{int(r['order'])}. {esc(r['name'])}"
        items.append([round_coord(r.geometry.y), round_coord(r.geometry.x), tip, popup, svg, _lgn_of(r)])
    # z: Leaflet stacks markers by latitude; new sites must stay on top of the rank labels
    PointBatch(items, "icon", {"size": 22, "interactive": True, "z": 1000}).add_to(fg)
    canvas.add(fg, name)
