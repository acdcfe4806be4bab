import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from geoplanner import need
from geoplanner.core.errors import ConfigError
from geoplanner.inputs.figures import load_commune_age_shares, load_commune_population, load_sector_population


def test_commune_totals_are_preserved_exactly(data_dir, need_sectors):
    # "communes keep their published totals": the Statbel 2020 counts of children aged 0 and 0-2
    communes = load_commune_population(data_dir).set_index("commune_nis")
    sums = need_sectors.groupby("commune_nis")[["pop_total", "births", "pop_0_2"]].sum()
    np.testing.assert_allclose(sums["pop_0_2"], communes["pop_0_2"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(sums["births"], communes["pop_age0"], rtol=0, atol=1e-6)
    # residents are the observed 2019 counts, not spread: they add up to the 2019 file, near the 2020 totals
    residents = load_sector_population(data_dir).set_index("cd_sector")["pop_total"]
    assert (need_sectors.set_index("cd_sector")["pop_total"] == residents.reindex(need_sectors["cd_sector"])).all()
    assert (need_sectors["pop_total_status"] == "observed").all()
    np.testing.assert_allclose(sums["pop_total"], communes["pop_total"], rtol=0.03)
    # 675 sectors derived from their age structure, the 49 absent from the age file estimated
    assert (need_sectors["pop_0_2_status"] == "derived").sum() == 675
    assert (need_sectors["births_status"] == "estimated").sum() == 49
    assert (need_sectors.loc[~need_sectors["in_age_file"], "births_status"] == "estimated").all()
    assert (need_sectors["pop_0_2"] >= 0).all() and (need_sectors["births"] >= 0).all()
    # a sector without residents has no children
    empty = need_sectors[need_sectors["pop_total"] == 0]
    assert len(empty) == 22 and (empty[["births", "pop_0_2"]] == 0).all().all()


def test_derivation_by_hand():
    # two communes; A has two sectors in the age file and one without, B one sector
    communes = pd.DataFrame(
        {"pop_total": [1000.0, 500.0], "pop_age0": [20.0, 5.0], "pop_0_2": [60.0, 15.0], "pop_0_4": [100.0, 25.0]},
        index=pd.Index([1, 2], name="commune_nis"),
    )
    table = pd.DataFrame(
        {
            "cd_sector": ["a1", "a2", "a3", "b1"],
            "commune_nis": [1, 1, 1, 2],
            "pop_total": [400.0, 500.0, 50.0, 480.0],  # 2019
            "in_age_file": [True, True, False, True],
            "pop_0_4_2022": [40.0, 30.0, np.nan, 20.0],
            "pop_total_2022": [500.0, 500.0, np.nan, 400.0],
        }
    )
    out = need.derive_sector_counts(table, communes)
    # by hand: young = 2019 residents x 2022 0-4 share: a1 400 x 0.08 = 32, a2 500 x 0.06 = 30;
    # raw births = young x 20/100: 6.4 and 6.0; the estimated a3 = 50 residents x 20/1000 = 1.0;
    # commune A must keep 20 births: factor 20 / 13.4
    k = 20 / 13.4
    np.testing.assert_allclose(out["births"], [6.4 * k, 6.0 * k, 1.0 * k, 5.0])
    # 0-2: raw 32 x 0.6 = 19.2, 30 x 0.6 = 18, a3 50 x 0.06 = 3; factor 60 / 40.2
    np.testing.assert_allclose(out["pop_0_2"], [19.2 * 60 / 40.2, 18 * 60 / 40.2, 3 * 60 / 40.2, 15.0])
    assert list(out["births_status"]) == ["derived", "derived", "estimated", "derived"]
    # B: young = 480 x 20/400 = 24, raw births 4.8, published 5
    np.testing.assert_allclose(out["reconcile_births"], [k, k, k, 5 / 4.8])
    # uncertainty: binomial share of one of five cohorts among the sector's 0-4 count, plus the commune spread
    r0 = communes["pop_age0"] / communes["pop_0_4"]  # 0.2 in both communes: no spread between communes
    assert need.uncertainty_basis(communes, out.assign(**table))["cv_communes_births"] == 0
    np.testing.assert_allclose(out.loc[0, "births_cv"], np.sqrt((1 - 0.2) / (0.2 * 40)))
    assert r0.iloc[0] == 0.2
    # the birth rate follows the 0-4 share inside a commune: a1 (8 %) above a2 (6 %)
    rate = out["births"] / table["pop_total"]
    assert rate[0] / rate[1] == pytest.approx(0.08 / 0.06)


def test_age_structure_moves_birth_rates_within_communes(need_sectors, ranking):
    derived = need_sectors[(need_sectors["births_status"] == "derived") & (need_sectors["pop_total"] > 0)]
    rate = derived["births"] / derived["pop_total"]
    # within a commune, a derived sector's birth rate is its 0-4 share times one commune constant
    constant = (rate / derived["share_0_4_2022"]).groupby(derived["commune_nis"])
    assert (constant.std() / constant.mean()).max() < 1e-9
    spread = rate.groupby(derived["commune_nis"]).agg(lambda r: r.quantile(0.9) / r.quantile(0.1))
    assert (spread > 1.2).all()  # rates differ inside every commune, by 20 % or more between deciles
    # and at wijk level: the wijken that lie wholly in Molenbeek no longer share one rate
    molenbeek = ranking[(ranking["communes"] == "21012") & ranking["rank"].notna()]
    assert len(molenbeek) == 4 and molenbeek["birth_rate_permille"].max() - molenbeek["birth_rate_permille"].min() > 2


def test_derived_0_2_agrees_with_ibsa_under_3_share(need_data, data_dir, need_sectors):
    # independent check: IBSA's 2021 share of children under 3 per commune, against the derived sector
    # 0-2 summed per commune over the 2019 residents (tolerance need.IBSA_TOLERANCE: one birth year apart)
    ibsa = load_commune_age_shares(data_dir).set_index("commune_nis")["share_under3_pct"]
    sums = need_sectors.groupby("commune_nis")[["pop_0_2", "pop_total"]].sum()
    share = 100 * sums["pop_0_2"] / sums["pop_total"]
    gap = share / ibsa.reindex(share.index) - 1
    assert (gap.abs() <= need.IBSA_TOLERANCE).all(), gap
    # births fell: the 2020 count (born 2017-19) is above the 2021 one (born 2018-20) on average
    assert 0 < gap.mean() < 0.1
    check = need.commune_check(need_sectors, need_data.communes, need_data.age_shares).set_index("commune_nis")
    np.testing.assert_allclose(check["ibsa_gap"], gap.reindex(check.index))
    assert check["reconcile_births"].between(0.9, 1.2).all()


def test_weight_follows_housing(need_sectors):
    # children per hectare: the sectors of parks and woods get far fewer than residential ones
    s = need_sectors.assign(per_ha=need_sectors["pop_0_2"] / (need_sectors.area / 1e4))
    park = s.loc[s["mdrc"] >= 900, "per_ha"].median()
    residential = s.loc[s["mdrc"] <= 118, "per_ha"].median()
    assert residential > 5 * park


def test_observed_figures_replace_estimates(need_data, data_dir, need_sectors):
    code = need_sectors["cd_sector"].iloc[0]
    obs = pd.DataFrame({"pop_0_2": [123.0], "kansarmoede_index": [40.0]}, index=[code])
    s = need.sector_need(need_data, observed=obs)
    row = s.set_index("cd_sector").loc[code]
    assert row["pop_0_2"] == 123.0 and row["pop_0_2_status"] == "observed" and row["pop_0_2_cv"] == 0
    assert row["births_status"] == "derived"
    w = need.wijk_need(s)
    assert w.loc[row["mdrc"], "pop_0_2_status"] in ("observed", "mixed")
    assert "observed" in w.loc[row["mdrc"], "pop_0_2_status_mix"]
    assert w.loc[row["mdrc"], "kansarmoede_index"] == 40.0


def test_status_of_sums_and_coverage_groups():
    assert need.combine_status(["derived", "derived"]) == "derived"
    assert need.combine_status(["derived", "estimated"]) == "mixed"
    assert need.status_mix([98.0, 2.0, 0.0], ["derived", "estimated", "estimated"]) == "derived 98 %, estimated 2 %"
    assert need.status_mix([1000.0, 1.0], ["derived", "estimated"]) == "derived >99 %, estimated <1 %"
    assert need.status_mix([0.0, 0.0], ["observed", "derived"]) == "observed 50 %, derived 50 %"
    # the coverage tables use the same rule ("derived" is a status of its own, not "estimated")
    from geoplanner.access.tables import _summarise

    frame = pd.DataFrame(
        {
            "g": ["a", "a", "b", "b"],
            "service_set": "x",
            "minutes": [1.0, 2.0, 3.0, 4.0],
            "weight": [1.0, 1.0, 1.0, 1.0],
            "pop_0_2_status": ["derived", "derived", "derived", "estimated"],
            "service_id": "S",
            "layer_note": "",
        }
    )
    out = _summarise(frame, ["g"], [5]).set_index("g")
    assert out.loc["a", "pop_0_2_status"] == "derived" and out.loc["b", "pop_0_2_status"] == "mixed"


def test_bimd_is_weighted_by_residents(need_sectors, ranking):
    wijk = 16
    s = need_sectors[(need_sectors["mdrc"] == wijk) & need_sectors["bimd2011_score"].notna()]
    expected = (s["bimd2011_score"] * s["pop_total"]).sum() / s["pop_total"].sum()
    row = ranking.set_index("mdrc").loc[wijk]
    assert row["bimd2011_score"] == pytest.approx(expected)
    assert "z_bimd" in ranking.columns and row["n_components"] == 5


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
    # the reported deprivation is the configured method's (equal weights by default)
    ranked = ranking[ranking["rank"].notna()]
    assert (ranked["deprivation_method"] == "weights").all()
    np.testing.assert_allclose(ranked["deprivation"], ranked["deprivation_by_weights"])


def test_deprivation_handles_missing_components(need_data, need_sectors, ranking):
    """A missing component is left out of that wijk's average and named; with fewer than 3 the wijk is not ranked.

    The public data has no such ranked wijk (Koningswijk, 6, lacks BIM but has 330 inhabitants and is
    left out for that), so components are blanked here: BIM for Marollen (8); BIM, CPAS and unemployment
    for Weststation (15). Guarded mutations: a composite that counts a missing component as 0, and one
    that ignores ``min_components``.
    """
    import dataclasses

    royal = ranking.set_index("mdrc").loc[6]
    assert pd.isna(royal["rank"]) and royal["excluded_reason"].startswith("minder dan 1000 inwoners")
    ind = need_data.indicators.set_index("mdrc")
    ind.loc[8, "bim_beneficiaries_share_pct_2024"] = np.nan
    ind.loc[15, ["bim_beneficiaries_share_pct_2024", "cpas_ris_beneficiaries_share_pct_2023",
                 "unemployment_rate_pct_2023"]] = np.nan  # fmt: skip
    data = dataclasses.replace(need_data, indicators=ind.reset_index())
    out = need.rank_wijken(data, sectors=need_sectors).set_index("mdrc")
    marollen = out.loc[8]
    assert marollen["missing_components"] == "bim" and marollen["n_components"] == 4 and marollen["rank"] > 0
    rest = marollen[["z_cpas", "z_unemployment", "z_income", "z_bimd"]].astype(float)
    assert np.isnan(marollen["z_bim"]) and marollen["deprivation"] == pytest.approx(rest.mean(), abs=1e-12)
    west = out.loc[15]
    assert west["missing_components"] == "bim,cpas,unemployment" and west["n_components"] == 2
    assert pd.isna(west["rank"]) and west["excluded_reason"] == "te weinig indicatoren voor de kansarmoede-index"
    assert not out["priority"].loc[[15]].any() and out["priority"].sum() == 21


def test_ranking_is_deterministic(need_data, data_dir, need_sectors, ranking):
    again = need.rank_wijken(need_data, sectors=need_sectors.sample(frac=1, random_state=3))
    pd.testing.assert_frame_equal(
        pd.DataFrame(ranking.drop(columns="geometry")).reset_index(drop=True),
        pd.DataFrame(again.drop(columns="geometry")).reset_index(drop=True),
    )


def test_weights_change_the_ranking(need_data, data_dir, need_sectors, ranking):
    only_dep = need.rank_wijken(
        need_data, need.NeedParams(w_birth_rate=0, w_births=0, w_deprivation=1), sectors=need_sectors
    )
    top = only_dep[only_dep["priority"]]
    assert top["deprivation"].is_monotonic_decreasing
    assert set(top["mdrc"]) != set(ranking.loc[ranking["priority"], "mdrc"])


def test_params_from_toml(tmp_path):
    from geoplanner.pipeline.load import need_params

    good = tmp_path / "p.toml"
    good.write_text(
        "top_n = 10\nw_deprivation = 1.0\nmin_components = 2\n[deprivation_weights]\nbim = 1.0\nincome = 1.0\n"
    )
    p = need_params(good)
    assert p.top_n == 10 and set(p.deprivation_weights) == {"bim", "income"}
    with pytest.raises(ConfigError, match="min_components"):
        need.NeedParams(deprivation_weights={"bim": 1.0}, min_components=3)
    bad = tmp_path / "bad.toml"
    bad.write_text("top_n = 'ten'\n")
    with pytest.raises(ConfigError, match="wrong type") as err:
        need_params(bad)
    assert err.value.column == "top_n"
    bad.write_text("colour = 1\n")
    with pytest.raises(ConfigError, match="unknown key"):
        need_params(bad)


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
    assert {"sector_population_by_age5_2022.csv", "sector_bimd_2011.csv", "sector_population_2019.csv"} <= set(sha)
    assert {o["path"].split("/")[-1] for o in manifest["outputs"]} >= {
        "priority_wijken.csv",
        "priority_wijken.gpkg",
        "deprivation_pca.csv",
        "commune_need_check.csv",
    }
    assert "AFGELEID" in " ".join(manifest["notes"])
    assert set(manifest["parameters"]["pca_weights"]) == {"bim", "cpas", "unemployment", "income", "bimd"}
    assert manifest["parameters"]["count_uncertainty_basis"]["cv_communes_births"] > 0
    # the 21 with their status, deprivation method and p_top21
    top = table[table["priority"]]
    assert top["p_top21"].between(0, 1).all() and top["stability"].isin(["robust", "likely", "borderline"]).all()
    assert {"births_status_mix", "deprivation_method", "rank_p05", "rank_p95", "near_miss"} <= set(table.columns)
    assert "Weststation" in proc.stdout and "p_top21" in proc.stdout
    assert "Status van de cijfers in de top 21" in proc.stdout and "methode 'weights'" in proc.stdout
    pca = pd.read_csv(out / "deprivation_pca.csv")
    assert "explained_variance_ratio" in set(pca["component"])


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
    assert w.loc[2, "births_status"] == "derived"  # only 1 of 4 sectors given: not replaced


def test_user_figures_flow_into_the_ranking(data_dir, tmp_path, monkeypatch, need_sectors):
    from geoplanner.inputs.sector_figures import sector_figures_path
    from geoplanner.pipeline import run_rank
    from geoplanner.pipeline.imports import import_sector_figures

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


def test_pca_weights_match_scikit_learn():
    """The numpy PCA gives scikit-learn's loadings (oriented the same way) and explained variance."""
    import numpy as np
    from sklearn.decomposition import PCA

    from geoplanner.need import pca_weights

    rng = np.random.default_rng(12)
    base = rng.normal(size=(140, 1))
    z = pd.DataFrame(base + 0.6 * rng.normal(size=(140, 4)), columns=["bim", "cpas", "unemployment", "income"])
    z.iloc[3, 1] = np.nan  # rows with a missing component are left out
    got = pca_weights(z)
    ref = PCA(svd_solver="full").fit(z.dropna().sort_index().to_numpy())
    comps = ref.components_ * np.where(ref.components_.sum(axis=1) < 0, -1.0, 1.0)[:, None]
    np.testing.assert_allclose(got.loadings.to_numpy(), comps.T, atol=1e-10)
    np.testing.assert_allclose(got.explained_variance_ratio, ref.explained_variance_ratio_, rtol=1e-10)
    w = comps[0] ** 2 / (comps[0] ** 2).sum()
    assert got.weights == pytest.approx(dict(zip(z.columns, w, strict=True)), abs=1e-12) and got.n_wijken == 139


def test_an_impossible_birth_rate_never_reaches_the_ranking(need_data, data_dir, need_sectors, ranking):
    """Observed wijk births that cannot go with its residents (1,969 ‰) stop the ranking, naming the wijk."""
    from geoplanner.core.errors import DataError

    wijk = int(ranking.loc[ranking["rank"] == 30, "mdrc"].iloc[0])
    pop = float(ranking.loc[ranking["mdrc"] == wijk, "pop_total"].iloc[0])
    obs = pd.DataFrame(
        {"births": [1.969 * pop], "pop_0_2": [3 * 1.969 * pop], "n_sectors": [1], "n_sectors_total": [1]},
        index=pd.Index([wijk], name="mdrc"),
    )
    with pytest.raises(DataError) as err:
        need.rank_wijken(need_data, sectors=need_sectors, observed_wijk=obs)
    message = err.value.one_line()
    assert f"wijk {wijk}" in message and "1969 ‰" in message and "observed" in message
    assert "sector_figures.csv" in message  # the user's figures are named
    # more births than children aged 0-2 is refused too, even at a plausible rate
    obs = obs.assign(births=[0.02 * pop], pop_0_2=[0.01 * pop])
    with pytest.raises(DataError, match="more births than children aged 0–2"):
        need.rank_wijken(need_data, sectors=need_sectors, observed_wijk=obs)
    # real figures pass: the highest ranked wijk's rate is far below the limit
    assert ranking["birth_rate_permille"].max() < need.MAX_BIRTH_RATE_PERMILLE / 1.5
