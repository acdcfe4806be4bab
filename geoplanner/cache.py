"""One keyed on-disk store: compute once, reuse while nothing that shapes the result changed.

Everything geoplanner keeps between runs lives here, under ``<cache_dir>/<kind>/<key>.<ext>``:

============  ================================================  ============================================
kind          what                                              key built by
============  ================================================  ============================================
solutions     scenario solutions                                :func:`geoplanner.scenario.solution_key`
isochrones    walking-time polygons of a service set            :func:`geoplanner.access.isochrones.isochrone_key`
rasters       walking-time GeoTIFF bytes                        the same, with the cell size
maps          rendered map pages (HTML) and printable PNGs      :mod:`geoplanner.outputs.maps` page keys
network       the walking network as arrays (``.npz``)          the network file's content and build rules
need          residential streets as arrays (``.npz``)          the OSM, GHSL and region files' content
geocode       the offline address index                         the OSM extract's and sectors' content
============  ================================================  ============================================

A key is the sha256 of everything that shapes the result (:func:`digest` of a JSON-friendly dict; tables
by :func:`frame_digest`), always including :func:`base_parts` — the store's format, the sha256 of the
package's source and the versions of the numerical libraries — so a code or library change never serves a
stale result. Keys are built from *content*, never from where a file lies, so a moved data folder reuses
what it can.

A result is used only when the stored key equals the key asked for; a missing, unreadable, truncated or
foreign file is ignored (the caller computes again), never an error; a file that cannot be written only
costs time next run. Files are written to a temporary name beside the target and renamed. The store is off
when ``$GEOPLANNER_NO_CACHE`` is ``1``/``true``/``yes``/``on`` or a command gets ``--no-cache``.

Pickled results are Python pickles: load them only from a cache folder you own (the default ``./.cache``).
Arrays are stored as ``.npz`` without pickles.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import shapely

from geoplanner.core import settings

__all__ = [
    "NO_CACHE_ENV",
    "FORMAT",
    "enabled",
    "code_version",
    "source_digest",
    "frame_digest",
    "array_digest",
    "digest",
    "base_parts",
    "library_versions",
    "cache_file",
    "load",
    "save",
    "load_arrays",
    "save_arrays",
    "cached",
]

#: Environment variable that turns the store off when set to 1 / true / yes / on.
NO_CACHE_ENV = "GEOPLANNER_NO_CACHE"
#: Bumped whenever the stored layout changes.
FORMAT = 1

_T = TypeVar("_T")


def enabled(flag: bool = True) -> bool:
    """Return whether the store is used: ``flag`` and not ``$GEOPLANNER_NO_CACHE``."""
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
            s = pd.Series([None if g is None else g.hex() for g in shapely.to_wkb(np.asarray(s.values))], dtype=object)
        try:
            h.update(pd.util.hash_pandas_object(s, index=False).to_numpy().tobytes())
        except TypeError:  # unhashable cells (lists, dicts): fall back to their text
            h.update("\x1f".join(map(repr, s.tolist())).encode())
    return h.hexdigest()


def array_digest(values: Any) -> str | None:
    """Return the sha256 of an array's float64 bytes (None for None): coordinates, weights."""
    if values is None:
        return None
    return hashlib.sha256(np.ascontiguousarray(values, dtype=float).tobytes()).hexdigest()


@lru_cache(maxsize=1)  # asked for by every key; importlib.metadata reads the installed files each time
def library_versions() -> dict[str, str]:
    """Return the versions of the numerical libraries every cached result depends on."""
    out = {}
    for name in ("numpy", "pandas", "scipy", "shapely"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "-"
    return out


def digest(parts: Mapping[str, Any]) -> str:
    """Return the sha256 of a JSON-friendly dict (keys sorted; other objects by their text)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def base_parts() -> dict[str, Any]:
    """Return what every cached result depends on: the store's format, the code and the numerical libraries."""
    return {"format": FORMAT, "code": code_version(), "libraries": dict(library_versions())}


def cache_file(key: str, cache_dir: Path | None = None, kind: str = "solutions", suffix: str = ".pkl") -> Path:
    """Return where the result of ``key`` is stored (``<cache_dir>/<kind>/<key><suffix>``)."""
    return Path(cache_dir or settings.cache_dir()) / kind / f"{key}{suffix}"


@contextmanager
def _replacing(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` when the block ends without error."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


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
        with _replacing(target) as tmp, open(tmp, "wb") as fh:
            pickle.dump({"format": FORMAT, "key": key, "result": result}, fh, protocol=pickle.HIGHEST_PROTOCOL)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        return None  # a cache that cannot be written only costs time next run
    return target


def load_arrays(key: str, cache_dir: Path | None = None, kind: str = "network") -> dict[str, np.ndarray] | None:
    """Return the arrays stored under ``key`` (no pickles), or None when absent, unreadable or foreign."""
    path = cache_file(key, cache_dir, kind, ".npz")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {name: z[name] for name in z.files}
    except (OSError, KeyError, ValueError, EOFError):
        return None
    stamp = arrays.pop("__key__", None)
    if stamp is None or str(stamp) != key:
        return None
    return arrays


def save_arrays(
    key: str, arrays: Mapping[str, np.ndarray], cache_dir: Path | None = None, kind: str = "network"
) -> Path | None:
    """Store arrays under ``key`` as ``.npz`` atomically; return the file (None if it could not be written)."""
    target = cache_file(key, cache_dir, kind, ".npz")
    try:
        with _replacing(target) as tmp, open(tmp, "wb") as fh:  # np.savez on a path would append '.npz'
            np.savez(fh, __key__=np.array(key), **arrays)
    except (OSError, ValueError, TypeError):
        return None
    return target


def cached(key: str, make: Callable[[], _T], *, use: bool, kind: str, cache_dir: Path | None = None) -> _T:
    """Return the result stored under ``key``, or make it (and store it) when absent.

    Parameters
    ----------
    key
        The result's key (64 hex digits).
    make
        Computes the result.
    use
        Whether the store is on (see :func:`enabled`); off: always make, store nothing.
    kind
        Sub-folder of the cache folder.
    cache_dir
        Cache folder (default ``settings.cache_dir()``).

    Returns
    -------
    object
        The stored or freshly made result.
    """
    if not use:
        return make()
    stored = load(key, cache_dir, kind)
    if stored is not None:
        return stored
    value = make()
    save(key, value, cache_dir, kind)
    return value
