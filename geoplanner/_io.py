"""Atomic file output: write to a temporary file beside the target, then rename.

A crash or a bad input never leaves a half-written output behind, and inputs are never
overwritten by accident.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "atomic_path",
    "write_text",
    "write_json",
    "write_csv",
    "write_gpkg",
    "sha256_file",
    "write_with",
]


@contextmanager
def atomic_path(target: str | Path, *, protect: tuple[Path, ...] = ()) -> Iterator[Path]:
    """Yield a temporary path; on success rename it onto ``target``.

    Parameters
    ----------
    target
        Final path of the output.
    protect
        Input files that must never be overwritten; writing onto one raises ``ValueError``.

    Yields
    ------
    pathlib.Path
        A temporary path in the same folder as ``target`` (same suffix, so drivers that
        look at the extension still work).
    """
    target = Path(target)
    for p in protect:
        if Path(p).resolve() == target.resolve():
            raise ValueError(f"refusing to overwrite input file {target}")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # some writers (GPKG) refuse an existing empty file
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text(target: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) atomically and return the path."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def write_json(target: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented, key-sorted JSON atomically (deterministic output)."""
    return write_text(target, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n")


def write_csv(target: str | Path, df: pd.DataFrame, **kwargs: Any) -> Path:
    """Write a DataFrame as UTF-8 CSV without its index, atomically."""
    kwargs.setdefault("index", False)
    with atomic_path(target) as tmp:
        df.to_csv(tmp, encoding="utf-8", lineterminator="\n", **kwargs)
    return Path(target)


def write_gpkg(target: str | Path, layers: dict[str, Any]) -> Path:
    """Write one or more GeoDataFrames as layers of one GeoPackage, atomically.

    Parameters
    ----------
    target
        The ``.gpkg`` path.
    layers
        Mapping of layer name to GeoDataFrame, written in the given order.
    """
    with atomic_path(target) as tmp:
        for name, gdf in layers.items():
            gdf.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
    return Path(target)


def write_with(target: str | Path, writer: Callable[[Path], None]) -> Path:
    """Run ``writer(tmp_path)`` and rename the result onto ``target`` atomically."""
    with atomic_path(target) as tmp:
        writer(tmp)
    return Path(target)


def sha256_file(path: str | Path, *, chunk: int = 1 << 20) -> str:
    """Return the hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()
