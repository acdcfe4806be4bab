"""``geoplanner services import|list|geocode`` and ``geoplanner indicators import``: bring your own data."""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register"]

_ACCURACY_STYLE = {
    "given": "green",
    "address_point": "green",
    "interpolated": "cyan",
    "street": "yellow",
    "not_found": "red",
    "invalid": "red",
}


def register(app: typer.Typer) -> None:
    """Add the ``services`` and ``indicators`` command groups to ``app``."""
    services_app = typer.Typer(help="Service sets: import your own list, list the sets, geocode.", no_args_is_help=True)
    indicators_app = typer.Typer(
        help="Sector figures: import your own births / 0-2 / kansarmoede.", no_args_is_help=True
    )

    @services_app.command("import")
    def import_cmd(
        file: Path = typer.Argument(..., help="CSV, XLSX or GPKG with id, name, type and coordinates or an address."),
        set_name: str = typer.Option(..., "--set", help="Name of the stored set (e.g. kg_2025)."),
        replace: bool = typer.Option(False, "--replace", help="Overwrite an existing set of that name."),
        crs: str | None = typer.Option(
            None, "--crs", help="CRS of x/y columns: EPSG:31370 or EPSG:3812 (default: detect)."
        ),
        type_: str | None = typer.Option(None, "--type", help="Type for every row when the file has no type column."),
        out: Path | None = typer.Option(None, "--out", help="Folder for the import report (default outputs/imports)."),
        sheet: str | None = typer.Option(None, "--sheet", help="Sheet to read when a workbook has several."),
    ) -> None:
        """Validate a list of services, geocode addresses offline, store it as a named set."""
        from geoplanner.cli import console
        from geoplanner.core import settings
        from geoplanner.inputs.user_data import import_services
        from geoplanner.outputs.files import ensure_output_dir, output_step, write_csv
        from geoplanner.outputs.manifest import write_manifest

        out_dir = ensure_output_dir((out or settings.output_dir()) / "imports")
        # The stored set, its report and its manifest land together or not at all.
        with output_step(out_dir, manifest=f"manifest_services_{set_name}.json"):
            report = import_services(file, set_name, replace=replace, crs=crs, default_type=type_, sheet=sheet)
            rows_csv = write_csv(out_dir / f"services_{set_name}_report.csv", report.rows)
            manifest = write_manifest(
                out_dir,
                command=f"geoplanner services import {file} --set {set_name}",
                inputs=[file],
                parameters={"set": set_name, "replace": replace, "crs": crs, "type": type_, "sheet": sheet},
                outputs=[report.stored, rows_csv],
                notes=report.warnings,
                name=f"manifest_services_{set_name}.json",
            )
        console.print(_rows_table(report.rows, f"Import '{set_name}' uit {file.name}"))
        for w in report.warnings:
            console.print(f"[yellow]![/] {w}")
        console.print(
            f"{report.n_placed} geplaatst, {report.n_unplaced} niet geplaatst (bewaard zonder coördinaten) "
            f"-> {report.stored}"
        )
        console.print(_accuracy_line(report.by_accuracy))
        console.print(f"wrote {rows_csv}\nwrote {manifest}")

    @services_app.command("list")
    def list_cmd() -> None:
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

    @services_app.command("geocode")
    def geocode_cmd(
        out: Path | None = typer.Option(None, "--out", help="Output folder (default outputs/geocode)."),
    ) -> None:
        """Geocode the bundled service rows that have a street but no coordinates (offline, OSM)."""
        import pandas as pd

        from geoplanner.cli import console
        from geoplanner.core import settings
        from geoplanner.geocode import geocode_frame, load_address_index
        from geoplanner.inputs.bundle import dataset_path
        from geoplanner.inputs.tables import read_table
        from geoplanner.outputs.files import ensure_output_dir, output_step, write_csv
        from geoplanner.outputs.manifest import write_manifest

        keys = ("services_kg", "services_one", "services_hvhk", "services_candidates")
        paths = [dataset_path(k) for k in keys]
        frames = [read_table(p, required=("id", "street", "lat")) for p in paths]
        rows = pd.concat(frames, ignore_index=True)
        todo = rows[rows["lat"].isna() & rows["street"].notna()].set_index("id").sort_index()
        index = load_address_index()
        result = geocode_frame(todo, index=index).reset_index()
        table_rows = pd.DataFrame(
            {
                "id": result["id"],
                "name": todo["street"].to_numpy(),
                "placed": result["accuracy"] != "not_found",
                "accuracy": result["accuracy"],
                "method": result["matched_street"] + " — " + result["method"],
                "uncertainty_m": result["uncertainty_m"],
                "reason": result["reason"],
            }
        )
        out_dir = ensure_output_dir((out or settings.output_dir()) / "geocode")
        with output_step(out_dir):
            target = write_csv(out_dir / "shared_services_geocoded.csv", result)
            manifest = write_manifest(
                out_dir,
                command="geoplanner services geocode",
                inputs=[*paths, dataset_path("osm_pbf")],
                parameters={"index": index.summary()},
                outputs=[target],
                notes=[
                    "uncertainty_m: radius (m) around each point that holds the true address about 9 times in 10"
                    " (hold-out on OSM addresses, bench/bench_geocode.py); street-level radii run to several"
                    " hundred metres; OSM is from 2013"
                ],
            )
        console.print(_rows_table(table_rows, "Geocodering van de rijen zonder coördinaten (OSM 2013, offline)"))
        console.print(f"wrote {target}\nwrote {manifest}")

    @indicators_app.command("import")
    def indicators_import_cmd(
        file: Path = typer.Argument(..., help="CSV or XLSX: sector code + births / pop_0_2 / kansarmoede_index."),
        replace: bool = typer.Option(False, "--replace", help="Overwrite figures imported before."),
        out: Path | None = typer.Option(None, "--out", help="Folder for the manifest (default outputs/imports)."),
    ) -> None:
        """Validate sector figures (2022 or 2025 codes) and store them to replace the estimates."""
        from geoplanner.cli import console
        from geoplanner.core import settings
        from geoplanner.inputs.user_data import TOTALS_TOLERANCE, import_sector_figures, sector_figures_path
        from geoplanner.outputs.files import ensure_output_dir, output_step
        from geoplanner.outputs.manifest import write_manifest

        out_dir = ensure_output_dir((out or settings.output_dir()) / "imports")
        stored = sector_figures_path()
        with output_step(out_dir, manifest="manifest_indicators_import.json"):
            figs = import_sector_figures(file, replace=replace)
            manifest = write_manifest(
                out_dir,
                command=f"geoplanner indicators import {file}",
                inputs=[file],
                parameters={"replace": replace, "totals_tolerance": TOTALS_TOLERANCE, "vintage": figs.vintage},
                outputs=[stored],
                notes=figs.warnings,
                name="manifest_indicators_import.json",
            )
        if figs.vintage == 2022:
            console.print(f"{len(figs.by_sector)} sectoren (codes 2022) met waargenomen {', '.join(figs.columns)}")
        else:
            console.print(
                f"codes 2025: opgeteld naar {len(figs.by_wijk)} wijken via de IBSA-tabel; waargenomen "
                f"{', '.join(figs.columns)}"
            )
        for w in figs.warnings:
            console.print(f"[yellow]![/] {w}")
        console.print(f"bewaard in {stored}: deze cijfers vervangen de schattingen ('observed')")
        console.print(f"wrote {manifest}")

    app.add_typer(services_app, name="services")
    app.add_typer(indicators_app, name="indicators")


#: Rows printed in the terminal; the report CSV always has every row.
MAX_ROWS_SHOWN = 40


def _rows_table(rows, title: str, limit: int = MAX_ROWS_SHOWN):  # noqa: ANN001 - a DataFrame
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
