"""The areas of the region: statistical sectors, the sector → wijk crosswalk, wijken, communes, the region."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import MultiPolygon, Polygon
from shapely.ops import unary_union

from geoplanner.core import settings
from geoplanner.core.errors import DataError
from geoplanner.inputs.bundle import dataset_path
from geoplanner.inputs.lgn import COMMUNES, lgn_table
from geoplanner.inputs.tables import (
    SECTOR_CODE,
    check_unique,
    numeric_column,
    read_layer,
    read_table,
)

__all__ = [
    "load_sectors",
    "load_crosswalk",
    "load_wijken",
    "load_region",
    "load_communes",
]


def load_sectors(data_dir: Path | None = None, path: Path | None = None) -> gpd.GeoDataFrame:
    """Load the statistical sectors (Statbel 2022) with their wijk code.

    Parameters
    ----------
    data_dir
        Data folder (default :func:`settings.data_dir`).
    path
        Another sector file with the same columns (overrides the bundle).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:31370; columns cd_sector, sector_name_nl, sector_name_fr, commune_nis,
        commune_name_nl, commune_name_fr, mdrc, area_ha, geometry; sorted by cd_sector.
    """
    path = path or dataset_path("sectors", data_dir)
    cols = ("cd_sector", "tx_sector_descr_nl", "tx_sector_descr_fr", "cd_munty_refnis", "mdrc")
    gdf = read_layer(path, cols)
    codes = gdf["cd_sector"].astype("string").str.strip()
    bad = ~codes.fillna("").str.match(SECTOR_CODE)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"not a Brussels sector code: {codes.iloc[i]!r}", path=path, row=i + 1, column="cd_sector")
    check_unique(codes, path, "cd_sector")
    nis = numeric_column(gdf, "cd_munty_refnis", path, allow_missing=False).astype(int)
    wrong = ~nis.isin(list(COMMUNES)) | (codes.str[:5].astype(int) != nis)
    if wrong.any():
        i = int(np.flatnonzero(wrong.to_numpy())[0])
        raise DataError(
            f"commune {nis.iloc[i]} does not match sector {codes.iloc[i]}",
            path=path,
            row=i + 1,
            column="cd_munty_refnis",
        )
    mdrc = numeric_column(gdf, "mdrc", path, allow_missing=False).astype(int)
    out = gpd.GeoDataFrame(
        {
            "cd_sector": codes.astype(str),
            "sector_name_nl": gdf["tx_sector_descr_nl"].astype(str),
            "sector_name_fr": gdf["tx_sector_descr_fr"].astype(str),
            "commune_nis": nis,
            "commune_name_nl": nis.map(lambda n: COMMUNES[n][0]),
            "commune_name_fr": nis.map(lambda n: COMMUNES[n][1]),
            "mdrc": mdrc,
        },
        geometry=gdf.geometry.values,
        crs=settings.CRS,
    )
    out["area_ha"] = out.geometry.area / 1e4
    return out.sort_values("cd_sector", ignore_index=True)


def load_crosswalk(data_dir: Path | None = None, *, vintage: int = 2022) -> pd.DataFrame:
    """Load the IBSA crosswalk sector -> wijk.

    Parameters
    ----------
    data_dir
        Data folder.
    vintage
        2022 (the codes of the sector geometry) or 2025 (Statbel's revised codes).

    Returns
    -------
    pandas.DataFrame
        cd_sector, commune_nis, mdrc.
    """
    if vintage == 2022:
        path = dataset_path("sector_crosswalk", data_dir)
        df = read_table(path, required=("cd_sector", "commune_nis", "mdrc"))
        code_col, nis_col, md_col = "cd_sector", "commune_nis", "mdrc"
    elif vintage == 2025:
        path = dataset_path("sector_crosswalk_2025", data_dir)
        df = read_table(path, required=("secteurstatistique_code", "quartier_code", "commune_code"), sep=";")
        code_col, nis_col, md_col = "secteurstatistique_code", "commune_code", "quartier_code"
    else:
        raise ValueError("vintage must be 2022 or 2025")
    codes = df[code_col].astype("string").str.strip().str.strip('"')
    bad = ~codes.fillna("").str.match(SECTOR_CODE)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"not a Brussels sector code: {codes.iloc[i]!r}", path=path, row=i + 1, column=code_col)
    check_unique(codes, path, code_col)
    return pd.DataFrame(
        {
            "cd_sector": codes.astype(str),
            "commune_nis": numeric_column(df, nis_col, path, allow_missing=False).astype(int),
            "mdrc": numeric_column(df, md_col, path, allow_missing=False).astype(int),
        }
    )


def _district_type(code: int) -> str:
    if 1 <= code <= 118:
        return "residential"
    if 700 <= code < 800:
        return "cemetery"
    if 800 <= code < 900:
        return "industrial"
    if 900 <= code < 1000:
        return "park"
    return "unknown"


def load_wijken(data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Load the 145 monitoring districts (wijken).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:31370; mdrc, name_nl, name_fr, district_type ('residential' for codes 1-118,
        'cemetery', 'industrial', 'park'), geometry; sorted by mdrc.
    """
    path = dataset_path("wijken", data_dir)
    gdf = read_layer(path, ("MDRC", "NAME_FRE", "NAME_DUT"))
    mdrc = numeric_column(gdf, "MDRC", path, allow_missing=False).astype(int)
    check_unique(mdrc, path, "MDRC")
    types = mdrc.map(_district_type)
    if (types == "unknown").any():
        i = int(np.flatnonzero((types == "unknown").to_numpy())[0])
        raise DataError(f"unknown wijk code {mdrc.iloc[i]}", path=path, row=i + 1, column="MDRC")
    out = gpd.GeoDataFrame(
        {
            "mdrc": mdrc,
            "name_nl": gdf["NAME_DUT"].astype(str).str.strip(),
            "name_fr": gdf["NAME_FRE"].astype(str).str.strip(),
            "district_type": types,
        },
        geometry=gdf.geometry.values,
        crs=settings.CRS,
    )
    return out.sort_values("mdrc", ignore_index=True)


def load_region(data_dir: Path | None = None) -> Polygon | MultiPolygon:
    """Load the outline of the Brussels-Capital Region (Osmosis ``.poly``) in EPSG:31370."""
    path = dataset_path("region_boundary", data_dir)
    outers: list[Polygon] = []
    holes: list[Polygon] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    ring: list[tuple[float, float]] | None = None
    is_hole = False
    for lineno, line in enumerate(lines[1:], start=2):
        text = line.strip()
        if not text:
            continue
        if ring is None:
            if text == "END":
                break
            ring, is_hole = [], text.startswith("!")
            continue
        if text == "END":
            if len(ring) < 3:
                raise DataError("ring with fewer than 3 points", path=path, row=lineno)
            (holes if is_hole else outers).append(Polygon(ring))
            ring = None
            continue
        try:
            lon, lat = (float(v) for v in text.split()[:2])
        except ValueError:
            raise DataError(f"not a coordinate pair: {text!r}", path=path, row=lineno) from None
        ring.append((lon, lat))
    if not outers:
        raise DataError("no polygon in .poly file", path=path)
    shape = unary_union(outers).difference(unary_union(holes)) if holes else unary_union(outers)
    return gpd.GeoSeries([shape], crs=settings.WGS84).to_crs(settings.CRS).iloc[0]


def load_communes(data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Return the 19 communes (dissolved from the sectors) with their LGN.

    Returns
    -------
    geopandas.GeoDataFrame
        commune_nis, commune_name_nl, commune_name_fr, lgn, lgn_name, geometry (EPSG:31370).
    """
    sectors = load_sectors(data_dir)
    dissolved = sectors[["commune_nis", "geometry"]].dissolve(by="commune_nis").reset_index()
    return gpd.GeoDataFrame(dissolved.merge(lgn_table(), on="commune_nis"), crs=settings.CRS)
