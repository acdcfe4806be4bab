"""A scenario as the editor shows it, edited by key and written back as a scenario file.

An edit is a mapping of scenario-file keys (``"rotation.teams"``, ``"demand.uptake"``, …) to values. It is applied to
the scenario's own TOML and parsed again with :func:`geoplanner.scenario.parse_scenario`, so an edit is checked by
the same rules, with the same one-line message naming the key, as a file the user would write by hand; and the
scenario file a user downloads (:func:`scenario_toml`) parses back to the very scenario the app evaluated.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from typing import Any

from geoplanner.core.errors import ConfigError
from geoplanner.scenario import CAPACITY_PARAMETERS, Scenario, assumptions, parse_scenario
from geoplanner.scenario.spec import SWEEP_FIELDS

__all__ = ["EDITABLE", "scenario_keys", "scenario_toml", "apply_edits", "editor_fields"]

#: Scenario attribute -> (table, key) in the file; ``consultations_per_child`` and ``slots`` are written apart.
_KEYS: dict[str, tuple[str | None, str]] = {
    "name": (None, "name"), "title": (None, "title"), "description": (None, "description"), "model": (None, "model"),
    "speed_kmh": ("walk", "speed_kmh"), "threshold_min": ("walk", "threshold_min"),
    "demand": ("demand", "kind"), "deprivation_strength": ("demand", "deprivation_strength"),
    "uptake": ("demand", "uptake"), "dutch_share": ("demand", "dutch_share"),
    "children_per_session": ("capacity", "children_per_session"), "weeks_per_year": ("capacity", "weeks_per_year"),
    "planned_fill": ("capacity", "planned_fill"), "sessions_per_site": ("capacity", "sessions_per_site"),
    "curve_max_teams": ("curve", "max_teams"), "curve_target_share": ("curve", "target_share"),
    "curve_time_limit_s": ("curve", "time_limit_s"),
    "open_sets": ("services", "open"), "close": ("services", "close"),
    "candidate_set": ("candidates", "set"), "candidate_types": ("candidates", "types"),
    "candidate_communes": ("candidates", "communes"), "candidate_lgn": ("candidates", "lgn"),
    "candidate_ids": ("candidates", "ids"), "candidate_exclude": ("candidates", "exclude"),
    "candidate_suitability": ("candidates", "suitability"), "prefer_dutch": ("candidates", "prefer_dutch"),
    "dutch_only": ("candidates", "dutch_only"),
    "k": ("siting", "k"), "target": ("siting", "target"), "share": ("siting", "share"),
    "priority_share": ("siting", "priority_share"), "time_limit_s": ("siting", "time_limit_s"),
    "node_limit": ("siting", "node_limit"), "priority_served_share": ("siting", "priority_served_share"),
    "mip_gap": ("siting", "mip_gap"),
    "teams": ("rotation", "teams"), "sessions_per_team": ("rotation", "sessions_per_team"),
    "balance_lgn": ("rotation", "balance_lgn"), "every_lgn": ("rotation", "every_lgn"),
    "sessions_per_day": ("rotation", "sessions_per_day"),
}  # fmt: skip

#: The keys the editor changes, with the words it shows (Dutch) and the kind of value.
EDITABLE: dict[str, tuple[str, str]] = {
    "rotation.teams": ("teams", "int"),
    "rotation.sessions_per_team": ("sessies per team per week", "int"),
    "siting.k": ("nieuwe sessies of locaties (k)", "int"),
    "walk.threshold_min": ("wandeldrempel (minuten)", "float"),
    "rotation.slots": ("werkmomenten (dag dagdeel)", "slots"),
    "demand.consultations_age0": ("consultaties per jaar, 0 jaar", "float"),
    "demand.consultations_age1": ("consultaties per jaar, 1 jaar", "float"),
    "demand.consultations_age2": ("consultaties per jaar, 2 jaar", "float"),
    "demand.uptake": ("aandeel gezinnen dat een bureau gebruikt", "float"),
    "demand.dutch_share": ("aandeel gezinnen voor een Nederlandstalig bureau", "float"),
    "capacity.children_per_session": ("kinderen per sessie", "float"),
    "capacity.planned_fill": ("geplande bezetting", "float"),
    "services.open": ("bestaande diensten (sets)", "list"),
    "candidates.exclude": ("uitgesloten locaties", "list"),
    "candidates.set": ("kandidatenset", "str"),
    "curve.max_teams": ("teamscurve tot (0: snelle berekening)", "int"),
}


def scenario_keys(s: Scenario) -> dict[str, Any]:
    """Return every key of a scenario file with the scenario's value, by dotted key (``"rotation.teams"``)."""
    out: dict[str, Any] = {}
    for attr, (table, key) in _KEYS.items():
        value = getattr(s, attr)
        if value is None:
            continue
        out[key if table is None else f"{table}.{key}"] = list(value) if isinstance(value, tuple) else value
    for age, rate in enumerate(s.consultations_per_child):
        out[f"demand.consultations_age{age}"] = rate
    out["rotation.slots"] = [f"{d} {p}" for d, p in s.slots]
    if s.model not in ("rotation", "capacitated_rotation"):
        for key in ("rotation.teams", "rotation.sessions_per_team"):
            out.pop(key, None)
    return {**out, **_sweep_keys(s)}


def _sweep_keys(s: Scenario) -> dict[str, Any]:
    """Return the scenario's ``[sweep]`` table, so a downloaded file sweeps as its source does (``geoplanner sweep``).

    None when the scenario has no range and keeps the table's defaults.
    """
    kept = set(SWEEP_FIELDS) - {"sweep_ranges"}
    defaults = {f.name: f.default for f in dataclasses.fields(Scenario) if f.name in kept}
    if not s.sweep_ranges and all(getattr(s, name) == value for name, value in defaults.items()):
        return {}
    out: dict[str, Any] = {f"sweep.{key}": [low, high] for key, low, high in s.sweep_ranges}
    out.update({"sweep.counts": s.sweep_counts, "sweep.draws": s.sweep_draws, "sweep.seed": s.sweep_seed})
    return out


def _value(v: Any) -> str:
    """Write one TOML value (text as a basic string, JSON escapes being TOML's)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ConfigError(f"not a finite number: {v}")
        return repr(v)
    if isinstance(v, int | str):
        return json.dumps(v, ensure_ascii=False) if isinstance(v, str) else str(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise ConfigError(f"cannot write {type(v).__name__} {v!r} in a scenario file")


def _toml(keys: Mapping[str, Any], comment: str = "") -> str:
    """Write dotted keys as a scenario file: top-level keys first, then one table per group."""
    lines = [f"# {line}" for line in comment.splitlines()]
    tables: dict[str, list[str]] = {}
    for dotted, value in keys.items():
        table, _, key = dotted.rpartition(".")
        if not table:
            lines.append(f"{key} = {_value(value)}")
        else:
            tables.setdefault(table, []).append(f"{key} = {_value(value)}")
    for table, body in tables.items():
        lines += ["", f"[{table}]", *body]
    return "\n".join(lines) + "\n"


def scenario_toml(s: Scenario, comment: str = "") -> str:
    """Return the scenario as a scenario file that :func:`~geoplanner.scenario.parse_scenario` reads back equal."""
    return _toml(scenario_keys(s), comment)


def _coerce(key: str, value: Any) -> Any:
    """Take a value as the browser sends it (numbers of a number field may come as text)."""
    kind = EDITABLE[key][1]
    if kind in ("int", "float") and isinstance(value, str):
        text = value.strip().replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            raise ConfigError(f"must be a number, got {value!r}", column=key) from None
        return int(number) if kind == "int" and number == int(number) else number
    return value


def apply_edits(base: Scenario, edits: Mapping[str, Any], *, name: str | None = None) -> Scenario:
    """Return the scenario with the edits applied, checked as a scenario file is.

    Parameters
    ----------
    base
        The scenario edited.
    edits
        Dotted keys of :data:`EDITABLE` -> new values.
    name
        A new name for the edited scenario (checked like the file's ``name``).

    Raises
    ------
    ConfigError
        An unknown key, or the one line of :func:`~geoplanner.scenario.parse_scenario`, naming the key
        (``column``) without a file or line.
    """
    keys = scenario_keys(base)
    for key, value in edits.items():
        if key not in EDITABLE:
            raise ConfigError(f"'{key}' cannot be edited here", column=key)
        keys[key] = _coerce(key, value)
    if name is not None:
        keys["name"] = name
    try:
        return parse_scenario(_toml(keys))
    except ConfigError as exc:
        raise ConfigError(exc.message, column=exc.column, hint=exc.hint) from None


def editor_fields(s: Scenario) -> list[dict[str, Any]]:
    """Return the editable keys of a scenario with their value, words and source ("aanname", a study, the file)."""
    keys = scenario_keys(s)
    basis = {a.key: a for a in assumptions(s)}
    defaults = {key for key, _, _ in CAPACITY_PARAMETERS}
    fields = []
    for key, (words, kind) in EDITABLE.items():
        a = basis.get(key)
        source = None
        if a is not None and key in defaults:
            source = "scenariobestand" if a.from_file else a.basis.split(":", 1)[0].strip()
        fields.append({"key": key, "label": words, "kind": kind, "value": keys.get(key), "source": source,
                       "basis": None if a is None else a.basis})  # fmt: skip
    return fields
