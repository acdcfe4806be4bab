"""The pinned Leaflet files fetched once (``geoplanner assets fetch``), for maps that work offline.

:mod:`geoplanner.outputs.maps.assets` names the files (npm packages, versions, sha256) and inlines
them from a folder; this module owns that folder (``<cache_dir>/assets``) and fills it.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import urllib.request
from pathlib import Path

from geoplanner.core import settings
from geoplanner.core.errors import DataError
from geoplanner.outputs.files import write_bytes
from geoplanner.outputs.maps.assets import PACKAGES, local_path

__all__ = ["assets_dir", "fetch_assets"]


def assets_dir(cache_dir: Path | None = None) -> Path:
    """Return the folder holding the extracted asset files (``<cache_dir>/assets``).

    Parameters
    ----------
    cache_dir
        Cache root; default ``settings.cache_dir()``.
    """
    return Path(cache_dir if cache_dir is not None else settings.cache_dir()) / "assets"


def _download(url: str, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (fixed https URL)
        return resp.read()


def fetch_assets(cache_dir: Path | None = None, *, force: bool = False, timeout: float = 60.0) -> list[Path]:
    """Download the pinned npm tarballs and extract the files the maps use.

    Parameters
    ----------
    cache_dir
        Cache root; default ``settings.cache_dir()`` (the files go to :func:`assets_dir`).
    force
        Download even when every file of a package is already cached.
    timeout
        Seconds per download.

    Returns
    -------
    list of pathlib.Path
        The extracted files, in ``PACKAGES`` order.

    Raises
    ------
    DataError
        If a download fails or a tarball's sha256 differs from the pinned value.
    """
    folder = assets_dir(cache_dir)
    out: list[Path] = []
    for pkg in PACKAGES:
        targets = [local_path(pkg, f, folder) for f in pkg.files]
        if not force and all(t.is_file() for t in targets):
            out.extend(targets)
            continue
        try:
            blob = _download(pkg.tarball_url, timeout)
        except OSError as exc:
            raise DataError(
                f"could not download {pkg.tarball_url}: {exc}",
                hint="this command needs access to registry.npmjs.org",
            ) from exc
        digest = hashlib.sha256(blob).hexdigest()
        if digest != pkg.sha256:
            raise DataError(
                f"sha256 of {pkg.name}-{pkg.version}.tgz is {digest}, expected {pkg.sha256}",
                hint="the download was altered or truncated; try again",
            )
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
            for rel, target in zip(pkg.files, targets, strict=True):
                member = tar.extractfile(f"package/{rel}")
                if member is None:
                    raise DataError(f"{rel} is missing from {pkg.tarball_url}")
                out.append(write_bytes(target, member.read()))
    return out
