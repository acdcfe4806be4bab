"""``geoplanner map``, ``geoplanner report`` and ``geoplanner assets``: maps and reports people open.

The commands are module-level functions (tests call them), registered on the app by :func:`register`.
They parse options, evaluate the scenario files (:func:`geoplanner.pipeline.siting.evaluate_files`) and
hand the results to :mod:`geoplanner.pipeline.maps`; the library is imported when a command runs, so
``geoplanner --help`` and a refused option stay fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["register", "map_cmd", "report_cmd", "assets_fetch", "assets_status"]

_OFFLINE_HELP = "Write self-contained HTML (scripts inlined; works without internet). Needs `geoplanner assets fetch`."

# The options the map and report commands share, declared once.
Lang = Annotated[str, typer.Option("--lang", help="Language of labels: nl (default), fr or en.")]
SelfContained = Annotated[bool, typer.Option("--self-contained", help=_OFFLINE_HELP)]
Network = Annotated[Path | None, typer.Option("--network", help="Network file (default: the bundle's).")]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Solve scenarios anew: read and store no solution.")]


def map_cmd(
    scenarios: Annotated[list[Path] | None, typer.Argument(help="Scenario files; none: only the current gap.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output root (default outputs/); maps go to maps/.")] = None,
    lang: Lang = "nl",
    self_contained: SelfContained = False,
    network: Network = None,
    no_cache: NoCache = False,
) -> None:
    """Write interactive (HTML) and printable (PNG) maps of the coverage gap and of each scenario."""
    from geoplanner.pipeline.maps import make_maps

    paths = scenarios or []
    context, results = _evaluate(paths, out, lang, self_contained, network, no_cache)
    _print_run(make_maps(results, context, out, lang=lang, self_contained=self_contained, scenario_paths=paths))


def report_cmd(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario files to compare (scenarios/*.toml).")],
    out: Annotated[Path | None, typer.Option("--out", help="Output root (default outputs/).")] = None,
    lang: Lang = "nl",
    self_contained: SelfContained = False,
    network: Network = None,
    no_cache: NoCache = False,
) -> None:
    """Write one HTML report: priority wijken, coverage per LGN, scenario comparison, maps and charts."""
    from geoplanner.pipeline.maps import make_report

    context, results = _evaluate(scenarios, out, lang, self_contained, network, no_cache)
    _print_run(make_report(results, context, out, lang=lang, self_contained=self_contained, scenario_paths=scenarios))


def assets_fetch(
    force: Annotated[bool, typer.Option("--force", help="Download again even if cached.")] = False,
) -> None:
    """Download the pinned Leaflet files from the npm registry into the cache (sha256 checked)."""
    from geoplanner.cli import console
    from geoplanner.pipeline.assets import fetch_assets

    for path in fetch_assets(force=force):
        console.print(f"ok {path}")


def assets_status() -> None:
    """List the pinned asset packages and whether each file is cached."""
    from geoplanner.cli import console
    from geoplanner.outputs.maps.assets import FETCH_COMMAND, PACKAGES, missing_assets
    from geoplanner.pipeline.assets import assets_dir

    folder = assets_dir()
    missing = set(missing_assets(folder))
    for pkg in PACKAGES:
        for f in pkg.files:
            key = f"{pkg.name}@{pkg.version}/{f}"
            console.print(f"{'[red]missing[/]' if key in missing else '[green]ok[/]'} {key}")
    if missing:
        console.print(f"run `{FETCH_COMMAND}` to fill {folder}")


def register(app: typer.Typer) -> None:
    """Add the ``map``, ``report`` and ``assets`` commands to ``app``."""
    app.command("map")(map_cmd)
    app.command("report")(report_cmd)
    assets_app = typer.Typer(help="Offline copies of the map scripts (Leaflet) for self-contained maps.")
    app.add_typer(assets_app, name="assets")
    assets_app.command("fetch")(assets_fetch)
    assets_app.command("status")(assets_status)


def _evaluate(
    paths: list[Path], out: Path | None, lang: str, self_contained: bool, network: Path | None, no_cache: bool
) -> tuple[Any, list[Any]]:
    """Check the options before the slow part, then evaluate the scenario files (the current situation first)."""
    from geoplanner.cli import console
    from geoplanner.pipeline.checks import check_output_options
    from geoplanner.pipeline.siting import evaluate_files

    check_output_options(out, lang=lang, self_contained=self_contained)
    console.print("netwerk, vraag en scenario's laden…")
    return evaluate_files(paths, network=network, cache=not no_cache)


def _print_run(run: Any) -> None:
    """Print the run's notes and the files it wrote."""
    from geoplanner.cli import console

    for note in run.notes:
        console.print(f"[yellow]![/] {note}", highlight=False)
    for path in run.outputs:
        console.print(f"wrote {path}", highlight=False)
