"""Siting scenarios from their files to their outputs: load and check, build the context, evaluate, write.

The engine (:mod:`geoplanner.scenario`) evaluates a scenario in memory; the functions here read the files
it needs, build the shared :class:`~geoplanner.scenario.SitingContext` once, and write each scenario's folder
and the comparison as steps (:func:`geoplanner.outputs.files.output_step`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geoplanner.access.demand import check_network_fit, demand_points
from geoplanner.access.network import SnapResult, WalkNetwork, snap_points
from geoplanner.core import settings
from geoplanner.inputs.areas import load_sectors
from geoplanner.inputs.bundle import dataset_path
from geoplanner.inputs.config import read_text_file
from geoplanner.inputs.lgn import with_lgn_names
from geoplanner.inputs.services import ServiceSet, load_services, service_set_names
from geoplanner.need import Need
from geoplanner.outputs.files import output_step, write_csv, write_gpkg, write_text
from geoplanner.outputs.manifest import write_manifest
from geoplanner.outputs.precision import round_for_csv
from geoplanner.pipeline.load import load_network
from geoplanner.pipeline.load import need as load_need
from geoplanner.scenario import (
    Scenario,
    ScenarioResult,
    SitingContext,
    check_against_data,
    compare,
    evaluate,
    make_context,
    parse_scenario,
    solution_record,
    teams_curves,
    wijk_measures,
    with_baseline,
)

__all__ = [
    "load_scenario",
    "load_service_sets",
    "ServiceSets",
    "build_context",
    "evaluate_files",
    "scenario_tables",
    "wijk_labels",
    "comparison_tables",
    "write_scenario_outputs",
    "write_comparison",
]

#: Bundle datasets listed as the context's inputs in every scenario's manifest (when present).
_CONTEXT_DATASETS = ("sectors", "wijk_indicators", "pop_age_commune", "ghsl_population", "osm_walk_graphml")


def load_service_sets(names: Iterable[str], data_dir: Path | None = None) -> dict[str, ServiceSet]:
    """Load the named service sets (each once), by name."""
    return {name: load_services(name, data_dir) for name in dict.fromkeys(names)}


class ServiceSets(Mapping[str, ServiceSet]):
    """Every service set of the data folder by name, each read the first time a scenario asks for it.

    A broken file of a set no scenario uses is never read, so it cannot stop a run.
    """

    def __init__(self, data_dir: Path | None = None) -> None:
        self._data_dir = data_dir
        self._names = service_set_names(data_dir)
        self._loaded: dict[str, ServiceSet] = {}

    def __getitem__(self, name: str) -> ServiceSet:
        if name not in self._names:
            raise KeyError(name)
        if name not in self._loaded:
            self._loaded[name] = load_services(name, self._data_dir)
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def load_scenario(path: str | Path, *, data_dir: Path | None = None, check_data: bool = True) -> Scenario:
    """Read, parse and validate a scenario file, including its sets, ids and types against the data.

    Parameters
    ----------
    path
        The ``.toml`` file.
    data_dir
        Data folder (for the checks against the data).
    check_data
        Check service sets, closed ids, candidate ids and types against the data.

    Returns
    -------
    Scenario

    Raises
    ------
    ConfigError
        Naming the file, the line and the key of the first mistake.
    """
    path = Path(path)
    text = read_text_file(path, what="scenario file")
    scenario = parse_scenario(text, path)
    if check_data:
        known = service_set_names(data_dir)
        named = [n for n in (*scenario.open_sets, scenario.candidate_set) if n in known]
        check_against_data(scenario, text, load_service_sets(named, data_dir), known)
    return scenario


def build_context(
    data_dir: Path | None = None,
    *,
    network: Path | WalkNetwork | None = None,
    need: Need | None = None,
    cache: bool = True,
    points: gpd.GeoDataFrame | None = None,
    snapped: SnapResult | None = None,
) -> SitingContext:
    """Load the network, the need step and every service set, and make the context scenarios share.

    Parameters
    ----------
    data_dir
        Data folder.
    network
        Network file (default: the bundle's walk network), or a network already loaded.
    need
        The need step's result to reuse (built here if omitted).
    cache
        Let :func:`geoplanner.scenario.evaluate` reuse stored solutions (False: solve every time).
    points, snapped
        The :func:`geoplanner.access.demand.demand_points` of ``need`` and their snapping on ``network``
        (default tolerance), already made and checked by the coverage step; made here if omitted.

    Returns
    -------
    SitingContext
    """
    net = network if isinstance(network, WalkNetwork) else load_network(network, data_dir=data_dir)
    built = need if need is not None else load_need(data_dir)
    if points is None:
        points = demand_points(load_sectors(data_dir), built.sectors, built.lines)
        snapped = None
    if snapped is None:
        snapped = snap_points(net, points[["x", "y"]].to_numpy())
        check_network_fit(net, snapped, points["weight"].to_numpy())
    inputs = []
    for key in _CONTEXT_DATASETS:
        try:
            inputs.append(dataset_path(key, data_dir))
        except Exception:  # noqa: BLE001 - a missing optional input is simply not listed
            continue
    return make_context(net, built, points, snapped, ServiceSets(data_dir), inputs=tuple(inputs), cache=cache)


def evaluate_files(
    paths: Sequence[Path],
    *,
    data_dir: Path | None = None,
    network: Path | WalkNetwork | None = None,
    cache: bool = True,
    context: SitingContext | None = None,
) -> tuple[SitingContext, list[ScenarioResult]]:
    """Validate scenario files, build the shared context once and evaluate each, the current situation first.

    Parameters
    ----------
    paths
        Scenario files; every one is validated before the slow part.
    data_dir
        Data folder.
    network
        Network file or an already loaded network (default: the bundle's).
    cache
        Reuse stored solutions (:mod:`geoplanner.cache`).
    context
        A context already built (its network and demand are reused).

    Returns
    -------
    context : SitingContext
    results : list of ScenarioResult
        In the order of :func:`geoplanner.scenario.with_baseline`.
    """
    ordered = with_baseline([load_scenario(p, data_dir=data_dir) for p in paths])
    context = context or build_context(data_dir, network=network, cache=cache)
    return context, [evaluate(s, context) for s in ordered]


def wijk_labels(frame: pd.DataFrame, wijken: pd.DataFrame | None) -> pd.DataFrame:
    """Return a per-wijk table (``mdrc``) with each wijk's names, LGN (number and name) and priority rank first.

    A wijk lying in two networks is given the one holding most of its young children (the ranking's ``lgn``).
    """
    if wijken is None:
        return frame
    cols = [c for c in ("mdrc", "name_nl", "name_fr", "lgn", "lgn_name", "priority", "rank") if c in wijken.columns]
    info = pd.DataFrame(wijken[cols]).drop_duplicates("mdrc")
    if "priority" in info.columns and "rank" in info.columns:  # the rank that matters here: the priority rank
        info["rank"] = info["rank"].where(info["priority"].astype(bool))
        info = info.rename(columns={"rank": "priority_rank"}).drop(columns="priority")
    keep = [c for c in frame.columns if c not in info.columns or c == "mdrc"]
    return info.merge(frame[keep], on="mdrc", how="right")


def scenario_tables(result: ScenarioResult, wijken: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Return the tables of a scenario's folder by file stem, each rounded as written.

    Sites, timetable, coverage_summary, coverage_lgn, coverage_wijk (with the wijk's names and LGN when the
    ranking ``wijken`` is given), teams curve and teams by Dutch-speaking share, rounded by
    :mod:`geoplanner.outputs.precision`; every table with an ``lgn`` column also names it (``lgn_name``).
    """
    tables = {
        "sites": result.sites if len(result.sites) else pd.DataFrame(columns=["rank", "id", "name", "x", "y"]),
        "coverage_summary": pd.DataFrame([result.summary]),
        "coverage_lgn": result.per_lgn,
        "coverage_wijk": wijk_labels(wijk_measures(result.points), wijken),
    }
    if len(result.timetable):
        tables["timetable"] = result.timetable
    if result.curve is not None:
        tables["teams_curve"] = result.curve
    if result.by_dutch_share is not None:
        tables["teams_by_dutch_share"] = result.by_dutch_share
    return {stem: round_for_csv(with_lgn_names(t)) for stem, t in tables.items()}


def write_scenario_outputs(
    result: ScenarioResult, out_dir: str | Path, *, wijken: pd.DataFrame | None = None
) -> list[Path]:
    """Write a scenario's outputs into ``out_dir`` as one step: sites, timetable, coverage, notes, manifest.

    Files: ``sites.csv`` and ``sites.gpkg`` (chosen venues in marginal order), ``timetable.csv``
    (rotation), ``coverage_summary.csv``, ``coverage_lgn.csv``, ``coverage_wijk.csv``, ``teams_curve.csv``
    (capacitated rotation), ``notes.txt`` (incomplete layers, estimates) and ``manifest.json``; the tables of
    :func:`scenario_tables` (``wijken``: the ranking the scenario used, for the wijk table's names and LGN).

    Returns
    -------
    list of pathlib.Path
        The files written, manifest last. The folder's files from an earlier run that this run does not
        write (a rotation's ``timetable.csv`` under an MCLP run) are removed.
    """
    out = Path(out_dir)
    s = result.scenario
    tables = scenario_tables(result, wijken)
    with output_step(out):
        written = []
        stems = ("sites", "timetable", "coverage_summary", "coverage_lgn", "coverage_wijk", "teams_curve",
                 "teams_by_dutch_share")  # fmt: skip
        for stem in stems:
            if stem in tables:
                written.append(write_csv(out / f"{stem}.csv", tables[stem]))
            if stem == "sites" and len(result.sites):
                sites = tables["sites"]
                gdf = gpd.GeoDataFrame(sites, geometry=gpd.points_from_xy(sites["x"], sites["y"]), crs=settings.CRS)
                written.append(write_gpkg(out / "sites.gpkg", {"sites": gdf}))
        text = "\n".join([f"scenario: {s.name}", s.description.strip(), "", *result.notes, *settings.ATTRIBUTION])
        written.append(write_text(out / "notes.txt", text + "\n"))
        manifest = write_manifest(out, command=f"geoplanner site {s.path or s.name}",
                                  inputs=[p for p in (s.path, *result.inputs) if p is not None],
                                  parameters=s.parameters(), outputs=written, notes=list(result.notes),
                                  extra={"solution_cache": solution_record(result)})  # fmt: skip
    return [*written, manifest]


def comparison_tables(
    results: Sequence[ScenarioResult], wijken: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Return the comparison as every output shows it: overall, per LGN and per wijk, rounded once.

    The same rounded tables go to ``compare/*.csv``, the workbook, the report and the LGN pages, so each shows
    the same number (:mod:`geoplanner.outputs.precision`).

    Returns
    -------
    table, per_lgn : pandas.DataFrame
        :func:`geoplanner.scenario.compare` of the results.
    per_wijk : pandas.DataFrame
        One row per wijk and scenario: the wijk's names, LGN and priority rank, then reach and service
        (:func:`geoplanner.scenario.wijk_measures`).
    """
    table, per_lgn = compare(results)
    parts = [wijk_measures(r.points).assign(scenario=r.scenario.name) for r in results]
    per_wijk = wijk_labels(pd.concat(parts, ignore_index=True), wijken)
    first = [c for c in ("mdrc", "name_nl", "name_fr", "lgn", "lgn_name", "priority_rank", "scenario")
             if c in per_wijk.columns]  # fmt: skip
    per_wijk = per_wijk[first + [c for c in per_wijk.columns if c not in first]]
    order = {r.scenario.name: i for i, r in enumerate(results)}
    per_wijk = per_wijk.sort_values(["mdrc", "scenario"], key=lambda c: c.map(order) if c.name == "scenario" else c)
    return round_for_csv(table), round_for_csv(per_lgn), round_for_csv(per_wijk.reset_index(drop=True))


def write_comparison(
    results: Sequence[ScenarioResult],
    out_dir: str | Path,
    *,
    wijken: pd.DataFrame | None = None,
    tables: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, list[Path]]:
    """Compare results and write the comparison overall, per LGN and per wijk, the teams curves and a manifest.

    Files: ``comparison.csv``, ``comparison_lgn.csv``, ``comparison_wijk.csv``, ``teams_curve.csv``.

    Parameters
    ----------
    results
        Scenario results, the current situation first.
    out_dir
        The comparison's folder.
    wijken
        The ranking the scenarios used: names, LGN and priority rank of each wijk in ``comparison_wijk.csv``.
    tables
        :func:`comparison_tables` of the results when the caller made them (the main job shares them with the
        report, the LGN pages and the workbook); made here when not given.

    Returns
    -------
    table, per_lgn : pandas.DataFrame
        As :func:`comparison_tables` (rounded as written).
    paths : list of pathlib.Path
        Files written.
    """
    table, per_lgn, per_wijk = tables or comparison_tables(results, wijken)
    out = Path(out_dir)
    with output_step(out):
        written = [write_csv(out / "comparison.csv", table), write_csv(out / "comparison_lgn.csv", per_lgn),
                   write_csv(out / "comparison_wijk.csv", per_wijk)]  # fmt: skip
        curves = teams_curves(results)
        if curves is not None:
            written.append(write_csv(out / "teams_curve.csv", round_for_csv(curves)))
        notes = list(dict.fromkeys(n for r in results for n in r.notes))
        inputs: list[Any] = list(dict.fromkeys(p for r in results for p in (r.scenario.path, *r.inputs) if p))
        manifest = write_manifest(
            out,
            command="geoplanner compare " + " ".join(str(r.scenario.path or r.scenario.name) for r in results),
            inputs=inputs,
            parameters={r.scenario.name: r.scenario.parameters() for r in results},
            outputs=written,
            notes=notes,
            extra={"solution_cache": {r.scenario.name: solution_record(r) for r in results}},
        )
    return table, per_lgn, [*written, manifest]
