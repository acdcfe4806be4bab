"""Solve once, reuse: scenario solutions cached on disk, keyed by everything that shapes them.

``geoplanner run``, ``site``, ``compare``, ``map`` and ``report`` all solve scenarios through
:func:`geoplanner.scenario.run_scenario`, which asks this module first. A solution is stored as
``<cache_dir>/solutions/<key>.pkl``, where the key is the sha256 of:

- the scenario's parsed parameters (every key of the file, solver time limits and gaps included,
  but not the file's path);
- the demand the scenario sees: the context's demand points (weights, coordinates, wijk, priority,
  deprivation), the wijk ranking, the need model's sector figures and notes (so a changed indicator,
  an imported figure or a new weight changes the key);
- the walking network (its sha256 and build parameters);
- the service sets it opens and its candidate set (every located point and column, the sources);
- the code: the sha256 of every ``.py`` file of the geoplanner package, and the versions of the
  numerical libraries (numpy, pandas, scipy: HiGHS ships with scipy).

A solution is used only when the stored key equals the key asked for; an unreadable, truncated or
foreign file is ignored and the scenario is solved again (never an error). Files are written
atomically. Bypass the cache with ``GEOPLANNER_NO_CACHE=1`` or the commands' ``--no-cache``.

The same store keeps the walking-time isochrones of the coverage step (``<cache_dir>/isochrones/``),
keyed by the network, the services' places, thresholds, speed, region and code
(:func:`geoplanner.pipeline.run_coverage`).

The files are Python pickles: load them only from a cache folder you own (the default ``./.cache``).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geoplanner.core import settings
from geoplanner.outputs.files import atomic_path

if TYPE_CHECKING:
    from geoplanner.scenario import Scenario, SitingContext

__all__ = [
    "NO_CACHE_ENV",
    "enabled",
    "code_version",
    "source_digest",
    "frame_digest",
    "solution_key",
    "load",
    "save",
    "cache_file",
    "digest",
    "base_parts",
]

#: Environment variable that turns the solution cache off when set to 1 / true / yes.
NO_CACHE_ENV = "GEOPLANNER_NO_CACHE"
#: Bumped whenever the stored layout changes.
FORMAT = 1


def enabled(flag: bool = True) -> bool:
    """Return whether the solution cache is used: ``flag`` and not ``$GEOPLANNER_NO_CACHE``."""
    off = os.environ.get(NO_CACHE_ENV, "").strip().lower() in ("1", "true", "yes", "on")
    return bool(flag) and not off


@lru_cache(maxsize=1)
def code_version() -> str:
    """Return the sha256 of the geoplanner package's Python source (any code change invalidates)."""
    return source_digest(Path(__file__).resolve().parent)


def source_digest(root: Path) -> str:
    """Return the sha256 of every ``.py`` file under ``root`` (relative names and contents)."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def frame_digest(frame: pd.DataFrame | None) -> str:
    """Return a sha256 of a table's columns, dtypes and values (geometries by their WKB).

    Parameters
    ----------
    frame
        Any (Geo)DataFrame; ``None`` gives a fixed digest.

    Returns
    -------
    str
        Hex digest; equal tables give equal digests, whatever object holds them.
    """
    h = hashlib.sha256()
    if frame is None:
        h.update(b"none")
        return h.hexdigest()
    df = pd.DataFrame(frame).reset_index(drop=True)
    for col in df.columns:
        s = df[col]
        h.update(f"{col}\0{s.dtype}\0".encode())
        if str(s.dtype) == "geometry":
            import shapely

            s = pd.Series([None if g is None else g.hex() for g in shapely.to_wkb(np.asarray(s.values))], dtype=object)
        try:
            h.update(pd.util.hash_pandas_object(s, index=False).to_numpy().tobytes())
        except TypeError:  # unhashable cells (lists, dicts): fall back to their text
            h.update("\x1f".join(map(repr, s.tolist())).encode())
    return h.hexdigest()


@lru_cache(maxsize=1)  # asked for by every key; importlib.metadata reads the installed files each time
def _library_versions() -> dict[str, str]:
    out = {}
    for name in ("numpy", "pandas", "scipy", "shapely"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "-"
    return out


def _services_digest(names: list[str], data_dir: Path | None) -> dict[str, str]:
    from geoplanner.inputs.load import load_services

    out = {}
    for name in names:
        ss = load_services(name, data_dir)
        pts = pd.DataFrame(ss.points)
        extra = json.dumps([ss.completeness_note, ss.incomplete, [str(p) for p in ss.sources]])
        out[name] = hashlib.sha256((frame_digest(pts) + extra).encode()).hexdigest()
    return out


def solution_key(scenario: Scenario, context: SitingContext) -> str:
    """Return the cache key of a scenario's solution in a context (see the module docstring).

    Parameters
    ----------
    scenario
        A validated scenario.
    context
        From :func:`geoplanner.scenario.build_context`.

    Returns
    -------
    str
        64 hex digits.
    """
    params = scenario.parameters()
    params.pop("path", None)
    net = context.net
    need = context.need
    sectors = None
    if need is not None and getattr(need, "sectors", None) is not None:
        sectors = pd.DataFrame(need.sectors).drop(columns="geometry", errors="ignore")
    parts: dict[str, Any] = {
        **base_parts(),
        "scenario": params,
        "network": {
            "sha256": getattr(net, "sha256", None),
            "params": getattr(net, "params", None),
            "nodes": getattr(net, "n_nodes", None),
            "edges": getattr(net, "n_edges", None),
        },
        "demand": frame_digest(context.demand),
        "ranking": frame_digest(context.ranking),
        "sectors": frame_digest(sectors),
        "need_notes": list(getattr(need, "notes", ()) or ()),
        "inputs": [str(p) for p in context.inputs],
        "services": _services_digest(sorted({*scenario.open_sets, scenario.candidate_set}), context.data_dir),
    }
    return digest(parts)


def digest(parts: dict[str, Any]) -> str:
    """Return the sha256 of a JSON-friendly dict (keys sorted; other objects by their text)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def base_parts() -> dict[str, Any]:
    """Return what every cached result depends on: the cache layout, the code and the numerical libraries."""
    return {"format": FORMAT, "code": code_version(), "libraries": dict(_library_versions())}


def cache_file(key: str, cache_dir: Path | None = None, kind: str = "solutions") -> Path:
    """Return where the result of ``key`` is stored (``<cache_dir>/<kind>/<key>.pkl``)."""
    return Path(cache_dir or settings.cache_dir()) / kind / f"{key}.pkl"


def load(key: str, cache_dir: Path | None = None, kind: str = "solutions") -> Any:
    """Return the stored result of ``key``, or None when absent, unreadable or stored under another key."""
    path = cache_file(key, cache_dir, kind)
    try:
        with open(path, "rb") as fh:
            payload = pickle.load(fh)  # noqa: S301 - our own cache folder (see the module docstring)
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - a damaged or old cache file is never used, only recomputed
        return None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT or payload.get("key") != key:
        return None
    return payload.get("result")


def save(key: str, result: Any, cache_dir: Path | None = None, kind: str = "solutions") -> Path | None:
    """Store a result under ``key`` atomically; return the file (None if it could not be written)."""
    target = cache_file(key, cache_dir, kind)
    try:
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as fh:
                pickle.dump({"format": FORMAT, "key": key, "result": result}, fh, protocol=pickle.HIGHEST_PROTOCOL)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        return None  # a cache that cannot be written only costs time next run
    return target
