"""Benchmark the visual outputs of `geoplanner run`: isochrone polygons, maps (HTML + PNG), page sizes.

Times, on the real Brussels data, in the order `geoplanner run` does the work:

(a) the isochrones of every service set as the coverage step draws them (5/10/15 min at 4.5 km/h,
    clipped to the region, one polygon per service for sets of at most 50), and the same again in
    the same process (what the maps of the run then cost);
(b) the maps of the given scenarios (``make_maps``: the gap map, one map per scenario, the
    side-by-side view, each as HTML and PNG), with the scenarios solved beforehand (not timed);
(c) the size of every HTML page written.

Run:  python bench/bench_outputs.py [--scenarios scenarios/current.toml ...]

For "before" figures, run the same script against an older checkout of the package, e.g.
``cd /tmp && GEOPLANNER_DATA_DIR=$PWD/data GEOPLANNER_CACHE_DIR=$PWD/.cache PYTHONPATH=../main
python bench/bench_outputs.py`` (the map step is ``geoplanner.pipeline.maps.make_maps(results, context, …)``
since the outputs were split from the pipeline; older checkouts have ``geoplanner.outputs.report.make_maps``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

SETS = ("kg", "one", "hvhk", "any_cb", "all_family")
DEFAULT_SCENARIOS = ("current.toml", "close_one.toml", "priority_first.toml", "deprivation_weighted.toml")


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = Path(__file__).resolve().parent.parent
    default = [here / "scenarios" / s for s in DEFAULT_SCENARIOS]
    parser.add_argument("--scenarios", nargs="*", type=Path, default=default, help="scenario files")
    args = parser.parse_args()

    import geoplanner
    from geoplanner import inputs
    from geoplanner.access import isochrones as iso_mod
    from geoplanner.access.network import snap_points
    from geoplanner.pipeline.coverage import PER_SERVICE_ISOCHRONE_MAX  # the coverage step's rule
    from geoplanner.pipeline.load import load_network
    from geoplanner.pipeline.maps import make_maps
    from geoplanner.pipeline.siting import evaluate_files

    print(f"geoplanner from {Path(geoplanner.__file__).parent}")
    net = load_network()
    region = inputs.load_region()
    print(f"network: {net.n_nodes} nodes, {net.n_raw_edges} street edges\n")

    print("(a) isochrones per set (5/10/15 min), as the coverage step draws them")
    print(f"{'set':<12}{'services':>9}{'polygons':>9}{'first (s)':>11}{'again (s)':>11}{'area 15 min (km2)':>19}")
    total = [0.0, 0.0]
    for name in SETS:
        pts = inputs.load_services(name).points.sort_values("id", kind="stable").reset_index(drop=True)
        if len(pts) == 0:
            continue
        src = snap_points(net, np.c_[pts.geometry.x, pts.geometry.y])

        def draw(src=src, pts=pts, name=name):
            return iso_mod.isochrones(
                net,
                src,
                service_ids=pts["id"].astype(str),
                set_name=name,
                thresholds_min=(5, 10, 15),
                region=region,
                per_service=len(pts) <= PER_SERVICE_ISOCHRONE_MAX,
            )

        first, iso = _timed(draw)
        again, _ = _timed(draw)
        total[0] += first
        total[1] += again
        area = iso[(iso["service_id"] == "*") & (iso["threshold_min"] == 15)]["area_km2"].iloc[0]
        print(f"{name:<12}{len(pts):>9}{len(iso):>9}{first:>11.2f}{again:>11.2f}{area:>19.3f}")
    print(f"{'total':<30}{total[0]:>11.2f}{total[1]:>11.2f}\n")

    print("(b) maps of the scenarios (solved first, not timed)")
    context, results = evaluate_files(args.scenarios)
    print("scenarios:", ", ".join(r.scenario.name for r in results))
    with tempfile.TemporaryDirectory() as tmp:
        seconds, run = _timed(lambda: make_maps(results, context, Path(tmp), scenario_paths=args.scenarios))
        print(f"make_maps (HTML + PNG, {len(run.outputs) - 1} files): {seconds:.2f} s\n")
        print("(c) page sizes")
        pages = sorted(p for p in run.outputs if p.suffix == ".html")
        for p in pages:
            print(f"{p.name:<55}{p.stat().st_size / 1e6:>8.2f} MB")
        print(f"{'all pages':<55}{sum(p.stat().st_size for p in pages) / 1e6:>8.2f} MB")


if __name__ == "__main__":
    main()
