"""Deprivation per wijk: standardised components combined with fixed weights or with PCA weights."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geoplanner.core.errors import DataError, ModelError
from geoplanner.need.params import DEPRIVATION_COMPONENTS, NeedParams

__all__ = ["zscore", "PcaWeights", "pca_weights", "composite", "deprivation_index"]


def zscore(values: pd.Series) -> pd.Series:
    """Standardise over the values given (population SD); a constant column gives zeros."""
    sd = values.std(ddof=0)
    if not np.isfinite(sd) or sd == 0:
        return values * 0.0
    return (values - values.mean()) / sd


@dataclass(frozen=True)
class PcaWeights:
    """Deprivation weights from a principal-component analysis of the standardised components.

    Attributes
    ----------
    weights
        Component key -> weight (the squared loadings on the first component; they sum to 1).
    loadings
        Indexed by component key: one column per principal component (``pc1``, ``pc2``, …), oriented so
        that the first component grows with deprivation.
    explained_variance_ratio
        Share of the total variance each principal component explains.
    n_wijken
        Number of wijken with every component, on which the analysis ran.
    """

    weights: dict[str, float]
    loadings: pd.DataFrame
    explained_variance_ratio: tuple[float, ...]
    n_wijken: int

    def table(self) -> pd.DataFrame:
        """One row per component: component, column, weight, loadings; then one row per PC's explained variance."""
        rows = self.loadings.copy()
        rows.insert(0, "column", [DEPRIVATION_COMPONENTS[k][0] for k in rows.index])
        rows.insert(1, "weight", pd.Series(self.weights))
        rows.index.name = "component"
        evr = pd.DataFrame(
            [dict(zip(rows.columns[2:], self.explained_variance_ratio, strict=True))],
            index=pd.Index(["explained_variance_ratio"], name="component"),
        )
        return pd.concat([rows, evr]).reset_index().assign(n_wijken=self.n_wijken)


def pca_weights(z: pd.DataFrame) -> PcaWeights:
    """Derive deprivation weights from a PCA of standardised components.

    The first principal component of the signed z-scores is the direction along which the components
    move together — here, deprivation. Its squared loadings, which sum to 1, become the weights (the
    usual rule of the OECD/JRC handbook on composite indicators). The analysis runs on the wijken that
    have every component; the result does not depend on row order or on a random state.

    Parameters
    ----------
    z
        One column per component (key of :data:`DEPRIVATION_COMPONENTS`), signed so that higher is more
        deprived, standardised; one row per wijk.

    Returns
    -------
    PcaWeights

    Raises
    ------
    ModelError
        With fewer complete wijken than components.
    """
    complete = z.dropna().sort_index()
    keys = list(z.columns)
    if len(keys) == 1:
        one = pd.DataFrame({"pc1": [1.0]}, index=keys)
        return PcaWeights({keys[0]: 1.0}, one, (1.0,), len(complete))
    if len(complete) <= len(keys):
        raise ModelError(
            f"PCA needs more than {len(keys)} wijken with every deprivation component ({', '.join(keys)}); "
            f"{len(complete)} of the {len(z)} wijken have them",
            column="deprivation_weights",
            hint="give fewer components a weight above 0, or lower min_population to rank more wijken",
        )
    # PCA by a singular value decomposition of the centred data (what scikit-learn's full solver does;
    # numpy alone spares the run the ~3 s import of scikit-learn; the tests compare the two).
    x = complete.to_numpy(dtype=float)
    x = x - x.mean(axis=0)
    _u, s, comps = np.linalg.svd(x, full_matrices=False)
    explained = s**2 / (s**2).sum()
    # orient each component so its loadings sum to a positive number (PC1: more deprived = higher)
    comps *= np.where(comps.sum(axis=1) < 0, -1.0, 1.0)[:, None]
    loadings = pd.DataFrame(comps.T, index=keys, columns=[f"pc{i + 1}" for i in range(comps.shape[0])])
    first = loadings["pc1"]
    weights = (first**2 / (first**2).sum()).to_dict()
    return PcaWeights(
        weights={k: float(v) for k, v in weights.items()},
        loadings=loadings,
        explained_variance_ratio=tuple(float(v) for v in explained),
        n_wijken=len(complete),
    )


def composite(z: pd.DataFrame, weights: dict[str, float], min_components: int) -> pd.Series:
    """Return the weighted mean of the components a wijk has; NaN below ``min_components``."""
    w = pd.Series(weights).reindex(z.columns).fillna(0.0)
    present = z.notna()
    weight_sum = present.mul(w, axis=1).sum(axis=1)
    composite = z.fillna(0).mul(w, axis=1).sum(axis=1) / weight_sum.where(weight_sum > 0)
    composite[present.sum(axis=1) < min_components] = np.nan
    return composite


def deprivation_index(
    indicators: pd.DataFrame, params: NeedParams, *, eligible: pd.Index, kansarmoede: pd.Series | None = None
) -> pd.DataFrame:
    """Build the deprivation index of the wijken.

    Each component is standardised (z-score over the eligible wijken), signed so that higher
    means more deprived (income is inverted), and averaged over the components a wijk has, with
    the configured weights (``deprivation_by_weights``) and with weights from :func:`pca_weights`
    (``deprivation_by_pca``); ``deprivation`` is the one ``params.deprivation_method`` chooses. A real
    kansarmoede-index, where supplied, replaces both composites (standardised the same way).

    Parameters
    ----------
    indicators
        :func:`geoplanner.inputs.figures.load_wijk_indicators` output, with ``bimd2011_score`` per wijk joined on
        when the BIMD component is used.
    params
        Weights, method and the minimum number of components.
    eligible
        mdrc codes the standardisation runs over (the rankable wijken).
    kansarmoede
        Optional real kansarmoede-index per mdrc.

    Returns
    -------
    pandas.DataFrame
        Indexed by mdrc: ``z_<component>`` per component, deprivation_by_weights, deprivation_by_pca,
        deprivation (the index, z units), deprivation_method, deprivation_source ('composite' |
        'kansarmoede_index'), n_components, missing_components.
    """
    ind = indicators.set_index("mdrc").reindex(eligible)
    out = pd.DataFrame(index=eligible)
    weights = {k: w for k, w in params.deprivation_weights.items() if w > 0}
    zs = {}
    for key in weights:
        column, sign = DEPRIVATION_COMPONENTS[key]
        if column not in ind.columns:
            raise DataError(f"deprivation component '{key}' needs column {column!r}", column=column)
        zs[key] = sign * zscore(ind[column])
        out[f"z_{key}"] = zs[key]
    z = pd.DataFrame(zs, index=eligible)
    present = z.notna()
    out["n_components"] = present.sum(axis=1)
    out["missing_components"] = present.apply(lambda r: ",".join(k for k, ok in r.items() if not ok), axis=1)
    out["deprivation_by_weights"] = composite(z, weights, params.min_components)
    out["deprivation_by_pca"] = composite(z, pca_weights(z).weights, params.min_components) if len(z) else np.nan
    out["deprivation_source"] = "composite"
    if kansarmoede is not None and kansarmoede.reindex(eligible).notna().any():
        k = kansarmoede.reindex(eligible)
        has = k.notna()
        for col in ("deprivation_by_weights", "deprivation_by_pca"):
            out.loc[has, col] = zscore(k[has])
        out.loc[has, "deprivation_source"] = "kansarmoede_index"
    out["deprivation"] = out[f"deprivation_by_{params.deprivation_method}"]
    out["deprivation_method"] = params.deprivation_method
    return out
