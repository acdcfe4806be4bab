"""Demand points: where a sector's young children live, on its residential streets.

Each statistical sector is represented by the midpoints of the residential street pieces inside it (the
lines and ``weight`` the need model uses), each carrying its share of the sector's ``pop_0_2``; a sector
with no residential street gets one point at its representative point (flagged ``fallback``). A sector's
walking time is therefore a population-weighted figure over its streets, not the time of one centroid.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplanner.access.network import (
    SnapResult,
    WalkNetwork,
)
from geoplanner.core import settings
from geoplanner.core.errors import DataError
from geoplanner.need import sector_pieces

__all__ = ["MAX_FAR_DEMAND_SHARE", "check_network_fit", "demand_points"]


#: Largest share of young children allowed to live beyond the snapping distance of the network's
#: streets. On the bundled 2013 network no demand point is farther than 152 m; a network that
#: leaves more than this share far from every street does not cover the study area (a clip, one
#: district, a single street) and would only produce long, wrong access legs.
MAX_FAR_DEMAND_SHARE = 0.02


def check_network_fit(
    net: WalkNetwork, snap: SnapResult, weights: np.ndarray, *, max_share: float = MAX_FAR_DEMAND_SHARE
) -> None:
    """Refuse a network that does not reach where the children live.

    Parameters
    ----------
    net
        The walking network (its source file is named in the error).
    snap
        The demand points snapped to it.
    weights
        Children per demand point.
    max_share
        Largest tolerated share of children beyond ``snap.tolerance_m``.

    Raises
    ------
    DataError
        If more than ``max_share`` of the children live farther than the tolerance from every street.
    """
    w = np.asarray(weights, dtype=float)
    total = float(w.sum())
    far = float(w[snap.beyond_tolerance].sum())
    if total > 0 and far / total > max_share:
        raise DataError(
            f"{far / total:.0%} of the young children live more than {snap.tolerance_m:g} m from every street of "
            f"this network ({net.n_edges:,} edges); it does not cover the region",
            path=net.source,
            hint="use a walking network of the whole Brussels region (the bundle's, or --network with a full extract)",
        )


def demand_points(sectors: gpd.GeoDataFrame, need: pd.DataFrame, lines: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Represent each sector's young children by weighted points on its residential streets.

    Parameters
    ----------
    sectors
        Sector polygons with ``cd_sector`` (EPSG:31370).
    need
        One row per sector with ``cd_sector`` and ``pop_0_2`` (from :func:`geoplanner.need.sector_need`).
    lines
        Residential street lines with their GHSL ``density`` (from :func:`geoplanner.need.residential_lines`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per point: cd_sector, weight (children 0-2 represented by the point), x, y, fallback
        (True for a sector without residential street, represented by its representative point),
        geometry. Per sector, the weights add up to the sector's ``pop_0_2`` (population is conserved).

    Raises
    ------
    DataError
        If a needed column is missing or ``need`` names a sector that is not in ``sectors``.
    """
    for df, cols, name in ((sectors, ("cd_sector",), "sectors"), (need, ("cd_sector", "pop_0_2"), "need")):
        for c in cols:
            if c not in df.columns:
                raise DataError(f"{name} table has no column '{c}'", column=c)
    if "density" not in lines.columns:
        raise DataError("residential lines have no column 'density'", column="density")
    pop = need.set_index("cd_sector")["pop_0_2"].astype(float)
    unknown = sorted(set(pop.index) - set(sectors["cd_sector"]))
    if unknown:
        raise DataError(f"need table has sector {unknown[0]!r} that is not in the sector layer", column="cd_sector")
    sec = sectors[["cd_sector", "geometry"]].to_crs(settings.CRS).sort_values("cd_sector", ignore_index=True)
    sec = sec[sec["cd_sector"].isin(pop.index)]
    # The same street pieces, with the same weights, as the need model counted per sector.
    pieces = sector_pieces(sec, lines)
    pieces["line_weight"] = pieces["weight"]
    mid = shapely.line_interpolate_point(pieces.geometry.to_numpy(), 0.5, normalized=True)
    joined = pd.DataFrame({"cd_sector": pieces["cd_sector"].to_numpy(), "line_weight": pieces["line_weight"]})
    joined = gpd.GeoDataFrame(joined, geometry=mid, crs=settings.CRS)
    total = joined.groupby("cd_sector")["line_weight"].transform("sum")
    count = joined.groupby("cd_sector")["line_weight"].transform("size")
    # Sectors whose lines all weigh 0 still have streets: spread their children evenly over them.
    share = np.where(total > 0, joined["line_weight"] / total.where(total > 0, 1.0), 1.0 / count)
    sector_pop = joined["cd_sector"].map(pop).to_numpy(dtype=float)
    street = pd.DataFrame(
        {
            "cd_sector": joined["cd_sector"].to_numpy(),
            "weight": share * sector_pop,
            "x": shapely.get_x(joined.geometry.to_numpy()),
            "y": shapely.get_y(joined.geometry.to_numpy()),
            "fallback": False,
        }
    )
    missing = sec[~sec["cd_sector"].isin(street["cd_sector"])]
    rep = shapely.point_on_surface(missing.geometry.to_numpy())
    fallback = pd.DataFrame(
        {
            "cd_sector": missing["cd_sector"].to_numpy(),
            "weight": missing["cd_sector"].map(pop).to_numpy(dtype=float),
            "x": shapely.get_x(rep),
            "y": shapely.get_y(rep),
            "fallback": True,
        }
    )
    out = pd.concat([street, fallback], ignore_index=True).sort_values(
        ["cd_sector", "fallback", "x", "y"], kind="stable", ignore_index=True
    )
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(out["x"], out["y"]), crs=settings.CRS)
