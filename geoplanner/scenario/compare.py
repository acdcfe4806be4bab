"""Scenarios side by side: one row per scenario with every measure, per LGN, the teams curves, the trade-off."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from geoplanner.core.errors import ConfigError
from geoplanner.inputs.lgn import LGN
from geoplanner.scenario.curve import curve_key
from geoplanner.scenario.measures import MEASURES
from geoplanner.scenario.result import ScenarioResult

__all__ = ["COMPARISON_LABELS", "compare", "teams_curves", "efficient"]

#: Columns the command line shows of the comparison: (measure, Dutch label, format).
COMPARISON_LABELS: tuple[tuple[str, str, str], ...] = (
    ("scenario", "scenario", "{}"),
    ("children_within_threshold", "kinderen binnen bereik", "{:,.0f}"),
    ("share_within_threshold", "aandeel", "{:.1%}"),
    ("consultations_served", "consultaties/jaar bediend", "{:,.0f}"),
    ("share_priority_served", "bediend prioritair", "{:.1%}"),
    ("priority_wijken_served", "prior. wijken bediend", "{:.0f}"),
    ("sessions_per_week", "nieuwe sessies/week", "{:.0f}"),
    ("consultations_per_session", "cons./jaar per sessie", "{:,.0f}"),
    ("teams_needed", "teams nodig", "{:.0f}"),
)

#: Columns of ``comparison.csv`` in order: identity, then every measure, then how it was solved.
COMPARISON_COLUMNS = ("scenario", "title", "model", "demand", *(m.column for m in MEASURES), "status",
                      "solver_gap")  # fmt: skip
#: Columns of the comparison per LGN.
LGN_COLUMNS = ("lgn", "lgn_name", "scenario", "children", "children_within_threshold", "share_within_threshold",
               "consultations_demand", "consultations_served", "share_consultations_served", "children_served",
               "sessions_per_week")  # fmt: skip


def compare(results: Sequence[ScenarioResult]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Side-by-side comparison of scenario results, every one measured the same way (:mod:`.measures`).

    Parameters
    ----------
    results
        Results of :func:`geoplanner.scenario.evaluate`, the current situation first.

    Returns
    -------
    table : pandas.DataFrame
        One row per scenario: :data:`COMPARISON_COLUMNS` (reach, service under capacity, cost in sessions,
        teams, then the solver's status, gap and seconds), and ``efficient`` (no other scenario serves as many
        consultations with as few new sessions, see :func:`efficient`).
    per_lgn : pandas.DataFrame
        One row per LGN and scenario: :data:`LGN_COLUMNS`.
    """
    if not results:
        raise ConfigError("nothing to compare: give at least one scenario")
    names = [r.scenario.name for r in results]
    if len(set(names)) < len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ConfigError(f"two scenarios share the name '{dup}'", column="name")
    table = pd.DataFrame([r.summary for r in results]).reindex(columns=list(COMPARISON_COLUMNS))
    table["efficient"] = efficient(table)
    per_lgn = pd.concat([r.per_lgn for r in results], ignore_index=True)
    per_lgn["lgn_name"] = per_lgn["lgn"].map(lambda n: LGN.get(int(n), ("?",))[0])
    order = {n: i for i, n in enumerate(names)}
    per_lgn = per_lgn.sort_values(["lgn", "scenario"], key=lambda c: c.map(order) if c.name == "scenario" else c)
    return table, per_lgn.reindex(columns=list(LGN_COLUMNS)).reset_index(drop=True)


def efficient(table: pd.DataFrame) -> pd.Series:
    """Return which scenarios are efficient on the trade-off of cost and service.

    A scenario is efficient when no other serves at least as many consultations and priority wijken with at most
    as many new sessions a week, and is better in one of the three. Consultations within half a consultation of
    each other count as equal.
    """
    served = table["consultations_served"].to_numpy(dtype=float)
    wijken = table["priority_wijken_served"].to_numpy(dtype=float)
    cost = table["sessions_per_week"].fillna(0).to_numpy(dtype=float)
    tol = 0.5  # consultations: sums of the same served demand differ in their last bits between models
    out = []
    for i in range(len(table)):
        better_or_equal = (served >= served[i] - tol) & (wijken >= wijken[i]) & (cost <= cost[i])
        strictly = (served > served[i] + tol) | (wijken > wijken[i]) | (cost < cost[i])
        out.append(not bool((better_or_equal & strictly).any()))
    return pd.Series(np.array(out, dtype=bool), index=table.index)


def teams_curves(results: Sequence[ScenarioResult]) -> pd.DataFrame | None:
    """Return the teams curves of the results that have one as one table (None if none has).

    Scenarios that differ only in their number of teams share one curve (the same points: each scenario is
    the point of its team count); it is listed once, under the names of all of them.
    """
    groups: dict[str, list[ScenarioResult]] = {}
    for r in results:
        if r.curve is not None:
            groups.setdefault(curve_key(r.scenario), []).append(r)
    frames = []
    for rs in groups.values():
        own = {int(r.scenario.teams): r for r in rs}
        # each scenario's own point (its per-wijk floor included) replaces the shared point of its team count
        rows = [own[t].curve[own[t].curve["teams"] == t] if t in own else rs[0].curve[rs[0].curve["teams"] == t]
                for t in rs[0].curve["teams"]]  # fmt: skip
        needed = rs[0].teams_needed or {}
        names = {t: r.scenario.name for t, r in own.items()}
        merged = pd.concat(rows, ignore_index=True)
        frames.append(
            merged.drop(columns=["scenario", "scenario_solution"], errors="ignore")
            .assign(teams_needed=needed.get("teams"), target_share=needed.get("target_share"))
            .assign(scenario=", ".join(r.scenario.name for r in rs))
            .assign(solution_of=merged["teams"].map(names).fillna("").to_numpy())
        )
    if not frames:
        return None
    out = pd.concat(frames, ignore_index=True)
    return out[["scenario", *[c for c in out.columns if c != "scenario"]]]
