"""Capacitated scenarios in the outputs: the unserved layers of the map, the teams section of the report."""

from __future__ import annotations

import dataclasses
import re

import pandas as pd
import pytest
from _mapdata import shared_map_data  # tests/_mapdata.py

from geoplanner.core.i18n import label
from geoplanner.outputs import maps


@pytest.fixture(scope="module")
def map_data(need_sectors, ranking) -> maps.MapData:
    return shared_map_data(need_sectors, ranking)


def test_map_shows_unserved_by_distance_and_by_capacity(map_data):
    sec = map_data.sectors["cd_sector"].to_numpy()
    un = pd.DataFrame(
        {
            "cd_sector": sec[:3],
            "consultations_unserved_distance": [120.0, 0.0, 40.0],
            "consultations_unserved_capacity": [0.0, 75.0, 3.0],
        }
    )
    data = dataclasses.replace(map_data, unserved=un)
    html = maps.render_html(maps.build_scenario_map(data))
    names = maps.layer_names(maps.build_scenario_map(data))
    assert label("consultations_unserved_distance") in names and label("consultations_unserved_capacity") in names
    # the legend totals are the data's totals
    assert re.search(re.escape(label("consultations_unserved_distance")) + r": 160\\u003c", html)
    assert re.search(re.escape(label("consultations_unserved_capacity")) + r": 78\\u003c", html)
    # without the table, no such layer
    assert label("consultations_unserved_capacity") not in maps.layer_names(maps.build_scenario_map(map_data))


def _curve() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "scenario": "mobiel_2_teams, mobiel_4_teams",
            "teams": [1, 2, 3],
            "sessions_per_week": [8, 16, 24],
            "consultations_served": [11581.0, 15261.0, 18941.0],
            "share_consultations_served": [0.074, 0.098, 0.121],
            "children_served": [2858.6, 3780.0, 4704.0],
            "share_priority_served": [0.08, 0.16, 0.24],
            "share_deprivation_served": [0.084, 0.122, 0.157],
            "status": ["optimal", "within_gap", "within_gap"],
            "gap_share": [0.0, 0.0002, 0.002],
            "teams_needed": [None, None, None],
            "target_share": [0.5, 0.5, 0.5],
        }
    )


@pytest.mark.parametrize(
    ("lang", "sentence"), [("nl", "meer dan 3 teams nodig voor 50 %"), ("en", "more than 3 teams")]
)
def test_report_has_the_teams_section(lang, sentence):
    from geoplanner.outputs.report import ReportInputs, render_report

    wijk = pd.DataFrame(
        {"mdrc": [62], "name_nl": ["<i>Machtens</i>"], "name_fr": ["Machtens"], "consultations_demand": [900.0],
         "consultations_served_existing": [0.0], "consultations_served_new": [44.0],
         "consultations_unserved_distance": [800.0], "consultations_unserved_capacity": [56.0],
         "share_consultations_served": [44 / 900]}
    )  # fmt: skip
    page = render_report(ReportInputs(teams_curve=_curve(), unserved=[("mobiel_2_teams", wijk)]), lang=lang)
    assert label("teams_title", lang) in page and sentence in page
    assert 'class="teams-table"' in page and "data:image/png;base64," in page
    assert "&lt;i&gt;Machtens&lt;/i&gt;" in page  # names from data are escaped
    unserved = re.search(r'<table class="unserved-table">(.*?)</table>', page, re.S).group(1)
    cells = re.findall(r"<td>(.*?)</td>", unserved)
    assert cells[2:] == ["900", "0", "44", "800", "56", ("4,9 %" if lang == "nl" else "4.9 %")]
    # shares of the curve are formatted as percentages, counts as whole numbers
    assert ("24,0 %" if lang == "nl" else "24.0 %") in page and ("18.941" if lang == "nl" else "18,941") in page
