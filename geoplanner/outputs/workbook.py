"""The Excel deliverable: one workbook with a notes sheet first and one sheet per table.

:func:`workbook_bytes` builds a workbook of any ordered list of :class:`Sheet` (a DataFrame, a sheet
name and display headers) after a notes sheet (estimates, incomplete layers, contents, sources). Values
stay what the CSV outputs hold — numbers as number cells with a display format, booleans as
booleans, text as text — so a spreadsheet user can sort, filter and compute; only the headers are
translated. :func:`main_job_sheets` builds the sheet list of the main job from whichever of its
tables are at hand.

It returns the file's bytes (:mod:`geoplanner.pipeline.workbook` writes them), byte-for-byte the
same for the same inputs: no creation or modification time in the document properties and a fixed
time stamp on every member of the zip archive.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd

import geoplanner
from geoplanner.core import settings
from geoplanner.core.i18n import DEFAULT_LANG, check_lang, label
from geoplanner.outputs.columns import column_header, default_headers, display_frame, display_value, number_format
from geoplanner.outputs.files import formula_like
from geoplanner.scenario.measures import MEASURES

__all__ = [
    "Sheet",
    "workbook_bytes",
    "column_header",
    "default_headers",
    "display_value",
    "display_frame",
    "number_format",
    "sheet_titles",
    "main_job_sheets",
    "glossary",
    "WORKBOOK_NAME",
    "COVERAGE_LEVELS",
    "EXCEL_MAX_ROWS",
]

#: Rows a worksheet holds, header included (Excel's limit).
EXCEL_MAX_ROWS = 1_048_576
_EXCEL_MAX_COLS = 16_384
_EXCEL_MAX_TEXT = 32_767
_SHEET_NAME_MAX = 31
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
# Control characters an .xlsx cannot hold (the XML 1.0 ones; tab and newlines are fine).
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Text that a spreadsheet would read as an error value rather than text.
_ERROR_CODES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})
# Every member of the archive gets this time stamp (the zip format's earliest), so the bytes do not
# depend on when the file was written.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

#: File name of the main job's workbook, in the output root.
WORKBOOK_NAME = "geoplanner.xlsx"
#: Coverage levels in sheet order; other levels follow in the order given.
COVERAGE_LEVELS = ("region", "lgn", "commune", "wijk", "priority_wijken", "sector")


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a table and how to show it.

    Attributes
    ----------
    name
        Sheet name (made safe and unique by :func:`sheet_titles`: at most 31 characters).
    frame
        The table. Every column is written, in order; geometry columns are refused.
    headers
        Column -> display header; a column without one keeps its name.
    formats
        Column -> Excel number format (e.g. ``'0.0%'``), overriding :func:`number_format`.
    description
        One line for the contents list on the notes sheet.
    highlight
        A boolean column: its true rows are shown in bold (e.g. ``priority``).
    """

    name: str
    frame: pd.DataFrame
    headers: Mapping[str, str] = field(default_factory=dict)
    formats: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    highlight: str | None = None


# Sheet names and the notes sheet (nl, fr, en).
_TEXT: dict[str, tuple[str, str, str]] = {
    "notes_sheet": ("Toelichting", "Notes", "Notes"),
    "contents": ("Inhoud", "Contenu", "Contents"),
    "sheet": ("Blad", "Feuille", "Sheet"),
    "coverage_region": ("Bereik gewest", "Couverture région", "Coverage region"),
    "coverage_lgn": ("Bereik per LGN", "Couverture par LGN", "Coverage per LGN"),
    "coverage_commune": ("Bereik per gemeente", "Couverture par commune", "Coverage per municipality"),
    "coverage_wijk": ("Bereik per wijk", "Couverture par quartier", "Coverage per district"),
    "coverage_priority_wijken": (
        "Bereik prioritaire wijken",
        "Couverture quart. prioritaires",
        "Coverage priority districts",
    ),
    "coverage_sector": ("Bereik per sector", "Couverture par secteur", "Coverage per sector"),
    "comparison_lgn": ("Vergelijking per LGN", "Comparaison par LGN", "Comparison per LGN"),
    "comparison_wijk": ("Vergelijking per wijk", "Comparaison par quartier", "Comparison per district"),
    "desc_comparison_wijk": (
        "per wijk en scenario: wie we nog missen, te ver of omdat de sessies vol zijn; filter op de LGN-kolom",
        "par quartier et scénario : qui manque encore, trop loin ou séances complètes ; filtrez sur la colonne LGN",
        "per district and scenario: whom we still miss, too far or sessions full; filter on the LGN column",
    ),
    "desc_priority": (
        "alle wijken, de prioritaire eerst in volgorde van rang, met de componenten van de score",
        "tous les quartiers, les prioritaires d'abord par rang, avec les composantes du score",
        "every district, priority ones first in rank order, with the components of the score",
    ),
    "desc_coverage": (
        "kinderen 0–2 jaar binnen wandelafstand van elke dienstenset (kinderen per sector geschat)",
        "enfants de 0–2 ans à distance de marche de chaque ensemble de services (enfants par secteur estimés)",
        "children aged 0–2 within walking distance of each service set (children per sector estimated)",
    ),
    "desc_comparison": (
        "de scenario's naast elkaar, de huidige situatie eerst",
        "les scénarios côte à côte, la situation actuelle d'abord",
        "the scenarios side by side, the current situation first",
    ),
    "desc_comparison_lgn": (
        "per LGN en scenario: kinderen binnen bereik en consultaties bediend (dezelfde maten als de vergelijking)",
        "par LGN et scénario : enfants à portée et consultations servies (les mêmes mesures que la comparaison)",
        "per LGN and scenario: children within reach and consultations served (the measures of the comparison)",
    ),
    "glossary": (
        "Verklarende woordenlijst: de maten van elk scenario",
        "Glossaire : les mesures de chaque scénario",
        "Glossary: the measures of every scenario",
    ),
    "desc_timetable": (
        "uurrooster van de mobiele teams",
        "horaire des équipes mobiles",
        "timetable of the mobile teams",
    ),
    "sweep": ("Zekerheid", "Certitude", "Certainty"),
    "desc_sweep": (
        "per locatie: het aandeel trekkingen van de gevoeligheidsanalyse waarin ze gekozen is (sweep_sites.csv)",
        "par lieu : la part des tirages de l'analyse de sensibilité où il est choisi (sweep_sites.csv)",
        "per venue: the share of the sensitivity analysis' draws in which it is chosen (sweep_sites.csv)",
    ),
}


def _text(key: str, lang: str) -> str:
    return _TEXT[key][("nl", "fr", "en").index(check_lang(lang))]


# ---------------------------------------------------------------------------------------------
# Sheet names and cell values
# ---------------------------------------------------------------------------------------------


def sheet_titles(names: Iterable[str], *, fallback: str = "Blad") -> list[str]:
    r"""Make sheet names Excel accepts: at most 31 characters, none of ``[]:*?/\``, unique.

    Uniqueness is case-insensitive, as in Excel; a repeated name gets `` (2)``, `` (3)`` … within
    the 31 characters. A name cannot start or end with an apostrophe, and "History" is reserved.

    Parameters
    ----------
    names
        Wished names, in sheet order.
    fallback
        Used for a name that is empty once cleaned.
    """
    seen: set[str] = set()
    out = []
    for raw in names:
        name = _SHEET_NAME_BAD.sub("_", _ILLEGAL_XML.sub("", str(raw))).strip().strip("'").strip()
        name = name[:_SHEET_NAME_MAX].rstrip("'").strip() or fallback
        if name.casefold() == "history":
            name += "_"
        base, n = name, 1
        while name.casefold() in seen:
            n += 1
            suffix = f" ({n})"
            name = base[: _SHEET_NAME_MAX - len(suffix)].rstrip("'").rstrip() + suffix
        seen.add(name.casefold())
        out.append(name)
    return out


def _cell_value(v: Any) -> Any:
    """Turn one DataFrame value into what an .xlsx cell holds (numbers stay numbers)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        f = float(v)
        if math.isnan(f):
            return None
        if math.isinf(f):  # an .xlsx number cannot be infinite; the CSV says "inf"
            return "∞" if f > 0 else "-∞"
        return f
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    if isinstance(v, datetime):
        # an .xlsx time has no zone: aware times are written in UTC
        return v if v.tzinfo is None else v.astimezone(UTC).replace(tzinfo=None)
    if isinstance(v, date):
        return v
    return _ILLEGAL_XML.sub("", str(v))[:_EXCEL_MAX_TEXT]


def _put(ws: Any, row: int, col: int, value: Any) -> Any:
    """Write one cell; text is always stored as text, never as a formula or an error value."""
    cell = ws.cell(row=row, column=col)
    cell.value = value
    if isinstance(value, str):
        # openpyxl would store '=…' as a formula and '#N/A' as an error: force plain text. Text a
        # spreadsheet could still take for a formula when a user edits it (the csv_safe rule) gets
        # Excel's quote prefix, the workbook's form of the CSV's leading apostrophe.
        if value.startswith("=") or value in _ERROR_CODES:
            cell.data_type = "s"
        if formula_like(value):
            cell.data_type = "s"
            cell.quotePrefix = True
    return cell


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def _check_frame(sheet: Sheet) -> pd.DataFrame:
    frame = sheet.frame
    geo = [c for c in frame.columns if isinstance(frame[c].dtype, pd.api.extensions.ExtensionDtype)
           and frame[c].dtype.name == "geometry"]  # fmt: skip
    if geo:
        raise ValueError(f"sheet {sheet.name!r}: drop the geometry column(s) {geo} first")
    if len(frame) + 1 > EXCEL_MAX_ROWS or len(frame.columns) > _EXCEL_MAX_COLS:
        raise ValueError(f"sheet {sheet.name!r}: {frame.shape} does not fit in one worksheet")
    return frame


def _fill_sheet(ws: Any, sheet: Sheet) -> None:
    # openpyxl is heavy and only the workbook step needs it: imported when a workbook is built
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter  # (same reason)

    frame = _check_frame(sheet)
    columns = [str(c) for c in frame.columns]
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDDDDD")
    for j, col in enumerate(columns, start=1):
        cell = _put(ws, 1, j, _cell_value(sheet.headers.get(col, col)))
        cell.font = bold
        cell.fill = head_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    formats = [sheet.formats.get(c, number_format(c, frame[c])) for c in columns]
    flags = None
    if sheet.highlight is not None and sheet.highlight in frame.columns:
        flags = frame[sheet.highlight].fillna(False).astype(bool).to_numpy()
    # width in characters: the header (it wraps beyond 30) or the longest text, numbers ~12
    widths = [min(max(len(str(sheet.headers.get(c, c))), 8) + 2, 30) for c in columns]
    for i, row in enumerate(frame.itertuples(index=False, name=None)):
        r = i + 2
        strong = flags is not None and flags[i]
        for j, v in enumerate(row):
            value = _cell_value(v)
            if value is None:
                continue
            cell = _put(ws, r, j + 1, value)
            if formats[j] and not isinstance(value, str | bool):
                cell.number_format = formats[j]
            if strong:
                cell.font = bold
            n = len(value) if isinstance(value, str) else 12
            if n + 2 > widths[j]:
                widths[j] = min(n + 2, 60)
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    ws.freeze_panes = "A2"
    if columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(frame) + 1}"


def _fill_notes(ws: Any, notes: Sequence[str], contents: Sequence[tuple[str, str]], lang: str, title: str,
                attribution: Sequence[str], glossary: Sequence[tuple[str, str]] = ()) -> None:  # fmt: skip
    from openpyxl.styles import Alignment, Font  # heavy, only for workbooks: imported when one is built

    wrap = Alignment(wrap_text=True, vertical="top")
    r = 1
    _put(ws, r, 1, _cell_value(title)).font = Font(bold=True, size=14)
    r += 2
    for heading, lines in (
        (label("notes_general", lang), [(n,) for n in notes]),
        (_text("contents", lang), list(contents)),
        (_text("glossary", lang), list(glossary)),
        (label("sources", lang), [(a,) for a in attribution]),
    ):
        if not lines:
            continue
        _put(ws, r, 1, heading).font = Font(bold=True, size=12)
        r += 1
        for line in lines:
            for j, text in enumerate(line, start=1):
                cell = _put(ws, r, j, _cell_value(text))
                if j > 1:  # a description wraps; a note runs on over the empty cells to its right
                    cell.alignment = wrap
            r += 1
        r += 1
    _put(ws, r, 1, f"{label('generated', lang)} {geoplanner.__version__}")
    ws.column_dimensions["A"].width = 32
    ws.column_dimensions["B"].width = 90


def workbook_bytes(
    sheets: Sequence[Sheet],
    notes: Sequence[str] = (),
    *,
    lang: str = DEFAULT_LANG,
    title: str | None = None,
    attribution: Sequence[str] = settings.ATTRIBUTION,
    glossary: Sequence[tuple[str, str]] = (),
) -> bytes:
    """Build an .xlsx workbook: a notes sheet first, then one sheet per table; return its bytes.

    Each table sheet has its header row frozen and an autofilter over the table; numbers are
    number cells (with the formats of :func:`number_format` or the sheet's own), booleans are
    booleans, missing values are empty cells and an infinite value (unreachable) is the text
    "∞". Text is never stored as a formula: text a spreadsheet could take for one gets Excel's
    quote prefix (the rule of :func:`geoplanner.outputs.files.csv_safe`). Sheet names are made valid and
    unique with :func:`sheet_titles`.

    The notes sheet lists ``notes`` (estimates, incomplete layers), the contents (each sheet
    with its description) and the sources (``attribution``). The document carries no creation
    or modification time and every archive member a fixed one, so the same tables give the
    same bytes.

    Parameters
    ----------
    sheets
        The tables, in order.
    notes
        Lines for the notes sheet (duplicates are shown once).
    lang
        Language of the notes sheet's own words (the headers are the sheets' own).
    title
        First line of the notes sheet (default: the report title).
    attribution
        Source and licence lines (default :data:`geoplanner.core.settings.ATTRIBUTION`).
    glossary
        ``(label, meaning)`` of each measure (:func:`glossary`), listed on the notes sheet.

    Returns
    -------
    bytes
        The ``.xlsx`` file (written by :func:`geoplanner.pipeline.workbook.write_workbook`).
    """
    from openpyxl import Workbook  # heavy, only for workbooks: imported when one is built

    check_lang(lang)
    for sheet in sheets:
        _check_frame(sheet)
    names = sheet_titles([_text("notes_sheet", lang), *(s.name for s in sheets)], fallback=_text("sheet", lang))
    wb = Workbook()
    ws = wb.active
    ws.title = names[0]
    contents = [(name, s.description) for name, s in zip(names[1:], sheets, strict=True)]
    _fill_notes(ws, list(dict.fromkeys(str(n) for n in notes)), contents, lang,
                title or label("report_title", lang), attribution, glossary)  # fmt: skip
    for name, sheet in zip(names[1:], sheets, strict=True):
        _fill_sheet(wb.create_sheet(title=name), sheet)
    props = wb.properties
    props.creator = "geoplanner"
    props.lastModifiedBy = None
    props.title = title or label("report_title", lang)
    props.language = lang
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_archive(buf.getvalue(), props)


def _fixed_archive(data: bytes, props: Any) -> bytes:
    """Rewrite the saved archive with fixed member times and document properties without dates.

    ``Workbook.save`` stamps the properties with the current time and each zip member with the
    current local time; both are replaced here.
    """
    # openpyxl is heavy and only the workbook step needs it: imported when a workbook is built
    from openpyxl.xml.constants import DCTERMS_NS
    from openpyxl.xml.functions import tostring  # (same reason)

    tree = props.to_tree()
    for tag in ("created", "modified"):  # a time of writing would change every run: leave them out
        for el in tree.findall(f"{{{DCTERMS_NS}}}{tag}"):
            tree.remove(el)
    core = tostring(tree)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = core if info.filename == "docProps/core.xml" else src.read(info.filename)
            member = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            member.create_system = 3
            dst.writestr(member, body)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# The main job's sheets
# ---------------------------------------------------------------------------------------------


def glossary(lang: str = DEFAULT_LANG) -> list[tuple[str, str]]:
    """Return ``(label, meaning)`` of every scenario measure, for the notes sheet (meanings in Dutch)."""
    return [(column_header(m.column, lang), m.meaning) for m in MEASURES]


def _plain(frame: pd.DataFrame, lang: str = DEFAULT_LANG) -> pd.DataFrame:
    """Drop geometry columns (a GeoDataFrame may be passed as it is); coded values in words (:func:`display_frame`)."""
    geo = [c for c in frame.columns if getattr(frame[c].dtype, "name", "") == "geometry"]
    return display_frame(pd.DataFrame(frame.drop(columns=geo)) if geo else frame, lang)


def main_job_sheets(
    *,
    priority: pd.DataFrame | None = None,
    coverage: Mapping[str, pd.DataFrame] | None = None,
    comparison: pd.DataFrame | None = None,
    comparison_lgn: pd.DataFrame | None = None,
    timetables: Mapping[str, pd.DataFrame] | None = None,
    lang: str = DEFAULT_LANG,
    comparison_wijk: pd.DataFrame | None = None,
    sweeps: Mapping[str, pd.DataFrame] | None = None,
) -> list[Sheet]:
    """Build the sheets of ``outputs/geoplanner.xlsx`` from the main job's tables.

    Give the tables exactly as written to their CSV files, so the workbook matches them; a table
    that is None or empty is left out. Headers come from :func:`column_header` (and the report's
    for the comparison), so a column added later still shows, under its own name if it has no
    label yet.

    Parameters
    ----------
    priority
        The ranking as in ``priority_wijken.csv`` (a GeoDataFrame's geometry is dropped); the
        priority wijken are shown in bold.
    coverage
        Level -> coverage table (``coverage_<level>.csv``), e.g. ``{"lgn": …, "commune": …,
        "wijk": …}``; sheets follow :data:`COVERAGE_LEVELS`, other levels after.
    comparison
        The scenario comparison (``comparison.csv``).
    comparison_lgn
        Reach and service per LGN and scenario (``comparison_lgn.csv``).
    timetables
        Scenario name -> timetable (``<scenario>/timetable.csv``), in the order given.
    lang
        ``nl`` (default), ``fr`` or ``en``: sheet names, headers and coded values (:func:`display_frame`).
    comparison_wijk
        Reach and service per wijk and scenario, with each wijk's LGN (``comparison_wijk.csv``): with the
        autofilter on its LGN column, a coordinator keeps their own wijken.
    sweeps
        Scenario name -> its sweep's venues (``<scenario>/sweep_sites.csv``), for the scenarios whose sweep the
        report shows.

    Returns
    -------
    list of Sheet
    """
    check_lang(lang)

    def given(df: pd.DataFrame | None) -> bool:
        return df is not None and len(df.columns) > 0 and len(df) > 0

    sheets: list[Sheet] = []
    if given(priority):
        p = _plain(priority, lang)
        sheets.append(Sheet(label("priority_table", lang), p, default_headers(p, lang),
                            description=_text("desc_priority", lang),
                            highlight="priority" if "priority" in p.columns else None))  # fmt: skip
    cov = {k: v for k, v in (coverage or {}).items() if given(v)}
    order = [lv for lv in COVERAGE_LEVELS if lv in cov] + [lv for lv in cov if lv not in COVERAGE_LEVELS]
    for level in order:
        c = _plain(cov[level], lang)
        key = f"coverage_{level}"
        name = _text(key, lang) if key in _TEXT else f"{label('covered', lang)} {level}"
        sheets.append(Sheet(name, c, default_headers(c, lang), description=_text("desc_coverage", lang)))
    if given(comparison):
        c = _plain(comparison, lang)
        # the measures' own labels, as in the report: one name per measure everywhere
        sheets.append(Sheet(label("comparison_table", lang), c, default_headers(c, lang),
                            description=_text("desc_comparison", lang)))  # fmt: skip
    if given(comparison_lgn):
        c = _plain(comparison_lgn, lang)
        sheets.append(Sheet(_text("comparison_lgn", lang), c, default_headers(c, lang),
                            description=_text("desc_comparison_lgn", lang)))  # fmt: skip
    if given(comparison_wijk):
        c = _plain(comparison_wijk, lang)
        sheets.append(Sheet(_text("comparison_wijk", lang), c, default_headers(c, lang),
                            description=_text("desc_comparison_wijk", lang)))  # fmt: skip
    for scenario, table in (timetables or {}).items():
        if given(table):
            t = _plain(table, lang)
            sheets.append(Sheet(f"{label('timetable', lang)} {scenario}", t, default_headers(t, lang),
                                description=f"{_text('desc_timetable', lang)}: {scenario}"))  # fmt: skip
    for scenario, table in (sweeps or {}).items():
        if given(table):
            t = _plain(table, lang)
            sheets.append(Sheet(f"{_text('sweep', lang)} {scenario}", t, default_headers(t, lang),
                                description=f"{_text('desc_sweep', lang)}: {scenario}"))  # fmt: skip
    return sheets
