"""Benchmark: our MCLP / LSCP (scipy milp + HiGHS) against PySAL spopt (PuLP + CBC) on real data.

Real Brussels data: demand points = young children on residential streets (accessibility
engine), all located candidate venues, walking minutes over the 2013 OSM walk network.
Both solvers get the same cost matrix; the script prints both objectives and times.

Run: ``python bench/bench_siting.py [--threshold 10] [--ks 2 5 10]``
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np


def build_matrix(threshold: float):
    from geoplanner.access.times import time_matrix
    from geoplanner.inputs.services import load_services
    from geoplanner.pipeline.siting import build_context

    t = time.perf_counter()
    ctx = build_context()
    cand = load_services("candidates").points
    xy = np.c_[ctx.demand["x"], ctx.demand["y"]]
    cost = time_matrix(ctx.net, xy, np.c_[cand.geometry.x, cand.geometry.y], limit_min=max(30.0, 2 * threshold))
    w = ctx.demand["weight"].to_numpy(dtype=float)
    print(
        f"data: {cost.shape[0]} demand points × {cost.shape[1]} candidate venues, "
        f"{w.sum():,.0f} children (estimated); matrix built in {time.perf_counter() - t:.1f} s"
    )
    return cost, w


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threshold", type=float, default=10.0)
    parser.add_argument("--ks", type=int, nargs="+", default=[2, 5, 10])
    args = parser.parse_args()
    import pulp
    from spopt.locate import LSCP, MCLP

    from geoplanner.siting import MaximalCovering, SetCovering

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    cost, w = build_matrix(args.threshold)
    thr = args.threshold
    finite = np.where(np.isfinite(cost), cost, 1e6)
    rows = []
    for k in args.ks:
        t = time.perf_counter()
        ours = MaximalCovering.from_cost_matrix(cost, thr, w, k=k).solve(time_limit=60)
        t_ours = time.perf_counter() - t
        t = time.perf_counter()
        theirs = MCLP.from_cost_matrix(finite, w, service_radius=thr, p_facilities=k).solve(
            pulp.PULP_CBC_CMD(msg=False)
        )
        t_theirs = time.perf_counter() - t
        rows.append(
            (f"MCLP k={k}", ours.objective, ours.status, t_ours, pulp.value(theirs.problem.objective), t_theirs)
        )
    coverable = (cost <= thr).any(axis=1) & (w > 0)
    t = time.perf_counter()
    ours = SetCovering.from_cost_matrix(cost[coverable], thr, w[coverable]).solve(time_limit=60)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    theirs = LSCP.from_cost_matrix(finite[coverable], service_radius=thr).solve(pulp.PULP_CBC_CMD(msg=False))
    t_theirs = time.perf_counter() - t
    rows.append(
        ("LSCP (all coverable)", ours.objective, ours.status, t_ours, pulp.value(theirs.problem.objective), t_theirs)
    )
    print(f"\nthreshold {thr:g} min; times include model building (both sides)")
    print(f"{'model':<22}{'ours':>14}{'status':>10}{'s':>8}{'spopt':>14}{'s':>8}{'same':>6}{'speed-up':>10}")
    for name, o, st, to, s, ts in rows:
        same = abs(o - s) <= 1e-6 * max(1.0, abs(s))
        print(f"{name:<22}{o:>14.3f}{st:>10}{to:>8.2f}{s:>14.3f}{ts:>8.2f}{'yes' if same else 'NO':>6}{ts / to:>9.1f}×")


if __name__ == "__main__":
    main()
