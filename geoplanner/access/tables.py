"""Coverage tables: children within each walking threshold per sector, wijk, commune, LGN and priority wijk.

Also the children whose threshold class could change because a geocoded service's place is uncertain
(:func:`placement_uncertainty`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from geoplanner.access.network import (
    DEFAULT_THRESHOLDS_MIN,
    WALK_SPEED_KMH,
    metres_per_minute,
)
from geoplanner.access.times import ServiceTimes
from geoplanner.core.errors import ConfigError, DataError, ModelError

__all__ = [
    "COVERAGE_COLUMNS_NL",
    "check_thresholds",
    "weighted_quantile",
    "coverage_tables",
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


def coverage_tables(
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
        As for the coverage tables.

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
