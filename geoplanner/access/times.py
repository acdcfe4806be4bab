"""Walking times over the array network: nearest service per point, and time matrices for siting.

- **Nearest service** (:func:`nearest_service_times`): one multi-source Dijkstra pass
  (:func:`scipy.sparse.csgraph.dijkstra` with ``min_only=True``) per service set. Every service gets a
  virtual source node joined to both ends of the street edge it snaps to, with edge costs equal to its
  straight access leg plus the distance along the edge, so access legs are exact. A point's time is the
  better of its two edge ends, plus the distance along its edge and its own access leg; a point on the same
  edge as a service can also walk straight along that edge.
- Points stay on the street they are on: they snap to the network's *raw* edges (loop streets and the
  longer of two parallel streets included, see :mod:`geoplanner.access.network`) and walk along that street
  to its ends; node-to-node distances come from the merged routing graph, which has the same shortest paths.
- **Time matrix** (:func:`time_matrix`): minutes from many origins to each of many targets within a limit.

Times are in minutes; ``inf`` means unreachable (another piece of the network).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from geoplanner.access.network import (
    DEFAULT_SNAP_TOLERANCE_M,
    WALK_SPEED_KMH,
    SnapResult,
    WalkNetwork,
    metres_per_minute,
    snap_points,
)
from geoplanner.core.errors import ModelError

__all__ = [
    "ServiceTimes",
    "as_snapped",
    "augmented_graph",
    "node_distances",
    "point_distances",
    "nearest_service_times",
    "time_matrix",
]


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


def as_snapped(net: WalkNetwork, pts: np.ndarray | SnapResult, tolerance_m: float) -> SnapResult:
    """Return ``pts`` snapped to the network (as they are when already a :class:`SnapResult`)."""
    return pts if isinstance(pts, SnapResult) else snap_points(net, pts, tolerance_m=tolerance_m)


def augmented_graph(net: WalkNetwork, src: SnapResult) -> sp.csr_matrix:
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
    aug = augmented_graph(net, sources)
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
    src = as_snapped(net, services, tolerance_m)
    if len(src) == 0:
        raise ModelError("the service set is empty: there is nothing to walk to", hint="choose another set")
    ids = np.asarray([str(i) for i in range(len(src))] if service_ids is None else list(service_ids), dtype=object)
    if len(ids) != len(src):
        raise ModelError(f"{len(ids)} service ids for {len(src)} services")
    pts = as_snapped(net, demand, tolerance_m)
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
    org = as_snapped(net, origins, tolerance_m)
    tgt = as_snapped(net, targets, tolerance_m)
    n, m = len(org), len(tgt)
    out = np.full((n, m), np.inf)
    if n == 0 or m == 0:
        return out
    mpm = metres_per_minute(speed_kmh)
    limit_m = limit_min * mpm
    aug = augmented_graph(net, tgt)
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
