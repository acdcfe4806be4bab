"""Scenario files: strict validation with line numbers, the shipped scenarios, demand weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geoplanner.errors import ConfigError
from geoplanner.scenario import compare, demand_weights, load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "scenarios").glob("*.toml"))

GOOD = """\
name = "test"
model = "mclp"

[walk]
threshold_min = 10

[siting]
k = 3
"""


def _err(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_scenario(text, Path("s.toml"))
    return info.value


def test_good_scenario_parses_with_defaults():
    s = parse_scenario(GOOD)
    assert (s.name, s.model, s.k, s.threshold_min, s.speed_kmh, s.demand) == ("test", "mclp", 3, 10.0, 4.5, "children")
    assert s.open_sets == ("any_cb",)


def test_unknown_key_names_line_and_key():
    e = _err(GOOD.replace("k = 3", "k = 3\nbudget = 4"))
    assert e.row == 9 and e.column == "siting.budget" and "unknown key 'budget'" in e.message
    assert "s.toml, row 9" in str(e)


def test_unknown_top_level_key():
    e = _err("name = 'x'\ncolour = 'red'\n")
    assert e.row == 2 and e.column == "colour"


def test_wrong_type_names_line():
    e = _err(GOOD.replace("threshold_min = 10", 'threshold_min = "ten"'))
    assert e.row == 5 and e.column == "walk.threshold_min" and "must be a number" in e.message
    e = _err(GOOD.replace("k = 3", "k = 2.5"))
    assert e.row == 8 and "whole number" in e.message
    e = _err(GOOD.replace("k = 3", "k = true"))
    assert "whole number" in e.message


def test_model_requirements():
    e = _err(GOOD.replace("k = 3", ""))
    assert e.column == "siting.k" and "needs the number of new sites" in e.message
    e = _err("name = 'r'\nmodel = 'rotation'\n[rotation]\nteams = 2\n")
    assert "needs teams and sessions_per_team" in e.message and e.row == 3
    e = _err("name = 'r'\nmodel = 'rotation'\n[rotation]\nteams = 2\nsessions_per_team = 12\n")
    assert e.row == 5 and "1-10" in e.message
    e = _err("name = 'r'\nmodel = 'magic'\n")
    assert e.row == 2 and "unknown model" in e.message


def test_bad_commune_and_lgn():
    e = _err("name = 'c'\n[candidates]\ncommunes = ['Atlantis']\n")
    assert e.row == 3 and "unknown commune 'Atlantis'" in e.message
    e = _err("name = 'c'\n[candidates]\nlgn = [9]\n")
    assert e.row == 3 and "LGN" in e.message
    s = parse_scenario("name = 'c'\n[candidates]\ncommunes = ['Anderlecht', 'Molenbeek-Saint-Jean', 21004]\n")
    assert s.candidate_communes == (21001, 21012, 21004)


def test_invalid_toml_has_line():
    e = _err("name = 'x'\n[walk\n")
    assert e.row == 2 and "not valid TOML" in e.message


def test_unknown_ids_are_reported_with_line(tmp_path, data_dir):
    p = tmp_path / "bad.toml"
    p.write_text("name = 'b'\n[services]\nopen = ['any_cb']\nclose = ['ONE-99']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"row 4.*unknown service id 'ONE-99'"):
        load_scenario(p, data_dir=data_dir)
    p.write_text("name = 'b'\n[candidates]\nids = ['CAND-0001']\nexclude = ['NOPE']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"row 4.*unknown candidate id 'NOPE'"):
        load_scenario(p, data_dir=data_dir)
    p.write_text("name = 'b'\n[candidates]\ntypes = ['spaceport']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"row 3.*unknown candidate type 'spaceport'"):
        load_scenario(p, data_dir=data_dir)
    p.write_text("name = 'b'\n[services]\nopen = ['nonexistent_set']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"row 3.*unknown service set"):
        load_scenario(p, data_dir=data_dir)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenarios_validate_against_the_data(path, data_dir):
    s = load_scenario(path, data_dir=data_dir)
    assert s.description.strip()
    assert s.path == path


def test_shipped_scenarios_cover_the_issue():
    models = {p.stem: parse_scenario(p.read_text(encoding="utf-8")) for p in SHIPPED}
    assert {
        "current",
        "close_one",
        "mobile_2_teams",
        "mobile_4_teams",
        "priority_first",
        "deprivation_weighted",
    } <= set(models)
    assert models["close_one"].close and models["current"].model == "none"
    assert (models["mobile_2_teams"].teams, models["mobile_4_teams"].teams) == (2, 4)
    assert models["priority_first"].demand == "priority_only"
    assert models["deprivation_weighted"].demand == "deprivation_weighted"


def test_demand_weights():
    dem = pd.DataFrame(
        {"weight": [10.0, 10.0, 10.0], "priority": [True, False, False], "deprivation": [2.0, -1.0, np.nan]}
    )
    s = parse_scenario("name = 'a'\n[demand]\nkind = 'deprivation_weighted'\ndeprivation_strength = 0.5\n")
    assert demand_weights(s, dem).tolist() == [20.0, 10.0, 10.0]
    s = parse_scenario("name = 'a'\n[demand]\nkind = 'priority_only'\n")
    assert demand_weights(s, dem).tolist() == [10.0, 0.0, 0.0]


def test_compare_refuses_nothing_and_duplicates():
    with pytest.raises(ConfigError, match="nothing to compare"):
        compare([])
