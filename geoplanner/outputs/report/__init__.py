"""One HTML report for policymakers: priority wijken, coverage per LGN, scenarios, maps, charts.

Plain inputs (DataFrames, PNG figures), one self-contained HTML page out (:func:`render_report` returns
its text; :mod:`geoplanner.pipeline.maps` writes it): images are embedded as ``data:`` URIs, links point
to the interactive maps beside it.

- :mod:`~geoplanner.outputs.report.tables`: the tables, numbers formatted for a reader;
- :mod:`~geoplanner.outputs.report.summary`: the one-page summary and the notes;
- :mod:`~geoplanner.outputs.report.charts`: the charts (matplotlib, as PNG data URIs);
- :mod:`~geoplanner.outputs.report.render`: the page (Jinja template ``templates/report.html.j2``).
"""

from geoplanner.outputs.report.charts import coverage_bars, gain_curve, teams_chart
from geoplanner.outputs.report.render import ReportInputs, ReportMap, render_report, teams_section
from geoplanner.outputs.report.summary import group_notes, summary_section
from geoplanner.outputs.report.tables import comparison_rows, lgn_coverage, table_rows, unserved_rows

__all__ = [
    "ReportInputs",
    "ReportMap",
    "comparison_rows",
    "coverage_bars",
    "gain_curve",
    "group_notes",
    "lgn_coverage",
    "teams_chart",
    "teams_section",
    "unserved_rows",
    "render_report",
    "summary_section",
    "table_rows",
]
