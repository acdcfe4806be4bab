"""Service sets, bundled and the user's own, with what is known of their completeness.

The bundle holds Kind & Gezin consultation bureaus, ONE consultations, Huis van het Kind sites and candidate
venues; a user set is ``data/services/user/NAME.csv``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import MultiPolygon, Polygon

from geoplanner.core import settings
from geoplanner.core.errors import DataError
from geoplanner.inputs.areas import load_region
from geoplanner.inputs.bundle import dataset_path, get_dataset
from geoplanner.inputs.tables import check_unique, numeric_column, read_table

__all__ = [
    "SERVICE_COLUMNS",
    "SERVICE_SETS",
    "SERVICE_STATUSES",
    "CURRENT_STATUSES",
    "ServiceSet",
    "service_set_names",
    "load_services",
    "load_service_file",
]


#: Columns of a service list (the schema of the bundled CSVs and of imported user sets).
SERVICE_COLUMNS = (
    "id",
    "name",
    "type",
    "operator",
    "language",
    "street",
    "number",
    "postcode",
    "commune",
    "commune_nis",
    "lat",
    "lon",
    "geocode_method",
    "source",
    "source_date",
    "notes",
    "uncertainty_m",  # radius (m) around a geocoded point that holds the true address ~9 times in 10
)


#: Built-in service sets: label, the bundle datasets they draw on and the row types they keep.
#: ``None`` keeps every type but planned ones. Planned rows and prenatal-only consultations are left out on purpose.
SERVICE_SETS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...] | None]] = {
    "kg": ("Consultatiebureaus Kind & Gezin", ("services_kg",), ("kg_consultatiebureau",)),
    "one": (
        "Consultaties ONE",
        ("services_one",),
        ("one_consultation_enfants", "consultation_nourrissons_operator_unspecified", "one_site_unverified"),
    ),
    "hvhk": (
        "Huis van het Kind",
        ("services_hvhk",),
        ("hvhk_physical_location", "hvhk_coordination_office"),
    ),
    "any_cb": (
        "Alle consultatiebureaus (K&G + ONE)",
        ("services_kg", "services_one"),
        (
            "kg_consultatiebureau",
            "one_consultation_enfants",
            "consultation_nourrissons_operator_unspecified",
            "one_site_unverified",
        ),
    ),
    "candidates": ("Kandidaat-locaties (bestaande gezinsvoorzieningen)", ("services_candidates",), None),
    "all_family": (
        "Alle gezinsvoorzieningen",
        ("services_kg", "services_one", "services_hvhk", "services_candidates"),
        None,
    ),
}


#: Values of the optional ``status`` column of a service list. Only :data:`CURRENT_STATUSES` count as current
#: supply by default; the others stay in :attr:`ServiceSet.excluded` with the reason, and the maps show them as such.
SERVICE_STATUSES = ("current", "historical", "unverified", "prenatal_only", "planned")


CURRENT_STATUSES = ("current",)


_REGION_TOLERANCE_M = 250.0


@dataclass(frozen=True)
class ServiceSet:
    """A named set of service locations, with what is known of its completeness."""

    name: str
    label: str
    points: gpd.GeoDataFrame
    unlocated: pd.DataFrame
    excluded: pd.DataFrame
    expected_count: int | None
    sources: list[Path] = field(default_factory=list)

    @property
    def incomplete(self) -> bool:
        """True when the set is known to hold fewer locations than exist, or has unplaced rows."""
        known = len(self.points)
        return (self.expected_count is not None and known < self.expected_count) or len(self.unlocated) > 0

    @property
    def completeness_note(self) -> str:
        """One Dutch line on completeness, for outputs and maps."""
        parts = [f"{self.label}: {len(self.points)} locaties op de kaart"]
        if self.expected_count is not None:
            parts.append(f"van ~{self.expected_count} die bestaan")
        if len(self.unlocated):
            parts.append(f"{len(self.unlocated)} zonder coördinaten")
        if "status" in self.excluded.columns and self.excluded["status"].notna().any():
            stale = self.excluded["status"].dropna().astype(str)
            counts = ", ".join(f"{n} {s}" for s, n in stale.value_counts().sort_index().items())
            parts.append(f"{len(stale)} niet als huidig aanbod geteld ({counts})")
        note = ", ".join(parts)
        return note + (" — ONVOLLEDIGE LAAG" if self.incomplete else "")


def _approximate(method: pd.Series) -> pd.Series:
    text = method.fillna("").str.lower()
    return text.str.contains("low precision|street|site match|mean of|interpolat|unverified", regex=True)


def _read_services(path: Path, layer: str, region: Polygon | MultiPolygon) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read one service CSV; return (located rows with x/y, rows without coordinates)."""
    df = read_table(path, required=("id", "name", "type", "lat", "lon"))
    for col in SERVICE_COLUMNS:
        if col not in df.columns:
            df[col] = pd.NA
    df["id"] = df["id"].astype("string").str.strip()
    if df["id"].isna().any():
        i = int(np.flatnonzero(df["id"].isna().to_numpy())[0])
        raise DataError("empty id", path=path, row=i + 1, column="id")
    check_unique(df["id"], path, "id")
    lat = numeric_column(df, "lat", path)
    lon = numeric_column(df, "lon", path)
    df["uncertainty_m"] = numeric_column(df, "uncertainty_m", path)
    half = lat.isna() != lon.isna()
    if half.any():
        i = int(np.flatnonzero(half.to_numpy())[0])
        raise DataError(
            "only one of lat/lon is given",
            path=path,
            row=i + 1,
            column="lat" if lat.isna().iloc[i] else "lon",
        )
    has_xy = lat.notna()
    status = pd.Series(pd.NA, index=df.index, dtype="string")
    if "status" in df.columns:  # e.g. the ONE list v2: current / historical / unverified / prenatal_only
        status = df["status"].astype("string").str.strip().str.lower()
        bad = status.isna() | ~status.isin(SERVICE_STATUSES)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"unknown status {df['status'].iloc[i]!r}" if pd.notna(status.iloc[i]) else "empty status",
                path=path,
                row=i + 1,
                column="status",
                hint=f"one of {', '.join(SERVICE_STATUSES)}",
            )
    df = df[list(SERVICE_COLUMNS)].copy()
    df["status"] = status
    df["layer"] = layer
    df["lat"], df["lon"] = lat, lon
    df["x"], df["y"] = np.nan, np.nan  # present even when no row has coordinates
    located = df[has_xy].copy()
    if len(located):
        pts = gpd.GeoSeries(gpd.points_from_xy(located["lon"], located["lat"]), crs=settings.WGS84).to_crs(settings.CRS)
        inside = pts.distance(region).to_numpy() <= _REGION_TOLERANCE_M
        if not inside.all():
            i = int(np.flatnonzero(~inside)[0])
            row = int(np.flatnonzero(has_xy.to_numpy())[i]) + 1
            swapped = 50.0 < located["lon"].iloc[i] < 51.5 and 4.0 < located["lat"].iloc[i] < 4.6
            raise DataError(
                f"point ({located['lat'].iloc[i]}, {located['lon'].iloc[i]}) lies outside the Brussels region",
                path=path,
                row=row,
                column="lat",
                hint="lat and lon look swapped" if swapped else "coordinates must be WGS84 lat/lon",
            )
        located["x"], located["y"] = pts.x.to_numpy(), pts.y.to_numpy()
    unlocated = df[~has_xy].drop(columns=["x", "y"])
    unlocated["reason"] = unlocated["geocode_method"].fillna("no coordinates")
    return located, unlocated


def _exclusion(rows: pd.DataFrame, types: tuple[str, ...] | None, statuses: tuple[str, ...]) -> pd.Series:
    """Why each row is not current supply ('' if it is): planned, a type outside the set, or its status."""
    kind = rows["type"].fillna("").astype(str)
    status = rows["status"].astype("string")
    reason = pd.Series("", index=rows.index, dtype=object)
    if types is not None:
        reason[~kind.isin(types)] = "type " + kind[~kind.isin(types)] + " hoort niet bij deze set"
    planned = kind.str.contains("planned") | (status == "planned").fillna(False)
    reason[planned & (reason == "")] = "gepland, nog niet open"
    off = status.notna() & ~status.isin(statuses).fillna(False) & (reason == "")
    reason[off] = "status: " + status[off].astype(str)
    return reason


def service_set_names(data_dir: Path | None = None) -> list[str]:
    """Return the built-in set names followed by the user sets in ``data/services/user/``."""
    user_dir = (data_dir or settings.data_dir()) / "services" / "user"
    user = sorted(p.stem for p in user_dir.glob("*.csv")) if user_dir.is_dir() else []
    return list(SERVICE_SETS) + [u for u in user if u not in SERVICE_SETS]


#: Service sets already read in this process, by (name, data folder, statuses, file stamps).
_SERVICES_READ: dict[tuple, ServiceSet] = {}


def _services_stamp(data_dir: Path) -> tuple:
    """Return size, modification time and inode of every file a service set can read (and the region)."""
    folder = data_dir / "services"
    files = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
    files.append(get_dataset("region_boundary").local_path(data_dir))
    stamp = []
    for f in files:
        try:
            st = f.stat()
        except OSError:
            continue
        stamp.append((str(f), st.st_size, st.st_mtime_ns, st.st_ino))
    return tuple(stamp)


def load_services(
    name: str, data_dir: Path | None = None, *, statuses: tuple[str, ...] = CURRENT_STATUSES
) -> ServiceSet:
    """Load a service set by name.

    A set is read once per process and returned again (as a copy) until one of the service
    files or the region outline changes (size, modification time or inode): the main job asks
    for the same sets many times (validation, coverage, every scenario, every map).

    Parameters
    ----------
    name
        A built-in set (see :data:`SERVICE_SETS`: 'kg', 'one', 'hvhk', 'any_cb',
        'candidates', 'all_family') or a user set stored as ``data/services/user/NAME.csv``.
    data_dir
        Data folder.
    statuses
        For lists with a ``status`` column (the ONE list): the statuses that count as supply
        (default only ``current``). Rows of lists without the column all count.

    Returns
    -------
    ServiceSet
        Located points (EPSG:31370, with ``approximate``, ``layer`` and ``status``), rows without
        coordinates (with a ``reason``), rows left out on purpose (planned, prenatal, or a status
        that is not current, e.g. historical or unverified ONE rows; with ``excluded_reason``), and
        the expected real count where public sources give it.
    """
    root = Path(data_dir or settings.data_dir())
    key = (name, str(root.resolve()), tuple(statuses), _services_stamp(root))
    found = _SERVICES_READ.get(key)
    if found is None:
        found = _load_services(name, data_dir, statuses=statuses)
        if len(_SERVICES_READ) >= 64:
            _SERVICES_READ.clear()
        _SERVICES_READ[key] = found
    # callers may change what they get: hand out copies
    return dataclasses.replace(
        found,
        points=found.points.copy(),
        unlocated=found.unlocated.copy(),
        excluded=found.excluded.copy(),
        sources=list(found.sources),
    )


def _load_services(name: str, data_dir: Path | None, *, statuses: tuple[str, ...]) -> ServiceSet:
    unknown = sorted(set(statuses) - set(SERVICE_STATUSES))
    if unknown:
        raise DataError(f"unknown service status {unknown[0]!r}", hint=f"one of {', '.join(SERVICE_STATUSES)}")
    region = load_region(data_dir)
    data_dir = data_dir or settings.data_dir()
    user_file = data_dir / "services" / "user" / f"{name}.csv"
    if name in SERVICE_SETS:
        label, keys, types = SERVICE_SETS[name]
        sources = [(dataset_path(k, data_dir), k.removeprefix("services_")) for k in keys]
        expected: int | None = 0
        for k in keys:
            ds = get_dataset(k)
            expected = None if expected is None or ds.expected_count is None else expected + ds.expected_count
    elif user_file.exists():
        label, types, expected = name, None, None
        sources = [(user_file, name)]
    else:
        raise DataError(
            f"unknown service set '{name}'",
            hint=f"known: {', '.join(service_set_names(data_dir))}; import one with `geoplanner services import`",
        )
    return _build_set(name, label, sources, types, expected, statuses, region)


def load_service_file(path: Path, name: str, data_dir: Path | None = None) -> ServiceSet:
    """Read a user set in the stored schema from a file of its own (not in ``data/services/user``): no memo.

    Parameters
    ----------
    path
        A CSV as ``geoplanner services import`` stores it.
    name
        The set's name (and label).
    data_dir
        Data folder (the region outline the points are checked against).

    Returns
    -------
    ServiceSet
        As :func:`load_services` returns a user set.
    """
    return _build_set(name, name, [(Path(path), name)], None, None, CURRENT_STATUSES, load_region(data_dir))


def _build_set(
    name: str,
    label: str,
    sources: list[tuple[Path, str]],
    types: tuple[str, ...] | None,
    expected: int | None,
    statuses: tuple[str, ...],
    region: Polygon | MultiPolygon,
) -> ServiceSet:
    """Read a set's files and split their rows into located, unlocated and excluded (planned, other statuses)."""
    located_parts, unlocated_parts, excluded_parts = [], [], []
    for path, layer in sources:
        located, unlocated = _read_services(path, layer, region)
        reason_l, reason_u = _exclusion(located, types, statuses), _exclusion(unlocated, types, statuses)
        keep_l, keep_u = reason_l == "", reason_u == ""
        excluded_parts += [
            located[~keep_l].assign(excluded_reason=reason_l[~keep_l]),
            unlocated[~keep_u].assign(excluded_reason=reason_u[~keep_u]),
        ]
        located, unlocated = located[keep_l], unlocated[keep_u]
        located_parts.append(located)
        unlocated_parts.append(unlocated)
    located = pd.concat(located_parts, ignore_index=True)
    dup = located["id"].duplicated()
    if dup.any():
        raise DataError(f"service id {located['id'][dup].iloc[0]!r} occurs in two files of set '{name}'")
    points = gpd.GeoDataFrame(
        located.drop(columns=["x", "y"]),
        geometry=gpd.points_from_xy(located["x"], located["y"]),
        crs=settings.CRS,
    )
    points["approximate"] = _approximate(points["geocode_method"])
    excluded = (
        pd.concat(excluded_parts, ignore_index=True)
        if excluded_parts
        else pd.DataFrame(columns=[*SERVICE_COLUMNS, "status", "excluded_reason"])
    )
    return ServiceSet(
        name=name,
        label=label,
        points=points.sort_values("id", ignore_index=True),
        unlocated=pd.concat(unlocated_parts, ignore_index=True),
        excluded=excluded.drop(columns=["x", "y"], errors="ignore"),
        expected_count=expected,
        sources=[p for p, _ in sources],
    )
