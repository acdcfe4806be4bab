"""``geoplanner sweep``: how sure is each chosen venue? A scenario solved under plausible variations, on Dask."""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``sweep`` command to ``app``."""

    @app.command("sweep")
    def sweep_cmd(
        scenario: Path = typer.Argument(
            ..., help="Scenario file (scenarios/*.toml); its sweep table gives the ranges."
        ),
        draws: int | None = typer.Option(
            None, "--draws", help="Number of draws (default: the scenario's sweep table)."
        ),
        seed: int | None = typer.Option(
            None, "--seed", help="Seed of the draws (default: the scenario's sweep table)."
        ),
        scheduler: str | None = typer.Option(
            None, "--scheduler", help="Address of a running Dask scheduler (default: a local cluster)."
        ),
        workers: int | None = typer.Option(None, "--workers", help="Local worker processes (default: the cores)."),
        out: Path | None = typer.Option(None, "--out", help="Output folder (default outputs/<scenario>/)."),
        network: Path | None = typer.Option(None, "--network", help="Network file (default: the bundle's)."),
    ) -> None:
        """Solve a scenario under N plausible variations: p_chosen per venue, ranges, what moves the result most."""
        from geoplanner.cli import console, stage_printer
        from geoplanner.core import settings
        from geoplanner.core.progress import reporting
        from geoplanner.outputs.files import ensure_output_dir
        from geoplanner.outputs.sweep import rounded, sweep_key_lines
        from geoplanner.pipeline.siting import build_context, load_scenario
        from geoplanner.pipeline.sweep import check_dask, run_sweep, write_sweep
        from geoplanner.scenario.sweep import check_sweep

        _check_options(draws, seed, workers, scheduler)
        s = load_scenario(scenario)
        check_sweep(s)
        check_dask()
        out_dir = ensure_output_dir(out or settings.output_dir() / s.name)
        console.print(f"scenario [bold]{s.name}[/] ({s.model}) — netwerk en vraag laden…")
        with reporting(stage_printer(max_depth=0)):
            context = build_context(network=network, cache=False)
            result = run_sweep(s, context, draws=draws, seed=seed, scheduler=scheduler, workers=workers,
                               progress=_progress())  # fmt: skip
        paths = write_sweep(result, context, out_dir)
        shown = rounded(result)  # the numbers of the files just written
        console.print(_sites_table(shown))
        for line in sweep_key_lines(shown):
            console.print(line)
        for p in paths:
            console.print(f"wrote {p}")


def _check_options(draws: int | None, seed: int | None, workers: int | None, scheduler: str | None) -> None:
    """Refuse an option out of range in one line, before any slow work."""
    from geoplanner.core.errors import ConfigError

    if draws is not None and not 1 <= draws <= 1_000_000:
        raise ConfigError(f"must be 1-1000000, got {draws}", column="--draws")
    if seed is not None and seed < 0:
        raise ConfigError(f"must be >= 0, got {seed}", column="--seed")
    if workers is not None and workers < 1:
        raise ConfigError(f"must be at least 1, got {workers}", column="--workers")
    if workers is not None and scheduler:
        raise ConfigError("--workers is for the local cluster; an existing cluster has its own", column="--workers")


def _progress():  # noqa: ANN202 - a geoplanner.pipeline.sweep.Progress
    """Return a progress callback: a line on stderr at every tenth of the solves (in a terminal, every solve)."""
    from geoplanner.cli import err_console

    shown = {"step": -1}

    def report(done: int, total: int) -> None:
        step = done * 10 // total
        if err_console.is_terminal or step != shown["step"] or done == total:
            shown["step"] = step
            err_console.print(f"  sweep: {done}/{total} oplossingen klaar", highlight=False,
                              end="\r" if err_console.is_terminal and done < total else "\n")  # fmt: skip

    return report


def _sites_table(result):  # noqa: ANN001, ANN202 - SweepResult -> rich Table
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"Hoe zeker is elke gekozen locatie? {result.draws} trekkingen (seed {result.seed})")
    for col in ("locatie", "id", "LGN", "p_chosen", "zekerheid", "in scenario"):
        table.add_column(col, justify="right" if col in ("LGN", "p_chosen") else "left")
    for r in result.sites.itertuples():
        table.add_row(escape(str(r.name)), escape(str(r.id)), str(r.lgn), f"{r.p_chosen:.2f}", str(r.stability),
                      "ja" if r.base_chosen else "")  # fmt: skip
    return table
