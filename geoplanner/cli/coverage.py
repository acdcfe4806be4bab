"""``geoplanner coverage``: walking access of young children to each service set."""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register"]


def _floats(text: str, what: str) -> list[float]:
    from geoplanner.access.tables import check_thresholds

    return list(check_thresholds([v.strip() for v in text.split(",") if v.strip()], what=what))


def register(app: typer.Typer) -> None:
    """Add the ``coverage`` command to ``app``."""

    @app.command("coverage")
    def coverage_cmd(
        sets: str = typer.Option(
            "kg,one,hvhk,any_cb,all_family", "--sets", help="Comma-separated service sets (built-in or user sets)."
        ),
        speed: float | None = typer.Option(None, "--speed", help="Walking speed in km/h (default 4.5)."),
        profile: str | None = typer.Option(
            None, "--profile", help="Speed profile: walk (4.5 km/h) or pram (3.6 km/h)."
        ),
        thresholds: str = typer.Option("5,10,15", "--thresholds", help="Walking-time thresholds in minutes."),
        network: Path | None = typer.Option(
            None, "--network", help="Network file (.osm, .osm.bz2, .osm.pbf, .graphml); default: the bundle's."
        ),
        no_raster: bool = typer.Option(False, "--no-raster", help="Skip the walking-time GeoTIFFs."),
        out: Path | None = typer.Option(None, "--out", help="Output folder (default outputs/coverage)."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Draw the isochrones anew: read and store none."),
    ) -> None:
        """Measure how many young children live within 5, 10 and 15 minutes' walk of each service set."""
        from geoplanner.access.network import speed_for
        from geoplanner.cli import console
        from geoplanner.core.errors import ConfigError
        from geoplanner.outputs.files import ensure_output_dir
        from geoplanner.pipeline import run_coverage

        if speed is not None and profile is not None:
            raise ConfigError("give either --speed or --profile, not both")
        kmh = speed_for(profile, speed)
        names = [s.strip() for s in sets.split(",") if s.strip()]
        if not names:
            raise ConfigError("no service set given", column="--sets")
        ths = _floats(thresholds, "--thresholds")
        if out is not None:
            ensure_output_dir(out)
        with console.status("Wandeltijden berekenen…"):
            run = run_coverage(
                out,
                sets=names,
                speed_kmh=kmh,
                thresholds=ths,
                network_path=network,
                raster=not no_raster,
                cache=not no_cache,
            )
        console.print(coverage_table(run))
        for note in run.notes.values():
            if "ONVOLLEDIG" in note:
                console.print(f"[yellow]! {note}[/]", highlight=False)
        for note in run.skipped.values():
            console.print(f"[red]! {note}[/]", highlight=False)
        if len(run.snap_problems):
            console.print(
                f"[yellow]! {len(run.snap_problems)} locaties liggen ver van een straat — zie snap_problems.csv[/]"
            )
        for path in run.outputs:
            console.print(f"wrote {path}", highlight=False)
        console.print(f"wrote {run.manifest}", highlight=False)


def coverage_table(run):  # noqa: ANN001, ANN202 - CoverageRun -> rich Table
    """Children within each threshold per set, for the whole region (Dutch labels).

    The mean and 90th-percentile walking times are left out for a layer that is far from complete: they would
    describe the public lists, not Brussels.
    """
    from rich.table import Table

    top = max(run.thresholds)
    region = run.tables["region"]
    table = Table(title=f"Jonge kinderen (0-2) binnen wandelafstand — {run.speed_kmh:g} km/u")
    table.add_column("dienstenset")
    for th in run.thresholds:
        table.add_column(f"≤ {th:g} min", justify="right")
    table.add_column(f"aandeel ≤ {top:g} min", justify="right")
    table.add_column("gem. min", justify="right")
    table.add_column("p90 min", justify="right")
    table.add_column("laag", justify="left")
    thin = False
    for row in region.itertuples(index=False):
        r = row._asdict()
        star = "" if r["pop_0_2_status"] == "observed" else "*"
        cells = [f"{r[f'within_{th:g}_min']:,.0f}{star}" for th in run.thresholds]
        incomplete = "ONVOLLEDIG" in str(r["layer_note"])
        thin |= incomplete
        times = [f"{r['mean_min']:.1f}", "–" if r["p90_min"] != r["p90_min"] else f"{r['p90_min']:.1f}"]
        table.add_row(
            str(r["service_set"]),
            *cells,
            f"{r[f'share_within_{top:g}_min']:.1%}",
            *(["–", "–"] if incomplete else times),
            "onvolledig" if incomplete else "",
        )
    total = region["pop_0_2"].iloc[0]
    table.caption = f"* geschat · totaal {total:,.0f} kinderen 0-2 · © OpenStreetMap contributors (netwerk 2013)"
    if thin:
        table.caption += " · – wandeltijd weggelaten bij een onvolledige laag (de CSV heeft ze)"
    return table
