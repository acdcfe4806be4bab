"""The generated maps opened the way a person opens them: in a real headless Chromium, offline.

Chromium runs with every host name resolving to nothing, so the page can only use what it
carries (self-contained file) or the local copies of the pinned assets (online file, with its
CDN links pointed at the cache: :func:`geoplanner.outputs.maps.assets.localize_assets`). The OSM tiles
cannot load; those failures are the only console errors allowed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _browser import offline_chromium  # tests/_browser.py
from _ci import need  # tests/_ci.py: skip on a developer machine, fail in CI
from _mapdata import XSS_NAME, shared_map_data, shared_scenario  # tests/_mapdata.py

from geoplanner.outputs import maps
from geoplanner.outputs.files import write_text
from geoplanner.outputs.maps import assets
from geoplanner.pipeline.assets import assets_dir

_TILE_HOSTS = ("tile.openstreetmap.org",)


@pytest.fixture(scope="module")
def browser():
    need(not assets.missing_assets(assets_dir()), "offline map assets are not cached: run `geoplanner assets fetch`")
    with offline_chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def map_data(need_sectors, ranking):
    return shared_map_data(need_sectors, ranking)


def _open(driver, path: Path) -> list[dict]:
    """Load ``path``; return the console errors that are not failed tile downloads."""
    driver.get_log("browser")  # drop what an earlier page left
    driver.get(path.resolve().as_uri())
    driver.execute_script("return document.readyState")
    logs = driver.get_log("browser")
    return [
        e
        for e in logs
        if e["level"] == "SEVERE" and not (e.get("source") == "network" and any(h in e["message"] for h in _TILE_HOSTS))
    ]


def _save_offline(m, path: Path) -> Path:
    """Write a map as a self-contained page (scripts inlined from the pinned files), as the map step does."""
    return write_text(path, maps.render_html(m, self_contained=True, assets_dir=assets_dir()))


def _layer_entries(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-control-layers label'))"
        ".map(function (l) { return l.textContent.trim(); });"
    )


def _assert_not_blank(driver, target: Path) -> None:
    from PIL import Image, ImageStat

    driver.save_screenshot(str(target))
    assert target.stat().st_size > 10_000
    img = Image.open(target).convert("RGB")
    colours = img.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50, "screenshot has almost no colours"
    assert max(ImageStat.Stat(img).stddev) > 20, "screenshot is nearly uniform"


def _check_map_page(driver, path: Path, expected_layers: list[str], shot: Path, n_maps: int = 1) -> None:
    errors = _open(driver, path)
    assert errors == [], f"JavaScript/console errors: {errors}"
    assert driver.execute_script("return typeof window.L === 'object' && typeof L.map === 'function'")
    assert driver.execute_script("return document.querySelectorAll('.leaflet-container').length") == n_maps
    assert _layer_entries(driver) == expected_layers
    # Vector layers were drawn (sector polygons), not just an empty map frame.
    assert driver.execute_script("return document.querySelectorAll('path.leaflet-interactive').length") > 100
    _assert_not_blank(driver, shot)


def _map_names(driver) -> list[str]:
    """The script names of the page's maps (the ids of their containers: the page numbers them in order)."""
    return driver.execute_script("return Array.from(document.querySelectorAll('.folium-map')).map(e => e.id)")


def test_online_map_with_local_assets(browser, map_data, tmp_path):
    m = maps.build_gap_map(map_data)
    page = assets.localize_assets(maps.render_html(m), assets_dir())
    path = tmp_path / "gap.html"
    path.write_text(page, encoding="utf-8")
    _check_map_page(browser, path, m.gp_layers, tmp_path / "gap.png")


def test_self_contained_map(browser, map_data, tmp_path):
    m = maps.build_gap_map(map_data, lang="fr")
    path = _save_offline(m, tmp_path / "gap_offline.html")
    page = path.read_text(encoding="utf-8")
    assert "<script src=" not in page and 'rel="stylesheet"' not in page
    _check_map_page(browser, path, m.gp_layers, tmp_path / "gap_offline.png")
    assert "Naissances par secteur (dérivé, estimé)" in _layer_entries(browser)


def test_dual_map_self_contained(browser, map_data, tmp_path):
    a = shared_scenario(map_data, "A", 4)
    b = shared_scenario(map_data, "B", 8)
    dual = maps.build_dual_map(a, b)
    path = _save_offline(dual, tmp_path / "dual.html")
    _check_map_page(browser, path, maps.layer_names(dual), tmp_path / "dual.png", n_maps=2)
    # Leaflet.Sync is loaded and the halves move together.
    left, right = _map_names(browser)
    assert browser.execute_script(f"return typeof {left}.sync === 'function'")
    browser.execute_script(f"{left}.setZoom(14, {{animate: false}});")
    assert browser.execute_script(f"return {right}.getZoom()") == 14


def test_dual_map_controls_and_markers_do_not_collide(browser, map_data, tmp_path):
    # Half a screen is narrow: the long source line must not cover the scale bar, and the
    # numbered new sites must stay on top of the priority-rank labels (Leaflet stacks markers
    # by latitude unless told otherwise).
    dual = maps.build_dual_map(shared_scenario(map_data, "A", 4), shared_scenario(map_data, "B", 8))
    path = _save_offline(dual, tmp_path / "dual.html")
    assert _open(browser, path) == []
    overlaps = browser.execute_script(
        """
        function box(el) { return el.getBoundingClientRect(); }
        function hit(a, b) {
            return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
        }
        return Array.from(document.querySelectorAll('.leaflet-container')).map(function (c) {
            var scale = c.querySelector('.leaflet-control-scale');
            var attr = c.querySelector('.leaflet-control-attribution');
            return [!!scale, !!attr, hit(box(scale), box(attr))];
        });
        """
    )
    assert overlaps == [[True, True, False], [True, True, False]]
    z = browser.execute_script(
        """
        var icons = Array.from(document.querySelectorAll('.leaflet-marker-icon.gp-icon'));
        function zs(list) { return list.map(function (el) { return parseInt(el.style.zIndex, 10); }); }
        return [zs(icons.filter(function (el) { return el.querySelector('.gp-rank'); })),
                zs(icons.filter(function (el) { return el.style.width === '22px'; }))];
        """
    )
    ranks, sites = z
    assert len(ranks) == 2 * 21 and len(sites) == 4 + 8
    assert min(sites) > max(ranks)


def test_hostile_names_show_as_text(browser, map_data, tmp_path):
    m = maps.build_gap_map(map_data)
    path = _save_offline(m, tmp_path / "xss.html")
    assert _open(browser, path) == []
    (name,) = _map_names(browser)
    # Open every popup and tooltip so their HTML is put into the page.
    shown = browser.execute_script(
        f"""
        var texts = [];
        {name}.eachLayer(function (layer) {{
            if (layer.getPopup && layer.getPopup()) {{
                layer.openPopup();
                texts.push(layer.getPopup().getElement().textContent);
                layer.closePopup();
            }}
            if (layer.getTooltip && layer.getTooltip()) {{
                layer.openTooltip();
                var el = layer.getTooltip().getElement();
                if (el) {{ texts.push(el.textContent); }}
                layer.closeTooltip();
            }}
        }});
        return texts;
        """
    )
    assert any(XSS_NAME in t for t in shown), "the hostile venue name is not shown as text"
    assert any("<b>not bold</b>" in t for t in shown)
    assert browser.execute_script("return [window.__xss, window.__xss2, window.__xss3]") == [None, None, None]
    assert browser.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
