"""Siting scenarios: the scenario file, the shared context, ``evaluate`` and the comparison.

``evaluate(spec, context) -> ScenarioResult`` is the one entry to evaluate any scenario in memory.
Modules: :mod:`~geoplanner.scenario.spec` (the TOML schema and its validation), :mod:`~geoplanner.scenario.context`
(network, demand points, ranking and service sets, built once), :mod:`~geoplanner.scenario.evaluate`,
:mod:`~geoplanner.scenario.capacity` (consultations and session places), :mod:`~geoplanner.scenario.curve`
(how many teams), :mod:`~geoplanner.scenario.tables` (sites, timetable, coverage), :mod:`~geoplanner.scenario.compare`
and :mod:`~geoplanner.scenario.keys` (the solution's cache key). Every key of a scenario file, the demand kinds
and the capacity model are written up in ``docs/methods/scenarios.md``.
"""

from geoplanner.scenario.capacity import Assumption, CapacityInstance, assumptions, capacity_notes, consultation_demand
from geoplanner.scenario.compare import (
    COMPARISON_COLUMNS,
    COMPARISON_LABELS,
    LGN_COLUMNS,
    compare,
    efficient,
    teams_curves,
)
from geoplanner.scenario.context import SitingContext, demand_weights, make_context
from geoplanner.scenario.curve import DUTCH_SHARES, teams_curve
from geoplanner.scenario.evaluate import evaluate, select_candidates
from geoplanner.scenario.keys import solution_key
from geoplanner.scenario.measures import MEASURES, Measure, measure_label, sector_measures, wijk_measures
from geoplanner.scenario.result import ScenarioResult, solution_record
from geoplanner.scenario.spec import (
    BASELINE_NAME,
    CAPACITATED_MODELS,
    CAPACITY_PARAMETERS,
    DEMAND_KINDS,
    MODELS,
    REACH_SHARE,
    Scenario,
    check_against_data,
    parse_scenario,
    with_baseline,
)

__all__ = [
    "BASELINE_NAME",
    "CAPACITATED_MODELS",
    "CAPACITY_PARAMETERS",
    "COMPARISON_LABELS",
    "DEMAND_KINDS",
    "MODELS",
    "REACH_SHARE",
    "CapacityInstance",
    "Scenario",
    "ScenarioResult",
    "SitingContext",
    "capacity_notes",
    "check_against_data",
    "compare",
    "consultation_demand",
    "demand_weights",
    "evaluate",
    "make_context",
    "parse_scenario",
    "select_candidates",
    "solution_key",
    "solution_record",
    "teams_curve",
    "teams_curves",
    "wijk_measures",
    "sector_measures",
    "measure_label",
    "MEASURES",
    "Measure",
    "Assumption",
    "assumptions",
    "COMPARISON_COLUMNS",
    "LGN_COLUMNS",
    "DUTCH_SHARES",
    "efficient",
    "with_baseline",
]
