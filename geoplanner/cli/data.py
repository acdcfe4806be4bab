"""``geoplanner data pull|check``: bring the data bundle into ``data/`` and validate it."""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register"]

_STYLE = {
    "copied": "green",
    "downloaded": "green",
    "replaced": "yellow",
    "present": "dim",
    "ok": "green",
    "missing": "red",
    "conflict": "red",
    "changed": "yellow",
}


def register(app: typer.Typer) -> None:
    """Add the ``data`` command group to ``app``."""
    data_app = typer.Typer(help="Get and check the data bundle (data/bundle.toml).", no_args_is_help=True)

    @data_app.command("pull")
    def pull_cmd(
        source: Path | None = typer.Option(
            None, "--from", help="Local mirror laid out like data/ (default: $GEOPLANNER_DATA_MIRROR)."
        ),
        dataset: list[str] | None = typer.Option(None, "--dataset", "-d", help="Only this dataset (repeatable)."),
        replace: bool = typer.Option(False, "--replace", help="Overwrite files whose checksum differs."),
    ) -> None:
        """Fill data/ from a local mirror or the official sources, verifying sha256."""
        from geoplanner.pipeline.data import pull

        actions = pull(source, keys=dataset or None, replace=replace)
        _print(actions, "data pull")
        failed = [a for a in actions if a.action in ("missing", "conflict")]
        if failed:
            raise typer.Exit(1)

    @data_app.command("check")
    def check_cmd() -> None:
        """Check every dataset is present with its checksum, then validate it with the loaders."""
        from geoplanner import inputs
        from geoplanner.inputs.bundle import check

        actions = check()
        _print(actions, "data check")
        if any(a.action in ("missing", "changed") for a in actions):
            raise typer.Exit(1)
        from geoplanner.cli import console

        sectors = inputs.load_sectors()
        wijken = inputs.load_wijken()
        inputs.load_crosswalk()
        inputs.load_crosswalk(vintage=2025)
        inputs.load_wijk_indicators()
        inputs.load_commune_population()
        inputs.load_sector_population()
        age = inputs.load_sector_age_bands()
        inputs.load_sector_bimd()
        inputs.load_commune_age_shares()
        inputs.load_region()
        console.print(f"validated: {len(sectors)} sectors, {len(wijken)} wijken, indicators, population, region")
        absent = age.loc[~age["in_age_file"], "cd_sector"]
        console.print(f"[yellow]{len(absent)} sectors not in the age-band file (estimated): {', '.join(absent)}[/]")
        for name in inputs.service_set_names():
            s = inputs.load_services(name)
            style = "yellow" if s.incomplete else "green"
            console.print(f"[{style}]{s.completeness_note}[/]")

    app.add_typer(data_app, name="data")


def _print(actions: list, title: str) -> None:
    from rich.table import Table

    from geoplanner.cli import console

    table = Table(title=title)
    for col in ("dataset", "status", "path", "detail"):
        table.add_column(col)
    for a in actions:
        table.add_row(a.key, f"[{_STYLE.get(a.action, '')}]{a.action}[/]", _rel(a.path), a.detail)
    console.print(table)


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
