"""Interactive maps: layers, legend against the data, escaping, labels, offline assets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from _mapdata import shared_map_data, shared_scenario  # tests/_mapdata.py

from geoplanner.core.errors import ConfigError, DataError, DataMissingError
from geoplanner.core.i18n import LABELS, fmt_num, label
from geoplanner.outputs import maps
from geoplanner.outputs.maps import assets


@pytest.fixture(scope="module")
def map_data(need_sectors, ranking) -> maps.MapData:
    return shared_map_data(need_sectors, ranking)


@pytest.fixture(scope="module")
def gap_map(map_data):
    return maps.build_gap_map(map_data)


@pytest.fixture(scope="module")
def gap_html(gap_map) -> str:
    return maps.render_html(gap_map)


def test_gap_map_layers(gap_map, map_data):
    names = maps.layer_names(gap_map)
    assert names[0] == label("basemap")
    assert "Geboorten per sector (afgeleid, geschat)" in names
    assert "Prioritaire wijken (rang)" in names
    assert "Wandeltijd — K&G + ONE" in names
    assert "Isochroon 10 min — K&G + ONE" in names and "Isochroon 15 min — K&G + ONE" in names
    assert "Niet-bereikte jonge kinderen (> 15 min) — K&G + ONE" in names
    assert {"Diensten — Kind & Gezin", "Diensten — one", "Diensten — hvhk"} <= set(names)
    assert len(names) == len(set(names))


def test_escaping_in_saved_html(gap_html):
    # The hostile name reaches the page only in escaped form: no tag, no template interpolation.
    # Point data travels as JSON strings, so look at the page with those decoded as well.
    gap_html = page_text(gap_html)
    assert "<script>window.__xss" not in gap_html
    assert "${window.__xss2" not in gap_html
    assert "<img src=x" not in gap_html
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;&#36;{window.__xss2=1}&#96;&lt;img" in gap_html
    assert "&lt;b&gt;not bold&lt;/b&gt;" in gap_html
    # The title, a user string, is escaped as well.
    assert "Test &lt;b&gt;gap&lt;/b&gt;" in gap_html


def test_esc_covers_js_template_literals():
    assert maps.esc("a`b${c}") == "a&#96;b&#36;{c}"
    assert maps.esc(float("nan")) == ""
    assert maps.esc("\"x\" & 'y'") == "&quot;x&quot; &amp; &#x27;y&#x27;"


def page_text(page: str) -> str:
    """Undo the ``\\uXXXX`` escapes of JSON-encoded strings in a page (legends, batches)."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page).replace('\\"', '"')


def _legend_classes(page: str, layer: str) -> list[tuple[float, float, int]]:
    # The legend reaches the page JSON-encoded (tojson turns < > & ' into \\u escapes).
    text = page_text(page)
    sec = re.search(rf'data-layer="{layer}">(.*?)</div></div>', text, re.S)
    assert sec, f"no legend section {layer}"
    return [
        (float(a), float(b), int(c))
        for a, b, c in re.findall(r'data-lo="([^"]+)" data-hi="([^"]+)" data-count="(\d+)"', sec.group(1))
    ]


def test_legend_matches_data(gap_html, map_data):
    births = map_data.sectors["births"].to_numpy(dtype=float)
    classes = _legend_classes(gap_html, "births")
    assert len(classes) == 5
    lo, hi = classes[0][0], classes[-1][1]
    assert lo <= births.min() and hi >= births.max()
    assert hi - births.max() < 1 and births.min() - lo < 1  # breaks hug the data
    assert sum(c for *_, c in classes) == len(births)
    for a, b, count in classes:  # each class counts exactly the sectors in it
        inside = ((births >= a) & (births < b)) if b != hi else ((births >= a) & (births <= b))
        assert inside.sum() == count
    dep = _legend_classes(gap_html, "deprivation")
    assert sum(c for *_, c in dep) == map_data.sectors["deprivation"].notna().sum()
    text = page_text(gap_html)
    prio = re.search(r'data-layer="priority" data-count="(\d+)"', text)
    assert prio and int(prio.group(1)) == int(map_data.wijken["priority"].sum()) == 21
    gap = re.search(r'data-layer="gap" data-max="([^"]+)" data-total="([^"]+)"', text)
    cov = map_data.coverage
    expected = (cov["pop_0_2"] - cov["within_15_min"]).clip(lower=0)
    assert float(gap.group(1)) == pytest.approx(expected.max(), rel=1e-5)
    assert float(gap.group(2)) == pytest.approx(expected.sum(), rel=1e-5)


def test_attribution_and_default_assets(gap_html):
    text = page_text(gap_html)
    for src in ("© OpenStreetMap contributors", "Statbel", "IBSA", "GHSL"):
        assert src in text
    urls = re.findall(r'(?:src|href)="(https?://[^"]+)"', gap_html)
    assert urls and all(u.startswith("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/") for u in urls)


def test_labels_in_french_and_english(map_data):
    m = maps.build_gap_map(map_data, lang="fr")
    assert "Naissances par secteur (dérivé, estimé)" in maps.layer_names(m)
    m = maps.build_gap_map(map_data, lang="en")
    assert "Births per sector (derived, estimated)" in maps.layer_names(m)
    with pytest.raises(ConfigError, match="unknown language"):
        maps.build_gap_map(map_data, lang="de")
    assert set(LABELS["nl"]) == set(LABELS["fr"]) == set(LABELS["en"])
    assert fmt_num(1234.5, "nl", 1) == "1.234,5" and fmt_num(1234.5, "en", 1) == "1,234.5"


def test_scenario_and_dual_map_share_scales(map_data):
    a = shared_scenario(map_data, "A", 4)
    b = shared_scenario(map_data, "B", 8)
    dual = maps.build_dual_map(a, b)
    assert "Nieuwe locaties" in dual.m1.gp_layers and "Nieuwe locaties" in dual.m2.gp_layers
    page = maps.render_html(dual)
    text = page_text(page)
    births = re.findall(r'data-layer="births">.*?</div></div>', text, re.S)
    assert len(births) == 2 and births[0] == births[1]  # same classes, same colours
    gaps = re.findall(r'data-layer="gap" data-max="([^"]+)"', text)
    assert len(gaps) == 2 and gaps[0] == gaps[1]
    assert "gh/jieter" not in page and "leaflet.sync@0.2.4/L.Map.Sync.js" in page
    single = maps.render_html(maps.build_scenario_map(b))
    assert re.search(r'data-layer="sites" data-count="8"', page_text(single))


def test_missing_coverage_threshold_is_named(map_data):
    data = maps.MapData(**{**map_data.__dict__, "threshold_min": 12})
    with pytest.raises(DataError, match="within_12_min"):
        maps.build_gap_map(data)


def test_self_contained_needs_fetched_assets(gap_map, tmp_path: Path):
    with pytest.raises(DataMissingError, match="geoplanner assets fetch"):
        maps.render_html(gap_map, self_contained=True, assets_dir=tmp_path / "assets")
    with pytest.raises(DataError, match="not a pinned asset"):
        assets.inline_assets('<script src="https://example.org/x.js"></script>', tmp_path / "assets")


def test_inline_assets_from_cache(tmp_path: Path):
    # A fake cache laid out like the real one: inlining is pure text work.
    root = tmp_path / "assets" / "leaflet@1.9.3" / "dist"
    (root / "images").mkdir(parents=True)
    (root / "leaflet.js").write_text("var L = {}; // </script> inside", encoding="utf-8")
    (root / "leaflet.css").write_text(".x{background:url(images/layers.png)}", encoding="utf-8")
    (root / "images" / "layers.png").write_bytes(b"\x89PNG")
    page = (
        f'<head><script src="{assets.cdn_url("leaflet", "dist/leaflet.js")}"></script>\n'
        f'<link rel="stylesheet" href="{assets.cdn_url("leaflet", "dist/leaflet.css")}"/></head>'
    )
    out = assets.inline_assets(page, tmp_path / "assets")
    assert "https://" not in out
    assert "<\\/script> inside" in out
    assert "url(data:image/png;base64,iVBORw==)" in out
    local = assets.localize_assets(page, tmp_path / "assets")
    assert (root / "leaflet.js").resolve().as_uri() in local


def _shared_arrays(page: str) -> dict[str, list]:
    """The data the page writes once (``function gp_…() { return … = [...]; }``), by name."""
    found = re.findall(r"function (gp_(?:geom|text)_[0-9a-f]+)\(\) \{ return \1\.v \|\| \(\1\.v = (.*?)\); \}\n", page)
    return {name: json.loads(text) for name, text in found}


def test_sector_polygons_written_once_simplified_to_the_map_scale(map_data):
    import geopandas as gpd
    import shapely

    from geoplanner.core import settings

    dual = maps.build_dual_map(shared_scenario(map_data, "A", 4), shared_scenario(map_data, "B", 8))
    page = maps.render_html(dual)
    shared = _shared_arrays(page)
    # 6 sector layers (births, deprivation, walking time in each half) read one array of polygons
    n = len(map_data.sectors)
    sector_sets = [k for k, v in shared.items() if k.startswith("gp_geom_") and len(v) == n]
    assert len(sector_sets) == 1
    assert page.count(f"{sector_sets[0]}()[i]") == 6
    # each layer's own features carry only their fill and stubs
    payloads = "".join(re.findall(r"geo_json_\w+_add\((\{.*?\})\);", page, re.S))
    assert payloads and '"bbox"' not in payloads and '"coordinates"' not in payloads
    drawn = gpd.GeoSeries.from_wkt(
        [shapely.to_wkt(shapely.from_geojson(json.dumps(g))) for g in shared[sector_sets[0]]], crs=settings.WGS84
    ).to_crs(settings.CRS)
    original = map_data.sectors.geometry.to_crs(settings.CRS)
    # within the 5 m tolerance plus the 1e-5 degree rounding (< 1 m), neighbours still tile the region
    far = [shapely.hausdorff_distance(a, b) for a, b in zip(drawn.values, original.values, strict=True)]
    assert max(far) <= maps.MAP_TOLERANCE_M + 1.5
    assert shapely.get_num_coordinates(drawn.values).sum() < 0.8 * shapely.get_num_coordinates(original.values).sum()
    overlap = shapely.union_all(drawn.values).area
    assert overlap == pytest.approx(drawn.area.sum(), rel=1e-3)
    assert overlap == pytest.approx(original.area.sum(), rel=2e-3)
    # tooltips shared between births and deprivation, as script-safe text
    tips = [v for k, v in shared.items() if k.startswith("gp_text_")]
    assert any(len(t) == n and all(s.startswith('<table class="gp-pop">') for s in t) for t in tips)
    assert "</" not in "".join(re.findall(r"function gp_text_[0-9a-f]+\(\) .*\n", page))
