"""``geoplanner serve``'s API (FastAPI TestClient): sessions kept apart, edits checked, errors as one line of JSON,
safe by default (token, uploads, fixed file names), the downloaded scenario giving the same result with ``site``."""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path

import pandas as pd
import pytest
from _mapdata import XSS_NAME  # tests/_mapdata.py
from fastapi.testclient import TestClient

from geoplanner.scenario import parse_scenario
from geoplanner.serve import app as app_module
from geoplanner.serve import state as state_module
from geoplanner.serve.app import create_app
from geoplanner.serve.edit import apply_edits, scenario_toml
from geoplanner.serve.server import check_binding, is_loopback
from geoplanner.serve.state import ServerState

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "scenarios").glob("*.toml"))


@pytest.fixture(scope="module")
def state(data_dir):
    st = ServerState.load(ROOT / "scenarios", data_dir=data_dir)
    yield st
    st.shutdown()


@pytest.fixture(scope="module")
def client(state):
    return TestClient(create_app(state))


def _session(client) -> dict[str, str]:
    return {"X-Session": client.post("/api/session").json()["session"]}


def _done(client, headers, job: dict, timeout: float = 180.0) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        j = client.get(f"/api/jobs/{job['id']}", headers=headers).json()
        if j["state"] not in ("queued", "running"):
            return j
        time.sleep(0.1)
    raise AssertionError(f"job {job['id']} did not finish")


def _evaluate(client, headers, **request) -> dict:
    r = client.post("/api/evaluate", json=request, headers=headers)
    assert r.status_code == 202, r.json()
    return _done(client, headers, r.json())


def _measure(result: dict, column: str) -> float:
    return next(m["value"] for m in result["measures"] if m["column"] == column)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_a_scenario_written_back_parses_to_the_same_scenario(path):
    s = parse_scenario(path.read_text(encoding="utf-8"), path)
    assert parse_scenario(scenario_toml(s, "comment")) == s
    edited = apply_edits(
        s,
        {
            "walk.threshold_min": 12.5,
            "demand.consultations_age0": 6,
            "demand.uptake": 0.7,
            "demand.dutch_share": 0.45,
            "capacity.children_per_session": 9,
            "capacity.planned_fill": 0.8,
        },
    )  # every value away from its default
    assert parse_scenario(scenario_toml(edited)) == edited and edited.threshold_min == 12.5
    hostile = apply_edits(s, {"candidates.exclude": [XSS_NAME, 'a"b\\c\nd']})
    assert parse_scenario(scenario_toml(hostile)).candidate_exclude == (XSS_NAME, 'a"b\\c\nd')


def test_an_edit_is_checked_like_a_file_and_refused_as_one_line_naming_its_field(client):
    h = _session(client)
    for edits, field, message in (
        ({"rotation.teams": 0}, "rotation.teams", "must be at least 1, got 0"),
        ({"demand.uptake": "1,5"}, "demand.uptake", "must be > 0 and <= 1, got 1.5"),
        ({"walk.threshold_min": "tien"}, "walk.threshold_min", "must be a number, got 'tien'"),
        ({"model": "x"}, "model", "'model' cannot be edited here"),
        ({"services.open": ["../../etc"]}, "services.open", "unknown service set '../../etc'"),
    ):
        r = client.post("/api/evaluate", json={"base": "mobiel_2_teams", "edits": edits}, headers=h)
        assert r.status_code == 400 and r.json() == {"error": message, "field": field}
    r = client.post("/api/evaluate", json={"base": "mobiel_2_teams", "name": "a b"}, headers=h)
    assert r.status_code == 400 and r.json()["field"] == "name"


def test_two_sessions_never_see_each_others_scenarios_results_or_data(client, state):
    a, b = _session(client), _session(client)
    done = _evaluate(client, a, base="mobiel_2_teams", name="drie", edits={"rotation.teams": 3})
    assert done["state"] == "done" and done["result"]["scenario"] == "drie"
    upload = client.post("/api/upload?filename=lijst.csv", content=b"id,name,type,lat,lon\nX1,Eigen CB,cb,50.85,4.35\n",
                         headers=a)  # fmt: skip
    assert upload.status_code == 200, upload.json()
    names_b = [s["name"] for s in client.get("/api/scenarios", headers=b).json()["scenarios"]]
    sets_b = [s["name"] for s in client.get("/api/scenarios", headers=b).json()["sets"]]
    assert "drie" not in names_b and upload.json()["set"] not in sets_b
    assert "drie" in [s["name"] for s in client.get("/api/scenarios", headers=a).json()["scenarios"]]
    r = client.post("/api/compare", json={"names": ["drie"]}, headers=b)
    assert r.status_code == 400 and "not computed yet" in r.json()["error"]
    r = client.post("/api/evaluate", json={"base": "drie"}, headers=b)
    assert r.json() == {"error": "unknown scenario 'drie'", "field": "base"}
    r = client.post("/api/evaluate", json={"base": "huidig", "edits": {"services.open": [upload.json()["set"]]}},
                    headers=b)  # fmt: skip
    assert r.status_code == 400 and r.json()["field"] == "services.open"
    # a's own data lives in a's own context, with its own teams-curve memo; the server's is untouched
    sess_a = state.session(a["X-Session"])
    assert upload.json()["set"] in sess_a.context(state.context).services
    assert upload.json()["set"] not in state.context.services
    assert sess_a.context(state.context).curves is not state.context.curves
    job_b = client.get(f"/api/jobs/{done['id']}", headers=b)
    assert job_b.status_code == 400  # b cannot read a's evaluation either


def test_the_uploaded_list_is_a_service_set_of_the_session(client):
    h = _session(client)
    up = client.post("/api/upload?filename=eigen.csv", content=b"id,name,type,lat,lon\nX1,Eigen CB,cb,50.8467,4.3525\n",
                     headers=h).json()  # fmt: skip
    base = _evaluate(client, h, base="huidig")
    own = _evaluate(client, h, base="huidig", name="eigen_bureaus", edits={"services.open": ["any_cb", up["set"]]})
    assert own["state"] == "done", own
    assert _measure(own["result"], "children_within_threshold") > _measure(base["result"], "children_within_threshold")


def test_a_newer_request_of_a_session_cancels_the_older(client, state):
    h = _session(client)
    first = client.post("/api/evaluate", json={"base": "mobiel_2_teams", "name": "eerste"}, headers=h).json()
    second = client.post("/api/evaluate", json={"base": "mobiel_2_teams", "name": "tweede",
                                                "edits": {"rotation.teams": 1}}, headers=h).json()  # fmt: skip
    assert state.pool.jobs[first["id"]].state == "cancelled"  # at once, for the client
    assert client.get(f"/api/jobs/{first['id']}", headers=h).json()["state"] == "cancelled"  # and it can see so
    assert _done(client, h, second)["state"] == "done"
    state.pool.jobs[first["id"]].future.result(timeout=180)  # its worker has stopped too
    names = [s["name"] for s in client.get("/api/scenarios", headers=h).json()["scenarios"]]
    assert "tweede" in names and "eerste" not in names  # the cancelled one left nothing behind


def test_cancel_answers_at_once_and_a_cancelled_job_keeps_no_result(client, state):
    h = _session(client)
    job = client.post("/api/evaluate", json={"base": "mobiel_2_teams", "name": "weg",
                                             "edits": {"rotation.teams": 4}}, headers=h).json()  # fmt: skip
    r = client.post(f"/api/jobs/{job['id']}/cancel", headers=h)
    assert r.json()["state"] == "cancelled"
    state.pool.jobs[job["id"]].future.exception(timeout=180)
    assert client.get(f"/api/jobs/{job['id']}", headers=h).json()["state"] == "cancelled"
    assert "weg" not in state.session(h["X-Session"]).results


def test_the_downloaded_scenario_gives_the_same_result_with_geoplanner_site(cache_on, client, tmp_path, monkeypatch):
    """The TOML the app hands out runs with ``geoplanner site`` to the same figures, from the one solution cache."""
    import json

    from geoplanner.cli import main

    h = _session(client)
    done = _evaluate(client, h, base="mobiel_2_teams", name="bewerkt", edits={"rotation.teams": 3,
                                                                             "walk.threshold_min": 12})  # fmt: skip
    toml = client.get(f"/api/download/scenario?name=bewerkt&session={h['X-Session']}")
    assert toml.status_code == 200 and 'filename="bewerkt.toml"' in toml.headers["content-disposition"]
    path = tmp_path / "bewerkt.toml"
    path.write_text(toml.text, encoding="utf-8")
    monkeypatch.chdir(ROOT)
    assert main(["site", str(path), "--out", str(tmp_path / "out")]) == 0
    summary = pd.read_csv(tmp_path / "out" / "coverage_summary.csv").iloc[0]
    for m in done["result"]["measures"]:  # rounded alike (outputs.precision): the same numbers
        if m["value"] is not None:
            assert summary[m["column"]] == m["value"], m["column"]
    timetable = pd.read_csv(tmp_path / "out" / "timetable.csv")
    assert timetable["venue_id"].tolist() == [t["venue_id"] for t in done["result"]["timetable"]]
    # the app stored the solution; the command line found it there (the cache the two share)
    record = json.loads((tmp_path / "out" / "manifest.json").read_text())["solution_cache"]
    assert record["used"] and record["hit"]


def test_compare_workbook_and_printable_page(client):
    h = _session(client)
    _evaluate(client, h, base="mobiel_2_teams")
    c = client.post("/api/compare", json={"names": ["mobiel_2_teams"]}, headers=h).json()
    assert c["header"][1:] == ["Huidige situatie (bekende bureaus)", "2 mobiele teams"]
    assert c["chart"].startswith("data:image/png;base64,") and len(c["rows"]) > 10
    assert client.post("/api/compare", json={"names": ["a", "b", "c", "d"]}, headers=h).json()["field"] == "names"
    s = h["X-Session"]
    wb = client.get(f"/api/download/workbook?names=mobiel_2_teams&session={s}")
    assert wb.status_code == 200 and wb.content.startswith(b"PK")
    page = client.get(f"/api/download/print?names=mobiel_2_teams&session={s}")
    assert page.status_code == 200 and "2 mobiele teams" in page.text and "<html" in page.text.lower()


def test_uploads_are_capped_type_checked_and_named_only_as_text(client, monkeypatch):
    h = _session(client)
    for name, body, field, message in (
        ("run.sh", b"echo", "file", "unsupported file type '.sh'"),
        ("../../x.csv", b"id,name\n1,a\n", None, "missing column(s)"),
        ("list.xlsx", b"id,name,type\n", "file", "this is not an .xlsx workbook"),
        ("big.csv", b"x" * (app_module.MAX_UPLOAD_BYTES + 1), "file", "larger than 2 MB"),
    ):
        r = client.post(f"/api/upload?filename={name}", content=body, headers=h)
        assert r.status_code == 400 and message in r.json()["error"], r.json()
        assert "Traceback" not in r.text and "/tmp" not in r.text
        if field:
            assert r.json()["field"] == field
    assert (
        client.post("/api/upload?filename=../../x.csv", content=b"id,name\n1,a\n", headers=h)
        .json()["error"]
        .startswith("x.csv")
    )  # the client's name is text in a message, never a path
    chunked = client.post("/api/upload?filename=big.csv", content=iter([b"x" * 1_000_000] * 3), headers=h)
    assert chunked.status_code == 400 and "larger than 2 MB" in chunked.json()["error"]  # no length given: counted
    monkeypatch.setattr(state_module, "MAX_UPLOAD_ROWS", 2)
    rows = b"id,name,type,lat,lon\n" + b"".join(b"R%d,n,cb,50.85,4.35\n" % i for i in range(3))
    r = client.post("/api/upload?filename=lang.csv", content=rows, headers=h)
    assert r.json()["error"].startswith("lang.csv: 3 rows; at most 2")


def test_a_hostile_name_travels_as_text(client):
    h = _session(client)
    body = f'id,name,type,lat,lon\nH1,"{XSS_NAME.replace(chr(34), chr(34) * 2)}",cb,50.85,4.35\n'.encode()
    rep = client.post("/api/upload?filename=x.csv", content=body, headers=h).json()
    assert rep["rows"][0]["name"] == XSS_NAME  # exact: the page sets it with textContent
    page = client.get("/static/app.js").text
    assert "innerHTML" not in page and "insertAdjacentHTML" not in page and "document.write" not in page


def test_safe_by_default_loopback_and_a_token_everywhere_else(state):
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    assert check_binding("127.0.0.1", None) is None
    made = check_binding("0.0.0.0", None)
    assert made and len(made) >= 16
    with pytest.raises(Exception, match="at least 16"):
        check_binding("0.0.0.0", "short")
    guarded = TestClient(create_app(state, token="t" * 20))
    assert guarded.get("/api/health").status_code == 200
    for method, path in (("post", "/api/session"), ("get", "/api/layers"), ("get", "/api/download/scenario?name=x")):
        r = getattr(guarded, method)(path)
        assert r.status_code == 403 and r.json()["field"] == "token"
    wrong = guarded.post("/api/session", headers={"X-Geoplanner-Token": "u" * 20})
    assert wrong.status_code == 403
    assert guarded.post("/api/session", headers={"X-Geoplanner-Token": "t" * 20}).status_code == 200
    assert guarded.get("/").status_code == 200  # the page holds no data


def test_files_are_served_by_fixed_names_only(client):
    assert client.get("/vendor/leaflet.js").status_code == 200
    assert client.get("/vendor/images/layers.png").headers["content-type"] == "image/png"
    for path in ("/vendor/..%2F..%2Fdata%2Fbundle.toml", "/static/..%2Fapp.py", "/static/app.py", "/vendor/x.js",
                 "/static/index.html%00"):  # fmt: skip
        r = client.get(path)
        assert r.status_code == 404 and r.json()["error"] in ("not found", "Not Found"), path


def test_a_fault_of_the_server_is_one_line_without_a_traceback(state, monkeypatch):
    quiet = TestClient(create_app(state), raise_server_exceptions=False)
    h = {"X-Session": quiet.post("/api/session").json()["session"]}
    monkeypatch.setattr(ServerState, "scenario_names", lambda *a: 1 / 0)
    r = quiet.get("/api/scenarios", headers=h)
    assert r.status_code == 500 and r.json() == {"error": "internal error (the server's log has the details)",
                                                 "field": None}  # fmt: skip
    assert "ZeroDivision" not in r.text and "Traceback" not in r.text
    assert quiet.get("/api/overview", headers={"X-Session": "nope"}).json()["field"] == "session"


def test_the_region_layers_stay_under_2_mb(state):
    """README: the region's map layers are <= 2 MB (simplified polygons, coordinates to a metre)."""
    assert len(state.layers_json) <= 2_000_000
    assert {"wijken", "sectors", "venues", "bureaus"} <= set(state.layers)
    assert len(state.layers["wijken"]["features"]) == len(state.context.ranking)


def test_a_venue_added_in_the_session_can_be_chosen(client, state):
    h = _session(client)
    v = client.post("/api/venues", json={"name": XSS_NAME, "lon": 4.3517, "lat": 50.8466}, headers=h)
    assert v.status_code == 200 and v.json()["name"] == XSS_NAME
    outside = client.post("/api/venues", json={"name": "Parijs", "lon": 2.35, "lat": 48.85}, headers=h)
    assert outside.status_code == 400 and outside.json()["field"] == "venue"
    sess = state.session(h["X-Session"])
    s = dataclasses.replace(state.shipped["mobiel_2_teams"], curve_max_teams=0)
    run = state.pool_scenario(sess, s)
    pool = sess.context(state.context).services[run.candidate_set].points
    assert "eigen-1" in set(pool["id"]) and run.candidate_suitability == ()
    assert "eigen-1" not in set(sess.context(state.context).services[state.pool_scenario(
        sess, dataclasses.replace(s, candidate_exclude=("eigen-1",))).candidate_set].points["id"])  # fmt: skip


def test_a_venue_the_selection_leaves_out_can_be_let_in_and_taken_away(client, state, data_dir):
    from geoplanner.pipeline.imports import preview_services

    h = _session(client)
    other = next(f["properties"]["id"] for f in state.layers["venues"]["features"]
                 if f["properties"]["suitability"] == "na_te_gaan")  # fmt: skip
    done = _evaluate(client, h, base="mobiel_2_teams", name="met_extra", admit=[other])
    assert done["state"] == "done", done
    sess = state.session(h["X-Session"])
    run = sess.runs["met_extra"]
    pool = sess.context(state.context).services[run.candidate_set].points
    shipped = state.pool_scenario(sess, dataclasses.replace(state.shipped["mobiel_2_teams"]))
    assert other in set(pool["id"]) and len(pool) == len(sess.sets[shipped.candidate_set].points) + 1
    toml = client.get(f"/api/download/scenario?name=met_extra&session={h['X-Session']}").text
    assert f'set = "{run.candidate_set}"' in toml and f"--set {run.candidate_set}" in toml
    venues = client.get(f"/api/download/venues?name=met_extra&session={h['X-Session']}")
    assert venues.status_code == 200
    again, _ = preview_services(venues.content, ".csv", run.candidate_set, data_dir=data_dir)
    assert sorted(again.points["id"]) == sorted(pool["id"])  # what `services import` makes of it: the same venues
    assert (again.points.sort_values("id").geometry.distance(pool.sort_values("id").geometry, align=False)
            < 0.5).all()  # fmt: skip
    bad = client.post("/api/evaluate", json={"base": "mobiel_2_teams", "admit": ["GEEN"]}, headers=h)
    assert bad.status_code == 400 and bad.json()["field"] == "admit"


def test_a_solve_that_ends_after_its_cancel_keeps_no_result(client, state, monkeypatch):
    """A cancel that arrives while the last solve runs (no later step to stop at): its result is dropped."""
    import threading

    release = threading.Event()

    def last_solve(scenario, context):  # stands for a solve already past its last step when the cancel comes
        release.wait(60)
        return state.baseline

    monkeypatch.setattr(state_module, "evaluate", last_solve)
    h = _session(client)
    job = client.post("/api/evaluate", json={"base": "huidig", "name": "laat"}, headers=h).json()
    assert client.post(f"/api/jobs/{job['id']}/cancel", headers=h).json()["state"] == "cancelled"
    release.set()
    state.pool.jobs[job["id"]].future.result(timeout=60)
    assert "laat" not in state.session(h["X-Session"]).results
    assert client.get(f"/api/jobs/{job['id']}", headers=h).json()["state"] == "cancelled"


def test_how_many_teams_draws_the_curve_one_point_a_step_and_stops_when_cancelled(client, state):
    h = _session(client)
    r = client.post("/api/curve", json={"base": "huidig"}, headers=h)
    assert r.status_code == 400 and r.json()["field"] == "model"
    job = client.post("/api/curve", json={"base": "mobiel_2_teams", "max_teams": 6}, headers=h).json()
    found = state.pool.jobs[job["id"]]
    end = time.monotonic() + 120
    point = re.compile(r": \d+ teams?$")  # a point of the curve (two may be solved at once: CURVE_THREADS)
    while not point.search(found.step) and found.state in ("queued", "running") and time.monotonic() < end:
        time.sleep(0.02)
    assert point.search(found.step), found.step  # progress: the point being solved
    client.post(f"/api/jobs/{job['id']}/cancel", headers=h)
    found.future.result(timeout=120)
    memo = [v for k, v in state.context.curves.items() if "max_teams', 6" in k]
    assert memo and len(memo[0]) < 5  # stopped at the next point, not after all five others
    assert "mobiel_2_teams_bewerkt" not in state.session(h["X-Session"]).results


def test_geoplanner_serve_refuses_a_bad_option_in_one_line_before_loading(tmp_path):
    """``geoplanner serve`` (the command line starts ``python -m geoplanner.serve``): exit 1, one line, no traceback."""
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for args, where in ((["--host", "0.0.0.0", "--token", "short"], "option --token: the token must have"),
                            (["--port", str(port)], f"option --port: cannot listen on 127.0.0.1:{port}")):  # fmt: skip
            done = subprocess.run([sys.executable, "-m", "geoplanner", "serve", *args], capture_output=True, text=True,
                                  cwd=tmp_path, timeout=120)  # fmt: skip
            lines = done.stderr.strip().splitlines()
            assert done.returncode == 1 and len(lines) == 1 and where in lines[0], done.stderr
            assert "Traceback" not in done.stderr


def test_the_overview_mean_walking_time_is_over_the_children_who_can_reach_a_bureau():
    """'min. wandelen' per wijk is the children-weighted mean over those who can reach a bureau, as mean_min is in
    every other output; children beyond any bureau count as not reached (a hand-worked case: the public network
    reaches every home, so the real data has none)."""
    from geoplanner.serve.layers import _per

    points = pd.DataFrame({"mdrc": [1, 1, 1, 2], "children": [2.0, 1.0, 1.0, 4.0],
                           "minutes": [5.0, 20.0, float("inf"), 3.0]})  # fmt: skip
    got = _per(points, "mdrc", 10.0)
    assert got.loc[1, "mean_min"] == pytest.approx((2 * 5 + 1 * 20) / 3)  # not / 4
    assert got.loc[1, ["children", "not_reached"]].tolist() == [4.0, 2.0]
    assert got.loc[2, ["mean_min", "not_reached"]].tolist() == [3.0, 0.0]
