"""The main job (`geoplanner run`): every step in the order of the data flow, need computed once and shared."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from geoplanner.core import settings
from geoplanner.core.errors import ConfigError
from geoplanner.core.progress import stage
from geoplanner.need import NeedParams
from geoplanner.outputs.manifest import write_manifest
from geoplanner.pipeline.checks import check_run
from geoplanner.pipeline.coverage import CoverageRun, run_coverage
from geoplanner.pipeline.lgn import make_lgn_pages
from geoplanner.pipeline.maps import make_report
from geoplanner.pipeline.rank import RankRun, run_rank
from geoplanner.pipeline.siting import build_context, comparison_tables, write_comparison, write_scenario_outputs
from geoplanner.pipeline.workbook import write_run_workbook
from geoplanner.scenario import ScenarioResult, evaluate, solution_record, with_baseline

__all__ = ["MainRun", "run_all", "scenario_files"]


#: The side-by-side map of the main job: the report's question "priority first or deprivation-weighted?".
_DUAL = ("prioritair_eerst", "kansarmoede_gewogen")


@dataclass
class MainRun:
    """Result of :func:`run_all`: every step's result, the files written and the seconds per stage."""

    rank: RankRun
    coverage: CoverageRun
    scenarios: list[ScenarioResult]
    comparison: pd.DataFrame
    outputs: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, Any] = field(default_factory=dict)


def scenario_files(folder: Path | None = None) -> list[Path]:
    """Return the scenario files of ``folder`` (default ``./scenarios``), sorted by name.

    Raises
    ------
    ConfigError
        If there is no such folder (a run started from another folder would otherwise run no scenario).
    """
    folder = Path(folder) if folder is not None else Path.cwd() / "scenarios"
    if not folder.is_dir():
        raise ConfigError(
            "no scenarios folder here, so no scenario would run",
            path=folder,
            hint="give the scenario files (geoplanner run A.toml B.toml), run from the project folder, or make an "
            "empty scenarios/ folder to run without scenarios",
        )
    return sorted(folder.glob("*.toml"))


def run_all(
    out_dir: Path | None = None,
    *,
    scenarios: list[Path] | None = None,
    params: NeedParams | None = None,
    data_dir: Path | None = None,
    network: Path | None = None,
    lang: str = "nl",
    self_contained: bool = False,
    cache: bool = True,
    config_path: Path | None = None,
) -> MainRun:
    """Run the main job, one step after the other in the order of the data flow.

    need and priority wijken (:func:`run_rank`) → walking access to every service set
    (``outputs/coverage/``) → each siting scenario (``outputs/<scenario>/``) and their comparison
    (``outputs/compare/``) → maps (``outputs/maps/``) and the report (``outputs/report.html``) → a page per
    local network (``outputs/lgn/``) → the workbook (``outputs/geoplanner.xlsx``).
    The need step, the network and the scenario solutions are computed once and shared; solutions
    are also reused across runs (:mod:`geoplanner.cache`). ``manifest_run.json`` in
    ``out_dir`` records the whole run: scenario files, every output, where each solution came
    from (``solution_cache``) and the seconds of each stage (``timings_s``). Each stage is
    reported to a :mod:`geoplanner.core.progress` reporter when one is set. Every option, scenario file,
    bundle file and the network are checked first (:func:`geoplanner.pipeline.checks.check_run`), so a
    mistake stops the run before its first step writes anything.

    Parameters
    ----------
    out_dir
        Output root (default :func:`settings.output_dir`).
    scenarios
        Scenario files (default: every ``scenarios/*.toml``).
    params
        Need and score parameters.
    data_dir
        Data folder.
    network
        Walking-network file (default: the bundle's).
    lang
        Language of maps and report (``nl``, ``fr``, ``en``).
    self_contained
        Write maps that work offline (needs ``geoplanner assets fetch`` once).
    cache
        Reuse scenario solutions stored under the cache folder (:mod:`geoplanner.cache`).
    config_path
        The file ``params`` were read from (``--config``): named in errors about a parameter, recorded in
        ``manifest_rank.json``.

    Returns
    -------
    MainRun
    """
    out_dir = Path(out_dir or settings.output_dir())
    paths = scenario_files() if scenarios is None else [Path(p) for p in scenarios]
    timings: dict[str, Any] = {}
    started = time.perf_counter()
    with stage("opties en invoer controleren", into=timings, key="checks"):
        # every option, scenario file, bundle file and the network, before the first step writes anything
        checked = check_run(out_dir, scenarios=paths, network=network, lang=lang, self_contained=self_contained,
                            data_dir=data_dir)  # fmt: skip
    ordered = with_baseline(checked.scenarios)
    with stage("behoefte en prioritaire wijken", into=timings, key="rank"):
        ranked = run_rank(out_dir, params=params, data_dir=data_dir, config_path=config_path)
    with stage("wandeltoegang tot de diensten", into=timings, key="coverage"):
        net = checked.network  # loaded once by check_run, shared with the scenarios
        coverage = run_coverage(
            out_dir / "coverage", network_path=net, data_dir=data_dir, need=ranked.need, cache=cache
        )
    with stage("netwerk en vraagpunten", into=timings, key="context"):
        # the coverage step's demand points and snapping (same need, network and default tolerance)
        context = build_context(
            data_dir, network=net, need=ranked.need, cache=cache, points=coverage.demand, snapped=coverage.demand_snap
        )
    outputs = [*ranked.outputs, *coverage.outputs]
    results = []
    timings["scenarios"] = {}
    for s in ordered:
        with stage(f"scenario {s.name}", into=timings["scenarios"], key=s.name):
            results.append(evaluate(s, context))
            outputs += write_scenario_outputs(results[-1], out_dir / s.name, wijken=context.ranking)
    with stage("scenario's vergelijken", into=timings, key="compare"):
        # made once: the CSVs, the report, the LGN pages and the workbook show these same rounded tables
        compared = comparison_tables(results, context.ranking)
        table, per_lgn, written = write_comparison(results, out_dir / "compare", tables=compared)
    outputs += written
    with stage("kaarten en rapport", into=timings, key="report"):
        report = make_report(
            results, context, out_dir, lang=lang, self_contained=self_contained, data_dir=data_dir,
            scenario_paths=paths, dual=_DUAL if set(_DUAL) <= {r.scenario.name for r in results} else None,
            comparison=compared,
        )  # fmt: skip
    outputs += report.outputs
    with stage("een pagina per LGN", into=timings, key="lgn"):
        # the same maps' data and the same rounded comparison per LGN as the report and the CSVs
        pages = make_lgn_pages(results, context, out_dir, lang=lang, self_contained=self_contained, data_dir=data_dir,
                               datas=report.datas, scenario_paths=paths, command="geoplanner run",
                               comparison=compared)  # fmt: skip
    outputs += pages.outputs
    notes = list(dict.fromkeys([*ranked.notes, *coverage.notes.values(), *report.notes]))
    with stage("werkmap voor een rekenblad", into=timings, key="workbook"):
        # the Excel deliverable, from the tables exactly as their CSVs hold them (workbook.write_run_workbook)
        outputs += write_run_workbook(out_dir, rank=ranked, coverage=coverage, comparison=table,
                                      comparison_lgn=per_lgn, results=results, notes=notes, lang=lang,
                                      sweeps=report.sweeps, comparison_wijk=compared[2])  # fmt: skip
    timings["total"] = round(time.perf_counter() - started, 3)
    manifest = write_manifest(
        out_dir,
        command="run",
        inputs=paths,
        parameters={
            "scenarios": [s.name for s in ordered],
            "network": str(net.source),
            "network_sha256": net.sha256,
            "lang": lang,
            "self_contained": self_contained,
            "cache": cache,
        },
        outputs=outputs,
        notes=notes,
        name="manifest_run.json",
        extra={
            "timings_s": timings,
            "solution_cache": {r.scenario.name: solution_record(r) for r in results},
        },
    )
    return MainRun(ranked, coverage, results, table, [*outputs, manifest], notes, timings)
