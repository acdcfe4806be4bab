"""Wall time of `geoplanner sweep` for the shipped mobile_2_teams sweep on 1 and 2 local Dask workers.

    PYTHONPATH=. python bench/bench_sweep.py --draws 200 --workers 2 1 --out /tmp/sweep_bench

Prints and writes (``--json``) per worker count: the wall time of the draws on Dask (cluster start included),
the solves, the seconds per solve (wall × workers / solves), the speed-up over 1 worker, the pickled size of the
shared base (scattered once per worker) and of one job and one outcome, and the projection for 10,000 draws on a
32-worker cluster. The outputs of the first run are written to ``--out`` (the README's figures).
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
from pathlib import Path

from geoplanner.pipeline.siting import build_context, load_scenario
from geoplanner.pipeline.sweep import run_sweep, write_sweep
from geoplanner.scenario.sweep import run_job, sweep_base, sweep_jobs

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--workers", type=int, nargs="+", default=[2, 1])
    ap.add_argument("--out", type=Path, default=Path("/tmp/sweep_bench"))
    ap.add_argument("--json", type=Path, default=Path("/tmp/sweep_bench.json"))
    args = ap.parse_args()
    s = load_scenario(ROOT / "scenarios" / "mobile_2_teams.toml")
    ctx = build_context(cache=False)
    base = sweep_base(s, ctx)
    jobs = sweep_jobs(s, args.draws, s.sweep_seed)
    sizes = {"base_bytes": len(pickle.dumps(base)), "job_bytes": len(pickle.dumps(jobs[1])),
             "outcome_bytes": len(pickle.dumps(run_job(base, jobs[1])))}  # fmt: skip
    print(sizes, flush=True)
    runs = {}
    for i, w in enumerate(args.workers):
        t = time.perf_counter()
        result = run_sweep(s, ctx, draws=args.draws, workers=w)
        wall = time.perf_counter() - t
        runs[w] = {"wall_s": round(wall, 1), "solves": len(jobs), "s_per_solve": round(wall * w / len(jobs), 2)}
        print(w, runs[w], flush=True)
        if i == 0:
            write_sweep(result, ctx, args.out)
    if 1 in runs:
        for r in runs.values():
            r["speed_up"] = round(runs[1]["wall_s"] / r["wall_s"], 2)
    t_solve = min(r["s_per_solve"] for r in runs.values())
    solves = 10_000 + (len(jobs) - 1 - args.draws) + 1
    scatter = 32 * sizes["base_bytes"] / 125e6  # 1 Gbit/s, every worker from the scheduler (no broadcast tree)
    projection = {"solves": solves, "compute_s": round(solves * t_solve / 32, 0), "scatter_s": round(scatter, 1),
                  "results_mb": round(solves * sizes["outcome_bytes"] / 1e6, 1)}  # fmt: skip
    print("10,000 draws on 32 workers:", projection, flush=True)
    args.json.write_text(json.dumps({"sizes": sizes, "runs": runs, "projection_10000_32": projection}, indent=1))


if __name__ == "__main__":
    main()
