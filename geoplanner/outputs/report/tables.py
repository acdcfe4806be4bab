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
from geoplanner.scenario.measures import MEASURES

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
        "pop_unreachable",
        "children",
        "consultations_demand",
        "consultations_served",
        "sessions_per_week",
    }  # fmt: skip
) | {m.column for m in MEASURES if m.kind == "count"}
_MEASURE_KINDS = {m.column: m.kind for m in MEASURES}


def _column_kind(col: str) -> str:
    """How a column's numbers are shown: 'share' (%), 'minutes' (1 decimal), 'count', 'seconds' or 'number'."""
    if col in _MEASURE_KINDS:
        return _MEASURE_KINDS[col]
    if col.startswith("share") or col.endswith("_share"):
        return "share"
    if col in _COUNT_COLUMNS or col.startswith("within_") or col.startswith("consultations_"):
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


def comparison_rows(comparison: pd.DataFrame, *, lang: str = DEFAULT_LANG, hide: Sequence[str] = ()) -> dict[str, Any]:
    """Every measure of every scenario, one row per measure and one column per scenario (fits A4 upright).

    Parameters
    ----------
    comparison
        :func:`geoplanner.scenario.compare`'s table; the measures of :data:`geoplanner.scenario.MEASURES` are
        shown in their order, with their labels in ``lang``.
    lang
        ``nl`` (default), ``fr`` or ``en``.
    hide
        Measures left out (the walking times, when the known bureaus are too few for them to mean anything).
    """
    table = LABELS[check_lang(lang)]
    titles = [str(t or s) for t, s in zip(comparison.get("title", comparison["scenario"]), comparison["scenario"],
                                          strict=True)]  # fmt: skip
    rows = []
    for m in MEASURES:
        if m.column not in comparison.columns or m.column in hide:
            continue
        text = table.get(m.column, m.column)
        rows.append([text[:1].upper() + text[1:], *(format_cell(v, m.kind, lang) for v in comparison[m.column])])
    note = label("walk_times_hidden", lang) if any(c in comparison.columns for c in hide) else None
    return {"header": ["", *titles], "rows": rows, "note": note}


def unserved_rows(table: pd.DataFrame, *, lang: str = DEFAULT_LANG) -> dict[str, Any]:
    """Header + rows of a per-wijk table of consultations: asked, served, unserved by distance and by capacity.

    The wijk's LGN (number and name) follows its name when the table has it, so a coordinator finds their own.
    """
    name = "name_nl" if lang != "fr" else "name_fr"
    cols = {"mdrc": "MDRC", name: label("wijk", lang), "lgn": label("lgn", lang), "lgn_name": ""}
    for col in (
        "consultations_demand",
        "consultations_served_existing",
        "consultations_served_new",
        "consultations_unserved_distance",
        "consultations_unserved_capacity",
        "share_consultations_served",
    ):
        cols[col] = label(col, lang)  # fmt: skip
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


def coverage_rows(per_lgn: pd.DataFrame, *, lang: str = DEFAULT_LANG) -> dict[str, Any]:
    """Header + rows of reach and service per LGN and scenario (:func:`geoplanner.scenario.compare`'s ``per_lgn``).

    No walking time is shown here: with the known bureaus far from complete, a mean time per LGN would read as a
    finding about Brussels' bureaus rather than about the lists.
    """
    c = per_lgn.copy()
    if "title" in c.columns:
        c["scenario"] = c["title"]
    cols = {"lgn": label("lgn", lang), "lgn_name": "", "scenario": label("scenario_title", lang),
            "children": f"{label('pop_0_2', lang)} ({label('estimated', lang)})"}  # fmt: skip
    for col in (
        "children_within_threshold",
        "share_within_threshold",
        "consultations_served",
        "share_consultations_served",
        "sessions_per_week",
    ):
        cols[col] = label(col, lang)  # fmt: skip
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
