"""Scenario files in, scenario results out: the siting step the map, report and run commands share."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from geoplanner.access.network import WalkNetwork
from geoplanner.scenario import ScenarioResult, SitingContext, build_context, evaluate, load_scenario, with_baseline

__all__ = ["evaluate_files"]


def evaluate_files(
    paths: Sequence[Path],
    *,
    data_dir: Path | None = None,
    network: Path | WalkNetwork | None = None,
    cache: bool = True,
    context: SitingContext | None = None,
) -> tuple[SitingContext, list[ScenarioResult]]:
    """Validate scenario files, build the shared context once and evaluate each, the current situation first.

    Parameters
    ----------
    paths
        Scenario files; every one is validated before the slow part.
    data_dir
        Data folder.
    network
        Network file or an already loaded network (default: the bundle's).
    cache
        Reuse stored solutions (:mod:`geoplanner.cache`).
    context
        A context already built (its network and demand are reused).

    Returns
    -------
    context : SitingContext
    results : list of ScenarioResult
        In the order of :func:`geoplanner.scenario.with_baseline`.
    """
    ordered = with_baseline([load_scenario(p, data_dir=data_dir) for p in paths])
    context = context or build_context(data_dir, network=network, cache=cache)
    return context, [evaluate(s, context) for s in ordered]
