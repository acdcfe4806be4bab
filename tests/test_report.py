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
from geoplanner.outputs.report import ReportInputs, ReportMap, render_report
from geoplanner.scenario.measures import MEASURES


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


def _per_lgn(cov: pd.DataFrame) -> pd.DataFrame:
    """The per-LGN comparison (``compare``'s ``per_lgn``) from a coverage-by-LGN table."""
    return cov.rename(
        columns={"pop_0_2": "children", "within_15_min": "children_within_threshold",
                 "share_within_15_min": "share_within_threshold"}
    )  # fmt: skip


def test_report(map_data, ranking, tmp_path):
    a = shared_scenario(map_data, "A", 4)
    b = shared_scenario(map_data, "B", 8)
    cov = pd.concat([_coverage_lgn(map_data, "huidig"), _coverage_lgn(a, "A"), _coverage_lgn(b, "B")])
    names = {1: "Brussel <centrum>", **{i: f"LGN {i}" for i in range(2, 9)}}
    cov["lgn_name"] = cov["lgn"].map(names)
    comparison = _comparison()
    comparison.loc[1, "title"] = "B <script>alert(1)</script>"
    hostile = ranking.copy()
    top = hostile.index[hostile["rank"] == 1][0]
    hostile.loc[top, "name_nl"] = "<img src=x onerror=alert(1)>"
    maps_dir = tmp_path / "maps"
    maps_dir.mkdir()
    (maps_dir / "gap.html").write_text("x", encoding="utf-8")
    inputs = ReportInputs(
        priority=hostile,
        coverage_lgn=cov,
        per_lgn=_per_lgn(cov),
        comparison=comparison,
        gains={"A": a.sites["marginal_demand"].tolist(), "B": b.sites["marginal_demand"].tolist()},
    )
    html = render_report(
        inputs,
        base_dir=tmp_path,  # map links relative to the report's folder
        maps=[ReportMap("Gap <now>", static_maps.gap_figure(map_data), maps_dir / "gap.html")],
    )
    page = write_text(tmp_path / "report.html", html).read_text(encoding="utf-8")
    # Escaped data.
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script>alert" not in page and "B &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Brussel &lt;centrum&gt;" in page and "Gap &lt;now&gt;" in page
    # Tables: 21 priority wijken, 8 LGN x 3 scenarios, every measure (one row each) for 2 scenarios.
    for cls, n in (("priority-table", 21), ("coverage-table", 24), ("comparison-table", len(MEASURES))):
        table = re.search(rf'<table class="{cls}">(.*?)</table>', page, re.S).group(1)
        assert table.count("<tr>") == n + 1, cls
    assert "36,6 %" in page and "4,9 %" in page  # shares in Dutch number format
    # Charts (coverage, trade-off, gains) and the map embedded as PNG, link relative to the report.
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 4
    for blob in images:
        _check_png(base64.b64decode(blob), (600, 300))
    assert 'href="maps/gap.html"' in page
    assert "© OpenStreetMap contributors" in page and "GHSL" in page


def test_report_in_french_without_optional_parts(ranking):
    page = render_report(ReportInputs(priority=ranking), lang="fr")
    assert "Quartiers prioritaires" in page and 'lang="fr"' in page
    assert "coverage-table" not in page and "<img" not in page
    assert 'id="summary"' not in page and 'id="appendix"' not in page


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

    return SimpleNamespace(scenario=SimpleNamespace(name=name, label=name), notes=notes)


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
    """A hand-made comparison with every column of ``geoplanner.scenario.compare``: the baseline and one rotation."""
    nan = float("nan")
    rows = {
        "scenario": ["huidig", "mobiel"],
        "title": ["Huidige situatie", "Mobiel, 2 teams"],
        "model": ["none", "rotation"],
        "demand": ["children", "deprivation_weighted"],
        "threshold_min": [10.0, 10.0],
        "children_total": [50045.2, 50045.2],
        "children_within_threshold": [2472.56, 18294.4],
        "share_within_threshold": [0.0494066, 0.36556],
        "deprivation_weighted_share_within": [0.0406, 0.4172],
        "priority_wijken": [21, 21],
        "priority_wijken_reached": [0, 21],
        "mean_min": [38.3169, 18.64],
        "p90_min": [61.0492, 42.5],
        "consultations_demand": [46935.96, 46935.96],
        "consultations_served": [398.66, 6654.2],
        "consultations_served_existing": [398.66, 398.66],
        "consultations_served_new": [0.0, 6255.54],
        "consultations_unserved_distance": [46537.3, 20000.0],
        "consultations_unserved_capacity": [0.0, 20281.76],
        "share_consultations_served": [0.0084937, 0.14177],
        "share_priority_served": [0.0, 0.125],
        "priority_wijken_served": [0, 9],
        "share_deprivation_served": [0.0067, 0.16],
        "children_served": [102.4, 1850.0],
        "new_sites": [0, 16],
        "teams": [0, 2],
        "sessions_per_week": [0, 16],
        "consultations_per_session": [nan, 390.97],
        "dutch_session_share": [nan, 0.3125],
        "peak_utilisation_share": [nan, 0.85],
        "teams_needed": [nan, 3.0],
        "teams_target_share": [nan, 0.3],
        "status": ["-", "time_limit"],
        "solver_gap": [nan, 0.0123],
        "efficient": [True, True],
    }
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("lang", "row_served", "row_mean", "row_share"),
    [
        ("nl", "6.654", "18,6", ("0,8 %", "14,2 %")),
        ("fr", "6\u202f654", "18,6", ("0,8 %", "14,2 %")),
        ("en", "6,654", "18.6", ("0.8 %", "14.2 %")),
    ],
)
def test_comparison_table_localised(lang, row_served, row_mean, row_share):
    """One row per measure in MEASURES' order, one column per scenario title, labels and numbers in ``lang``."""
    from geoplanner.outputs.report import comparison_rows
    from geoplanner.scenario.measures import measure_label

    comparison = _comparison().assign(new_metric=[1.5, 2.5])
    table = comparison_rows(comparison, lang=lang)
    assert table["header"] == ["", "Huidige situatie", "Mobiel, 2 teams"]
    assert len(table["rows"]) == len(MEASURES)  # unknown columns and solver words are left out
    by_label = {r[0]: r[1:] for r in table["rows"]}
    assert [r[0] for r in table["rows"]][0].lower() == measure_label("threshold_min", lang).lower()

    def row(col):
        text = measure_label(col, lang)
        return by_label[text[:1].upper() + text[1:]]

    assert row("consultations_served") == ["399", row_served]
    assert row("mean_min") == ["38,3" if lang != "en" else "38.3", row_mean]
    assert row("share_consultations_served") == list(row_share)
    assert row("teams_needed") == ["–", "3"]  # not applicable shows as a dash
    assert not any("_" in r[0] for r in table["rows"])  # no code names left


def test_summary_section_figures_marks_and_caveats():
    """Hand-made comparison: each figure lands in its cell with its measure and raw value; gains when thin."""
    from geoplanner.outputs.report.summary import BaselineLayer, summary_section
    from geoplanner.scenario.capacity import assumptions
    from geoplanner.scenario.spec import Scenario

    comparison = _comparison()
    comparison.loc[0, "efficient"] = False
    s = summary_section(comparison, descriptions={"mobiel": "Twee teams rijden rond. Tweede zin.\nEN: two teams."})
    assert s["baseline"] is None and s["header"][0] == "Scenario"
    assert s["header"][6] == "Kinderen binnen 10 min (geschat)"
    assert s["header"][2] == "Consultaties per jaar bediend (afgeleid)"
    base, mob = ([c for c in r["cells"]] for r in s["rows"])
    assert [c["text"] for c in base] == ["1. Huidige situatie", "–", "399", "0,0 %", "0 van 21", "–", "2.473", "–"]
    assert [c["text"] for c in mob] == [
        "2. Mobiel, 2 teams ★",
        "16",
        "6.654",
        "12,5 %",
        "9 van 21",
        "391",
        "18.294",
        "2 ingezet; 3 nodig",
    ]
    assert "Nodig: de teams om 30 % van de verwachte consultaties in de prioritaire wijken" in s["legend"]
    assert {c["measure"]: c["value"] for c in mob if c["measure"]}["consultations_served"] == 6654.2
    assert s["descriptions"][1] == ("2. Mobiel, 2 teams", "Twee teams rijden rond.")
    assert s["descriptions"][0] == ("1. Huidige situatie", "")
    # A layer with under half of its sites known: the page warns first and shows gains over the baseline.
    thin = summary_section(comparison, layers=[BaselineLayer(name="CB", located=3, expected=98)])
    assert "3 van ~98" in thin["baseline"]["warning"] and "services import" in thin["baseline"]["todo"]
    mob = {c["measure"]: c for c in thin["rows"][1]["cells"] if c["measure"]}
    assert mob["consultations_served"]["text"] == "+6.256" and mob["consultations_served"]["gain"]
    assert mob["consultations_served"]["value"] == pytest.approx(6654.2 - 398.66)
    assert mob["children_within_threshold"]["text"] == "+15.822"
    assert not mob["share_priority_served"]["gain"]  # the baseline serves none: shown as is
    # A complete layer does not warn.
    assert summary_section(comparison, layers=[BaselineLayer(name="CB", located=60, expected=98)])["baseline"] is None
    # The assumptions are named in plain words among the caveats.
    mobile = Scenario(name="y", dutch_share=0.5, sessions_per_day=1)
    named = summary_section(comparison, assumptions=[*assumptions(Scenario(name="x")), *assumptions(mobile)],
                            lang="en")  # fmt: skip
    assert len(named["caveats"]) == 3 and "2013" in named["caveats"][1]
    assert named["caveats"][2] == (
        "Assumptions (each with its source in the appendix): 7/3/2 consultations a year for a child aged 0, 1 and "
        "2; 78 % of families use a consultation bureau; 30 % or 50 % would choose a Dutch-speaking bureau; 10 "
        "children a session, planned at 85 %, 46 weeks a year; a fixed site holds 2 sessions a week; a team works "
        "at most 2 or 1 sessions a day."
    )
    html = render_report(ReportInputs(comparison=comparison))
    assert html.index('class="summary"') < html.index('id="comparison"')


def test_link_only_maps_are_left_out_of_print():
    html = render_report(maps=[ReportMap("naast elkaar", None, Path("compare.html"))])
    assert '<figure class="map screen-only">' in html
    css = html[html.index("@media print") :]
    assert ".screen-only { display: none" in css


def test_walking_times_left_out_when_the_known_bureaus_are_too_few():
    """A mean walk to 3 of ~98 bureaus describes the lists, not Brussels: the report leaves it out and says why."""
    from geoplanner.scenario.measures import measure_label

    mean = measure_label("mean_min")
    thin = render_report(ReportInputs(comparison=_comparison(), layers=[{"name": "CB", "located": 3, "expected": 98}]))
    table = re.search(r'<table class="comparison-table">(.*?)</table>', thin, re.S).group(1)
    assert mean not in table and "weggelaten" in thin
    full = render_report(ReportInputs(comparison=_comparison(), layers=[{"name": "CB", "located": 60, "expected": 98}]))
    table = re.search(r'<table class="comparison-table">(.*?)</table>', full, re.S).group(1)
    assert mean in table and "38,3" in table and "weggelaten" not in full
