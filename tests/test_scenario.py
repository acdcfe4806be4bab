"""Scenario files: strict validation with line numbers, the shipped scenarios, demand weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geoplanner.core.errors import ConfigError
from geoplanner.pipeline.siting import load_scenario
from geoplanner.scenario.compare import compare
from geoplanner.scenario.context import demand_weights
from geoplanner.scenario.spec import parse_scenario

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


def test_curve_max_teams_zero_is_the_quick_evaluation_and_below_zero_is_refused():
    assert parse_scenario(GOOD + "[curve]\nmax_teams = 0\n").curve_max_teams == 0
    e = _err(GOOD + "[curve]\nmax_teams = -1\n")
    assert e.column == "curve.max_teams" and "0-40" in e.message


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


# --- capacity parameters, working slots, venues ----------------------------------------------------

CAP = """\
name = "cap"
model = "capacitated_rotation"

[demand]
consultations_age0 = 6
uptake = 0.8

[capacity]
children_per_session = 8

[candidates]
suitability = ["geschikt"]
prefer_dutch = true

[rotation]
teams = 2
sessions_per_team = 3
slots = ["woensdag namiddag", "zaterdag voormiddag", "dinsdag avond"]
"""


def test_capacity_keys_parse_with_documented_defaults():
    from geoplanner.scenario.spec import CAPACITY_PARAMETERS, Scenario

    s = parse_scenario(CAP)
    assert s.consultations_per_child == (6.0, 3.0, 2.0)
    assert (s.uptake, s.dutch_share, s.children_per_session, s.weeks_per_year) == (0.8, 0.3, 8.0, 46.0)
    assert s.planned_fill == 0.85 and s.sessions_per_site == 2 and s.sessions_per_day == 2
    assert s.session_capacity == pytest.approx(8 * 46 * 0.85) and s.capacitated
    assert s.slots == (("woensdag", "namiddag"), ("zaterdag", "voormiddag"), ("dinsdag", "avond"))
    assert s.candidate_suitability == ("geschikt",) and s.prefer_dutch
    # the dataclass defaults and the documented defaults are the same numbers
    d = Scenario(name="x")
    documented = {k: v for k, v, _ in CAPACITY_PARAMETERS}
    assert d.consultations_per_child == tuple(documented[f"demand.consultations_age{a}"] for a in range(3))
    assert (d.uptake, d.dutch_share) == (documented["demand.uptake"], documented["demand.dutch_share"])
    assert d.children_per_session == documented["capacity.children_per_session"]
    assert d.weeks_per_year == documented["capacity.weeks_per_year"]
    assert d.curve_target_share == documented["curve.target_share"]
    assert d.planned_fill == documented["capacity.planned_fill"]
    assert d.sessions_per_site == documented["capacity.sessions_per_site"]
    assert d.sessions_per_day == documented["rotation.sessions_per_day"]
    # the report's figure (21.7 % non-use) is the uptake default; the others are labelled assumptions
    basis = {k: b for k, _, b in CAPACITY_PARAMETERS}
    assert documented["demand.uptake"] == pytest.approx(1 - 0.217) and "21,7 %" in basis["demand.uptake"]
    for key in ("demand.consultations_age0", "capacity.children_per_session", "capacity.weeks_per_year"):
        assert basis[key].startswith("aanname")


def test_capacity_keys_are_checked():
    e = _err(CAP.replace('"dinsdag avond"', '"dinsdag nacht"'))
    assert e.column == "rotation.slots" and "dag dagdeel" in e.message
    e = _err(CAP.replace('"dinsdag avond"', '"woensdag namiddag"'))
    assert "listed twice" in e.message
    e = _err(CAP.replace("sessions_per_team = 3", "sessions_per_team = 4"))
    assert e.column == "rotation.sessions_per_team" and "1-3" in e.message
    e = _err(CAP.replace("uptake = 0.8", "uptake = 1.5"))
    assert e.column == "demand.uptake" and e.row == 6
    e = _err(CAP.replace('["geschikt"]', '["prachtig"]'))
    assert e.column == "candidates.suitability"
    e = _err(CAP.replace("children_per_session = 8", "children_per_session = 0"))
    assert e.column == "capacity.children_per_session"


def test_consultation_demand_by_hand():
    from geoplanner.scenario.capacity import consultation_demand

    s = parse_scenario(CAP)  # 6 / 3 / 2 consultations, uptake 0.8, Dutch-speaking share 0.3 (the default)
    dem = pd.DataFrame({"weight": [30.0, 10.0, 5.0], "cd_sector": ["A", "B", "Z"]})
    sectors = pd.DataFrame({"cd_sector": ["A", "B"], "births": [10.0, 0.0], "pop_0_2": [30.0, 20.0]})
    d, rate = consultation_demand(s, dem, sectors)
    # A: a third are 0-year-olds: 6/3 + 2.5·2/3 = 3.667 per child; B: none: 2.5; Z: no figures: (6+3+2)/3
    assert rate.tolist() == pytest.approx([6 / 3 + 2.5 * 2 / 3, 2.5, 11 / 3])
    assert d.tolist() == pytest.approx([30 * rate[0] * 0.24, 10 * 2.5 * 0.24, 5 * 11 / 3 * 0.24])


def test_venue_suitability_and_language_come_from_the_table_and_the_data(data_dir):
    from geoplanner.core.errors import DataError
    from geoplanner.inputs.services import load_services
    from geoplanner.inputs.venues import TYPE_SUITABILITY, dutch_speaking, suitability

    cand = load_services("candidates", data_dir).points
    assert set(cand["type"]) <= set(TYPE_SUITABILITY)  # every type in the data has a class and a reason
    cls = suitability(cand)
    assert set(cls[cand["type"] == "community_centre_vgc"]) == {"geschikt"}
    assert set(cls[cand["type"] == "community_centre"]) == {"na_te_gaan"}  # hip-hop schools hide there
    nl = dutch_speaking(cand)
    lang = cand["language"].astype(str)
    assert (nl[lang == "unknown"].isna()).all()  # unknown stays unknown, never guessed
    assert (nl[lang == "fr"] == False).all()  # noqa: E712 - values are True/False/None
    assert (nl[lang.str.startswith("nl")] == True).all()  # noqa: E712
    own = pd.DataFrame({"type": ["community_centre", "library"], "suitability": ["geschikt", ""]})
    assert suitability(own).tolist() == ["geschikt", "na_te_gaan"]
    with pytest.raises(DataError, match="unknown suitability"):
        suitability(pd.DataFrame({"type": ["library"], "suitability": ["super"]}))


def test_efficient_scenarios_by_hand():
    """Efficient: nobody serves as much (consultations and priority wijken) for as few sessions and does better."""
    from geoplanner.scenario.compare import efficient

    table = pd.DataFrame(
        {
            "consultations_served": [400.0, 6654.6591007038220, 6654.6591007038217, 6654.66, 12291.6, 5000.0],
            "priority_wijken_served": [0, 9, 12, 11, 16, 12],
            "sessions_per_week": [0, 16, 16, 16, 32, 20],
        }
    )
    # 0: the cheapest; 1 and 3: beaten by 2 (the same consultations, to the last bits, more wijken);
    # 4: the most; 5: beaten by 2 (more served, same wijken, fewer sessions)
    assert efficient(table).tolist() == [True, False, True, False, True, False]


def test_readme_glossary_names_every_measure():
    """The README's glossary has a row for every measure, and no row for a measure that does not exist."""
    import re
    from pathlib import Path

    from geoplanner.scenario.measures import MEASURES

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    part = readme[readme.index("## Glossary: one name per measure") :]
    part = part[: part.index("\n## ", 3)]
    named = {c for row in re.findall(r"^\| (`[^|]+`) \|", part, re.M) for c in re.findall(r"`([a-z0-9_]+)`", row)}
    assert named == {m.column for m in MEASURES}
