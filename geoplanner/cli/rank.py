"""``geoplanner rank``: need per sector, the ranking of the wijken, the priority wijken and how sure it is."""

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

        from geoplanner.cli import console
        from geoplanner.core import settings
        from geoplanner.core.errors import ConfigError
        from geoplanner.outputs.files import ensure_output_dir
        from geoplanner.pipeline import run_rank
        from geoplanner.pipeline.load import need_params

        params = need_params(config)
        out_dir = ensure_output_dir(out or settings.output_dir())
        try:
            if top is not None:
                params = replace(params, top_n=top)
            result = run_rank(out_dir, params=params, config_path=config)
        except ConfigError as exc:  # the number of priority wijken came from --top, not from the file
            if top is None or exc.column != "top_n":
                raise
            raise ConfigError(exc.message, column="--top", hint=exc.hint) from None
        console.print(rank_table(result.ranking, show or params.top_n, params.top_n))
        for line in _summary(result):
            console.print(line)
        for note in result.notes:
            console.print(f"[yellow]![/] {note}")
        for path in result.outputs:
            console.print(f"wrote {path}")


def _status(value: str) -> str:
    from geoplanner.core.i18n import label

    return label(value) if value in ("observed", "derived", "estimated", "mixed") else str(value)


def rank_table(ranking, n: int, top_n: int | None = None):  # noqa: ANN001 - a GeoDataFrame
    """Render the first ``n`` ranked wijken as a rich table (Dutch labels); ``top_n`` names the p_top column."""
    from rich.table import Table

    from geoplanner.core.i18n import label

    top_n = n if top_n is None else top_n
    table = Table(title=f"Prioritaire wijken (top {n}) — geboorten afgeleid of geschat tenzij 'waargenomen'")
    has_p = "p_top" in ranking.columns
    columns = [
        ("rang", "right"),
        ("wijk", "left"),
        ("gemeente(n)", "left"),
        ("LGN", "right"),
        ("geboorten", "right"),
        ("status", "left"),
        ("‰", "right"),
        ("kansarmoede (z)", "right"),
        ("score", "right"),
        ("bijdrage: ‰ / aantal / kansarmoede", "right"),
    ]
    if has_p:
        columns += [(f"p_top{top_n}", "right"), ("rang 5–95 %", "right"), ("zekerheid", "left")]
    for col, justify in columns:
        table.add_column(col, justify=justify)
    for row in ranking.head(n).itertuples():
        if row.rank != row.rank:  # NaN: not ranked
            break
        cells = [
            f"{int(row.rank)}",
            f"{row.name_nl} ({row.mdrc})",
            row.commune_names,
            f"{int(row.lgn)}",
            f"{row.births:.0f}",
            _status(row.births_status),
            f"{row.birth_rate_permille:.1f}",
            f"{row.deprivation:+.2f}",
            f"{row.score:+.2f}",
            f"{row.contrib_birth_rate:+.2f} / {row.contrib_births:+.2f} / {row.contrib_deprivation:+.2f}",
        ]
        if has_p:
            cells += [
                f"{row.p_top:.3f}",
                f"{int(row.rank_p05)}–{int(row.rank_p95)}",
                label(f"stability_{row.stability}") + (f" ({label('near_miss')})" if row.near_miss else ""),
            ]
        table.add_row(*cells)
    return table


def _summary(result) -> list[str]:  # noqa: ANN001 - a RankRun
    """Lines under the table: the status mix of the selection and how deprivation was combined."""
    from geoplanner.need import status_mix

    params, ranking, sectors = result.params, result.ranking, result.sectors
    inside = sectors[sectors["mdrc"].isin(ranking.loc[ranking["priority"], "mdrc"])]

    def mix(column: str) -> str:
        text = status_mix(inside[column], inside[f"{column}_status"])
        for code in ("observed", "derived", "estimated"):
            text = text.replace(code, _status(code))
        return text

    lines = [
        f"Status van de cijfers in de top {params.top_n}: geboorten {mix('births')}; 0-2-jarigen {mix('pop_0_2')}; "
        f"inwoners {mix('pop_total')} (1/1/2019)."
    ]
    weights = ", ".join(f"{k} {v:g}" for k, v in params.deprivation_weights.items() if v > 0)
    method = f"Kansarmoede: methode '{params.deprivation_method}'"
    if params.deprivation_method == "weights":
        method += f" (gewichten {weights})"
    pca = result.need.pca
    if pca is not None:
        pw = ", ".join(f"{k} {v:.2f}" for k, v in pca.weights.items())
        method += f"; PCA-gewichten {pw} (eerste component verklaart {pca.explained_variance_ratio[0]:.0%})"
    lines.append(method + "; BIMD 2011 per sector, naar de wijk gewogen met de inwoners van 2019.")
    return lines
