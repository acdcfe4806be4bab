"""The data bundle: which files the tool uses, where they come from, and getting them.

``data/bundle.toml`` lists every dataset (local path under ``data/``, sha256, publisher,
licence, reference year, official URL, and where known the size of the real population so
an incomplete layer can be flagged). The files themselves are not in git: :func:`pull`
copies them from a local mirror laid out like ``data/`` or downloads the ones whose
official URL is a direct file, and :func:`check` validates what is there.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from geoplanner import cache
from geoplanner.core import settings
from geoplanner.core.checksum import sha256_file
from geoplanner.core.errors import ConfigError, DataError, DataMissingError

__all__ = [
    "Dataset",
    "PullAction",
    "bundle_file",
    "load_bundle",
    "get_dataset",
    "dataset_path",
    "check",
    "PULL_HINT",
]

#: What to tell a user whose data folder is empty.
PULL_HINT = (
    "run `geoplanner data pull --from ../shared/data` (or set GEOPLANNER_DATA_MIRROR to a folder laid out like data/)"
)

_REQUIRED_KEYS = ("path", "sha256", "title", "publisher", "licence", "year", "url")
_OPTIONAL_KEYS = ("expected_count", "expected_count_source", "crs", "direct", "notes")


@dataclass(frozen=True)
class Dataset:
    """One entry of the data bundle."""

    key: str
    path: str
    sha256: str
    title: str
    publisher: str
    licence: str
    year: int
    url: str
    direct: bool = False
    expected_count: int | None = None
    expected_count_source: str | None = None
    crs: str | None = None
    notes: str | None = None

    def local_path(self, data_dir: Path | None = None) -> Path:
        """Return the file's path under ``data_dir`` (default :func:`settings.data_dir`)."""
        return (data_dir or settings.data_dir()) / self.path


@dataclass(frozen=True)
class PullAction:
    """What :func:`pull` did with one dataset."""

    key: str
    path: Path
    action: str  # copied | downloaded | present | missing | conflict | replaced
    detail: str = ""


def bundle_file(data_dir: Path | None = None) -> Path:
    """Return the bundle manifest: ``data/bundle.toml``, or the one shipped with the package."""
    candidate = (data_dir or settings.data_dir()) / "bundle.toml"
    if candidate.exists():
        return candidate
    shipped = Path(__file__).resolve().parents[2] / "data" / "bundle.toml"
    if shipped.exists():
        return shipped
    raise DataMissingError("no data/bundle.toml found", path=candidate, hint="run from the project folder")


def load_bundle(path: Path | None = None) -> dict[str, Dataset]:
    """Read and validate the bundle manifest.

    Parameters
    ----------
    path
        The TOML file; default :func:`bundle_file`.

    Returns
    -------
    dict
        Dataset key to :class:`Dataset`, in file order.
    """
    path = path or bundle_file()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=path) from None
    entries = raw.get("datasets")
    if not isinstance(entries, dict) or not entries:
        raise ConfigError("no [datasets.*] tables", path=path)
    out: dict[str, Dataset] = {}
    for key, entry in entries.items():
        missing = [k for k in _REQUIRED_KEYS if k not in entry]
        if missing:
            raise ConfigError(f"dataset '{key}' lacks {', '.join(missing)}", path=path, column=missing[0])
        unknown = sorted(set(entry) - set(_REQUIRED_KEYS) - set(_OPTIONAL_KEYS))
        if unknown:
            raise ConfigError(f"dataset '{key}' has unknown key(s) {', '.join(unknown)}", path=path)
        out[key] = Dataset(key=key, **entry)
    return out


def get_dataset(key: str) -> Dataset:
    """Return the bundle entry ``key`` (raises :class:`ConfigError` if unknown)."""
    bundle = load_bundle()
    if key not in bundle:
        raise ConfigError(f"unknown dataset '{key}'", hint=f"known: {', '.join(bundle)}")
    return bundle[key]


def dataset_path(key: str, data_dir: Path | None = None) -> Path:
    """Return the local path of dataset ``key``, which must exist and match the bundle's sha256.

    The checksum is verified the first time a file is used and again whenever its size or
    modification time changes (the result is kept in ``<cache>/bundle_verified.json``), so a
    file truncated or edited after ``data pull`` is refused instead of read.

    Raises
    ------
    DataMissingError
        If the file is not there, with the command that fetches it.
    DataError
        If the file differs from the bundle's version.
    """
    ds = get_dataset(key)
    path = ds.local_path(data_dir)
    if not path.exists():
        raise _missing(ds, path, data_dir)
    _verify(ds, path)
    return path


def _missing(ds: Dataset, path: Path, data_dir: Path | None) -> DataMissingError:
    """Say why a dataset is not there: no data folder at all (moved?), the project folder given, or one file."""
    root = data_dir or settings.data_dir()
    how = " (GEOPLANNER_DATA_DIR)" if data_dir is None and os.environ.get("GEOPLANNER_DATA_DIR") else ""
    if not root.is_dir():
        return DataMissingError(
            f"no data folder here{how}, so dataset '{ds.key}' is missing",
            path=root,
            hint="if the data folder was moved, point GEOPLANNER_DATA_DIR at its new place; else " + PULL_HINT,
        )
    if (root / "data" / ds.path).exists():
        return DataMissingError(
            f"dataset '{ds.key}' is not in this folder{how} but in its data/ subfolder",
            path=root,
            hint=f"point GEOPLANNER_DATA_DIR at {root / 'data'}",
        )
    return DataMissingError(f"dataset '{ds.key}' is missing", path=path, hint=PULL_HINT)


# Files verified in this process: resolved path -> (size, mtime_ns, sha256).
_VERIFIED: dict[str, tuple[int, int, str]] = {}


def _verify(ds: Dataset, path: Path) -> None:
    """Check ``path`` against the bundle's sha256, reusing an earlier result for an unchanged file.

    The result is kept for this process and in :mod:`geoplanner.cache` (kind ``bundle``), keyed by the file's
    resolved path, size and modification time: a file changed since is hashed again.
    """
    st = path.stat()
    key = str(path.resolve())
    stamp = (st.st_size, st.st_mtime_ns)
    known = _VERIFIED.get(key)
    memo = cache.digest({"what": "bundle file", "path": key, "size": stamp[0], "mtime_ns": stamp[1]})
    if known is None:
        stored = cache.load(memo, kind="bundle")
        known = (*stamp, stored) if isinstance(stored, str) else None
    if known is not None and known[:2] == stamp:
        digest = known[2]
    else:
        digest = sha256_file(path)
        cache.save(memo, digest, kind="bundle")
    _VERIFIED[key] = (*stamp, digest)
    if digest != ds.sha256:
        raise DataError(
            f"dataset '{ds.key}' differs from the bundle's version (sha256 {digest[:12]}…, expected "
            f"{ds.sha256[:12]}…): truncated or changed after `data pull`",
            path=path,
            hint="restore it with `geoplanner data pull --replace`; bring your own figures or services "
            "with `geoplanner indicators import` / `services import`, your own network with --network",
        )


def check(data_dir: Path | None = None) -> list[PullAction]:
    """Report, per dataset, whether the file is present with the expected checksum.

    Returns
    -------
    list of PullAction
        ``action`` is ``ok``, ``missing`` or ``changed`` (present with a different checksum:
        truncated or edited; the loaders refuse it until ``pull --replace`` restores it).
    """
    data_dir = data_dir or settings.data_dir()
    out = []
    for key, ds in load_bundle(bundle_file(data_dir)).items():
        target = ds.local_path(data_dir)
        if not target.exists():
            out.append(PullAction(key, target, "missing", PULL_HINT))
        elif sha256_file(target) != ds.sha256:
            out.append(PullAction(key, target, "changed", "checksum differs from the bundle: run data pull --replace"))
        else:
            out.append(PullAction(key, target, "ok"))
    return out
