"""Bring your own data: import service lists and sector figures, geocode addresses offline, write the results.

The pieces come from the layers below: :mod:`geoplanner.inputs.user_tables`, :mod:`~geoplanner.inputs.user_services`
and :mod:`~geoplanner.inputs.sector_figures` read and check, :mod:`geoplanner.geocode` places addresses against
the address index built here (and kept in :mod:`geoplanner.cache`); this module stores
``data/services/user/<NAME>.csv`` and ``data/indicators/user/sector_figures.csv`` and writes the reports under
``outputs/imports/`` and ``outputs/geocode/``.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geoplanner import cache as store
from geoplanner.core import settings
from geoplanner.core.checksum import sha256_file
from geoplanner.core.errors import DataError, GeoplannerError
from geoplanner.geocode import (
    ADDRESS_FIELDS,
    AddressIndex,
    address_index_key,
    build_address_index,
    geocode,
    geocode_frame,
)
from geoplanner.inputs.areas import load_communes, load_region, load_sectors
from geoplanner.inputs.bundle import dataset_path, get_dataset
from geoplanner.inputs.osm import load_osm_layers
from geoplanner.inputs.sector_figures import (
    TOTALS_TOLERANCE,
    SectorFigures,
    figures_to_store,
    sector_figures_path,
    validate_sector_figures,
)
from geoplanner.inputs.services import ServiceSet, load_service_file
from geoplanner.inputs.tables import read_table
from geoplanner.inputs.user_services import (
    ImportReport,
    Placements,
    check_crs,
    check_set_name,
    finish_services,
    map_service_columns,
    place_given,
    rows_to_geocode,
)
from geoplanner.inputs.user_tables import read_user_table
from geoplanner.outputs.files import ensure_output_dir, output_step, write_bytes, write_csv
from geoplanner.outputs.manifest import write_manifest

__all__ = [
    "address_index",
    "clear_address_indexes",
    "user_services_dir",
    "import_services",
    "preview_services",
    "UPLOAD_SUFFIXES",
    "import_sector_figures",
    "ServicesImportRun",
    "run_services_import",
    "GeocodeRun",
    "run_services_geocode",
    "IndicatorsImportRun",
    "run_indicators_import",
    "BUNDLED_SERVICE_KEYS",
]

#: The bundled service lists whose rows without coordinates ``services geocode`` places.
BUNDLED_SERVICE_KEYS = ("services_kg", "services_one", "services_hvhk", "services_candidates")

_GEOCODE_NOTE = (
    "uncertainty_m: radius (m) around each point that holds the true address about 9 times in 10"
    " (hold-out on OSM addresses, bench/bench_geocode.py); street-level radii run to several"
    " hundred metres; OSM is from 2013"
)

# Address indexes built or loaded in this process, by cache key: one load per command, not per row.
_INDEXES: dict[str, AddressIndex] = {}


def _content_sha(key: str, path: str | Path | None, data_dir: Path | None) -> tuple[Path, str]:
    """Return the file of a dataset (the bundle's, checked, or one given) and the sha256 of its content."""
    if path is not None:
        return Path(path), sha256_file(path)
    return dataset_path(key, data_dir), get_dataset(key).sha256


def address_index(
    data_dir: Path | None = None,
    *,
    pbf_path: str | Path | None = None,
    sectors_path: str | Path | None = None,
    cache: bool = True,
) -> AddressIndex:
    """Return the offline address index: built once, then reused while its inputs' content is unchanged.

    Parameters
    ----------
    data_dir
        Data folder for the bundle lookup.
    pbf_path
        The ``.osm.pbf`` file; default the bundle's ``osm_pbf``.
    sectors_path
        Statbel statistical sectors for the postcode areas; default the bundle's ``sectors``.
    cache
        Keep the index in :mod:`geoplanner.cache` (kind ``geocode``, key
        :func:`~geoplanner.geocode.index.address_index_key`: the two files' sha256, the code and the library
        versions) and in memory for the process. Like the network and street caches, the index is built
        data, never stale, so ``$GEOPLANNER_NO_CACHE`` does not turn it off; ``False`` builds it anew.

    Returns
    -------
    AddressIndex
    """
    pbf, sha = _content_sha("osm_pbf", pbf_path, data_dir)
    sectors_file, ssha = _content_sha("sectors", sectors_path, data_dir)
    key = address_index_key(sha, ssha)
    if cache and key in _INDEXES:
        return _INDEXES[key]

    def build() -> AddressIndex:
        sectors = load_sectors(data_dir, path=sectors_file)
        osm = load_osm_layers(path=pbf)
        return build_address_index(osm, sectors, sectors_path=sectors_file, sha256=sha, sectors_sha256=ssha)

    index = store.cached(key, build, use=cache, kind="geocode")
    if cache:
        _INDEXES[key] = index
    return index


def clear_address_indexes() -> None:
    """Forget the indexes kept in memory (the next :func:`address_index` loads from the disk cache)."""
    _INDEXES.clear()


def user_services_dir(data_dir: Path | None = None) -> Path:
    """Return the folder of user service sets, ``data/services/user``."""
    return (data_dir or settings.data_dir()) / "services" / "user"


def _geocode_rows(df: pd.DataFrame, placements: Placements, todo: list[int], index: AddressIndex) -> None:
    """Geocode the rows ``todo`` by their address and record each result in ``placements``."""
    address = {c: df[c].tolist() if c in df.columns else [None] * len(df) for c in ADDRESS_FIELDS}
    for i in todo:
        res = geocode(index, *(address[c][i] for c in ADDRESS_FIELDS))
        if not res.found:
            placements.set_not_found(i, res.reason)
            continue
        method = (
            f"offline geocoder, {res.accuracy}: {res.method} (matched '{res.matched_street}', "
            f"score {res.score:.2f}, OSM 2013)"
        )
        placements.set_geocoded(i, res.x, res.y, res.accuracy, method, res.reason, res.commune_nis, res.uncertainty_m)


def import_services(
    path: str | Path,
    set_name: str,
    *,
    data_dir: Path | None = None,
    store_dir: Path | None = None,
    replace: bool = False,
    crs: str | None = None,
    default_type: str | None = None,
    index: AddressIndex | None = None,
    sheet: str | None = None,
) -> ImportReport:
    """Import a user's list of services as a named service set and store it.

    Parameters
    ----------
    path
        CSV, XLSX or GPKG/GeoJSON. Columns (Dutch, French and English names accepted): id,
        name, type (required; ``default_type`` fills a missing type column), coordinates
        (lat/lon in WGS84, or x/y in Lambert 72 / Lambert 2008, detected from the values) and/or
        address (street, number, postcode, commune), and optionally operator, language,
        source, source_date, notes.
    set_name
        Name of the stored set (lower case, digits, '-', '_'); not a built-in set name.
    data_dir
        Data folder (reference data: region outline, communes, OSM extract).
    store_dir
        Where to write ``<set_name>.csv`` (default ``data/services/user``).
    replace
        Overwrite an existing set of that name.
    crs
        Force the CRS of x/y columns ('EPSG:31370' or 'EPSG:3812'); default: detect.
    default_type
        Type for every row when the file has no type column.
    index
        A prebuilt address index (default: :func:`address_index` when some row needs geocoding).
    sheet
        Sheet to read from a workbook with several filled sheets.

    Returns
    -------
    ImportReport
        Placed and unplaced rows with method, accuracy and reason.

    Raises
    ------
    DataError
        Unreadable file, missing required columns, empty or duplicate ids, empty names, or an
        existing set without ``replace``.
    """
    path = Path(path)
    check_set_name(set_name)
    crs = check_crs(crs)
    target = (store_dir or user_services_dir(data_dir)) / f"{set_name}.csv"
    if target.exists() and not replace:
        raise DataError(f"service set '{set_name}' exists already", path=target, hint="use --replace to overwrite it")
    table, rows, warnings = _services_table(path, data_dir, crs, default_type, index, sheet)
    write_csv(target, table)
    return ImportReport(set_name=set_name, stored=target, source=path, rows=rows, warnings=warnings)


def _services_table(
    path: Path,
    data_dir: Path | None,
    crs: str | None,
    default_type: str | None,
    index: AddressIndex | None,
    sheet: str | None,
    max_rows: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Read, check, place and geocode a service list: the table to store, the report rows and the warnings."""
    df, warnings = read_user_table(path, sheet=sheet)
    if max_rows is not None and len(df) > max_rows:
        raise DataError(f"{len(df)} rows; at most {max_rows} can be imported here", path=path,
                        hint="import a longer list with `geoplanner services import`")  # fmt: skip
    df = map_service_columns(df, path, default_type)
    placements = place_given(df, crs, load_region(data_dir), warnings)
    todo = rows_to_geocode(df, placements)
    if todo:
        _geocode_rows(df, placements, todo, index or address_index(data_dir))
    table, rows = finish_services(df, placements, path, load_communes(data_dir))
    return table, rows, warnings


#: File types :func:`preview_services` takes (an upload says which by its suffix; the file name is never used).
UPLOAD_SUFFIXES = (".csv", ".xlsx")


def preview_services(
    data: bytes,
    suffix: str,
    set_name: str,
    *,
    shown_as: str = "upload",
    data_dir: Path | None = None,
    index: AddressIndex | None = None,
    max_rows: int | None = None,
) -> tuple[ServiceSet, ImportReport]:
    """Import a service list held in memory (an upload), as ``services import`` does, and store nothing.

    The bytes go to a temporary folder of this process under a fixed name (``upload.csv`` or ``upload.xlsx``);
    nothing a client sends becomes a path. The folder is removed before this returns.

    Parameters
    ----------
    data
        The file's content.
    suffix
        One of :data:`UPLOAD_SUFFIXES`.
    set_name
        The set's name (:func:`~geoplanner.inputs.user_services.check_set_name`).
    shown_as
        What errors and the ``source`` column call the file (the user's file name, as text only).
    data_dir
        Data folder (region, communes, the address index).
    index
        A prebuilt address index (default: :func:`address_index` when some row needs geocoding).
    max_rows
        Refuse a list with more rows.

    Returns
    -------
    ServiceSet
        The set as :func:`~geoplanner.inputs.services.load_services` would return it once stored (no sources).
    ImportReport
        Placed and unplaced rows with method, accuracy, radius and reason (``stored`` and ``source``: ``shown_as``).

    Raises
    ------
    DataError
        As :func:`import_services`, naming ``shown_as`` instead of the temporary file.
    """
    check_set_name(set_name)
    if suffix not in UPLOAD_SUFFIXES:
        raise DataError(f"unsupported file type {suffix!r}", path=shown_as, hint="use .csv or .xlsx")
    with tempfile.TemporaryDirectory(prefix="geoplanner-upload-") as tmp:
        src = write_bytes(Path(tmp) / f"upload{suffix}", data)
        try:
            table, rows, warnings = _services_table(src, data_dir, None, None, index, None, max_rows)
            table["source"] = table["source"].replace(f"user file {src.name}", f"user file {shown_as}")
            ss = load_service_file(write_csv(Path(tmp) / f"{set_name}.csv", table), set_name, data_dir)
        except GeoplannerError as exc:
            named = exc.path is not None and exc.path.name in (src.name, f"{set_name}.csv")
            raise type(exc)(exc.message, path=shown_as if named else exc.path, row=exc.row, column=exc.column,
                            hint=exc.hint) from None  # fmt: skip
    report = ImportReport(set_name=set_name, stored=Path(shown_as), source=Path(shown_as), rows=rows, warnings=warnings)
    return dataclasses.replace(ss, sources=[]), report


def import_sector_figures(
    path: str | Path, *, data_dir: Path | None = None, store_path: Path | None = None, replace: bool = False
) -> SectorFigures:
    """Validate a user's sector figures and store them for the need model.

    Parameters
    ----------
    path
        CSV or XLSX with a sector code column (``code``/``cd_sector``; Statbel 2022 or 2025
        codes, one vintage per file) and any of ``births``, ``pop_0_2``, ``pop_total``,
        ``kansarmoede_index`` (0-100 %), optionally ``year``. Blank cells mean "not given".
    data_dir
        Data folder (crosswalks and commune population for the checks).
    store_path
        Where to store the validated figures (default ``data/indicators/user/sector_figures.csv``).
    replace
        Overwrite figures imported before.

    Returns
    -------
    SectorFigures

    Raises
    ------
    DataError
        Unknown, duplicate or mixed-vintage codes; non-numeric or negative values; a
        kansarmoede-index outside 0-100; an existing file without ``replace``.
    """
    path = Path(path)
    target = store_path or sector_figures_path(data_dir)
    if target.exists() and not replace:
        raise DataError("sector figures were imported before", path=target, hint="use --replace to overwrite them")
    df, read_warnings = read_user_table(path)
    figures = validate_sector_figures(df, path, data_dir, read_warnings=read_warnings)
    write_csv(target, figures_to_store(df, path))
    return figures


@dataclass(frozen=True)
class ServicesImportRun:
    """Result of :func:`run_services_import`: the import and the files of its report."""

    report: ImportReport
    report_csv: Path
    manifest: Path


def run_services_import(
    file: Path,
    set_name: str,
    *,
    out: Path | None = None,
    replace: bool = False,
    crs: str | None = None,
    default_type: str | None = None,
    sheet: str | None = None,
) -> ServicesImportRun:
    """Import a service list (:func:`import_services`) and write its report and manifest under ``<out>/imports``.

    The stored set, the report ``services_<NAME>_report.csv`` and ``manifest_services_<NAME>.json`` land
    together or not at all.

    Parameters
    ----------
    file
        The user's file.
    set_name
        Name of the stored set.
    out
        Output folder (default :func:`settings.output_dir`); the report goes to its ``imports`` folder.
    replace, crs, default_type, sheet
        As :func:`import_services`.

    Returns
    -------
    ServicesImportRun
    """
    out_dir = ensure_output_dir((out or settings.output_dir()) / "imports")
    with output_step(out_dir, manifest=f"manifest_services_{set_name}.json"):
        report = import_services(file, set_name, replace=replace, crs=crs, default_type=default_type, sheet=sheet)
        rows_csv = write_csv(out_dir / f"services_{set_name}_report.csv", report.rows)
        manifest = write_manifest(
            out_dir,
            command=f"geoplanner services import {file} --set {set_name}",
            inputs=[file],
            parameters={"set": set_name, "replace": replace, "crs": crs, "type": default_type, "sheet": sheet},
            outputs=[report.stored, rows_csv],
            notes=report.warnings,
            name=f"manifest_services_{set_name}.json",
        )
    return ServicesImportRun(report, rows_csv, manifest)


@dataclass(frozen=True)
class GeocodeRun:
    """Result of :func:`run_services_geocode`."""

    todo: pd.DataFrame  # the bundled rows with a street and no coordinates, by id
    result: pd.DataFrame  # one row per address: id and the fields of GeocodeResult
    target: Path
    manifest: Path


def run_services_geocode(out: Path | None = None, *, data_dir: Path | None = None) -> GeocodeRun:
    """Geocode the bundled service rows that have a street but no coordinates; write ``<out>/geocode``.

    Parameters
    ----------
    out
        Output folder (default :func:`settings.output_dir`); the results go to its ``geocode`` folder.
    data_dir
        Data folder.

    Returns
    -------
    GeocodeRun
    """
    paths = [dataset_path(k, data_dir) for k in BUNDLED_SERVICE_KEYS]
    frames = [read_table(p, required=("id", "street", "lat")) for p in paths]
    rows = pd.concat(frames, ignore_index=True)
    todo = rows[rows["lat"].isna() & rows["street"].notna()].set_index("id").sort_index()
    index = address_index(data_dir)
    result = geocode_frame(todo, index).reset_index()
    out_dir = ensure_output_dir((out or settings.output_dir()) / "geocode")
    with output_step(out_dir):
        target = write_csv(out_dir / "shared_services_geocoded.csv", result)
        manifest = write_manifest(
            out_dir,
            command="geoplanner services geocode",
            inputs=[*paths, dataset_path("osm_pbf", data_dir)],
            parameters={"index": index.summary()},
            outputs=[target],
            notes=[_GEOCODE_NOTE],
        )
    return GeocodeRun(todo, result, target, manifest)


@dataclass(frozen=True)
class IndicatorsImportRun:
    """Result of :func:`run_indicators_import`."""

    figures: SectorFigures
    stored: Path
    manifest: Path


def run_indicators_import(file: Path, *, out: Path | None = None, replace: bool = False) -> IndicatorsImportRun:
    """Import sector figures (:func:`import_sector_figures`) and write the manifest under ``<out>/imports``.

    Parameters
    ----------
    file
        The user's file.
    out
        Output folder (default :func:`settings.output_dir`).
    replace
        Overwrite figures imported before.

    Returns
    -------
    IndicatorsImportRun
    """
    out_dir = ensure_output_dir((out or settings.output_dir()) / "imports")
    stored = sector_figures_path()
    with output_step(out_dir, manifest="manifest_indicators_import.json"):
        figs = import_sector_figures(file, replace=replace)
        manifest = write_manifest(
            out_dir,
            command=f"geoplanner indicators import {file}",
            inputs=[file],
            parameters={"replace": replace, "totals_tolerance": TOTALS_TOLERANCE, "vintage": figs.vintage},
            outputs=[stored],
            notes=figs.warnings,
            name="manifest_indicators_import.json",
        )
    return IndicatorsImportRun(figs, stored, manifest)
