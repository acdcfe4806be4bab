"""How the need step's new figures reach the maps and the report: p_top and its class, non-current ONE rows."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pandas as pd
import pytest
from _mapdata import XSS_NAME, shared_map_data  # tests/_mapdata.py

from geoplanner.core import settings
from geoplanner.inputs.services import load_services
from geoplanner.need.stability import rank_stability
from geoplanner.outputs import maps
from geoplanner.outputs.report import ReportInputs, render_report


@pytest.fixture(scope="module")
def stable_ranking(need_sectors, ranking):
    from geoplanner.need import NeedParams

    return rank_stability(need_sectors, ranking, NeedParams())


def _excluded_one() -> gpd.GeoDataFrame:
    ex = load_services("one").excluded.dropna(subset=["lat", "lon"]).copy()
    ex.loc[ex.index[0], "status"] = XSS_NAME  # a hostile status must be escaped too
    return gpd.GeoDataFrame(ex, geometry=gpd.points_from_xy(ex["lon"], ex["lat"]), crs=settings.WGS84).to_crs(
        settings.CRS
    )


def _items(page: str) -> list[list]:
    """The point items of every _PointBatch on the page (the JSON array before ``.forEach``)."""
    return [json.loads(m) for m in re.findall(r"^\s*(\[\[.*\]\])\.forEach", page, flags=re.M)]


def _text(page: str) -> str:
    """Undo the ``\\uXXXX`` escapes of JSON-encoded strings (legends, tooltips reach the page that way)."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page).replace('\\"', '"')


def test_excluded_one_rows_are_drawn_muted_with_their_status(need_sectors, stable_ranking):
    base = shared_map_data(need_sectors, stable_ranking)
    excluded = _excluded_one()
    data = maps.MapData(**{**base.__dict__, "excluded_services": excluded, "wijken": stable_ranking})
    m = maps.build_gap_map(data)
    name = "Diensten — niet in het huidige aanbod"
    assert name in maps.layer_names(m)
    page = maps.render_html(m)
    assert f'data-layer="excluded_services" data-count="{len(excluded)}"' in _text(page)
    batches = [b for b in _items(page) if b and "stroke-dasharray" in str(b[0][4])]
    assert len(batches) == 1 and len(batches[0]) == len(excluded)
    popups = " ".join(item[3] for item in batches[0])
    assert "status: historical" in popups and "unverified" in popups and "Waarom niet meegeteld" in popups
    assert "<script>window.__xss" not in page and "&lt;script&gt;window.__xss=1&lt;/script&gt;" in popups
    # the current sites stay in the normal service layer, the excluded ones only in the muted layer
    current = " ".join(str(i[2]) for b in _items(page) if b and "stroke-dasharray" not in str(b[0][4]) for i in b)
    assert "Rue Jean Paquot" not in current


def test_priority_popups_show_p_top_and_class(need_sectors, stable_ranking):
    data = maps.MapData(**{**shared_map_data(need_sectors, stable_ranking).__dict__, "wijken": stable_ranking})
    page = _text(maps.render_html(maps.build_gap_map(data)))
    assert "Kans in de selectie" in page and "Zekerheid" in page
    top = stable_ranking[stable_ranking["priority"]].iloc[0]
    assert "robuust" in page and f"{int(top['rank_p05'])}–{int(top['rank_p95'])}" in page


def test_report_lists_p_top_class_and_near_misses(stable_ranking):
    html = render_report(ReportInputs(priority=stable_ranking))
    table = html[html.index('class="priority-table"') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)
    header, body = rows[0], rows[1:]
    assert "Kans in de selectie" in header and "Zekerheid" in header and "Status cijfers" in header
    near = stable_ranking[stable_ranking["near_miss"]]
    assert len(body) == 21 + len(near)
    for _, r in near.iterrows():
        assert any(r["name_nl"] in row and "net buiten de selectie" in row for row in body)
    assert "afgeleid" in table
    # without a stability run the table still renders, without the columns
    plain = render_report(ReportInputs(priority=stable_ranking.drop(columns=["p_top", "stability", "near_miss"])))
    assert "Kans in de selectie" not in plain


def test_close_one_closes_a_current_site():
    from geoplanner.pipeline.siting import load_scenario

    s = load_scenario("scenarios/close_one.toml")
    one = load_services("one")
    assert set(s.close) <= set(one.points["id"])
    raw = pd.read_csv(one.sources[0], dtype=str).set_index("id")
    assert (raw.loc[list(s.close), "status"] == "current").all()


def test_rank_table_renders_with_the_signature_run_uses(stable_ranking):
    from rich.console import Console

    from geoplanner.cli.rank import rank_table

    console = Console(width=250, record=True)
    console.print(rank_table(stable_ranking, 21))  # geoplanner run calls it so
    text = console.export_text()
    assert "p_top21" in text and "robuust" in text and "afgeleid" in text
