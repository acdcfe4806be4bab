"""Static PNG maps and the HTML report."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from _mapdata import shared_map_data, shared_scenario  # tests/_mapdata.py
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text
from PIL import Image, ImageStat

from geoplanner.outputs.files import write_bytes, write_text
from geoplanner.outputs.maps import MapData
from geoplanner.outputs.maps import static as static_maps
from geoplanner.outputs.report import ReportMap, render_report


@pytest.fixture(scope="module")
def map_data(need_sectors, ranking):
    return shared_map_data(need_sectors, ranking)


def _coverage_lgn(data, name: str) -> pd.DataFrame:
    cov = data.coverage.merge(data.sectors[["cd_sector", "lgn"]], on="cd_sector")
    g = cov.groupby("lgn", as_index=False)[["pop_0_2", "within_10_min", "within_15_min"]].sum()
    g["share_within_10_min"] = g["within_10_min"] / g["pop_0_2"]
    g["share_within_15_min"] = g["within_15_min"] / g["pop_0_2"]
    g["scenario"] = name
    return g


def _check_png(blob: bytes, min_size: tuple[int, int]) -> Image.Image:
    img = Image.open(io.BytesIO(blob)).convert("RGB")
    assert img.size[0] >= min_size[0] and img.size[1] >= min_size[1]
    assert len(img.getcolors(maxcolors=1 << 22)) > 100
    assert max(ImageStat.Stat(img).stddev) > 20
    return img


def test_png_maps_written(map_data, tmp_path):
    gap = write_bytes(tmp_path / "gap.png", static_maps.png_bytes(static_maps.gap_figure(map_data)))
    scen = shared_scenario(map_data, "Scenario <A>", 5)
    sc = write_bytes(tmp_path / "a.png", static_maps.png_bytes(static_maps.scenario_figure(scen, lang="en")))
    for path in (gap, sc):
        assert path.stat().st_size > 100_000
        # A4 landscape at 200 dpi: wide enough to print sharp.
        _check_png(path.read_bytes(), (2000, 1400))
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_png_footer_leaves_the_map_free(map_data):
    # The source line and the notes (one a line) sit below the map, never over it or the scale bar.
    notes = ("eerste noot " * 30, "tweede noot")
    scen = shared_scenario(map_data, "A", 4)
    fig = static_maps.scenario_figure(MapData(**{**scen.__dict__, "notes": notes}))
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    footer = fig.get_supxlabel()
    assert footer.startswith("Bronnen:") and footer.count("\n• ") == 2 and "tweede noot" in footer
    (text,) = fig.findobj(match=lambda a: isinstance(a, Text) and a.get_text() == footer)
    foot = text.get_window_extent(renderer)
    ax = fig.axes[0].get_window_extent(renderer)
    assert foot.y1 <= ax.y0 + 1  # below the map axes (pixels)
    assert foot.x1 <= fig.bbox.x1 and foot.y0 >= 0  # and inside the page


def test_png_text_carries_legend_and_sources(map_data):
    fig = static_maps.gap_figure(map_data, lang="en")
    texts = [t.get_text() for t in fig.findobj(match=lambda a: hasattr(a, "get_text"))]
    joined = "\n".join(texts)
    assert "© OpenStreetMap contributors" in joined and "GHSL" in joined and "Statbel" in joined
    assert "Legend" in joined and "N" in texts and "km" in texts
    assert "Priority districts (rank)" in joined


def test_report(map_data, ranking, tmp_path):
    a = shared_scenario(map_data, "A", 4)
    b = shared_scenario(map_data, "B", 8)
    cov = pd.concat([_coverage_lgn(map_data, "huidig"), _coverage_lgn(a, "A"), _coverage_lgn(b, "B")])
    names = {1: "Brussel <centrum>", **{i: f"LGN {i}" for i in range(2, 9)}}
    cov["lgn_name"] = cov["lgn"].map(names)
    comparison = pd.DataFrame(
        {
            "scenario": ["A", "B <script>alert(1)</script>"],
            "sites": [4, 8],
            "share_within_15_min": [0.41, 0.52],
        }
    )
    hostile = ranking.copy()
    top = hostile.index[hostile["rank"] == 1][0]
    hostile.loc[top, "name_nl"] = "<img src=x onerror=alert(1)>"
    maps_dir = tmp_path / "maps"
    maps_dir.mkdir()
    (maps_dir / "gap.html").write_text("x", encoding="utf-8")
    html = render_report(
        base_dir=tmp_path,  # map links relative to the report's folder
        priority=hostile,
        coverage_lgn=cov,
        comparison=comparison,
        gains={"A": a.sites["marginal_demand"].tolist(), "B": b.sites["marginal_demand"].tolist()},
        maps=[ReportMap("Gap <now>", static_maps.gap_figure(map_data), maps_dir / "gap.html")],
    )
    page = write_text(tmp_path / "report.html", html).read_text(encoding="utf-8")
    # Escaped data.
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script>alert" not in page and "B &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Brussel &lt;centrum&gt;" in page and "Gap &lt;now&gt;" in page
    # Tables: 21 priority wijken, 8 LGN x 3 scenarios, 2 scenarios.
    for cls, n in (("priority-table", 21), ("coverage-table", 24), ("comparison-table", 2)):
        table = re.search(rf'<table class="{cls}">(.*?)</table>', page, re.S).group(1)
        assert table.count("<tr>") == n + 1, cls
    assert "41,0 %" in page and "52,0 %" in page  # shares in Dutch number format
    # Charts and map embedded as PNG, link relative to the report.
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 3
    for blob in images:
        _check_png(base64.b64decode(blob), (600, 300))
    assert 'href="maps/gap.html"' in page
    assert "© OpenStreetMap contributors" in page and "GHSL" in page


def test_report_in_french_without_optional_parts(ranking):
    page = render_report(priority=ranking, lang="fr")
    assert "Quartiers prioritaires" in page and 'lang="fr"' in page
    assert "coverage-table" not in page and "<img" not in page


def test_sector_and_lgn_coverage_from_points():
    from geoplanner.outputs.maps.data import sector_coverage
    from geoplanner.outputs.report import lgn_coverage

    inf = float("inf")
    points = pd.DataFrame(
        {
            "cd_sector": ["A", "A", "A", "B"],
            "lgn": [1, 1, 1, 2],
            "children": [2.0, 3.0, 5.0, 4.0],
            "minutes": [4.0, 12.0, inf, 16.0],
        }
    )
    cov = sector_coverage(points, set_name="s", thresholds=(5, 15))
    a = cov.set_index("cd_sector").loc["A"]
    assert a["pop_0_2"] == 10 and a["within_5_min"] == 2 and a["within_15_min"] == 5
    assert a["share_within_15_min"] == pytest.approx(0.5)
    assert a["mean_min"] == pytest.approx((2 * 4 + 3 * 12) / 5)  # over children who can reach
    assert a["pop_unreachable"] == 5
    assert cov.set_index("cd_sector").loc["B", "within_15_min"] == 0
    lgn = lgn_coverage(points, scenario="s", thresholds=(15,))
    assert lgn["lgn"].tolist() == [1, 2] and lgn["scenario"].eq("s").all()
    assert lgn["lgn_name"].notna().all()


def _result(name: str, *notes: str):
    from types import SimpleNamespace

    return SimpleNamespace(scenario=SimpleNamespace(name=name), notes=notes)


def test_notes_grouped_general_then_per_scenario():
    from geoplanner.outputs.report import group_notes

    results = [
        _result("huidig", "K&G onvolledig", "geschat"),
        _result("sluiting", "K&G onvolledig", "geschat", "gesloten in dit scenario: ONE-07"),
        _result("mclp", "geschat", "K&G onvolledig", "kandidaten onvolledig", "niet bewezen optimaal"),
        _result("rotatie", "K&G onvolledig", "kandidaten onvolledig", "geschat"),
    ]
    general, specific = group_notes(results, extra=["geschat", "kaartnoot"])
    assert general == ["K&G onvolledig", "geschat", "kaartnoot"]
    assert specific == [
        ("sluiting", "gesloten in dit scenario: ONE-07"),
        ("mclp, rotatie", "kandidaten onvolledig"),  # shared by some: listed once, with every name
        ("mclp", "niet bewezen optimaal"),
    ]
    # With one result every note is general.
    assert group_notes(results[:1]) == (["K&G onvolledig", "geschat"], [])

    page = render_report(notes=general, scenario_notes=[("<b>x</b>", "gat 2,3 %"), *specific])
    block = re.search(r'<div class="notes">(.*?)</div>', page, re.S).group(1)
    assert block.index("Algemene kanttekeningen") < block.index("kaartnoot") < block.index("Per scenario")
    assert "<b>&lt;b&gt;x&lt;/b&gt;</b>: gat 2,3 %" in block
    assert "<b>mclp, rotatie</b>: kandidaten onvolledig" in block
    # Without scenario notes there is no heading, just the notes.
    plain = render_report(notes=["enkel"])
    assert "Per scenario" not in plain and '<p class="note">enkel</p>' in plain


def _comparison() -> pd.DataFrame:
    # The columns of geoplanner.scenario.compare, with one extra a newer version might add.
    return pd.DataFrame(
        {
            "scenario": ["huidig", "mobiel"],
            "model": ["none", "rotation"],
            "demand": ["children", "deprivation_weighted"],
            "threshold_min": [10.0, 10.0],
            "children_total": [50045.2, 50045.2],
            "children_covered": [2472.56, 18294.4],
            "share_covered": [0.0494066, 0.36556],
            "deprivation_weighted_share": [0.0406, 0.4172],
            "priority_wijken_reached": [0, 21],
            "priority_wijken": [21, 21],
            "mean_min": [38.3169, 18.64],
            "p90_min": [61.0492, 42.5],
            "n_new_sites": [0, 16],
            "status": ["-", "time_limit"],
            "solve_s": [None, 30.164],
            "new_metric": [1.5, 2.5],
        }
    )


@pytest.mark.parametrize(
    ("lang", "headers", "row"),
    [
        (
            "nl",
            ["Scenario", "Model", "Vraag", "Drempel (min)", "Kinderen 0–2, totaal (geschat)"],
            [
                "mobiel",
                "rotatie mobiele teams",
                "kinderen, gewogen naar kansarmoede",
                "10",
                "50.045",
                "18.294",
                "36,6 %",
                "41,7 %",
                "21",
                "21",
                "18,6",
                "42,5",
                "16",
                "tijdslimiet (niet bewezen optimaal)",
                "30,16",
                "2,50",
            ],
        ),
        (
            "fr",
            ["Scénario", "Modèle", "Demande", "Seuil (min)", "Enfants de 0–2 ans, total (estimé)"],
            [
                "mobiel",
                "rotation des équipes mobiles",
                "enfants, pondérés par la précarité",
                "10",
                "50\u202f045",
                "18\u202f294",
                "36,6 %",
                "41,7 %",
                "21",
                "21",
                "18,6",
                "42,5",
                "16",
                "limite de temps (optimum non prouvé)",
                "30,16",
                "2,50",
            ],
        ),
        (
            "en",
            ["Scenario", "Model", "Demand", "Threshold (min)", "Children aged 0–2, total (estimated)"],
            [
                "mobiel",
                "mobile team rotation",
                "children, weighted by deprivation",
                "10",
                "50,045",
                "18,294",
                "36.6 %",
                "41.7 %",
                "21",
                "21",
                "18.6",
                "42.5",
                "16",
                "time limit (not proven optimal)",
                "30.16",
                "2.50",
            ],
        ),
    ],
)
def test_comparison_table_localised(lang, headers, row):
    from geoplanner.outputs.report import comparison_rows

    table = comparison_rows(_comparison(), lang=lang)
    assert table["header"][:5] == headers
    assert table["header"][-1] == "New_metric"  # unknown columns keep their name
    assert not any("_" in h for h in table["header"][:-1])  # no code names left
    assert table["rows"][1] == row
    # Not applicable (no model run) shows as a dash, like a missing number.
    assert table["rows"][0][13] == "–" and table["rows"][0][14] == "–"
    assert table["rows"][0][6] == ("4,9 %" if lang != "en" else "4.9 %")


def test_summary_section_figures_marks_and_caveats():
    """Hand-made comparison: each figure lands in its cell, estimated/derived marked, caveats as they apply."""
    from geoplanner.outputs.report import summary_section

    comparison = pd.DataFrame(
        {
            "scenario": ["huidig", "mobiel"],
            "threshold_min": [10.0, 10.0],
            "children_covered": [12345.4, 20000.0],
            "share_covered": [0.25, 0.4],
            "priority_wijken_reached": [3, 9],
            "priority_wijken": [21, 21],
            "n_new_sites": [0, 7],
            "consultations_served": [float("nan"), 54321.0],
            "share_consultations_served": [float("nan"), 0.3],
            "share_priority_served": [float("nan"), 0.125],
            "teams_needed": [float("nan"), 4.0],
        }
    )
    notes = ["Consultatiebureaus Kind & Gezin: 12 van 20 — ONVOLLEDIGE LAAG", "iets anders"]
    notes.append(
        "Consultaties ONE: 2 locaties op de kaart, van ~80 die bestaan, 1 zonder coördinaten — ONVOLLEDIGE LAAG"
    )
    s = summary_section(comparison, teams={"mobiel": 2}, notes=notes)
    assert s["header"][1] == "Kinderen 0–2 bereikt (geschat)" and s["header"][2].endswith("(afgeleid)")
    assert s["rows"][0] == ["huidig", "12.345 (25,0 %), binnen 10 min", "–", "3 van 21 bereikt", "–", "0"]
    assert s["rows"][1] == [
        "mobiel",
        "20.000 (40,0 %), binnen 10 min",
        "54.321 (30,0 %)",
        "9 van 21 bereikt; 12,5 % van hun vraag bediend",
        "2 ingezet; 4 nodig voor het doel",
        "7",
    ]
    assert len(s["caveats"]) == 4 and "2013" in s["caveats"][2]
    assert s["caveats"][1].startswith("2 lijsten")
    assert s["caveats"][1].endswith(
        "Kind & Gezin: 12 van 20; Consultaties ONE: 2 locaties op de kaart, van ~80 die bestaan."
    )
    # no capacity model, no incomplete layer: those two caveats go
    plain = summary_section(comparison.drop(columns=["consultations_served"]), lang="en")
    assert len(plain["caveats"]) == 2 and plain["header"][0] == "Scenario"
    html = render_report(comparison=comparison, notes=notes)
    assert html.index('class="summary"') < html.index('id="comparison"')


def test_link_only_maps_are_left_out_of_print():
    html = render_report(maps=[ReportMap("naast elkaar", None, Path("compare.html"))])
    assert '<figure class="map screen-only">' in html
    css = html[html.index("@media print") :]
    assert ".screen-only { display: none" in css
