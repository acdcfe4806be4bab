"""``geoplanner map``, ``geoplanner report`` and ``geoplanner assets``: maps and reports people open."""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register"]

_LANG_HELP = "Language of labels: nl (default), fr or en."
_OFFLINE_HELP = "Write self-contained HTML (scripts inlined; works without internet). Needs `geoplanner assets fetch`."


def register(app: typer.Typer) -> None:
    """Add the ``map``, ``report`` and ``assets`` commands to ``app``."""

    @app.command("map")
    def map_cmd(
        scenarios: list[Path] | None = typer.Argument(None, help="Scenario files; none: only the current gap."),
        out: Path | None = typer.Option(None, "--out", help="Output root (default outputs/); maps go to maps/."),
        lang: str = typer.Option("nl", "--lang", help=_LANG_HELP),
        self_contained: bool = typer.Option(False, "--self-contained", help=_OFFLINE_HELP),
        network: Path | None = typer.Option(None, "--network", help="Network file (default: the bundle's)."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Solve scenarios anew: read and store no solution."),
    ) -> None:
        """Write interactive (HTML) and printable (PNG) maps of the coverage gap and of each scenario."""
        from geoplanner.cli import console
        from geoplanner.outputs.files import ensure_output_dir
        from geoplanner.outputs.report import make_maps

        if out is not None:
            ensure_output_dir(out)
        console.print("netwerk, vraag en scenario's laden…")
        context = _uncached_context(scenarios or [], network) if no_cache else None
        run = make_maps(
            scenarios or [], out, lang=lang, self_contained=self_contained, network=network, context=context
        )
        _print_run(run)

    @app.command("report")
    def report_cmd(
        scenarios: list[Path] = typer.Argument(..., help="Scenario files to compare (scenarios/*.toml)."),
        out: Path | None = typer.Option(None, "--out", help="Output root (default outputs/)."),
        lang: str = typer.Option("nl", "--lang", help=_LANG_HELP),
        self_contained: bool = typer.Option(False, "--self-contained", help=_OFFLINE_HELP),
        network: Path | None = typer.Option(None, "--network", help="Network file (default: the bundle's)."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Solve scenarios anew: read and store no solution."),
    ) -> None:
        """Write one HTML report: priority wijken, coverage per LGN, scenario comparison, maps and charts."""
        from geoplanner.cli import console
        from geoplanner.outputs.files import ensure_output_dir
        from geoplanner.outputs.report import make_report

        if out is not None:
            ensure_output_dir(out)
        console.print("netwerk, vraag en scenario's laden…")
        context = _uncached_context(scenarios, network) if no_cache else None
        run = make_report(scenarios, out, lang=lang, self_contained=self_contained, network=network, context=context)
        _print_run(run)

    assets_app = typer.Typer(help="Offline copies of the map scripts (Leaflet) for self-contained maps.")
    app.add_typer(assets_app, name="assets")

    @assets_app.command("fetch")
    def assets_fetch(force: bool = typer.Option(False, "--force", help="Download again even if cached.")) -> None:
        """Download the pinned Leaflet files from the npm registry into the cache (sha256 checked)."""
        from geoplanner.cli import console
        from geoplanner.outputs.maps import assets

        for path in assets.fetch_assets(force=force):
            console.print(f"ok {path}")

    @assets_app.command("status")
    def assets_status() -> None:
        """List the pinned asset packages and whether each file is cached."""
        from geoplanner.cli import console
        from geoplanner.outputs.maps import assets

        missing = set(assets.missing_assets())
        for pkg in assets.PACKAGES:
            for f in pkg.files:
                key = f"{pkg.name}@{pkg.version}/{f}"
                console.print(f"{'[red]missing[/]' if key in missing else '[green]ok[/]'} {key}")
        if missing:
            console.print(f"run `{assets.FETCH_COMMAND}` to fill {assets.assets_dir()}")


def _uncached_context(scenarios: list[Path], network: Path | None):  # noqa: ANN202 - SitingContext
    """Validate the scenario files (before the slow part), then build a context that solves every time."""
    from geoplanner.pipeline.siting import build_context, load_scenario

    for p in scenarios:
        load_scenario(p)
    return build_context(network=network, cache=False)


def _print_run(run) -> None:  # noqa: ANN001 - MapsRun
    from geoplanner.cli import console

    for note in run.notes:
        console.print(f"[yellow]![/] {note}", highlight=False)
    for path in run.outputs:
        console.print(f"wrote {path}", highlight=False)
