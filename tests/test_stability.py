"""How sure the priority list is: the seeded sensitivity analysis behind ``p_top21``.

What these tests guard against (each mutation below was run and fails here):

- **No variation**: the weight draws, the method switch and the births noise all removed from
  :func:`geoplanner.need.stability.rank_stability` (``p_top`` then is 0 or 1 and all 21 are "robust").
  Caught by ``test_each_source_of_variation_moves_the_cut``, ``test_another_seed_moves_p_top_without_ties``,
  ``test_readme_stability_figures_on_the_public_data`` and ``test_real_ranking_stability``;
  ``test_the_readme_check_catches_a_run_without_variation`` runs the same check on such a run
  (:func:`no_variation`) and sees it fail.
- One source removed at a time (weights, method, births): ``test_each_source_of_variation_moves_the_cut``.
"""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from geoplanner import need
from geoplanner.need import stability

#: README, "How sure is the list?": on the public data 16 robust, 5 likely, Marollen (rank 23, p = 0.51) just outside.
README_ROBUST, README_LIKELY = 16, 5
README_NEAR_MISS = ("Marollen", 23, 0.51)


def _fixture(
    n: int = 30,
    *,
    tied_status: str = "derived",
    births34: tuple[float, float] = (150.0, 150.0),
    dep34: tuple[float, float] = (1.0, 1.0),
    pca4: float | None = None,
):
    """A small region, ``top_n`` = 3: wijk 1 far ahead, wijk 2 clearly second, wijken 3 and 4 at the cut.

    By default wijken 3 and 4 are identical (a tie); ``births34``, ``dep34`` and ``pca4`` (wijk 4's
    deprivation by PCA) set them apart.
    """
    rng = np.random.default_rng(0)
    mdrc = np.arange(1, n + 1)
    births = 100 + rng.normal(0, 5, n)
    dep = rng.uniform(-1.0, 0.0, n)
    births[:4] = [300.0, 200.0, *births34]
    dep[:4] = [3.0, 2.0, *dep34]
    pca = dep.copy()
    if pca4 is not None:
        pca[3] = pca4
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
            "deprivation_by_pca": pca,
            "name_nl": [f"W{m}" for m in mdrc],
        }
    )
    return sectors, ranking, need.NeedParams(top_n=3, stability_draws=4000)


def _near_cut():
    """No tie anywhere: wijk 3 just ahead of wijk 4 with the chosen weights and method; wijk 4 has more
    births (so other weights can favour it) and ranks above wijk 3 by PCA."""
    return _fixture(births34=(150.0, 160.0), dep34=(1.0, 0.75), pca4=1.1)


#: A very large Dirichlet concentration: the drawn weights are the chosen ones (to about 1e-6).
_STILL = 1e12


def no_variation(sectors: pd.DataFrame, params: need.NeedParams) -> tuple[pd.DataFrame, need.NeedParams]:
    """The mutation these tests guard against, made through the inputs: no weight draws (a concentration
    so large the draws are the chosen weights), no method switch and no births noise (``births_cv`` 0)."""
    return sectors.assign(births_cv=0.0), replace(params, stability_concentration=_STILL, stability_switch_method=False)


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
    sectors, ranking, params = _near_cut()  # no exact tie: random tie-breaks alone cannot move p_top
    a = stability.rank_stability(sectors, ranking, params)
    b = stability.rank_stability(sectors, ranking, params)
    pd.testing.assert_frame_equal(a, b)
    c = stability.rank_stability(sectors, ranking, replace(params, stability_seed=7))
    assert not a["p_top"].equals(c["p_top"])
    np.testing.assert_allclose(a["p_top"], c["p_top"], atol=0.05)


def test_another_seed_moves_p_top_without_ties():
    """Without exact ties a new seed changes p_top only through the draws: none, no change."""
    sectors, ranking, params = _near_cut()
    calm_sectors, calm = no_variation(sectors, params)
    a = stability.rank_stability(calm_sectors, ranking, calm).set_index("mdrc")
    b = stability.rank_stability(calm_sectors, ranking, replace(calm, stability_seed=7)).set_index("mdrc")
    assert a["p_top"].isin([0.0, 1.0]).all() and a["p_top"].equals(b["p_top"])
    assert a.loc[3, "p_top"] == 1.0 and a.loc[4, "p_top"] == 0.0  # the chosen ranking, every time
    drawn = stability.rank_stability(sectors, ranking, params).set_index("mdrc")
    assert 0.1 < drawn.loc[4, "p_top"] < 0.9


@pytest.mark.parametrize(
    ("source", "births_cv", "concentration", "switch"),
    [
        ("score weights", 0.0, 30.0, False),
        ("deprivation method", 0.0, _STILL, True),
        ("births noise", 0.05, _STILL, False),
    ],
)
def test_each_source_of_variation_moves_the_cut(source, births_cv, concentration, switch):
    """Each of the three sources alone puts wijken 3 and 4 (no tie) in the top 3 in part of the variations."""
    sectors, ranking, params = _near_cut()
    params = replace(params, stability_concentration=concentration, stability_switch_method=switch)
    out = stability.rank_stability(sectors.assign(births_cv=births_cv), ranking, params).set_index("mdrc")
    assert 0.2 < out.loc[3, "p_top"] < 0.8, source
    assert out.loc[3, "p_top"] + out.loc[4, "p_top"] == pytest.approx(1.0)
    assert out.loc[1, "p_top"] == out.loc[2, "p_top"] == 1.0


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
    # the top of the list is certain, the bottom is never selected, the cut is uncertain
    assert (ranked.nsmallest(5, "rank")["p_top"] > 0.95).all()
    assert (ranked.nlargest(40, "rank")["p_top"] < 0.01).all()
    assert ranked["p_top"].between(0.1, 0.9).sum() >= 5
    # a near miss exists: outside the 21 and selected in at least half of the variations
    near = out[out["near_miss"]]
    assert len(near) >= 1
    assert (~near["priority"]).all() and (near["p_top"] >= 0.5).all()
    notes = stability.stability_notes(out, params)
    assert notes[0].startswith("Zekerheid van de top 21")
    assert any(n.startswith("Net buiten de top 21") and "Marollen" in n for n in notes)


def assert_readme_stability(out: pd.DataFrame) -> None:
    """The README's figures: 16 robust and 5 likely among the 21; Marollen (rank 23, p = 0.51) the one near miss."""
    counts = out.loc[out["priority"].astype(bool), "stability"].value_counts()
    assert (counts.get("robust", 0), counts.get("likely", 0)) == (README_ROBUST, README_LIKELY), counts.to_dict()
    near = out[out["near_miss"]]
    name, rank, p = README_NEAR_MISS
    assert near["name_nl"].tolist() == [name], near["name_nl"].tolist()
    assert int(near["rank"].iloc[0]) == rank and round(float(near["p_top"].iloc[0]), 2) == p


def test_readme_stability_figures_on_the_public_data(ranking, need_sectors):
    assert_readme_stability(stability.rank_stability(need_sectors, ranking, need.NeedParams()))


def test_the_readme_check_catches_a_run_without_variation(ranking, need_sectors):
    sectors, params = no_variation(need_sectors, need.NeedParams())
    out = stability.rank_stability(sectors, ranking, params)
    assert set(out.loc[out["priority"].astype(bool), "p_top"]) == {1.0} and not out["near_miss"].any()
    with pytest.raises(AssertionError):
        assert_readme_stability(out)


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
