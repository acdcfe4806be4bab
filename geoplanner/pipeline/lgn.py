"""The LGN pages (`geoplanner lgn`, and the step after the report in the main job): a page per local network.

For each of the 8 local networks of the Huis van het Kind (or the ones asked for) this step gathers what its
coordinator needs — the network's rows of the comparison per LGN (rounded as ``comparison_lgn.csv`` holds them),
its births, its priority wijken, whom each scenario still misses per wijk and sector and why, the mobile teams'
sessions and the new sites inside it, how complete the known-service layers are there — draws its map
(:func:`geoplanner.outputs.maps.build_lgn_map`), renders the page (:mod:`geoplanner.outputs.report.lgn`) and
writes the pages and their index into ``<out>/lgn/`` as one step, with a manifest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geoplanner import cache
from geoplanner.core import settings
from geoplanner.core.errors import ConfigError
from geoplanner.core.i18n import DEFAULT_LANG, check_lang
from geoplanner.inputs.lgn import COMMUNES, LGN
from geoplanner.outputs.files import output_step, write_text
from geoplanner.outputs.manifest import write_manifest
from geoplanner.outputs.maps import MapData, MapScales, build_lgn_map, map_scales, page_cache, render_parts
from geoplanner.outputs.maps.data import lgn_areas, lgn_of_points
from geoplanner.outputs.report.lgn import LgnPage, MissedTable, render_lgn_index, render_lgn_page
from geoplanner.pipeline.maps import check_assets, scenario_map_data
from geoplanner.pipeline.siting import comparison_tables
from geoplanner.scenario import BASELINE_NAME, ScenarioResult, SitingContext, sector_measures, wijk_measures

__all__ = ["LGN_FOLDER", "LgnRun", "LgnMaps", "check_lgn_numbers", "lgn_file", "missed_by", "make_lgn_pages"]

#: Folder of the LGN pages under the output root.
LGN_FOLDER = "lgn"


@dataclass(frozen=True)
class LgnRun:
    """What :func:`make_lgn_pages` wrote (pages, index, manifest) and the notes it rests on."""

    outputs: list[Path]
    notes: list[str]


def check_lgn_numbers(numbers: Iterable[Any] | None) -> list[int]:
    """Return the LGN numbers asked for, each once and in order (all 8 when none is given).

    Raises
    ------
    ConfigError
        Naming the value that is not the number of a network (1 to 8).
    """
    if not numbers:
        return sorted(LGN)
    out: list[int] = []
    for raw in numbers:
        try:
            n = int(str(raw).strip())
        except ValueError:
            n = -1
        if n not in LGN or str(raw).strip() != str(n):
            raise ConfigError(f"there is no LGN {raw}", hint=f"the {len(LGN)} networks are numbered {min(LGN)} to "
                                                             f"{max(LGN)}: `geoplanner lgn 3 5`")  # fmt: skip
        if n not in out:
            out.append(n)
    return sorted(out)


def lgn_file(n: int) -> str:
    """Return the file name of network ``n``'s page (in :data:`LGN_FOLDER`)."""
    return f"lgn_{int(n)}.html"


def missed_by(points: pd.DataFrame, key: str) -> pd.DataFrame:
    """Return, per ``key`` (``mdrc`` or ``cd_sector``), the children aged 0–2 a scenario does not reach, and why.

    A point's children count as not reached *because of distance* in the share of its expected consultations
    left unserved because no open site is within the threshold, and *because of capacity* in the share left
    unserved because the sessions within reach are full (:data:`geoplanner.scenario.POINT_SERVICE_COLUMNS`); a
    point without expected consultations counts by its walking time alone.

    Returns
    -------
    pandas.DataFrame
        ``key``, children, children_far, children_full, then the consultations of
        :func:`geoplanner.scenario.wijk_measures` (or its sector twin).
    """
    demand = points["consultations_demand"].to_numpy(dtype=float)
    children = points["children"].to_numpy(dtype=float)

    def share(col: str) -> np.ndarray:
        return np.divide(points[col].to_numpy(dtype=float), demand, out=np.zeros_like(demand), where=demand > 0)

    far = np.where(demand > 0, children * share("consultations_unserved_distance"),
                   np.where(points["within_threshold"].to_numpy(bool), 0.0, children))  # fmt: skip
    full = children * share("consultations_unserved_capacity")
    split = (
        points.assign(children_far=far, children_full=full)
        .groupby(key, as_index=False)[["children_far", "children_full"]]
        .sum()
    )
    measures = wijk_measures(points) if key == "mdrc" else sector_measures(points)
    return split.merge(measures, on=key, how="left")[
        [key, "children", "children_far", "children_full", *[c for c in measures.columns if c.startswith("consult")]]
    ]


def _titled(results: Sequence[ScenarioResult], per_lgn: pd.DataFrame) -> pd.DataFrame:
    titles = {r.scenario.name: r.scenario.label for r in results}
    return per_lgn.assign(title=per_lgn["scenario"].map(titles))


def _priority(n: int, points: pd.DataFrame, ranking: pd.DataFrame) -> pd.DataFrame:
    """Return the priority wijken with a part in network ``n``: their rank, names, own network and children here."""
    whole = points.groupby("mdrc")["children"].sum()
    here = points[points["lgn"].astype(int) == n].groupby("mdrc")["children"].sum()
    p = ranking[ranking["priority"].astype(bool) & ranking["mdrc"].isin(here.index)]
    p = pd.DataFrame(p[["rank", "mdrc", "name_nl", "name_fr", "lgn"]])
    return p.assign(children_here=p["mdrc"].map(here).to_numpy(), children=p["mdrc"].map(whole).to_numpy())


def _missed(results: Sequence[ScenarioResult], ranking: pd.DataFrame,
            sector_names: pd.DataFrame) -> dict[int, list[MissedTable]]:  # fmt: skip
    """Return, per network, whom the current situation and each scenario with new sessions still miss there.

    One pass per scenario: a wijk lying in two networks is split into its parts (grouped by wijk and network).
    """
    names = ranking[["mdrc", "name_nl", "name_fr"]].drop_duplicates("mdrc")
    sector_cols = [c for c in ("cd_sector", "sector_name_nl", "sector_name_fr") if c in sector_names.columns]
    out: dict[int, list[MissedTable]] = {n: [] for n in LGN}
    for r in results:
        if r.scenario.name != BASELINE_NAME and not r.summary.get("sessions_per_week"):
            continue
        pts = r.points
        lgn = pts["lgn"].astype(int).to_numpy()
        parts = missed_by(pts.assign(mdrc=pts["mdrc"].astype(int).to_numpy() * 100 + lgn), "mdrc")  # wijk × network
        parts.insert(1, "lgn", parts["mdrc"] % 100)
        parts["mdrc"] //= 100
        wijken = parts.merge(names, on="mdrc", how="left")
        sectors = missed_by(pts, "cd_sector")
        sectors.insert(1, "lgn", sectors["cd_sector"].map(pts.groupby("cd_sector")["lgn"].first()).astype(int))
        if len(sector_cols) > 1:
            sectors = sectors.merge(pd.DataFrame(sector_names[sector_cols]).drop_duplicates("cd_sector"),
                                    on="cd_sector", how="left")  # fmt: skip
        for n, tables in out.items():
            tables.append(MissedTable(r.scenario.label, wijken[wijken["lgn"] == n].reset_index(drop=True),
                                      sectors[sectors["lgn"] == n].reset_index(drop=True)))  # fmt: skip
    return out


def _layers(n: int, result: ScenarioResult, context: SitingContext, areas: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the known-service layers of the current situation: how complete, how many in network ``n``."""
    out = []
    for name in result.scenario.open_sets:
        ss = context.services[name]
        here = int((lgn_of_points(ss.points, areas).fillna(-1).astype(int) == n).sum()) if len(ss.points) else 0
        out.append({"name": ss.label, "note": ss.completeness_note, "here": here})
    return out


def _scenario_parts(n: int, results: Sequence[ScenarioResult]) -> tuple[list, list]:
    """Return the sessions of each mobile scenario and the new fixed sites of the others in network ``n``."""
    sessions, sites = [], []
    for r in results[1:]:
        if len(r.timetable):
            t = r.timetable[r.timetable["lgn"].astype(int) == n]
            sessions.append((r.scenario.label, t))
        elif len(r.sites):
            sites.append((r.scenario.label, r.sites[r.sites["lgn"].astype(int) == n]))
    return sessions, sites


def _links(root: Path, n: int | None) -> dict[str, str | None]:
    """Links from a page in ``<root>/lgn/`` to the index, the report and the region's map (when written)."""
    gap = root / "maps" / "gap.html"
    return {
        "index": "index.html" if n is not None else None,
        "report": "../report.html" if (root / "report.html").is_file() else None,
        "region_map": (f"../maps/gap.html#lgn={n}" if n is not None else "../maps/gap.html") if gap.is_file() else None,
    }


def _page(n: int, results: Sequence[ScenarioResult], context: SitingContext, per_lgn: pd.DataFrame,
          base: MapData, root: Path, missed: Sequence[MissedTable]) -> LgnPage:  # fmt: skip
    """Gather the inputs of network ``n``'s page (its map is drawn by the caller)."""
    sectors = context.need.sectors
    births = float(sectors.loc[sectors["lgn"].astype(int) == n, "births"].sum()) if "births" in sectors else None
    areas = lgn_areas(base.sectors)
    own = areas[areas["lgn"].astype(int) == n]
    minx, miny, maxx, maxy = own.to_crs(settings.WGS84).total_bounds
    sessions, sites = _scenario_parts(n, results)
    return LgnPage(
        lgn=n,
        name=LGN[n][0],
        communes=[COMMUNES[c][0] for c in LGN[n][1]],
        figures=per_lgn[per_lgn["lgn"].astype(int) == n].reset_index(drop=True),
        births=None if births is None else round(births, 1),
        threshold_min=float(results[0].scenario.threshold_min),
        priority=_priority(n, results[0].points, context.ranking),
        missed=missed,
        timetables=sessions,
        sites=sites,
        layers=_layers(n, results[0], context, areas),
        bounds=[[round(miny, 5), round(minx, 5)], [round(maxy, 5), round(maxx, 5)]],
        links=_links(root, n),
    )


class LgnMaps:
    """Draws the networks' maps, or takes them from the render cache when exactly the same were drawn."""

    def __init__(self, datas: Sequence[MapData], with_sites: list[tuple[str, MapData]], scales: MapScales, *,
                 lang: str, self_contained: bool, assets: Path, use: bool) -> None:  # fmt: skip
        self.datas, self.with_sites, self.scales, self.lang = datas, with_sites, scales, lang
        self.self_contained, self.assets, self.use = self_contained, assets, use
        memo: dict[int, str] = {}  # the maps share their sectors and wijken frames: hash them once
        self.digests = [page_cache.data_digest(d, memo) for d in datas] if use else []

    def parts(self, n: int) -> tuple[tuple[str, str, str], list[tuple[str, str]]]:
        """Return network ``n``'s map as the page embeds it (head, body, script) and its printed key."""

        def render() -> str:
            m = build_lgn_map(self.datas[0], self.with_sites, n, lang=self.lang, scales=self.scales)
            parts = render_parts(m, self_contained=self.self_contained, assets_dir=self.assets)
            return json.dumps([list(parts), [list(k) for k in m.gp_key]])

        key = ""
        if self.use:
            key = page_cache.page_key("lgn.html", self.digests, self.scales, lang=self.lang, lgn=n,
                                      self_contained=self.self_contained,
                                      titles=[t for t, _ in self.with_sites])  # fmt: skip
        parts, legend = json.loads(page_cache.cached(key, render, use=self.use))
        return (parts[0], parts[1], parts[2]), [(a, b) for a, b in legend]


def make_lgn_pages(
    results: Sequence[ScenarioResult],
    context: SitingContext,
    out_dir: Path | None = None,
    *,
    numbers: Iterable[Any] | None = None,
    lang: str = DEFAULT_LANG,
    self_contained: bool = False,
    data_dir: Path | None = None,
    datas: Sequence[MapData] | None = None,
    scenario_paths: Sequence[Path] = (),
    command: str = "geoplanner lgn",
    comparison: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None = None,
) -> LgnRun:
    """Write a page per local network (LGN) and their index into ``<out_dir>/lgn/`` as one step.

    Parameters
    ----------
    results
        Scenario results in the order of :func:`geoplanner.scenario.with_baseline` (the current situation first).
    context
        The :class:`~geoplanner.scenario.SitingContext` they were evaluated in.
    out_dir
        Output root (default ``settings.output_dir()``); the pages go to ``<out_dir>/lgn/``.
    numbers
        The networks to write (default all 8); the index lists those written.
    lang
        ``nl`` (default), ``fr`` or ``en``.
    self_contained
        Inline the map scripts so each page works offline (needs ``geoplanner assets fetch``).
    data_dir
        Data folder.
    datas
        The maps' data of the results, when the map step made them already (else made here).
    scenario_paths
        The scenario files (recorded in the manifest).
    comparison
        :func:`geoplanner.pipeline.siting.comparison_tables` of the results, when the run made them already.
    command
        Recorded in the manifest.

    Returns
    -------
    LgnRun
        The pages, the index and the manifest written; the notes.
    """
    check_lang(lang)
    wanted = check_lgn_numbers(numbers)
    folder = check_assets(self_contained)
    results = list(results)
    if not results or results[0].scenario.name != BASELINE_NAME:
        raise ValueError("results must follow with_baseline(scenarios): the current situation first")
    root = Path(out_dir) if out_dir is not None else settings.output_dir()
    # as comparison_lgn.csv holds them
    per_lgn = (comparison or comparison_tables(results, context.ranking))[1]
    per_lgn = _titled(results, per_lgn)
    if datas is None:
        shared: dict = {}
        datas = [scenario_map_data(r, context, data_dir=data_dir, lang=lang, shared=shared) for r in results]
    scales = map_scales(*datas)
    with_sites = [(r.scenario.label, d) for r, d in zip(results[1:], datas[1:], strict=True) if d.sites is not None]
    out = root / LGN_FOLDER
    pages = []
    missed = _missed(results, context.ranking, datas[0].sectors)
    maps = LgnMaps(datas, with_sites, scales, lang=lang, self_contained=self_contained, assets=folder,
                    use=cache.enabled(getattr(context, "cache", True)))  # fmt: skip
    with output_step(out):
        written = []
        for n in wanted:
            parts, key = maps.parts(n)
            page = _page(n, results, context, per_lgn, datas[0], root, missed[n])
            page = LgnPage(**{**page.__dict__, "map_parts": parts, "map_key": key})
            pages.append(page)
            written.append(write_text(out / lgn_file(n), render_lgn_page(page, lang=lang)))
        index = render_lgn_index(pages, {p.lgn: lgn_file(p.lgn) for p in pages}, lang=lang, links=_links(root, None))
        written.append(write_text(out / "index.html", index))
        notes = list(dict.fromkeys(n for d in datas[:1] for n in d.notes))
        params = {"lang": lang, "self_contained": self_contained, "lgn": wanted,
                  "scenarios": [r.scenario.name for r in results]}  # fmt: skip
        written.append(write_manifest(out, command=command, inputs=[*context.inputs, *map(Path, scenario_paths)],
                                      parameters=params, outputs=written, notes=notes))  # fmt: skip
    return LgnRun(outputs=written, notes=notes)
