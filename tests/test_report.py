"""Static PNG maps and the HTML report."""

from __future__ import annotations

import base64
import io
import re

import pandas as pd
import pytest
from PIL import Image, ImageStat
from test_maps import build_test_data, build_test_scenario  # sibling test module

from geoplanner import static_maps
from geoplanner.report import ReportMap, render_report, write_report


@pytest.fixture(scope="module")
def map_data(need_sectors, ranking):
    return build_test_data(need_sectors, ranking)


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
    gap = static_maps.save_png(static_maps.gap_figure(map_data), tmp_path / "gap.png")
    scen = build_test_scenario(map_data, "Scenario <A>", 5)
    sc = static_maps.save_png(static_maps.scenario_figure(scen, lang="en"), tmp_path / "a.png")
    for path in (gap, sc):
        assert path.stat().st_size > 100_000
        # A4 landscape at 200 dpi: wide enough to print sharp.
        _check_png(path.read_bytes(), (2000, 1400))
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_png_text_carries_legend_and_sources(map_data):
    fig = static_maps.gap_figure(map_data, lang="en")
    texts = [t.get_text() for t in fig.findobj(match=lambda a: hasattr(a, "get_text"))]
    joined = "\n".join(texts)
    assert "© OpenStreetMap contributors" in joined and "GHSL" in joined and "Statbel" in joined
    assert "Legend" in joined and "N" in texts and "km" in texts
    assert "Priority districts (rank)" in joined


def test_report(map_data, ranking, tmp_path):
    a = build_test_scenario(map_data, "A", 4)
    b = build_test_scenario(map_data, "B", 8)
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
    target = write_report(
        tmp_path / "report.html",
        priority=hostile,
        coverage_lgn=cov,
        comparison=comparison,
        gains={"A": a.sites["marginal_demand"].tolist(), "B": b.sites["marginal_demand"].tolist()},
        maps=[ReportMap("Gap <now>", static_maps.gap_figure(map_data), maps_dir / "gap.html")],
    )
    page = target.read_text(encoding="utf-8")
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
    from geoplanner.report import lgn_coverage, sector_coverage

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
