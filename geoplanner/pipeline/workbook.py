"""The Excel deliverable written: ``geoplanner.xlsx`` and its manifest, from the tables of a run.

:mod:`geoplanner.outputs.workbook` builds the workbook's bytes; this module writes them atomically
(inside :func:`geoplanner.outputs.files.output_step` the file lands with the step's other outputs).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from geoplanner.core import settings
from geoplanner.core.i18n import DEFAULT_LANG
from geoplanner.outputs.files import output_step, write_bytes
from geoplanner.outputs.manifest import write_manifest
from geoplanner.outputs.workbook import WORKBOOK_NAME, Sheet, glossary, main_job_sheets, workbook_bytes
from geoplanner.pipeline.siting import comparison_tables, scenario_tables

if TYPE_CHECKING:
    from geoplanner.pipeline.coverage import CoverageRun
    from geoplanner.pipeline.rank import RankRun
    from geoplanner.scenario import ScenarioResult
    from geoplanner.scenario.sweep import SweepTables

__all__ = ["write_workbook", "write_run_workbook", "RUN_LEVELS"]

#: Coverage levels the main job's workbook shows (the sector table stays in its CSV and GeoPackage).
RUN_LEVELS = ("region", "lgn", "commune", "wijk", "priority_wijken")


def write_workbook(
    target: str | Path,
    sheets: Sequence[Sheet],
    notes: Sequence[str] = (),
    *,
    lang: str = DEFAULT_LANG,
    title: str | None = None,
    attribution: Sequence[str] = settings.ATTRIBUTION,
    glossary: Sequence[tuple[str, str]] = (),
) -> Path:
    """Write an .xlsx workbook (:func:`geoplanner.outputs.workbook.workbook_bytes`) atomically to ``target``.

    Parameters
    ----------
    target
        The ``.xlsx`` path. Inside :func:`geoplanner.outputs.files.output_step` the file lands with the
        step's other outputs.
    sheets, notes, lang, title, attribution, glossary
        As :func:`geoplanner.outputs.workbook.workbook_bytes`.

    Returns
    -------
    pathlib.Path
        ``target``.
    """
    data = workbook_bytes(sheets, notes, lang=lang, title=title, attribution=attribution, glossary=glossary)
    return write_bytes(target, data)


def write_run_workbook(
    out_dir: str | Path,
    *,
    rank: RankRun,
    coverage: CoverageRun,
    comparison: pd.DataFrame,
    comparison_lgn: pd.DataFrame,
    results: Sequence[ScenarioResult],
    notes: Sequence[str] = (),
    lang: str = DEFAULT_LANG,
    sweeps: Sequence[SweepTables] = (),
    comparison_wijk: pd.DataFrame | None = None,
) -> list[Path]:
    """Write the main job's ``geoplanner.xlsx`` and its manifest into ``out_dir`` as one step.

    The sheets are the tables the run wrote to CSV (:func:`geoplanner.outputs.workbook.main_job_sheets`):
    the ranking, coverage per region, LGN, commune, wijk and priority wijken, the scenario comparison
    (and per LGN and per wijk, with each wijk's LGN to filter on) and each scenario's timetable. The manifest
    ``manifest_workbook.json`` records those CSV files as its inputs (with their sha256), so the workbook can be
    traced to them.

    Parameters
    ----------
    out_dir
        The run's output root.
    rank
        :func:`geoplanner.pipeline.run_rank`'s result (its ``table`` is ``priority_wijken.csv``).
    coverage
        The coverage step's result (``tables`` by level, ``outputs``).
    comparison, comparison_lgn
        :func:`geoplanner.scenario.write_comparison`'s tables.
    results
        The scenario results, in comparison order (their ``timetable``).
    notes
        The run's notes (estimates, incomplete layers), shown first.
    lang
        Language of headers, sheet names and the notes sheet.
    sweeps
        The sweeps the report showed (:attr:`geoplanner.pipeline.maps.MapsRun.sweeps`): their venues, a sheet each.
    comparison_wijk
        ``comparison_wijk.csv``'s table when the run made it (made here when not given).

    Returns
    -------
    list of pathlib.Path
        The workbook and its manifest.
    """
    out = Path(out_dir)
    priority = rank.table if rank.table is not None else rank.ranking
    levels = {lv: coverage.tables[lv] for lv in RUN_LEVELS if lv in coverage.tables}
    # the tables exactly as the scenario and comparison steps wrote them (same functions, same rounding)
    tables = {r.scenario.name: scenario_tables(r, rank.ranking) for r in results}
    timetables = {name: t["timetable"] for name, t in tables.items() if "timetable" in t}
    per_wijk = comparison_wijk
    if per_wijk is None and results:
        per_wijk = comparison_tables(results, rank.ranking)[2]
    sheets = main_job_sheets(priority=priority, coverage=levels, comparison=comparison, comparison_lgn=comparison_lgn,
                             timetables=timetables, lang=lang, comparison_wijk=per_wijk,
                             sweeps={s.scenario: s.sites for s in sweeps})  # fmt: skip
    wanted = {"priority_wijken.csv", *(f"coverage_{lv}.csv" for lv in levels)}
    sources = [p for p in [*rank.outputs, *coverage.outputs] if Path(p).name in wanted]
    sources += [out / "compare" / f"{stem}.csv" for stem in ("comparison", "comparison_lgn", "comparison_wijk")]
    sources += [out / name / "timetable.csv" for name in timetables]
    sources += [out / s.scenario / "sweep_sites.csv" for s in sweeps]
    with output_step(out, manifest="manifest_workbook.json"):
        target = write_workbook(out / WORKBOOK_NAME, sheets, notes, lang=lang, glossary=glossary(lang))
        manifest = write_manifest(
            out,
            command="geoplanner run",
            inputs=[p for p in sources if Path(p).is_file()],
            parameters={"lang": lang, "sheets": [s.name for s in sheets]},
            outputs=[target],
            notes=list(notes),
            name="manifest_workbook.json",
        )
    return [target, manifest]
