"""A page per local network (LGN), as a coordinator opens it, and the LGN on the maps and in the tables.

The pages of one real main run (``main_run`` in conftest.py, self-contained when the Leaflet files are cached):
their figures are the region-wide CSV rows of their network, each opens offline in a headless Chromium with its
boundary, its priority wijken and its figures, and prints to A4. The gap map is read as written: its default
layers and its Dutch popups. Every output table is rounded to what it means.
"""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from _ci import need  # tests/_ci.py: skip on a developer machine, fail in CI

from geoplanner.inputs.lgn import LGN

NUMBERS = sorted(LGN)


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _page(out: Path, n: int) -> str:
    return (out / "lgn" / f"lgn_{n}.html").read_text(encoding="utf-8")


def _figures(page: str) -> dict[tuple[str, str], str]:
    """The page's figures table: (scenario, measure) -> the raw value the cell shows."""
    table = page[page.index('class="figures-table"') : page.index("</table>", page.index('class="figures-table"'))]
    out = {}
    for scenario, body in re.findall(r'<tr data-scenario="([^"]+)">(.*?)</tr>', table, re.S):
        for measure, value in re.findall(r'data-measure="([a-z_]+)"(?: data-value="([^"]*)")?', body):
            out[(scenario, measure)] = value
    return out


def test_run_writes_a_page_per_lgn_and_the_index(main_run):
    out, run = main_run
    pages = [out / "lgn" / f"lgn_{n}.html" for n in NUMBERS]
    assert set(pages) | {out / "lgn" / "index.html", out / "lgn" / "manifest.json"} <= set(run.outputs)
    assert "lgn" in run.timings and list(run.timings).index("lgn") == list(run.timings).index("report") + 1
    index = (out / "lgn" / "index.html").read_text(encoding="utf-8")
    for n in NUMBERS:
        assert f'href="lgn_{n}.html"' in index and html.escape(LGN[n][0], quote=False) in index
    manifest = json.loads((out / "lgn" / "manifest.json").read_text(encoding="utf-8"))
    assert {o["path"] for o in manifest["outputs"]} == {p.name for p in pages} | {"index.html"}


@pytest.mark.parametrize("n", NUMBERS)
def test_lgn_page_figures_are_the_region_wide_csv_rows(main_run, n):
    """Every figure of the page is its network's row of comparison_lgn.csv; births are sector_need.csv's."""
    out, _ = main_run
    page = _page(out, n)
    rows = [r for r in _csv(out / "compare" / "comparison_lgn.csv") if int(r["lgn"]) == n]
    shown = _figures(page)
    measures = {m for _, m in shown}
    assert measures == {"children", "children_within_threshold", "share_within_threshold", "consultations_demand",
                        "consultations_served", "share_consultations_served", "children_served",
                        "sessions_per_week"}  # fmt: skip
    assert {s for s, _ in shown} == {r["scenario"] for r in rows} and len(rows) >= 2
    for r in rows:
        for m in measures:
            assert float(shown[(r["scenario"], m)]) == float(r[m]), (n, r["scenario"], m)
    # the lead says the network's children (the CSV's) and births (the sectors' of sector_need.csv)
    births = sum(float(s["births"]) for s in _csv(out / "sector_need.csv") if int(s["lgn"]) == n)
    lead = re.search(r'<p class="lead">(.*?)</p>', page, re.S).group(1)
    numbers = [int(x.replace(".", "")) for x in re.findall(r"\d[\d.]*\d|\d", lead)]
    assert round(float(rows[0]["children"])) in numbers
    assert any(abs(x - births) <= 1.5 for x in numbers), (lead, births)  # the CSV's sectors are rounded to 0.1


@pytest.mark.parametrize("n", NUMBERS)
def test_lgn_page_lists_its_priority_wijken_and_its_sessions(main_run, n):
    out, _ = main_run
    page = _page(out, n)
    ranking = _csv(out / "priority_wijken.csv")
    own = {int(float(r["rank"])) for r in ranking if r["priority"] == "True" and int(r["lgn"]) == n}
    listed = {int(x) for x in re.findall(r'<tr data-mdrc="\d+" data-rank="(\d+)">', page)}
    assert own <= listed  # its own, and those with a part in it (said so on the page)
    # the mobile team's sessions in this network, exactly the timetable's rows of this LGN
    timetable = [r for r in _csv(out / "mobiel_2_teams" / "timetable.csv") if int(r["lgn"]) == n]
    start = page.find('id="sessions"')
    section = page[start : page.index("</section>", start)] if start >= 0 else ""
    assert section.count("<tr>") - section.count("<thead><tr>") == len(timetable)
    for r in timetable:
        assert html.escape(r["venue_name"], quote=False) in section
    # whom we still miss: the current situation first, then the scenario with new sessions
    titles = re.findall(r'<tr data-scenario="[^"]+"><td>(.*?)</td>', page)
    missed = page[page.index('id="missed"') :]
    assert len(titles) == 2 and [missed.index(f"<h3>{t}</h3>") for t in titles] == sorted(
        missed.index(f"<h3>{t}</h3>") for t in titles
    )


def test_gap_map_opens_on_walking_time_and_children_not_reached(main_run):
    """The gap map as written: walking time and the children not reached on, births off; Dutch popups."""
    out, _ = main_run
    page = (out / "maps" / "gap.html").read_text(encoding="utf-8")
    overlays = re.search(r"overlays\s*:\s*\{(.*?)\}", page, re.S).group(1)
    on = {}
    for name, var in re.findall(r'"((?:[^"\\]|\\.)*)"\s*:\s*([a-z_]+_[0-9a-f]{32})', overlays):
        label = html.unescape(json.loads(f'"{name}"'))
        on[label] = f"{var}.addTo(map_" in page
    births = next(k for k in on if k.startswith("Geboorten per sector"))
    walk = next(k for k in on if k.startswith("Wandeltijd"))
    gap = next(k for k in on if k.startswith("Niet-bereikte jonge kinderen"))
    assert not on[births] and on[walk] and on[gap], on
    assert on["Grenzen van de lokale netwerken (LGN)"] and not on["Kansarmoede (wijkindex)"]
    assert "gp-lgn-select" in page  # the selector that zooms to one network
    # popups: type names in Dutch, the LGN named, where the data comes from folded on a details line
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page).replace('\\"', '"')
    text = text.replace("<\\/", "</")  # the shared tooltips' JSON
    popups = re.findall(r'<table class=\\?"gp-pop\\?">.*?</table>(?:<details.*?</details>)?', text)
    services = [p for p in popups if "<th>Adres</th>" in p]
    assert services
    for code in ("kg_consultatiebureau", "one_consultation_enfants", "hvhk_physical_location"):
        assert not any(code in p for p in services), code
    assert any("<th>Type</th><td>Consultatiebureau Kind &amp; Gezin</td>" in p for p in services)
    assert all("<th>LGN</th><td>LGN " in p for p in services)
    assert "<th>LGN</th><td>LGN 1 — Brussel stad</td>" in text  # the sectors' tooltips name their network too
    commit = re.compile(r"[0-9a-f]{40}")
    for p in services:
        table = p[: p.index("</table>")]
        assert not commit.search(table) and "http" not in table, "provenance belongs on the details line"
    assert any(commit.search(p[p.index("<details") :]) for p in services if "<details" in p)


def test_csv_values_are_rounded_to_what_they_mean(main_run):
    """No output table holds 7860.999999999999: each number has at most the decimals its kind keeps."""
    from geoplanner.outputs.precision import csv_decimals

    out, _ = main_run
    checked = 0
    for path in sorted(out.rglob("*.csv")):
        rows = _csv(path)
        for r in rows:
            for col, text in r.items():
                m = re.fullmatch(r"-?\d+\.(\d+)", text or "")
                if m:
                    assert len(m.group(1)) <= csv_decimals(col), (path.relative_to(out), col, text)
                    checked += 1
    assert checked > 10_000
    lgn = _csv(out / "coverage" / "coverage_lgn.csv")
    assert all(len(r["pop_0_2"].split(".")[-1]) <= 1 and len(r["share_within_10_min"].split(".")[-1]) <= 3
               for r in lgn)  # fmt: skip
    # every wijk- and sector-level table names the LGN
    for rel in ("coverage/coverage_wijk.csv", "coverage/coverage_sector.csv", "coverage/coverage_priority_wijken.csv",
                "compare/comparison_wijk.csv", "mobiel_2_teams/coverage_wijk.csv", "sector_need.csv"):  # fmt: skip
        head = next(csv.reader(open(out / rel, encoding="utf-8")))
        assert "lgn" in head and "lgn_name" in head, rel


# ---------------------------------------------------------------------------------------------
# In a browser, offline, and on paper
# ---------------------------------------------------------------------------------------------


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser(main_run):
    chromium, driver_bin = _chromium(), shutil.which("chromedriver")
    need(bool(chromium and driver_bin), "chromium and chromedriver are not installed")
    out, _ = main_run
    need("<script src=" not in _page(out, 1), "the Leaflet files are not cached: run `geoplanner assets fetch`")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="gp-lgn-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--window-size=1300,1000",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ):  # fmt: skip  (no network: the page must carry everything)
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(driver_bin))
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


_BOUNDARY = """
const el = document.querySelector('.lgn-map .folium-map'), map = window[el.id];
const own = [], ranks = [], neighbours = [];
map.eachLayer(l => {
  if (l.options && l.options.className === 'gp-lgn-own' && l.getBounds) own.push(l);
  if (l.options && l.options.className === 'gp-lgn-boundary' && l.getBounds) neighbours.push(l);
  if (l._icon && l._icon.querySelector('.gp-rank')) ranks.push(l._icon.textContent.trim());
});
const view = map.getBounds();
return {own: own.length, paths: document.querySelectorAll('path.gp-lgn-own').length,
        inView: own.every(l => view.pad(0.05).contains(l.getBounds())),
        fills: own.every(l => { const b = l.getBounds(); return view.getNorth() - view.getSouth()
                                 < 2.5 * (b.getNorth() - b.getSouth()) || view.getEast() - view.getWest()
                                 < 2.5 * (b.getEast() - b.getWest()); }),
        ranks: ranks, neighbours: neighbours.length, leaflet: typeof L === 'object'};
"""


@pytest.mark.parametrize("n", NUMBERS)
def test_lgn_page_opens_offline_with_its_boundary_priority_wijken_and_figures(browser, main_run, n):
    out, _ = main_run
    browser.get_log("browser")
    browser.get((out / "lgn" / f"lgn_{n}.html").as_uri())
    errors = [
        e for e in browser.get_log("browser") if e["level"] == "SEVERE" and "tile.openstreetmap" not in e["message"]
    ]
    assert errors == []
    found = browser.execute_script(_BOUNDARY)
    assert found["leaflet"] and found["own"] == 1 and found["paths"] >= 1, found
    assert found["inView"] and found["fills"], found  # zoomed to the network, which fills the map
    assert found["neighbours"] == 7, found  # the other networks drawn faintly around it
    ranking = _csv(out / "priority_wijken.csv")
    own = {str(int(float(r["rank"]))) for r in ranking if r["priority"] == "True" and int(r["lgn"]) == n}
    assert own <= set(found["ranks"]), (own, found["ranks"])  # outlined with their rank on the map
    names = browser.execute_script(
        "return Array.from(document.querySelectorAll('.priority-table td:nth-child(2)')).map(td => td.textContent)"
    )
    for r in ranking:
        if r["priority"] == "True" and int(r["lgn"]) == n:
            assert r["name_nl"] in names
    cells = browser.execute_script(
        "return Array.from(document.querySelectorAll('.figures-table td[data-value]'))"
        ".map(td => [td.getAttribute('data-measure'), td.textContent.trim(), td.getBoundingClientRect().width])"
    )
    assert len(cells) >= 16 and all(text and width > 0 for _, text, width in cells)


def test_lgn_page_prints_to_a4_and_nothing_is_wider_than_the_page(browser, main_run, tmp_path):
    out, _ = main_run
    target = out / "lgn" / "lgn_2.html"
    pdf = tmp_path / "lgn_2.pdf"
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--no-first-run",
           f"--user-data-dir={tmp_path / 'profile'}", "--host-resolver-rules=MAP * ~NOTFOUND",
           f"--print-to-pdf={pdf}", target.as_uri()]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert pdf.exists(), done.stderr[-2000:]
    data = pdf.read_bytes()
    boxes = [tuple(float(v) for v in b.split()) for b in re.findall(rb"/MediaBox\s*\[([^\]]*)\]", data)]
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", data)) >= 2
    assert boxes and all(abs(x1 - x0 - 595) < 1.5 and abs(y1 - y0 - 842) < 1.5 for x0, y0, x1, y1 in boxes)
    # Chromium's print layout at the A4 printable width: no element reaches past it
    mm = 96 / 25.4
    width = (210 - 24) * mm
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": round(width), "height": round((297 - 30) * mm), "deviceScaleFactor": 1,
                             "mobile": False})  # fmt: skip
    try:
        browser.get(target.as_uri())
        wide = browser.execute_script(
            """
            const w = arguments[0], out = [];
            for (const el of document.querySelectorAll('body *')) {
              if (el.closest('.leaflet-pane, .leaflet-control-container')) continue;  // the map clips its own
              const r = el.getBoundingClientRect();
              if (r.width > 0 && r.right > w + 1) out.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right));
            }
            return [document.documentElement.scrollWidth, out.slice(0, 5)];
            """,
            width,
        )
        assert wide[0] <= round(width) + 1 and wide[1] == [], wide
        top = browser.execute_script("return document.querySelector('.figures-table').getBoundingClientRect().top")
        assert top < (297 - 30) * mm, "the map and the figures share page 1"
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_an_lgn_map_from_the_render_cache_is_the_fresh_drawing(cache_on, need_sectors, ranking, monkeypatch):
    """A warm run takes an LGN's map from the cache: the same text as drawing it anew; other data is a miss."""
    from _mapdata import shared_map_data, shared_scenario  # tests/_mapdata.py

    import geoplanner.pipeline.lgn as lgn_step
    from geoplanner.outputs.maps import map_scales
    from geoplanner.pipeline.assets import assets_dir

    base = shared_map_data(need_sectors, ranking)
    scenario = shared_scenario(base, "A", 4)
    calls = []
    real = lgn_step.build_lgn_map
    monkeypatch.setattr(lgn_step, "build_lgn_map", lambda *a, **k: calls.append(a[2]) or real(*a, **k))

    def maps(datas, use=True):
        return lgn_step.LgnMaps(datas, [("A", datas[1])], map_scales(*datas), lang="nl", self_contained=False,
                                assets=assets_dir(), use=use)  # fmt: skip

    first = maps([base, scenario]).parts(1)
    again = maps([base, scenario]).parts(1)
    assert calls == [1] and again == first  # the second from the cache
    assert maps([base, scenario], use=False).parts(1) == first and calls == [1, 1]
    assert "gp-lgn-own" in first[0][2] and "— A (" in first[1][-1][1]  # the boundary; the key names A
    other = shared_scenario(base, "B", 8)
    assert maps([base, other]).parts(1) != first and calls == [1, 1, 1]
