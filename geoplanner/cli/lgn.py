"""``geoplanner lgn``: a page per local network (LGN) for its coordinator, and their index.

The command is a module-level function (tests call it), registered on the app by :func:`register`. It parses
the options, refuses an unknown network or option before the slow part, evaluates the scenario files
(:func:`geoplanner.pipeline.siting.evaluate_files`) and hands the results to :mod:`geoplanner.pipeline.lgn`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geoplanner.cli.maps import Lang, Network, NoCache, SelfContained

__all__ = ["register", "lgn_cmd"]


def lgn_cmd(
    numbers: Annotated[list[str] | None, typer.Argument(help="LGN numbers (1 to 8); none: all 8.")] = None,
    scenario: Annotated[
        list[Path] | None,
        typer.Option("--scenario", "-s", help="A scenario file (repeat it); default: every scenarios/*.toml."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output root (default outputs/); pages go to lgn/.")] = None,
    lang: Lang = "nl",
    self_contained: SelfContained = False,
    network: Network = None,
    no_cache: NoCache = False,
) -> None:
    """Write a page per local network (LGN): map, figures per scenario, whom we still miss, sessions, caveats."""
    from geoplanner.cli import console
    from geoplanner.pipeline.checks import check_output_options
    from geoplanner.pipeline.lgn import check_lgn_numbers, make_lgn_pages
    from geoplanner.pipeline.run import scenario_files
    from geoplanner.pipeline.siting import evaluate_files

    wanted = check_lgn_numbers(numbers)
    check_output_options(out, lang=lang, self_contained=self_contained)
    paths = list(scenario) if scenario else scenario_files()
    console.print("netwerk, vraag en scenario's laden…")
    context, results = evaluate_files(paths, network=network, cache=not no_cache)
    run = make_lgn_pages(results, context, out, numbers=wanted, lang=lang, self_contained=self_contained,
                         scenario_paths=paths)  # fmt: skip
    for note in run.notes:
        console.print(f"[yellow]![/] {note}", highlight=False)
    for path in run.outputs:
        console.print(f"wrote {path}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``lgn`` command to ``app``."""
    app.command("lgn")(lgn_cmd)
