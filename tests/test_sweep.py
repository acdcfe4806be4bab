"""``geoplanner sweep``: how sure each chosen venue is, under plausible variation (issue 20)."""

from __future__ import annotations

import dataclasses
import types

import pandas as pd
import pytest

from geoplanner.core.errors import ConfigError
from geoplanner.scenario import parse_scenario
from geoplanner.scenario.curve import curve_key

BASE = 'name = "s"\nmodel = "capacitated_rotation"\n[rotation]\nteams = 1\nsessions_per_team = 2\n'


# -- the [sweep] table -------------------------------------------------------------------------------------------


def test_sweep_table_parses_ranges_draws_and_seed():
    s = parse_scenario(BASE + "[sweep]\nuptake = [0.7, 0.85]\nchildren_per_session = [8, 12]\ndraws = 50\n")
    assert s.sweep_ranges == (("uptake", 0.7, 0.85), ("children_per_session", 8.0, 12.0))
    assert (s.sweep_draws, s.sweep_seed, s.sweep_counts) == (50, 2026, True)
    assert parse_scenario(BASE).sweep_ranges == ()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("uptake = [0.9, 0.7]", "the low end is above the high end"),
        ("uptake = [0.7]", "must be two numbers [low, high]"),
        ("uptake = [0.7, true]", "must be two numbers [low, high]"),
        ("uptake = [0, 0.5]", "both ends must be > 0 and <= 1"),
        ("planned_fill = [0.8, 1.2]", "both ends must be > 0 and <= 1"),
        ("consultations_age0 = [-1, 7]", "both ends must be >= 0 and <= 52"),
        ("uptake = 0.8", "must be a list"),
        ("draws = 0", "must be 1-1000000"),
        ("seed = -1", "must be >= 0"),
        ("teams = [1, 3]", "unknown key 'teams' in [sweep]"),
    ],
)
def test_a_bad_sweep_key_is_named_with_its_line(line, message):
    text = BASE + "[sweep]\n" + line + "\n"
    with pytest.raises(ConfigError) as err:
        parse_scenario(text)
    key = line.split()[0]
    assert message in err.value.message
    assert err.value.column == f"sweep.{key}" and err.value.row == text.count("\n")


def test_the_sweep_table_changes_no_solution_and_no_curve(monkeypatch):
    """Two scenarios that differ only in [sweep] share their stored solution and their teams curve."""
    import geoplanner.scenario.keys as keys

    a = parse_scenario(BASE)
    b = parse_scenario(BASE + "[sweep]\nuptake = [0.7, 0.85]\ndraws = 10\nseed = 3\ncounts = false\n")
    assert curve_key(a) == curve_key(b)
    assert curve_key(a) != curve_key(dataclasses.replace(a, uptake=0.8))
    # a context of which only the scenario's parameters can differ
    net = types.SimpleNamespace(sha256="x", params={}, n_nodes=0, n_edges=0)
    ctx = types.SimpleNamespace(net=net, need=None, demand=None, ranking=None, services={})
    monkeypatch.setattr(keys, "services_digest", lambda services, names: {})
    assert keys.solution_key(a, ctx) == keys.solution_key(b, ctx)
    assert keys.solution_key(a, ctx) != keys.solution_key(dataclasses.replace(a, uptake=0.8), ctx)


# -- a small instance on the real data ---------------------------------------------------------------------------

#: A capacitated rotation of 1 team × 3 sessions over the suitable venues of LGN 1 and 2 (a few dozen): quick to
#: solve, and its choice moves with the drawn figures. The target is low, so teams needed is found on the curve.
SMALL = """name = "klein"
model = "capacitated_rotation"
[demand]
kind = "deprivation_weighted"
[candidates]
suitability = ["geschikt"]
lgn = [1, 2]
[siting]
node_limit = 100
mip_gap = 0.01
[rotation]
teams = 1
sessions_per_team = 3
[curve]
max_teams = 4
target_share = 0.1
[sweep]
uptake = [0.6, 0.9]
children_per_session = [6, 14]
dutch_share = [0.2, 0.6]
"""
DRAWS, SEED = 8, 7


@pytest.fixture(scope="module")
def small(data_dir):
    from geoplanner.pipeline.siting import build_context

    return parse_scenario(SMALL), build_context(data_dir, cache=False)


@pytest.fixture(scope="module")
def swept(small):
    """The small sweep on local Dask clusters of 1 and 2 worker processes."""
    from geoplanner.pipeline.sweep import run_sweep

    s, ctx = small
    return {w: run_sweep(s, ctx, draws=DRAWS, seed=SEED, workers=w) for w in (1, 2)}


def _reference_draw(s, ctx, i):
    """Draw ``i`` built here, from the issue's recipe (not from geoplanner.scenario.sweep): the i-th child of
    SeedSequence(seed).spawn(n); births then children 0-2 per sector with the ranking's draw_births; a sector's
    children scale its demand points; then each swept assumption uniformly."""
    import numpy as np

    from geoplanner.need.stability import draw_births

    rng = np.random.default_rng(np.random.SeedSequence(SEED).spawn(DRAWS)[i])
    sec = ctx.need.sectors.sort_values("cd_sector")
    drawn = {}
    for col in ("births", "pop_0_2"):
        drawn[col] = draw_births(sec[col].to_numpy(float), sec[f"{col}_cv"].fillna(0).to_numpy(float),
                                 sec["commune_nis"].to_numpy(), (sec[f"{col}_status"] == "observed").to_numpy(), 1,
                                 rng)[0]  # fmt: skip
    factor = dict(zip(sec["cd_sector"], np.where(sec["pop_0_2"] > 0, drawn["pop_0_2"] / sec["pop_0_2"], 1.0),
                      strict=True))  # fmt: skip
    demand = ctx.demand.copy()
    demand["weight"] = demand["weight"] * demand["cd_sector"].map(factor).fillna(1.0)
    sectors = ctx.need.sectors.copy()
    for col in ("births", "pop_0_2"):
        sectors[col] = sectors["cd_sector"].map(dict(zip(sec["cd_sector"], drawn[col], strict=True)))
    need = dataclasses.replace(ctx.need, sectors=sectors)
    # the order of geoplanner.scenario.spec.SWEEP_KEYS, whatever the file's
    values = {"uptake": rng.uniform(0.6, 0.9), "dutch_share": rng.uniform(0.2, 0.6),
              "children_per_session": rng.uniform(6, 14)}  # fmt: skip
    return (dataclasses.replace(s, **values),
            dataclasses.replace(ctx, demand=demand, need=need, cache=False, curves={}), values)  # fmt: skip


def test_p_chosen_equals_a_brute_force_count_over_the_same_draws(small, swept):
    """Every draw solved here one by one with the full evaluate (teams curve included): the sweep's p_chosen is
    the share of these draws that hold a session at each venue, and its teams needed are the curve's."""
    from geoplanner.scenario import evaluate

    s, ctx = small
    result = swept[2]
    counts: dict[str, int] = {}
    teams = []
    for i in range(DRAWS):
        si, ci, values = _reference_draw(s, ctx, i)
        r = evaluate(si, ci)
        for vid in r.sites.loc[r.sites["sessions_per_week"] > 0, "id"]:
            counts[vid] = counts.get(vid, 0) + 1
        teams.append(r.teams_needed["teams"])
        row = result.draws_table.iloc[i]
        assert row["draw"] == i and row[list(values)].to_dict() == pytest.approx(values)
        assert row["consultations_served"] == pytest.approx(r.summary["consultations_served"])
    got = result.sites.set_index("id")
    assert set(got.index[got["n_chosen"] > 0]) == set(counts)
    for vid, n in counts.items():
        assert got.loc[vid, "p_chosen"] == pytest.approx(n / DRAWS)
        assert got.loc[vid, "p_chosen"] == 1.0 or n < DRAWS  # chosen in every draw: 1.0
    swept_teams = [None if pd.isna(t) else int(t) for t in result.draws_table["teams_needed"]]
    assert swept_teams == teams
    assert len(set(counts)) > 3 and 0 < min(counts.values()) < DRAWS  # the choice does move with the draws


def test_the_same_results_with_one_and_two_workers(swept):
    one, two = swept[1], swept[2]
    for name in ("sites", "summary", "lgn", "sensitivity", "draws_table"):
        pd.testing.assert_frame_equal(getattr(one, name), getattr(two, name), check_exact=True)
    assert one.base == two.base


def test_the_base_is_the_scenario_as_site_solves_it(small, swept):
    """The sweep's base (its own solve, teams needed searched from the capacity bound) = `geoplanner site`'s."""
    from geoplanner.scenario import evaluate

    s, ctx = small
    full = evaluate(s, dataclasses.replace(ctx, curves={}))
    base = swept[2].base
    assert base.chosen == set(full.sites.loc[full.sites["sessions_per_week"] > 0, "id"])
    assert base.measures["teams_needed"] == full.teams_needed["teams"]
    assert base.measures["consultations_served"] == pytest.approx(full.summary["consultations_served"])
    assert set(swept[2].sites.loc[swept[2].sites["base_chosen"], "id"]) == base.chosen


# -- the tallies, on outcomes made by hand -----------------------------------------------------------------------


def _outcome(i, venues, served=100.0, teams=2.0, kind="draw"):
    from geoplanner.scenario.sweep import Job, Outcome

    sites = tuple((v, lgn, 1, served) for v, lgn in venues)
    return Outcome(Job(kind, i), {}, sites, {"consultations_served": served, "sessions_per_week": len(sites),
                                             "teams_needed": teams}, "optimal")  # fmt: skip


def test_tallies_by_hand():
    """A venue in every draw gets 1.0 (robust), one in 1 of 4 gets 0.25 (borderline), one only in the base gets 0;
    sessions per LGN and the 5-95 % ranges are those of the draws; teams beyond the curve are counted, not
    averaged."""
    from geoplanner.scenario.sweep import lgn_table, site_table, summary_table

    s = parse_scenario(BASE)
    base = _outcome(-1, [("A", 1), ("C", 2)], kind="base")
    draws = [_outcome(0, [("A", 1), ("B", 2)], 90.0, 2.0), _outcome(1, [("A", 1)], 100.0, 3.0),
             _outcome(2, [("A", 1)], 110.0, 3.0), _outcome(3, [("A", 1)], 120.0, float("inf"))]  # fmt: skip
    venues = pd.DataFrame({"id": ["A", "B", "C"], "name": ["a", "b", "c"], "type": "t", "lgn": [1, 2, 2],
                           "geometry": None})  # fmt: skip
    import geopandas as gpd

    venues = gpd.GeoDataFrame(venues, geometry=gpd.points_from_xy([1, 2, 3], [1, 2, 3]))
    sites = site_table(draws, base, venues).set_index("id")
    assert sites.loc["A", ["p_chosen", "stability", "n_chosen"]].tolist() == [1.0, "robust", 4]
    assert sites.loc["B", ["p_chosen", "stability"]].tolist() == [0.25, "borderline"]
    assert sites.loc["C", ["p_chosen", "stability", "base_chosen"]].tolist() == [0.0, "unlikely", True]
    assert list(sites.index) == ["A", "B", "C"]  # most sure first
    lgn = lgn_table(draws, base).set_index("lgn")
    assert lgn.loc[2, ["base_sessions", "p_any", "sessions_p50"]].tolist() == [1, 0.25, 0.0]
    summ = summary_table(draws, base, s).set_index("measure")
    assert summ.loc["consultations_served", ["p05", "p95", "min", "max"]].tolist() == [90.0, 120.0, 90.0, 120.0]
    teams = summ.loc["teams_needed"]
    assert teams["share_beyond_curve"] == 0.25 and teams["p05"] == 2.0 and pd.isna(teams["p95"])
    assert pd.isna(teams["mean"]) and teams["base"] == 2.0


def test_sensitivity_names_what_moves_the_result_most():
    from geoplanner.outputs.sweep import moves_most
    from geoplanner.scenario.sweep import Job, sensitivity_table

    s = parse_scenario(BASE + "[sweep]\nuptake = [0.7, 0.85]\nchildren_per_session = [8, 12]\n")
    base = _outcome(-1, [("A", 1)], 100.0, 2.0, kind="base")

    def end(kind, key, served, teams, venues=(("A", 1),)):
        o = _outcome(-1, list(venues), served, teams, kind=kind)
        return dataclasses.replace(o, job=Job(kind, key=key))

    oat = [
        end("low", "uptake", 95.0, 2.0),
        end("high", "uptake", 104.0, float("inf")),
        end("low", "children_per_session", 80.0, 3.0, [("B", 1)]),
        end("high", "children_per_session", 120.0, 2.0),
        _outcome(0, [("A", 1)], 99.0, 2.0, kind="counts"),
        _outcome(1, [("A", 1)], 101.0, 2.0, kind="counts"),
    ]
    table = sensitivity_table(base, oat, s).set_index("assumption")
    assert table.loc["children_per_session", "consultations_served_swing"] == 40.0
    assert table.loc["children_per_session", ["rank_consultations_served", "moves_most", "venues_changed"]].tolist() \
        == [1, True, 2]  # fmt: skip
    assert table.loc["uptake", "rank_teams_needed"] == 1  # past the curve's end at one end: moves teams most
    assert table.loc["counts", ["consultations_served_low", "consultations_served_high"]].tolist() == [99.0, 101.0]
    assert moves_most(table.reset_index(), "consultations_served") == "kinderen per sessie: van 80 tot 120"


# -- the draws -----------------------------------------------------------------------------------------------------


def test_a_draw_is_a_pure_function_of_its_stream(small):
    """Draw i is the same in a sweep of 5 or of 50 draws, and differs from draw j; its counts keep every commune's
    total, leave observed figures alone and scale the demand points of each sector by its drawn children."""
    import numpy as np

    from geoplanner.scenario.sweep import sweep_base, sweep_jobs, varied

    s, ctx = small
    base = sweep_base(s, ctx)
    short, long = sweep_jobs(s, 5, SEED), sweep_jobs(s, 50, SEED)
    a, b = varied(base, short[3]), varied(base, long[3])
    assert a[2] == b[2] and a[1].demand["weight"].equals(b[1].demand["weight"])
    assert varied(base, long[4])[2] != a[2]
    counts = [j for j in long if j.kind == "counts"]
    assert len(counts) == 20 and varied(base, counts[2])[1].demand["weight"].equals(a[1].demand["weight"])
    assert varied(base, counts[2])[2] == varied(base, long[0])[2]  # counts only: the assumptions as in the base
    drawn, orig = a[1].need.sectors.set_index("cd_sector"), ctx.need.sectors.set_index("cd_sector")
    for col in ("births", "pop_0_2"):
        free = orig[f"{col}_status"] != "observed"
        sums = drawn.loc[free, col].groupby(orig.loc[free, "commune_nis"]).sum()
        assert np.allclose(sums, orig.loc[free, col].groupby(orig.loc[free, "commune_nis"]).sum())
        assert not np.allclose(drawn[col], orig[col])
    per_sector = a[1].demand.groupby("cd_sector")["weight"].sum() / ctx.demand.groupby("cd_sector")["weight"].sum()
    factor = (drawn["pop_0_2"] / orig["pop_0_2"]).reindex(per_sector.index)
    assert np.allclose(per_sector.dropna(), factor[per_sector.notna()].fillna(1.0))
    assert a[1].cache is False and a[1].curves == {} and a[1].curves is not ctx.curves


# -- outputs and the command line ------------------------------------------------------------------------------------


def test_the_sweep_writes_its_files_beside_the_scenarios(small, swept, tmp_path):
    """The sweep's files go into the scenario's folder with their own manifest; the scenario's files stay."""
    import json
    import zipfile
    from xml.etree import ElementTree

    from geoplanner.outputs.qgis_styles import read_layer_styles
    from geoplanner.pipeline.sweep import SWEEP_FILES, SWEEP_MANIFEST, write_sweep

    _, ctx = small
    out = tmp_path / "klein"
    out.mkdir()
    (out / "manifest.json").write_text('{"outputs": [{"path": "sites.csv"}]}\n', encoding="utf-8")
    (out / "sites.csv").write_text("id\nCAND-0001\n", encoding="utf-8")
    result = swept[2]
    paths = write_sweep(result, ctx, out)
    assert [p.name for p in paths] == [*SWEEP_FILES, SWEEP_MANIFEST]
    assert (out / "sites.csv").read_text(encoding="utf-8") == "id\nCAND-0001\n"
    written = json.loads((out / SWEEP_MANIFEST).read_text(encoding="utf-8"))
    assert {o["path"] for o in written["outputs"]} == set(SWEEP_FILES)
    assert written["parameters"]["draws"] == DRAWS and written["parameters"]["seed"] == SEED
    sites = pd.read_csv(out / "sweep_sites.csv")
    assert sites["p_chosen"].tolist() == pytest.approx(result.sites["p_chosen"].tolist())
    styles = read_layer_styles(out / "sweep_sites.gpkg")
    assert [r["f_table_name"] for r in styles] == ["sweep_sites"]
    rules = ElementTree.fromstring(styles[0]["styleQML"]).iter("rule")
    assert [r.get("filter") for r in rules][0] == '"p_chosen" >= 0.9'  # the surest class first
    page = (out / "sweep.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page
    for name in result.sites.loc[result.sites["p_chosen"] >= 0.5, "name"]:
        assert name.replace("'", "&#39;") in page
    with zipfile.ZipFile(out / "sweep.xlsx") as z:
        assert any(n.startswith("xl/worksheets/sheet") for n in z.namelist())
    again = write_sweep(result, ctx, out)
    assert [p.read_bytes() for p in again[:-2]] == [p.read_bytes() for p in paths[:-2]]  # same bytes again


def test_the_sweep_tables_are_rounded_as_every_output(small, swept, tmp_path):
    """Every number of the sweep's CSVs keeps the decimals of its column (the summary: of its row's measure), and
    the workbook holds the same numbers as the CSVs."""
    import csv
    import re

    from openpyxl import load_workbook

    from geoplanner.outputs.precision import csv_decimals
    from geoplanner.pipeline.sweep import write_sweep

    _, ctx = small
    out = tmp_path / "klein"
    out.mkdir()
    write_sweep(swept[2], ctx, out)
    checked = 0
    for path in sorted(out.glob("sweep_*.csv")):
        for row in csv.DictReader(open(path, encoding="utf-8")):
            for col, text in row.items():
                m = re.fullmatch(r"-?\d+\.(\d+)", text or "")
                if m:
                    own = (
                        row["measure"]
                        if path.name == "sweep_summary.csv"
                        and col in ("base", "p05", "p50", "p95", "mean", "min", "max")
                        else col
                    )
                    assert len(m.group(1)) <= csv_decimals(own), (path.name, col, text)
                    checked += 1
    assert checked > 50
    summary = pd.read_csv(out / "sweep_summary.csv").set_index("measure")
    share = summary.loc["share_consultations_served", "mean"]
    assert share == round(share, 3) and swept[2].summary.set_index("measure").loc["share_consultations_served",
                                                                                    "mean"] != share  # fmt: skip
    cells = [c for ws in load_workbook(out / "sweep.xlsx").worksheets for r in ws.iter_rows(values_only=True)
             for c in r if isinstance(c, float)]  # fmt: skip
    assert share in cells


@pytest.mark.parametrize(
    ("args", "text", "needle"),
    [
        (["--draws", "0"], SMALL, "option --draws: must be 1-1000000"),
        (["--workers", "0"], SMALL, "option --workers: must be at least 1"),
        (["--seed", "-2"], SMALL, "option --seed: must be >= 0"),
        ([], 'name = "x"\n', "model 'none' places no venue"),
        ([], SMALL.replace("uptake = [0.6, 0.9]", "uptake = [0.9, 0.6]"), "sweep.uptake"),
        ([], SMALL.split("[sweep]")[0] + "[sweep]\ncounts = false\n", "the [sweep] table draws nothing"),
        ([], SMALL.replace("max_teams = 4", "max_teams = 0"), "curve.max_teams"),
    ],
)
def test_a_bad_sweep_ends_in_one_line(tmp_path, capsys, args, text, needle):
    from geoplanner.cli import main

    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), *args]) == 1
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_an_unreachable_scheduler_ends_in_one_line(tmp_path, capsys):
    from geoplanner.cli import main

    path = tmp_path / "s.toml"
    path.write_text(SMALL, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--scheduler", "tcp://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err
    assert "option --scheduler: cannot reach the Dask scheduler" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_ctrl_c_cancels_the_draws_and_exits_130(tmp_path, data_dir):
    """A real Ctrl-C to the whole process group (driver and Dask workers, as a terminal sends it) while the draws
    run: exit 130, one line, the earlier sweep's files as they were, no temporary file, no worker left."""
    import os
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "s.toml"
    path.write_text(SMALL, encoding="utf-8")
    out = tmp_path / "klein"
    out.mkdir()
    (out / "manifest_sweep.json").write_text('{"outputs": [{"path": "sweep_sites.csv"}]}\n', encoding="utf-8")
    (out / "sweep_sites.csv").write_text("old\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    exe = os.path.join(os.path.dirname(sys.executable), "geoplanner")
    env = {**os.environ, "GEOPLANNER_DATA_DIR": str(data_dir)}
    proc = subprocess.Popen([exe, "sweep", str(path), "--draws", "400", "--workers", "2", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)  # fmt: skip
    # wait until the draws are running (the first progress line), then press Ctrl-C
    line = ""
    deadline = time.monotonic() + 180
    while "oplossingen klaar" not in line and time.monotonic() < deadline:
        line = proc.stderr.readline()
        assert line or proc.poll() is None, "the sweep ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert [x for x in err.strip().splitlines() if "oplossingen klaar" not in x] == [
        "interrupted (Ctrl-C): the step that was running left its earlier outputs as they were"
    ]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    left = "?"
    deadline = time.monotonic() + 30
    while left and time.monotonic() < deadline:  # a worker still running (a finished one may wait to be reaped)
        ps = subprocess.run(["ps", "-o", "pid=,stat=", "-g", str(proc.pid)], capture_output=True, text=True)
        left = [row for row in ps.stdout.splitlines() if "Z" not in row.split()[-1]]
        time.sleep(0.2)
    assert not left, f"processes of the sweep left running: {left}"


def test_an_existing_cluster_gives_the_same_draws(small, swept):
    """--scheduler: the draws run on a cluster that was already there (here a local one started by the test) and
    give the same tables; the cluster is left running for its owner."""
    from distributed import LocalCluster

    from geoplanner.pipeline.sweep import run_sweep

    s, ctx = small
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        got = run_sweep(s, ctx, draws=3, seed=SEED, scheduler=cluster.scheduler_address)
        assert cluster.scheduler.workers  # still up
    pd.testing.assert_frame_equal(got.draws_table, swept[2].draws_table.iloc[:3], check_exact=True)


@pytest.fixture()
def stored_sweep(small, swept, tmp_path):
    """The small sweep written where a run's scenario folder is: ``<out>/klein/``."""
    from geoplanner.pipeline.sweep import write_sweep

    _, ctx = small
    (tmp_path / "klein").mkdir()
    write_sweep(swept[2], ctx, tmp_path / "klein")
    return tmp_path


def test_a_current_sweep_is_read_back_with_the_numbers_of_its_files(small, swept, stored_sweep):
    """The report and the workbook show a sweep of the scenario as it is solved now, with its CSVs' numbers."""
    from geoplanner.outputs.sweep import rounded
    from geoplanner.pipeline.sweep import read_sweep

    s, ctx = small
    tables, note = read_sweep(stored_sweep / "klein", s, ctx)
    assert note is None and (tables.draws, tables.seed) == (DRAWS, SEED)
    want = rounded(swept[2]).tables()
    for name in ("sites", "summary", "sensitivity", "lgn"):
        got, exp = getattr(tables, name), getattr(want, name)
        assert list(got.columns) == list(exp.columns), name
        exp = exp.astype(object).where(exp.notna(), float("nan"))  # a CSV's empty cell reads back as NaN
        pd.testing.assert_frame_equal(got, exp, check_dtype=False, check_exact=False, rtol=1e-12, obj=name)


@pytest.mark.parametrize(
    "change",
    ["uptake", "sweep table", "data", "edited csv"],
)
def test_a_sweep_of_another_version_is_left_out_with_a_note(small, stored_sweep, change):
    """A sweep that is not of the scenario as solved now (its assumptions, its [sweep] table, the data, or a table
    edited by hand) is not shown: a note says so and how to run it again."""
    from geoplanner.pipeline.sweep import read_sweep

    s, ctx = small
    if change == "uptake":
        s = dataclasses.replace(s, uptake=0.71)
    elif change == "sweep table":
        s = parse_scenario(SMALL.replace("uptake = [0.6, 0.9]", "uptake = [0.6, 0.95]"))
    elif change == "data":
        ctx = dataclasses.replace(ctx, demand=ctx.demand.assign(weight=ctx.demand["weight"] * 1.01))
    else:
        path = stored_sweep / "klein" / "sweep_sites.csv"
        path.write_text(path.read_text(encoding="utf-8").replace("CAND-", "CAND-9", 1), encoding="utf-8")
    tables, note = read_sweep(stored_sweep / "klein", s, ctx)
    assert tables is None
    assert "wordt niet getoond" in note and "geoplanner sweep" in note


def test_the_report_and_the_workbook_show_the_sweep(small, stored_sweep):
    """The report's section lists the scenario's venues and the likely others with the CSV's p_chosen, the 5-95 %
    range of consultations served as in sweep_summary.csv, and links to sweep.html; the run's workbook has the
    venues as sweep_sites.csv holds them."""
    import io

    from openpyxl import load_workbook

    from geoplanner.outputs.report.render import ReportInputs, render_report
    from geoplanner.outputs.workbook import main_job_sheets, workbook_bytes
    from geoplanner.pipeline.sweep import read_sweep

    s, ctx = small
    tables, _ = read_sweep(stored_sweep / "klein", s, ctx)
    page = render_report(ReportInputs(sweeps=[("Klein <b>", tables, "klein/sweep.html", 4)]), cache=False)
    assert "Hoe zeker is elke gekozen locatie?" in page and 'href="klein/sweep.html"' in page
    assert "Klein &lt;b&gt;" in page  # escaped
    sites = pd.read_csv(stored_sweep / "klein" / "sweep_sites.csv")
    shown = sites[sites["base_chosen"] | (sites["p_chosen"] >= 0.5)]
    table = page.split('class="sweep-table"')[1].split("</table>")[0]
    assert table.count("<tr>") == len(shown) + 1
    for r in shown.itertuples():
        pct = f"{100 * r.p_chosen:.1f}".replace(".", ",") + " %"
        assert f"<td>{r.name.replace(chr(39), '&#39;')}</td><td>{r.lgn}</td><td>{pct}</td>" in table
    summary = pd.read_csv(stored_sweep / "klein" / "sweep_summary.csv").set_index("measure")
    low, high = (f"{summary.loc['consultations_served', c]:,.0f}".replace(",", ".") for c in ("p05", "p95"))
    assert f"{low} tot {high} (5–95 %)" in page
    sheets = main_job_sheets(sweeps={"klein": tables.sites})
    wb = load_workbook(io.BytesIO(workbook_bytes(sheets, [])))
    ws = wb["Zekerheid klein"]
    header = [c.value for c in ws[1]]
    col = header.index("Kans gekozen (aandeel trekkingen)")
    assert [r[col] for r in ws.iter_rows(min_row=2, values_only=True)] == sites["p_chosen"].tolist()
