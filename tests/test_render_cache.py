"""Rendered maps cached on disk: the same bytes as a fresh drawing, a miss on any change, bypass."""

from __future__ import annotations

import dataclasses
import re

import pytest
from _mapdata import shared_map_data, shared_scenario  # tests/_mapdata.py

from geoplanner import cache as solutions
from geoplanner.outputs import maps
from geoplanner.outputs.maps import page_cache as render_cache
from geoplanner.outputs.maps import static as static_maps


@pytest.fixture(scope="module")
def map_data(need_sectors, ranking) -> maps.MapData:
    return shared_scenario(shared_map_data(need_sectors, ranking), "cache_test", 3)


class _Counting:
    """A render function that counts its calls."""

    def __init__(self, render) -> None:  # noqa: ANN001
        self.render, self.calls = render, 0

    def __call__(self):  # noqa: ANN204
        self.calls += 1
        return self.render()


def _png(data: maps.MapData, lang: str = "nl") -> bytes:
    return static_maps.png_bytes(static_maps.scenario_figure(data, lang=lang), dpi=60)


def _key(data: maps.MapData, lang: str = "nl") -> str:
    return render_cache.page_key("scenario.png", [render_cache.data_digest(data)], None, lang=lang, dpi=60)


def test_a_png_from_the_cache_is_the_bytes_of_a_fresh_drawing(cache_on, map_data):
    draw = _Counting(lambda: _png(map_data))
    first = render_cache.cached(_key(map_data), draw, use=solutions.enabled())
    second = render_cache.cached(_key(map_data), draw, use=solutions.enabled())
    assert draw.calls == 1  # the second came from the cache
    assert second == first == _png(map_data)  # matplotlib draws the same bytes each time
    assert len(list((cache_on / render_cache.KIND).glob("*.pkl"))) == 1


def test_an_html_page_from_the_cache_is_the_stored_text(cache_on, map_data):
    draw = _Counting(lambda: maps.render_html(maps.build_scenario_map(map_data)))
    key = render_cache.page_key("scenario.html", [render_cache.data_digest(map_data)], None, lang="nl")
    first = render_cache.cached(key, draw, use=True)
    assert render_cache.cached(key, draw, use=True) == first and draw.calls == 1


def test_any_change_of_what_is_drawn_is_a_miss(map_data):
    base = _key(map_data)
    cov = map_data.coverage.copy()
    cov.loc[cov.index[0], "mean_min"] += 1.0  # one sector's walking time
    sites = map_data.sites.copy()
    sites.loc[sites.index[0], "name"] = "elders"  # one new site's name
    changed = [
        dataclasses.replace(map_data, coverage=cov),
        dataclasses.replace(map_data, sites=sites),
        dataclasses.replace(map_data, title=map_data.title + "!"),
        dataclasses.replace(map_data, notes=(*map_data.notes, "nog een noot")),
        dataclasses.replace(map_data, labels={**map_data.labels, "x": "y"}),
        dataclasses.replace(map_data, threshold_min=map_data.threshold_min + 1),
    ]
    keys = {_key(d) for d in changed}
    assert base not in keys and len(keys) == len(changed)
    assert _key(map_data, lang="fr") != base
    assert render_cache.page_key("scenario.png", ["d"], None, lang="nl", dpi=60) != render_cache.page_key(
        "scenario.png", ["d"], None, lang="nl", dpi=200
    )
    assert render_cache.page_key("gap.png", ["d"], None) != render_cache.page_key("scenario.png", ["d"], None)
    scales = maps.map_scales(map_data)
    wider = dataclasses.replace(scales, gap_max=scales.gap_max * 2)
    assert render_cache.page_key("gap.png", ["d"], scales) != render_cache.page_key("gap.png", ["d"], wider)


def test_equal_inputs_in_other_objects_give_the_same_key(map_data):
    copy = dataclasses.replace(map_data, sectors=map_data.sectors.copy(), coverage=map_data.coverage.copy())
    memo: dict[int, str] = {}
    assert (
        render_cache.data_digest(copy) == render_cache.data_digest(map_data) == render_cache.data_digest(map_data, memo)
    )
    assert memo  # the frames' digests are kept for the next map of the same run


def test_a_damaged_cache_file_is_drawn_again(cache_on):
    key = render_cache.page_key("gap.png", ["d"], None)
    render_cache.cached(key, lambda: b"first", use=True)
    path = solutions.cache_file(key, kind=render_cache.KIND)
    path.write_bytes(path.read_bytes()[:10])  # truncated
    assert render_cache.cached(key, lambda: b"again", use=True) == b"again"
    assert render_cache.cached(key, lambda: b"never", use=True) == b"again"


def test_no_cache_draws_and_stores_nothing(cache_on, monkeypatch):
    monkeypatch.setenv(solutions.NO_CACHE_ENV, "1")
    draw = _Counting(lambda: "page")
    for _ in range(2):
        assert render_cache.cached("k" * 64, draw, use=solutions.enabled()) == "page"
    assert draw.calls == 2 and not (cache_on / render_cache.KIND).exists()


def _without_ids(html: str) -> str:
    """A folium page with its random element ids (uuid4 hex) blanked out."""
    return re.sub(r"[0-9a-f]{32}", "<id>", html)


def test_make_maps_from_the_cache_writes_what_a_fresh_drawing_writes(cache_on, data_dir, tmp_path, monkeypatch):
    from geoplanner.pipeline.maps import make_maps
    from geoplanner.pipeline.siting import evaluate_files

    context, results = evaluate_files([], data_dir=data_dir)
    runs = {}
    for name in ("stored", "from_cache"):
        runs[name] = make_maps(results, context, tmp_path / name, data_dir=data_dir)
    stored = len(list((cache_on / render_cache.KIND).glob("*.pkl")))
    assert stored == 2  # the gap map's page and PNG
    monkeypatch.setenv(solutions.NO_CACHE_ENV, "1")
    runs["fresh"] = make_maps(results, context, tmp_path / "fresh", data_dir=data_dir)
    monkeypatch.delenv(solutions.NO_CACHE_ENV)
    maps_dir = {name: tmp_path / name / "maps" for name in runs}
    png = {name: (d / "gap.png").read_bytes() for name, d in maps_dir.items()}
    html = {name: (d / "gap.html").read_text(encoding="utf-8") for name, d in maps_dir.items()}
    assert png["stored"] == png["from_cache"] == png["fresh"]
    assert html["stored"] == html["from_cache"]  # the very page stored
    assert _without_ids(html["fresh"]) == _without_ids(html["stored"])  # folium numbers its elements at random
    make_maps(results, context, tmp_path / "fr", data_dir=data_dir, lang="fr")
    assert len(list((cache_on / render_cache.KIND).glob("*.pkl"))) == stored + 2  # another language: a miss
    assert (tmp_path / "fr" / "maps" / "gap.png").read_bytes() != png["fresh"]


def test_report_charts_follow_the_cache_flag(cache_on):
    from matplotlib.figure import Figure

    from geoplanner.outputs.report import charts

    def chart(title: str) -> Figure:
        fig = Figure(figsize=(2, 1))
        fig.add_subplot().set_title(title)
        return fig

    charts.chart_uri("bars", {"x": [1, 2]}, "nl", lambda: chart("a"), use=False)  # --no-cache
    assert not (cache_on / render_cache.KIND).exists()
    first = charts.chart_uri("bars", {"x": [1, 2]}, "nl", lambda: chart("a"))
    assert charts.chart_uri("bars", {"x": [1, 2]}, "nl", lambda: chart("b")) == first  # same inputs: stored
    assert charts.chart_uri("bars", {"x": [1, 3]}, "nl", lambda: chart("b")) != first  # other inputs: drawn
