"""``geoplanner site`` and ``geoplanner compare``: run siting scenarios and compare them."""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``site`` and ``compare`` commands to ``app``."""

    @app.command("site")
    def site_cmd(
        scenario: Path = typer.Argument(..., help="Scenario file (scenarios/*.toml)."),
        out: Path | None = typer.Option(None, "--out", help="Output folder (default outputs/<scenario>/)."),
        network: Path | None = typer.Option(None, "--network", help="Network file (default: the bundle's)."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Solve scenarios anew: read and store no solution."),
    ) -> None:
        """Run one siting scenario: chosen sites, timetable, coverage tables and manifest."""
        from geoplanner.cli import console, stage_printer
        from geoplanner.core import settings
        from geoplanner.core.progress import reporting
        from geoplanner.outputs.files import ensure_output_dir
        from geoplanner.pipeline.siting import build_context, load_scenario, write_scenario_outputs
        from geoplanner.scenario.evaluate import evaluate

        s = load_scenario(scenario)
        out_dir = ensure_output_dir(out or settings.output_dir() / s.name)
        console.print(f"scenario [bold]{s.name}[/] ({s.model}) — netwerk en vraag laden…")
        with reporting(stage_printer(max_depth=0)):
            context = build_context(network=network, cache=not no_cache)
            result = evaluate(s, context)
        paths = write_scenario_outputs(result, out_dir, wijken=context.ranking)
        console.print(_summary_table([result]))
        if len(result.sites):
            console.print(_sites_table(result))
        if len(result.timetable):
            console.print(_timetable(result))
        if result.curve is not None:
            console.print(_curve_table(result.curve, result.teams_needed))
        _notes(result.notes)
        for p in paths:
            console.print(f"wrote {p}")

    @app.command("compare")
    def compare_cmd(
        scenarios: list[Path] = typer.Argument(..., help="Scenario files (the current situation is added first)."),
        out: Path | None = typer.Option(None, "--out", help="Output folder (default outputs/compare/)."),
        network: Path | None = typer.Option(None, "--network", help="Network file (default: the bundle's)."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Solve scenarios anew: read and store no solution."),
    ) -> None:
        """Run scenarios and compare them side by side (coverage, walking times, per LGN)."""
        from geoplanner.cli import console, stage_printer
        from geoplanner.core import settings
        from geoplanner.core.progress import reporting
        from geoplanner.outputs.files import ensure_output_dir
        from geoplanner.pipeline.siting import build_context, load_scenario, write_comparison
        from geoplanner.scenario.evaluate import evaluate
        from geoplanner.scenario.spec import with_baseline

        # Validate every file before the slow part; start from the current situation ('huidig'),
        # as the main job and the report do, so every row reads against the same baseline.
        loaded = with_baseline([load_scenario(p) for p in scenarios])
        out_dir = ensure_output_dir(out or settings.output_dir() / "compare")
        context = build_context(network=network, cache=not no_cache)
        results = []
        for s in loaded:
            console.print(f"scenario [bold]{s.name}[/] ({s.model})…")
            with reporting(stage_printer(max_depth=0)):
                results.append(evaluate(s, context))
        _table, per_lgn, paths = write_comparison(results, out_dir, wijken=context.ranking)
        console.print(_summary_table(results))
        console.print(_lgn_table(per_lgn))
        shown: set[str] = set()
        for r in results:  # scenarios that differ only in their teams share one curve
            key = (r.teams_needed or {}).get("curve_key")
            if r.curve is not None and key not in shown:
                shown.add(key)
                console.print(_curve_table(r.curve, r.teams_needed))
        _notes(tuple(dict.fromkeys(n for r in results for n in r.notes)))
        for p in paths:
            console.print(f"wrote {p}")


def _fmt(x, spec: str) -> str:  # noqa: ANN001 - number, text or None
    if x is None or x != x:
        return "–"
    return spec.format(x)


def comparison_table(rows):  # noqa: ANN001, ANN202 - summary dicts -> rich Table
    """Return the scenarios side by side as a terminal table (the measures of ``COMPARISON_LABELS``)."""
    from rich.markup import escape
    from rich.table import Table

    from geoplanner.scenario.compare import COMPARISON_LABELS

    table = Table(title="Scenario's vergeleken op één schaal: kost in nieuwe sessies, consultaties bediend binnen "
                  "de capaciteit (afgeleid), kinderen binnen wandelafstand (geschat)")  # fmt: skip
    for _, head, _ in COMPARISON_LABELS:
        table.add_column(head, justify="left" if head == "scenario" else "right")
    for row in rows:
        cells = [_fmt(row.get(key), spec) for key, _, spec in COMPARISON_LABELS]
        cells[0] = escape(str(row.get("title") or row.get("scenario")))
        table.add_row(*cells)
    return table


def _summary_table(results):  # noqa: ANN001, ANN202 - ScenarioResults -> rich Table
    return comparison_table([r.summary for r in results])


def _lgn_table(per_lgn):  # noqa: ANN001, ANN202
    from rich.table import Table

    table = Table(title="Per LGN: kinderen binnen bereik en consultaties bediend (aandeel)")
    for col in ("LGN", "naam", "scenario", "binnen bereik", "bediend"):
        table.add_column(col, justify="right" if col in ("LGN", "binnen bereik", "bediend") else "left")
    for r in per_lgn.itertuples(index=False):
        table.add_row(str(r.lgn), str(r.lgn_name), str(r.scenario), _fmt(r.share_within_threshold, "{:.1%}"),
                      _fmt(r.share_consultations_served, "{:.1%}"))  # fmt: skip
    return table


def _sites_table(result):  # noqa: ANN001, ANN202
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="Gekozen locaties, in volgorde van toegevoegde kinderen (snij af bij elk budget)")
    for col in ("#", "id", "naam", "type", "LGN", "+ kinderen", "cumulatief"):
        table.add_column(col, justify="right" if col in ("#", "LGN", "+ kinderen", "cumulatief") else "left")
    for row in result.sites.itertuples():
        table.add_row(str(row.rank), escape(row.id), escape(str(row.name)), escape(str(row.type)), str(row.lgn),
                      f"{row.marginal_children:,.0f}", f"{100 * row.cumulative_share:.1f} %")  # fmt: skip
    return table


def _timetable(result):  # noqa: ANN001, ANN202
    from rich.markup import escape
    from rich.table import Table

    tt = result.timetable
    capacity = "expected_attendance" in tt.columns
    table = Table(
        title="Weekrooster mobiele teams" + (" — verwachte opkomst per sessie (kinderen)" if capacity else "")
    )
    for col in (
        "team",
        "dag",
        "dagdeel",
        "locatie",
        "LGN",
        *(("opkomst", "plaatsen", "bezetting") if capacity else ()),
    ):
        table.add_column(col, justify="right" if col in ("opkomst", "plaatsen", "bezetting") else "left")
    for row in tt.itertuples():
        extra = (f"{row.expected_attendance:.1f}", f"{row.capacity:.0f}", f"{row.utilisation:.0%}") if capacity else ()
        table.add_row(
            str(row.team), row.dag, row.dagdeel, escape(f"{row.venue_name} ({row.venue_id})"), str(row.lgn), *extra
        )
    return table


def _curve_table(curve, needed):  # noqa: ANN001, ANN202 - teams curve -> rich Table
    from rich.table import Table

    title = "Hoeveel teams? Aandeel verwachte consultaties bediend binnen wandelafstand en capaciteit"
    if needed:
        n = needed.get("teams")
        count = f"meer dan {needed['max_teams']}" if n is None else str(n)
        title += (
            f" — {count} teams nodig voor {needed['target_share']:.0%} van de verwachte consultaties in de "
            "prioritaire wijken (afgelezen op deze curve)"
        )
    table = Table(title=title)
    heads = ("teams", "sessies/week", "consultaties", "kinderen", "alle wijken", "prioritair", "kansarmoede-gewogen")
    for head in heads:
        table.add_column(head, justify="right")
    table.add_column("oplossing (gat)")
    for r in curve.itertuples():
        table.add_row(
            str(r.teams), str(r.sessions_per_week), f"{r.consultations_served:,.0f}", f"{r.children_served:,.0f}",
            f"{r.share_consultations_served:.1%}", f"{r.share_priority_served:.1%}",
            f"{r.share_deprivation_served:.1%}", f"{r.status} ({_fmt(r.gap_share, '{:.2%}')})",
        )  # fmt: skip
    return table


def _notes(notes) -> None:  # noqa: ANN001
    from rich.markup import escape

    from geoplanner.cli import console

    for note in notes:
        console.print(f"[yellow]![/] {escape(note)}")
