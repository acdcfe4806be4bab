"""Benchmark: ``geoplanner rank`` warm, and the parts of the need step, on the real data.

Runs the command ``--runs`` times in a fresh process each (the caches under ``.cache/`` warm after the
first), reports wall-clock and CPU time, then times the parts in one process: imports (geopandas
& co), sector figures, ranking, and the stability analysis alone (``--draws`` variations).

Run: ``python bench/bench_rank.py [--runs 5] [--draws 4000]``
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def command_times(runs: int) -> list[tuple[float, float]]:
    """Wall and CPU seconds of ``geoplanner rank`` in a new process, after one warm-up run."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "geoplanner", "rank", "--out", tmp]
        subprocess.run(cmd, check=True, capture_output=True)  # warm the caches
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            wall = time.perf_counter() - t
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            out.append((wall, cpu))
    return out


def parts(draws: int) -> dict[str, float]:
    """Seconds of each part of the need step in this process."""
    times = {}
    t = time.perf_counter()
    import geopandas  # noqa: F401

    times["import geopandas & co"] = time.perf_counter() - t
    from dataclasses import replace

    from geoplanner import need
    from geoplanner.need import stability

    t = time.perf_counter()
    from geoplanner.pipeline.load import need_data

    nd = need_data()
    sectors = need.sector_need(nd)
    times["sector figures (cached lines and weights)"] = time.perf_counter() - t
    t = time.perf_counter()
    ranking = need.rank_wijken(nd, sectors=sectors)
    times["ranking (deprivation, PCA)"] = time.perf_counter() - t
    params = replace(need.NeedParams(), stability_draws=draws)
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        stability.rank_stability(sectors, ranking, params)
        runs.append(time.perf_counter() - t)
    times[f"stability, {draws} variations (median of 5)"] = statistics.median(runs)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--draws", type=int, default=4000)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    res = command_times(args.runs)
    walls = sorted(w for w, _ in res)
    print(
        f"geoplanner rank, warm, {args.runs} runs: wall {walls[0]:.2f}–{walls[-1]:.2f} s "
        f"(median {statistics.median(walls):.2f} s), CPU median {statistics.median(c for _, c in res):.2f} s"
    )
    for name, seconds in parts(args.draws).items():
        print(f"  {name}: {seconds:.2f} s")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
