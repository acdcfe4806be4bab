"""The main job end to end, as `geoplanner run` does it, on the real data (one scenario to keep it short)."""

import json
from pathlib import Path

import pandas as pd
import pytest

from geoplanner.core.errors import ConfigError
from geoplanner.core.progress import reporting
from geoplanner.pipeline.run import run_all, scenario_files

ROOT = Path(__file__).resolve().parent.parent


def test_main_job_writes_every_step(data_dir, tmp_path):
    scenario = ROOT / "scenarios" / "priority_first.toml"
    events = []
    with reporting(lambda event, label, seconds, depth: events.append((event, label, depth))):
        run = run_all(tmp_path, scenarios=[scenario], data_dir=data_dir)
    names = [r.scenario.name for r in run.scenarios]
    assert names[0] == "huidig" and len(names) == 2  # the current situation always comes first
    for rel in (
        "priority_wijken.csv",
        "manifest_rank.json",
        "coverage/coverage_lgn.csv",
        "coverage/manifest.json",
        f"{names[1]}/sites.csv",
        f"{names[1]}/manifest.json",
        "huidig/coverage_summary.csv",
        "compare/comparison.csv",
        "maps/gap.html",
        "maps/gap.png",
        f"maps/{names[1]}.html",
        "report.html",
        "report_manifest.json",
        "lgn/index.html",
        "lgn/lgn_1.html",
        "lgn/lgn_8.html",
        "lgn/manifest.json",
    ):
        assert (tmp_path / rel).stat().st_size > 0, rel
    comparison = pd.read_csv(tmp_path / "compare" / "comparison.csv")
    assert list(comparison["scenario"]) == names
    # new sites can only add coverage to the current situation they start from
    assert comparison["children_within_threshold"].iloc[1] > comparison["children_within_threshold"].iloc[0]
    assert comparison["consultations_served"].iloc[1] > comparison["consultations_served"].iloc[0]
    # each scenario's own summary holds the comparison's numbers (one measure, one value)
    for i, name in enumerate(names):
        own = pd.read_csv(tmp_path / name / "coverage_summary.csv").iloc[0]
        for col in ("children_within_threshold", "consultations_served", "priority_wijken_served", "new_sites"):
            assert own[col] == pytest.approx(comparison[col].iloc[i]), (name, col)
    # the same estimated children everywhere: the need step is shared, not recomputed differently
    lgn = pd.read_csv(tmp_path / "coverage" / "coverage_lgn.csv")
    one_set = lgn[lgn["service_set"] == "any_cb"]
    assert one_set["pop_0_2"].sum() == pytest.approx(50_045)
    manifest = json.loads((tmp_path / names[1] / "manifest.json").read_text())
    assert any("AFGELEID" in n and "GESCHAT" in n for n in manifest["notes"])
    assert any(n.endswith("ONVOLLEDIGE LAAG") for n in run.notes)
    assert "Historisch Molenbeek" in (tmp_path / "report.html").read_text(encoding="utf-8")
    assert not list(tmp_path.rglob(".*.tmp*"))  # no temporary file left behind
    # the run's own manifest: seconds per stage, every output, where each solution came from
    main = json.loads((tmp_path / "manifest_run.json").read_text())
    timings = main["timings_s"]
    assert list(run.timings) == [
        "checks",
        "rank",
        "coverage",
        "context",
        "scenarios",
        "compare",
        "report",
        "lgn",
        "workbook",
        "total",
    ]
    assert sorted(timings["scenarios"]) == sorted(names) and timings == run.timings
    stages = [timings[k] for k in ("checks", "rank", "coverage", "context", "compare", "report", "lgn", "workbook")]
    # each figure is rounded to the millisecond
    assert min(stages) >= 0 and sum(stages) + sum(timings["scenarios"].values()) <= timings["total"] + 0.01
    assert main["solution_cache"] == {n: {"used": False, "hit": False, "key": None} for n in names}  # tests: off
    assert {o["path"] for o in main["outputs"]} >= {"report.html", "priority_wijken.csv"}
    top = [(e, label) for e, label, depth in events if depth == 0]
    assert len(top) == 2 * (8 + len(names)) and top[0] == ("start", "opties en invoer controleren")
    assert [label for e, label in top if e == "end"][4:6] == [f"scenario {n}" for n in names]


def test_bad_scenario_fails_before_any_output(data_dir, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nmodel = "mclp"\ncolour = "red"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        run_all(tmp_path / "out", scenarios=[bad], data_dir=data_dir)
    assert err.value.path == bad
    assert not (tmp_path / "out").exists()


def test_shipped_scenarios_are_found():
    names = [p.stem for p in scenario_files(ROOT / "scenarios")]
    assert {"current", "close_one", "mobile_2_teams", "mobile_4_teams", "priority_first"} <= set(names)


def _without_times(manifest: dict) -> dict:
    """A manifest less what is about the moment of the run: its time, its seconds, other manifests' checksums."""
    out = {k: v for k, v in manifest.items() if k not in ("created_utc", "timings_s")}
    for key in ("inputs", "outputs"):
        out[key] = [{k: v for k, v in e.items() if not e["path"].endswith(".json") or k == "path"}
                    for e in manifest.get(key, [])]  # fmt: skip
    return out


def test_two_runs_give_the_same_outputs_and_manifests(data_dir, tmp_path):
    """Same inputs, same outputs: every file byte for byte, every manifest but its time; nothing listed is missing."""
    import hashlib

    scenario = ROOT / "scenarios" / "priority_first.toml"
    runs = [tmp_path / "a", tmp_path / "b"]
    for out in runs:
        run_all(out, scenarios=[scenario], data_dir=data_dir)
    files = [sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) for out in runs]
    assert files[0] == files[1] and "maps/gap.html" in files[0] and "priority_wijken.gpkg" in files[0]
    for rel in files[0]:
        a, b = ((out / rel).read_bytes() for out in runs)
        if rel.endswith(".json") and "manifest" in rel:
            ma, mb = json.loads(a), json.loads(b)
            assert _without_times(ma) == _without_times(mb), rel
            # every file a manifest lists is there, with the checksum it gives
            for entry in ma["outputs"]:
                path = (runs[0] / rel).parent / entry["path"]
                assert path.is_file(), (rel, entry["path"])
                assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], (rel, entry["path"])
        else:
            assert a == b, rel
