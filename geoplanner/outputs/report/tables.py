"""The report's tables: numbers formatted for a reader, headers localised, rows as display strings.

Every builder returns ``{"header": [...], "rows": [[...], ...]}`` for the report's template.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from geoplanner.core.i18n import DEFAULT_LANG, LABELS, check_lang, fmt_num, label
from geoplanner.inputs.lgn import lgn_table
from geoplanner.outputs.maps.data import MAP_THRESHOLDS, sector_coverage

__all__ = [
    "format_cell",
    "table_rows",
    "comparison_rows",
    "unserved_rows",
    "priority_rows",
    "coverage_rows",
    "lgn_coverage",
]


#: Columns shown as whole numbers (children are estimates: decimals would suggest false precision).
_COUNT_COLUMNS = frozenset(
    {
        "births",
        "pop_0_2",
        "children_total",
        "children_covered",
        "priority_wijken",
        "priority_wijken_reached",
        "n_new_sites",
        "pop_unreachable",
        # capacitated models: consultations and children are estimates, teams and sessions whole numbers
        "consultations",
        "consultations_demand",
        "consultations_served",
        "served_existing",
        "served_new",
        "unserved_distance",
        "unserved_capacity",
        "children_served",
        "children_in_reach",
        "sessions_per_week",
        "teams",
        "teams_needed",
    }
)


def _column_kind(col: str) -> str:
    """How a column's numbers are shown: 'share' (%), 'minutes' (1 decimal), 'count', 'seconds' or 'number'."""
    if col.startswith("share") or col.endswith("_share"):
        return "share"
    if col in _COUNT_COLUMNS or col.startswith("within_"):
        return "count"
    if col.endswith("_min") and col != "threshold_min":
        return "minutes"
    if col.endswith("_s"):
        return "seconds"
    return "number"


def format_cell(v: Any, kind: str, lang: str) -> str:
    """Return a value as the report's tables show it.

    ``kind`` (see :func:`table_rows`): ``share`` (%), ``count``, ``minutes``, ``seconds`` or ``number``;
    booleans are yes/no and missing values a dash.
    """
    if isinstance(v, bool | np.bool_):
        return label("yes", lang) if v else label("no", lang)
    if v is None or (isinstance(v, float | np.floating) and math.isnan(v)):
        return "–"
    if not isinstance(v, int | np.integer | float | np.floating):
        return str(v)
    if kind == "share":
        return fmt_num(100 * float(v), lang, 1) + " %"
    if kind == "count":
        return fmt_num(float(round(float(v))), lang, 0)
    if kind == "minutes":
        return fmt_num(float(v), lang, 1)
    if kind == "seconds":
        return fmt_num(float(v), lang, 2)
    if isinstance(v, int | np.integer):
        return str(int(v))
    return fmt_num(float(v), lang, 0 if abs(v) >= 100 or float(v).is_integer() else 2)


def table_rows(frame: pd.DataFrame, columns: Mapping[str, str], *, lang: str = DEFAULT_LANG) -> dict[str, Any]:
    """Turn a DataFrame into header + rows of display strings (numbers formatted for ``lang``).

    Shares (``share*``, ``*_share``) become percentages with one decimal, walking times
    (``*_min``) get one decimal, children and other counts are whole numbers, ``*_s`` seconds
    two decimals; missing values show as a dash.

    Parameters
    ----------
    frame
        The table.
    columns
        Column name -> header label, in display order; columns absent from ``frame`` are left out.
    lang
        Number format.
    """
    cols = [c for c in columns if c in frame.columns]
    kinds = {c: _column_kind(str(c)) for c in cols}
    rows = [[format_cell(r[c], kinds[c], lang) for c in cols] for _, r in frame[cols].iterrows()]
    return {"header": [columns[c] for c in cols], "rows": rows}


#: Column of :func:`geoplanner.scenario.compare` -> label key of its header.
_COMPARISON_HEADERS = {
    "scenario": "scenario_title",
    "model": "model",
    "demand": "demand",
    "threshold_min": "threshold",
    "children_total": "children_total",
    "children_covered": "children_covered",
    "share_covered": "share_reached",
    "deprivation_weighted_share": "deprivation_weighted_share",
    "priority_wijken_reached": "priority_reached",
    "priority_wijken": "priority_wijken",
    "mean_min": "mean_min",
    "p90_min": "p90_min",
    "n_new_sites": "n_sites",
    "status": "status",
    "solve_s": "solve_s",
    # capacitated models
    "children_in_reach": "children_in_reach",
    "consultations_demand": "consultations_demand",
    "consultations_served": "consultations_served",
    "share_consultations_served": "share_consultations_served",
    "share_priority_served": "share_priority_served",
    "unserved_distance": "unserved_distance",
    "unserved_capacity": "unserved_capacity",
    "sessions_per_week": "sessions_per_week",
    "peak_utilisation_share": "peak_utilisation_share",
    "solver_gap": "solver_gap",
    "teams_needed": "teams_needed",
    "teams_target_share": "teams_target_share",
}
#: Columns whose codes (model, demand kind, solver status) have a label ``<column>_<code>``.
_CODED_COLUMNS = ("model", "demand", "status")


def comparison_rows(comparison: pd.DataFrame, *, lang: str = DEFAULT_LANG) -> dict[str, Any]:
    """Header + rows of the scenario comparison, with localised headers and codes.

    Parameters
    ----------
    comparison
        :func:`geoplanner.scenario.compare`'s table. Every column is shown in order; a column
        without a label keeps its name, a code without a label stays as it is.
    lang
        ``nl`` (default), ``fr`` or ``en``.
    """
    table = LABELS[check_lang(lang)]
    frame = comparison.copy()
    for col in _CODED_COLUMNS:
        if col in frame.columns:
            # '-' is how compare() writes "not applicable" (no model run)
            frame[col] = frame[col].map(lambda v, col=col: None if v == "-" else table.get(f"{col}_{v}", v))
    headers = {}
    for col in frame.columns:
        key = _COMPARISON_HEADERS.get(str(col))
        text = table[key] if key else str(col)
        kind = _column_kind(str(col))
        if col in ("children_total", "children_covered"):  # children 0-2 per sector are estimates
            text += f" ({table['estimated']})"
        if col == "threshold_min" or kind == "minutes":
            text += f" ({table['minutes']})"
        headers[col] = text[:1].upper() + text[1:]
    return table_rows(frame, headers, lang=lang)


def unserved_rows(table: pd.DataFrame, *, lang: str = DEFAULT_LANG) -> dict[str, Any]:
    """Header + rows of a per-wijk table of consultations: asked, served, unserved by distance and by capacity."""
    cols = {
        "mdrc": "MDRC",
        "name_nl" if lang != "fr" else "name_fr": label("wijk", lang),
        "consultations": f"{label('consultations_demand', lang)} ({label('estimated', lang)})",
        "served_existing": label("served_existing", lang),
        "served_new": label("served_new", lang),
        "unserved_distance": label("unserved_distance", lang),
        "unserved_capacity": label("unserved_capacity", lang),
        "share_consultations_served": label("share_consultations_served", lang),
    }
    return table_rows(table, cols, lang=lang)


def priority_rows(priority: pd.DataFrame, *, lang: str = DEFAULT_LANG) -> tuple[dict[str, Any], bool]:
    """Header + rows of the priority wijken and the near misses, in rank order.

    Parameters
    ----------
    priority
        The wijk ranking (``rank_wijken`` output): ``priority`` rows are listed, and the near misses
        (``near_miss``: just outside, selected by most plausible variations) when the column is there.
    lang
        ``nl`` (default), ``fr`` or ``en``.

    Returns
    -------
    table : dict
        ``header`` and ``rows``.
    stability : bool
        Whether the ranking carries its stability (``p_top``): the report then adds its note.
    """
    name_col = "name_fr" if lang == "fr" else "name_nl"
    near = priority["near_miss"].astype(bool) if "near_miss" in priority.columns else False
    p = priority[priority["priority"].astype(bool) | near].sort_values("rank")
    cols = {
        "rank": label("rank", lang),
        "mdrc": "MDRC",
        name_col: label("wijk", lang),
        "commune_names": label("commune", lang),
        "lgn_name": label("lgn", lang),
        "births": label("births_wijk", lang),
        "pop_0_2": label("pop_0_2", lang),
        "births_status": label("figure_status", lang),
        "deprivation": label("deprivation", lang),
        "score": label("score", lang),
    }
    shown = p.assign(rank=p["rank"].astype(int))
    shown["births_status"] = shown["births_status"].map(lambda v: label(v, lang) if v in LABELS[lang] else v)
    stability = "p_top" in p.columns and bool(p["p_top"].notna().any())
    if stability:
        shown["p_top_share"] = shown["p_top"]  # shown as a percentage
        cols["p_top_share"] = label("p_top", lang)
        cols["stability"] = label("stability", lang)
        shown["stability"] = [
            label(f"stability_{c}", lang) + (f" ({label('near_miss', lang)})" if m else "")
            for c, m in zip(shown["stability"], shown["near_miss"].astype(bool), strict=True)
        ]
    return table_rows(shown, cols, lang=lang), stability


def coverage_rows(coverage_lgn: pd.DataFrame, *, lang: str = DEFAULT_LANG) -> dict[str, Any]:
    """Header + rows of the coverage per LGN and scenario (or service set): children, shares, mean time."""
    key = "scenario" if "scenario" in coverage_lgn.columns else "service_set"
    c = coverage_lgn.sort_values(["lgn", key])
    cols = {"lgn": label("lgn", lang), "lgn_name": "", key: label("scenario_title", lang)}
    cols["pop_0_2"] = f"{label('pop_0_2', lang)} ({label('estimated', lang)})"
    for t in (5, 10, 15, 20):
        if f"within_{t}_min" in c.columns:
            cols[f"share_within_{t}_min"] = f"{label('share_covered', lang)} {t} {label('minutes', lang)}"
    cols["mean_min"] = f"{label('mean_min', lang)} ({label('minutes', lang)})"
    return table_rows(c, cols, lang=lang)


def lgn_coverage(points: pd.DataFrame, *, scenario: str, thresholds: Sequence[int] = MAP_THRESHOLDS) -> pd.DataFrame:
    """Aggregate a scenario's demand points per LGN (lgn, lgn_name, scenario, pop_0_2, shares, mean_min)."""
    p = pd.DataFrame(points[["lgn", "children", "minutes"]]).rename(columns={"lgn": "cd_sector"})
    out = sector_coverage(p, set_name=scenario, thresholds=thresholds).rename(
        columns={"cd_sector": "lgn", "service_set": "scenario"}
    )
    names = lgn_table().drop_duplicates("lgn").set_index("lgn")["lgn_name"]
    out.insert(1, "lgn_name", out["lgn"].map(names))
    return out
