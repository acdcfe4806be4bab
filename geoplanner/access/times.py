"""Accessibility engine: walking time from where young children live to the nearest service.

Everything runs on the array network of :mod:`geoplanner.access.network`:

- **Demand points** (:func:`demand_points`): each statistical sector is represented by the midpoints of
  the residential street lines inside it (the same lines and ``weight`` the need model uses to spread
  young children), each carrying its share of the sector's ``pop_0_2``. A sector's walking time is
  therefore a population-weighted figure over its streets, not the time of one centroid. Sectors with no
  residential street get one point at their representative point (flagged ``fallback``).
- **Nearest service** (:func:`nearest_service_times`): one multi-source Dijkstra pass
  (:func:`scipy.sparse.csgraph.dijkstra` with ``min_only=True``) per service set. Every service gets a
  virtual source node joined to both ends of the street edge it snaps to, with edge costs equal to its
  straight access leg plus the distance along the edge, so access legs are exact. A demand point's time
  is the better of its two edge ends, plus the distance along its edge and its own access leg; a point
  on the same edge as a service can also walk straight along that edge.
- Points stay on the street they are on: they snap to the network's *raw* edges (loop streets and the
  longer of two parallel streets included, see :mod:`geoplanner.access.network`), and walk along that street to
  its ends; node-to-node distances come from the merged routing graph, which has the same shortest paths.
  On a loop street both ends are the loop's one node, reached the shorter way round.
- **Time matrix** (:func:`time_matrix`): minutes from many origins to each of many targets within a
  limit, for the siting model.
- **Coverage tables** (:func:`coverage`): per sector, wijk, commune, LGN and priority wijk.

Times are in minutes; ``inf`` means unreachable (another piece of the network).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from geoplanner.access.network import (
    DEFAULT_SNAP_TOLERANCE_M,
    DEFAULT_THRESHOLDS_MIN,
    WALK_SPEED_KMH,
    SnapResult,
    WalkNetwork,
    metres_per_minute,
    snap_points,
)
from geoplanner.core import settings
from geoplanner.core.errors import ConfigError, DataError, ModelError
from geoplanner.need import sector_pieces

__all__ = [
    "ServiceTimes",
    "demand_points",
    "nearest_service_times",
    "node_distances",
    "point_distances",
    "time_matrix",
    "weighted_quantile",
    "coverage",
    "COVERAGE_COLUMNS_NL",
    "MAX_FAR_DEMAND_SHARE",
    "check_network_fit",
    "check_thresholds",
    "class_may_change",
    "placement_uncertainty",
]

#: Dutch display labels of the coverage table columns (files keep the English snake_case names).
COVERAGE_COLUMNS_NL = {
    "service_set": "dienstenset",
    "pop_0_2": "kinderen 0-2 jaar",
    "pop_0_2_status": "status (waargenomen/afgeleid/geschat/gemengd)",
    "mean_min": "gemiddelde wandeltijd (min, gewogen)",
    "p90_min": "90e percentiel wandeltijd (min)",
    "pop_unreachable": "kinderen zonder bereikbare dienst",
    "nearest_service_id": "dichtstbijzijnde dienst",
    "layer_note": "opmerking over de laag",
}


@dataclass(frozen=True)
class ServiceTimes:
    """Walking time from each demand point to its nearest service.

    Attributes
    ----------
    minutes
        Walking time in minutes per point (``inf`` if no service can be reached).
    service_index
        Index (into the service list) of the nearest service, -1 if unreachable.
    service_id
        Id of the nearest service (``None`` if unreachable).
    point_snap, service_snap
        How points and services were snapped (access legs, tolerance flags).
    speed_kmh
        Walking speed used.
    """

    minutes: np.ndarray
    service_index: np.ndarray
    service_id: np.ndarray
    point_snap: SnapResult
    service_snap: SnapResult
    speed_kmh: float


def _snap(net: WalkNetwork, pts: np.ndarray | SnapResult, tolerance_m: float) -> SnapResult:
    return pts if isinstance(pts, SnapResult) else snap_points(net, pts, tolerance_m=tolerance_m)


def _augmented(net: WalkNetwork, src: SnapResult) -> sp.csr_matrix:
    """Network CSR plus one virtual node per source, with one-way edges into the network.

    Virtual node ``n + i`` has edges to both ends of source ``i``'s street edge, costing the access
    leg plus the distance along the edge. The edges are one-way (virtual → street) so no path can pass
    *through* a virtual node. A source on a self-loop has one edge, to the loop's node, costing the
    access leg plus the shorter way round the loop.
    """
    n, k = net.n_nodes, len(src)
    base = net.csr
    loop = src.u == src.v
    # Virtual nodes are appended as the last k rows, so the CSR arrays can be extended directly
    # (no re-sort of the ~71k network entries): each new row holds an entry to u and one to v, or one
    # entry for a loop (a row must not hold the same column twice).
    w = np.empty(2 * k)
    w[0::2] = src.access_m + np.where(loop, np.minimum(src.dist_u, src.dist_v), src.dist_u)
    w[1::2] = src.access_m + src.dist_v
    # Zero-cost virtual edges (a service exactly on a node) must stay explicit edges: keep a tiny floor.
    w = np.maximum(w, 1e-9)
    cols = np.empty(2 * k, dtype=base.indices.dtype)
    cols[0::2] = src.u
    cols[1::2] = src.v
    per_row = np.where(loop, 1, 2).astype(base.indptr.dtype)
    used = np.ones(2 * k, dtype=bool)
    used[1::2] = ~loop
    indptr = np.concatenate([base.indptr, base.indptr[-1] + np.cumsum(per_row)])
    return sp.csr_matrix(
        (np.concatenate([base.data, w[used]]), np.concatenate([base.indices, cols[used]]), indptr),
        shape=(n + k, n + k),
    )


def node_distances(net: WalkNetwork, sources: SnapResult, *, limit_m: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """Network distance (metres) from every node to its nearest source, by one multi-source Dijkstra.

    Parameters
    ----------
    net
        The walking network.
    sources
        Snapped sources (their access legs are included).
    limit_m
        Stop searching beyond this distance (nodes farther away get ``inf``).

    Returns
    -------
    dist : numpy.ndarray
        Metres per node (``inf`` if unreachable within the limit).
    source : numpy.ndarray
        Index of the nearest source per node, -1 if unreachable.
    """
    n = net.n_nodes
    aug = _augmented(net, sources)
    dist, _pred, src = dijkstra(
        aug,
        directed=True,
        indices=n + np.arange(len(sources)),
        min_only=True,
        return_predecessors=True,
        limit=limit_m,
    )
    src = src[:n].astype(np.int64)
    src = np.where(src >= 0, src - n, -1)
    return dist[:n], src


def point_distances(
    points: SnapResult, dist: np.ndarray, source: np.ndarray, sources: SnapResult
) -> tuple[np.ndarray, np.ndarray]:
    """Turn node distances into distances (metres) for snapped points, access legs included.

    Parameters
    ----------
    points
        Snapped points.
    dist, source
        Output of :func:`node_distances` for ``sources``.
    sources
        The snapped sources (needed for points on the same edge as a source).

    Returns
    -------
    metres : numpy.ndarray
        Walking distance per point from its nearest source (``inf`` if none).
    source : numpy.ndarray
        Nearest source index per point (-1 if none).
    """
    via_u = dist[points.u] + points.dist_u
    via_v = dist[points.v] + points.dist_v
    take_u = via_u <= via_v  # ties go to the lower-index end: deterministic
    best = np.where(take_u, via_u, via_v)
    best_src = np.where(take_u, source[points.u], source[points.v])
    # A point on the same edge as a source may walk straight along the edge without reaching a node.
    # Pair every point with the sources on its edge (sources sorted by edge, ranges by searchsorted).
    order = np.argsort(sources.edge, kind="stable")
    s_edge = sources.edge[order]
    lo = np.searchsorted(s_edge, points.edge, side="left")
    cnt = np.searchsorted(s_edge, points.edge, side="right") - lo
    has = np.flatnonzero(cnt)
    if len(has):
        reps = cnt[has]
        pi = np.repeat(has, reps)
        start = np.repeat(lo[has], reps)
        offset = np.arange(len(pi)) - np.repeat(np.cumsum(reps) - reps, reps)
        si = order[start + offset]
        d = sources.access_m[si] + np.abs(points.dist_u[pi] - sources.dist_u[si])
        pick = np.lexsort((si, d, pi))  # per point: shortest, then lowest source index
        first = np.ones(len(pick), dtype=bool)
        first[1:] = pi[pick][1:] != pi[pick][:-1]
        p, d, si = pi[pick][first], d[pick][first], si[pick][first]
        better = d < best[p]
        best[p[better]] = d[better]
        best_src[p[better]] = si[better]
    best_src = np.where(np.isfinite(best), best_src, -1)
    return best + points.access_m, best_src


def nearest_service_times(
    net: WalkNetwork,
    demand: np.ndarray | SnapResult,
    services: np.ndarray | SnapResult,
    *,
    service_ids: Sequence[str] | None = None,
    speed_kmh: float = WALK_SPEED_KMH,
    tolerance_m: float = DEFAULT_SNAP_TOLERANCE_M,
) -> ServiceTimes:
    """Compute the walking time from every demand point to the nearest service of a set.

    One multi-source Dijkstra pass over the network serves the whole set (not one search per service).

    Parameters
    ----------
    net
        The walking network.
    demand
        Demand points as an (n, 2) EPSG:31370 array, or already snapped (re-use across service sets).
    services
        Service locations as an (k, 2) EPSG:31370 array, or already snapped.
    service_ids
        Id per service (default: their position as text).
    speed_kmh
        Walking speed; also used for the access legs.
    tolerance_m
        Snapping tolerance; points beyond it are flagged in the snap results.

    Returns
    -------
    ServiceTimes

    Raises
    ------
    ModelError
        If the service set is empty.
    """
    src = _snap(net, services, tolerance_m)
    if len(src) == 0:
        raise ModelError("the service set is empty: there is nothing to walk to", hint="choose another set")
    ids = np.asarray([str(i) for i in range(len(src))] if service_ids is None else list(service_ids), dtype=object)
    if len(ids) != len(src):
        raise ModelError(f"{len(ids)} service ids for {len(src)} services")
    pts = _snap(net, demand, tolerance_m)
    dist, source = node_distances(net, src)
    metres, best = point_distances(pts, dist, source, src)
    sid = np.full(len(best), None, dtype=object)
    ok = best >= 0
    sid[ok] = ids[best[ok]]
    return ServiceTimes(
        minutes=metres / metres_per_minute(speed_kmh),
        service_index=best,
        service_id=sid,
        point_snap=pts,
        service_snap=src,
        speed_kmh=float(speed_kmh),
    )


def time_matrix(
    net: WalkNetwork,
    origins: np.ndarray | SnapResult,
    targets: np.ndarray | SnapResult,
    *,
    speed_kmh: float = WALK_SPEED_KMH,
    limit_min: float = 30.0,
    tolerance_m: float = DEFAULT_SNAP_TOLERANCE_M,
    batch: int = 64,
) -> np.ndarray:
    """Compute walking minutes from every origin to every target within a limit (for siting models).

    One single-source Dijkstra per target (run in batches, pruned at ``limit_min``). Since walking is
    symmetric, the time from a target to an origin equals the time from the origin to the target.
    Access legs of both ends are included exactly, as in :func:`nearest_service_times`.

    Parameters
    ----------
    net
        The walking network.
    origins
        (n, 2) EPSG:31370 array or snapped points, e.g. demand points.
    targets
        (m, 2) EPSG:31370 array or snapped points, e.g. candidate venues.
    speed_kmh
        Walking speed.
    limit_min
        Pairs farther apart than this get ``inf`` (keeps the search local and fast).
    tolerance_m
        Snapping tolerance.
    batch
        Targets per Dijkstra call (bounds memory to ``batch × nodes`` floats).

    Returns
    -------
    numpy.ndarray
        Dense float array of shape (n, m): minutes, ``inf`` beyond ``limit_min`` or unreachable.
    """
    org = _snap(net, origins, tolerance_m)
    tgt = _snap(net, targets, tolerance_m)
    n, m = len(org), len(tgt)
    out = np.full((n, m), np.inf)
    if n == 0 or m == 0:
        return out
    mpm = metres_per_minute(speed_kmh)
    limit_m = limit_min * mpm
    aug = _augmented(net, tgt)
    nn = net.n_nodes
    same = pd.DataFrame({"o": np.arange(n), "edge": org.edge, "pos": org.dist_u}).merge(
        pd.DataFrame({"t": np.arange(m), "edge": tgt.edge, "tpos": tgt.dist_u, "acc": tgt.access_m}), on="edge"
    )
    for start in range(0, m, batch):
        idx = np.arange(start, min(start + batch, m))
        d = dijkstra(aug, directed=True, indices=nn + idx, limit=limit_m)[:, :nn]
        via = np.minimum(d[:, org.u] + org.dist_u, d[:, org.v] + org.dist_v)  # (batch, n)
        out[:, idx] = via.T
    if len(same):
        o, t = same["o"].to_numpy(), same["t"].to_numpy()
        direct = same["acc"].to_numpy() + np.abs(same["pos"].to_numpy() - same["tpos"].to_numpy())
        out[o, t] = np.minimum(out[o, t], direct)
    out = (out + org.access_m[:, None]) / mpm
    out[out > limit_min] = np.inf
    return out


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


# --------------------------------------------------------------------------------------------------
# Demand
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# Coverage tables
# --------------------------------------------------------------------------------------------------


def check_thresholds(thresholds: Sequence[float], *, what: str = "thresholds") -> tuple[float, ...]:
    """Validate walking-time thresholds: finite, positive, each once; returned sorted.

    Raises
    ------
    ConfigError
        Naming ``what`` (e.g. the CLI option) and the offending value.
    """
    values = []
    for t in thresholds:
        try:
            v = float(t)
        except (TypeError, ValueError):
            raise ConfigError(f"{t!r} is not a number of minutes", column=what) from None
        if not np.isfinite(v) or v <= 0:
            raise ConfigError(f"{t!r} is not a positive number of minutes", column=what)
        if v in values:
            raise ConfigError(f"{v:g} minutes is given twice", column=what)
        values.append(v)
    if not values:
        raise ConfigError("give at least one threshold in minutes", column=what)
    return tuple(sorted(values))


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Return the smallest value below which at least a share ``q`` of the weight lies.

    ``inf`` values count (unreachable people); the result is NaN when the total weight is 0.
    """
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    total = weights.sum()
    if total <= 0:
        return float("nan")
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    i = int(np.searchsorted(cum, q * total * (1 - 1e-12), side="left"))
    return float(values[order][min(i, len(order) - 1)])


def _summarise(frame: pd.DataFrame, keys: list[str], thresholds: Sequence[float]) -> pd.DataFrame:
    """Aggregate per-point times to one row per group of ``keys`` and service set (vectorised)."""
    g = keys + ["service_set"]
    t = frame["minutes"].to_numpy(dtype=float)
    w = frame["weight"].to_numpy(dtype=float)
    reach = np.isfinite(t)
    f = frame[g].copy()
    f["pop_0_2"] = w
    f["status"] = frame["pop_0_2_status"].astype(str).to_numpy()
    cols = []
    for th in thresholds:
        f[f"within_{th:g}_min"] = w * (t <= th)
        cols.append(f"within_{th:g}_min")
    f["pop_unreachable"] = w * ~reach
    f["_wt"] = w * np.where(reach, t, 0.0)
    f["_wr"] = w * reach
    grouped = f.groupby(g, sort=True, dropna=False)
    out = grouped[["pop_0_2", *cols, "pop_unreachable", "_wt", "_wr"]].sum()
    # observed / derived / estimated when the group's sectors agree, else mixed (as need.combine_status)
    out["pop_0_2_status"] = grouped["status"].first().where(grouped["status"].nunique() == 1, "mixed")
    total = out["pop_0_2"]
    for th in thresholds:
        out[f"share_within_{th:g}_min"] = (out[f"within_{th:g}_min"] / total).where(total > 0)
    out["mean_min"] = (out["_wt"] / out["_wr"]).where(out["_wr"] > 0)
    # Weighted 90th percentile: the smallest time by which 90 % of the group's children are reached.
    s = f[g].assign(t=t, w=w).sort_values([*g, "t"], kind="stable")
    cum = s.groupby(g, sort=False, dropna=False)["w"].cumsum()
    tot = s.groupby(g, sort=False, dropna=False)["w"].transform("sum")
    hit = s[(cum >= 0.9 * tot * (1 - 1e-12)) & (tot > 0)]
    p90 = hit.groupby(g, sort=True, dropna=False)["t"].first()
    out["p90_min"] = p90.reindex(out.index).where(lambda v: np.isfinite(v))
    # Nearest service of the largest share of the group's children (then the closest, then the id).
    r = f[g].assign(t=t, w=w, sid=frame["service_id"].to_numpy())[reach]
    by = r.groupby([*g, "sid"], sort=True, dropna=False).agg(w=("w", "sum"), t=("t", "min")).reset_index()
    by = by.sort_values([*g, "w", "t", "sid"], ascending=[True] * len(g) + [False, True, True], kind="stable")
    nearest = by.drop_duplicates(g).set_index(g)["sid"]
    out["nearest_service_id"] = nearest.reindex(out.index)
    out["layer_note"] = frame.groupby(g, sort=True, dropna=False)["layer_note"].first()
    ordered = [
        "pop_0_2",
        "pop_0_2_status",
        *[c for th in thresholds for c in (f"within_{th:g}_min", f"share_within_{th:g}_min")],
        "pop_unreachable",
        "mean_min",
        "p90_min",
        "nearest_service_id",
        "layer_note",
    ]
    return out[ordered].reset_index()


def coverage(
    demand: pd.DataFrame,
    times: dict[str, ServiceTimes],
    sector_info: pd.DataFrame,
    *,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS_MIN,
    layer_notes: dict[str, str] | None = None,
    priority_mdrc: Sequence[int] | None = None,
) -> dict[str, pd.DataFrame]:
    """Coverage tables of young children by walking time, per sector, wijk, commune, LGN and priority wijk.

    Parameters
    ----------
    demand
        Output of :func:`demand_points` (cd_sector, weight), in the order used for ``times``.
    times
        Per service-set name, the :class:`ServiceTimes` of the demand points.
    sector_info
        One row per sector: cd_sector, commune_nis, mdrc, lgn, pop_0_2_status.
    thresholds
        Minutes (default 5, 10, 15).
    layer_notes
        Per service set, the completeness note carried in every row (``layer_note``).
    priority_mdrc
        Wijk codes (mdrc) of the priority wijken.

    Returns
    -------
    dict of str to pandas.DataFrame
        Keys ``sector``, ``wijk``, ``commune``, ``lgn``, ``priority_wijken``, ``region``. Columns: the level
        key(s), service_set, pop_0_2, pop_0_2_status, within_<t>_min, share_within_<t>_min for each
        threshold, pop_unreachable, mean_min (population-weighted, over reachable children), p90_min
        (weighted 90th percentile; NaN if more than 10 % cannot reach a service), nearest_service_id (the
        nearest service of most of the children), layer_note.
    """
    if not times:
        raise ModelError("no service set to measure coverage for")
    need_cols = ("cd_sector", "commune_nis", "mdrc", "lgn", "pop_0_2_status")
    missing = [c for c in need_cols if c not in sector_info.columns]
    if missing:
        raise DataError(f"sector table lacks column '{missing[0]}'", column=missing[0])
    info = sector_info[list(need_cols)].drop_duplicates("cd_sector").set_index("cd_sector")
    unknown = sorted(set(demand["cd_sector"]) - set(info.index))
    if unknown:
        raise DataError(f"demand point in unknown sector {unknown[0]!r}", column="cd_sector")
    notes = layer_notes or {}
    base = demand[["cd_sector", "weight"]].reset_index(drop=True).join(info, on="cd_sector")
    parts = []
    for name, st in times.items():
        if len(st.minutes) != len(base):
            raise ModelError(f"service set '{name}' has times for {len(st.minutes)} points, not {len(base)}")
        part = base.copy()
        part["service_set"] = name
        part["minutes"] = st.minutes
        part["service_id"] = st.service_id
        part["layer_note"] = notes.get(name, "")
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    ths = list(thresholds)
    out = {
        "sector": _summarise(frame, ["cd_sector", "commune_nis", "mdrc"], ths),
        "wijk": _summarise(frame, ["mdrc"], ths),
        "commune": _summarise(frame, ["commune_nis", "lgn"], ths),
        "lgn": _summarise(frame, ["lgn"], ths),
        "region": _summarise(frame.assign(region="Brussels"), ["region"], ths),
    }
    prio = set() if priority_mdrc is None else {int(m) for m in priority_mdrc}
    out["priority_wijken"] = out["wijk"][out["wijk"]["mdrc"].isin(prio)].reset_index(drop=True)
    return out


# --------------------------------------------------------------------------------------------------
# Services placed with an uncertainty radius (geocoded lists): homes whose threshold class could change
# --------------------------------------------------------------------------------------------------


def class_may_change(
    minutes: np.ndarray,
    radius_m: np.ndarray,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS_MIN,
    speed_kmh: float = WALK_SPEED_KMH,
) -> np.ndarray:
    """Flag homes whose threshold class could change because their nearest service's place is uncertain.

    A service geocoded with radius ``r`` may stand up to ``r`` metres from where it is drawn, so a
    home's walking time ``t`` lies in ``[t - dt, t + dt]`` with ``dt = r / (metres per minute)``.
    Whether the home is within threshold ``T`` (``t <= T``) could change when ``t - dt <= T < t + dt``.
    This counts the shift as walked in a straight line (an assumption: a detour around a block
    makes the real change larger), and it ignores that another service may become the nearest
    (which only limits how much worse it can get).

    Parameters
    ----------
    minutes
        Walking time per home to its nearest service (``inf`` when none can be reached).
    radius_m
        Uncertainty radius of that nearest service per home, metres; ``NaN`` where unknown (coordinates
        given by the user, built-in layers) or no service is reached: never flagged.
    thresholds
        Minutes.
    speed_kmh
        Walking speed used for ``minutes``.

    Returns
    -------
    numpy.ndarray
        Boolean, one row per home and one column per threshold.
    """
    t = np.asarray(minutes, dtype=float)[:, None]
    r = np.asarray(radius_m, dtype=float)
    dt = (np.where(np.isfinite(r), r, 0.0) / metres_per_minute(speed_kmh))[:, None]
    th = np.asarray(list(thresholds), dtype=float)[None, :]
    return np.isfinite(t) & (t - dt <= th) & (th < t + dt)


def placement_uncertainty(
    demand: pd.DataFrame,
    times: dict[str, ServiceTimes],
    radii: dict[str, np.ndarray],
    *,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS_MIN,
    speed_kmh: float = WALK_SPEED_KMH,
) -> pd.DataFrame:
    """Young children whose threshold class could change through the uncertain place of a service.

    Parameters
    ----------
    demand
        Output of :func:`demand_points` (cd_sector, weight), in the order used for ``times``.
    times
        Per service-set name, the :class:`ServiceTimes` of the demand points.
    radii
        Per service-set name, the uncertainty radius (metres, ``NaN`` when unknown) of each service,
        in the order of that set's ``ServiceTimes.service_index``.
    thresholds, speed_kmh
        As for the coverage.

    Returns
    -------
    pandas.DataFrame
        One row per sector and set (``level`` = 'sector', ``key`` = cd_sector) and per set for the
        whole region (``level`` = 'region', ``key`` = 'Brussels'): pop_0_2, ``uncertain_<t>_min``
        (children whose status within ``t`` minutes could change), ``pop_class_uncertain`` (any
        threshold), ``max_radius_m`` (largest radius among the nearest services; NaN when none has one).
    """
    ths = list(thresholds)
    parts = []
    for name, st in times.items():
        r = np.asarray(radii.get(name, []), dtype=float)
        if len(st.service_index) and int(np.max(st.service_index)) >= len(r):
            raise ModelError(f"service set '{name}' has {len(r)} radii, fewer than its services")
        # Index -1 (no service reached) reads the NaN appended at the end.
        home_r = np.append(r, np.nan)[np.asarray(st.service_index)]
        flags = class_may_change(st.minutes, home_r, ths, speed_kmh)
        w = demand["weight"].to_numpy(dtype=float)
        part = pd.DataFrame({"key": demand["cd_sector"].to_numpy(), "service_set": name, "pop_0_2": w})
        for j, th in enumerate(ths):
            part[f"uncertain_{th:g}_min"] = w * flags[:, j]
        part["pop_class_uncertain"] = w * flags.any(axis=1)
        part["max_radius_m"] = home_r
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    sums = ["pop_0_2", *[f"uncertain_{th:g}_min" for th in ths], "pop_class_uncertain"]
    agg = {**{c: "sum" for c in sums}, "max_radius_m": "max"}
    sector = frame.groupby(["key", "service_set"], sort=True).agg(agg).reset_index().assign(level="sector")
    region = frame.assign(key="Brussels").groupby(["key", "service_set"], sort=True).agg(agg).reset_index()
    out = pd.concat([region.assign(level="region"), sector], ignore_index=True)
    return out[["level", "key", "service_set", *sums, "max_radius_m"]]
