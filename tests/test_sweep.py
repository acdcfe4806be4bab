"""``geoplanner sweep``: how sure each chosen venue is, under plausible variation (issue 20)."""

from __future__ import annotations

import dataclasses
import types

import pytest

from geoplanner.core.errors import ConfigError
from geoplanner.scenario import parse_scenario
from geoplanner.scenario.curve import curve_key

BASE = 'name = "s"\nmodel = "capacitated_rotation"\n[rotation]\nteams = 1\nsessions_per_team = 2\n'


# -- the [sweep] table -------------------------------------------------------------------------------------------


def test_sweep_table_parses_ranges_draws_and_seed():
    s = parse_scenario(BASE + "[sweep]\nuptake = [0.7, 0.85]\nchildren_per_session = [8, 12]\ndraws = 50\n")
    assert s.sweep_ranges == (("uptake", 0.7, 0.85), ("children_per_session", 8.0, 12.0))
    assert (s.sweep_draws, s.sweep_seed, s.sweep_counts) == (50, 2026, True)
    assert parse_scenario(BASE).sweep_ranges == ()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("uptake = [0.9, 0.7]", "the low end is above the high end"),
        ("uptake = [0.7]", "must be two numbers [low, high]"),
        ("uptake = [0.7, true]", "must be two numbers [low, high]"),
        ("uptake = [0, 0.5]", "both ends must be > 0 and <= 1"),
        ("planned_fill = [0.8, 1.2]", "both ends must be > 0 and <= 1"),
        ("consultations_age0 = [-1, 7]", "both ends must be >= 0 and <= 52"),
        ("uptake = 0.8", "must be a list"),
        ("draws = 0", "must be 1-1000000"),
        ("seed = -1", "must be >= 0"),
        ("teams = [1, 3]", "unknown key 'teams' in [sweep]"),
    ],
)
def test_a_bad_sweep_key_is_named_with_its_line(line, message):
    text = BASE + "[sweep]\n" + line + "\n"
    with pytest.raises(ConfigError) as err:
        parse_scenario(text)
    key = line.split()[0]
    assert message in err.value.message
    assert err.value.column == f"sweep.{key}" and err.value.row == text.count("\n")


def test_the_sweep_table_changes_no_solution_and_no_curve(monkeypatch):
    """Two scenarios that differ only in [sweep] share their stored solution and their teams curve."""
    import geoplanner.scenario.keys as keys

    a = parse_scenario(BASE)
    b = parse_scenario(BASE + "[sweep]\nuptake = [0.7, 0.85]\ndraws = 10\nseed = 3\ncounts = false\n")
    assert curve_key(a) == curve_key(b)
    assert curve_key(a) != curve_key(dataclasses.replace(a, uptake=0.8))
    # a context of which only the scenario's parameters can differ
    net = types.SimpleNamespace(sha256="x", params={}, n_nodes=0, n_edges=0)
    ctx = types.SimpleNamespace(net=net, need=None, demand=None, ranking=None, services={})
    monkeypatch.setattr(keys, "services_digest", lambda services, names: {})
    assert keys.solution_key(a, ctx) == keys.solution_key(b, ctx)
    assert keys.solution_key(a, ctx) != keys.solution_key(dataclasses.replace(a, uptake=0.8), ctx)
