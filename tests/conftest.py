"""Shared fixtures: the real Brussels data, pulled once per session from the local mirror."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _ci import in_ci  # tests/_ci.py

ROOT = Path(__file__).resolve().parent.parent


def _no_skip_in_ci(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Under ``CI=true`` a skip is a failure that says what was skipped and why (CI must run every test)."""
    if not (report.skipped and in_ci()) or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"skipped under CI=true, where no test may skip: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    outcome = yield
    _no_skip_in_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> object:
    outcome = yield
    _no_skip_in_ci(outcome.get_result())


def _mirror() -> Path:
    env = os.environ.get("GEOPLANNER_DATA_MIRROR")
    return Path(env) if env else ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def data_dir() -> Path:
    """The project's data/ folder holding the real bundle (pulled from the mirror if needed).

    Fails, rather than skips, when the data cannot be had: CI always has the mirror.
    """
    from geoplanner.inputs.bundle import check
    from geoplanner.pipeline.data import pull

    target = ROOT / "data"
    os.environ["GEOPLANNER_DATA_DIR"] = str(target)
    os.environ.setdefault("GEOPLANNER_CACHE_DIR", str(ROOT / ".cache"))
    # Tests solve their scenarios: a stored solution would hide a change a test makes (a patched
    # solver, a fixture). The solution-cache tests turn it back on in a temporary cache folder.
    os.environ.setdefault("GEOPLANNER_NO_CACHE", "1")
    if any(a.action != "ok" for a in check(target)):
        mirror = _mirror()
        assert mirror.is_dir(), f"real data needed: no mirror at {mirror} (set GEOPLANNER_DATA_MIRROR)"
        actions = pull(mirror, data_dir=target)
        bad = [a for a in actions if a.action in ("missing", "conflict")]
        assert not bad, f"data pull failed: {bad}"
    return target


@pytest.fixture(scope="session")
def need_data(data_dir: Path):
    """Everything the need step reads, loaded once per session (OSM and GHSL included)."""
    from geoplanner.pipeline.load import need_data

    return need_data(data_dir)


@pytest.fixture(scope="session")
def need_sectors(need_data):
    """Sector need estimated once per session."""
    from geoplanner.need import sector_need

    return sector_need(need_data)


@pytest.fixture(scope="session")
def ranking(need_data, need_sectors):
    """The default ranking of the wijken, computed once per session."""
    from geoplanner.need import rank_wijken

    return rank_wijken(need_data, sectors=need_sectors)


@pytest.fixture
def cache_on(tmp_path, monkeypatch):
    """The solution and render caches turned on, in an empty folder of their own."""
    from geoplanner import cache as solutions

    monkeypatch.delenv(solutions.NO_CACHE_ENV, raising=False)
    folder = tmp_path / "cache"
    # the network and need caches stay where they are (building them again is slow and not under test)
    real = solutions.cache_file

    def cache_file(key, cache_dir=None, kind="solutions", suffix=".pkl"):
        if kind in ("network", "need"):
            return real(key, cache_dir, kind, suffix)
        return folder / kind / f"{key}{suffix}"

    monkeypatch.setattr(solutions, "cache_file", cache_file)
    return folder


@pytest.fixture(scope="session")
def main_run(tmp_path_factory, data_dir):
    """``run_all`` on the real data with one rotation scenario (the current situation comes first), once per session.

    Self-contained (map scripts inlined) when the pinned Leaflet files are cached, as the LGN pages' offline test
    needs; that test says so when they are not.
    """
    from geoplanner.outputs.maps.assets import missing_assets
    from geoplanner.pipeline.assets import assets_dir
    from geoplanner.pipeline.run import run_all

    out = tmp_path_factory.mktemp("main")
    offline = not missing_assets(assets_dir())
    run = run_all(out, scenarios=[ROOT / "scenarios" / "mobile_2_teams.toml"], data_dir=data_dir,
                  self_contained=offline)  # fmt: skip
    return out, run
