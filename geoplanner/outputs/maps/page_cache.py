"""Draw once, reuse: rendered map pages (HTML) and printable maps (PNG) cached on disk.

Drawing the maps of a run (folium pages, matplotlib PNGs at print resolution) costs more than
every other warm stage together, yet the maps only change when what they show changes. A page is
stored as ``<cache_dir>/maps/<key>.pkl``, where the key is the sha256 of exactly what is drawn:

- the page kind (gap, scenario, side by side; HTML or PNG) and how it is rendered (language,
  resolution, self-contained or not);
- every input of the map (:class:`geoplanner.outputs.maps.data.MapData`: each table's columns, dtypes and
  values, geometries by their WKB; title, threshold, notes, labels) and the shared class breaks;
- the code and the libraries that draw (the geoplanner package's ``.py`` source, numpy, pandas,
  scipy, shapely, matplotlib, folium, branca).

The store, its checks and its bypass are those of :mod:`geoplanner.cache` (atomic writes; an
unreadable, truncated or foreign file is drawn again; ``GEOPLANNER_NO_CACHE=1`` or ``--no-cache``
turn it off). A page from the cache has the bytes the drawing that stored it wrote.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from geoplanner import cache

if TYPE_CHECKING:
    from geoplanner.outputs.maps.data import MapData, MapScales

__all__ = ["KIND", "data_digest", "page_key", "cached"]

#: Sub-folder of the cache folder.
KIND = "maps"
_T = TypeVar("_T", str, bytes)


@lru_cache(maxsize=1)  # read once per process, not once per page
def _drawing_libraries() -> dict[str, str]:
    out = {}
    for name in ("matplotlib", "folium", "branca", "geopandas"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "-"
    return out


def data_digest(data: MapData, memo: dict[int, str] | None = None) -> str:
    """Return a sha256 of everything a map draws from ``data``.

    Parameters
    ----------
    data
        The inputs of one map.
    memo
        Digests of tables already seen, by object id: the maps of one run share their sectors and
        wijken frames, which are then hashed once. Only valid while those frames are alive and
        unchanged (one :func:`geoplanner.pipeline.maps.make_maps` call).

    Returns
    -------
    str
        Hex digest; equal inputs give equal digests.
    """
    parts: dict[str, Any] = {}
    for f in dataclasses.fields(data):
        value = getattr(data, f.name)
        if value is None or hasattr(value, "columns"):
            if memo is not None and value is not None:
                if id(value) not in memo:
                    memo[id(value)] = cache.frame_digest(value)
                parts[f.name] = memo[id(value)]
            else:
                parts[f.name] = cache.frame_digest(value)
        else:
            parts[f.name] = value
    return cache.digest(parts)


def page_key(kind: str, digests: list[str], scales: MapScales | None, **options: Any) -> str:
    """Return the cache key of one rendered page.

    Parameters
    ----------
    kind
        What is drawn and how, e.g. ``"gap.html"``, ``"scenario.png"``, ``"dual.html"``.
    digests
        :func:`data_digest` of each map on the page.
    scales
        The class breaks the page was drawn with (None when it computes its own).
    **options
        Everything else that shapes the bytes (language, resolution, self-contained, …).

    Returns
    -------
    str
        64 hex digits.
    """
    parts = {
        **cache.base_parts(),
        "drawing": dict(_drawing_libraries()),
        "kind": kind,
        "data": digests,
        "scales": None if scales is None else dataclasses.asdict(scales),
        "options": options,
    }
    return cache.digest(parts)


def cached(key: str, render: Callable[[], _T], *, use: bool, cache_dir: Path | None = None) -> _T:
    """Return the page stored under ``key``, or render it (and store it) when absent.

    Parameters
    ----------
    key
        From :func:`page_key`.
    render
        Draws the page: HTML text or PNG bytes.
    use
        Whether the cache is on (see :func:`geoplanner.cache.enabled`); off: always render,
        store nothing.
    cache_dir
        Cache folder (default ``settings.cache_dir()``).

    Returns
    -------
    str or bytes
        The page.
    """
    if not use:
        return render()
    stored = cache.load(key, cache_dir, KIND)
    if isinstance(stored, (str, bytes)):
        return stored
    page = render()
    cache.save(key, page, cache_dir, KIND)
    return page
