"""Run manifests: what went in (with sha256), with which parameters, by which versions."""

from __future__ import annotations

import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from geoplanner.core.checksum import sha256_file
from geoplanner.outputs.files import pending_path, write_json

__all__ = ["write_manifest", "versions"]

_PACKAGES = (
    "geoplanner",
    "numpy",
    "pandas",
    "scipy",
    "geopandas",
    "shapely",
    "pyproj",
    "pyogrio",
    "rasterio",
    "networkx",
    "osmnx",
    "openpyxl",
    "folium",
    "matplotlib",
)


def versions() -> dict[str, str]:
    """Return the versions of Python and of the packages that shape the results."""
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def write_manifest(
    out_dir: str | Path,
    *,
    command: str,
    inputs: list[Path],
    parameters: dict[str, Any],
    outputs: list[Path] | None = None,
    notes: list[str] | None = None,
    name: str = "manifest.json",
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``manifest.json`` describing one run into ``out_dir``.

    Parameters
    ----------
    out_dir
        Output folder of the run.
    command
        The command or function that produced the outputs.
    inputs
        Input files; each is recorded with its size and sha256.
    parameters
        Every parameter that influences the results (JSON-serialisable).
    outputs
        Output files, recorded with their sha256 so a later reader can check them. Files (inputs too) inside
        ``out_dir`` are recorded relative to it, so the manifest stays true when the folder is moved.
    notes
        Caveats that travel with the outputs (estimates, incomplete layers).
    name
        File name, for folders shared by several commands.
    extra
        Further top-level entries (e.g. ``timings_s``, ``solution_cache``): how the run went, not
        what shaped its results.

    Returns
    -------
    pathlib.Path
        The manifest's path.
    """
    out_dir = Path(out_dir)
    root = out_dir.resolve()

    def describe(p: Path) -> dict[str, Any]:
        p = Path(p)
        real = pending_path(p)  # an output of the open step is still in its temporary file
        shown = str(p)
        if p.resolve().is_relative_to(root):
            shown = p.resolve().relative_to(root).as_posix()  # in the manifest's folder: valid wherever it moves
        return {"path": shown, "bytes": real.stat().st_size, "sha256": sha256_file(real)}

    manifest = {
        "tool": "geoplanner",
        "command": command,
        "created_utc": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "inputs": [describe(p) for p in sorted(set(map(Path, inputs)), key=str)],
        "parameters": parameters,
        "outputs": [describe(p) for p in sorted(set(map(Path, outputs or [])), key=str)],
        "notes": list(notes or []),
        "versions": versions(),
        **(extra or {}),
    }
    return write_json(out_dir / name, manifest)
