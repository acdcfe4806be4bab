"""The Excel deliverable: read back with openpyxl, every cell checked against the CSV of the same table."""

from __future__ import annotations

import csv
import hashlib
import math
import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def run_tables(tmp_path_factory, data_dir):
    """The real ranking and coverage (one service set, no raster), plus a comparison and a timetable.

    Each table is returned with the CSV written for it: (frame, csv path).
    """
    from geoplanner.outputs.files import write_csv
    from geoplanner.pipeline import RANK_COLUMNS, run_coverage, run_rank

    out = tmp_path_factory.mktemp("wb")
    ranked = run_rank(out, data_dir=data_dir)
    cov = run_coverage(out / "coverage", sets=["kg"], raster=False, data_dir=data_dir, need=ranked.need)
    # the frame run_rank writes to priority_wijken.csv
    priority = ranked.table
    assert list(priority.columns)[:3] == list(RANK_COLUMNS)[:3]
    # a comparison and a timetable with the columns scenario.compare / run_scenario give, and the
    # awkward values: no solver gap for the baseline, an infinite p90, names a spreadsheet would run
    comparison = pd.DataFrame(
        {
            "scenario": ["huidig", '=HYPERLINK("http://x")', "mobiel"],
            "title": ["Huidige situatie", "+1 locatie", "Mobiel"],
            "model": ["none", "mclp", "rotation"],
            "demand": ["children", "children", "deprivation_weighted"],
            "threshold_min": [10.0, 10.0, 15.0],
            "children_total": [50045.123, 50045.123, 50045.123],
            "children_within_threshold": [5123.4, 12345.678, 0.0],
            "share_within_threshold": [0.1023, 0.2467, 0.0],
            "deprivation_weighted_share_within": [0.11, 0.27, 0.0],
            "priority_wijken_reached": [2, 9, 0],
            "priority_wijken": [21, 21, 21],
            "mean_min": [21.5, 14.25, np.nan],
            "p90_min": [38.0, 25.5, np.inf],
            "new_sites": [0, 5, 4],
            "status": ["-", "optimal", "time_limit"],
            "solver_gap": [None, 0.0, 0.0123],
        }
    )
    timetable = pd.DataFrame(
        {
            "team": [1, 1, 2],
            "dag": ["maandag", "dinsdag", "maandag"],
            "dagdeel": ["voormiddag", "namiddag", "voormiddag"],
            "venue_id": ["C-001", "C-002", "C-003"],
            "venue_name": ["-Buurthuis", "@Sum(1)", "#N/A"],
            "lgn": [1, 2, 8],
        }
    )
    paths = {
        "priority": out / "priority_wijken.csv",
        "comparison": write_csv(out / "comparison.csv", comparison),
        "timetable": write_csv(out / "timetable.csv", timetable),
    }
    tables = {"priority": (priority, paths["priority"])}
    for level in ("lgn", "commune", "wijk"):
        tables[level] = (cov.tables[level], out / "coverage" / f"coverage_{level}.csv")
    tables["comparison"] = (comparison, paths["comparison"])
    tables["timetable"] = (timetable, paths["timetable"])
    return out, tables, cov


@pytest.fixture(scope="module")
def workbook(run_tables):
    from geoplanner.outputs.workbook import main_job_sheets
    from geoplanner.pipeline.workbook import write_workbook

    out, tables, cov = run_tables
    sheets = main_job_sheets(
        priority=tables["priority"][0],
        coverage={lv: tables[lv][0] for lv in ("wijk", "lgn", "commune")},  # order given differs on purpose
        comparison=tables["comparison"][0],
        timetables={"mobile_2_teams": tables["timetable"][0]},
    )
    notes = [*cov.notes.values(), "kinderen 0-2 jaar per sector zijn geschat", "=1+1"]
    path = write_workbook(out / "geoplanner.xlsx", sheets, notes)
    return path, sheets


SHEET_OF = {
    "priority": "Prioritaire wijken",
    "lgn": "Bereik per LGN",
    "commune": "Bereik per gemeente",
    "wijk": "Bereik per wijk",
    "comparison": "Vergelijking van scenario's",
    "timetable": "Uurrooster mobile_2_teams",
}


def _csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _same(cell, text: str, column: str = "", lang: str = "nl") -> bool:
    """Does an .xlsx cell hold what the CSV text says? (read independently of pandas)

    A coded text value (a service set, a status, a day) is shown in words: the CSV's code read through the
    workbook's table of words (checked on its own in ``test_coded_values_are_words``).
    """
    from geoplanner.outputs.workbook import display_value

    text = display_value(column, text, lang) if not text.startswith("'") else text
    v = cell.value
    if text == "":
        return v is None
    if isinstance(v, bool):
        return text == str(v)
    if isinstance(v, int | float):
        # openpyxl writes 16 significant digits (Excel shows 15), the CSV Python's shortest repr
        return math.isclose(v, float(text), rel_tol=1e-15, abs_tol=0.0)
    if v in ("∞", "-∞"):
        return text == ("inf" if v == "∞" else "-inf")
    if cell.quotePrefix:  # the workbook's form of the CSV's leading apostrophe
        return text == "'" + v
    return text == v


def test_workbook_opens_with_notes_first_and_one_sheet_per_table(workbook):
    path, _ = workbook
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Toelichting", *SHEET_OF.values()]
    notes = [r[0] for r in wb["Toelichting"].iter_rows(values_only=True) if r[0]]
    assert "Algemene kanttekeningen" in notes and "Bronnen" in notes and "Inhoud" in notes
    assert any("ONVOLLEDIGE LAAG" in n for n in notes), "the incomplete-layer note must be on the notes sheet"
    assert "© OpenStreetMap contributors (ODbL)" in notes
    # the contents list names every sheet
    listed = [r[0] for r in wb["Toelichting"].iter_rows(values_only=True) if r[1]]
    assert listed == list(SHEET_OF.values())


def test_every_cell_matches_the_csv(workbook, run_tables):
    path, _ = workbook
    _, tables, _ = run_tables
    wb = openpyxl.load_workbook(path)
    for key, sheet in SHEET_OF.items():
        header, rows = _csv_rows(tables[key][1])
        ws = wb[sheet]
        assert ws.max_column == len(header), sheet
        assert ws.max_row == len(rows) + 1, sheet
        for i, row in enumerate(rows, start=2):
            for j, text in enumerate(row, start=1):
                cell = ws.cell(row=i, column=j)
                assert _same(cell, text, header[j - 1]), f"{sheet}!{cell.coordinate}: {cell.value!r} vs {text!r}"


def test_numbers_are_numbers_with_formats(workbook, run_tables):
    path, _ = workbook
    _, tables, _ = run_tables
    wb = openpyxl.load_workbook(path)
    ws = wb["Bereik per wijk"]
    head = [c.value for c in ws[1]]
    frame = tables["wijk"][0]
    expect = {
        "pop_0_2": "#,##0",
        "within_10_min": "#,##0",
        "share_within_10_min": "0.0%",
        "mean_min": "0.0",
        "p90_min": "0.0",
        "mdrc": "0",
    }
    for col, fmt in expect.items():
        j = list(frame.columns).index(col) + 1
        cells = [ws.cell(row=i, column=j) for i in range(2, ws.max_row + 1)]
        filled = [c for c in cells if c.value is not None]
        assert filled, col
        assert all(isinstance(c.value, int | float) and not isinstance(c.value, bool) for c in filled), col
        assert {c.number_format for c in filled} == {fmt}, col
    assert head[list(frame.columns).index("share_within_10_min")] == "Aandeel binnen 10 min"
    assert head[list(frame.columns).index("pop_0_2")] == "Kinderen 0–2 jaar"
    assert head[list(frame.columns).index("within_15_min")] == "Kinderen 0–2 binnen 15 min"
    pr = wb["Prioritaire wijken"]
    assert [c.value for c in pr[1]][:4] == ["Rang", "Prioritair", "Wijkcode (MDRC)", "Naam (NL)"]
    assert pr["B2"].value is True and pr["A2"].value == 1 and pr["A2"].font.b  # priority rows in bold
    last_priority = 1 + int(tables["priority"][0]["priority"].sum())
    assert not pr.cell(row=last_priority + 1, column=1).font.b
    # the comparison takes the report's headers
    assert [c.value for c in wb["Vergelijking van scenario's"][1]][:5] == [
        "Scenario-id",
        "Scenario",
        "Model",
        "Vraag",
        "Drempel (min)",
    ]


def _column(ws, header: str) -> list:
    head = [c.value for c in ws[1]]
    j = head.index(header) + 1
    return [ws.cell(row=i, column=j) for i in range(2, ws.max_row + 1)]


def test_coded_values_are_words_and_numbers_show_what_they_are(workbook, run_tables, tmp_path):
    """The workbook is in the run's language: headers, codes (statuses, sets, days) and formats (a CV in %)."""
    from geoplanner.outputs.workbook import main_job_sheets
    from geoplanner.pipeline.workbook import write_workbook

    path, _ = workbook
    wb = openpyxl.load_workbook(path)
    cmp = wb["Vergelijking van scenario's"]
    assert [c.value for c in _column(cmp, "Status oplossing")] == [
        "-",
        "optimaal",
        "tijdslimiet (niet bewezen optimaal)",
    ]
    assert [c.value for c in _column(cmp, "Model")] == ["geen nieuwe locaties", "maximale dekking",
                                                        "rotatie mobiele teams"]  # fmt: skip
    assert [c.value for c in _column(cmp, "Vraag")][2] == "kinderen, gewogen naar kansarmoede"
    wijk = wb["Bereik per wijk"]
    assert {c.value for c in _column(wijk, "Dienstenset")} == {"Consultatiebureaus Kind & Gezin"}
    assert {c.value for c in _column(wijk, "Status kinderen 0–2")} <= {"afgeleid", "geschat", "gemengd", "waargenomen"}
    pr = wb["Prioritaire wijken"]
    cv = [c for c in _column(pr, "Onzekerheid geboorten (variatiecoëfficiënt)") if c.value is not None]
    assert cv and {c.number_format for c in cv} == {"0.0%"} and all(c.value >= 0 for c in cv)
    assert "geen woonwijk (park of bos)" in {c.value for c in _column(pr, "Reden niet gerangschikt")}
    assert {c.value for c in _column(pr, "Type wijk")} >= {"woonwijk", "park of bos"}
    # the same tables in French: no code left, no header left as a column name
    out, tables, _ = run_tables
    sheets = main_job_sheets(priority=tables["priority"][0], coverage={"wijk": tables["wijk"][0]},
                             comparison=tables["comparison"][0],
                             timetables={"m": tables["timetable"][0]}, lang="fr")  # fmt: skip
    fr = openpyxl.load_workbook(write_workbook(tmp_path / "fr.xlsx", sheets, [], lang="fr"))
    assert [c.value for c in _column(fr["Horaire m"], "Jour")] == ["lundi", "mardi", "lundi"]
    assert [c.value for c in _column(fr["Horaire m"], "Demi-journée")] == ["matin", "après-midi", "matin"]
    assert [c.value for c in _column(fr["Comparaison des scénarios"], "Statut de la solution")][1] == "optimal"
    assert {c.value for c in _column(fr["Couverture par quartier"], "Ensemble de services")} == {
        "Consultations Kind & Gezin"
    }
    reasons = {c.value for c in _column(fr["Quartiers prioritaires"], "Raison de non-classement")}
    assert "pas un quartier résidentiel (parc ou bois)" in reasons
    for book in (wb, fr):
        for ws in book.worksheets[1:]:
            raw = [c.value for c in ws[1] if re.fullmatch(r"[a-z0-9_]+", str(c.value))]
            assert raw == [], (ws.title, raw)


def test_header_frozen_and_filtered(workbook):
    path, sheets = workbook
    wb = openpyxl.load_workbook(path)
    for sheet in SHEET_OF.values():
        ws = wb[sheet]
        assert ws.freeze_panes == "A2"
        last = openpyxl.utils.get_column_letter(ws.max_column)
        assert ws.auto_filter.ref == f"A1:{last}{ws.max_row}"
        assert all(c.font.b for c in ws[1])
        assert ws.column_dimensions["A"].width >= 8


def test_text_is_never_a_formula(workbook):
    path, _ = workbook
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        xml = "".join(z.read(n).decode("utf-8") for n in sheets)
    assert "<f>" not in xml and "<f " not in xml
    assert 't="e"' not in xml  # '#N/A' from a file is text, not an error value
    wb = openpyxl.load_workbook(path)
    tt = wb["Uurrooster mobile_2_teams"]
    assert [tt.cell(row=i, column=5).value for i in (2, 3, 4)] == ["-Buurthuis", "@Sum(1)", "#N/A"]
    assert [tt.cell(row=i, column=5).quotePrefix for i in (2, 3, 4)] == [True, True, False]
    notes = wb["Toelichting"]
    cell = next(c for row in notes.iter_rows() for c in row if c.value == "=1+1")
    assert cell.quotePrefix


def test_same_tables_give_the_same_bytes(workbook, tmp_path):
    from geoplanner.pipeline.workbook import write_workbook

    path, sheets = workbook
    again = write_workbook(tmp_path / "again.xlsx", sheets, [])
    once_more = write_workbook(tmp_path / "once_more.xlsx", sheets, [])
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(once_more.read_bytes()).digest()
    with zipfile.ZipFile(path) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode("utf-8")
    assert "dcterms:created" not in core and "dcterms:modified" not in core
    assert "<dc:creator>geoplanner</dc:creator>" in core


def test_missing_and_empty_tables_are_left_out():
    from geoplanner.outputs.workbook import main_job_sheets

    lgn = pd.DataFrame({"lgn": [1, 2], "service_set": ["kg", "kg"], "share_within_10_min": [0.5, 0.25]})
    sheets = main_job_sheets(
        coverage={"lgn": lgn, "wijk": lgn.iloc[0:0], "sector": None},
        timetables={"mobiel": pd.DataFrame(columns=["team", "dag"])},
        comparison=None,
    )
    assert [s.name for s in sheets] == ["Bereik per LGN"]
    assert sheets[0].headers["share_within_10_min"] == "Aandeel binnen 10 min"


def test_headers_in_other_languages_and_unknown_columns():
    from geoplanner.core.errors import ConfigError
    from geoplanner.outputs.workbook import column_header

    assert column_header("share_within_5_min", "fr") == "Part à moins de 5 min"
    assert column_header("within_15_min", "en") == "Children 0–2 within 15 min"
    assert column_header("rank", "en") == "Rank"
    assert column_header("a_new_column") == "a_new_column"
    with pytest.raises(ConfigError):
        column_header("rank", "de")


def test_sheet_titles_are_valid_and_unique():
    from geoplanner.outputs.workbook import sheet_titles

    names = sheet_titles(
        ["Uurrooster een_heel_lange_scenarionaam_2025", "Uurrooster een_heel_lange_scenarionaam_2026",
         "a/b:c*d?[e]", "'quoted'", "History", "", "bereik", "Bereik"]
    )  # fmt: skip
    assert all(len(n) <= 31 for n in names)
    assert len({n.casefold() for n in names}) == len(names)
    assert names[0] == "Uurrooster een_heel_lange_scena"
    assert names[1] == "Uurrooster een_heel_lange_s (2)"
    assert names[2] == "a_b_c_d__e_"
    assert names[3] == "quoted"
    assert names[4] == "History_"
    assert names[5] == "Blad"
    assert names[7] == "Bereik (2)"
    assert not any(re.search(r"[\[\]:*?/\\]", n) for n in names)


def test_geometry_is_refused_and_dropped_by_the_builder(tmp_path):
    import geopandas as gpd
    from shapely.geometry import Point

    from geoplanner.outputs.workbook import Sheet, main_job_sheets
    from geoplanner.pipeline.workbook import write_workbook

    gdf = gpd.GeoDataFrame({"rank": [1], "priority": [True]}, geometry=[Point(0, 0)], crs="EPSG:31370")
    with pytest.raises(ValueError, match="geometry"):
        write_workbook(tmp_path / "x.xlsx", [Sheet("x", gdf)])
    assert not (tmp_path / "x.xlsx").exists()
    sheets = main_job_sheets(priority=gdf)
    assert list(sheets[0].frame.columns) == ["rank", "priority"]


def test_written_with_the_step(tmp_path):
    """Inside output_step the workbook lands with the step's other outputs, not before; a failed step leaves none."""
    from geoplanner.outputs.files import output_step
    from geoplanner.outputs.workbook import Sheet
    from geoplanner.pipeline.workbook import write_workbook

    sheet = Sheet("t", pd.DataFrame({"a": [1, 2]}))
    with output_step(tmp_path):
        write_workbook(tmp_path / "g.xlsx", [sheet])
        assert not (tmp_path / "g.xlsx").exists()
    assert (tmp_path / "g.xlsx").exists()
    with pytest.raises(RuntimeError), output_step(tmp_path / "failed"):
        write_workbook(tmp_path / "failed" / "g.xlsx", [sheet])
        raise RuntimeError("later step fails")
    assert not (tmp_path / "failed").exists()  # nothing, not even the folder the step created
