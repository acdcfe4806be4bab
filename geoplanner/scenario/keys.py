"""The cache key of a scenario's solution: everything that shapes it, and nothing else.

A solution is stored in :mod:`geoplanner.cache` (kind ``solutions``) under the sha256 of:

- the scenario's parsed parameters (every key of the file, solver time limits and gaps included, but not
  the file's path nor its ``[sweep]`` table, which only ``geoplanner sweep`` reads);
- the demand the scenario sees: the context's demand points (weights, coordinates, wijk, priority,
  deprivation), the wijk ranking, the need model's sector figures and notes (so a changed indicator, an
  imported figure or a new weight changes the key);
- the walking network (the sha256 of its file's content and its build parameters);
- the service sets it opens and its candidate set (every located point and column, the completeness);
- the code and the numerical libraries (:func:`geoplanner.cache.base_parts`; HiGHS ships with scipy).

Only content counts, never where a file lies: a moved data folder finds its solutions again.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pandas as pd

from geoplanner import cache
from geoplanner.inputs.services import ServiceSet
from geoplanner.scenario.context import SitingContext
from geoplanner.scenario.spec import SWEEP_FIELDS, Scenario

__all__ = ["services_digest", "solution_key"]


def services_digest(services: dict[str, ServiceSet], names: list[str]) -> dict[str, str]:
    """Return a digest per named service set: its located points (every column) and its completeness."""
    out = {}
    for name in names:
        ss = services[name]
        extra = json.dumps([ss.completeness_note, ss.incomplete])
        out[name] = hashlib.sha256((cache.frame_digest(pd.DataFrame(ss.points)) + extra).encode()).hexdigest()
    return out


def solution_key(scenario: Scenario, context: SitingContext) -> str:
    """Return the cache key of a scenario's solution in a context (see the module docstring).

    Parameters
    ----------
    scenario
        A validated scenario.
    context
        The shared context (:func:`geoplanner.scenario.context.make_context`).

    Returns
    -------
    str
        64 hex digits.
    """
    params = scenario.parameters()
    for name in ("path", *SWEEP_FIELDS):  # where the file lies and what a sweep draws shape no solution
        params.pop(name, None)
    net, need = context.net, context.need
    sectors = None if need is None else pd.DataFrame(need.sectors).drop(columns="geometry", errors="ignore")
    parts: dict[str, Any] = {
        **cache.base_parts(),
        "scenario": params,
        "network": {"sha256": net.sha256, "params": net.params, "nodes": net.n_nodes, "edges": net.n_edges},
        "demand": cache.frame_digest(context.demand),
        "ranking": cache.frame_digest(context.ranking),
        "sectors": cache.frame_digest(sectors),
        "need_notes": list(need.notes) if need is not None else [],
        "services": services_digest(dict(context.services), sorted({*scenario.open_sets, scenario.candidate_set})),
    }
    return cache.digest(parts)
