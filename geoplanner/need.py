"""Need: young children per sector, deprivation per wijk, and the priority wijken.

Young-child counts below commune level are not public, so they are *estimated* here by a
dasymetric method, stated in full so anyone can check it:

1. **Residential weight of a street.** Every OSM street that fronts housing (highway
   residential, living_street, unclassified, tertiary, secondary, primary, pedestrian) gets
   ``weight = length (m) × GHSL population density of the 1 km cell at its midpoint``. The
   street length says where houses are inside a cell; GHSL says how densely people live there.
2. **Sector weight** = the sum of the weights of the street pieces inside the sector.
3. **Sector estimate** = commune count (Statbel, 1 Jan 2020) × sector weight / the
   commune's total weight. Commune totals are therefore preserved exactly. This applies to
   children aged 0 (≈ births of 2019), aged 0–2, and the total population.

A consequence worth knowing: with estimates alone, the *birth rate* of a wijk only varies
between communes (all counts of a commune are spread by the same weight). Real sector counts
(`geoplanner indicators import`) replace the estimates and every figure says which it is.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
from pyproj import Transformer

from geoplanner import settings
from geoplanner.bundle import dataset_path
from geoplanner.errors import ConfigError, DataError
from geoplanner.lgn import lgn_of_commune, lgn_table
from geoplanner.load import load_commune_population, load_region, load_sectors, load_wijk_indicators, load_wijken

__all__ = [
    "FRONTAGE_HIGHWAYS",
    "DEPRIVATION_COMPONENTS",
    "NeedParams",
    "residential_lines",
    "sector_pieces",
    "sector_need",
    "wijk_need",
    "deprivation_index",
    "rank_wijken",
    "Need",
    "build_need",
    "ESTIMATE_NOTE",
]

ESTIMATE_NOTE = (
    "Geboorten en 0-2-jarigen per sector/wijk zijn SCHATTINGEN: gemeentecijfers (Statbel, 1/1/2020) verdeeld "
    "volgens woonstraatlengte × GHSL-bevolkingsdichtheid; laad echte cijfers met `geoplanner indicators import`."
)

#: OSM highway values along which people live (used for the residential weight).
FRONTAGE_HIGHWAYS = (
    "residential",
    "living_street",
    "unclassified",
    "tertiary",
    "secondary",
    "primary",
    "pedestrian",
)

#: Deprivation components: column of the wijk indicator table -> sign (+1: more is more deprived).
DEPRIVATION_COMPONENTS: dict[str, tuple[str, int]] = {
    "bim": ("bim_beneficiaries_share_pct_2024", +1),
    "cpas": ("cpas_ris_beneficiaries_share_pct_2023", +1),
    "unemployment": ("unemployment_rate_pct_2023", +1),
    "income": ("median_equivalised_income_after_tax_eur_2023", -1),
}

ESTIMATED = "estimated"
OBSERVED = "observed"


@dataclass(frozen=True)
class NeedParams:
    """Parameters of the deprivation index and the priority score.

    Attributes
    ----------
    w_birth_rate, w_births, w_deprivation
        Weights of the standardised components of the priority score. They need not sum to 1;
        each wijk's contributions are reported so the effect of a weight is visible.
    deprivation_weights
        Weights of the deprivation components (keys of :data:`DEPRIVATION_COMPONENTS`).
    min_population
        Wijken with fewer (estimated) inhabitants are not ranked.
    min_components
        A wijk needs at least this many deprivation components to get an index.
    top_n
        Number of priority wijken.
    """

    w_birth_rate: float = 0.35
    w_births: float = 0.15
    w_deprivation: float = 0.5
    deprivation_weights: dict[str, float] = field(
        default_factory=lambda: {"bim": 0.25, "cpas": 0.25, "unemployment": 0.25, "income": 0.25}
    )
    min_population: float = 1000.0
    min_components: int = 3
    top_n: int = 21

    def __post_init__(self) -> None:
        unknown = set(self.deprivation_weights) - set(DEPRIVATION_COMPONENTS)
        if unknown:
            raise ConfigError(
                f"unknown deprivation component(s) {sorted(unknown)}",
                column="deprivation_weights",
                hint=f"known: {', '.join(DEPRIVATION_COMPONENTS)}",
            )
        for name in ("w_birth_rate", "w_births", "w_deprivation", "min_population"):
            if getattr(self, name) < 0:
                raise ConfigError("must not be negative", column=name)
        if any(v < 0 for v in self.deprivation_weights.values()) or not any(self.deprivation_weights.values()):
            raise ConfigError("weights must be >= 0 and not all 0", column="deprivation_weights")
        if self.top_n < 1:
            raise ConfigError("must be at least 1", column="top_n")
        if not 1 <= self.min_components <= len(self.deprivation_weights):
            raise ConfigError("must be between 1 and the number of components", column="min_components")

    @classmethod
    def from_toml(cls, path: str | Path) -> NeedParams:
        """Read parameters from a TOML file (keys as the attributes; unknown keys are errors)."""
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError("file not found", path=path) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"invalid TOML: {exc}", path=path) from None
        known = {f.name: f for f in fields(cls)}
        for key, value in raw.items():
            if key not in known:
                raise ConfigError(f"unknown key '{key}'", path=path, column=key, hint=f"known: {', '.join(known)}")
            expected = dict if key == "deprivation_weights" else (int,) if key == "top_n" else (int, float)
            if isinstance(value, bool) or not isinstance(value, expected):
                raise ConfigError(f"wrong type {type(value).__name__}", path=path, column=key)
        try:
            return cls(**raw)
        except ConfigError as exc:
            raise ConfigError(exc.message, path=path, column=exc.column, hint=exc.hint) from None

    def as_dict(self) -> dict:
        """Return the parameters as a plain dict (for manifests)."""
        return asdict(self)


def residential_lines(data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Return the streets that front housing, with their residential weight.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:31370 LineStrings clipped to the region; columns highway, length_m, density
        (GHSL persons/km² of the cell at the midpoint), weight (= length_m × density / 1000).
    """
    pbf = dataset_path("osm_pbf", data_dir)
    try:
        lines = pyogrio.read_dataframe(pbf, layer="lines", columns=["highway"])
    except Exception as exc:
        raise DataError(f"cannot read OSM lines: {exc}", path=pbf) from None
    lines = lines[lines["highway"].isin(FRONTAGE_HIGHWAYS)].to_crs(settings.CRS)
    lines = gpd.clip(lines, load_region(data_dir)).explode(ignore_index=True)
    lines = lines[lines.geom_type == "LineString"].copy()
    lines["length_m"] = lines.length
    lines["density"] = _ghsl_density(lines.geometry.interpolate(0.5, normalized=True), data_dir)
    lines["weight"] = lines["length_m"] * lines["density"] / 1000.0
    return lines.sort_values(["highway", "length_m"], ignore_index=True)[
        ["highway", "length_m", "density", "weight", "geometry"]
    ]


def _ghsl_density(points: gpd.GeoSeries, data_dir: Path | None) -> np.ndarray:
    """Sample the GHSL 1 km grid (persons per km²) at points given in EPSG:31370; NaN -> 0."""
    path = dataset_path("ghsl_population", data_dir)
    with rasterio.open(path) as src:
        grid = src.read(1, masked=False).astype(float)
        to_grid = Transformer.from_crs(settings.CRS, src.crs, always_xy=True)
        gx, gy = to_grid.transform(points.x.to_numpy(), points.y.to_numpy())
        rows, cols = rasterio.transform.rowcol(src.transform, gx, gy)
    rows, cols = np.asarray(rows), np.asarray(cols)
    ok = (rows >= 0) & (rows < grid.shape[0]) & (cols >= 0) & (cols < grid.shape[1])
    out = np.zeros(len(points))
    out[ok] = grid[rows[ok], cols[ok]]
    return np.nan_to_num(out, nan=0.0)


def sector_pieces(sectors: gpd.GeoDataFrame, lines: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Cut the residential streets by sector: the pieces the residential weight is counted on.

    Parameters
    ----------
    sectors
        Sector polygons with ``cd_sector`` (EPSG:31370).
    lines
        :func:`residential_lines` output.

    Returns
    -------
    geopandas.GeoDataFrame
        One LineString piece per row: cd_sector, weight (the piece's share of its street's weight,
        i.e. piece length × density / 1000), geometry. The need model sums the weights per sector;
        the accessibility engine puts a demand point on each piece.
    """
    src = lines[["density", "geometry"]].to_crs(settings.CRS).reset_index(drop=True)
    src["density"] = np.nan_to_num(src["density"].to_numpy(dtype=float), nan=0.0)
    pieces = gpd.overlay(src, sectors[["cd_sector", "geometry"]], how="intersection", keep_geom_type=True)
    pieces = pieces.explode(ignore_index=True)
    pieces = pieces[pieces.length > 0].copy()
    pieces["weight"] = pieces.length * pieces["density"] / 1000.0
    return pieces[["cd_sector", "weight", "geometry"]].sort_values("cd_sector", kind="stable", ignore_index=True)


def _sector_weights(sectors: gpd.GeoDataFrame, lines: gpd.GeoDataFrame) -> pd.Series:
    """Sum, per sector, the weight of the street pieces inside it."""
    pieces = sector_pieces(sectors, lines)
    return pieces.groupby("cd_sector")["weight"].sum().reindex(sectors["cd_sector"], fill_value=0.0)


def sector_need(
    data_dir: Path | None = None,
    *,
    observed: pd.DataFrame | None = None,
    lines: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Estimate young children and births per statistical sector.

    Parameters
    ----------
    data_dir
        Data folder.
    observed
        Real figures indexed by 2022 ``cd_sector`` with any of the columns ``births``,
        ``pop_0_2``, ``pop_total``, ``kansarmoede_index``. Where given they replace the estimate
        and the row is marked ``observed``.
    lines
        Precomputed :func:`residential_lines` (to avoid reading OSM twice).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per sector: cd_sector, commune_nis, mdrc, lgn, res_weight, pop_total, births,
        pop_0_2, kansarmoede_index (NaN unless observed) and ``<figure>_status``
        ('estimated'|'observed') for each figure; geometry.
    """
    sectors = load_sectors(data_dir)
    communes = load_commune_population(data_dir).set_index("commune_nis")
    lines = residential_lines(data_dir) if lines is None else lines
    weight = _sector_weights(sectors, lines).to_numpy()
    out = sectors[["cd_sector", "commune_nis", "mdrc", "geometry"]].copy()
    out["lgn"] = out["commune_nis"].map(lgn_of_commune)
    out["res_weight"] = weight
    commune_weight = out.groupby("commune_nis")["res_weight"].transform("sum").to_numpy()
    if (commune_weight <= 0).any():
        bad = out.loc[commune_weight <= 0, "commune_nis"].iloc[0]
        raise DataError(f"commune {bad} has no residential street in the OSM data; cannot spread its counts")
    share = weight / commune_weight
    for column, source in (("pop_total", "pop_total"), ("births", "pop_age0"), ("pop_0_2", "pop_0_2")):
        out[column] = out["commune_nis"].map(communes[source]).to_numpy() * share
        out[f"{column}_status"] = ESTIMATED
    out["kansarmoede_index"] = np.nan
    out["kansarmoede_index_status"] = "missing"
    if observed is not None and len(observed):
        unknown = sorted(set(observed.index) - set(out["cd_sector"]))
        if unknown:
            raise DataError(f"{len(unknown)} observed sector code(s) not in the 2022 sectors, e.g. {unknown[0]}")
        idx = out.set_index("cd_sector").index
        for column in ("pop_total", "births", "pop_0_2", "kansarmoede_index"):
            if column not in observed.columns:
                continue
            values = observed[column].reindex(idx)
            has = values.notna().to_numpy()
            out.loc[has, column] = values.to_numpy()[has]
            out.loc[has, f"{column}_status"] = OBSERVED
    return gpd.GeoDataFrame(out, geometry="geometry", crs=settings.CRS)


def _status(series: pd.Series) -> str:
    values = set(series)
    if values == {OBSERVED}:
        return OBSERVED
    if OBSERVED in values:
        return "mixed"
    return ESTIMATED


def wijk_need(sectors: pd.DataFrame, observed_wijk: pd.DataFrame | None = None) -> pd.DataFrame:
    """Aggregate sector figures to wijken.

    Parameters
    ----------
    sectors
        Output of :func:`sector_need`.
    observed_wijk
        Real figures per wijk (indexed by mdrc), e.g. from sector codes of 2025 that only map to
        wijken. Counts replace the aggregate only where they cover every sector of the wijk
        (columns ``n_sectors`` and ``n_sectors_total``, when present, must agree); the
        kansarmoede-index is used wherever given.

    Returns
    -------
    pandas.DataFrame
        Indexed by mdrc: pop_total, births, pop_0_2, birth_rate_permille, kansarmoede_index
        (pop_0_2-weighted mean of observed sectors, else NaN), each count's status
        ('estimated', 'observed' or 'mixed'), communes ('|'-joined NIS codes), commune_nis (the
        commune holding most of the wijk's young children) and lgn.
    """
    g = sectors.groupby("mdrc")
    out = g[["pop_total", "births", "pop_0_2"]].sum()
    for column in ("pop_total", "births", "pop_0_2"):
        out[f"{column}_status"] = g[f"{column}_status"].agg(_status)
    out["birth_rate_permille"] = np.where(
        out["pop_total"] > 0, 1000 * out["births"] / out["pop_total"].where(out["pop_total"] > 0), np.nan
    )
    ki = sectors.dropna(subset=["kansarmoede_index"])
    if len(ki):
        weighted = (ki["kansarmoede_index"] * ki["pop_0_2"]).groupby(ki["mdrc"]).sum()
        out["kansarmoede_index"] = weighted / ki.groupby("mdrc")["pop_0_2"].sum()
    else:
        out["kansarmoede_index"] = np.nan
    if observed_wijk is not None and len(observed_wijk):
        _apply_observed_wijk(out, observed_wijk)
    by_commune = sectors.groupby(["mdrc", "commune_nis"])["pop_0_2"].sum().reset_index()
    by_commune = by_commune.sort_values(["mdrc", "pop_0_2", "commune_nis"], ascending=[True, False, True])
    out["commune_nis"] = by_commune.drop_duplicates("mdrc").set_index("mdrc")["commune_nis"]
    out["communes"] = g["commune_nis"].agg(lambda s: "|".join(str(v) for v in sorted(set(s))))
    out["lgn"] = out["commune_nis"].map(lgn_of_commune)
    return out


def _apply_observed_wijk(out: pd.DataFrame, observed: pd.DataFrame) -> None:
    """Replace wijk aggregates by observed wijk figures in place (see :func:`wijk_need`)."""
    obs = observed.reindex(out.index)
    complete = pd.Series(True, index=out.index)
    if {"n_sectors", "n_sectors_total"} <= set(obs.columns):
        complete = obs["n_sectors"] == obs["n_sectors_total"]
    for column in ("pop_total", "births", "pop_0_2"):
        if column not in obs.columns:
            continue
        has = obs[column].notna() & complete
        out.loc[has, column] = obs.loc[has, column]
        out.loc[has, f"{column}_status"] = OBSERVED
    if "kansarmoede_index" in obs.columns:
        has = obs["kansarmoede_index"].notna()
        out.loc[has, "kansarmoede_index"] = obs.loc[has, "kansarmoede_index"]
    out["birth_rate_permille"] = 1000 * out["births"] / out["pop_total"].where(out["pop_total"] > 0)


def _zscore(values: pd.Series) -> pd.Series:
    sd = values.std(ddof=0)
    if not np.isfinite(sd) or sd == 0:
        return values * 0.0
    return (values - values.mean()) / sd


def deprivation_index(
    indicators: pd.DataFrame, params: NeedParams, *, eligible: pd.Index, kansarmoede: pd.Series | None = None
) -> pd.DataFrame:
    """Build the deprivation index of the wijken.

    Each component is standardised (z-score over the eligible wijken), signed so that higher
    means more deprived (income is inverted), and averaged with the configured weights over
    the components a wijk has. A real kansarmoede-index, where supplied, replaces the
    composite (standardised the same way).

    Parameters
    ----------
    indicators
        :func:`geoplanner.load.load_wijk_indicators` output.
    params
        Weights and the minimum number of components.
    eligible
        mdrc codes the standardisation runs over (the rankable wijken).
    kansarmoede
        Optional real kansarmoede-index per mdrc.

    Returns
    -------
    pandas.DataFrame
        Indexed by mdrc: ``z_<component>`` per component, deprivation (the index, z units),
        deprivation_source ('composite' | 'kansarmoede_index'), n_components, missing_components.
    """
    ind = indicators.set_index("mdrc").reindex(eligible)
    out = pd.DataFrame(index=eligible)
    weights = {k: w for k, w in params.deprivation_weights.items() if w > 0}
    zs = {}
    for key in weights:
        column, sign = DEPRIVATION_COMPONENTS[key]
        zs[key] = sign * _zscore(ind[column])
        out[f"z_{key}"] = zs[key]
    z = pd.DataFrame(zs)
    w = pd.Series(weights)
    present = z.notna()
    weight_sum = present.mul(w, axis=1).sum(axis=1)
    out["n_components"] = present.sum(axis=1)
    out["missing_components"] = present.apply(lambda r: ",".join(k for k, ok in r.items() if not ok), axis=1)
    composite = z.fillna(0).mul(w, axis=1).sum(axis=1) / weight_sum.where(weight_sum > 0)
    composite[out["n_components"] < params.min_components] = np.nan
    out["deprivation"] = composite
    out["deprivation_source"] = "composite"
    if kansarmoede is not None and kansarmoede.reindex(eligible).notna().any():
        k = kansarmoede.reindex(eligible)
        has = k.notna()
        out.loc[has, "deprivation"] = _zscore(k[has])
        out.loc[has, "deprivation_source"] = "kansarmoede_index"
    return out


def rank_wijken(
    data_dir: Path | None = None,
    params: NeedParams | None = None,
    *,
    sectors: pd.DataFrame | None = None,
    observed_wijk: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Rank the residential wijken and select the priority wijken.

    The score is ``w_birth_rate·z(birth rate) + w_births·z(births) + w_deprivation·deprivation``,
    with z-scores over the eligible wijken (residential codes 1–118 with at least
    ``min_population`` inhabitants and a deprivation value). Ties are broken by the wijk code,
    so the ranking is deterministic.

    Parameters
    ----------
    data_dir
        Data folder.
    params
        :class:`NeedParams` (defaults if omitted).
    sectors
        Precomputed :func:`sector_need` output (it carries any observed sector figures).
    observed_wijk
        Observed figures per wijk (see :func:`wijk_need`).

    Returns
    -------
    geopandas.GeoDataFrame
        All 145 wijken (EPSG:31370), sorted by rank then mdrc: mdrc, name_nl, name_fr,
        district_type, communes, commune_names, lgn, lgn_name, pop_total, births, pop_0_2,
        birth_rate_permille with their status, the deprivation columns, ``contrib_*`` (each
        component's share of the score), score, rank (NaN if not ranked), priority (bool),
        excluded_reason.
    """
    params = params or NeedParams()
    sectors = sector_need(data_dir) if sectors is None else sectors
    wijken = load_wijken(data_dir).set_index("mdrc")
    need = wijk_need(sectors, observed_wijk).reindex(wijken.index)
    indicators = load_wijk_indicators(data_dir)
    out = wijken.join(need)
    # IBSA's own mixed-case names read better than UrbAdm's upper case; fall back to the latter.
    proper = indicators.set_index("mdrc")[["name_nl", "name_fr"]].reindex(out.index)
    for col in ("name_nl", "name_fr"):
        out[col] = proper[col].fillna(out[col])
    reason = pd.Series("", index=out.index)
    reason[out["district_type"] != "residential"] = "geen woonwijk (" + out["district_type"] + ")"
    small = (reason == "") & (out["pop_total"].fillna(0) < params.min_population)
    reason[small] = f"minder dan {params.min_population:.0f} inwoners (geschat)"
    eligible = out.index[reason == ""]
    dep = deprivation_index(indicators, params, eligible=eligible, kansarmoede=need["kansarmoede_index"])
    out = out.join(dep)
    no_dep = (reason == "") & out["deprivation"].isna()
    reason[no_dep] = "te weinig indicatoren voor de kansarmoede-index"
    eligible = out.index[reason == ""]
    z_rate = _zscore(out.loc[eligible, "birth_rate_permille"])
    z_births = _zscore(out.loc[eligible, "births"])
    out["z_birth_rate"] = z_rate
    out["z_births"] = z_births
    out["contrib_birth_rate"] = params.w_birth_rate * z_rate
    out["contrib_births"] = params.w_births * z_births
    out["contrib_deprivation"] = params.w_deprivation * out.loc[eligible, "deprivation"]
    out["score"] = out[["contrib_birth_rate", "contrib_births", "contrib_deprivation"]].sum(axis=1, min_count=3)
    out["excluded_reason"] = reason
    ranked = out.loc[eligible].reset_index().sort_values(["score", "mdrc"], ascending=[False, True])
    out["rank"] = pd.Series(np.arange(1, len(ranked) + 1), index=ranked["mdrc"].to_numpy()).reindex(out.index)
    out["priority"] = out["rank"].le(params.top_n).fillna(False).astype(bool)
    names = lgn_table().set_index("commune_nis")
    out["commune_names"] = (
        out["communes"]
        .fillna("")
        .map(lambda s: ", ".join(names.loc[int(c), "commune_name_nl"] for c in s.split("|") if c))
    )
    lgn_names = names.drop_duplicates("lgn").set_index("lgn")["lgn_name"]
    out["lgn_name"] = out["lgn"].map(lgn_names)
    out = out.reset_index().sort_values(["rank", "mdrc"], na_position="last", ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=settings.CRS)


@dataclass(frozen=True)
class Need:
    """Everything the need step produces, shared by the later steps (coverage, siting, maps).

    Attributes
    ----------
    sectors
        :func:`sector_need` output (observed figures applied).
    ranking
        :func:`rank_wijken` output.
    lines
        :func:`residential_lines` output (the residential weight, reused for demand points).
    params
        The parameters used.
    inputs
        Files read beyond the bundle: the user's sector figures, when imported.
    notes
        Caveats that must travel with every output (estimates, observed figures used).
    """

    sectors: gpd.GeoDataFrame
    ranking: gpd.GeoDataFrame
    lines: gpd.GeoDataFrame
    params: NeedParams
    inputs: tuple[Path, ...]
    notes: tuple[str, ...]


def build_need(data_dir: Path | None = None, params: NeedParams | None = None) -> Need:
    """Run the whole need step: residential weight, sector figures, wijk ranking.

    The user's own sector figures (``geoplanner indicators import``) are picked up here, once,
    so every later step sees the same observed-or-estimated figures.

    Parameters
    ----------
    data_dir
        Data folder.
    params
        Need and score parameters (defaults if omitted).

    Returns
    -------
    Need
    """
    from geoplanner.user_data import load_sector_figures

    params = params or NeedParams()
    figures = load_sector_figures(data_dir)
    lines = residential_lines(data_dir)
    observed = figures.by_sector if figures is not None else None
    observed_wijk = figures.by_wijk if figures is not None else None
    sectors = sector_need(data_dir, observed=observed, lines=lines)
    ranking = rank_wijken(data_dir, params, sectors=sectors, observed_wijk=observed_wijk)
    notes = []
    if (sectors["pop_0_2_status"] == ESTIMATED).any():
        notes.append(ESTIMATE_NOTE)
    if figures is not None:
        n_sec = int(sectors.filter(like="_status").isin([OBSERVED]).any(axis=1).sum())
        n_wijk = int(ranking.filter(like="_status").isin([OBSERVED, "mixed"]).any(axis=1).sum())
        notes.append(
            f"Echte cijfers van de gebruiker ({figures.source.name}) gebruikt voor {n_sec} sectoren en "
            f"{n_wijk} wijken; zie de kolommen *_status (observed/estimated/mixed)."
        )
        notes.extend(figures.warnings)
    inputs = (figures.source,) if figures is not None else ()
    return Need(sectors, ranking, lines, params, inputs, tuple(notes))
