"""Benchmark: the capacitated rotation on the real data (all priority wijken, all suitable venues).

The shipped scenario ``scenarios/mobile_2_teams.toml`` (and the same with more teams): demand
in consultations a year on the 17,574 demand points, every 'geschikt' candidate venue, the 21
priority wijken each with their floor, every LGN with a priority wijk visited, one LGN per team
per day, 12 working slots. Reports the solve time (greedy, model, HiGHS, timetable), the gap to
HiGHS' proven bound, and the model's size after merging venues and demand rows.

Two runs per number of teams: HiGHS stopping at 1 % (``mip_gap = 0.01``, the scenario's
setting) and HiGHS trying to prove optimality (``mip_gap = 0``) within the 20 s limit.

Run: ``PYTHONPATH=. python bench/bench_capacitated.py [--teams 2 4 8] [--time-limit 20]``
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--teams", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument("--time-limit", type=float, default=20.0)
    args = parser.parse_args()
    from geoplanner.pipeline.siting import build_context, load_scenario
    from geoplanner.scenario.evaluate import evaluate

    t = time.perf_counter()
    ctx = build_context()
    base = load_scenario(ROOT / "scenarios" / "mobile_2_teams.toml")
    print(f"context (network, demand points) in {time.perf_counter() - t:.1f} s; cores: {os.cpu_count()}")
    print(f"{'teams':>5} {'mip_gap':>8} {'status':>11} {'gap':>8} {'solve s':>8} {'served':>9} size")
    for teams in args.teams:
        for gap in (0.01, 0.0):
            # curve_max_teams = 1: this run measures the rotation, not the teams curve
            s = dataclasses.replace(base, teams=teams, mip_gap=gap, time_limit_s=args.time_limit, curve_max_teams=1)
            r = evaluate(s, ctx)
            res = r.siting
            size = ", ".join(f"{k} {v:,}" for k, v in res.size.items())
            print(
                f"{teams:>5} {gap:>8.2f} {res.status:>11} {100 * (res.gap or 0):>7.2f}% {res.seconds:>8.2f} "
                f"{res.served.sum():>9,.0f} {size}"
            )


if __name__ == "__main__":
    main()
