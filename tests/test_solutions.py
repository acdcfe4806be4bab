"""Scenario solutions solved once and reused: identical results, stale keys never used, bypass."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest
import shapely

from geoplanner import cache as solutions
from geoplanner import scenario
from geoplanner.pipeline.siting import build_context, load_scenario, write_scenario_outputs
from geoplanner.scenario.evaluate import evaluate
from geoplanner.scenario.spec import parse_scenario

ROOT = Path(__file__).resolve().parent.parent

MCLP = """
name = "cache_mclp"
model = "mclp"
[candidates]
suitability = ["geschikt"]
[siting]
k = 2
"""


@pytest.fixture(scope="module")
def context(data_dir):
    return build_context(data_dir)


@pytest.fixture(scope="module")
def mobile(data_dir):
    s = load_scenario(ROOT / "scenarios" / "mobile_2_teams.toml", data_dir=data_dir)
    # a short teams curve keeps the test quick; the cached object is the same kind as the shipped one
    return dataclasses.replace(s, curve_max_teams=2, curve_time_limit_s=2.0, time_limit_s=5.0)


def _same(a, b) -> None:
    for name in ("sites", "timetable", "points", "per_lgn"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    if a.curve is None:
        assert b.curve is None
    else:
        pd.testing.assert_frame_equal(a.curve, b.curve, check_exact=True)
    assert json.dumps(a.summary, default=str) == json.dumps(b.summary, default=str)
    assert a.teams_needed == b.teams_needed and a.notes == b.notes and a.inputs == b.inputs


def test_a_cached_solution_gives_the_same_outputs(cache_on, context, mobile, tmp_path):
    solved = evaluate(mobile, context)
    assert solved.cache is not None and solved.cache["hit"] is False
    assert solutions.cache_file(solved.cache["key"]).is_file()
    again = evaluate(mobile, context)
    assert again.cache == {"key": solved.cache["key"], "hit": True}
    assert again.scenario is mobile
    _same(solved, again)
    a = write_scenario_outputs(solved, tmp_path / "a")
    b = write_scenario_outputs(again, tmp_path / "b")
    assert [p.name for p in a] == [p.name for p in b]
    for pa, pb in zip(a, b, strict=True):
        if pa.suffix == ".gpkg":  # a GeoPackage records when it was written: compare its table
            import geopandas as gpd

            pd.testing.assert_frame_equal(gpd.read_file(pa), gpd.read_file(pb), check_exact=True)
        elif pa.name != "manifest.json":
            assert pa.read_bytes() == pb.read_bytes(), pa.name
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["solution_cache"] == {"used": True, "hit": True, "key": solved.cache["key"]}
    first = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert first["solution_cache"]["hit"] is False


def test_a_changed_parameter_is_a_cache_miss(cache_on, context):
    s = parse_scenario(MCLP)
    first = evaluate(s, context)
    other = evaluate(dataclasses.replace(s, threshold_min=8.0), context)
    assert other.cache["hit"] is False and other.cache["key"] != first.cache["key"]
    assert other.summary["threshold_min"] == 8.0
    # the file's path is not a parameter: the same scenario from another file is the same solution
    moved = evaluate(dataclasses.replace(s, path=Path("elders.toml")), context)
    assert moved.cache == {"key": first.cache["key"], "hit": True} and moved.scenario.path == Path("elders.toml")


def test_the_key_follows_demand_network_services_and_code(context, monkeypatch):
    s = parse_scenario(MCLP)
    base = scenario.solution_key(s, context)
    assert scenario.solution_key(s, context) == base  # stable
    # a demand weight
    dem = context.demand.copy()
    dem.loc[5, "weight"] *= 1.01
    assert scenario.solution_key(s, dataclasses.replace(context, demand=dem)) != base
    # an indicator of the ranking (e.g. an imported figure moved a wijk's deprivation)
    rank = context.ranking.copy()
    rank.loc[rank.index[0], "deprivation"] = 9.0
    assert scenario.solution_key(s, dataclasses.replace(context, ranking=rank)) != base
    # the need model's sector figures (births decide consultations per child)
    sectors = context.need.sectors.copy()
    sectors.loc[sectors.index[0], "births"] = sectors["births"].iloc[0] + 1
    need = dataclasses.replace(context.need, sectors=sectors)
    assert scenario.solution_key(s, dataclasses.replace(context, need=need)) != base
    # the network
    net = dataclasses.replace(context.net, sha256="0" * 64)
    assert scenario.solution_key(s, dataclasses.replace(context, net=net)) != base
    # a service set's points
    ss = context.services["candidates"]
    pts = ss.points.copy()
    pts.loc[0, "geometry"] = shapely.Point(150000.0, 170000.0)
    moved = {**context.services, "candidates": dataclasses.replace(ss, points=pts)}
    assert scenario.solution_key(s, dataclasses.replace(context, services=moved)) != base
    # the code
    monkeypatch.setattr(solutions, "code_version", lambda: "another version")
    assert scenario.solution_key(s, context) != base


def test_a_damaged_or_foreign_cache_file_is_solved_again(cache_on, context):
    s = parse_scenario(MCLP)
    key = scenario.solution_key(s, context)
    target = solutions.cache_file(key)
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not a pickle")
    r = evaluate(s, context)
    assert r.cache == {"key": key, "hit": False} and len(r.sites) == 2
    # a readable file stored under another key is not used either
    other = solutions.cache_file("f" * 64)
    target.replace(other)
    assert solutions.load("f" * 64) is None  # stored key differs from its name
    assert solutions.load(key) is None  # and the right name is gone


def test_no_cache_solves_and_stores_nothing(cache_on, context, monkeypatch):
    s = parse_scenario(MCLP)
    off = evaluate(s, dataclasses.replace(context, cache=False))
    assert off.cache is None and not cache_on.exists()
    monkeypatch.setenv(solutions.NO_CACHE_ENV, "1")
    assert evaluate(s, context).cache is None and not cache_on.exists()
    assert solutions.enabled() is False and solutions.enabled(False) is False
    monkeypatch.setenv(solutions.NO_CACHE_ENV, "0")
    assert solutions.enabled() is True


def test_the_code_version_changes_with_any_module(tmp_path):
    import shutil

    import geoplanner

    copy = tmp_path / "geoplanner"
    shutil.copytree(Path(geoplanner.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = solutions.source_digest(copy)
    assert solutions.source_digest(copy) == before
    target = copy / "siting" / "capacitated.py"  # a subpackage counts too
    target.write_text(target.read_text() + "\n# changed\n")
    changed = solutions.source_digest(copy)
    assert changed != before
    target.rename(copy / "siting" / "renamed.py")  # a renamed module, same text
    assert solutions.source_digest(copy) not in (before, changed)


def test_coverage_isochrones_come_back_the_same_from_the_cache(cache_on, context, data_dir, tmp_path):
    import geopandas as gpd

    from geoplanner.pipeline import run_coverage

    kw = {"sets": ["kg"], "cell_m": 200.0, "data_dir": data_dir, "need": context.need}
    first = run_coverage(tmp_path / "a", **kw)
    stored = list((cache_on / "isochrones").glob("*.pkl"))
    assert len(stored) == 1 and len(list((cache_on / "rasters").glob("*.pkl"))) == 1
    second = run_coverage(tmp_path / "b", **kw)
    pd.testing.assert_frame_equal(first.isochrones, second.isochrones, check_exact=True)
    a, b = gpd.read_file(tmp_path / "a" / "isochrones.gpkg"), gpd.read_file(tmp_path / "b" / "isochrones.gpkg")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    tif = "walking_time_kg.tif"
    assert (tmp_path / "a" / tif).read_bytes() == (tmp_path / "b" / tif).read_bytes()
    other = run_coverage(tmp_path / "d", **{**kw, "cell_m": 250.0})  # another cell size is another raster
    assert len(list((cache_on / "rasters").glob("*.pkl"))) == 2
    assert (tmp_path / "d" / tif).read_bytes() != (tmp_path / "a" / tif).read_bytes() and other.isochrones is not None
    stored[0].write_bytes(b"\x80garbage")  # a damaged file is computed again, not used
    third = run_coverage(tmp_path / "c", **{**kw, "raster": False})
    assert third.isochrones.geometry.geom_equals_exact(first.isochrones.geometry, tolerance=0).all()


def test_the_isochrone_key_follows_places_thresholds_speed_and_code(context, monkeypatch):
    import numpy as np

    from geoplanner.access.isochrones import isochrone_key
    from geoplanner.inputs.areas import load_region

    xy = np.array([[149000.0, 170000.0], [150000.0, 171000.0]])
    args = {
        "name": "kg",
        "thresholds": (5, 10, 15),
        "speed_kmh": 4.5,
        "tolerance_m": 150.0,
        "region": load_region(),
        "per_service": True,
    }
    base = isochrone_key(context.net, xy, ["a", "b"], **args)
    assert isochrone_key(context.net, xy.copy(), ["a", "b"], **args) == base
    assert isochrone_key(context.net, xy + [[1.0, 0.0], [0, 0]], ["a", "b"], **args) != base
    assert isochrone_key(context.net, xy, ["a", "c"], **args) != base
    assert isochrone_key(context.net, xy, ["a", "b"], **{**args, "thresholds": (5, 10)}) != base
    assert isochrone_key(context.net, xy, ["a", "b"], **{**args, "speed_kmh": 3.6}) != base
    net = dataclasses.replace(context.net, sha256="1" * 64)
    assert isochrone_key(net, xy, ["a", "b"], **args) != base
    monkeypatch.setattr(solutions, "code_version", lambda: "another version")
    assert isochrone_key(context.net, xy, ["a", "b"], **args) != base
