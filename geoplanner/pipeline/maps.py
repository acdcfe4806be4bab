"""The map and report steps: scenario results in, maps (HTML + PNG) and one HTML report written.

The scenarios are evaluated before (:func:`geoplanner.pipeline.siting.evaluate_files`, or the main job);
here the layers every map draws are loaded (:mod:`geoplanner.inputs`), the walking-time polygons of each
scenario's services drawn (:mod:`geoplanner.access.isochrones`, kept in :mod:`geoplanner.cache`), the
renderers called (:mod:`geoplanner.outputs.maps`, :mod:`geoplanner.outputs.report`) and their pages
written as one step each (:mod:`geoplanner.outputs.files`), with a manifest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplanner import cache
from geoplanner.access.isochrones import isochrones, merge_isochrones
from geoplanner.core import settings
from geoplanner.core.errors import DataMissingError, GeoplannerError
from geoplanner.core.i18n import DEFAULT_LANG, check_lang, label
from geoplanner.inputs.areas import load_region, load_sectors, load_wijken
from geoplanner.inputs.services import load_services
from geoplanner.outputs.files import output_step, write_bytes, write_text
from geoplanner.outputs.manifest import write_manifest
from geoplanner.outputs.maps import page_cache, pages, static
from geoplanner.outputs.maps.assets import FETCH_COMMAND, missing_assets
from geoplanner.outputs.maps.data import (
    MAP_THRESHOLDS,
    MapData,
    MapScales,
    assemble_map_data,
    map_base_layers,
    map_scales,
    scenario_services,
)
from geoplanner.outputs.report import ReportMap, group_notes, lgn_coverage, render_report
from geoplanner.outputs.report.render import ReportInputs
from geoplanner.pipeline.assets import assets_dir
from geoplanner.pipeline.siting import comparison_tables, wijk_labels
from geoplanner.pipeline.sweep import SWEEP_MANIFEST, read_sweep
from geoplanner.scenario import (
    BASELINE_NAME,
    ScenarioResult,
    SitingContext,
    teams_curves,
    wijk_measures,
)
from geoplanner.scenario.sweep import SweepTables

__all__ = [
    "MapsRun",
    "PNG_DPI",
    "check_assets",
    "map_isochrone_key",
    "scenario_map_data",
    "make_maps",
    "make_report",
    "report_inputs",
]

#: Print resolution of the static maps (A4 landscape).
PNG_DPI = 200
_T = TypeVar("_T")


@dataclass(frozen=True)
class MapsRun:
    """What :func:`make_maps` and :func:`make_report` wrote, and what they learnt on the way."""

    outputs: list[Path]
    results: list[Any]
    notes: list[str]
    #: The :class:`geoplanner.scenario.SitingContext` the maps were drawn in (its ranking serves the report).
    context: Any = None
    #: What each map drew (:class:`geoplanner.outputs.maps.MapData`, in the order of ``results``): the LGN pages
    #: draw the same.
    datas: tuple[Any, ...] = ()
    #: The current sweeps the report showed (:class:`geoplanner.scenario.sweep.SweepTables`): the run's workbook
    #: shows the same.
    sweeps: tuple[Any, ...] = ()


def check_assets(self_contained: bool, cache_dir: Path | None = None) -> Path:
    """Return the folder of the pinned map files; refuse, before the slow part, a self-contained run without them.

    Raises
    ------
    DataMissingError
        If ``self_contained`` and a pinned file has not been fetched (names ``geoplanner assets fetch``).
    """
    folder = assets_dir(cache_dir)
    missing = missing_assets(folder) if self_contained else []
    if missing:
        raise DataMissingError(
            f"offline map assets missing ({missing[0]}, …)",
            path=folder,
            hint=f"run `{FETCH_COMMAND}` once with internet access",
        )
    return folder


def _shared(memo: dict | None, key: tuple, build: Callable[[], _T]) -> _T:
    """Return ``memo[key]``, building it with ``build()`` the first time (no memo: always build)."""
    if memo is None:
        return build()
    if key not in memo:
        memo[key] = build()
    return memo[key]


def map_isochrone_key(
    net: Any, xy: np.ndarray, new_xy: np.ndarray | None, *, name: str, speed_kmh: float, region: Any
) -> str:
    """Return the cache key of a scenario map's isochrones: everything they are walked from.

    The network, the open services' and new sites' places, the thresholds, speed, region, code and
    library versions (as the coverage step's isochrones).
    """
    return cache.digest(
        {
            **cache.base_parts(),
            "what": "map isochrones",
            "network": [net.sha256, net.params, net.n_nodes, net.n_edges],
            "set": name,
            "xy": cache.array_digest(xy),
            "new_xy": cache.array_digest(new_xy),
            "thresholds": [float(t) for t in MAP_THRESHOLDS],
            "speed_kmh": float(speed_kmh),
            "region": None if region is None else hashlib.sha256(shapely.to_wkb(region)).hexdigest(),
        }
    )


def _scenario_isochrones(
    result: ScenarioResult, services: gpd.GeoDataFrame, context: SitingContext, region: Any
) -> Any:
    """Return the walking-time polygons of a scenario's open services and new sites, from the cache when unchanged.

    The open services and the new sites are drawn apart and joined: the services' polygons are the same
    in every scenario that keeps them (and as in the coverage step), so they are built once (see
    :mod:`geoplanner.access.isochrones`), and only the few new sites are walked from per scenario.
    """
    s = result.scenario
    xy = np.column_stack([services.geometry.x, services.geometry.y])
    new_xy = None
    if result.sites is not None and len(result.sites):  # the scenario's new sites reach people too
        new_xy = result.sites[["x", "y"]].to_numpy(dtype=float)

    def draw() -> gpd.GeoDataFrame:
        kw = {"thresholds_min": MAP_THRESHOLDS, "speed_kmh": s.speed_kmh, "region": region, "per_service": False}
        iso = isochrones(context.net, xy, set_name=s.name, **kw)
        if new_xy is not None:
            iso = merge_isochrones([iso, isochrones(context.net, new_xy, set_name=s.name, **kw)], set_name=s.name)
        return iso

    net = context.net
    if not cache.enabled(getattr(context, "cache", True)) or not getattr(net, "sha256", None):
        return draw()  # a network built in memory has no file digest to key on
    key = map_isochrone_key(net, xy, new_xy, name=s.name, speed_kmh=s.speed_kmh, region=region)
    stored = cache.load(key, kind="isochrones")
    if isinstance(stored, gpd.GeoDataFrame):
        return stored
    iso = draw()
    cache.save(key, iso, kind="isochrones")
    return iso


def scenario_map_data(
    result: ScenarioResult,
    context: SitingContext,
    *,
    data_dir: Path | None = None,
    lang: str = DEFAULT_LANG,
    shared: dict | None = None,
) -> MapData:
    """Load what one scenario's map draws and put it together (:func:`geoplanner.outputs.maps.data.assemble_map_data`).

    Parameters
    ----------
    result
        A scenario result.
    context
        The context it was evaluated in (network, need, ranking).
    data_dir
        Data folder.
    lang
        Language of the title.
    shared
        A dict shared by the scenarios of one run: the layers every map draws (sectors, wijken,
        region, service sets) are read and joined once and the maps share the same frames.

    Returns
    -------
    MapData
        Need, ranking, coverage (from the result's demand points), isochrones of the open services,
        the services and, when the scenario adds sites, the sites and timetable.
    """
    s = result.scenario
    sectors, wijken = _shared(
        shared,
        ("base", id(context)),
        lambda: map_base_layers(context.need.sectors, load_sectors(data_dir), load_wijken(data_dir), context.ranking),
    )

    def service_set(name: str) -> Any:
        return _shared(shared, ("services", name), lambda: load_services(name, data_dir))

    def layer_label(layer: str) -> str:
        try:  # a layer named like a service set gets that set's Dutch label
            return service_set(layer).label
        except GeoplannerError:
            return layer

    services = scenario_services(s, {name: service_set(name) for name in s.open_sets}, layer_label)
    iso = None
    if len(services.points):
        region = _shared(shared, ("region",), lambda: load_region(data_dir))
        iso = _scenario_isochrones(result, services.points, context, region)
    return assemble_map_data(result, sectors=sectors, wijken=wijken, services=services, isochrones=iso, lang=lang)


def _safe_stem(name: str) -> str:
    """Return a file name for a scenario name: letters, digits, ``-`` and ``_`` only."""
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name).strip("_")
    return stem or "scenario"


def _file_scenarios(results: Sequence[ScenarioResult], scenario_paths: Sequence[Path]) -> list[str]:
    """Return the names of the scenarios read from ``scenario_paths``, in the order of the files."""
    by_path = {Path(r.scenario.path).resolve(): r.scenario.name for r in results if r.scenario.path is not None}
    return [by_path[p] for p in (Path(q).resolve() for q in scenario_paths) if p in by_path]


def _dual_pair(names: list[str], dual: tuple[str, str] | None) -> tuple[int, int] | None:
    """Return the positions of the side-by-side view's two scenarios (None: no such view)."""
    if dual is not None and not set(dual) <= set(names):
        raise GeoplannerError(f"side-by-side scenarios {dual} are not among {names}")
    if dual is not None:
        return names.index(dual[0]), names.index(dual[1])
    if len(names) < 3:
        return None
    first, second = sorted(names[1:])[:2]  # the same pair whatever order the scenario files were given in
    return names.index(first), names.index(second)


class _Pages:
    """Draws the pages of one run, or takes them from the render cache when exactly the same were drawn."""

    def __init__(self, datas: list[MapData], *, lang: str, self_contained: bool, assets: Path, use: bool) -> None:
        self.datas, self.lang, self.self_contained, self.assets, self.use = datas, lang, self_contained, assets, use
        memo: dict[int, str] = {}  # the maps share their sectors and wijken frames: hash them once
        self.digests = [page_cache.data_digest(d, memo) if use else "" for d in datas]

    def _cached(
        self, kind: str, idx: Sequence[int], scales: MapScales | None, render: Callable[[], _T], **opt: Any
    ) -> _T:
        keys = [self.digests[i] for i in idx]
        key = page_cache.page_key(kind, keys, scales, lang=self.lang, **opt) if self.use else ""
        return page_cache.cached(key, render, use=self.use)

    def html(self, i: int, scales: MapScales) -> str:
        """Return map ``i``'s page (the gap map for the first, a scenario map for the others)."""
        build = pages.build_gap_map if i == 0 else pages.build_scenario_map
        kind = "gap.html" if i == 0 else "scenario.html"

        def render() -> str:
            m = build(self.datas[i], lang=self.lang, scales=scales)
            return pages.render_html(m, self_contained=self.self_contained, assets_dir=self.assets)

        return self._cached(kind, [i], scales, render, self_contained=self.self_contained)

    def png(self, i: int, scales: MapScales) -> bytes:
        """Return map ``i``'s printable PNG."""
        figure = static.gap_figure if i == 0 else static.scenario_figure
        kind = "gap.png" if i == 0 else "scenario.png"

        def render() -> bytes:
            return static.png_bytes(figure(self.datas[i], lang=self.lang, scales=scales), dpi=PNG_DPI)

        return self._cached(kind, [i], scales, render, dpi=PNG_DPI)

    def dual(self, a: int, b: int) -> str:
        """Return the side-by-side page of maps ``a`` and ``b``."""

        def render() -> str:
            m = pages.build_dual_map(self.datas[a], self.datas[b], lang=self.lang)
            return pages.render_html(m, self_contained=self.self_contained, assets_dir=self.assets)

        return self._cached("dual.html", [a, b], None, render, self_contained=self.self_contained)


def _maps_step(
    results: Sequence[ScenarioResult],
    context: SitingContext,
    out_dir: Path | None,
    *,
    lang: str,
    self_contained: bool,
    data_dir: Path | None,
    scenario_paths: Sequence[Path],
    dual: tuple[str, str] | None,
    command: str,
) -> tuple[MapsRun, dict[Path, bytes]]:
    """Write the maps of :func:`make_maps`; also return each PNG's bytes by its path (for the report)."""
    check_lang(lang)
    folder = check_assets(self_contained)
    results = list(results)
    if not results or results[0].scenario.name != BASELINE_NAME:
        raise ValueError("results must follow with_baseline(scenarios): the current situation first")
    names = [r.scenario.name for r in results]
    pair = _dual_pair(names, dual)
    maps_dir = (Path(out_dir) if out_dir is not None else settings.output_dir()) / "maps"
    shared: dict = {}  # layers read once for all the scenarios' maps
    datas = [scenario_map_data(r, context, data_dir=data_dir, lang=lang, shared=shared) for r in results]
    draw = _Pages(datas, lang=lang, self_contained=self_contained, assets=folder,
                  use=cache.enabled(getattr(context, "cache", True)))  # fmt: skip
    pngs: dict[Path, bytes] = {}
    with output_step(maps_dir):
        outputs: list[Path] = []
        scales = map_scales(*datas)
        for i, name in enumerate(names):
            stem = "gap" if i == 0 else _safe_stem(name)
            outputs.append(write_text(maps_dir / f"{stem}.html", draw.html(i, scales)))
            png = draw.png(i, scales)
            outputs.append(write_bytes(maps_dir / f"{stem}.png", png))
            pngs[outputs[-1]] = png
        if pair is not None:
            stem = f"compare_{_safe_stem(names[pair[0]])}_{_safe_stem(names[pair[1]])}"
            outputs.append(write_text(maps_dir / f"{stem}.html", draw.dual(*pair)))
        notes = list(dict.fromkeys(n for d in datas for n in d.notes))
        inputs = [*context.inputs, *[Path(p) for p in scenario_paths]]
        params = {"lang": lang, "self_contained": self_contained, "scenarios": _file_scenarios(results, scenario_paths)}
        outputs.append(
            write_manifest(maps_dir, command=command, inputs=inputs, parameters=params, outputs=outputs, notes=notes)
        )
    return MapsRun(outputs=outputs, results=results, notes=notes, context=context, datas=tuple(datas)), pngs


def make_maps(
    results: Sequence[ScenarioResult],
    context: SitingContext,
    out_dir: Path | None = None,
    *,
    lang: str = DEFAULT_LANG,
    self_contained: bool = False,
    data_dir: Path | None = None,
    scenario_paths: Sequence[Path] = (),
    dual: tuple[str, str] | None = None,
    command: str = "geoplanner map",
) -> MapsRun:
    """Write the gap map, one map per scenario and a side-by-side view, as HTML and PNG.

    Parameters
    ----------
    results
        Scenario results in the order of :func:`geoplanner.scenario.with_baseline` (the current
        situation first, drawn as the gap map); with only that one, only the current gap is drawn.
    context
        The :class:`~geoplanner.scenario.SitingContext` they were evaluated in.
    out_dir
        Output root (default ``settings.output_dir()``); maps go to ``<out_dir>/maps/``.
    lang
        ``nl`` (default), ``fr`` or ``en``.
    self_contained
        Inline scripts and styles so each HTML file works offline (needs ``geoplanner assets fetch``).
    data_dir
        Data folder.
    scenario_paths
        The scenario files the results come from (recorded in the manifest).
    dual
        Names of the two scenarios of the side-by-side view (default: the first two after the
        current situation).
    command
        Recorded in the manifest.

    Returns
    -------
    MapsRun
        Files written (HTML, PNG, manifest), the scenario results (current first), notes.
    """
    run, _pngs = _maps_step(results, context, out_dir, lang=lang, self_contained=self_contained, data_dir=data_dir,
                            scenario_paths=scenario_paths, dual=dual, command=command)  # fmt: skip
    return run


def _report_maps(outputs: Sequence[Path], pngs: dict[Path, bytes], lang: str) -> list[ReportMap]:
    """Return the maps the report shows: each PNG with a link to its page, then the side-by-side views."""
    written = set(outputs)
    shown = []
    for p in [q for q in outputs if q.suffix == ".png"]:
        html_twin = p.with_suffix(".html")
        title = label("gap_title", lang) if p.stem == "gap" else f"{label('scenario_title', lang)}: {p.stem}"
        shown.append(ReportMap(title, pngs[p], html_twin if html_twin in written else None))
    for p in outputs:
        if p.name.startswith("compare_") and p.suffix == ".html":
            shown.append(ReportMap(label("side_by_side", lang), None, p))
    return shown


def _unserved(results: Sequence[ScenarioResult], ranking: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Return, per scenario with new sessions, the priority wijken's consultations unserved, largest first."""
    out = []
    priority = ranking.set_index("mdrc")["priority"]
    for r in results:
        if not r.summary.get("sessions_per_week"):
            continue
        prio = r.points[priority.reindex(r.points["mdrc"]).fillna(False).to_numpy(bool)]
        per_wijk = wijk_labels(wijk_measures(prio), ranking)  # with each wijk's LGN: a coordinator finds their own
        missed = per_wijk["consultations_unserved_distance"] + per_wijk["consultations_unserved_capacity"]
        ordered = per_wijk.assign(_missed=missed).sort_values(["_missed", "mdrc"], ascending=[False, True])
        out.append((r.scenario.label, ordered))
    return out


def _baseline_layers(result: ScenarioResult, context: SitingContext) -> list[dict[str, Any]]:
    """Return the known-service layers the current situation opens: how many sites are located, how many exist."""
    return [{"name": context.services[n].label, "located": len(context.services[n].points),
             "expected": context.services[n].expected_count} for n in result.scenario.open_sets]  # fmt: skip


def _assumptions(results: Sequence[ScenarioResult]) -> list[Any]:
    """Return every distinct assumption the results rest on (a parameter set in a file shows beside its default)."""
    seen: dict[tuple[str, float], Any] = {}
    for r in results:
        for a in r.assumptions:
            seen.setdefault((a.key, a.value), a)
    return list(seen.values())


def _runs(results: Sequence[ScenarioResult]) -> list[dict[str, Any]]:
    """Return per scenario what the appendix says of it: id, file, model, demand kind, solver status and gap."""
    out = []
    for r in results:
        s = r.summary
        out.append({"scenario": r.scenario.name, "title": r.scenario.label, "model": r.scenario.model,
                    "file": r.scenario.path.name if r.scenario.path else None, "demand": r.scenario.demand,
                    "status": s.get("status"), "solver_gap": s.get("solver_gap")})  # fmt: skip
    return out


def current_sweeps(
    results: Sequence[ScenarioResult], context: SitingContext, out_root: Path
) -> tuple[list[tuple[ScenarioResult, SweepTables]], list[str]]:
    """Return the sweeps stored beside the scenarios (``<out_root>/<scenario>/``) that belong to them as solved now.

    A sweep of an older version of a scenario, its data or the code is left out with a note
    (:func:`geoplanner.pipeline.sweep.read_sweep`).
    """
    found, notes = [], []
    for r in results:
        if r.scenario.model == "none":
            continue
        key = r.cache.get("key") if r.cache else None  # the evaluation's own solution key, when it has one
        tables, note = read_sweep(out_root / r.scenario.name, r.scenario, context, key)
        if tables is not None:
            found.append((r, tables))
        if note:
            notes.append(note)
    return found, notes


def report_inputs(
    results: Sequence[ScenarioResult],
    context: SitingContext,
    sweeps: Sequence[tuple[ScenarioResult, SweepTables]] = (),
    comparison: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None = None,
) -> ReportInputs:
    """Gather what the report shows from the results, once: the same figures as the CSVs and the workbook.

    ``comparison``: :func:`geoplanner.pipeline.siting.comparison_tables` of the results when the run made them.
    """
    table, per_lgn, _per_wijk = comparison or comparison_tables(results, context.ranking)  # rounded as the CSVs
    by_share = next((r.by_dutch_share for r in results if r.by_dutch_share is not None), None)
    fixed = [r for r in results[1:] if len(r.sites) and not r.scenario.capacitated]
    return ReportInputs(
        comparison=table,
        per_lgn=per_lgn.assign(title=per_lgn["scenario"].map({r.scenario.name: r.scenario.label for r in results})),
        priority=context.ranking,  # the ranking the maps and the scenarios used, not ranked again
        coverage_lgn=pd.concat([lgn_coverage(r.points, scenario=r.scenario.label) for r in results], ignore_index=True),
        descriptions={r.scenario.name: r.scenario.description for r in results},
        layers=_baseline_layers(results[0], context),
        assumptions=_assumptions(results),
        runs=_runs(results),
        gains={r.scenario.label: r.sites["marginal_children"].tolist() for r in fixed},
        teams_curve=teams_curves(results),
        by_dutch_share=by_share,
        unserved=_unserved(results, context.ranking),
        sweeps=[(r.scenario.label, tables, f"{r.scenario.name}/sweep.html",
                 None if r.teams_needed is None else r.teams_needed.get("max_teams")) for r, tables in sweeps],
    )  # fmt: skip


def make_report(
    results: Sequence[ScenarioResult],
    context: SitingContext,
    out_dir: Path | None = None,
    *,
    lang: str = DEFAULT_LANG,
    self_contained: bool = False,
    data_dir: Path | None = None,
    scenario_paths: Sequence[Path] = (),
    dual: tuple[str, str] | None = None,
    comparison: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None = None,
) -> MapsRun:
    """Write the scenarios' maps (see :func:`make_maps`) and one HTML report, ``<out_dir>/report.html``.

    The arguments are those of :func:`make_maps`, and ``comparison`` the run's
    :func:`~geoplanner.pipeline.siting.comparison_tables` (made here when not given). The report shows the
    priority wijken of the context's ranking (the one the scenarios used), coverage per LGN, the comparison, the
    gain and teams curves, whom capacitated scenarios still miss, and the maps.

    Returns
    -------
    MapsRun
        Files written (maps, ``report.html``, manifests), results, notes.
    """
    run, pngs = _maps_step(results, context, out_dir, lang=lang, self_contained=self_contained, data_dir=data_dir,
                           scenario_paths=scenario_paths, dual=dual, command="geoplanner report")  # fmt: skip
    out_root = Path(out_dir) if out_dir is not None else settings.output_dir()
    results = run.results
    sweeps, sweep_notes = current_sweeps(results, context, out_root)
    run.notes.extend(n for n in sweep_notes if n not in run.notes)
    general, specific = group_notes(results, run.notes)
    with output_step(out_root, manifest="report_manifest.json"):
        inputs = report_inputs(results, context, sweeps, comparison)
        page = render_report(
            inputs,
            maps=_report_maps(run.outputs, pngs, lang),
            lang=lang,
            notes=general,
            scenario_notes=specific,
            base_dir=out_root,
            cache=getattr(context, "cache", True),
        )
        target = write_text(out_root / "report.html", page)
        manifest = write_manifest(
            out_root,
            command="geoplanner report",
            # a sweep shown is traced by its manifest (which records its tables with their sha256)
            inputs=[*map(Path, scenario_paths), *(out_root / r.scenario.name / SWEEP_MANIFEST for r, _ in sweeps)],
            parameters={"lang": lang, "scenarios": [r.scenario.name for r in results]},
            outputs=[target],
            notes=run.notes,
            name="report_manifest.json",
        )
    return MapsRun(outputs=[*run.outputs, target, manifest], results=results, notes=run.notes, context=context,
                   datas=run.datas, sweeps=tuple(tables for _, tables in sweeps))  # fmt: skip
