import numpy as np
import pandas as pd
import pytest

from geoplanner import need
from geoplanner.need import stability


def _fixture(n: int = 30, *, tied_status: str = "derived"):
    """A small region: wijk 1 far ahead, wijk 2 clearly second, wijken 3 and 4 identical at the cut of 3."""
    rng = np.random.default_rng(0)
    mdrc = np.arange(1, n + 1)
    births = 100 + rng.normal(0, 5, n)
    dep = rng.uniform(-1.0, 0.0, n)
    births[:4] = [300.0, 200.0, 150.0, 150.0]
    dep[:4] = [3.0, 2.0, 1.0, 1.0]
    pop = np.full(n, 10_000.0)
    commune = np.where(mdrc <= 4, 1, 2 + mdrc % 3)  # wijken 1-4 share commune 1 (reconciled together)
    status = np.where(np.isin(mdrc, [3, 4]), tied_status, "derived")
    sectors = pd.DataFrame(
        {
            "cd_sector": [f"S{m:03d}" for m in mdrc],
            "commune_nis": commune,
            "mdrc": mdrc,
            "births": births,
            "births_status": status,
            "births_cv": np.where(status == "observed", 0.0, 0.05),
        }
    )
    ranking = pd.DataFrame(
        {
            "mdrc": mdrc,
            "rank": np.arange(1, n + 1, dtype=float),
            "priority": mdrc <= 3,
            "pop_total": pop,
            "births": births,
            "births_status": status,
            "deprivation_by_weights": dep,
            "deprivation_by_pca": dep,
            "name_nl": [f"W{m}" for m in mdrc],
        }
    )
    return sectors, ranking, need.NeedParams(top_n=3, stability_draws=4000)


@pytest.mark.parametrize("tied_status", ["derived", "observed"])
def test_far_ahead_is_certain_and_a_tie_at_the_cut_is_a_coin_toss(tied_status):
    sectors, ranking, params = _fixture(tied_status=tied_status)
    out = stability.rank_stability(sectors, ranking, params).set_index("mdrc")
    assert out.loc[1, "p_top"] == 1.0 and out.loc[1, "stability"] == "robust"
    assert out.loc[1, "rank_p05"] == out.loc[1, "rank_p95"] == 1
    assert out.loc[2, "p_top"] == 1.0
    # two identical wijken competing for the last place: each in about half of the variations
    assert out.loc[3, "p_top"] == pytest.approx(0.5, abs=0.05)
    assert out.loc[4, "p_top"] == pytest.approx(0.5, abs=0.05)
    assert out.loc[3, "p_top"] + out.loc[4, "p_top"] == pytest.approx(1.0)
    assert out.loc[5:, "p_top"].max() == 0.0
    # wijk 4 is outside the selection, but in about half of the variations: named if at least half
    assert out.loc[4, "near_miss"] == (out.loc[4, "p_top"] >= 0.5)
    # every variation selects exactly top_n wijken
    assert out["p_top"].sum() == pytest.approx(params.top_n)


def test_same_seed_same_result_other_seed_close():
    sectors, ranking, params = _fixture()
    a = stability.rank_stability(sectors, ranking, params)
    b = stability.rank_stability(sectors, ranking, params)
    pd.testing.assert_frame_equal(a, b)
    from dataclasses import replace

    c = stability.rank_stability(sectors, ranking, replace(params, stability_seed=7))
    assert not a["p_top"].equals(c["p_top"])
    np.testing.assert_allclose(a["p_top"], c["p_top"], atol=0.05)


def test_drawn_births_keep_commune_totals_and_observed_figures():
    births = np.array([10.0, 20.0, 30.0, 5.0, 0.0, 7.0])
    cv = np.array([0.3, 0.3, 0.3, 0.3, 0.3, 0.0])
    commune = np.array([1, 1, 2, 2, 2, 2])
    fixed = np.array([False, False, False, True, False, False])
    draws = stability.draw_births(births, cv, commune, fixed, 5000, np.random.default_rng(1))
    # commune 1 keeps 30 in every draw; commune 2's model-made sectors keep 37 (the observed 5 is apart)
    np.testing.assert_allclose(draws[:, :2].sum(axis=1), 30.0)
    np.testing.assert_allclose(draws[:, [2, 4, 5]].sum(axis=1), 37.0)
    assert (draws[:, 3] == 5.0).all() and (draws[:, 4] == 0.0).all()
    assert draws[:, 0].std() > 1.0 and (draws >= 0).all()
    # the noise is centred: the mean draw is the need model's figure (gamma with mean 1, then reconciled)
    np.testing.assert_allclose(draws[:, 0].mean(), 10.0, rtol=0.02)


def test_stability_classes():
    p = np.array([1.0, 0.9, 0.89, 0.5, 0.49, 0.1, 0.05, 0.0, np.nan])
    assert list(stability.stability_class(p)) == [
        "robust",
        "robust",
        "likely",
        "likely",
        "borderline",
        "borderline",
        "unlikely",
        "unlikely",
        "",
    ]


def test_real_ranking_stability(ranking, need_sectors):
    params = need.NeedParams()
    out = stability.rank_stability(need_sectors, ranking, params)
    ranked = out[out["rank"].notna()]
    assert ranked["p_top"].between(0, 1).all()
    assert ranked["p_top"].sum() == pytest.approx(params.top_n)  # each variation picks exactly 21
    assert out.loc[out["rank"].isna(), "p_top"].isna().all()
    # the top of the list is certain, the bottom is never selected
    assert (ranked.nsmallest(5, "rank")["p_top"] > 0.95).all()
    assert (ranked.nlargest(40, "rank")["p_top"] < 0.01).all()
    # a near miss is outside the 21 and selected in at least half of the variations
    near = out[out["near_miss"]]
    assert (~near["priority"]).all() and (near["p_top"] >= 0.5).all()
    notes = stability.stability_notes(out, params)
    assert notes[0].startswith("Zekerheid van de top 21")


def test_pca_weights_are_reproducible_and_match_an_eigendecomposition(ranking):
    cols = ["bim", "cpas", "unemployment", "income", "bimd"]
    z = ranking[ranking["rank"].notna()].set_index("mdrc")[[f"z_{c}" for c in cols]]
    z.columns = cols
    a = need.pca_weights(z)
    b = need.pca_weights(z.sample(frac=1, random_state=5))  # row order does not matter
    assert a.weights == pytest.approx(b.weights, abs=1e-12)
    assert sum(a.weights.values()) == pytest.approx(1.0)
    # independent reference: eigenvectors of the covariance matrix of the complete rows (numpy)
    x = z.dropna().to_numpy()
    values, vectors = np.linalg.eigh(np.cov(x, rowvar=False))
    order = np.argsort(values)[::-1]
    first = vectors[:, order[0]]
    np.testing.assert_allclose(np.array(list(a.weights.values())), first**2 / (first**2).sum(), atol=1e-10)
    np.testing.assert_allclose(a.explained_variance_ratio, values[order] / values.sum(), atol=1e-10)
    assert (a.loadings["pc1"] > 0).all()  # every component moves with deprivation on the first axis
    assert a.n_wijken == len(x) == 117  # Koninklijke Wijk has no BIM value
    table = a.table()
    assert list(table["component"]) == [*cols, "explained_variance_ratio"]


def test_pca_method_ranks_on_pca_weights(need_data, need_sectors):
    ranked = need.rank_wijken(need_data, need.NeedParams(deprivation_method="pca"), sectors=need_sectors)
    r = ranked[ranked["rank"].notna()]
    assert (r["deprivation_method"] == "pca").all()
    np.testing.assert_allclose(r["deprivation"], r["deprivation_by_pca"])
    np.testing.assert_allclose(r["contrib_deprivation"], 0.5 * r["deprivation_by_pca"])
