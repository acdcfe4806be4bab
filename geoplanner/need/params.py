"""Parameters of the need step: the deprivation components, the priority score and its stability analysis."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from geoplanner.core.errors import ConfigError

__all__ = ["DEPRIVATION_COMPONENTS", "DEPRIVATION_METHODS", "NeedParams", "TOML_TYPES"]


#: Deprivation components: key -> (column of the wijk table, sign; +1: more is more deprived).
#: ``bimd2011_score`` is the population-weighted mean of the sector BIMD scores (see
#: :func:`geoplanner.need.population.wijk_need`);
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
        component of the standardised components, see :func:`geoplanner.need.deprivation.pca_weights`).
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
    def from_toml(cls, text: str, path: str | Path | None = None) -> NeedParams:
        """Parse parameters from the text of a TOML file (keys as the attributes; unknown keys are errors).

        Parameters
        ----------
        text
            The TOML text (read by :func:`geoplanner.inputs.config.read_text_file`).
        path
            The file it came from, named in every error.
        """
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"invalid TOML: {exc}", path=path) from None
        known = {f.name: f for f in fields(cls)}
        for key, value in raw.items():
            if key not in known:
                raise ConfigError(f"unknown key '{key}'", path=path, column=key, hint=f"known: {', '.join(known)}")
            expected = TOML_TYPES.get(key, (int, float))
            if (isinstance(value, bool) and expected is not bool) or not isinstance(value, expected):
                raise ConfigError(f"wrong type {type(value).__name__}", path=path, column=key)
        try:
            return cls(**raw)
        except ConfigError as exc:
            raise ConfigError(exc.message, path=path, column=exc.column, hint=exc.hint) from None

    def as_dict(self) -> dict:
        """Return the parameters as a plain dict (for manifests)."""
        return asdict(self)


#: Types of the keys that are not plain numbers.
TOML_TYPES: dict[str, type | tuple[type, ...]] = {
    "deprivation_weights": dict,
    "deprivation_method": str,
    "top_n": int,
    "min_components": int,
    "stability_draws": int,
    "stability_seed": int,
    "stability_switch_method": bool,
}
