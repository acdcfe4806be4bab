"""Fill the data folder: copy the bundle's files from a local mirror or download them, checksum first.

:mod:`geoplanner.inputs.bundle` says which files there are and checks them; here they are written.
"""

from __future__ import annotations

import shutil
import urllib.request
from pathlib import Path

from geoplanner.core import settings
from geoplanner.core.checksum import sha256_file
from geoplanner.core.errors import ConfigError, DataError, DataMissingError
from geoplanner.inputs.bundle import Dataset, PullAction, bundle_file, load_bundle
from geoplanner.outputs.files import atomic_path

__all__ = ["pull"]


def pull(
    mirror: Path | None = None,
    *,
    data_dir: Path | None = None,
    keys: list[str] | None = None,
    replace: bool = False,
) -> list[PullAction]:
    """Fill ``data_dir`` from a local mirror, or else from the official URLs.

    Parameters
    ----------
    mirror
        A folder laid out like ``data/`` (e.g. ``../shared/data``); default
        ``$GEOPLANNER_DATA_MIRROR``. Without one, datasets whose official URL is a direct
        file are downloaded; the others are reported as missing.
    data_dir
        Target folder; default :func:`settings.data_dir`.
    keys
        Only these datasets (default all).
    replace
        Replace an existing file whose checksum differs (it is kept otherwise: it may be a
        user's own newer copy).

    Returns
    -------
    list of PullAction
        One per dataset. Nothing is written for a file whose checksum does not match.
    """
    data_dir = data_dir or settings.data_dir()
    mirror = mirror or settings.mirror_dir()
    if mirror is not None and not Path(mirror).is_dir():
        raise DataMissingError("data mirror folder does not exist", path=mirror)
    bundle = load_bundle(bundle_file(data_dir))
    selected = keys or list(bundle)
    unknown = [k for k in selected if k not in bundle]
    if unknown:
        raise ConfigError(f"unknown dataset(s) {', '.join(unknown)}", hint=f"known: {', '.join(bundle)}")
    actions = []
    for key in selected:
        ds = bundle[key]
        target = ds.local_path(data_dir)
        existed = target.exists()
        if existed and sha256_file(target) == ds.sha256:
            actions.append(PullAction(key, target, "present"))
            continue
        if existed and not replace:
            actions.append(
                PullAction(key, target, "conflict", "a different file is there; pass --replace to overwrite it")
            )
            continue
        source = Path(mirror) / ds.path if mirror is not None else None
        if source is not None and source.exists():
            _install(source, target, ds)
            actions.append(PullAction(key, target, "replaced" if existed else "copied", f"from {source}"))
        elif ds.direct:
            _install(ds.url, target, ds)
            actions.append(PullAction(key, target, "replaced" if existed else "downloaded", ds.url))
        else:
            where = f"not in mirror {mirror}" if mirror is not None else "no mirror given"
            actions.append(PullAction(key, target, "missing", f"{where}; official source (manual download): {ds.url}"))
    return actions


def _install(source: Path | str, target: Path, ds: Dataset) -> None:
    """Copy a local file or a URL to ``target`` via a temporary file, verifying the checksum first."""
    with atomic_path(target) as tmp:
        if isinstance(source, Path):
            shutil.copyfile(source, tmp)
        else:
            with urllib.request.urlopen(source, timeout=60) as resp, open(tmp, "wb") as fh:  # noqa: S310
                shutil.copyfileobj(resp, fh)
        digest = sha256_file(tmp)
        if digest != ds.sha256:
            raise DataError(
                f"checksum mismatch for dataset '{ds.key}': got {digest[:12]}…, expected {ds.sha256[:12]}…",
                path=source,
                hint="the source holds a different version; nothing was written",
            )
