"""``geoplanner run``: the main job, every step in the order of the data flow."""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``run`` command to ``app``."""

    @app.command("run")
    def run_cmd(
        scenarios: list[Path] | None = typer.Argument(None, help="Scenario files (default: scenarios/*.toml)."),
        out: Path | None = typer.Option(None, "--out", help="Output folder (default outputs/)."),
        config: Path | None = typer.Option(None, "--config", help="TOML with need/score parameters."),
        network: Path | None = typer.Option(None, "--network", help="Walking network file (default: bundle's)."),
        lang: str = typer.Option("nl", "--lang", help="Language of maps and report: nl, fr, en."),
        self_contained: bool = typer.Option(
            False, "--self-contained", help="Maps that work offline (run `geoplanner assets fetch` once)."
        ),
        no_cache: bool = typer.Option(False, "--no-cache", help="Solve scenarios anew: read and store no solution."),
    ) -> None:
        """Run the main job: priority wijken, walking access, siting scenarios, maps and report."""
        from geoplanner.cli import console, stage_printer
        from geoplanner.cli.coverage import coverage_table
        from geoplanner.cli.rank import rank_table
        from geoplanner.cli.siting import comparison_table
        from geoplanner.core import settings
        from geoplanner.core.progress import reporting
        from geoplanner.outputs.files import ensure_output_dir
        from geoplanner.pipeline.load import need_params
        from geoplanner.pipeline.run import run_all

        out_dir = ensure_output_dir(out or settings.output_dir())
        params = need_params(config)
        with reporting(stage_printer()):
            result = run_all(
                out_dir,
                scenarios=scenarios or None,
                params=params,
                network=network,
                lang=lang,
                self_contained=self_contained,
                cache=not no_cache,
                config_path=config,
            )
        console.print(rank_table(result.rank.ranking, params.top_n))
        console.print(coverage_table(result.coverage))
        console.print(comparison_table(result.comparison.to_dict("records")))
        for note in result.notes:
            console.print(f"[yellow]![/] {note}")
        console.print(f"wrote {len(result.outputs)} files under {out_dir}; open {out_dir / 'report.html'}")
        console.print(f"{result.timings['total']:.1f} s; seconds per stage in {out_dir / 'manifest_run.json'}")
        console.print(f"tables for a spreadsheet: {out_dir / 'geoplanner.xlsx'}; styled layers for QGIS: *.gpkg")
