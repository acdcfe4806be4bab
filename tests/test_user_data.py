"""Importing users' service lists and sector figures: placement, validation, malformed files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geoplanner.core.errors import DataError
from geoplanner.inputs.sector_figures import load_sector_figures
from geoplanner.pipeline.imports import address_index, import_sector_figures, import_services, preview_services

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def index(data_dir: Path):
    return address_index(data_dir)


@pytest.fixture()
def work_dir(tmp_path: Path, data_dir: Path) -> Path:
    """A data folder that reads the real bundle but stores user files in tmp."""
    work = tmp_path / "data"
    work.mkdir()
    for child in data_dir.iterdir():
        if child.name not in ("services", "indicators"):
            (work / child.name).symlink_to(child)
    for folder in ("services", "indicators"):
        (work / folder).mkdir()
        for f in (data_dir / folder).iterdir():
            if f.is_file():
                (work / folder / f.name).symlink_to(f)
    return work


def test_mixed_file_every_row_accounted_for(work_dir: Path, index) -> None:
    from geoplanner.inputs.services import load_services

    rep = import_services(FIXTURES / "services_mixed.csv", "mixed", data_dir=work_dir, index=index)
    rows = rep.rows.set_index("id")
    assert len(rows) == 9 and rep.n_placed == 5 and rep.n_unplaced == 4
    assert rows.loc["U-01", "accuracy"] == "given"
    assert "swapped" in rows.loc["U-02", "method"] and any("U-02" in w for w in rep.warnings)
    assert rows.loc["U-03", "accuracy"] == "street"
    assert rows.loc["U-04", "accuracy"] == "address_point"
    assert "outside the Brussels region" in rows.loc["U-05", "reason"]
    assert "street not found" in rows.loc["U-06", "reason"]
    assert rows.loc["U-07", "reason"] == "no coordinates and no street to geocode"
    assert "not a number" in rows.loc["U-08", "reason"]
    assert rows.loc["U-09", "accuracy"] == "street"
    # The stored set is what the loader reads: 5 points, 4 rows kept without coordinates.
    stored = pd.read_csv(rep.stored, dtype=str)
    assert list(stored.columns)[:4] == ["id", "name", "type", "operator"] and len(stored) == 9
    s = load_services("mixed", data_dir=work_dir)
    assert sorted(s.points["id"]) == ["U-01", "U-02", "U-03", "U-04", "U-09"]
    assert sorted(s.unlocated["id"]) == ["U-05", "U-06", "U-07", "U-08"]
    assert s.unlocated["reason"].str.startswith("not placed:").all()
    pts = s.points.set_index("id")
    assert bool(pts.loc["U-03", "approximate"]) and not bool(pts.loc["U-01", "approximate"])
    assert pts.loc["U-02", "commune_nis"] == "21013"
    # Swapped pair fixed to the true point (ONE-01's coordinates).
    assert float(pts.loc["U-02", "lat"]) == pytest.approx(50.828408)


def test_an_upload_is_imported_like_the_cli_and_nothing_is_stored(work_dir: Path, index) -> None:
    """``preview_services`` (the serve app's upload): the same set and report as ``services import``, no file left."""
    from geoplanner.inputs.services import load_services

    before = sorted(p.name for p in work_dir.rglob("*"))
    data = (FIXTURES / "services_mixed.csv").read_bytes()
    ss, rep = preview_services(data, ".csv", "sessie-1", shown_as="mijn lijst.csv", data_dir=work_dir, index=index)
    assert sorted(p.name for p in work_dir.rglob("*")) == before  # nothing stored
    stored = import_services(FIXTURES / "services_mixed.csv", "mixed", data_dir=work_dir, index=index)
    pd.testing.assert_frame_equal(rep.rows, stored.rows)
    cli = load_services("mixed", data_dir=work_dir)
    assert ss.points["id"].tolist() == cli.points["id"].tolist() and ss.unlocated["id"].tolist() == [
        "U-05",
        "U-06",
        "U-07",
        "U-08",
    ]
    assert (ss.points.geometry.distance(cli.points.geometry) < 1e-6).all()
    assert set(ss.points["source"].dropna()) <= {"user file mijn lijst.csv"} and ss.sources == []
    with pytest.raises(DataError) as info:  # an error names the user's file, never the temporary one
        preview_services(data, ".csv", "sessie-1", shown_as="mijn lijst.csv", data_dir=work_dir, max_rows=5)
    assert str(info.value).startswith("mijn lijst.csv: 9 rows; at most 5")
    with pytest.raises(DataError, match="unsupported file type"):
        preview_services(data, ".sh", "sessie-1", data_dir=work_dir)
    with pytest.raises(DataError) as info:
        preview_services(b"id;name\n1;x\n", ".csv", "sessie-1", shown_as="kapot.csv", data_dir=work_dir)
    assert str(info.value).startswith("kapot.csv") and "missing column" in str(info.value)


def test_refuses_to_overwrite(work_dir: Path, index) -> None:
    import_services(FIXTURES / "services_mixed.csv", "again", data_dir=work_dir, index=index)
    with pytest.raises(DataError, match="exists already"):
        import_services(FIXTURES / "services_mixed.csv", "again", data_dir=work_dir, index=index)
    rep = import_services(FIXTURES / "services_mixed.csv", "again", data_dir=work_dir, index=index, replace=True)
    assert rep.n_placed == 5


def test_lambert_semicolon(work_dir: Path) -> None:
    rep = import_services(FIXTURES / "services_lambert_semicolon.csv", "lambert", data_dir=work_dir)
    rows = rep.rows.set_index("id")
    assert rows["placed"].all()
    assert "Lambert 72" in rows.loc["L-01", "method"] and "Lambert 2008" in rows.loc["L-02", "method"]
    assert "swapped" in rows.loc["L-03", "method"]
    stored = pd.read_csv(rep.stored).set_index("id")
    # L-01 and L-03 are the same point written both ways round (decimal comma in L-01).
    assert stored.loc["L-01", "lat"] == pytest.approx(stored.loc["L-03", "lat"], abs=1e-5)
    forced = import_services(
        FIXTURES / "services_lambert_semicolon.csv", "forced", data_dir=work_dir, crs="EPSG:3812"
    ).rows.set_index("id")
    assert forced.loc["L-02", "placed"] and not forced.loc["L-01", "placed"]
    assert "not the declared EPSG:3812" in forced.loc["L-01", "reason"]


def test_cp1252_is_read_with_a_warning(work_dir: Path, index) -> None:
    rep = import_services(FIXTURES / "services_cp1252.csv", "latin", data_dir=work_dir, index=index)
    assert any("Windows-1252" in w for w in rep.warnings)
    assert "Consultation Réforme" in set(rep.rows["name"])
    assert rep.rows["placed"].all()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "cp1252"])
def test_text_encodings_excel_writes(work_dir: Path, tmp_path: Path, index, encoding: str) -> None:
    """Issue 21, item 4: Excel's 'Unicode text' (UTF-16 with BOM, tab-separated) and the other encodings it writes.

    Before the fix a UTF-16 file was read as Windows-1252, full of NUL characters: refused with a wrong
    reason ("1 fields where the header has 6"), or ``_csv.Error`` escaped where the csv module rejects NUL.
    """
    import codecs

    text = (FIXTURES / "services_cp1252.csv").read_bytes().decode("cp1252").replace(";", "\t")
    text = text.replace("\r\n", "\n").replace("\n", "\r\n")  # Excel ends lines with CR LF
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(encoding, b"")
    f = tmp_path / "unicode_text.txt"
    f.write_bytes(bom + text.encode(encoding))
    rep = import_services(f, "enc", data_dir=work_dir, index=index)
    assert set(rep.rows["name"]) == {"Consultation Réforme", "Chée de Wavre"}
    assert rep.rows["placed"].all()
    assert any("Windows-1252" in w for w in rep.warnings) == (encoding == "cp1252")
    stored = pd.read_csv(rep.stored, dtype=str)
    assert stored["name"].str.contains("é").all()


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("services_pipe.csv", "delimiter"),
        ("services_missing_type.csv", "missing column"),
        ("services_duplicate_ids.csv", "duplicate id 'D-01'"),
        ("services_undecodable.csv", "cannot decode"),
    ],
)
def test_malformed_files(work_dir: Path, fixture: str, message: str) -> None:
    with pytest.raises(DataError, match=message) as err:
        import_services(FIXTURES / fixture, "bad", data_dir=work_dir)
    assert fixture in err.value.one_line()
    assert not (work_dir / "services" / "user" / "bad.csv").exists()


def test_default_type_fills_missing_column(work_dir: Path) -> None:
    rep = import_services(FIXTURES / "services_missing_type.csv", "typed", data_dir=work_dir, default_type="kg")
    assert rep.n_placed == 1


def test_set_name_checks(work_dir: Path) -> None:
    with pytest.raises(DataError, match="built-in"):
        import_services(FIXTURES / "services_mixed.csv", "kg", data_dir=work_dir)
    with pytest.raises(DataError, match="invalid set name"):
        import_services(FIXTURES / "services_mixed.csv", "../evil", data_dir=work_dir)


def test_xlsx_and_gpkg(work_dir: Path, tmp_path: Path) -> None:
    import geopandas as gpd

    df = pd.DataFrame(
        {"ID": ["X-1"], "Naam": ["Excel CB"], "Type": ["kg"], "Latitude": ["50,8466"], "Longitude": ["4,3528"]}
    )
    xlsx = tmp_path / "list.xlsx"
    df.to_excel(xlsx, index=False)
    rep = import_services(xlsx, "excel", data_dir=work_dir)
    assert rep.n_placed == 1
    gdf = gpd.GeoDataFrame(
        {"id": ["G-1", "G-2"], "name": ["GPKG CB", "Far away"], "type": ["kg", "kg"]},
        geometry=gpd.points_from_xy([149500.0, 100000.0], [170800.0, 170800.0]),
        crs="EPSG:31370",
    )
    gpkg = tmp_path / "list.gpkg"
    gdf.to_file(gpkg)
    rep = import_services(gpkg, "vector", data_dir=work_dir)
    rows = rep.rows.set_index("id")
    assert rows.loc["G-1", "placed"] and not rows.loc["G-2", "placed"]


# ----------------------------------------------------------------------------- sector figures


def _sectors(data_dir: Path, vintage: int) -> pd.DataFrame:
    from geoplanner.inputs.areas import load_crosswalk

    return load_crosswalk(data_dir, vintage=vintage)


def test_sector_figures_2022(work_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    from geoplanner.inputs.figures import load_commune_population

    cw = _sectors(data_dir, 2022)
    jette = cw[cw["commune_nis"] == 21010].reset_index(drop=True)
    ref = load_commune_population(data_dir).set_index("commune_nis").loc[21010]
    # Spread Jette's real 2020 total evenly: sums match the commune, so no warning for Jette.
    n = len(jette)
    f = tmp_path / "fig.csv"
    pd.DataFrame(
        {
            "cd_sector": jette["cd_sector"],
            "pop_0_2": [ref["pop_0_2"] / n] * n,
            "kansarmoede_index": [12.5] * n,
            "year": 2024,
        }
    ).to_csv(f, sep=";", index=False, decimal=",")
    figs = import_sector_figures(f, data_dir=work_dir)
    assert figs.vintage == 2022 and len(figs.by_sector) == n and figs.by_wijk.empty
    assert figs.by_sector["pop_0_2"].sum() == pytest.approx(ref["pop_0_2"])
    assert not figs.warnings
    assert figs.columns == ["pop_0_2", "kansarmoede_index"]
    again = load_sector_figures(work_dir)
    assert again is not None and again.by_sector.equals(figs.by_sector)
    with pytest.raises(DataError, match="imported before"):
        import_sector_figures(f, data_dir=work_dir)
    # Twice the real total: warned, not refused (years differ).
    pd.DataFrame({"code": jette["cd_sector"], "pop_0_2": [2 * ref["pop_0_2"] / n] * n}).to_csv(f, index=False)
    figs = import_sector_figures(f, data_dir=work_dir, replace=True)
    assert len(figs.warnings) == 1 and "21010" in figs.warnings[0] and "+100%" in figs.warnings[0]


def test_sector_figures_feed_the_need_model(work_dir: Path, data_dir: Path, tmp_path: Path, need_data) -> None:
    from geoplanner.need import sector_need

    cw = _sectors(data_dir, 2022)
    code = cw["cd_sector"].iloc[0]
    f = tmp_path / "one.csv"
    pd.DataFrame({"code": [code], "births": [17]}).to_csv(f, index=False)
    figs = import_sector_figures(f, data_dir=work_dir)
    need = sector_need(need_data, observed=figs.by_sector).set_index("cd_sector")
    assert need.loc[code, "births"] == 17 and need.loc[code, "births_status"] == "observed"
    assert need.drop(index=code)["births_status"].isin(["derived", "estimated"]).all()


def test_sector_figures_2025_go_to_wijken(work_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    cw25 = _sectors(data_dir, 2025)
    cw22 = _sectors(data_dir, 2022)
    new = cw25[~cw25["cd_sector"].isin(cw22["cd_sector"])]
    wijk = int(new["mdrc"].iloc[0])
    rows = cw25[cw25["mdrc"] == wijk].reset_index(drop=True)
    pops = [10.0 * (i + 1) for i in range(len(rows))]
    kai = [20.0 + i for i in range(len(rows))]
    f = tmp_path / "fig25.csv"
    pd.DataFrame({"code": rows["cd_sector"], "pop_0_2": pops, "kansarmoede_index": kai}).to_csv(f, index=False)
    figs = import_sector_figures(f, data_dir=work_dir)
    assert figs.vintage == 2025 and figs.by_sector.empty
    got = figs.by_wijk.loc[wijk]
    assert got["pop_0_2"] == pytest.approx(sum(pops))
    expected = sum(p * k for p, k in zip(pops, kai, strict=True)) / sum(pops)
    assert got["kansarmoede_index"] == pytest.approx(expected)
    assert got["kansarmoede_weighting"] == "pop_0_2-weighted mean"
    assert got["n_sectors"] == got["n_sectors_total"] == len(rows)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("code,births\n21001A00-,12\n99999X99-,3\n", "unknown sector code"),
        ("code,births\n21001A00-,12\n21001A00-,3\n", "duplicate sector code"),
        ("code,births\n21001A00-,twelve\n", "not a number"),
        ("code,births\n21001A00-,-4\n", "negative"),
        ("code,kansarmoede_index\n21001A00-,140\n", "outside 0-100"),
        ("code,colour\n21001A00-,blue\n", "no figure column"),
        ("sect;births\n21001A00-;12\n", "no sector code column"),
    ],
)
def test_sector_figures_malformed(work_dir: Path, tmp_path: Path, content: str, message: str) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        import_sector_figures(f, data_dir=work_dir)
    assert load_sector_figures(work_dir) is None


def test_mixed_vintages_refused(work_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    cw25, cw22 = _sectors(data_dir, 2025), _sectors(data_dir, 2022)
    only22 = cw22[~cw22["cd_sector"].isin(cw25["cd_sector"])]["cd_sector"].iloc[0]
    only25 = cw25[~cw25["cd_sector"].isin(cw22["cd_sector"])]["cd_sector"].iloc[0]
    f = tmp_path / "mixed.csv"
    f.write_text(f"code,births\n{only22},1\n{only25},2\n", encoding="utf-8")
    with pytest.raises(DataError, match="mixes 2022-only"):
        import_sector_figures(f, data_dir=work_dir)


def test_cli_import_and_indicators(work_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import typer
    from typer.testing import CliRunner

    from geoplanner.cli.imports import register

    monkeypatch.setenv("GEOPLANNER_DATA_DIR", str(work_dir))
    monkeypatch.setenv("GEOPLANNER_OUTPUT_DIR", str(tmp_path / "out"))
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    res = runner.invoke(app, ["services", "import", str(FIXTURES / "services_mixed.csv"), "--set", "cli_set"])
    assert res.exit_code == 0, res.output
    assert "5 geplaatst, 4 niet geplaatst" in res.output
    assert "nauwkeurigheid: given 2, address_point 1 (mediaan ± 50 m, max ± 50 m), street 2" in res.output
    assert (work_dir / "services" / "user" / "cli_set.csv").exists()
    assert (tmp_path / "out" / "imports" / "manifest_services_cli_set.json").exists()
    again = runner.invoke(app, ["services", "import", str(FIXTURES / "services_mixed.csv"), "--set", "cli_set"])
    assert again.exit_code != 0 and "exists already" in str(again.exception)
    f = tmp_path / "fig.csv"
    f.write_text("code,births\n21001A00-,12\n", encoding="utf-8")
    res = runner.invoke(app, ["indicators", "import", str(f)])
    assert res.exit_code == 0, res.output
    assert load_sector_figures(work_dir).by_sector.loc["21001A00-", "births"] == 12


def test_geocoded_rows_carry_their_uncertainty(work_dir: Path, index) -> None:
    """Issue 13 through the import: ranges, a wrong postcode, a far address point; the radius is stored and loaded."""
    from geoplanner.inputs.services import load_services

    rep = import_services(FIXTURES / "services_addresses_issue13.csv", "issue13", data_dir=work_dir, index=index)
    rows = rep.rows.set_index("id")
    assert rows["placed"].all()
    assert list(rows.loc[["R-01", "R-02", "R-03", "R-04", "R-05"], "accuracy"]) == ["address_point"] * 5
    assert rows.loc["R-06", "accuracy"] == "street"
    assert "postcode mismatch" in rows.loc["R-04", "reason"] and "1160" in rows.loc["R-04", "reason"]
    assert "postcode mismatch" in rows.loc["R-06", "reason"]
    assert (rows.loc[["R-01", "R-02", "R-03", "R-04", "R-05"], "uncertainty_m"] >= 50).all()
    assert rows.loc["R-06", "uncertainty_m"] > 100  # a whole street in Haren
    summary = rep.by_accuracy.set_index("accuracy")
    assert summary.loc["address_point", "rows"] == 5 and summary.loc["street", "rows"] == 1
    stored = pd.read_csv(rep.stored, dtype=str).set_index("id")
    assert stored.loc["R-06", "uncertainty_m"] == f"{rows.loc['R-06', 'uncertainty_m']:.0f}"
    s = load_services("issue13", data_dir=work_dir).points.set_index("id")
    assert s["uncertainty_m"].dtype == float
    assert s.loc["R-06", "uncertainty_m"] == rows.loc["R-06", "uncertainty_m"]
    # R-05 is the OSM address point itself, not the street line 576 m away.
    osm = index.points[index.points["street"].str.contains("Van Goidtsnoven") & (index.points["number"] == "271")]
    pt = s.loc["R-05", "geometry"]
    assert abs(pt.x - osm["x"].iloc[0]) < 1 and abs(pt.y - osm["y"].iloc[0]) < 1


def test_given_coordinates_have_no_radius(work_dir: Path, index) -> None:
    from geoplanner.inputs.services import load_services

    rep = import_services(FIXTURES / "services_mixed.csv", "radius", data_dir=work_dir, index=index)
    rows = rep.rows.set_index("id")
    assert pd.isna(rows.loc["U-01", "uncertainty_m"]) and rows.loc["U-04", "uncertainty_m"] >= 50
    pts = load_services("radius", data_dir=work_dir).points.set_index("id")
    assert pd.isna(pts.loc["U-01", "uncertainty_m"]) and pts.loc["U-03", "uncertainty_m"] > 50
    # The built-in sets have no radius column: it loads as NaN, never as an error.
    assert load_services("kg", data_dir=work_dir).points["uncertainty_m"].isna().all()


def test_map_popup_shows_the_radius(work_dir: Path, index, need_sectors) -> None:
    """Services popups give the uncertainty of geocoded rows, and nothing for coordinates given in the file."""
    import re

    from geoplanner.inputs.services import load_services
    from geoplanner.outputs import maps

    import_services(FIXTURES / "services_addresses_issue13.csv", "popup", data_dir=work_dir, index=index)
    import_services(FIXTURES / "services_mixed.csv", "popup_mixed", data_dir=work_dir, index=index)
    pts = pd.concat([load_services(n, data_dir=work_dir).points for n in ("popup", "popup_mixed")])
    html = maps.render_html(maps.build_gap_map(maps.MapData(sectors=need_sectors, services=pts)))
    # Point data travels as JSON strings inside the page: undo their \uXXXX escapes to read the popups.
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)
    radii = pts["uncertainty_m"].dropna()
    assert len(radii) == 9  # 6 geocoded here, 3 geocoded in the mixed file
    assert text.count("Onzekerheid ligging") == len(radii)
    for r in radii:
        assert f"± {r:.0f} m" in text
