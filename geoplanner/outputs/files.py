"""Atomic file output: write to a temporary file beside the target, then rename.

A crash or a bad input never leaves a half-written output behind, and inputs are never
overwritten by accident.

A *step* (one command's set of outputs and its manifest) is replaced as a whole: inside
:func:`output_step`, every file written through :func:`atomic_path` stays a hidden temporary
file until the step ends without error; then all of them are renamed into place together, with
Ctrl-C held back for those few renames, and the files of the step's previous run that the new
run did not write (listed in the previous manifest) are removed. A step that fails or is
interrupted leaves the previous outputs exactly as they were.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import pyogrio

from geoplanner.core.errors import DataError

__all__ = [
    "atomic_path",
    "output_step",
    "pending_path",
    "sigint_held",
    "csv_safe",
    "ensure_output_dir",
    "write_text",
    "write_bytes",
    "write_json",
    "write_csv",
    "write_gpkg",
    "write_with",
    "formula_like",
    "gpkg_tables",
    "write_layer_styles",
    "STYLE_NAME_MAX",
    "STYLES_UPDATE_TIME",
]


class _Stage:
    """The outputs of one step, written aside and renamed into place together."""

    def __init__(self, out_dir: Path, manifest: str) -> None:
        self.out_dir = out_dir
        self.manifest = (out_dir / manifest).resolve()
        self.pending: dict[Path, Path] = {}  # final path (resolved) -> temporary file
        self.created: list[Path] = []  # folders made for the step's files (removed again if it fails, when empty)

    def add(self, target: Path, tmp: Path) -> None:
        target = target.resolve()
        old = self.pending.pop(target, None)
        if old is not None and old.exists():
            old.unlink()
        self.pending[target] = tmp

    def discard(self) -> None:
        for tmp in self.pending.values():
            if tmp.exists():
                tmp.unlink()
        self.pending.clear()

    def _previous_outputs(self) -> list[Path]:
        """Files the previous run of this step wrote into ``out_dir`` (from its manifest)."""
        try:
            old = json.loads(self.manifest.read_text(encoding="utf-8"))
            entries = [str(o["path"]) for o in old.get("outputs", [])]
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return []
        root = self.out_dir.resolve()
        found = []
        for entry in entries:
            p = Path(entry)
            for cand in [p] if p.is_absolute() else [self.out_dir / p, p]:
                r = cand.resolve()
                if r.parent == root and r.is_file():  # never reach outside the step's folder
                    found.append(r)
                    break
        return found

    def commit(self) -> None:
        """Rename every staged file into place, all or none: a rename that fails puts back those done."""
        stale = [p for p in self._previous_outputs() if p not in self.pending and p != self.manifest]
        order = sorted(self.pending, key=lambda t: (t == self.manifest, str(t)))  # manifest last
        for target in order:
            _refuse_folder(target)
        with sigint_held():
            done: list[tuple[Path, Path | None]] = []  # (target, its previous file set aside)
            try:
                for target in order:
                    done.append((target, _swap_in(self.pending[target], target)))
            except BaseException:
                for target, aside in reversed(done):
                    if aside is None:
                        target.unlink(missing_ok=True)
                    else:
                        os.replace(aside, target)
                raise
            for _, aside in done:
                if aside is not None:
                    aside.unlink(missing_ok=True)
            for old in stale:
                old.unlink(missing_ok=True)
            self.pending.clear()


def _hidden_name(target: Path, suffix: str) -> Path:
    """Reserve a unique hidden file name beside ``target`` (the file is created empty)."""
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    return Path(name)


def _swap_in(tmp: Path, target: Path) -> Path | None:
    """Rename ``tmp`` onto ``target``, keeping the previous file aside; return where it is (None: none)."""
    aside = None
    if target.is_file():
        aside = _hidden_name(target, ".old")
        os.replace(target, aside)
    try:
        os.replace(tmp, target)
    except BaseException:
        if aside is not None:
            os.replace(aside, target)
        raise
    return aside


def _refuse_folder(target: Path) -> None:
    """Refuse an output whose path is taken by a folder (found before anything is written or renamed)."""
    if target.is_dir():
        raise DataError(
            "cannot write this output: a folder has its name", path=target, hint="move or rename the folder"
        )


_STAGES: ContextVar[tuple[_Stage, ...]] = ContextVar("geoplanner_output_stages", default=())


@contextmanager
def sigint_held() -> Iterator[None]:
    """Hold back SIGINT (Ctrl-C) in this thread while the block runs; it is delivered right after.

    Threads and processes started inside inherit the blocked signal (the sweep starts its Dask workers so, and
    only the driver then gets a Ctrl-C from the terminal).
    """
    main = threading.current_thread() is threading.main_thread() and hasattr(signal, "pthread_sigmask")
    if main:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        if main:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@contextmanager
def output_step(out_dir: str | Path, *, manifest: str = "manifest.json") -> Iterator[Path]:
    """Replace one step's outputs as a whole (see the module docstring).

    Parameters
    ----------
    out_dir
        The step's output folder (its manifest lives here).
    manifest
        File name of the step's manifest in ``out_dir``; the previous run's outputs are read
        from it, so files that run wrote and this one does not are removed on success.

    Yields
    ------
    pathlib.Path
        ``out_dir``. Steps may nest; each commits when its own block ends. A step that fails also removes
        the folders it created, when they are left empty.
    """
    out = Path(out_dir)
    stage = _Stage(out, manifest)
    created = [d for d in (out, *out.absolute().parents) if not d.exists()]  # deepest first
    token = _STAGES.set((*_STAGES.get(), stage))
    try:
        yield out
    except BaseException:
        stage.discard()
        _remove_empty([*stage.created, *created])
        raise
    else:
        try:
            stage.commit()
        except BaseException:
            stage.discard()
            _remove_empty([*stage.created, *created])
            raise
    finally:
        _STAGES.reset(token)


def _remove_empty(folders: Sequence[Path]) -> None:
    """Remove the folders a failed step created, deepest first, as long as they are empty."""
    for folder in sorted(set(folders), key=lambda p: len(p.absolute().parts), reverse=True):
        try:
            folder.rmdir()
        except OSError:  # not empty (another step's files), or already gone
            continue


def ensure_output_dir(path: str | Path, *, option: str = "--out") -> Path:
    """Check, before any slow work starts, that the output folder can be made and written.

    Nothing is created here (a command that fails later leaves no empty folder behind): the folder,
    or its nearest existing parent, must be a writable directory.

    Raises
    ------
    DataError
        If a file stands where the folder or one of its parents should be, or it is not writable.
    """
    out = Path(path)
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    problem = None
    if not existing.is_dir():
        problem = f"{existing} is a file, not a folder"
    elif not os.access(existing, os.W_OK | os.X_OK):
        problem = f"no permission to write in {existing}"
    if problem:
        raise DataError(f"cannot write outputs here: {problem}", path=out, column=option, hint="choose another folder")
    return out


def pending_path(path: str | Path) -> Path:
    """Return where the content of ``path`` is now: its temporary file while a step is open."""
    p = Path(path)
    key = p.resolve()
    for stage in reversed(_STAGES.get()):
        if key in stage.pending:
            return stage.pending[key]
    return p


@contextmanager
def atomic_path(target: str | Path, *, protect: tuple[Path, ...] = (), defer: bool = False) -> Iterator[Path]:
    """Yield a temporary path; on success rename it onto ``target``.

    Parameters
    ----------
    target
        Final path of the output.
    protect
        Input files that must never be overwritten; writing onto one raises ``ValueError``.
    defer
        Inside :func:`output_step`, keep the file aside until the step ends. The ``write_*``
        functions (outputs) defer; a direct call (caches, valid on their own and read back at
        once) does not unless asked.

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
    _refuse_folder(target)
    stages = _STAGES.get() if defer else ()
    if stages:  # folders made for a staged file go again if its step fails
        stages[-1].created.extend(d for d in (target.parent, *target.parent.absolute().parents) if not d.exists())
    target.parent.mkdir(parents=True, exist_ok=True)
    with sigint_held():  # a unique name, reserved and released again: Ctrl-C must not leave it behind
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
        os.close(fd)
        tmp: Path | None = Path(tmp_name)
        tmp.unlink()  # some writers (GPKG) refuse an existing empty file
    try:
        yield tmp
        if stages:
            stages[-1].add(target, tmp)
            tmp = None
        else:
            os.replace(tmp, target)
    finally:
        if tmp is not None and tmp.exists():
            tmp.unlink()


def write_text(target: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) atomically and return the path."""
    with atomic_path(target, defer=True) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def write_bytes(target: str | Path, data: bytes) -> Path:
    """Write ``data`` atomically (a PNG, a workbook, a raster) and return the path."""
    with atomic_path(target, defer=True) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_json(target: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented, key-sorted JSON atomically (deterministic output)."""
    return write_text(target, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n")


#: First characters that make a spreadsheet read a cell as a formula (CSV/formula injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")


def formula_like(v: object) -> bool:
    """Return whether a spreadsheet would run ``v`` as a formula (text starting with ``= + - @``, not a number)."""
    return isinstance(v, str) and len(v) > 1 and v.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(v)


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Neutralise text cells a spreadsheet would run as a formula, by a leading apostrophe.

    Text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return (names from a user's
    file, for instance) gets a ``'`` in front, which Excel and LibreOffice show as plain text.
    Numbers, and text that is just a number such as ``-3.5``, are left alone.
    """
    out = df
    for col in df.columns:
        s = df[col]
        if not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
            continue
        risky = s.map(formula_like).astype(bool)
        if risky.any():
            if out is df:
                out = df.copy()
            out[col] = s.astype(object).where(~risky, "'" + s[risky].astype(str))
    return out


def write_csv(target: str | Path, df: pd.DataFrame, **kwargs: Any) -> Path:
    """Write a DataFrame as UTF-8 CSV without its index, atomically, formula-safe (:func:`csv_safe`)."""
    kwargs.setdefault("index", False)
    with atomic_path(target, defer=True) as tmp:
        csv_safe(df).to_csv(tmp, encoding="utf-8", lineterminator="\n", **kwargs)
    return Path(target)


#: ``last_change`` of every GeoPackage layer written (a fixed time: the same layers give the same bytes).
GPKG_TIMESTAMP = "1970-01-01T00:00:00.000Z"


def write_gpkg(target: str | Path, layers: dict[str, Any], *, after: Callable[[Path], object] | None = None) -> Path:
    """Write one or more GeoDataFrames as layers of one GeoPackage, atomically.

    Parameters
    ----------
    target
        The ``.gpkg`` path.
    layers
        Mapping of layer name to GeoDataFrame, written in the given order.
    after
        Called with the temporary file once every layer is in it, before it is renamed into
        place (e.g. :func:`geoplanner.outputs.qgis_styles.style_coverage_gpkg` adds the QGIS styles), so
        the file never appears without what ``after`` adds.
    """
    # GDAL stamps each layer with the time it was written; a fixed stamp keeps the same layers the same bytes
    # (the run's time is in its manifest)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_TIMESTAMP})
    with atomic_path(target, defer=True) as tmp:
        for name, gdf in layers.items():
            gdf.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
        if after is not None:
            after(tmp)
    return Path(target)


def write_with(target: str | Path, writer: Callable[[Path], None]) -> Path:
    """Run ``writer(tmp_path)`` and rename the result onto ``target`` atomically."""
    with atomic_path(target, defer=True) as tmp:
        writer(tmp)
    return Path(target)


# ---------------------------------------------------------------------------------------------
# QGIS layer styles inside a GeoPackage (built by geoplanner.outputs.qgis_styles)
# ---------------------------------------------------------------------------------------------

#: Characters QGIS gives the ``styleName`` field of ``layer_styles``.
STYLE_NAME_MAX = 30
#: ``update_time`` of every style row written (a fixed time, so the same styles give the same rows).
STYLES_UPDATE_TIME = GPKG_TIMESTAMP

# The table exactly as QGIS's OGR provider creates it (through GDAL, so also registered in
# gpkg_contents as an attributes table, which is how GDAL, and so QGIS, finds it).
_CREATE_STYLES = """CREATE TABLE IF NOT EXISTS "layer_styles" (
 "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
 "f_table_catalog" TEXT(256), "f_table_schema" TEXT(256), "f_table_name" TEXT(256),
 "f_geometry_column" TEXT(256), "styleName" TEXT(30), "styleQML" TEXT, "styleSLD" TEXT,
 "useAsDefault" BOOLEAN, "description" TEXT, "owner" TEXT(30), "ui" TEXT(30),
 "update_time" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"""


class StyleRow(Protocol):
    """What :func:`write_layer_styles` reads of a style (:class:`geoplanner.outputs.qgis_styles.LayerStyle`)."""

    layer: str
    name: str
    qml: str
    description: str
    default: bool


def gpkg_tables(con: sqlite3.Connection) -> set[str]:
    """Return the names of the tables and views of an open GeoPackage (SQLite) connection."""
    return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}


def _check_styles(styles: Sequence[StyleRow]) -> None:
    for s in styles:
        if not s.name or len(s.name) > STYLE_NAME_MAX:
            raise ValueError(f"style name {s.name!r} must have 1 to {STYLE_NAME_MAX} characters")
    defaults = [s.layer for s in styles if s.default]
    if len(defaults) != len(set(defaults)):
        raise ValueError("more than one default style for one layer")


def write_layer_styles(gpkg: str | Path, styles: Sequence[StyleRow], *, update_time: str = STYLES_UPDATE_TIME) -> int:
    """Store QGIS layer styles in a GeoPackage's ``layer_styles`` table.

    The table is created when missing, with QGIS's schema, and registered the way GDAL does
    (``gpkg_contents`` as an attributes table, ``gpkg_ogr_contents`` with its row count). A row
    with the same layer, geometry column and style name is replaced; a new default style clears
    the default flag of the layer's other styles, as QGIS does.

    Parameters
    ----------
    gpkg
        The GeoPackage, typically the temporary file of :func:`write_gpkg` not yet renamed (its
        ``after`` callback).
    styles
        The styles to store (:class:`geoplanner.outputs.qgis_styles.LayerStyle`).
    update_time
        The rows' ``update_time`` (fixed by default, so output does not depend on the clock).

    Returns
    -------
    int
        The number of rows written.

    Raises
    ------
    DataError
        If the file is not a GeoPackage or a style names a layer without a geometry column.
    ValueError
        If a style name is too long or two styles of one layer are both the default.
    """
    path = Path(gpkg)
    _check_styles(styles)
    if not path.is_file():
        raise DataError("GeoPackage not found", path=path)
    with closing(sqlite3.connect(path)) as con, con:
        tables = gpkg_tables(con)
        if "gpkg_contents" not in tables or "gpkg_geometry_columns" not in tables:
            raise DataError("not a GeoPackage (no gpkg_contents table)", path=path)
        geom = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        for s in styles:
            if s.layer not in geom:
                raise DataError("no such layer with a geometry in the GeoPackage", path=path, column=s.layer)
        con.execute(_CREATE_STYLES)
        con.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id) "
            "SELECT 'layer_styles', 'attributes', 'layer_styles', '', ?, 0 "
            "WHERE NOT EXISTS (SELECT 1 FROM gpkg_contents WHERE lower(table_name) = 'layer_styles')",
            (update_time,),
        )
        for s in styles:
            key = ("", s.layer, geom[s.layer])
            if s.default:
                con.execute(
                    "UPDATE layer_styles SET useAsDefault = 0 "
                    "WHERE f_table_schema = ? AND f_table_name = ? AND f_geometry_column = ?",
                    key,
                )
            con.execute(
                "DELETE FROM layer_styles WHERE f_table_schema = ? AND f_table_name = ? AND f_geometry_column = ? "
                "AND styleName = ?",
                (*key, s.name),
            )
            con.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                "styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time) "
                "VALUES ('', ?, ?, ?, ?, ?, NULL, ?, ?, '', NULL, ?)",
                (*key, s.name, s.qml, int(s.default), s.description, update_time),
            )
        if "gpkg_ogr_contents" in tables:  # GDAL's cached feature counts
            (n,) = con.execute("SELECT count(*) FROM layer_styles").fetchone()
            con.execute("DELETE FROM gpkg_ogr_contents WHERE lower(table_name) = 'layer_styles'")
            con.execute("INSERT INTO gpkg_ogr_contents (table_name, feature_count) VALUES ('layer_styles', ?)", (n,))
    return len(styles)
