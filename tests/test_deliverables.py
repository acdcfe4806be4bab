"""The deliverables of one real main run, read back as their users open them.

The Excel workbook (openpyxl, cell by cell against the run's CSVs), the QGIS styles inside the
GeoPackages (sqlite3; and QGIS's own parser through tests/_qgis_probe.py when the system Python
has PyQGIS) and the report printed to A4 by headless Chromium.
"""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
import sqlite3
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import openpyxl
import pytest
from _ci import need  # tests/_ci.py: skip on a developer machine, fail in CI

ROOT = Path(__file__).resolve().parent.parent
PROBE = ROOT / "tests" / "_qgis_probe.py"
SCENARIO = "mobiel_2_teams"  # a rotation: it has a timetable, capacity and a teams curve


# main_run: tests/conftest.py (one real run for this module and tests/test_lgn.py)


# ---------------------------------------------------------------------------------------------
# Excel
# ---------------------------------------------------------------------------------------------

SHEETS = {  # CSV of the run -> sheet of geoplanner.xlsx
    "priority_wijken.csv": "Prioritaire wijken",
    "coverage/coverage_region.csv": "Bereik gewest",
    "coverage/coverage_lgn.csv": "Bereik per LGN",
    "coverage/coverage_commune.csv": "Bereik per gemeente",
    "coverage/coverage_wijk.csv": "Bereik per wijk",
    "compare/comparison.csv": "Vergelijking van scenario's",
    "compare/comparison_lgn.csv": "Vergelijking per LGN",
    "compare/comparison_wijk.csv": "Vergelijking per wijk",
    f"{SCENARIO}/timetable.csv": f"Uurrooster {SCENARIO}",
}


def _csv_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def _same(cell, text: str, column: str) -> bool:
    """Does an .xlsx cell hold what the CSV text says? (read without pandas; a code is shown in words)"""
    from geoplanner.outputs.workbook import display_value

    text = display_value(column, text) if not text.startswith("'") else text
    v = cell.value
    if text == "":
        return v is None
    if isinstance(v, bool):
        return text == str(v)
    if isinstance(v, int | float):
        return math.isclose(v, float(text), rel_tol=1e-15, abs_tol=0.0)
    if v in ("∞", "-∞"):
        return text == ("inf" if v == "∞" else "-inf")
    if cell.quotePrefix:
        return text == "'" + v
    return text == v


def test_run_writes_the_workbook_with_its_manifest(main_run):
    out, run = main_run
    path = out / "geoplanner.xlsx"
    assert path in run.outputs and out / "manifest_workbook.json" in run.outputs
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "Toelichting"
    assert set(SHEETS.values()) <= set(wb.sheetnames)
    notes = [r[0] for r in wb["Toelichting"].iter_rows(values_only=True) if r[0]]
    assert any("ONVOLLEDIGE LAAG" in str(n) for n in notes)
    assert any("AFGELEID" in str(n) and "GESCHAT" in str(n) for n in notes)
    manifest = json.loads((out / "manifest_workbook.json").read_text(encoding="utf-8"))
    assert manifest["outputs"][0]["path"] == "geoplanner.xlsx"
    # the workbook is traced to the very CSVs it shows
    sources = {(out / i["path"]).resolve() for i in manifest["inputs"]}  # relative to the manifest's folder
    assert {(out / rel).resolve() for rel in SHEETS} <= sources


def test_workbook_sheets_match_the_run_csvs_cell_by_cell(main_run):
    out, _ = main_run
    wb = openpyxl.load_workbook(out / "geoplanner.xlsx")
    for rel, sheet in SHEETS.items():
        rows = _csv_rows(out / rel)
        ws = wb[sheet]
        assert (ws.max_row, ws.max_column) == (len(rows), len(rows[0])), sheet
        for i, row in enumerate(rows[1:], start=2):
            for j, text in enumerate(row, start=1):
                cell = ws.cell(row=i, column=j)
                assert _same(cell, text, rows[0][j - 1]), f"{sheet}!{cell.coordinate}: {cell.value!r} vs {rel} {text!r}"
    # numbers are numbers: the ranking's children and the comparison's share
    pr = wb["Prioritaire wijken"]
    head = [c.value for c in pr[1]]
    assert head[:2] == ["Rang", "Prioritair"]
    j = _csv_rows(out / "priority_wijken.csv")[0].index("pop_0_2") + 1
    assert isinstance(pr.cell(row=2, column=j).value, float)
    assert pr.cell(row=2, column=j).number_format == "#,##0"


def test_workbook_follows_the_run_language(tmp_path):
    """--lang fr gives French sheet names and headers (checked on the workbook writer the run calls)."""
    import pandas as pd

    from geoplanner.outputs.workbook import main_job_sheets
    from geoplanner.pipeline.workbook import write_workbook

    lgn = pd.DataFrame({"lgn": [1], "service_set": ["kg"], "pop_0_2": [10.5], "share_within_10_min": [0.5]})
    path = write_workbook(tmp_path / "fr.xlsx", main_job_sheets(coverage={"lgn": lgn}, lang="fr"), lang="fr")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Notes", "Couverture par LGN"]
    assert [c.value for c in wb["Couverture par LGN"][1]][-1] == "Part à moins de 10 min"


# ---------------------------------------------------------------------------------------------
# QGIS styles
# ---------------------------------------------------------------------------------------------


def _styles(gpkg: Path) -> list[dict]:
    with sqlite3.connect(gpkg) as con:
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute("SELECT * FROM layer_styles ORDER BY id")]


def _columns(gpkg: Path, table: str) -> set[str]:
    with sqlite3.connect(gpkg) as con:
        return {r[1] for r in con.execute(f'PRAGMA table_info("{table}")')}


def _layers(gpkg: Path) -> set[str]:
    with sqlite3.connect(gpkg) as con:
        return {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents WHERE data_type = 'features'")}


def _fields_used(expression: str) -> set[str]:
    """Double-quoted names in a QGIS expression are field references."""
    return set(re.findall(r'"([^"]+)"', expression))


GPKGS = {"coverage/coverage.gpkg": {"sector", "wijk", "commune", "lgn", "services"}, "priority_wijken.gpkg": {"wijken"}}


@pytest.mark.parametrize("rel", list(GPKGS))
def test_gpkg_layers_carry_one_default_style_each(main_run, rel):
    out, _ = main_run
    gpkg = out / rel
    rows = _styles(gpkg)
    layers = _layers(gpkg)
    styled = {r["f_table_name"] for r in rows}
    assert GPKGS[rel] <= styled <= layers
    for layer in styled:
        defaults = [r for r in rows if r["f_table_name"] == layer and r["useAsDefault"]]
        assert len(defaults) == 1, layer
    for r in rows:
        assert r["f_geometry_column"] in _columns(gpkg, r["f_table_name"])
        root = ET.fromstring(r["styleQML"].split(">", 1)[1])  # after the DOCTYPE line
        assert root.tag == "qgis"
        renderer = root.find("renderer-v2")
        assert renderer is not None, r["styleName"]
        columns = _columns(gpkg, r["f_table_name"])
        filters = [el.get("filter") for el in renderer.iter("rule") if el.get("filter") not in (None, "ELSE")]
        attrs = [renderer.get("attr")] if renderer.get("attr") else []
        for expression in [*filters, *attrs]:
            assert _fields_used(expression) or expression in columns, expression
            assert _fields_used(expression) <= columns, (r["f_table_name"], expression)
        for text in root.iter("text-style"):
            assert text.get("isExpression") == "1" or text.get("fieldName") in columns
            assert _fields_used(text.get("fieldName")) <= columns, text.get("fieldName")


def test_priority_style_outlines_and_labels_the_priority_wijken(main_run):
    out, _ = main_run
    rows = [r for r in _styles(out / "priority_wijken.gpkg") if r["useAsDefault"]]
    root = ET.fromstring(rows[0]["styleQML"].split(">", 1)[1])
    assert root.get("labelsEnabled") == "1"
    filters = [el.get("filter") for el in root.iter("rule")]
    assert '"priority"' in filters
    label = next(root.iter("text-style")).get("fieldName")
    assert {"priority", "rank", "name_nl"} <= _fields_used(label)


def test_styles_are_the_same_bytes_on_a_second_write(main_run, tmp_path):
    from geoplanner.outputs.qgis_styles import style_coverage_gpkg, style_priority_gpkg

    out, _ = main_run
    for rel, styler in (("coverage/coverage.gpkg", style_coverage_gpkg), ("priority_wijken.gpkg", style_priority_gpkg)):
        copy = tmp_path / Path(rel).name
        shutil.copy(out / rel, copy)
        with sqlite3.connect(copy) as con:
            con.execute("DROP TABLE layer_styles")
        styler(copy)
        first = [(r["f_table_name"], r["styleName"], r["styleQML"]) for r in _styles(out / rel)]
        again = [(r["f_table_name"], r["styleName"], r["styleQML"]) for r in _styles(copy)]
        assert first == again, rel


def _system_qgis() -> str | None:
    python = shutil.which("python3", path="/usr/bin:/bin")
    if python is None:
        return None
    ok = subprocess.run([python, "-c", "import qgis.core"], capture_output=True, timeout=120)
    return python if ok.returncode == 0 else None


@pytest.mark.parametrize(("rel", "layer"), [("coverage/coverage.gpkg", "wijk"), ("priority_wijken.gpkg", "wijken")])
def test_qgis_reads_the_styles_and_renders_the_layer(main_run, tmp_path, rel, layer):
    python = _system_qgis()
    need(python is not None, "PyQGIS is not importable by /usr/bin/python3 (apt-get install python3-qgis)")
    out, _ = main_run
    png = tmp_path / f"{layer}.png"
    done = subprocess.run([python, str(PROBE), str(out / rel), layer, str(png)], capture_output=True, text=True,
                          timeout=300, env={"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen"})  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["valid"] and result["features"] > 0
    default = result["default"]
    assert default["renderer"] == "RuleRenderer"  # the stored default style was applied on adding the layer
    own = {r["styleName"] for r in _styles(out / rel) if r["f_table_name"] == layer}
    for name in own:
        parsed = result["styles"][name]
        assert parsed["xml_ok"] and parsed["imported"], (name, parsed["message"])
        assert parsed["renderer"] == "RuleRenderer" and parsed["rules"], name
    if layer == "wijken":
        assert default["labels"] and "name_nl" in default["label_expression"]
        assert any(r["filter"] == '"priority"' for r in default["rules"])
    else:  # one group of walking-time classes per service set, one set on
        groups = default["rules"]
        assert sum(g["active"] for g in groups) == 1
        assert all(len(g["children"]) >= 6 for g in groups)
    render = result["render"]
    assert not render["errors"]
    colours = render["colours"]
    white = colours.get("255,255,255", 0)
    assert png.stat().st_size > 0
    assert sum(colours.values()) - white > 0.2 * sum(colours.values()), "the rendered layer is blank"
    assert len(colours) >= 3  # several classes drawn, not one flat colour


# ---------------------------------------------------------------------------------------------
# The report printed to A4
# ---------------------------------------------------------------------------------------------

A4_PT = (595.0, 842.0)  # 210 x 297 mm in PDF points


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


def _print_pdf(html: Path, pdf: Path) -> bytes:
    browser = _chromium()
    need(browser is not None, "no chromium on PATH to print the report (apt-get install chromium)")
    profile = pdf.parent / f".{pdf.stem}-profile"
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--no-first-run",
           f"--user-data-dir={profile}", "--host-resolver-rules=MAP * ~NOTFOUND",  # no network
           f"--print-to-pdf={pdf}", html.as_uri()]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert pdf.exists() and pdf.stat().st_size > 0, done.stderr[-2000:]
    return pdf.read_bytes()


def _pages(pdf: bytes) -> list[tuple[float, float]]:
    """Width and height (pt) of every page: each page object's MediaBox (Chromium writes them plainly)."""
    pages = re.findall(rb"/Type\s*/Page\b(?!s).*?/MediaBox\s*\[([^\]]*)\]", pdf, flags=re.S)
    pages += re.findall(rb"/MediaBox\s*\[([^\]]*)\][^>]*?/Type\s*/Page\b(?!s)", pdf, flags=re.S)
    boxes = []
    for box in pages:
        x0, y0, x1, y1 = (float(v) for v in box.split())
        boxes.append((x1 - x0, y1 - y0))
    return boxes


def _page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))


def _number(text: str) -> float:
    """A Dutch-formatted figure as the page shows it ('+6.256', '39,7 %', '−248') read back as a number."""
    t = text.replace("+", "").replace("−", "-").replace(".", "").replace(",", ".").replace("%", "").strip()
    return float(t)


def test_page_one_figures_are_the_comparison_csv(main_run):
    """Every figure of page 1 is the comparison's (or its gain over the baseline), and shows that value rounded."""
    out, _ = main_run
    html = (out / "report.html").read_text(encoding="utf-8")
    summary = html[html.index('<section class="summary"') : html.index("</section>")]
    assert html.index('<section class="summary"') < html.index('id="priority"')
    comparison = {r["scenario"]: r for r in csv.DictReader(open(out / "compare" / "comparison.csv", encoding="utf-8"))}
    base = comparison["huidig"]
    rows = re.findall(r'<tr data-scenario="([^"]+)">(.*?)</tr>', summary, re.S)
    assert [name for name, _ in rows] == list(comparison)
    cells = r'<td class="fig" data-measure="([a-z_]+)"(?: data-value="([^"]+)")?( data-gain="1")?>(.*?)</td>'
    checked = set()
    for name, body in rows:
        for measure, value, gain, text in re.findall(cells, body):
            raw = comparison[name][measure]
            if raw == "" or (name == "huidig" and measure == "sessions_per_week"):
                assert value == "" and text == "–", (name, measure, text)
                continue
            expect = float(raw) - (float(base[measure]) if gain else 0.0)
            assert float(value) == pytest.approx(expect, rel=1e-12, abs=1e-9), (name, measure)
            shown = _number(text.split()[0]) if measure in ("priority_wijken_served", "teams_needed") else None
            if measure == "teams_needed":
                assert f"{int(expect)} nodig" in text, (name, text)
            elif measure.startswith("share"):
                assert _number(text) == pytest.approx(round(100 * expect, 1)), (name, measure, text)
            elif shown is not None:
                assert shown == expect and text.endswith(f"van {base['priority_wijken']}"), (name, text)
            else:
                assert _number(text) == round(expect), (name, measure, text)
            checked.add(measure)
    assert {"consultations_served", "share_priority_served", "priority_wijken_served", "children_within_threshold",
            "sessions_per_week", "consultations_per_session", "teams_needed"} <= checked  # fmt: skip
    # the baseline layer is incomplete on the public data: the page says so first, and shows gains
    assert summary.index('class="baseline"') < summary.index("<table")
    assert 'data-gain="1"' in summary and "geoplanner services import" in summary
    assert "(geschat)" in summary and "(afgeleid)" in summary
    for words in ("geschat", "onvolledig", "2013", "Aannames"):
        assert words in summary, words
    assert "@page" in html and "size: A4" in html


def test_map_legend_totals_are_the_comparison_csv(main_run):
    """The scenario map's unserved totals are the comparison's (one result object, no second computation)."""
    from geoplanner.core.i18n import label

    out, _ = main_run
    row = next(r for r in csv.DictReader(open(out / "compare" / "comparison.csv", encoding="utf-8"))
               if r["scenario"] == SCENARIO)  # fmt: skip
    page = (out / "maps" / f"{SCENARIO}.html").read_text(encoding="utf-8")
    for col in ("consultations_unserved_distance", "consultations_unserved_capacity"):
        found = re.search(re.escape(label(col)) + r": ([\d.]+)\\u003c", page)
        assert found, col
        assert int(found.group(1).replace(".", "")) == round(float(row[col])), col


def test_report_prints_to_a4_with_the_summary_alone_on_page_one(main_run, tmp_path):
    out, _ = main_run
    pdf = _print_pdf(out / "report.html", tmp_path / "report.pdf")
    n = _page_count(pdf)
    boxes = _pages(pdf)
    assert n >= 3 and len(boxes) >= n
    for w, h in boxes:
        assert abs(w - A4_PT[0]) < 1.5 and abs(h - A4_PT[1]) < 1.5, (w, h)
    # the summary page alone: the same page with everything after the summary removed prints on one page
    html = (out / "report.html").read_text(encoding="utf-8")
    end = html.index("</section>") + len("</section>")
    only = tmp_path / "summary_only.html"
    only.write_text(html[:end] + "\n</body></html>\n", encoding="utf-8")
    assert _page_count(_print_pdf(only, tmp_path / "summary.pdf")) == 1
    # and the first section after it starts on page 2: an empty summary (its page break kept) prints as many pages
    rest = tmp_path / "empty_summary.html"
    start = html.index('<section class="summary"')
    rest.write_text(html[:start] + '<section class="summary" id="summary"></section>' + html[end:], encoding="utf-8")
    assert _page_count(_print_pdf(rest, tmp_path / "rest.pdf")) == n


def test_report_in_print_media_summary_fits_and_nothing_dark(main_run):
    """Chromium's print layout at the A4 printable width: the summary's height fits the page, no dark fill."""
    chromium, driver_bin = _chromium(), shutil.which("chromedriver")
    need(bool(chromium and driver_bin), "chromium and chromedriver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    out, _ = main_run
    profile = tempfile.mkdtemp(prefix="gp-print-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", "--host-resolver-rules=MAP * ~NOTFOUND"):  # fmt: skip
        opts.add_argument(arg)
    driver = webdriver.Chrome(options=opts, service=Service(driver_bin))
    try:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        # A4 less the @page margins (12 mm left and right, 14 mm top, 16 mm bottom), in CSS px (96 per inch)
        mm = 96 / 25.4
        width, height = (210 - 24) * mm, (297 - 30) * mm
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": round(width), "height": round(height), "deviceScaleFactor": 1,
                                "mobile": False})  # fmt: skip
        driver.get((out / "report.html").as_uri())
        top = driver.execute_script(
            "const s = document.querySelector('section.summary'); return s.getBoundingClientRect().bottom"
            " + parseFloat(getComputedStyle(s).marginBottom);"
        )
        assert 0 < top <= height, f"summary ends at {top:.0f} px, the printable page is {height:.0f} px"
        # nothing is wider than the page: no element reaches past the printable width, nothing scrolls sideways
        wide = driver.execute_script(
            """
            const w = arguments[0], out = [];
            for (const el of document.querySelectorAll('body *')) {
              const r = el.getBoundingClientRect();
              if (r.width > 0 && r.right > w + 1) out.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right));
            }
            return [document.documentElement.scrollWidth, out.slice(0, 5)];
            """,
            width,
        )
        assert wide[0] <= round(width) + 1 and wide[1] == [], wide
        dark = driver.execute_script(
            """
            const out = [];
            for (const el of [document.documentElement, ...document.querySelectorAll('*')]) {
              const m = getComputedStyle(el).backgroundColor.match(/[\\d.]+/g);
              if (!m) continue;
              const [r, g, b, a] = [+m[0], +m[1], +m[2], m.length > 3 ? +m[3] : 1];
              if (a > 0.2 && 0.2126 * r + 0.7152 * g + 0.0722 * b < 160) out.push(el.tagName + '.' + el.className);
            }
            return out;
            """
        )
        assert dark == []
        size = driver.execute_script("return parseFloat(getComputedStyle(document.body).fontSize)")
        assert size >= 12  # 10 pt and more: readable on paper
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_readme_figures_of_two_mobile_teams(main_run):
    """README, "The shipped scenarios on the public data": the 2-team row (reproducible: node-limited solves)."""
    out, _ = main_run
    row = next(r for r in csv.DictReader(open(out / "compare" / "comparison.csv", encoding="utf-8"))
               if r["scenario"] == SCENARIO)  # fmt: skip
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next(x for x in readme.splitlines() if x.startswith("| **2 mobile teams** |"))
    cells = [c.strip() for c in line.strip("|").split("|")][1:]
    assert cells == [
        f"{int(row['sessions_per_week'])}",
        f"{float(row['consultations_served']):,.0f} (+{float(row['consultations_served_new']):,.0f})",
        f"{100 * float(row['share_priority_served']):.1f} %",
        f"{row['priority_wijken_served']} of {row['priority_wijken']}",
        f"{float(row['children_within_threshold']):,.0f}",
    ]


def test_page_one_of_every_shipped_scenario_fits_one_a4_page(tmp_path):
    """The shipped scenarios' titles and descriptions, a thin baseline and every assumption: page 1 alone, one page."""
    import pandas as pd

    from geoplanner.outputs.report import ReportInputs, render_report
    from geoplanner.scenario.capacity import assumptions
    from geoplanner.scenario.compare import COMPARISON_COLUMNS
    from geoplanner.scenario.spec import parse_scenario

    specs = [parse_scenario((ROOT / "scenarios" / f"{n}.toml").read_text(encoding="utf-8"))
             for n in ("current", "close_one", "deprivation_weighted", "mobile_2_teams", "mobile_4_teams",
                       "priority_first")]  # fmt: skip
    rows = []
    for i, s in enumerate(specs):
        row = dict.fromkeys(COMPARISON_COLUMNS, 1234.5 * i)
        row.update(scenario=s.name, title=s.label, threshold_min=10.0, priority_wijken=21, teams=s.teams or 0,
                   priority_wijken_served=i, share_priority_served=0.1 * i, teams_needed=3.0 if s.teams else None,
                   teams_target_share=0.5 if s.teams else None, efficient=i % 2 == 0)  # fmt: skip
        rows.append(row)
    inputs = ReportInputs(
        comparison=pd.DataFrame(rows),
        descriptions={s.name: s.description for s in specs},
        layers=[{"name": "Alle consultatiebureaus (K&G + ONE)", "located": 3, "expected": 98}],
        assumptions=[a for s in specs for a in assumptions(s)],
    )
    html = render_report(inputs)
    end = html.index("</section>") + len("</section>")
    page = tmp_path / "summary.html"
    page.write_text(html[:end] + "\n</body></html>\n", encoding="utf-8")
    assert html.count("<tr data-scenario=") == 6
    assert _page_count(_print_pdf(page, tmp_path / "summary.pdf")) == 1
