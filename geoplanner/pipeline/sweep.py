"""``geoplanner sweep``: a scenario solved under plausible variations on Dask, and the sweep's outputs.

The draws (:mod:`geoplanner.scenario.sweep`) run as Dask futures (``dask.distributed``): on a local cluster of
this machine's cores by default (one single-threaded worker process per core), or on an existing cluster
(``scheduler``) when the sweep outgrows one machine. The shared :class:`~geoplanner.scenario.sweep.SweepBase`
(network, demand points, sector figures, the scenario's service sets: about 8 MB pickled on the real data) is
scattered to every worker once; each task then carries only its job (a few hundred bytes) and returns a small
:class:`~geoplanner.scenario.sweep.Outcome`. Outcomes are put back in the jobs' order before they are tallied,
so the result does not depend on how many workers ran them or in what order they finished.

Dask is an optional dependency (the ``sweep`` extra): only this module imports it, inside the functions.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import signal
import threading
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geoplanner.core import settings
from geoplanner.core.errors import ConfigError, DataError
from geoplanner.core.progress import stage
from geoplanner.outputs.files import output_step, sigint_held, write_csv, write_gpkg, write_text
from geoplanner.outputs.manifest import write_manifest
from geoplanner.outputs.maps.data import commune_outlines
from geoplanner.outputs.sweep import map_png, rounded, style_sweep_gpkg, sweep_page, sweep_sheets
from geoplanner.pipeline.workbook import write_workbook
from geoplanner.scenario import Scenario, SitingContext
from geoplanner.scenario.keys import solution_key
from geoplanner.scenario.spec import SWEEP_FIELDS
from geoplanner.scenario.sweep import (
    Job,
    Outcome,
    SweepBase,
    SweepResult,
    SweepTables,
    check_sweep,
    run_job,
    sweep_base,
    sweep_jobs,
    tally,
)

__all__ = [
    "SWEEP_MANIFEST",
    "SWEEP_FILES",
    "check_dask",
    "dask_client",
    "ignore_sigint",
    "read_sweep",
    "run_sweep",
    "solve_on_dask",
    "write_sweep",
]

#: The sweep's manifest, beside the scenario's own ``manifest.json`` in ``outputs/<scenario>/``.
SWEEP_MANIFEST = "manifest_sweep.json"

#: Files a sweep writes into the scenario's folder (with :data:`SWEEP_MANIFEST` last).
SWEEP_FILES = ("sweep_sites.csv", "sweep_summary.csv", "sweep_lgn.csv", "sweep_sensitivity.csv", "sweep_draws.csv",
               "sweep_sites.gpkg", "sweep.html", "sweep.xlsx")  # fmt: skip

#: Called as ``progress(done, total)`` each time a solve of the sweep ends.
Progress = Callable[[int, int], None]


def check_dask() -> None:
    """Refuse, before any slow work, to sweep without Dask (``pip install -e '.[sweep]'``).

    Raises
    ------
    ConfigError
        Naming the extra to install.
    """
    try:
        # Dask is an optional extra that only the sweep needs: imported when a sweep runs
        import distributed  # noqa: F401
    except ImportError:
        raise ConfigError("geoplanner sweep needs Dask, which is not installed",
                          hint="pip install -e '.[sweep]'") from None  # fmt: skip


def dask_client(scheduler: str | None = None, workers: int | None = None) -> tuple[object, object | None]:
    """Return a Dask client and the local cluster it runs on (None when ``scheduler`` names an existing one).

    Parameters
    ----------
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``); None: start a local cluster.
    workers
        Worker processes of the local cluster (default: this machine's cores), each single-threaded.

    Raises
    ------
    ConfigError
        When Dask is not installed (``pip install -e '.[sweep]'``).
    DataError
        When the scheduler cannot be reached.
    """
    check_dask()
    # Dask is an optional extra that only the sweep needs: imported when a sweep runs
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="10s"), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise DataError(
                f"cannot reach the Dask scheduler {scheduler}: {exc}",
                column="--scheduler",
                hint="start it with `dask scheduler`, or leave --scheduler out to run here",
            ) from None
    n = workers or os.cpu_count() or 1
    with sigint_held():  # the cluster's threads and workers are born with Ctrl-C blocked (see below)
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.CRITICAL)  # fmt: skip
        client = Client(cluster)
    client.run(ignore_sigint)  # and ignore it from now on: the driver alone stops them
    return client, cluster


def ignore_sigint() -> None:
    """Ignore Ctrl-C in a local worker process (run in its main thread by ``Client.run``).

    A Ctrl-C in the terminal goes to every process of the foreground group; the driver cancels the futures and
    shuts the workers down, so they must not stop (and print a traceback) on their own.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def solve_on_dask(
    base: SweepBase,
    jobs: Sequence[Job],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> list[Outcome]:
    """Solve every job on Dask; return the outcomes in the jobs' order.

    ``base`` is scattered to every worker once (broadcast); each task gets it by reference. On any error or
    Ctrl-C the futures still running are cancelled and the local cluster is shut down before the error goes on.
    """
    # Dask is an optional extra that only the sweep needs: imported when a sweep runs
    from distributed import as_completed

    client, cluster = dask_client(scheduler, workers)
    futures: list = []
    try:
        shared = client.scatter(base, broadcast=True, hash=False)
        token = uuid.uuid4().hex[:12]
        keys = [f"geoplanner-sweep-{token}-{i}" for i in range(len(jobs))]
        futures = client.map(run_job, [shared] * len(jobs), list(jobs), key=keys, pure=False)
        where = {f.key: i for i, f in enumerate(futures)}
        out: list[Outcome | None] = [None] * len(jobs)
        for done, fut in enumerate(as_completed(futures), start=1):
            out[where[fut.key]] = fut.result()
            if progress is not None:
                progress(done, len(jobs))
        return [o for o in out if o is not None]
    except BaseException:
        if futures:
            client.cancel(futures, force=True)
        raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_sweep(
    scenario: Scenario,
    context: SitingContext,
    *,
    draws: int | None = None,
    seed: int | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> SweepResult:
    """Sweep a scenario: solve it under ``draws`` plausible variations on Dask and tally the outcomes.

    Parameters
    ----------
    scenario
        A validated scenario with its ``[sweep]`` table (or its defaults: counts drawn, 200 draws).
    context
        The shared context (:func:`geoplanner.pipeline.siting.build_context`).
    draws, seed
        Default: the ``[sweep]`` table's.
    scheduler, workers
        Where the draws run (:func:`dask_client`).
    progress
        Told of every solve that ends.

    Returns
    -------
    SweepResult
    """
    check_sweep(scenario)
    draws = scenario.sweep_draws if draws is None else int(draws)
    seed = scenario.sweep_seed if seed is None else int(seed)
    base = sweep_base(scenario, context)
    jobs = sweep_jobs(scenario, draws, seed)
    with stage(f"{scenario.name}: {len(jobs)} oplossingen op Dask"):
        outcomes = solve_on_dask(base, jobs, scheduler=scheduler, workers=workers, progress=progress)
    return tally(base, outcomes, draws=draws, seed=seed)


def write_sweep(result: SweepResult, context: SitingContext, out_dir: str | Path, *,
                extra: dict | None = None) -> list[Path]:  # fmt: skip
    """Write a sweep's outputs into ``out_dir`` (the scenario's folder) as one step, with ``manifest_sweep.json``.

    Files: :data:`SWEEP_FILES` — per venue ``p_chosen`` and its class (CSV, and a GeoPackage styled by it for
    QGIS), the range of each measure, sessions per LGN, the sensitivity table, every draw, the page ``sweep.html``
    (with the map) and the workbook ``sweep.xlsx``. The scenario's own files (``geoplanner site``) are left alone.

    Returns
    -------
    list of pathlib.Path
        The files written, manifest last.
    """
    out = Path(out_dir)
    result = rounded(result)  # once, so the CSVs, the workbook and the page show the same numbers
    s = result.scenario
    sites = result.sites
    outlines = commune_outlines(context.need.sectors) if context.need is not None else None
    with output_step(out, manifest=SWEEP_MANIFEST):
        written = [write_csv(out / "sweep_sites.csv", sites), write_csv(out / "sweep_summary.csv", result.summary),
                   write_csv(out / "sweep_lgn.csv", result.lgn),
                   write_csv(out / "sweep_sensitivity.csv", result.sensitivity),
                   write_csv(out / "sweep_draws.csv", result.draws_table)]  # fmt: skip
        gdf = gpd.GeoDataFrame(sites, geometry=gpd.points_from_xy(sites["x"], sites["y"]), crs=settings.CRS)
        written.append(write_gpkg(out / "sweep_sites.gpkg", {"sweep_sites": gdf}, after=style_sweep_gpkg))
        png = map_png(outlines, result) if outlines is not None and len(sites) else None
        written.append(write_text(out / "sweep.html", sweep_page(result, png)))
        written.append(write_workbook(out / "sweep.xlsx", sweep_sheets(result), result.notes,
                                      title=f"Gevoeligheidsanalyse {s.label}"))  # fmt: skip
        manifest = write_manifest(
            out,
            command=f"geoplanner sweep {s.path or s.name} --draws {result.draws} --seed {result.seed}",
            inputs=[p for p in (s.path, *context.inputs) if p is not None],
            parameters={"scenario": s.parameters(), "draws": result.draws, "seed": result.seed},
            outputs=written,
            notes=list(result.notes),
            name=SWEEP_MANIFEST,
            # what a report checks before it shows this sweep beside the scenario (read_sweep)
            extra={**(extra or {}), "solution_key": solution_key(s, context)},
        )
    return [*written, manifest]


#: The tables a report and the run's workbook read back from a sweep's files.
_READ_BACK = {"sites": "sweep_sites.csv", "summary": "sweep_summary.csv", "sensitivity": "sweep_sensitivity.csv",
              "lgn": "sweep_lgn.csv"}  # fmt: skip


def read_sweep(
    folder: str | Path, scenario: Scenario, context: SitingContext, key: str | None = None
) -> tuple[SweepTables | None, str | None]:
    """Return the sweep stored in ``folder`` when it is a sweep of ``scenario`` as ``context`` solves it now.

    A sweep is shown beside its scenario (report, the run's workbook) only when its manifest holds the scenario's
    solution key (the same scenario, demand, network, services and code: the same base solution), its ``[sweep]``
    table is the scenario's and its tables are the files it wrote (their sha256). Otherwise it is left out with a
    note that says so and how to run it again, so an old sweep never reads as one of this run.

    ``key``: the scenario's solution key when the caller has it (an evaluation with the cache on), else computed.

    Returns
    -------
    tuple
        The tables (None when there is no sweep or it is left out) and the note (None when there is nothing to say).
    """
    folder = Path(folder)
    path = folder / SWEEP_MANIFEST
    if not path.is_file():
        return None, None
    where = f"{folder.name}/{SWEEP_MANIFEST}"
    again = f"opnieuw met: geoplanner sweep {scenario.path or scenario.name + '.toml'}"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        params = manifest["parameters"]
        now = json.loads(json.dumps(scenario.parameters(), sort_keys=True, default=str))
        same = manifest.get("solution_key") == (key or solution_key(scenario, context)) and all(
            params["scenario"].get(f) == now.get(f) for f in SWEEP_FIELDS
        )
        written = {o["path"]: o["sha256"] for o in manifest["outputs"]}
        data = {k: (folder / name).read_bytes() if (folder / name).is_file() else b"" for k, name in _READ_BACK.items()}
        same = same and all(written.get(name) == hashlib.sha256(data[k]).hexdigest() for k, name in _READ_BACK.items())
        if not same:
            return None, (f"{scenario.name}: de gevoeligheidsanalyse in {where} hoort bij een andere versie van het "
                          f"scenario, de gegevens of de code en wordt niet getoond; {again}")  # fmt: skip
        frames = {k: pd.read_csv(io.BytesIO(b), dtype={"id": str}) for k, b in data.items()}
        return SweepTables(scenario.name, int(params["draws"]), int(params["seed"]), **frames), None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return None, f"{scenario.name}: de gevoeligheidsanalyse in {where} is niet te lezen ({exc}); {again}"
