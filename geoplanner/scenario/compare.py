"""Scenarios side by side: the comparison table, per LGN, and the teams curves."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from geoplanner.core.errors import ConfigError
from geoplanner.inputs.lgn import LGN
from geoplanner.scenario.result import ScenarioResult

__all__ = ["COMPARISON_LABELS", "compare", "teams_curves"]


#: Columns of the comparison table: (summary key, Dutch label, format). Shared by the CLI tables.
COMPARISON_LABELS: tuple[tuple[str, str, str], ...] = (
    ("scenario", "scenario", "{}"),
    ("model", "model", "{}"),
    ("threshold_min", "drempel (min)", "{:.0f}"),
    ("children_covered", "kinderen bereikt", "{:,.0f}"),
    ("share_covered", "aandeel", "{:.1%}"),
    ("deprivation_weighted_share", "kansarmoede-gewogen", "{:.1%}"),
    ("priority_wijken_reached", "prioritaire wijken bereikt", "{:.0f}"),
    ("mean_min", "gem. min", "{:.1f}"),
    ("p90_min", "p90 min", "{:.1f}"),
    ("n_new_sites", "nieuwe locaties", "{:.0f}"),
    ("consultations_served", "consultaties/jaar bediend", "{:,.0f}"),
    ("share_priority_served", "bediend prioritair", "{:.1%}"),
    ("unserved_capacity", "niet bediend: vol", "{:,.0f}"),
    ("teams_needed", "teams nodig", "{:.0f}"),
    ("status", "oplossing", "{}"),
)


def compare(results: Sequence[ScenarioResult]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Side-by-side comparison of scenario results.

    Parameters
    ----------
    results
        Results of :func:`run_scenario`.

    Returns
    -------
    table : pandas.DataFrame
        One row per scenario: children covered (number and share), deprivation-weighted
        coverage (every scenario measured with the default proportional-universalism weights, so
        rows are comparable), priority wijken reached (of the priority wijken), mean and
        90th-percentile walking time (minutes, weighted by children; mean over children who can
        reach a site), new sites, model status, solve seconds.
    per_lgn : pandas.DataFrame
        Share of children covered per LGN, one column per scenario.
    """
    if not results:
        raise ConfigError("nothing to compare: give at least one scenario")
    names = [r.scenario.name for r in results]
    if len(set(names)) < len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ConfigError(f"two scenarios share the name '{dup}'", column="name")
    table = pd.DataFrame([r.summary for r in results])
    per_lgn = pd.concat([r.per_lgn for r in results], ignore_index=True)
    wide = per_lgn.pivot(index="lgn", columns="scenario", values="share_covered")[names].reset_index()
    wide.insert(1, "lgn_name", wide["lgn"].map(lambda n: LGN.get(int(n), ("?",))[0]))
    return table, wide


def teams_curves(results: Sequence[ScenarioResult]) -> pd.DataFrame | None:
    """Return the teams curves of the results that have one as one table (None if none has).

    Scenarios that differ only in their number of teams share one curve; it is listed once,
    under the names of all of them.
    """
    groups: dict[str, list[ScenarioResult]] = {}
    for r in results:
        if r.curve is not None:
            groups.setdefault((r.teams_needed or {}).get("curve_key", r.scenario.name), []).append(r)
    frames = []
    for rs in groups.values():
        names = ", ".join(r.scenario.name for r in rs)
        needed = rs[0].teams_needed or {}
        frames.append(
            rs[0]
            .curve.drop(columns="scenario", errors="ignore")
            .assign(teams_needed=needed.get("teams"), target_share=needed.get("target_share"))
            .assign(scenario=names)
        )
    if not frames:
        return None
    out = pd.concat(frames, ignore_index=True)
    return out[["scenario", *[c for c in out.columns if c != "scenario"]]]
