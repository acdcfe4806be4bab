"""Load test of `geoplanner serve` on loopback: start-up time, map layers, edited evaluations under 8 users.

Starts `python -m geoplanner serve` on 127.0.0.1 and a free port (the project's real data and `.cache/`, the
solution cache the command line uses), measures the seconds until `/api/health` answers and the bytes of the
region's map layers, then lets USERS simulated users each make EVALS edited evaluations of the shipped 2-team
capacitated rotation (`mobiel_2_teams`, the editor's quick evaluation) one after the other: POST /api/evaluate,
poll the job every 50 ms until it is done. Each user takes the same 10 edits (teams stay 2: threshold, sessions per
team, uptake, Dutch-speaking share, children per session, planned fill, an excluded venue) in its own order.
Latency is from the POST to the poll that sees the result. Everything is bounded: a deadline per evaluation and
for the whole run; the server is stopped at the end.

    python bench/bench_serve.py                       # warm: the 10 edits solved once, then 8 users x 10
    python bench/bench_serve.py --cold --evals 2      # every edit solved anew (GEOPLANNER_NO_CACHE=1)

Targets (issue 19): ready <= 10 s after start, layers <= 2 MB, an edited 2-team capacitated scenario answers in
<= 2 s p95 on 2 cores with warm caches.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EDITS = [
    {"walk.threshold_min": 8}, {"walk.threshold_min": 12}, {"rotation.sessions_per_team": 6},
    {"demand.uptake": 0.7}, {"demand.dutch_share": 0.5}, {"capacity.children_per_session": 8},
    {"capacity.planned_fill": 0.9}, {"candidates.exclude": ["CAND-0084"]}, {"walk.threshold_min": 15},
    {"rotation.sessions_per_team": 7},
]  # fmt: skip


def _call(base: str, method: str, path: str, body: dict | None = None, session: str | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if session:
        req.add_header("X-Session", session)
    with urllib.request.urlopen(req, timeout=120) as resp:  # noqa: S310 - loopback
        return json.loads(resp.read() or b"{}")


def _evaluate(base: str, session: str, edits: dict, deadline: float) -> tuple[float, str]:
    start = time.perf_counter()
    job = _call(base, "POST", "/api/evaluate", {"base": "mobiel_2_teams", "edits": edits}, session)
    while time.perf_counter() - start < deadline:
        j = _call(base, "GET", f"/api/jobs/{job['id']}", session=session)
        if j["state"] not in ("queued", "running"):
            return time.perf_counter() - start, j["state"]
        time.sleep(0.05)
    return time.perf_counter() - start, "timeout"


def _user(base: str, n: int, evals: int, deadline: float, out: list) -> None:
    order = EDITS[:]
    random.Random(n).shuffle(order)
    session = _call(base, "POST", "/api/session")["session"]
    for i in range(evals):
        try:
            out.append(_evaluate(base, session, order[i % len(order)], deadline))
        except Exception as exc:  # noqa: BLE001 - a failed request is counted, not fatal
            out.append((float("nan"), f"error: {exc}"))


def _start(port: int, cold: bool) -> tuple[subprocess.Popen, float]:
    env = dict(os.environ)
    env.pop("GEOPLANNER_NO_CACHE", None)
    if cold:
        env["GEOPLANNER_NO_CACHE"] = "1"
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "geoplanner", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    while time.perf_counter() - start < 120:
        try:
            _call(f"http://127.0.0.1:{port}", "GET", "/api/health")
            return proc, time.perf_counter() - start
        except OSError:
            if proc.poll() is not None:
                sys.exit(f"server stopped: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
    proc.kill()
    sys.exit("server not ready after 120 s")


def _round(base: str, users: int, evals: int, deadline: float) -> list[tuple[float, str]]:
    out: list[tuple[float, str]] = []
    threads = [threading.Thread(target=_user, args=(base, n, evals, deadline, out)) for n in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=8)
    ap.add_argument("--evals", type=int, default=10)
    ap.add_argument("--cold", action="store_true", help="solve every edit anew (GEOPLANNER_NO_CACHE=1)")
    ap.add_argument("--deadline", type=float, default=300.0, help="seconds per evaluation at most")
    args = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc, ready = _start(port, args.cold)
    base = f"http://127.0.0.1:{port}"
    try:
        layers = len(urllib.request.urlopen(  # noqa: S310 - loopback
            urllib.request.Request(base + "/api/layers", headers={"X-Session": _call(base, "POST", "/api/session")[
                "session"]}), timeout=60).read())  # fmt: skip
        if not args.cold:  # warm the solution cache: each edit once
            _round(base, 1, len(EDITS), args.deadline)
        wall = time.perf_counter()
        results = _round(base, args.users, args.evals, args.deadline)
        wall = time.perf_counter() - wall
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    ok = sorted(t for t, state in results if state == "done")
    errors = [state for _, state in results if state != "done"]
    q = statistics.quantiles(ok, n=20, method="inclusive") if len(ok) >= 2 else [float("nan")] * 19
    print(f"ready after start: {ready:.1f} s; region layers: {layers / 1e6:.2f} MB")
    kind = "cold" if args.cold else "warm"
    print(f"{kind}: {args.users} users x {args.evals} edited evaluations, {wall:.1f} s wall; "
          f"p50 {statistics.median(ok):.2f} s, p95 {q[18]:.2f} s, max {max(ok):.2f} s; "
          f"{len(errors)} errors {sorted(set(errors))}")  # fmt: skip


if __name__ == "__main__":
    main()
