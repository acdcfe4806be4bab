"""``geoplanner run``: the main job, every step the data allows, in the order of the data flow."""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``run`` command to ``app``."""

    @app.command("run")
    def run_cmd(
        out: Path | None = typer.Option(None, "--out", help="Output folder (default outputs/)."),
    ) -> None:
        """Run the main job: need and priority wijken (then coverage, scenarios and maps)."""
        from geoplanner import settings
        from geoplanner.cli import console
        from geoplanner.cli.rank import _table
        from geoplanner.pipeline import run_rank

        out_dir = out or settings.output_dir()
        ranked = run_rank(out_dir)
        console.print(_table(ranked.ranking, ranked.params.top_n))
        for note in ranked.notes:
            console.print(f"[yellow]![/] {note}")
        for path in ranked.outputs:
            console.print(f"wrote {path}")
