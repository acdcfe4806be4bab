"""The shipped capacitated mobile scenario on the real data: capacity holds, every child's demand is accounted for."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from geoplanner.pipeline.siting import build_context, load_scenario
from geoplanner.scenario.evaluate import evaluate
from geoplanner.scenario.tables import unserved_by_wijk

ROOT = Path(__file__).resolve().parent.parent
#: README, "Siting scenarios": "7 teams are needed to serve half the priority wijken's expected consultations".
README_TEAMS_NEEDED = 7


@pytest.fixture(scope="module")
def mobile(data_dir):
    s = load_scenario(ROOT / "scenarios" / "mobile_2_teams.toml", data_dir=data_dir)
    # a teams curve just long enough to reach the README's figure keeps the test quick; the model is the shipped one
    s = dataclasses.replace(s, curve_max_teams=README_TEAMS_NEEDED, curve_time_limit_s=3.0)
    ctx = build_context(data_dir)
    return s, ctx, evaluate(s, ctx)


def test_no_session_above_its_capacity_on_the_real_run(mobile):
    s, _, r = mobile
    tt = r.timetable
    assert len(tt) == r.summary["sessions_per_week"] > 0
    assert (tt["expected_attendance"] <= s.children_per_session + 1e-6).all()
    assert (tt["utilisation"] <= 1 + 1e-6).all()
    res = r.siting
    held = res.sessions > 0
    assert (res.load[held] <= res.capacity[held] * res.sessions[held] * (1 + 1e-9) + 1e-6).all()
    # the sites table says the same as the timetable
    assert r.sites["consultations_per_year"].sum() == pytest.approx(res.load.sum())
    assert (r.sites["consultations_per_year"] <= r.sites["capacity_per_year"] + 1e-6).all()


def test_every_consultation_is_served_or_unserved_for_one_reason(mobile):
    s, _, r = mobile
    p = r.points
    total = p["served_existing"] + p["served_new"] + p["unserved_distance"] + p["unserved_capacity"]
    assert np.allclose(total, p["consultations"], rtol=1e-9, atol=1e-6)
    # independent of the model: distance-unserved homes have no held session or bureau within the
    # threshold (their walking minutes say so), capacity-unserved homes do
    assert (p.loc[p["unserved_distance"] > 0, "minutes"] > s.threshold_min).all()
    assert (p.loc[p["unserved_capacity"] > 1e-9, "minutes"] <= s.threshold_min).all()
    # served within capacity is far below reached within walking distance
    assert r.summary["children_covered"] < 0.5 * r.summary["children_in_reach"]
    wijk = unserved_by_wijk(p)
    assert wijk["consultations"].sum() == pytest.approx(p["consultations"].sum())
    # the per-LGN table counts the same children served as the summary
    assert r.per_lgn["children_covered"].sum() == pytest.approx(r.summary["children_covered"])


def test_teams_work_one_lgn_a_day_in_their_slots_at_suitable_venues(mobile):
    s, _, r = mobile
    tt = r.timetable
    assert (tt.groupby(["team", "dag"])["lgn"].nunique() == 1).all()
    assert set(zip(tt["dag"], tt["dagdeel"], strict=True)) <= set(s.slots)
    assert (tt.groupby("team").size() <= s.sessions_per_team).all()
    assert tt["venue_id"].is_unique  # one session a week per venue: never two teams at once
    assert set(tt["suitability"]) == {"geschikt"}


def test_every_lgn_with_a_priority_wijk_gets_a_session(mobile):
    _, ctx, r = mobile
    prio_lgn = set(ctx.demand.loc[ctx.demand["priority"], "lgn"].dropna().astype(int))
    assert prio_lgn and prio_lgn <= set(r.timetable["lgn"])


def test_priority_floor_and_teams_curve(mobile):
    s, ctx, r = mobile
    p = r.points.assign(priority=ctx.demand["priority"].to_numpy())
    pr = p[p["priority"]]
    per = pr.groupby("mdrc")[["consultations", "served_existing", "served_new", "unserved_distance"]].sum()
    floor = s.priority_served_share * per["consultations"]
    reachable = per["consultations"] - per["unserved_distance"]  # within reach of a held session or bureau
    served = per["served_existing"] + per["served_new"]
    # each priority wijk gets its floor, or all it has within reach of a candidate when that is less
    # (within reach of a held session is a subset of that, so this bound is implied)
    assert (served >= np.minimum(floor, reachable) - 1e-6).all()
    curve = r.curve
    assert curve["teams"].tolist() == list(range(1, README_TEAMS_NEEDED + 1))
    assert (np.diff(curve["consultations_served"]) > 0).all()
    # every point within its 1 % of the bound (HiGHS' or, for a kept greedy rotation, the LP's)
    assert curve["status"].isin(["optimal", "within_gap"]).all()
    assert (curve["gap_share"] <= 0.01 + 1e-12).all()
    # capacity bound: never more than teams × sessions × capacity on top of the existing bureaus
    existing = p["served_existing"].sum()
    assert (curve["consultations_served"] - existing <= curve["teams"] * s.sessions_per_team * s.session_capacity
            + 1e-6).all()  # fmt: skip
    # teams needed on the shipped data: found (never None) and the README's figure
    needed = r.teams_needed
    assert needed["teams"] is not None, needed
    assert needed["lower_bound"] >= 1 and needed["teams"] >= needed["lower_bound"]
    assert needed["teams"] == README_TEAMS_NEEDED and needed["served_share"] >= s.curve_target_share


def test_capacitated_mclp_scenario_on_the_real_data(mobile, tmp_path):
    from geoplanner.pipeline.siting import write_scenario_outputs
    from geoplanner.scenario.spec import parse_scenario

    _, ctx, _ = mobile
    s = parse_scenario(
        'name = "cmclp"\nmodel = "capacitated_mclp"\n[candidates]\nsuitability = ["geschikt"]\n[siting]\nk = 5\n'
        "time_limit_s = 20\n"
    )
    r = evaluate(s, ctx)
    res = r.siting
    assert (res.sessions > 0).sum() == 5 and r.timetable.empty and r.curve is None
    assert (res.load <= res.capacity * res.sessions + 1e-6).all()
    assert res.load.sum() == pytest.approx(5 * s.session_capacity)  # demand within reach exceeds 5 sessions
    assert r.summary["consultations_served"] == pytest.approx(res.load.sum() + r.points["served_existing"].sum())
    written = {p.name for p in write_scenario_outputs(r, tmp_path)}
    assert {"sites.csv", "coverage_wijk.csv", "notes.txt"} <= written and "teams_curve.csv" not in written
    assert "aanname" in (tmp_path / "notes.txt").read_text(encoding="utf-8")
