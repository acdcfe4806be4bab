"""Where geoplanner reads and writes, and the constants every module shares.

The only global state of the package; every path can be overridden by an environment
variable so a notebook, a test or CI can point the tool elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CRS", "WGS84", "data_dir", "output_dir", "cache_dir", "mirror_dir", "ATTRIBUTION"]

#: Working CRS of every geometry inside the tool: Belgian Lambert 72 (metres).
CRS = "EPSG:31370"
#: Longitude/latitude, for input files and web maps.
WGS84 = "EPSG:4326"

#: Attribution lines every output that shows data must carry.
ATTRIBUTION = (
    "© OpenStreetMap contributors (ODbL)",
    "Statbel",
    "IBSA / perspective.brussels",
    "© European Union, GHSL, JRC (CC BY 4.0)",
)


def data_dir() -> Path:
    """Return the data folder: ``$GEOPLANNER_DATA_DIR`` or ``./data``."""
    return Path(os.environ.get("GEOPLANNER_DATA_DIR", Path.cwd() / "data"))


def output_dir() -> Path:
    """Return the output folder: ``$GEOPLANNER_OUTPUT_DIR`` or ``./outputs``."""
    return Path(os.environ.get("GEOPLANNER_OUTPUT_DIR", Path.cwd() / "outputs"))


def cache_dir() -> Path:
    """Return the cache folder: ``$GEOPLANNER_CACHE_DIR`` or ``./.cache``."""
    return Path(os.environ.get("GEOPLANNER_CACHE_DIR", Path.cwd() / ".cache"))


def mirror_dir() -> Path | None:
    """Return the local data mirror from ``$GEOPLANNER_DATA_MIRROR``, if set."""
    value = os.environ.get("GEOPLANNER_DATA_MIRROR")
    return Path(value) if value else None
