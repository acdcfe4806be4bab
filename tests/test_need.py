import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from geoplanner import need
from geoplanner.errors import ConfigError
from geoplanner.load import load_commune_population


def test_commune_totals_are_preserved_exactly(data_dir, need_sectors):
    communes = load_commune_population(data_dir).set_index("commune_nis")
    sums = need_sectors.groupby("commune_nis")[["pop_total", "births", "pop_0_2"]].sum()
    np.testing.assert_allclose(sums["pop_0_2"], communes["pop_0_2"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(sums["births"], communes["pop_age0"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(sums["pop_total"], communes["pop_total"], rtol=0, atol=1e-6)
    assert (need_sectors["pop_0_2_status"] == "estimated").all()
    assert (need_sectors["pop_0_2"] >= 0).all()


def test_weight_follows_housing(need_sectors):
    # children per hectare: the sectors of parks and woods get far fewer than residential ones
    s = need_sectors.assign(per_ha=need_sectors["pop_0_2"] / (need_sectors.area / 1e4))
    park = s.loc[s["mdrc"] >= 900, "per_ha"].median()
    residential = s.loc[s["mdrc"] <= 118, "per_ha"].median()
    assert residential > 5 * park


def test_observed_figures_replace_estimates(data_dir, need_sectors):
    code = need_sectors["cd_sector"].iloc[0]
    obs = pd.DataFrame({"pop_0_2": [123.0], "kansarmoede_index": [40.0]}, index=[code])
    s = need.sector_need(data_dir, observed=obs, lines=need.residential_lines(data_dir))
    row = s.set_index("cd_sector").loc[code]
    assert row["pop_0_2"] == 123.0 and row["pop_0_2_status"] == "observed"
    assert row["births_status"] == "estimated"
    w = need.wijk_need(s)
    assert w.loc[row["mdrc"], "pop_0_2_status"] in ("observed", "mixed")
    assert w.loc[row["mdrc"], "kansarmoede_index"] == 40.0


def test_ranking_selects_21_residential_wijken(ranking):
    top = ranking[ranking["priority"]]
    assert len(top) == 21
    assert (top["district_type"] == "residential").all()
    assert list(top["rank"]) == list(range(1, 22))
    assert top["score"].is_monotonic_decreasing
    # every score is the sum of the reported contributions
    contrib = top[["contrib_birth_rate", "contrib_births", "contrib_deprivation"]].sum(axis=1)
    np.testing.assert_allclose(contrib, top["score"])
    # parks, cemeteries and industrial zones are never ranked, and say why
    non_res = ranking[ranking["district_type"] != "residential"]
    assert non_res["rank"].isna().all() and (non_res["excluded_reason"] != "").all()


def test_deprivation_handles_missing_components(ranking):
    royal = ranking.set_index("mdrc").loc[6]  # Quartier Royal: no BIM value
    assert royal["missing_components"] == "bim" or royal["excluded_reason"] != ""


def test_ranking_is_deterministic(data_dir, need_sectors, ranking):
    again = need.rank_wijken(data_dir, sectors=need_sectors.sample(frac=1, random_state=3))
    pd.testing.assert_frame_equal(
        pd.DataFrame(ranking.drop(columns="geometry")).reset_index(drop=True),
        pd.DataFrame(again.drop(columns="geometry")).reset_index(drop=True),
    )


def test_weights_change_the_ranking(data_dir, need_sectors, ranking):
    only_dep = need.rank_wijken(
        data_dir, need.NeedParams(w_birth_rate=0, w_births=0, w_deprivation=1), sectors=need_sectors
    )
    top = only_dep[only_dep["priority"]]
    assert top["deprivation"].is_monotonic_decreasing
    assert set(top["mdrc"]) != set(ranking.loc[ranking["priority"], "mdrc"])


def test_params_from_toml(tmp_path):
    good = tmp_path / "p.toml"
    good.write_text(
        "top_n = 10\nw_deprivation = 1.0\nmin_components = 2\n[deprivation_weights]\nbim = 1.0\nincome = 1.0\n"
    )
    p = need.NeedParams.from_toml(good)
    assert p.top_n == 10 and set(p.deprivation_weights) == {"bim", "income"}
    with pytest.raises(ConfigError, match="min_components"):
        need.NeedParams(deprivation_weights={"bim": 1.0}, min_components=3)
    bad = tmp_path / "bad.toml"
    bad.write_text("top_n = 'ten'\n")
    with pytest.raises(ConfigError, match="wrong type") as err:
        need.NeedParams.from_toml(bad)
    assert err.value.column == "top_n"
    bad.write_text("colour = 1\n")
    with pytest.raises(ConfigError, match="unknown key"):
        need.NeedParams.from_toml(bad)


def test_rank_command_writes_outputs_and_manifest(data_dir, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "geoplanner", "rank", "--out", str(out)],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(out / "priority_wijken.csv")
    assert table["priority"].sum() == 21
    assert {"name_nl", "commune_names", "lgn", "score", "contrib_deprivation"} <= set(table.columns)
    manifest = json.loads((out / "manifest_rank.json").read_text())
    assert manifest["parameters"]["top_n"] == 21
    sha = {i["path"].split("/")[-1]: i["sha256"] for i in manifest["inputs"]}
    assert sha["wijk_indicators_ibsa.csv"] == "5d80aef24cac86b51150292bc36dd27cc6dc1b1297cf0d1740b2e35b80051826"
    assert {o["path"].split("/")[-1] for o in manifest["outputs"]} >= {"priority_wijken.csv", "priority_wijken.gpkg"}
    assert "SCHATTINGEN" in " ".join(manifest["notes"])
    assert "Historisch Molenbeek" in proc.stdout


def test_cli_errors_are_one_line_without_traceback(tmp_path):
    import os

    env = {**os.environ, "GEOPLANNER_DATA_DIR": str(tmp_path / "empty")}
    proc = subprocess.run(
        [sys.executable, "-m", "geoplanner", "rank", "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "geoplanner data pull" in proc.stderr
    assert not (tmp_path / "o").exists()
    bad = tmp_path / "bad.toml"
    bad.write_text("top_n = -3\n")
    proc = subprocess.run(
        [sys.executable, "-m", "geoplanner", "rank", "--config", str(bad), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "top_n" in proc.stderr and "Traceback" not in proc.stderr


def test_observed_wijk_figures_replace_aggregates(data_dir, need_sectors):
    # figures on 2025 sector codes reach only wijk level; complete wijken take them as observed
    obs = pd.DataFrame(
        {"births": [50.0, 70.0], "pop_total": [5000.0, 9000.0], "n_sectors": [3, 1], "n_sectors_total": [3, 4]},
        index=pd.Index([1, 2], name="mdrc"),
    )
    w = need.wijk_need(need_sectors, obs)
    assert w.loc[1, "births"] == 50.0 and w.loc[1, "births_status"] == "observed"
    assert w.loc[1, "birth_rate_permille"] == pytest.approx(10.0)
    assert w.loc[2, "births_status"] == "estimated"  # only 1 of 4 sectors given: not replaced


def test_user_figures_flow_into_the_ranking(data_dir, tmp_path, monkeypatch, need_sectors):
    from geoplanner.pipeline import run_rank
    from geoplanner.user_data import import_sector_figures, sector_figures_path

    codes = need_sectors.loc[need_sectors["mdrc"] == 16, "cd_sector"]
    src = tmp_path / "figures.csv"
    pd.DataFrame({"code": codes, "births": 40.0, "kansarmoede_index": 35.0}).to_csv(src, index=False)
    stored = sector_figures_path(data_dir)
    assert not stored.exists()
    try:
        import_sector_figures(src, data_dir=data_dir)
        run = run_rank(tmp_path / "out", data_dir=data_dir)
    finally:
        stored.unlink(missing_ok=True)
    row = run.ranking.set_index("mdrc").loc[16]
    assert row["births"] == pytest.approx(40.0 * len(codes))
    assert row["births_status"] == "observed"
    assert any("Echte cijfers" in n for n in run.notes)
    manifest = json.loads((tmp_path / "out" / "manifest_rank.json").read_text())
    assert any(i["path"].endswith("sector_figures.csv") for i in manifest["inputs"])
