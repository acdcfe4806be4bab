"""Benchmark the main job (`geoplanner run`) cold and warm, and `map` / `report` after it.

Cold: an empty cache folder (no walking network, no residential lines or sector weights, no
scenario solutions), so everything is built. Warm: the same command again with that cache. Then
`geoplanner map` and `geoplanner report` on the same scenarios, which reuse the stored solutions.
Each command runs as its own process (as a user runs it), on the real data in ./data, with the
shipped scenarios and their time limits. Seconds per stage come from ``manifest_run.json``.

Run from the repository root:

    python bench/bench_main.py                 # cold, warm, map, report
    python bench/bench_main.py --profile DIR   # also a cProfile of the warm run and of `report`

Targets (issue 12): warm <= 20 s, cold <= 60 s on 2 cores, map/report after run <= 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(args: list[str], env: dict[str, str], profile: Path | None = None) -> float:
    cmd = [sys.executable]
    if profile is not None:
        cmd += ["-m", "cProfile", "-o", str(profile)]
    cmd += ["-m", "geoplanner", *args]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds


def _stages(out: Path) -> dict:
    return json.loads((out / "manifest_run.json").read_text())


def main() -> None:
    """Run the benchmark and print the seconds."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", type=Path, help="write cProfile files of the warm run and of `report` here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (outputs and cache)")
    args = ap.parse_args()
    scenarios = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "scenarios").glob("*.toml"))
    tmp = Path(tempfile.mkdtemp(prefix="geoplanner_bench_main_"))
    out, cache = tmp / "out", tmp / "cache"
    env = {k: v for k, v in os.environ.items() if k not in ("GEOPLANNER_NO_CACHE", "GEOPLANNER_OUTPUT_DIR")}
    env["GEOPLANNER_CACHE_DIR"] = str(cache)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    print(f"cores: {os.cpu_count()}  load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"scenarios: {', '.join(Path(s).stem for s in scenarios)}; cache: {cache} (empty)")
    rows = []
    for label in ("cold", "warm"):
        prof = args.profile / "run_warm.prof" if args.profile and label == "warm" else None
        wall = _run(["run", "--out", str(out), *scenarios], env, prof)
        manifest = _stages(out)
        t = manifest["timings_s"]
        hits = sum(r["hit"] for r in manifest["solution_cache"].values())
        rows.append((label, wall, t, hits, len(manifest["solution_cache"])))
    names = list(rows[0][2]["scenarios"])
    head = ["stage", *[r[0] for r in rows]]
    lines = [head]
    for key in ("checks", "rank", "coverage", "context"):
        if all(key in r[2] for r in rows):
            lines.append([key, *[f"{r[2][key]:.1f}" for r in rows]])
    for n in names:
        lines.append([f"scenario {n}", *[f"{r[2]['scenarios'][n]:.1f}" for r in rows]])
    for key in ("compare", "report", "lgn", "workbook", "total"):
        if all(key in r[2] for r in rows):
            lines.append([key, *[f"{r[2][key]:.1f}" for r in rows]])
    lines.append(["wall (process)", *[f"{r[1]:.1f}" for r in rows]])
    lines.append(["solutions from cache", *[f"{r[3]}/{r[4]}" for r in rows]])
    print()
    print("| " + " | ".join(lines[0]) + " |")
    print("|---|" + "---:|" * (len(head) - 1))
    for line in lines[1:]:
        print("| " + " | ".join(line) + " |")
    print()
    for cmd in ("map", "report"):
        prof = args.profile / f"{cmd}.prof" if args.profile and cmd == "report" else None
        wall = _run([cmd, *scenarios, "--out", str(out)], env, prof)
        print(f"geoplanner {cmd} after run: {wall:.1f} s (wall, process)")
    print(f"\noutputs and cache: {tmp}" + ("" if args.keep else " (removed)"))
    if not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
