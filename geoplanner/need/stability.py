"""How sure is the selection of priority wijken? A seeded, vectorised sensitivity analysis.

The ranking rests on choices (the weights of the score, how deprivation is combined) and on counts
that are derived or estimated, not counted. :func:`rank_stability` redraws all three many times and
reports, for every ranked wijk, the share of those plausible variations in which it is among the
``top_n`` (``p_top``), with the 5th–95th percentile of its rank. In each variation:

1. **Score weights** are drawn from a Dirichlet distribution centred on the chosen ones (their sum
   kept), with concentration ``stability_concentration`` — an assumption about how far reasonable
   people could move the weights, not a measurement (at 30, about ±0.06 to ±0.09).
2. **Deprivation method**: the configured weights or the PCA weights, each with probability ½
   (``stability_switch_method``).
3. **Counts**: each sector's derived or estimated births are multiplied by gamma noise with mean 1
   and the coefficient of variation of the need model (``births_cv``: binomial spread of one birth
   cohort among the sector's children aged 0–4 plus the between-commune spread of the ratio; for
   estimated sectors the measured error of the commune-average guess), then reconciled again so
   every commune keeps its published total. Observed figures are not redrawn. Only births are drawn
   because only births (and the birth rate) enter the score; residents are observed.

Exact ties are broken at random in each variation (not by wijk code as in the reported ranking), so
two identical wijken at the cut each get about ½. The same seed gives the same result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from geoplanner.core.i18n import label
from geoplanner.need.params import NeedParams
from geoplanner.need.population import OBSERVED

__all__ = [
    "STABILITY_CLASSES",
    "STABILITY_COLUMNS",
    "stability_class",
    "draw_births",
    "top_n_share",
    "rank_stability",
    "stability_notes",
]

#: Classes of ``p_top`` (lower bound, code), from the most to the least certain.
STABILITY_CLASSES: tuple[tuple[float, str], ...] = (
    (0.9, "robust"),
    (0.5, "likely"),
    (0.1, "borderline"),
    (0.0, "unlikely"),
)

#: Columns :func:`rank_stability` adds to the ranking.
STABILITY_COLUMNS = ("p_top", "rank_p05", "rank_p50", "rank_p95", "stability", "near_miss")


def stability_class(p: float | np.ndarray) -> np.ndarray:
    """Return the class code of each ``p_top``: robust ≥ 0.9, likely ≥ 0.5, borderline ≥ 0.1, else unlikely."""
    p = np.atleast_1d(np.asarray(p, dtype=float))
    out = np.full(p.shape, "", dtype=object)
    for lower, code in reversed(STABILITY_CLASSES):
        out[np.isfinite(p) & (p >= lower)] = code
    return out


def draw_births(
    births: np.ndarray, cv: np.ndarray, commune: np.ndarray, fixed: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    """Draw ``n`` variations of sector births, each reconciled to the same commune totals.

    Parameters
    ----------
    births
        Sector births as the need model gives them.
    cv
        Their coefficient of variation (0: not drawn).
    commune
        Commune code of each sector.
    fixed
        True for sectors whose figure is observed: never drawn, and left out of the reconciliation.
    n
        Number of draws.
    rng
        Random generator.

    Returns
    -------
    numpy.ndarray
        ``n × len(births)``. In every row the drawn (non-fixed) sectors of a commune add up to what they
        add up to in ``births``.
    """
    births = np.asarray(births, dtype=float)
    cv = np.where(fixed, 0.0, np.nan_to_num(np.asarray(cv, dtype=float), nan=0.0))
    out = np.broadcast_to(births, (n, births.size)).copy()
    noisy = (cv > 0) & (births > 0)
    if not noisy.any():
        return out
    shape = 1.0 / cv[noisy] ** 2  # gamma with mean 1 and coefficient of variation cv
    out[:, noisy] *= rng.gamma(shape, 1.0 / shape, size=(n, int(noisy.sum())))
    free = ~np.asarray(fixed, dtype=bool)
    codes, idx = np.unique(np.asarray(commune)[free], return_inverse=True)
    member = sparse.csr_matrix((np.ones(idx.size), (np.arange(idx.size), idx)), shape=(idx.size, codes.size))
    target = member.T @ births[free]
    sums = np.asarray((member.T @ out[:, free].T).T)
    factor = np.divide(target, sums, out=np.ones_like(sums), where=sums > 0)
    out[:, free] *= factor[:, idx]
    return out


def _z(x: np.ndarray) -> np.ndarray:
    """Row-wise z-scores (population SD); a constant row gives zeros."""
    sd = x.std(axis=1, keepdims=True)
    return np.divide(x - x.mean(axis=1, keepdims=True), sd, out=np.zeros_like(x), where=sd > 0)


def top_n_share(
    births: np.ndarray,
    pop_total: np.ndarray,
    deprivation: np.ndarray,
    weights: np.ndarray,
    top_n: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Score and rank wijken in every variation; return how often each is in the top and its ranks.

    Parameters
    ----------
    births
        ``n × W`` wijk births per variation.
    pop_total
        ``W`` residents (fixed).
    deprivation
        ``n × W`` deprivation index per variation (z units).
    weights
        ``n × 3`` score weights (birth rate, births, deprivation) per variation.
    top_n
        Size of the selection.
    rng
        Random generator (breaks exact ties).

    Returns
    -------
    tuple of numpy.ndarray
        ``p_top`` (``W``: share of variations in which the wijk is among the ``top_n``) and the ranks
        (``n × W``, 1 = highest score).
    """
    n, w = births.shape
    rate = 1000.0 * births / pop_total[None, :]
    score = weights[:, [0]] * _z(rate) + weights[:, [1]] * _z(births) + weights[:, [2]] * deprivation
    tiebreak = rng.random((n, w))
    order = np.lexsort((tiebreak, -score), axis=-1)
    ranks = np.empty((n, w), dtype=np.int32)
    np.put_along_axis(ranks, order, np.arange(1, w + 1, dtype=np.int32)[None, :].repeat(n, axis=0), axis=-1)
    return (ranks <= top_n).mean(axis=0), ranks


def rank_stability(sectors: pd.DataFrame, ranking: pd.DataFrame, params: NeedParams) -> pd.DataFrame:
    """Add to the ranking how sure each wijk's place in the selection is.

    Parameters
    ----------
    sectors
        :func:`geoplanner.need.sector_need` output (cd_sector, commune_nis, mdrc, births, births_status,
        births_cv).
    ranking
        :func:`geoplanner.need.rank_wijken` output (mdrc, rank, priority, pop_total, births, births_status,
        deprivation_by_weights, deprivation_by_pca).
    params
        The need parameters: score weights, method, ``top_n`` and the ``stability_*`` settings.

    Returns
    -------
    pandas.DataFrame
        ``ranking`` with :data:`STABILITY_COLUMNS`: p_top, rank_p05 / rank_p50 / rank_p95 (percentiles of the
        rank over the variations), stability (:func:`stability_class`) and near_miss (not among the
        ``top_n`` but in at least half of the variations); NaN / '' / False for wijken that are not ranked.
    """
    out = ranking.copy()
    eligible = out["rank"].notna().to_numpy()
    mdrc = out.loc[eligible, "mdrc"].to_numpy()
    n = int(params.stability_draws)
    rng = np.random.default_rng(params.stability_seed)
    # births per sector, then per eligible wijk (sectors of unranked wijken are drawn too: they share communes)
    s = sectors.sort_values("cd_sector", kind="stable")
    drawn = draw_births(
        s["births"].to_numpy(dtype=float),
        s["births_cv"].to_numpy(dtype=float) if "births_cv" in s.columns else np.zeros(len(s)),
        s["commune_nis"].to_numpy(),
        (s["births_status"] == OBSERVED).to_numpy(),
        n,
        rng,
    )
    col = pd.Index(mdrc).get_indexer(s["mdrc"].to_numpy())
    keep = col >= 0
    to_wijk = sparse.csr_matrix(
        (np.ones(int(keep.sum())), (np.flatnonzero(keep), col[keep])), shape=(len(s), len(mdrc))
    )
    births = np.asarray((to_wijk.T @ drawn.T).T)
    wijk = out.loc[eligible]
    fixed = (wijk["births_status"] == OBSERVED).to_numpy()  # e.g. observed on 2025 codes, at wijk level only
    births[:, fixed] = wijk["births"].to_numpy(dtype=float)[fixed]
    # score weights around the chosen ones (zero weights stay zero), and the deprivation method
    base = np.array([params.w_birth_rate, params.w_births, params.w_deprivation], dtype=float)
    weights = np.zeros((n, 3))
    pos = base > 0
    weights[:, pos] = rng.dirichlet(params.stability_concentration * base[pos] / base[pos].sum(), size=n)
    weights *= base.sum()
    by_weights = wijk["deprivation_by_weights"].to_numpy(dtype=float)
    by_pca = wijk["deprivation_by_pca"].to_numpy(dtype=float)
    chosen = by_pca if params.deprivation_method == "pca" else by_weights
    if params.stability_switch_method:
        use_pca = rng.random(n) < 0.5
        deprivation = np.where(use_pca[:, None], by_pca[None, :], by_weights[None, :])
    else:
        deprivation = np.broadcast_to(chosen, (n, chosen.size))
    p_top, ranks = top_n_share(births, wijk["pop_total"].to_numpy(dtype=float), deprivation, weights, params.top_n, rng)
    pct = np.percentile(ranks, [5, 50, 95], axis=0, method="nearest")
    for name in STABILITY_COLUMNS:
        out[name] = np.nan if name.startswith(("p_", "rank_")) else ("" if name == "stability" else False)
    idx = out.index[eligible]
    out.loc[idx, "p_top"] = p_top
    for i, name in enumerate(("rank_p05", "rank_p50", "rank_p95")):
        out.loc[idx, name] = pct[i]
    out.loc[idx, "stability"] = stability_class(p_top)
    out["near_miss"] = (~out["priority"].astype(bool)) & (out["p_top"] >= 0.5).fillna(False)
    out["near_miss"] = out["near_miss"].astype(bool)
    return out


def stability_notes(ranking: pd.DataFrame, params: NeedParams, *, name_col: str = "name_nl") -> list[str]:
    """Plain Dutch lines naming the wijken whose place in (or out of) the selection is uncertain."""
    n = params.top_n
    notes = []
    prio = ranking[ranking["priority"].astype(bool)]
    counts = prio["stability"].value_counts()
    mix = ", ".join(f"{int(counts.get(code, 0))} {label('stability_' + code)}" for _, code in STABILITY_CLASSES)
    notes.append(
        f"Zekerheid van de top {n} ({params.stability_draws} varianten: gewichten, kansarmoedemethode, "
        f"afgeleide aantallen; seed {params.stability_seed}): {mix}."
    )
    doubt = prio[prio["p_top"] < 0.5].sort_values("rank")
    if len(doubt):
        names = "; ".join(
            f"{r[name_col]} ({int(r['mdrc'])}, rang {int(r['rank'])}, p={r['p_top']:.3f})" for _, r in doubt.iterrows()
        )
        notes.append(f"In de top {n} maar in minder dan de helft van de varianten: {names}.")
    near = ranking[ranking["near_miss"].astype(bool)].sort_values("rank")
    if len(near):
        names = "; ".join(
            f"{r[name_col]} ({int(r['mdrc'])}, rang {int(r['rank'])}, p={r['p_top']:.3f})" for _, r in near.iterrows()
        )
        notes.append(f"Net buiten de top {n}, maar in de meeste varianten erbij: {names}.")
    return notes
