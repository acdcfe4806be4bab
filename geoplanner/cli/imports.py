"""``geoplanner services import|list|geocode`` and ``geoplanner indicators import``: bring your own data.

The commands parse their options and print; :mod:`geoplanner.pipeline.imports` does the work. Library
imports stay inside the commands so ``geoplanner --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = [
    "register",
    "services_import",
    "services_list",
    "services_geocode",
    "indicators_import",
    "MAX_ROWS_SHOWN",
]

#: Rows printed in the terminal; the report CSV always has every row.
MAX_ROWS_SHOWN = 40

_ACCURACY_STYLE = {
    "given": "green",
    "address_point": "green",
    "interpolated": "cyan",
    "street": "yellow",
    "not_found": "red",
    "invalid": "red",
}

# Options shared by several commands.
ImportsOut = Annotated[
    Path | None, typer.Option("--out", help="Folder for the import report and manifest (default outputs/imports).")
]
Replace = Annotated[
    bool, typer.Option("--replace", help="Overwrite what an earlier import stored (that set, or the figures).")
]


def services_import(
    file: Annotated[Path, typer.Argument(help="CSV, XLSX or GPKG with id, name, type and coordinates or an address.")],
    set_name: Annotated[str, typer.Option("--set", help="Name of the stored set (e.g. kg_2025).")],
    replace: Replace = False,
    crs: Annotated[
        str | None, typer.Option("--crs", help="CRS of x/y columns: EPSG:31370 or EPSG:3812 (default: detect).")
    ] = None,
    type_: Annotated[
        str | None, typer.Option("--type", help="Type for every row when the file has no type column.")
    ] = None,
    out: ImportsOut = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="Sheet to read when a workbook has several.")] = None,
) -> None:
    """Validate a list of services, geocode addresses offline, store it as a named set."""
    from geoplanner.cli import console
    from geoplanner.pipeline.imports import run_services_import

    run = run_services_import(file, set_name, out=out, replace=replace, crs=crs, default_type=type_, sheet=sheet)
    report = run.report
    console.print(_rows_table(report.rows, f"Import '{set_name}' uit {file.name}"))
    for w in report.warnings:
        console.print(f"[yellow]![/] {w}")
    console.print(
        f"{report.n_placed} geplaatst, {report.n_unplaced} niet geplaatst (bewaard zonder coördinaten) "
        f"-> {report.stored}"
    )
    console.print(_accuracy_line(report.by_accuracy))
    console.print(f"wrote {run.report_csv}\nwrote {run.manifest}")


def services_list() -> None:
    """List the built-in and imported service sets with their completeness."""
    from rich.table import Table

    from geoplanner.cli import console
    from geoplanner.inputs.services import load_services, service_set_names

    table = Table(title="Voorzieningen (service sets)")
    for col in ("naam", "op de kaart", "zonder coördinaten", "verwacht", "opmerking"):
        table.add_column(col)
    for name in service_set_names():
        s = load_services(name)
        table.add_row(
            name,
            str(len(s.points)),
            str(len(s.unlocated)),
            "" if s.expected_count is None else f"~{s.expected_count}",
            s.completeness_note,
        )
    console.print(table)


def services_geocode(
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default outputs/geocode).")] = None,
) -> None:
    """Geocode the bundled service rows that have a street but no coordinates (offline, OSM)."""
    import pandas as pd

    from geoplanner.cli import console
    from geoplanner.pipeline.imports import run_services_geocode

    run = run_services_geocode(out)
    result = run.result
    table_rows = pd.DataFrame(
        {
            "id": result["id"],
            "name": run.todo["street"].to_numpy(),
            "placed": result["accuracy"] != "not_found",
            "accuracy": result["accuracy"],
            "method": result["matched_street"] + " — " + result["method"],
            "uncertainty_m": result["uncertainty_m"],
            "reason": result["reason"],
        }
    )
    console.print(_rows_table(table_rows, "Geocodering van de rijen zonder coördinaten (OSM 2013, offline)"))
    console.print(f"wrote {run.target}\nwrote {run.manifest}")


def indicators_import(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX: sector code + births / pop_0_2 / kansarmoede_index.")],
    replace: Replace = False,
    out: ImportsOut = None,
) -> None:
    """Validate sector figures (2022 or 2025 codes) and store them to replace the estimates."""
    from geoplanner.cli import console
    from geoplanner.pipeline.imports import run_indicators_import

    run = run_indicators_import(file, out=out, replace=replace)
    figs = run.figures
    if figs.vintage == 2022:
        console.print(f"{len(figs.by_sector)} sectoren (codes 2022) met waargenomen {', '.join(figs.columns)}")
    else:
        console.print(
            f"codes 2025: opgeteld naar {len(figs.by_wijk)} wijken via de IBSA-tabel; waargenomen "
            f"{', '.join(figs.columns)}"
        )
    for w in figs.warnings:
        console.print(f"[yellow]![/] {w}")
    console.print(f"bewaard in {run.stored}: deze cijfers vervangen de schattingen ('observed')")
    console.print(f"wrote {run.manifest}")


def register(app: typer.Typer) -> None:
    """Add the ``services`` and ``indicators`` command groups to ``app``."""
    services = typer.Typer(help="Service sets: import your own list, list the sets, geocode.", no_args_is_help=True)
    services.command("import")(services_import)
    services.command("list")(services_list)
    services.command("geocode")(services_geocode)
    indicators = typer.Typer(help="Sector figures: import your own births / 0-2 / kansarmoede.", no_args_is_help=True)
    indicators.command("import")(indicators_import)
    app.add_typer(services, name="services")
    app.add_typer(indicators, name="indicators")


def _rows_table(rows, title: str, limit: int = MAX_ROWS_SHOWN):  # noqa: ANN001, ANN202 - a DataFrame in, a rich Table out
    """Render import/geocode rows as a rich table: placed first, then the rows not placed.

    ``± m`` is the uncertainty radius of a geocoded point (empty for coordinates given in the file).
    With more than ``limit`` rows only the rows not placed or with a remark are shown, not placed
    first, at most ``limit``; the caption says how many are left out (all are in the report CSV).
    """
    import pandas as pd
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title)
    for col in ("id", "naam", "geplaatst", "nauwkeurigheid", "± m", "methode", "reden / opmerking"):
        table.add_column(col, overflow="fold", justify="right" if col == "± m" else "left")
    ordered = rows.sort_values(["placed", "id"], ascending=[False, True], kind="stable")
    if len(ordered) > limit:
        remark = ~ordered["placed"] | (ordered["reason"].fillna("").astype(str) != "")
        ordered = ordered[remark].sort_values(["placed", "id"], kind="stable").head(limit)
        table.caption = (
            f"{len(ordered)} van {len(rows):,} rijen getoond ({int((~rows['placed']).sum()):,} niet geplaatst); "
            "alle rijen staan in het rapport (CSV)"
        )
    for r in ordered.itertuples():
        style = _ACCURACY_STYLE.get(r.accuracy, "")
        table.add_row(
            escape(str(r.id)),
            escape(str(r.name)),
            "ja" if r.placed else "[red]nee[/]",
            f"[{style}]{r.accuracy}[/]" if style else str(r.accuracy),
            "" if pd.isna(getattr(r, "uncertainty_m", float("nan"))) else f"{r.uncertainty_m:.0f}",
            escape(str(r.method)),
            escape(str(r.reason)),
        )
    return table


def _accuracy_line(by_accuracy) -> str:  # noqa: ANN001 - a DataFrame
    """One line: rows per accuracy class with the median (and largest) uncertainty radius."""
    parts = []
    for r in by_accuracy.itertuples():
        text = f"{r.accuracy} {r.rows}"
        if r.median_uncertainty_m == r.median_uncertainty_m:  # not NaN
            text += f" (mediaan ± {r.median_uncertainty_m:.0f} m, max ± {r.max_uncertainty_m:.0f} m)"
        parts.append(text)
    return "nauwkeurigheid: " + ", ".join(parts)
