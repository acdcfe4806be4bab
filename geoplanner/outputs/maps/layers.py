"""The area layers of an interactive map: outlines, need, priority wijken, walking time, isochrones.

Each ``add_*`` function adds its layer(s) to a :class:`Canvas` (the folium map being filled) and
appends its legend section; the point layers are in :mod:`geoplanner.outputs.maps.points`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geoplanner.core.i18n import fmt_num, label
from geoplanner.outputs.maps.data import MapData, MapScales, commune_outlines
from geoplanner.outputs.maps.elements import PointBatch
from geoplanner.outputs.maps.geojson import MAP_TOLERANCE_M, geojson, geojson_layer, to_wgs84
from geoplanner.outputs.maps.markup import esc, legend_classes, lgn_label, popup_table, round_coord, sector_name
from geoplanner.outputs.maps.style import (
    BIRTH_COLOURS,
    DEPRIVATION_COLOURS,
    MINUTE_BREAKS,
    MINUTE_COLOURS,
    THRESHOLD_COLOURS,
    classify,
    palette,
)

__all__ = ["Canvas", "add_outlines", "add_need", "add_priority", "add_walking_time", "add_isochrones"]


@dataclass
class Canvas:
    """One folium map being filled with the layers of one :class:`MapData`, and its legend.

    Attributes
    ----------
    m
        The map (or one half of a side-by-side map).
    data
        What the map shows.
    scales
        Class breaks (shared by maps drawn side by side).
    lang
        Language of the labels.
    legend
        HTML sections of the legend, in layer order (already escaped), each wrapped with the layers it describes
        (:meth:`add_legend`): the page shows a section only while one of its layers is on.
    names
        Layer-control entries, in order.
    """

    m: folium.Map
    data: MapData
    scales: MapScales
    lang: str
    legend: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    pending: list[tuple[str, bool]] = field(default_factory=list)

    def t(self, key: str) -> str:
        """Return the label ``key`` in the map's language."""
        return label(key, self.lang)

    def set_label(self, code: Any) -> str:
        """Return the display name of a service set or layer (the code itself when it has none)."""
        return self.data.labels.get(str(code), str(code))

    def add(self, layer: Any, name: str) -> None:
        """Add a layer to the map and its entry to the layer control."""
        layer.add_to(self.m)
        self.names.append(name)
        self.pending.append((name, bool(getattr(layer, "show", True))))

    def add_legend(self, section: str) -> None:
        """Add a legend section for the layers added since the last one (hidden while all of them are off)."""
        names = [n for n, _ in self.pending]
        shown = any(on for _, on in self.pending) or not names
        self.pending = []
        hidden = "" if shown else ' style="display:none"'
        self.legend.append(f'<div class="gp-leg" data-names="{esc(json.dumps(names))}"{hidden}>{section}</div>')

    def place_rows(self, row: dict[str, Any]) -> list[tuple[str, str]]:
        """Popup rows naming where a sector lies: its wijk and its LGN (escaped)."""
        rows = []
        wijken = self.data.wijken
        if wijken is not None and "mdrc" in row and pd.notna(row.get("mdrc")):
            names = _wijk_names(wijken, self.lang)
            rows.append((esc(self.t("wijk")), esc(names.get(int(row["mdrc"]), ""))))
        if "lgn" in row and pd.notna(row.get("lgn")):
            rows.append((esc(self.t("lgn")), esc(lgn_label(row["lgn"]))))
        return rows


_WIJK_NAMES: dict[tuple[int, str], dict[int, str]] = {}


def _wijk_names(wijken: pd.DataFrame, lang: str) -> dict[int, str]:
    """Return the display name of each wijk by its code (kept per table: every tooltip of a map asks)."""
    key = (id(wijken), lang)
    if key not in _WIJK_NAMES:
        col = "name_fr" if lang == "fr" and "name_fr" in wijken.columns else "name_nl"
        _WIJK_NAMES.clear()
        _WIJK_NAMES[key] = {int(m): str(n) for m, n in zip(wijken["mdrc"], wijken[col], strict=True)}
    return _WIJK_NAMES[key]


def add_outlines(canvas: Canvas) -> None:
    """Commune outlines (dissolved from the sectors) and, when given, the wijk outlines."""
    communes = commune_outlines(canvas.data.sectors)
    fg = folium.FeatureGroup(name=esc(canvas.t("outlines")), show=True)
    geojson(
        communes,
        [],
        MAP_TOLERANCE_M,
        True,
        style_function=lambda f: {"color": "#444", "weight": 1.6, "fill": False},
        interactive=False,
    ).add_to(fg)
    if canvas.data.wijken is not None:
        geojson(
            canvas.data.wijken,
            [],
            MAP_TOLERANCE_M,
            True,
            style_function=lambda f: {"color": "#888", "weight": 0.6, "fill": False, "dashArray": "3"},
            interactive=False,
        ).add_to(fg)
    canvas.add(fg, canvas.t("outlines"))
    canvas.pending.clear()  # no legend of its own


def add_need(canvas: Canvas) -> None:
    """Births per sector in classes (with their status) and, when known, the deprivation index."""
    s = canvas.data.sectors.copy()
    lang = canvas.lang
    births = s["births"].to_numpy(dtype=float)
    br = canvas.scales.births
    colours = palette(len(br) - 1, BIRTH_COLOURS)
    cls = classify(births, br)
    s["fill"] = [colours[c] if c >= 0 else "#ffffff" for c in cls]
    status_col = "births_status" if "births_status" in s.columns else None
    known = ("observed", "derived", "estimated", "mixed")
    tips = []
    for row in pd.DataFrame(s.drop(columns="geometry")).to_dict("records"):  # dicts: far faster than iterrows
        status = canvas.t(row[status_col]) if status_col and row[status_col] in known else ""
        rows = [
            (esc(canvas.t("sector")), esc(sector_name(row, lang))),
            *canvas.place_rows(row),
            (esc(canvas.t("births")), esc(f"{fmt_num(row['births'], lang, 1)} ({status})")),
            (esc(canvas.t("pop_0_2")), esc(fmt_num(row.get("pop_0_2"), lang, 1))),
        ]
        if "deprivation" in s.columns:
            rows.append((esc(canvas.t("deprivation")), esc(fmt_num(row["deprivation"], lang, 2))))
        tips.append(popup_table(rows))
    s["tip"] = tips
    present = [k for k in known if status_col and (s[status_col] == k).any()] or ["estimated"]
    name = f"{canvas.t('births')} ({', '.join(canvas.t(k) for k in present)})"
    style = {"color": "#999", "weight": 0.3, "fillOpacity": 0.7}
    # off at first: the maps answer "who is far from a service?" (walking time and the gap are on)
    canvas.add(geojson_layer(s, name, style, show=False), name)
    counts = np.bincount(cls[cls >= 0], minlength=len(br) - 1)
    canvas.add_legend(
        f'<div class="sec" data-layer="births"><h4>{esc(name)}</h4>'
        f"{legend_classes(br, colours, counts, lang)}"
        f'<div class="note">{esc(canvas.t("births_unit"))}</div></div>'
    )
    if canvas.scales.deprivation is not None:
        dr = canvas.scales.deprivation
        dcol = palette(len(dr) - 1, DEPRIVATION_COLOURS)
        dcls = classify(s["deprivation"].to_numpy(dtype=float), dr)
        s["fill"] = [dcol[c] if c >= 0 else "#ffffff" for c in dcls]
        dname = canvas.t("deprivation")
        canvas.add(geojson_layer(s, dname, style, show=False), dname)
        dcounts = np.bincount(dcls[dcls >= 0], minlength=len(dr) - 1)
        canvas.add_legend(
            f'<div class="sec" data-layer="deprivation"><h4>{esc(dname)}</h4>'
            f"{legend_classes(dr, dcol, dcounts, lang)}</div>"
        )


def add_priority(canvas: Canvas) -> None:
    """Outline the priority wijken, with their rank, score and (after a stability run) how sure."""
    w = canvas.data.wijken
    if w is None or "priority" not in w.columns:
        return
    w = w[w["priority"].astype(bool)].sort_values("rank").copy()
    name_col = "name_fr" if canvas.lang == "fr" else "name_nl"
    w["tip"] = [
        popup_table(
            [
                (esc(canvas.t("rank")), esc(int(r["rank"]))),
                (esc(canvas.t("wijk")), esc(r[name_col])),
                *([(esc(canvas.t("lgn")), esc(lgn_label(r["lgn"])))] if pd.notna(r.get("lgn")) else []),
                (esc(canvas.t("score")), esc(fmt_num(r.get("score"), canvas.lang, 2))),
                *_stability_rows(canvas, r),
            ]
        )
        for _, r in w.iterrows()
    ]
    name = canvas.t("priority")
    fg = folium.FeatureGroup(name=esc(name), show=True)
    outline = {"color": "#000", "weight": 2.5, "fill": True, "fillOpacity": 0.0}
    geojson_layer(w, name, outline, show=True).add_to(fg)
    pts = to_wgs84(gpd.GeoDataFrame(w[["rank"]], geometry=w.representative_point(), crs=w.crs))
    items = [
        [round_coord(r.geometry.y), round_coord(r.geometry.x), "", "", f'<div class="gp-rank">{int(r["rank"])}</div>']
        for _, r in pts.iterrows()
    ]
    PointBatch(items, "icon", {"size": 16, "interactive": False}).add_to(fg)
    canvas.add(fg, name)
    canvas.add_legend(
        f'<div class="sec" data-layer="priority" data-count="{len(w)}"><h4>{esc(name)}</h4>'
        f'<span class="sw" style="border:2.5px solid #000;background:none"></span>{len(w)}</div>'
    )


def _stability_rows(canvas: Canvas, r: pd.Series) -> list[tuple[str, str]]:
    """Popup rows on how sure the wijk's place in the selection is (empty without a stability run)."""
    p = r.get("p_top")
    if p is None or not np.isfinite(float(p)):
        return []
    rows = [
        (esc(canvas.t("p_top")), esc(f"{fmt_num(100 * float(p), canvas.lang, 1)} %")),
        (esc(canvas.t("stability")), esc(canvas.t(f"stability_{r['stability']}"))),
    ]
    if np.isfinite(float(r.get("rank_p05", np.nan))):
        rows.append((esc(canvas.t("rank_range")), esc(f"{int(r['rank_p05'])}–{int(r['rank_p95'])}")))
    return rows


def _coverage_geo(data: MapData) -> gpd.GeoDataFrame:
    """Return the coverage rows with their sector polygons."""
    cov = data.coverage
    assert cov is not None
    base = data.sectors[[c for c in ("cd_sector", "sector_name_nl", "sector_name_fr", "mdrc", "lgn", "geometry")
                         if c in data.sectors.columns]]  # fmt: skip
    cols = ["cd_sector", *[c for c in cov.columns if c not in base.columns]]
    merged = base.merge(pd.DataFrame(cov[cols]), on="cd_sector", how="inner")
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=data.sectors.crs)


def add_walking_time(canvas: Canvas) -> None:
    """Mean walking time per sector to the nearest service, one layer per service set."""
    if canvas.data.coverage is None or "mean_min" not in canvas.data.coverage.columns:
        return
    cov = _coverage_geo(canvas.data)
    breaks = (*MINUTE_BREAKS, math.inf)
    for set_name, part in cov.groupby("service_set", sort=True):
        part = part.copy()
        minutes = part["mean_min"].to_numpy(dtype=float)
        cls = classify(minutes, breaks)
        part["fill"] = [MINUTE_COLOURS[c] if c >= 0 else "#bbbbbb" for c in cls]
        part["tip"] = [
            popup_table(
                [
                    (esc(canvas.t("sector")), esc(sector_name(r, canvas.lang))),
                    *canvas.place_rows(r),
                    (esc(canvas.t("mean_min")), esc(f"{fmt_num(r['mean_min'], canvas.lang, 1)} {canvas.t('minutes')}")),
                ]
            )
            for r in pd.DataFrame(part.drop(columns="geometry")).to_dict("records")
        ]
        name = f"{canvas.t('walk_time')} — {canvas.set_label(set_name)}"
        style = {"color": "#999", "weight": 0.3, "fillOpacity": 0.7}
        canvas.add(geojson_layer(part, name, style, show=True), name)  # the map's question: who is far?
    rows = "".join(
        f'<div class="cls"><span class="sw" style="background:{c}"></span>'
        f"{lo}{'–' + str(hi) if math.isfinite(hi) else '+'} {esc(canvas.t('minutes'))}</div>"
        for lo, hi, c in zip(breaks[:-1], breaks[1:], MINUTE_COLOURS, strict=True)
    )
    canvas.add_legend(f'<div class="sec" data-layer="walk_time"><h4>{esc(canvas.t("walk_time"))}</h4>{rows}</div>')


def add_isochrones(canvas: Canvas) -> None:
    """Areas within each threshold of the services (their union), one layer per set and threshold."""
    iso = canvas.data.isochrones
    if iso is None or iso.empty:
        return
    iso = iso[iso["service_id"].astype(str) == "*"] if (iso["service_id"].astype(str) == "*").any() else iso
    seen = []
    for (set_name, thr), part in iso.groupby(["service_set", "threshold_min"], sort=True):
        colour = THRESHOLD_COLOURS.get(int(thr), "#999999")
        part = part.dissolve()[["geometry"]]
        name = f"{canvas.t('isochrone')} {int(thr)} {canvas.t('minutes')} — {canvas.set_label(set_name)}"
        style = {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.25}
        canvas.add(geojson_layer(part, name, style, show=False, coverage=False), name)
        seen.append(int(thr))
    rows = "".join(
        f'<div class="cls"><span class="sw" style="background:{THRESHOLD_COLOURS.get(t, "#999999")};opacity:.6">'
        f"</span>{t} {esc(canvas.t('minutes'))}</div>"
        for t in sorted(set(seen))
    )
    canvas.add_legend(f'<div class="sec" data-layer="isochrones"><h4>{esc(canvas.t("isochrone"))}</h4>{rows}</div>')
