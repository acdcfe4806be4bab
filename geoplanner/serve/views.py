"""What the browser gets: results, comparisons and import reports as plain JSON (numbers, text, WGS84 points).

Text from data or from the user travels as JSON strings and is put into the page with ``textContent`` by the front
end, never as HTML: a venue called ``<img src=x onerror=alert(1)>`` shows as those characters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pyproj import Transformer

from geoplanner.core import settings
from geoplanner.core.i18n import label
from geoplanner.inputs.services import SERVICE_COLUMNS, ServiceSet
from geoplanner.inputs.user_services import ImportReport
from geoplanner.outputs.files import csv_safe
from geoplanner.outputs.precision import csv_decimals, round_for_csv
from geoplanner.outputs.report.charts import chart_uri, tradeoff_chart
from geoplanner.outputs.report.tables import comparison_rows
from geoplanner.pipeline.siting import comparison_tables
from geoplanner.scenario import MEASURES, ScenarioResult, measure_label

__all__ = ["plain", "records", "to_wgs84", "result_view", "comparison_view", "import_view", "venues_csv"]

_TO_WGS84 = Transformer.from_crs(settings.CRS, settings.WGS84, always_xy=True)


def plain(v: Any) -> Any:
    """Return a JSON-safe value: numpy scalars as Python numbers, NaN and infinity as None."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [plain(x) for x in v]
    if isinstance(v, int | float | str | bool):
        return v
    return str(v)


def records(frame: pd.DataFrame | None, columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Return a table's rows as JSON-safe dicts (only ``columns`` when given)."""
    if frame is None or not len(frame):
        return []
    cols = [c for c in (columns or frame.columns) if c in frame.columns]
    return [{c: plain(v) for c, v in zip(cols, row, strict=True)} for row in frame[cols].itertuples(index=False)]


def to_wgs84(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return lon, lat (rounded to 6 decimals) of Lambert 72 points."""
    lon, lat = _TO_WGS84.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.round(lon, 6), np.round(lat, 6)


_TIMETABLE = ("team", "dag", "dagdeel", "venue_id", "venue_name", "lgn", "type", "dutch_speaking", "capacity",
              "expected_attendance", "utilisation")  # fmt: skip
_SITES = ("rank", "id", "name", "type", "lgn", "sessions_per_week", "consultations_per_year", "utilisation",
          "marginal_children")  # fmt: skip
_CURVE = ("teams", "sessions_per_week", "consultations_served", "share_priority_served", "floors", "status")


def result_view(r: ScenarioResult, lang: str = "nl") -> dict[str, Any]:
    """Return a result as the editor shows it: the measures of the comparison, sites, timetable, notes, curve."""
    s = r.scenario
    sites = records(r.sites, _SITES)
    if len(r.sites):
        lon, lat = to_wgs84(r.sites["x"].to_numpy(), r.sites["y"].to_numpy())
        for row, a, b in zip(sites, lon, lat, strict=True):
            row.update(lon=float(a), lat=float(b))
    measures = [{"column": m.column, "label": measure_label(m.column, lang), "kind": m.kind,
                 "value": _rounded(m.column, r.summary.get(m.column))} for m in MEASURES]  # fmt: skip
    return {
        "scenario": s.name,
        "title": s.label,
        "model": s.model,
        "measures": measures,
        "sites": sites,
        "timetable": records(round_for_csv(r.timetable), _TIMETABLE),
        "per_lgn": records(round_for_csv(r.per_lgn)),
        "curve": records(None if r.curve is None else round_for_csv(r.curve), _CURVE),
        "teams_needed": plain(r.teams_needed),
        "by_dutch_share": records(r.by_dutch_share),
        "notes": list(r.notes),
        "assumptions": [
            {"key": a.key, "label": a.label, "value": a.value_text, "source": a.source} for a in r.assumptions
        ],  # fmt: skip
        "status": plain(r.summary.get("status")),
        "from_cache": bool(r.cache and r.cache.get("hit")),
    }


def _rounded(column: str, v: Any) -> Any:
    """Return a measure as every output shows it (:mod:`geoplanner.outputs.precision`)."""
    v = plain(v)
    return round(v, csv_decimals(column)) if isinstance(v, float) else v


def comparison_view(results: Sequence[ScenarioResult], lang: str = "nl", cache: bool = True) -> dict[str, Any]:
    """Return the comparison of results as the report shows it: every measure per scenario, the trade-off chart."""
    table, _, _ = comparison_tables(results)  # rounded as the CSVs, the workbook and the report have it
    rows = comparison_rows(table, lang=lang)
    chart = chart_uri("tradeoff", {"comparison": table}, lang, lambda: tradeoff_chart(table, lang=lang), cache)
    return {"header": rows["header"], "rows": rows["rows"], "note": rows.get("note"), "chart": chart,
            "efficient": [bool(x) for x in table["efficient"]], "title": label("comparison_table", lang)}  # fmt: skip


def import_view(report: ImportReport, set_name: str, shown_as: str) -> dict[str, Any]:
    """Return an import report: every row placed (with its radius) or not (with the reason), and the warnings."""
    rows = records(report.rows, ("id", "name", "placed", "accuracy", "uncertainty_m", "reason"))
    return {"set": set_name, "file": shown_as, "placed": report.n_placed, "unplaced": report.n_unplaced,
            "rows": rows, "warnings": list(report.warnings)}  # fmt: skip


def venues_csv(ss: ServiceSet) -> str:
    """Return a session's venue set as a service list ``geoplanner services import`` takes (WGS84, formula-safe)."""
    pts = ss.points
    lon, lat = to_wgs84(pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy())
    cols = [c for c in (*SERVICE_COLUMNS, "suitability") if c in pts.columns and c not in ("lat", "lon")]
    table = pd.DataFrame(pts[cols]).assign(lat=lat, lon=lon)
    return csv_safe(table).to_csv(index=False, lineterminator="\n")
