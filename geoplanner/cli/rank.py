"""``geoplanner rank``: estimate need, rank the wijken, select the priority wijken."""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``rank`` command to ``app``."""

    @app.command("rank")
    def rank_cmd(
        top: int | None = typer.Option(None, "--top", help="Number of priority wijken (default 21)."),
        config: Path | None = typer.Option(None, "--config", help="TOML with need/score parameters."),
        out: Path | None = typer.Option(None, "--out", help="Output folder (default outputs/)."),
        show: int = typer.Option(0, "--show", help="Rows to print (default: the priority wijken)."),
    ) -> None:
        """Rank the residential wijken by births, birth rate and deprivation; write the 21 priority wijken."""
        from dataclasses import replace

        from geoplanner import settings
        from geoplanner._io import ensure_output_dir
        from geoplanner.cli import console
        from geoplanner.need import NeedParams
        from geoplanner.pipeline import run_rank

        params = NeedParams.from_toml(config) if config else NeedParams()
        if top is not None:
            params = replace(params, top_n=top)
        out_dir = ensure_output_dir(out or settings.output_dir())
        result = run_rank(out_dir, params=params, config_path=config)
        console.print(_table(result.ranking, show or params.top_n))
        for note in result.notes:
            console.print(f"[yellow]![/] {note}")
        for path in result.outputs:
            console.print(f"wrote {path}")


def _table(ranking, n: int):  # noqa: ANN001 - a GeoDataFrame
    """Render the first ``n`` ranked wijken as a rich table (Dutch labels)."""
    from rich.table import Table

    table = Table(title=f"Prioritaire wijken (top {n}) — geboorten zijn schattingen tenzij 'observed'")
    for col, justify in (
        ("rang", "right"),
        ("wijk", "left"),
        ("gemeente(n)", "left"),
        ("LGN", "right"),
        ("geboorten", "right"),
        ("‰", "right"),
        ("kansarmoede (z)", "right"),
        ("score", "right"),
        ("bijdrage: ‰ / aantal / kansarmoede", "right"),
    ):
        table.add_column(col, justify=justify)
    for row in ranking.head(n).itertuples():
        if row.rank != row.rank:  # NaN: not ranked
            break
        table.add_row(
            f"{int(row.rank)}",
            f"{row.name_nl} ({row.mdrc})",
            row.commune_names,
            f"{int(row.lgn)}",
            f"{row.births:.0f}" + ("" if row.births_status == "observed" else "*"),
            f"{row.birth_rate_permille:.1f}",
            f"{row.deprivation:+.2f}",
            f"{row.score:+.2f}",
            f"{row.contrib_birth_rate:+.2f} / {row.contrib_births:+.2f} / {row.contrib_deprivation:+.2f}",
        )
    table.caption = "* geschat"
    return table
