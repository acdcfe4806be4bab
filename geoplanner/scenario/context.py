"""What every scenario shares, built once: the walking network, demand points, the wijk ranking, service sets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geoplanner.access.network import SnapResult, WalkNetwork
from geoplanner.inputs.services import ServiceSet
from geoplanner.need import Need
from geoplanner.scenario.spec import Scenario

__all__ = ["SitingContext", "make_context", "demand_weights"]


@dataclass(frozen=True, eq=False)
class SitingContext:
    """What every scenario shares, built once: network, demand points, wijk ranking, service sets.

    Attributes
    ----------
    net
        The walking network.
    demand
        Demand points (cd_sector, weight = young children, x, y) with ``mdrc``, ``lgn``, ``commune_nis``,
        ``priority`` and ``deprivation`` of their wijk.
    snapped
        Where the demand points meet the network.
    ranking
        :func:`geoplanner.need.rank_wijken` output (no geometry).
    services
        Every service set a scenario may open or draw candidates from, by name.
    inputs
        Data files used (for manifests).
    need
        The :class:`geoplanner.need.Need` the demand comes from (sector figures, notes).
    cache
        Reuse and store scenario solutions (:mod:`geoplanner.cache`); ``$GEOPLANNER_NO_CACHE=1`` turns it
        off whatever this says.
    curves
        Teams curves already solved in this context (scenarios that differ only in their number of teams
        share one): a memo, filled by :func:`geoplanner.scenario.curve.teams_curve`.
    """

    net: WalkNetwork
    demand: pd.DataFrame
    snapped: SnapResult
    ranking: pd.DataFrame
    services: Mapping[str, ServiceSet]
    inputs: tuple[Path, ...] = ()
    need: Need | None = None
    cache: bool = True
    curves: dict[str, Any] = field(default_factory=dict)


def make_context(
    net: WalkNetwork,
    need: Need,
    points: pd.DataFrame,
    snapped: SnapResult,
    services: Mapping[str, ServiceSet],
    *,
    inputs: tuple[Path, ...] = (),
    cache: bool = True,
) -> SitingContext:
    """Put together the context every scenario of a run shares.

    Parameters
    ----------
    net
        The walking network.
    need
        The need step's result (sector figures, ranking, notes).
    points
        :func:`geoplanner.access.demand.demand_points` of ``need``.
    snapped
        Their snapping on ``net`` (checked with :func:`geoplanner.access.demand.check_network_fit`).
    services
        The service sets, by name.
    inputs
        Data files used, for manifests.
    cache
        Let :func:`geoplanner.scenario.evaluate` reuse stored solutions.

    Returns
    -------
    SitingContext
    """
    info = pd.DataFrame(need.sectors[["cd_sector", "mdrc", "lgn", "commune_nis"]])
    demand = pd.DataFrame(points.drop(columns="geometry")).merge(info, on="cd_sector", how="left")
    wijk = need.ranking.set_index("mdrc")
    demand["priority"] = demand["mdrc"].map(wijk["priority"]).fillna(False).astype(bool)
    demand["deprivation"] = demand["mdrc"].map(wijk["deprivation"]).astype(float)
    ranking = pd.DataFrame(need.ranking.drop(columns="geometry"))
    return SitingContext(net=net, demand=demand, snapped=snapped, ranking=ranking, services=services,
                         inputs=tuple(inputs) + tuple(need.inputs), need=need, cache=cache)  # fmt: skip


def demand_weights(scenario: Scenario, demand: pd.DataFrame) -> np.ndarray:
    """Return the demand weight per point for the scenario's demand kind (``docs/methods/scenarios.md``)."""
    children = demand["weight"].to_numpy(dtype=float)
    if scenario.demand == "children":
        return children
    if scenario.demand == "priority_only":
        return np.where(demand["priority"].to_numpy(), children, 0.0)
    dep = np.nan_to_num(demand["deprivation"].to_numpy(dtype=float), nan=0.0)
    return children * (1.0 + scenario.deprivation_strength * np.maximum(dep, 0.0))
