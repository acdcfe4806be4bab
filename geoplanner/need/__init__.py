"""Need: young children per sector, deprivation per sector and wijk, and the priority wijken.

**Young children and births per sector.** Three kinds of figure, each marked in a ``*_status`` column:

* ``observed`` — a figure the user imported (``geoplanner indicators import``), and the residents per
  sector (Statbel, 1 January 2019: ``pop_total``), which are counts.
* ``derived`` — computed from the sector's *observed age structure*, for the 675 sectors of the age-band
  file (residents per sector in 5-year bands, probably 1 January 2022):

  1. the sector's 0–4 share in 2022, ``s = pop_0_4 / pop_total_2022``;
  2. applied to its 2019 residents: ``young = pop_total_2019 × s`` (0–4-year-olds at the size the sector
     had in 2019, the year of ``pop_total``, so a sector that grew between 2019 and 2022 is not given
     the children of its new residents while its birth rate is divided by its old population);
  3. times the commune's ratios from the single-year table of 1 January 2020 (Statbel):
     ``births = young × age0 / (0–4)`` and ``pop_0_2 = young × (0–2) / (0–4)``;
  4. **reconciled**: within each commune every model-made figure (derived and estimated) is scaled by
     one factor so that the commune keeps its published 2020 totals — children aged 0 (≈ the births
     of 2019) and aged 0–2. These two counts are what "the commune totals" means here; they are kept
     exactly (tested). The factor is reported per sector (``reconcile_*``; the same for both counts): about
     the ratio between the commune's 2020 0–4 count and the 0–4 count the 2022 structure implies at 2019
     size — 1.03 to 1.12 on the public data, as births fell between the two dates.

  Years, in short: structure 2022, size 2019, level 2020. The 2019 birth cohort (aged 0 in 2020) and
  the 2017–2019 cohorts (aged 0–2 in 2020) are part of the children aged 0–4 in 2022, which is why the
  0–4 band is the right carrier. Birth rates (births / 2019 residents) now differ *within* communes,
  in proportion to each sector's 0–4 share.
* ``estimated`` — only for the 49 small sectors the age file does not hold (304 residents in 2019 between
  them): the commune's 2020 rate per resident times the sector's observed 2019 residents, reconciled
  with the rest. (The street-length × GHSL weight of earlier versions gave these sectors 1,121 children
  aged 0–2; it is still computed, as ``res_weight``, and still spreads a sector's children over its
  streets for the walking-time model.)

A user's imported figure replaces the derived or estimated one as is (it is not reconciled).

**Uncertainty of derived and estimated counts** (``births_cv``, ``pop_0_2_cv``: a coefficient of
variation, 0 for observed figures), used by :mod:`geoplanner.need.stability`:

* derived: ``cv² = cv_communes² + (1 − r) / (r · n)``, where ``r`` is the commune's ratio (age 0 or
  0–2 over 0–4), ``n`` the sector's observed 0–4 count and ``cv_communes`` the spread of that ratio
  between the 19 communes (6.4 % for age 0, 2.6 % for 0–2). The second term is the binomial spread of
  the share of one (or three) of five birth cohorts among ``n`` children: a sector with 100 children
  aged 0–4 has about 20 ± 4 aged 0.
* estimated: the resident-weighted root-mean-square gap between a sector's 0–4 share and its commune's,
  measured on the 675 sectors where both are known (19 % on the public data): how far the
  commune-average guess is off where it can be checked.

**Deprivation.** Per sector: the BIMD 2011 multiple-deprivation score (Sciensano; 2011 census) and
decile. Per wijk: the BIMD score averaged over the wijk's sectors weighted by their 2019 residents,
with the recent IBSA wijk indicators (BIM 2024, CPAS/OCMW 2023, unemployment 2023, median income 2023,
inverted), each standardised over the rankable wijken and combined either with fixed weights (equal by
default) or with weights from a principal-component analysis (:func:`pca_weights`). A real
kansarmoede-index, when supplied per sector, replaces the composite.
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

from geoplanner.core import settings
from geoplanner.core.errors import ConfigError, DataError
from geoplanner.inputs.areas import load_region, load_sectors, load_wijken
from geoplanner.inputs.bundle import dataset_path
from geoplanner.inputs.figures import (
    load_commune_age_shares,
    load_commune_population,
    load_sector_age_bands,
    load_sector_bimd,
    load_sector_population,
    load_wijk_indicators,
)
from geoplanner.inputs.lgn import lgn_of_commune, lgn_table

__all__ = [
    "FRONTAGE_HIGHWAYS",
    "DEPRIVATION_COMPONENTS",
    "DEPRIVATION_METHODS",
    "STATUSES",
    "OBSERVED",
    "DERIVED",
    "ESTIMATED",
    "MIXED",
    "IBSA_TOLERANCE",
    "NeedParams",
    "residential_lines",
    "sector_pieces",
    "derive_sector_counts",
    "uncertainty_basis",
    "sector_need",
    "combine_status",
    "status_mix",
    "wijk_need",
    "commune_check",
    "PcaWeights",
    "pca_weights",
    "deprivation_index",
    "rank_wijken",
    "Need",
    "build_need",
    "ESTIMATE_NOTE",
]

ESTIMATE_NOTE = (
    "Geboorten en 0-2-jarigen per sector zijn AFGELEID uit de waargenomen leeftijdsopbouw (0-4-jarigen per sector, "
    "~1/1/2022, op de bevolking van 1/1/2019) en afgestemd op de gemeentecijfers (Statbel, 1/1/2020); 49 kleine "
    "sectoren zonder leeftijdsgegevens zijn GESCHAT (gemeentegemiddelde × inwoners 2019). Geen echte telling: "
    "laad echte cijfers met `geoplanner indicators import`."
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

#: Deprivation components: key -> (column of the wijk table, sign; +1: more is more deprived).
#: ``bimd2011_score`` is the population-weighted mean of the sector BIMD scores (see :func:`wijk_need`);
#: the others come from the IBSA wijk indicator table.
DEPRIVATION_COMPONENTS: dict[str, tuple[str, int]] = {
    "bim": ("bim_beneficiaries_share_pct_2024", +1),
    "cpas": ("cpas_ris_beneficiaries_share_pct_2023", +1),
    "unemployment": ("unemployment_rate_pct_2023", +1),
    "income": ("median_equivalised_income_after_tax_eur_2023", -1),
    "bimd": ("bimd2011_score", +1),
}

#: How the deprivation components are combined: the configured weights, or weights from a PCA.
DEPRIVATION_METHODS = ("weights", "pca")

OBSERVED = "observed"
DERIVED = "derived"
ESTIMATED = "estimated"
MIXED = "mixed"
#: Figure statuses, strongest first.
STATUSES = (OBSERVED, DERIVED, ESTIMATED)

#: Largest relative gap allowed between the derived share of 0–2-year-olds of a commune (2020 count over
#: 2019 residents) and IBSA's share under 3 in 2021. Basis: the two count one birth year apart (born
#: 2017–2019 against 2018–2020) while Brussels births fell about 4 % a year (17,377 in 2018, 16,635 in 2019,
#: 14,744 in 2022), and their denominators are two years apart; the real gaps are +0.5 % to +10.5 %.
IBSA_TOLERANCE = 0.12


@dataclass(frozen=True)
class NeedParams:
    """Parameters of the deprivation index, the priority score and its stability analysis.

    Attributes
    ----------
    w_birth_rate, w_births, w_deprivation
        Weights of the standardised components of the priority score. They need not sum to 1;
        each wijk's contributions are reported so the effect of a weight is visible.
    deprivation_weights
        Weights of the deprivation components (keys of :data:`DEPRIVATION_COMPONENTS`); equal by default.
        With ``deprivation_method = "pca"`` only which components have a weight above 0 matters.
    deprivation_method
        ``"weights"`` (default: ``deprivation_weights``) or ``"pca"`` (weights from the first principal
        component of the standardised components, see :func:`pca_weights`).
    min_population
        Wijken with fewer inhabitants (1 Jan 2019) are not ranked.
    min_components
        A wijk needs at least this many deprivation components to get an index.
    top_n
        Number of priority wijken.
    stability_draws
        Number of plausible variations drawn by :func:`geoplanner.need.stability.rank_stability` (0: no
        stability analysis).
    stability_seed
        Seed of those draws (same seed, same result).
    stability_concentration
        Concentration of the Dirichlet distribution the score weights are drawn from, around the chosen
        ones: an assumption, not a measurement. At 30 the default weights 0.35 / 0.15 / 0.5 move by
        about ±0.09 / ±0.06 / ±0.09 (one standard deviation).
    stability_switch_method
        Draw the deprivation method (weights or PCA) at random in the variations.
    """

    w_birth_rate: float = 0.35
    w_births: float = 0.15
    w_deprivation: float = 0.5
    deprivation_weights: dict[str, float] = field(
        default_factory=lambda: {"bim": 0.2, "cpas": 0.2, "unemployment": 0.2, "income": 0.2, "bimd": 0.2}
    )
    deprivation_method: str = "weights"
    min_population: float = 1000.0
    min_components: int = 3
    top_n: int = 21
    stability_draws: int = 4000
    stability_seed: int = 20190101
    stability_concentration: float = 30.0
    stability_switch_method: bool = True

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
        if not any((self.w_birth_rate, self.w_births, self.w_deprivation)):
            raise ConfigError("the score weights must not all be 0", column="w_deprivation")
        if any(v < 0 for v in self.deprivation_weights.values()) or not any(self.deprivation_weights.values()):
            raise ConfigError("weights must be >= 0 and not all 0", column="deprivation_weights")
        if self.deprivation_method not in DEPRIVATION_METHODS:
            raise ConfigError(
                f"unknown method {self.deprivation_method!r}",
                column="deprivation_method",
                hint=f"one of {', '.join(DEPRIVATION_METHODS)}",
            )
        if self.top_n < 1:
            raise ConfigError("must be at least 1", column="top_n")
        if not 1 <= self.min_components <= len(self.deprivation_weights):
            raise ConfigError("must be between 1 and the number of components", column="min_components")
        if self.stability_draws < 0:
            raise ConfigError("must not be negative", column="stability_draws")
        if self.stability_concentration <= 0:
            raise ConfigError("must be above 0", column="stability_concentration")

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
            expected = _TOML_TYPES.get(key, (int, float))
            if (isinstance(value, bool) and expected is not bool) or not isinstance(value, expected):
                raise ConfigError(f"wrong type {type(value).__name__}", path=path, column=key)
        try:
            return cls(**raw)
        except ConfigError as exc:
            raise ConfigError(exc.message, path=path, column=exc.column, hint=exc.hint) from None

    def as_dict(self) -> dict:
        """Return the parameters as a plain dict (for manifests)."""
        return asdict(self)


_TOML_TYPES: dict[str, type | tuple[type, ...]] = {
    "deprivation_weights": dict,
    "deprivation_method": str,
    "top_n": int,
    "min_components": int,
    "stability_draws": int,
    "stability_seed": int,
    "stability_switch_method": bool,
}


def residential_lines(data_dir: Path | None = None, *, cache: bool = True) -> gpd.GeoDataFrame:
    """Return the streets that front housing, with their residential weight.

    Parameters
    ----------
    data_dir
        Data folder.
    cache
        Read and write ``<cache_dir>/need/residential_lines_<key>.npz``; the key is the sha256 of the OSM
        extract, the GHSL grid and the region outline, the highway values and :data:`_LINES_CACHE_VERSION`,
        so changed inputs or rules are rebuilt, never served stale.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:31370 LineStrings clipped to the region; columns highway, length_m, density
        (GHSL persons/km² of the cell at the midpoint), weight (= length_m × density / 1000).
    """
    target = _lines_cache_file(data_dir) if cache else None
    if target is not None and target.is_file():
        cached = _load_lines(target)
        if cached is not None:
            return cached
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
    lines = lines.sort_values(["highway", "length_m"], ignore_index=True)[
        ["highway", "length_m", "density", "weight", "geometry"]
    ]
    if target is not None:
        _save_lines(lines, target)
    return lines


#: Bumped whenever the residential-line rules or the cache layout change.
_LINES_CACHE_VERSION = 1


def _lines_cache_file(data_dir: Path | None) -> Path:
    import hashlib
    import json

    from geoplanner.outputs.files import sha256_file

    key = {k: sha256_file(dataset_path(k, data_dir)) for k in ("osm_pbf", "ghsl_population", "region_boundary")}
    key.update(highways=list(FRONTAGE_HIGHWAYS), version=_LINES_CACHE_VERSION)
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]
    return settings.cache_dir() / "need" / f"residential_lines_{digest}.npz"


def _save_lines(lines: gpd.GeoDataFrame, target: Path) -> None:
    import shapely

    from geoplanner.outputs.files import atomic_path

    _, coords, offsets = shapely.to_ragged_array(lines.geometry.to_numpy())
    with atomic_path(target) as tmp, open(tmp, "wb") as fh:  # np.savez on a path would add '.npz'
        np.savez(
            fh,
            highway=lines["highway"].to_numpy(dtype=str),
            length_m=lines["length_m"].to_numpy(dtype=float),
            density=lines["density"].to_numpy(dtype=float),
            weight=lines["weight"].to_numpy(dtype=float),
            coords=coords,
            offsets=offsets[0],
        )


def _load_lines(target: Path) -> gpd.GeoDataFrame | None:
    import shapely

    try:
        with np.load(target, allow_pickle=False) as z:
            geom = shapely.from_ragged_array(shapely.GeometryType.LINESTRING, z["coords"], (z["offsets"],))
            frame = {k: z[k] for k in ("highway", "length_m", "density", "weight")}
    except (OSError, KeyError, ValueError):
        return None  # unreadable or old cache: rebuild
    frame["highway"] = frame["highway"].astype(object)
    return gpd.GeoDataFrame(frame, geometry=geom, crs=settings.CRS)


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


def _sector_weights(sectors: gpd.GeoDataFrame, lines: gpd.GeoDataFrame, *, cache: bool = True) -> pd.Series:
    """Sum, per sector, the weight of the street pieces inside it.

    The overlay is cached under ``<cache_dir>/need/`` keyed by a hash of the sector codes and
    geometries and of the lines' geometry and density, so any change of either is recomputed.
    """
    import hashlib

    import shapely

    target = None
    if cache:
        h = hashlib.sha256(b"sector_weights/1")
        h.update("|".join(sectors["cd_sector"].astype(str)).encode())
        h.update(b"".join(shapely.to_wkb(sectors.geometry.to_numpy())))
        _, coords, offsets = shapely.to_ragged_array(lines.geometry.to_numpy())
        h.update(np.ascontiguousarray(coords).tobytes())
        h.update(np.ascontiguousarray(offsets[0]).tobytes())
        h.update(np.nan_to_num(lines["density"].to_numpy(dtype=float), nan=0.0).tobytes())
        target = settings.cache_dir() / "need" / f"sector_weights_{h.hexdigest()[:24]}.npz"
        if target.is_file():
            try:
                with np.load(target, allow_pickle=False) as z:
                    return pd.Series(z["weight"], index=pd.Index(z["cd_sector"].astype(object), name="cd_sector"))
            except (OSError, KeyError, ValueError):
                pass  # unreadable: recompute
    pieces = sector_pieces(sectors, lines)
    out = pieces.groupby("cd_sector")["weight"].sum().reindex(sectors["cd_sector"], fill_value=0.0)
    if target is not None:
        from geoplanner.outputs.files import atomic_path

        with atomic_path(target) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, cd_sector=out.index.to_numpy(dtype=str), weight=out.to_numpy(dtype=float))
    return out


def _uncertainty(
    share: np.ndarray, commune: np.ndarray, pop: np.ndarray, has_age: np.ndarray, young: np.ndarray
) -> float:
    """Resident-weighted RMS gap between sectors' 0–4 shares and their commune's (the estimate's error)."""
    ok = has_age & np.isfinite(share) & (pop > 0)
    if not ok.any():
        return float("nan")
    frame = pd.DataFrame({"c": commune[ok], "young": young[ok], "pop": pop[ok], "share": share[ok]})
    by = frame.groupby("c")[["young", "pop"]].transform("sum")
    commune_share = by["young"] / by["pop"]
    ratio = (frame["share"] / commune_share.where(commune_share > 0)).fillna(1.0)
    return float(np.sqrt(np.average((ratio - 1.0) ** 2, weights=frame["pop"])))


def uncertainty_basis(communes: pd.DataFrame, table: pd.DataFrame) -> dict[str, float]:
    """Return the figures the uncertainty of derived and estimated counts rests on.

    Parameters
    ----------
    communes
        Indexed by commune_nis: pop_age0, pop_0_2, pop_0_4 (Statbel, 1 Jan 2020).
    table
        Per sector: commune_nis, pop_total (2019), in_age_file, share_0_4_2022.

    Returns
    -------
    dict
        ``cv_communes_births`` / ``cv_communes_pop_0_2``: the between-commune coefficient of variation of
        the ratio age 0 / 0–4 and 0–2 / 0–4; ``cv_estimated``: the resident-weighted RMS relative gap between
        a sector's 0–4 share and its commune's (see the module docstring).
    """
    r0 = communes["pop_age0"] / communes["pop_0_4"]
    r02 = communes["pop_0_2"] / communes["pop_0_4"]
    pop = table["pop_total"].to_numpy(dtype=float)
    share = table["share_0_4_2022"].to_numpy(dtype=float)
    has_age = table["in_age_file"].to_numpy(dtype=bool)
    return {
        "cv_communes_births": float(r0.std(ddof=1) / r0.mean()),
        "cv_communes_pop_0_2": float(r02.std(ddof=1) / r02.mean()),
        "cv_estimated": _uncertainty(
            share, table["commune_nis"].to_numpy(), pop, has_age, np.nan_to_num(pop * share, nan=0.0)
        ),
    }


def derive_sector_counts(table: pd.DataFrame, communes: pd.DataFrame) -> pd.DataFrame:
    """Derive births and 0–2-year-olds per sector from its observed age structure (see the module docstring).

    Parameters
    ----------
    table
        One row per sector: cd_sector, commune_nis, pop_total (residents 1 Jan 2019), in_age_file (bool),
        pop_0_4_2022 and pop_total_2022 (the age-band file; NaN where ``in_age_file`` is False).
    communes
        Indexed by commune_nis: pop_total, pop_age0, pop_0_2, pop_0_4 (Statbel, 1 Jan 2020).

    Returns
    -------
    pandas.DataFrame
        Aligned with ``table``: share_0_4_2022, births and pop_0_2 with their ``*_status`` ('derived' where
        the age file holds the sector, else 'estimated'), ``*_cv`` (coefficient of variation) and
        ``reconcile_*`` (the commune's scaling factor). Per commune, births and pop_0_2 add up exactly to
        the 2020 counts of children aged 0 and 0–2.

    Raises
    ------
    DataError
        If a commune with children has no resident in any sector to carry them.
    """
    nis = table["commune_nis"].to_numpy()
    missing = sorted(set(nis) - set(communes.index))
    if missing:
        raise DataError(f"no 2020 commune figures for commune {missing[0]}", column="commune_nis")
    c = communes.reindex(nis)
    pop = table["pop_total"].to_numpy(dtype=float)
    has_age = table["in_age_file"].to_numpy(dtype=bool)
    n04 = table["pop_0_4_2022"].to_numpy(dtype=float)
    tot22 = table["pop_total_2022"].to_numpy(dtype=float)
    # a sector the age file holds with no resident in 2022 has an observed structure too: no children
    share = np.where(has_age, np.divide(n04, tot22, out=np.zeros_like(n04), where=tot22 > 0), np.nan)
    young = np.where(has_age, pop * np.nan_to_num(share, nan=0.0), 0.0)
    basis = uncertainty_basis(communes, table.assign(share_0_4_2022=share))
    out = pd.DataFrame({"share_0_4_2022": share}, index=table.index)
    status = np.where(has_age, DERIVED, ESTIMATED)
    for column, ref in (("births", "pop_age0"), ("pop_0_2", "pop_0_2")):
        ratio = (c[ref] / c["pop_0_4"]).to_numpy(dtype=float)  # age 0 (or 0–2) per child aged 0–4, 2020
        per_resident = (c[ref] / c["pop_total"]).to_numpy(dtype=float)
        raw = np.where(has_age, young * ratio, pop * per_resident)
        sums = pd.Series(raw).groupby(nis).transform("sum").to_numpy()
        target = c[ref].to_numpy(dtype=float)
        empty = (sums <= 0) & (target > 0)
        if empty.any():
            raise DataError(f"commune {nis[np.flatnonzero(empty)[0]]} has no resident to carry its {column}")
        factor = np.divide(target, sums, out=np.zeros_like(target), where=sums > 0)
        out[column] = raw * factor
        out[f"{column}_status"] = status
        cv_ratio = basis[f"cv_communes_{column}"]
        binomial = np.divide(1.0 - ratio, ratio * n04, out=np.zeros_like(n04), where=has_age & (n04 > 0))
        cv = np.where(has_age, np.sqrt(cv_ratio**2 + binomial), basis["cv_estimated"])
        out[f"{column}_cv"] = np.where(out[column] > 0, cv, 0.0)
        out[f"reconcile_{column}"] = factor
    return out


def sector_need(
    data_dir: Path | None = None,
    *,
    observed: pd.DataFrame | None = None,
    lines: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Young children, births, residents and deprivation per statistical sector.

    Parameters
    ----------
    data_dir
        Data folder.
    observed
        Real figures indexed by 2022 ``cd_sector`` with any of the columns ``births``,
        ``pop_0_2``, ``pop_total``, ``kansarmoede_index``. Where given they replace the
        derived or estimated figure (as is) and the row is marked ``observed``.
    lines
        Precomputed :func:`residential_lines` (to avoid reading OSM twice).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per sector: cd_sector, commune_nis, mdrc, lgn, res_weight (street length × GHSL, for the
        demand points), pop_total (residents 1 Jan 2019), in_age_file, pop_0_4_2022, pop_total_2022,
        share_0_4_2022, births, pop_0_2 (see :func:`derive_sector_counts`), bimd2011_score,
        bimd2011_decile, kansarmoede_index (NaN unless observed), ``<figure>_status``
        ('observed' | 'derived' | 'estimated'), ``births_cv``, ``pop_0_2_cv``, ``reconcile_*``; geometry.
    """
    sectors = load_sectors(data_dir)
    communes = load_commune_population(data_dir).set_index("commune_nis")
    residents = load_sector_population(data_dir).set_index("cd_sector")["pop_total"]
    ages = load_sector_age_bands(data_dir).set_index("cd_sector")
    bimd = load_sector_bimd(data_dir).set_index("cd_sector")
    lines = residential_lines(data_dir) if lines is None else lines
    out = sectors[["cd_sector", "commune_nis", "mdrc", "geometry"]].copy()
    out["lgn"] = out["commune_nis"].map(lgn_of_commune)
    out["res_weight"] = _sector_weights(sectors, lines).to_numpy()
    codes = out["cd_sector"]
    out["pop_total"] = codes.map(residents).to_numpy(dtype=float)
    out["pop_total_status"] = OBSERVED
    out["in_age_file"] = codes.map(ages["in_age_file"]).fillna(False).astype(bool).to_numpy()
    out["pop_0_4_2022"] = codes.map(ages["pop_0_4"]).to_numpy(dtype=float)
    out["pop_total_2022"] = codes.map(ages["pop_total"]).to_numpy(dtype=float)
    derived = derive_sector_counts(out, communes)
    for col in derived.columns:
        out[col] = derived[col].to_numpy()
    out["bimd2011_score"] = codes.map(bimd["bimd2011_score"]).to_numpy(dtype=float)
    out["bimd2011_decile"] = codes.map(bimd["bimd2011_decile"]).astype("Int64").to_numpy()
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
            if f"{column}_cv" in out.columns:
                out.loc[has, f"{column}_cv"] = 0.0
    return gpd.GeoDataFrame(out, geometry="geometry", crs=settings.CRS)


def combine_status(statuses: pd.Series | list[str]) -> str:
    """Return the status of a sum of figures: their common status, or 'mixed' when they differ."""
    values = set(pd.Series(statuses).dropna().astype(str))
    if len(values) == 1:
        return values.pop()
    return MIXED if values else ESTIMATED


def _fmt_share(share: float) -> str:
    if 0 < share < 0.005:
        return "<1 %"
    if 0.995 <= share < 1:
        return ">99 %"
    return f"{share:.0%}".replace("%", " %")


def status_mix(values: pd.Series, statuses: pd.Series) -> str:
    """Describe which share of a total rests on which status, strongest first, e.g. 'derived 98 %, estimated 2 %'.

    Shares are of the total value; when the total is 0 they are of the number of figures. Every status
    present is named, even with a share of 0.
    """
    keys = pd.Series(0, index=range(len(np.asarray(values))))
    return _status_mix_by(keys, pd.Series(np.asarray(values, dtype=float)), pd.Series(np.asarray(statuses))).iloc[0]


def _status_mix_by(keys: pd.Series, values: pd.Series, statuses: pd.Series) -> pd.Series:
    """:func:`status_mix` for every group of ``keys`` at once."""
    frame = pd.DataFrame({"k": keys.to_numpy(), "v": values.to_numpy(dtype=float), "s": statuses.to_numpy()})
    total = frame.pivot_table(index="k", columns="s", values="v", aggfunc="sum", fill_value=0.0)
    count = frame.pivot_table(index="k", columns="s", values="v", aggfunc="size", fill_value=0)
    base = total.where(total.sum(axis=1).gt(0), count.astype(float), axis=0)
    share = base.div(base.sum(axis=1), axis=0)
    order = [s for s in STATUSES if s in share.columns]
    return pd.Series(
        [
            ", ".join(f"{s} {_fmt_share(row[s])}" for s in order if cnt[s] > 0)
            for row, cnt in zip(share.to_dict("records"), count.to_dict("records"), strict=True)
        ],
        index=share.index,
    )


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
        Indexed by mdrc: pop_total, births, pop_0_2, birth_rate_permille, each count's status
        ('observed', 'derived', 'estimated' or 'mixed', see :func:`combine_status`), births_status_mix and
        pop_0_2_status_mix (:func:`status_mix`), births_cv (coefficient of variation of the wijk's births,
        sectors taken as independent), bimd2011_score (mean of the sector scores weighted by 2019
        residents) and bimd2011_pop_share (share of the residents living in a sector with a score),
        kansarmoede_index (pop_0_2-weighted mean of observed sectors, else NaN), communes ('|'-joined NIS
        codes), commune_nis (the commune holding most of the wijk's young children) and lgn.
    """
    g = sectors.groupby("mdrc")
    out = g[["pop_total", "births", "pop_0_2"]].sum()
    for column in ("pop_total", "births", "pop_0_2"):
        status_col = f"{column}_status"
        if status_col not in sectors.columns:
            out[status_col] = ESTIMATED
            continue
        # the common status of the wijk's sectors, else 'mixed' (what combine_status does, vectorised)
        uniform = g[status_col].nunique() == 1
        out[status_col] = g[status_col].first().where(uniform, MIXED)
    for column in ("births", "pop_0_2"):
        out[f"{column}_status_mix"] = _status_mix_by(
            sectors["mdrc"], sectors[column], sectors[f"{column}_status"]
        ).reindex(out.index)
    if "births_cv" in sectors.columns:
        sd = (sectors["births"] * sectors["births_cv"]) ** 2
        out["births_cv"] = np.sqrt(sd.groupby(sectors["mdrc"]).sum()) / out["births"].where(out["births"] > 0)
    out["birth_rate_permille"] = np.where(
        out["pop_total"] > 0, 1000 * out["births"] / out["pop_total"].where(out["pop_total"] > 0), np.nan
    )
    if "bimd2011_score" in sectors.columns:
        scored = sectors[sectors["bimd2011_score"].notna() & (sectors["pop_total"] > 0)]
        weighted = (scored["bimd2011_score"] * scored["pop_total"]).groupby(scored["mdrc"]).sum()
        residents = scored.groupby("mdrc")["pop_total"].sum()
        out["bimd2011_score"] = weighted / residents
        out["bimd2011_pop_share"] = residents.reindex(out.index).fillna(0) / out["pop_total"].where(
            out["pop_total"] > 0
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
        if f"{column}_status_mix" in out.columns:
            out.loc[has, f"{column}_status_mix"] = f"{OBSERVED} 100 %"
        if f"{column}_cv" in out.columns:
            out.loc[has, f"{column}_cv"] = 0.0
    if "kansarmoede_index" in obs.columns:
        has = obs["kansarmoede_index"].notna()
        out.loc[has, "kansarmoede_index"] = obs.loc[has, "kansarmoede_index"]
    out["birth_rate_permille"] = 1000 * out["births"] / out["pop_total"].where(out["pop_total"] > 0)


def commune_check(sectors: pd.DataFrame, data_dir: Path | None = None) -> pd.DataFrame:
    """Compare the sector figures, summed per commune, with the published commune figures.

    Parameters
    ----------
    sectors
        :func:`sector_need` output.
    data_dir
        Data folder.

    Returns
    -------
    pandas.DataFrame
        One row per commune: commune_nis, residents 2019 (sum of the sectors) and 2020 (Statbel), births and
        pop_0_2 (sums of the sectors) against the 2020 counts of children aged 0 and 0–2, the ratios age 0 /
        0–4 and 0–2 / 0–4 (2020), the 0–4 count of the age file (2022), the reconciliation factors, the
        number of derived and estimated sectors, the derived share of 0–2-year-olds among the 2019 residents
        (%), IBSA's share under 3 in 2021 (%) and their relative gap (``ibsa_gap``, tolerance
        :data:`IBSA_TOLERANCE`).
    """
    communes = load_commune_population(data_dir).set_index("commune_nis")
    ibsa = load_commune_age_shares(data_dir).set_index("commune_nis")["share_under3_pct"]
    g = sectors.groupby("commune_nis")
    out = pd.DataFrame(index=communes.index)
    out["pop_total_2019"] = g["pop_total"].sum()
    out["pop_total_2020"] = communes["pop_total"]
    out["births"] = g["births"].sum()
    out["pop_age0_2020"] = communes["pop_age0"]
    out["pop_0_2"] = g["pop_0_2"].sum()
    out["pop_0_2_2020"] = communes["pop_0_2"]
    out["ratio_age0_0_4_2020"] = communes["pop_age0"] / communes["pop_0_4"]
    out["ratio_0_2_0_4_2020"] = communes["pop_0_2"] / communes["pop_0_4"]
    out["pop_0_4_2022"] = g["pop_0_4_2022"].sum()
    for col in ("reconcile_births", "reconcile_pop_0_2"):
        out[col] = g[col].first()
    out["n_derived"] = g["births_status"].agg(lambda s: int((s == DERIVED).sum()))
    out["n_estimated"] = g["births_status"].agg(lambda s: int((s == ESTIMATED).sum()))
    out["share_0_2_pct"] = 100 * out["pop_0_2"] / out["pop_total_2019"]
    out["ibsa_share_under3_pct_2021"] = ibsa
    out["ibsa_gap"] = out["share_0_2_pct"] / out["ibsa_share_under3_pct_2021"] - 1
    return out.reset_index()


def _zscore(values: pd.Series) -> pd.Series:
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
    from geoplanner.core.errors import ModelError

    complete = z.dropna().sort_index()
    keys = list(z.columns)
    if len(keys) == 1:
        one = pd.DataFrame({"pc1": [1.0]}, index=keys)
        return PcaWeights({keys[0]: 1.0}, one, (1.0,), len(complete))
    if len(complete) <= len(keys):
        raise ModelError(f"PCA needs more than {len(keys)} wijken with every deprivation component")
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


def _composite(z: pd.DataFrame, weights: dict[str, float], min_components: int) -> pd.Series:
    """Weighted mean of the components a wijk has; NaN below ``min_components``."""
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
        zs[key] = sign * _zscore(ind[column])
        out[f"z_{key}"] = zs[key]
    z = pd.DataFrame(zs, index=eligible)
    present = z.notna()
    out["n_components"] = present.sum(axis=1)
    out["missing_components"] = present.apply(lambda r: ",".join(k for k, ok in r.items() if not ok), axis=1)
    out["deprivation_by_weights"] = _composite(z, weights, params.min_components)
    out["deprivation_by_pca"] = _composite(z, pca_weights(z).weights, params.min_components) if len(z) else np.nan
    out["deprivation_source"] = "composite"
    if kansarmoede is not None and kansarmoede.reindex(eligible).notna().any():
        k = kansarmoede.reindex(eligible)
        has = k.notna()
        for col in ("deprivation_by_weights", "deprivation_by_pca"):
            out.loc[has, col] = _zscore(k[has])
        out.loc[has, "deprivation_source"] = "kansarmoede_index"
    out["deprivation"] = out[f"deprivation_by_{params.deprivation_method}"]
    out["deprivation_method"] = params.deprivation_method
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
    so the ranking is deterministic. How sure the selection is: :func:`geoplanner.need.stability.rank_stability`
    (run by :func:`build_need`).

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
        birth_rate_permille with their status and status mix, bimd2011_score, the deprivation columns
        (:func:`deprivation_index`), ``contrib_*`` (each component's share of the score), score, rank (NaN
        if not ranked), priority (bool), excluded_reason.
    """
    params = params or NeedParams()
    sectors = sector_need(data_dir) if sectors is None else sectors
    wijken = load_wijken(data_dir).set_index("mdrc")
    need = wijk_need(sectors, observed_wijk).reindex(wijken.index)
    indicators = load_wijk_indicators(data_dir)
    if "bimd2011_score" in need.columns:  # the sector BIMD score, population-weighted to the wijk
        indicators = indicators.merge(need[["bimd2011_score"]], left_on="mdrc", right_index=True, how="left")
    out = wijken.join(need)
    # IBSA's own mixed-case names read better than UrbAdm's upper case; fall back to the latter.
    proper = indicators.set_index("mdrc")[["name_nl", "name_fr"]].reindex(out.index)
    for col in ("name_nl", "name_fr"):
        out[col] = proper[col].fillna(out[col])
    reason = pd.Series("", index=out.index)
    reason[out["district_type"] != "residential"] = "geen woonwijk (" + out["district_type"] + ")"
    small = (reason == "") & (out["pop_total"].fillna(0) < params.min_population)
    reason[small] = f"minder dan {params.min_population:.0f} inwoners (1/1/2019)"
    eligible = out.index[reason == ""]
    dep = deprivation_index(indicators, params, eligible=eligible, kansarmoede=need["kansarmoede_index"])
    out = out.join(dep)
    no_dep = (reason == "") & out["deprivation"].isna()
    reason[no_dep] = "te weinig indicatoren voor de kansarmoede-index"
    eligible = out.index[reason == ""]
    _check_plausible(out.loc[eligible], data_dir)
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


#: Highest crude birth rate (births per 1,000 residents) a ranked wijk may have. Brussels' wijken lie
#: between about 0 and 30 ‰ and the highest national rates in the world below 50 ‰, so a figure above
#: this comes from mismatched counts (e.g. births of a whole commune over one sector's residents).
MAX_BIRTH_RATE_PERMILLE = 60.0


def _check_plausible(ranked: pd.DataFrame, data_dir: Path | None) -> None:
    """Refuse wijk figures that cannot be true before they reach the ranking.

    A wijk whose birth rate is above :data:`MAX_BIRTH_RATE_PERMILLE`, or with more births than
    children aged 0–2, would top the list on a data error; the user's imported figures are named
    when they took part.
    """
    rate = ranked["birth_rate_permille"]
    bad = ranked[(rate > MAX_BIRTH_RATE_PERMILLE) | (ranked["births"] > ranked["pop_0_2"] + 1e-6)]
    if bad.empty:
        return
    from geoplanner.inputs.user_data import sector_figures_path

    mdrc, row = next(iter(bad.iterrows()))
    statuses = {row.get(f"{c}_status") for c in ("births", "pop_total", "pop_0_2")}
    imported = bool(statuses & {OBSERVED, MIXED})
    path = sector_figures_path(data_dir) if imported else None
    what = (
        f"{row['birth_rate_permille']:.0f} ‰ births per resident (more than {MAX_BIRTH_RATE_PERMILLE:.0f} ‰)"
        if row["birth_rate_permille"] > MAX_BIRTH_RATE_PERMILLE
        else "more births than children aged 0–2"
    )
    others = f" ({len(bad) - 1} more wijken alike)" if len(bad) > 1 else ""
    raise DataError(
        f"wijk {mdrc} ({row.get('name_nl', '')}) would be ranked with {what}: births {row['births']:.0f} "
        f"({row.get('births_status', '?')}), residents {row['pop_total']:.0f} ({row.get('pop_total_status', '?')}), "
        f"aged 0–2 {row['pop_0_2']:.0f} ({row.get('pop_0_2_status', '?')}){others}",
        path=path,
        hint="check the imported sector figures (codes, and that births and residents describe the same sector)"
        if imported
        else "check the data bundle with 'geoplanner data check'",
    )


@dataclass(frozen=True)
class Need:
    """Everything the need step produces, shared by the later steps (coverage, siting, maps).

    Attributes
    ----------
    sectors
        :func:`sector_need` output (observed figures applied).
    ranking
        :func:`rank_wijken` output, with the stability columns of
        :func:`geoplanner.need.stability.rank_stability` (``p_top``, ``stability``, …) when it ran.
    lines
        :func:`residential_lines` output (the residential weight, reused for demand points).
    params
        The parameters used.
    inputs
        Files read beyond the bundle: the user's sector figures, when imported.
    notes
        Caveats that must travel with every output (derived/estimated figures, observed figures used,
        wijken whose place in the selection is uncertain).
    communes
        :func:`commune_check` output: the sector figures against the published commune figures.
    pca
        :func:`pca_weights` of the ranked wijken (loadings, explained variance).
    uncertainty
        :func:`uncertainty_basis`: what the uncertainty of the counts rests on.
    """

    sectors: gpd.GeoDataFrame
    ranking: gpd.GeoDataFrame
    lines: gpd.GeoDataFrame
    params: NeedParams
    inputs: tuple[Path, ...]
    notes: tuple[str, ...]
    communes: pd.DataFrame | None = None
    pca: PcaWeights | None = None
    uncertainty: dict[str, float] = field(default_factory=dict)


def build_need(data_dir: Path | None = None, params: NeedParams | None = None) -> Need:
    """Run the whole need step: sector figures, deprivation, wijk ranking and how sure it is.

    The user's own sector figures (``geoplanner indicators import``) are picked up here, once,
    so every later step sees the same observed, derived or estimated figures.

    Parameters
    ----------
    data_dir
        Data folder.
    params
        Need, score and stability parameters (defaults if omitted).

    Returns
    -------
    Need
    """
    from geoplanner.inputs.user_data import load_sector_figures
    from geoplanner.need.stability import rank_stability, stability_notes

    params = params or NeedParams()
    figures = load_sector_figures(data_dir)
    lines = residential_lines(data_dir)
    observed = figures.by_sector if figures is not None else None
    observed_wijk = figures.by_wijk if figures is not None else None
    sectors = sector_need(data_dir, observed=observed, lines=lines)
    ranking = rank_wijken(data_dir, params, sectors=sectors, observed_wijk=observed_wijk)
    eligible = ranking["rank"].notna()
    z_cols = [f"z_{k}" for k, w in params.deprivation_weights.items() if w > 0]
    pca = pca_weights(ranking.loc[eligible, ["mdrc", *z_cols]].set_index("mdrc").rename(columns=lambda c: c[2:]))
    if params.stability_draws:
        ranking = rank_stability(sectors, ranking, params)
    communes = load_commune_population(data_dir).set_index("commune_nis")
    uncertainty = uncertainty_basis(communes, sectors)
    notes = []
    if sectors["births_status"].isin([DERIVED, ESTIMATED]).any():
        notes.append(ESTIMATE_NOTE)
    if figures is not None:
        n_sec = int(sectors.filter(like="_status").drop(columns="pop_total_status").isin([OBSERVED]).any(axis=1).sum())
        n_wijk = int(ranking[["births_status", "pop_0_2_status"]].isin([OBSERVED, MIXED]).any(axis=1).sum())
        notes.append(
            f"Echte cijfers van de gebruiker ({figures.source.name}) gebruikt voor {n_sec} sectoren en "
            f"{n_wijk} wijken; zie de kolommen *_status (observed/derived/estimated/mixed)."
        )
        notes.extend(figures.warnings)
    if params.stability_draws:
        notes.extend(stability_notes(ranking, params))
    inputs = (figures.source,) if figures is not None else ()
    return Need(
        sectors, ranking, lines, params, inputs, tuple(notes), commune_check(sectors, data_dir), pca, uncertainty
    )
