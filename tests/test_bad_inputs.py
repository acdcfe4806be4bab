"""Bad inputs as users make them: each must end in one clear line and a non-zero exit, nothing changed.

Every case runs the real command line (``geoplanner.cli.main``) in a sandbox: a data folder of
links to the real bundle (so a case can damage one file without touching the real one), an output
folder holding the files of an earlier run, and its own working directory. The test asserts the exit
code, that stderr is exactly one line naming the file / row / column or option, that no traceback
escapes, and that no file in the output or data folders was created, changed or removed (a link is
compared by where it points and by the content it points to).

Most cases fail before a step has written anything. The ``late-*`` cases fail after the step has staged
some of its outputs: the disk fills up while its last file (the manifest) is written, or a folder stands
where one of its files should go. Guarded mutation: a step that commits its staged files when it fails
(``Stage.discard`` renaming them into place) leaves every ``late-*`` case with changed files;
``test_late_failures_catch_a_step_that_commits_on_failure`` runs them so and sees it.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Case:
    """One bad input: the command (``{d}`` is the case folder), files to create, the expected message."""

    id: str
    argv: tuple[str, ...]
    expect: str  # regex the one error line must match
    files: dict[str, str | bytes] = field(default_factory=dict)
    setup: Callable[[Path, Path], None] | None = None  # (case folder, data folder)
    code: int = 1
    patch: Callable[[pytest.MonkeyPatch], None] | None = None  # a failure no file can cause (a full disk)
    env: dict[str, str] = field(default_factory=dict)  # environment variables ({d}: the case folder)


def _scenario(body: str) -> str:
    return 'name = "bad"\n' + body


# A syntactically valid OSM XML with one residential street in the centre of Brussels.
_ONE_STREET = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
  <node id="1" lat="50.8466" lon="4.3528" version="1"/>
  <node id="2" lat="50.8470" lon="4.3540" version="1"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>
</osm>
"""

_GOOD_SERVICES = "id,name,type,lat,lon\nS-1,Consultatie,kg,50.85,4.35\n"


def _xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    import io

    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _damage(key: str, how: str) -> Callable[[Path, Path], None]:
    """Replace one bundle file of the sandbox by a damaged copy (truncated, halved or empty)."""

    def setup(case_dir: Path, data: Path) -> None:
        from geoplanner.inputs.bundle import load_bundle

        rel = load_bundle(ROOT / "data" / "bundle.toml")[key].path
        target = data / rel
        raw = target.read_bytes()
        target.unlink()
        if how == "empty":
            target.write_bytes(b"")
        elif how == "half":
            target.write_bytes(raw[: len(raw) // 2])
        elif how == "mid-row":
            lines = raw.splitlines(keepends=True)
            target.write_bytes(b"".join(lines[: len(lines) // 2]) + lines[len(lines) // 2][:7])
        elif how == "missing":
            pass
        else:  # pragma: no cover - a typo in the table
            raise ValueError(how)

    return setup


# An OSMnx GraphML with two nodes and no edge (a graph saved before its streets were added).
_NODES_ONLY_GRAPHML = """<?xml version='1.0' encoding='utf-8'?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="d2" for="node" attr.name="y" attr.type="string" />
  <key id="d1" for="node" attr.name="x" attr.type="string" />
  <key id="d0" for="graph" attr.name="crs" attr.type="string" />
  <graph edgedefault="directed">
    <node id="1"><data key="d1">4.35</data><data key="d2">50.85</data></node>
    <node id="2"><data key="d1">4.36</data><data key="d2">50.85</data></node>
    <data key="d0">epsg:4326</data>
  </graph>
</graphml>
"""


def _truncated_copy(key: str, name: str, size: int) -> Callable[[Path, Path], None]:
    """Write the first ``size`` bytes of a bundle file into the case folder (a download cut off)."""

    def setup(case_dir: Path, data: Path) -> None:
        from geoplanner.inputs.bundle import load_bundle

        rel = load_bundle(ROOT / "data" / "bundle.toml")[key].path
        (case_dir / name).write_bytes((data / rel).read_bytes()[:size])

    return setup


def _no_scenarios_folder(case_dir: Path, data: Path) -> None:
    shutil.rmtree(case_dir / "scenarios")


def _write_bundle(text: str) -> Callable[[Path, Path], None]:
    def setup(case_dir: Path, data: Path) -> None:
        (data / "bundle.toml").unlink()
        (data / "bundle.toml").write_text(text, encoding="utf-8")

    return setup


def _existing_set(name: str) -> Callable[[Path, Path], None]:
    def setup(case_dir: Path, data: Path) -> None:
        folder = data / "services" / "user"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.csv").write_text("id,name,type,lat,lon\nOLD,Old,kg,50.85,4.35\n", encoding="utf-8")

    return setup


def _existing_figures(case_dir: Path, data: Path) -> None:
    folder = data / "indicators" / "user"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sector_figures.csv").write_text("code,births\n21001A00-,3\n", encoding="utf-8")


def _file_in_the_way(case_dir: Path, data: Path) -> None:
    (case_dir / "blocked").write_text("a file, not a folder\n", encoding="utf-8")


def _late(name: str, *, disk_full: bool = False) -> Callable[[pytest.MonkeyPatch], None]:
    """Patch the staged writer: when a step comes to write ``name``, it must have staged other files already
    (hidden temporary files in the output or data folder).

    That check keeps the case a late failure (an ``AssertionError`` escapes ``main`` and fails the test
    otherwise). With ``disk_full`` the write fails half-way, as when the disk fills up.
    """

    def patch(monkeypatch: pytest.MonkeyPatch) -> None:
        from geoplanner.outputs import files

        real = files.atomic_path

        @contextmanager
        def atomic_path(target: str | Path, **kwargs: object) -> Iterator[Path]:
            target = Path(target)
            if target.name == name:
                roots = (Path(os.environ["GEOPLANNER_OUTPUT_DIR"]), Path(os.environ["GEOPLANNER_DATA_DIR"]))
                staged = [p for root in roots for p in root.rglob(".*") if p.is_file()]
                assert staged, f"nothing staged before {name}: not a late failure"
            with real(target, **kwargs) as tmp:
                if target.name == name and disk_full:
                    tmp.write_bytes(b"half a manifest")
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
                yield tmp

        monkeypatch.setattr(files, "atomic_path", atomic_path)

    return patch


def _folder_at(*parts: str) -> Callable[[Path, Path], None]:
    """Put an (empty) folder where an output file of the step should go, under the sandbox's output folder."""

    def setup(case_dir: Path, data: Path) -> None:
        Path(os.environ["GEOPLANNER_OUTPUT_DIR"], *parts).mkdir(parents=True)

    return setup


def _all_sectors_of_commune(nis: int, column: str, value: float) -> str:
    """A figures file with every 2022 sector of one commune at the same value."""
    import pandas as pd

    cw = pd.read_csv(ROOT / "data" / "statistical_sectors" / "sector_to_monitoring_district_2022.csv", dtype=str)
    code_col = next(c for c in cw.columns if c.lower() in ("cd_sector", "sector", "code"))
    codes = sorted(c for c in cw[code_col] if c.startswith(str(nis)))
    return "code," + column + "\n" + "".join(f"{c},{value}\n" for c in codes)


IMPORT = ("services", "import")
FIG = ("indicators", "import")
COV = ("coverage", "--sets", "kg", "--no-raster", "--out", "{d}/cov")

CASES: list[Case] = [
    # --- services import: the file -----------------------------------------------------------------
    Case("svc-not-found", (*IMPORT, "{d}/nope.csv", "--set", "x"), r"nope\.csv: file not found"),
    Case("svc-empty", (*IMPORT, "{d}/f.csv", "--set", "x"), r"f\.csv: file is empty", {"f.csv": ""}),
    Case(
        "svc-header-only",
        (*IMPORT, "{d}/f.csv", "--set", "x"),
        r"f\.csv, row 1: .*no data rows",
        {"f.csv": "id,name,type,lat,lon\n"},
    ),
    Case(
        "svc-unquoted-comma-first-row",
        (*IMPORT, "{d}/f.csv", "--set", "x"),
        r"f\.csv, row 1: 6 fields where the header has 5",
        {"f.csv": "id,name,type,lat,lon\nA,Huis, De Kind,kg,50.85,4.35\n"},
    ),
    Case(
        "svc-unquoted-comma-later-row",
        (*IMPORT, "{d}/f.csv", "--set", "x"),
        r"f\.csv, row 2: 6 fields",
        {"f.csv": _GOOD_SERVICES + "B,Rue X, 5,kg,50.84,4.36\n"},
    ),
    Case(
        "svc-short-row",
        (*IMPORT, "{d}/f.csv", "--set", "x"),
        r"f\.csv, row 1: 3 fields where the header has 5",
        {"f.csv": "id,name,type,lat,lon\nA,Huis,kg\n"},
    ),
    Case(
        "svc-no-delimiter",
        (*IMPORT, "{d}/f.csv", "--set", "x"),
        r"f\.csv, row 0: cannot find the delimiter",
        {"f.csv": "just some words\nmore words\n"},
    ),
    Case(
        "svc-missing-id",
        (*IMPORT, "{d}/f.csv", "--set", "x"),
        r"f\.csv, column 'id': missing column",
        {"f.csv": "name,type,lat,lon\nA,kg,50.85,4.35\n"},
    ),
    Case(
        "svc-missing-name",
        (*IMPORT, "{d}/f.csv", "--set", "x"),
        r"f\.csv, column 'name': missing column",
        {"f.csv": "id,type,lat,lon\nA,kg,50.85,4.35\n"},
    ),
    Case(
        "svc-missing-type",
        (*IMPORT, "{d}/f.csv", "--set", "x"),
        r"f\.csv, column 'type': missing column",
        {"f.csv": "id,name,lat,lon\nA,B,50.85,4.35\n"},
    ),
    Case(
        "svc-no-coordinates-no-address",
        (*IMPORT, "{d}/f.csv", "--set", "x"),
        r"f\.csv: no coordinates",
        {"f.csv": "id,name,type\nA,B,kg\n"},
    ),
    Case(
        "svc-empty-id",
        (*IMPORT, "{d}/f.csv", "--set", "x"),
        r"f\.csv, row 2, column 'id': empty id",
        {"f.csv": _GOOD_SERVICES + ",Tweede,kg,50.84,4.36\n"},
    ),
    Case(
        "svc-empty-name",
        (*IMPORT, "{d}/f.csv", "--set", "x"),
        r"f\.csv, row 1, column 'name': empty name",
        {"f.csv": "id,name,type,lat,lon\nA,,kg,50.85,4.35\n"},
    ),
    Case(
        "svc-duplicate-id",
        (*IMPORT, "{d}/f.csv", "--set", "x"),
        r"f\.csv, row 2, column 'id': duplicate id 'S-1'",
        {"f.csv": _GOOD_SERVICES + "S-1,Tweede,kg,50.84,4.36\n"},
    ),
    Case(
        "svc-two-columns-same-meaning",
        (*IMPORT, "{d}/f.csv", "--set", "x"),
        r"f\.csv, column 'naam': two columns mean 'name'",
        {"f.csv": "id,name,naam,type,lat,lon\nA,B,C,kg,50.85,4.35\n"},
    ),
    Case(
        "svc-nul-bytes-no-bom",  # UTF-16 without its byte-order mark, or a binary file named .csv
        (*IMPORT, "{d}/f.csv", "--set", "x"),
        r"f\.csv: cannot read the file as text: it holds NUL bytes",
        {"f.csv": _GOOD_SERVICES.encode("utf-16-le")},
    ),
    Case(
        "svc-unsupported-type",
        (*IMPORT, "{d}/f.docx", "--set", "x"),
        r"f\.docx: unsupported file type",
        {"f.docx": b"PK\x03\x04 not really"},
    ),
    Case(
        "svc-broken-xlsx",
        (*IMPORT, "{d}/f.xlsx", "--set", "x"),
        r"f\.xlsx: cannot read the spreadsheet",
        {"f.xlsx": b"this is not a zip file"},
    ),
    Case(
        "svc-xlsx-two-sheets",
        (*IMPORT, "{d}/f.xlsx", "--set", "x"),
        r"f\.xlsx: 2 sheets hold data .*--sheet",
        {
            "f.xlsx": _xlsx(
                {
                    "A": [["id", "name", "type", "lat", "lon"], ["S", "N", "kg", 50.85, 4.35]],
                    "B": [["id", "name", "type", "lat", "lon"], ["T", "M", "kg", 50.84, 4.36]],
                }
            )
        },
    ),
    Case(
        "svc-xlsx-unknown-sheet",
        (*IMPORT, "{d}/f.xlsx", "--set", "x", "--sheet", "C"),
        r"f\.xlsx: no sheet named 'C'",
        {"f.xlsx": _xlsx({"A": [["id", "name", "type", "lat", "lon"], ["S", "N", "kg", 50.85, 4.35]]})},
    ),
    Case(
        "svc-xlsx-empty",
        (*IMPORT, "{d}/f.xlsx", "--set", "x"),
        r"f\.xlsx: the workbook is empty",
        {"f.xlsx": _xlsx({"A": []})},
    ),
    Case(
        "svc-broken-gpkg",
        (*IMPORT, "{d}/f.gpkg", "--set", "x"),
        r"f\.gpkg: cannot read vector file",
        {"f.gpkg": b"SQLite format 3\x00 broken"},
    ),
    # --- services import: the options ----------------------------------------------------------------
    Case(
        "svc-bad-set-name",
        (*IMPORT, "{d}/f.csv", "--set", "Mijn Set!"),
        r"invalid set name 'Mijn Set!'",
        {"f.csv": _GOOD_SERVICES},
    ),
    Case(
        "svc-builtin-set-name",
        (*IMPORT, "{d}/f.csv", "--set", "kg"),
        r"'kg' is a built-in set name",
        {"f.csv": _GOOD_SERVICES},
    ),
    Case(
        "svc-set-exists",
        (*IMPORT, "{d}/f.csv", "--set", "mine"),
        r"mine\.csv: service set 'mine' exists already",
        {"f.csv": _GOOD_SERVICES},
        _existing_set("mine"),
    ),
    Case(
        "svc-bad-crs",
        (*IMPORT, "{d}/f.csv", "--set", "x", "--crs", "EPSG:9999"),
        r"unsupported CRS EPSG:9999",
        {"f.csv": _GOOD_SERVICES},
    ),
    Case(
        "svc-out-is-a-file",
        (*IMPORT, "{d}/f.csv", "--set", "x", "--out", "{d}/blocked"),
        r"blocked/imports, option --out: cannot write outputs here: .*blocked is a file",
        {"f.csv": _GOOD_SERVICES},
        _file_in_the_way,
    ),
    # --- indicators import -------------------------------------------------------------------------------
    Case("fig-not-found", (*FIG, "{d}/nope.csv"), r"nope\.csv: file not found"),
    Case(
        "fig-no-code",
        (*FIG, "{d}/f.csv"),
        r"f\.csv, column 'code': no sector code column",
        {"f.csv": "sector_name,births\nX,3\n"},
    ),
    Case("fig-no-figure", (*FIG, "{d}/f.csv"), r"f\.csv: no figure column", {"f.csv": "code,other\n21001A00-,3\n"}),
    Case(
        "fig-empty-code",
        (*FIG, "{d}/f.csv"),
        r"f\.csv, row 2, column 'code': empty sector code",
        {"f.csv": "code,births\n21001A00-,3\n,4\n"},
    ),
    Case(
        "fig-duplicate-code",
        (*FIG, "{d}/f.csv"),
        r"f\.csv, row 2, column 'code': duplicate sector code",
        {"f.csv": "code,births\n21001A00-,3\n21001A00-,4\n"},
    ),
    Case(
        "fig-unknown-code",
        (*FIG, "{d}/f.csv"),
        r"f\.csv, row 1, column 'code': 1 unknown sector code",
        {"f.csv": "code,births\n99999Z99-,3\n"},
    ),
    Case(
        "fig-not-a-number",
        (*FIG, "{d}/f.csv"),
        r"f\.csv, row 1, column 'births': not a number: 'twaalf'",
        {"f.csv": "code,births\n21001A00-,twaalf\n"},
    ),
    Case(
        "fig-inf",
        (*FIG, "{d}/f.csv"),
        r"f\.csv, row 1, column 'births': not a number: 'inf'",
        {"f.csv": "code,births\n21001A00-,inf\n"},
    ),
    Case(
        "fig-nan",
        (*FIG, "{d}/f.csv"),
        r"f\.csv, row 1, column 'pop_0_2': not a number: 'nan'",
        {"f.csv": "code,pop_0_2\n21001A00-,nan\n"},
    ),
    Case(
        "fig-1e300",
        (*FIG, "{d}/f.csv"),
        r"f\.csv, row 1, column 'births': .*more than 2x",
        {"f.csv": "code,births\n21001A00-,1e300\n"},
    ),
    Case(
        "fig-negative",
        (*FIG, "{d}/f.csv"),
        r"f\.csv, row 1, column 'births': negative value",
        {"f.csv": "code,births\n21001A00-,-3\n"},
    ),
    Case(
        "fig-index-above-100",
        (*FIG, "{d}/f.csv"),
        r"f\.csv, row 1, column 'kansarmoede_index': .*outside 0-100",
        {"f.csv": "code,kansarmoede_index\n21001A00-,150\n"},
    ),
    Case(
        "fig-births-above-0-2",
        (*FIG, "{d}/f.csv"),
        r"f\.csv, row 2, column 'births': more births than children",
        {"f.csv": "code,births,pop_0_2\n21001A00-,3,9\n21001A011,12,9\n"},
    ),
    Case(
        "fig-0-2-above-total",
        (*FIG, "{d}/f.csv"),
        r"f\.csv, row 1, column 'pop_0_2': more children aged 0-2 than",
        {"f.csv": "code,pop_0_2,pop_total\n21001A00-,90,40\n"},
    ),
    Case(
        "fig-births-above-total",
        (*FIG, "{d}/f.csv"),
        r"f\.csv, row 1, column 'births': more births than inhabitants",
        {"f.csv": "code,births,pop_total\n21001A00-,50,40\n"},
    ),
    Case(
        "fig-70x-commune",
        (*FIG, "{d}/f.csv"),
        r"f\.csv, row 1, column 'pop_0_2': the sectors of commune 21002 sum to",
        {"f.csv": _all_sectors_of_commune(21002, "pop_0_2", 2000)},
    ),
    Case(
        "fig-bad-year",
        (*FIG, "{d}/f.csv"),
        r"f\.csv, row 1, column 'year': not a year",
        {"f.csv": "code,births,year\n21001A00-,3,vorig jaar\n"},
    ),
    Case(
        "fig-exists",
        (*FIG, "{d}/f.csv"),
        r"sector_figures\.csv: sector figures were imported before",
        {"f.csv": "code,births\n21001A00-,3\n"},
        _existing_figures,
    ),
    Case(
        "fig-out-is-a-file",
        (*FIG, "{d}/f.csv", "--out", "{d}/blocked"),
        r"option --out: cannot write outputs here: .*blocked is a file",
        {"f.csv": "code,births\n21001A00-,3\n"},
        _file_in_the_way,
    ),
    # --- scenario files ---------------------------------------------------------------------------------------
    Case("scn-not-found", ("site", "{d}/nope.toml"), r"nope\.toml"),
    Case(
        "scn-bad-toml", ("site", "{d}/s.toml"), r"s\.toml, row 2: not valid TOML", {"s.toml": _scenario("model = \n")}
    ),
    Case(
        "scn-no-name",
        ("site", "{d}/s.toml"),
        r"s\.toml, row 1, column 'name': the scenario has no 'name'",
        {"s.toml": 'model = "mclp"\n'},
    ),
    Case(
        "scn-unknown-key",
        ("site", "{d}/s.toml"),
        r"s\.toml, row 2, column 'modle': unknown key",
        {"s.toml": _scenario('modle = "mclp"\n')},
    ),
    Case(
        "scn-unknown-model",
        ("site", "{d}/s.toml"),
        r"s\.toml, row 2, column 'model': unknown model 'magic'",
        {"s.toml": _scenario('model = "magic"\n')},
    ),
    Case(
        "scn-wrong-type",
        ("site", "{d}/s.toml"),
        r"s\.toml, row 4, column 'siting\.k': must be a whole number",
        {"s.toml": _scenario('model = "mclp"\n[siting]\nk = "vijf"\n')},
    ),
    Case(
        "scn-negative-threshold",
        ("site", "{d}/s.toml"),
        r"s\.toml, row 3, column 'walk\.threshold_min': must be > 0",
        {"s.toml": _scenario("[walk]\nthreshold_min = -5\n")},
    ),
    Case(
        "scn-mclp-without-k",
        ("site", "{d}/s.toml"),
        r"s\.toml.*column 'siting\.k': model 'mclp' needs the number",
        {"s.toml": _scenario('model = "mclp"\n')},
    ),
    Case(
        "scn-unknown-commune",
        ("site", "{d}/s.toml"),
        r"s\.toml, row 3, column 'candidates\.communes': unknown commune NIS code 21099",
        {"s.toml": _scenario("[candidates]\ncommunes = [21099]\n")},
    ),
    Case(
        "scn-lgn-out-of-range",
        ("site", "{d}/s.toml"),
        r"s\.toml, row 3, column 'candidates\.lgn': an LGN is a number from 1 to 8",
        {"s.toml": _scenario("[candidates]\nlgn = [12]\n")},
    ),
    Case(
        "scn-unknown-table-key",
        ("site", "{d}/s.toml"),
        r"s\.toml, row 3, column 'rotation\.teamz': unknown key 'teamz' in \[rotation\]",
        {"s.toml": _scenario("[rotation]\nteamz = 2\n")},
    ),
    # --- data files (damaged after `data pull`) ---------------------------------------------------------------
    Case(
        "data-indicators-cut-mid-row",
        ("rank",),
        r"wijk_indicators_ibsa\.csv: dataset 'wijk_indicators' differs",
        setup=_damage("wijk_indicators", "mid-row"),
    ),
    Case(
        "data-ghsl-empty",
        ("rank",),
        r"\.tif: dataset 'ghsl_population' differs",
        setup=_damage("ghsl_population", "empty"),
    ),
    Case(
        "data-sectors-missing", ("rank",), r"\.gpkg: dataset 'sectors' is missing", setup=_damage("sectors", "missing")
    ),
    Case(
        "data-candidates-halved",
        ("site", "scenarios/priority_first.toml"),
        r"candidate_sites\.csv: dataset .* differs",
        setup=_damage("services_candidates", "half"),
    ),
    Case("data-bundle-bad-toml", ("rank",), r"bundle\.toml: invalid TOML", setup=_write_bundle("[datasets\n")),
    Case(
        "data-bundle-unknown-key",
        ("rank",),
        r"bundle\.toml: dataset 'x' has unknown key",
        setup=_write_bundle(
            '[datasets.x]\npath="a"\nsha256="b"\ntitle="t"\npublisher="p"\nlicence="l"\nyear=1\nurl="u"\nsize=3\n'
        ),
    ),
    # --- network files ----------------------------------------------------------------------------------------
    Case("net-not-found", (*COV, "--network", "{d}/nope.osm"), r"nope\.osm: network file not found"),
    Case("net-unknown-type", (*COV, "--network", "{d}/n.txt"), r"n\.txt: unknown network file type", {"n.txt": "x"}),
    Case(
        "net-not-xml", (*COV, "--network", "{d}/n.osm"), r"n\.osm: cannot read the network", {"n.osm": "not xml at all"}
    ),
    Case(
        "net-empty-graphml",
        (*COV, "--network", "{d}/n.graphml"),
        r"n\.graphml: cannot read the network",
        {"n.graphml": ""},
    ),
    Case(
        "net-garbage-pbf",
        (*COV, "--network", "{d}/n.osm.pbf"),
        r"n\.osm\.pbf: cannot read OSM ways",
        {"n.osm.pbf": b"\x00\x01garbage"},
    ),
    Case(
        "net-one-street",
        (*COV, "--network", "{d}/n.osm"),
        r"n\.osm: 100% of the young children live more than 250 m",
        {"n.osm": _ONE_STREET},
    ),
    # --- command-line options ---------------------------------------------------------------------------------
    Case(
        "opt-thresholds-duplicate", (*COV, "--thresholds", "15,5,5"), r"option --thresholds: 5 minutes is given twice"
    ),
    Case("opt-thresholds-nan", (*COV, "--thresholds", "nan"), r"option --thresholds: 'nan' is not a positive number"),
    Case("opt-thresholds-zero", (*COV, "--thresholds", "0,10"), r"option --thresholds: '0' is not a positive number"),
    Case("opt-thresholds-text", (*COV, "--thresholds", "tien"), r"option --thresholds: 'tien' is not a number"),
    Case("opt-speed-negative", (*COV, "--speed", "-3"), r"walking speed must be a positive number"),
    Case("opt-speed-nan", (*COV, "--speed", "nan"), r"walking speed must be a positive number"),
    Case("opt-profile-unknown", (*COV, "--profile", "fiets"), r"unknown speed profile 'fiets'"),
    Case("opt-speed-and-profile", (*COV, "--speed", "4", "--profile", "pram"), r"either --speed or --profile"),
    Case("opt-unknown-set", ("coverage", "--sets", "kg,nope", "--no-raster", "--out", "{d}/cov"), r"nope"),
    Case(
        "opt-empty-sets",
        ("coverage", "--sets", ",", "--no-raster", "--out", "{d}/cov"),
        r"option --sets: no service set given",
    ),
    Case(
        "opt-coverage-out-file",
        ("coverage", "--out", "{d}/blocked"),
        r"blocked, option --out: cannot write",
        setup=_file_in_the_way,
    ),
    Case(
        "opt-rank-out-file",
        ("rank", "--out", "{d}/blocked/x"),
        r"blocked/x, option --out: cannot write",
        setup=_file_in_the_way,
    ),
    Case(
        "opt-run-out-file",
        ("run", "--out", "{d}/blocked"),
        r"blocked, option --out: cannot write",
        setup=_file_in_the_way,
    ),
    Case("opt-rank-top-zero", ("rank", "--top", "0"), r"option --top: must be at least 1"),
    Case("opt-config-missing", ("rank", "--config", "{d}/nope.toml"), r"nope\.toml: file not found"),
    Case(
        "opt-config-unknown-key",
        ("rank", "--config", "{d}/c.toml"),
        r"c\.toml, column 'w_birth': unknown key",
        {"c.toml": "w_birth = 0.5\n"},
    ),
    Case(
        "opt-config-negative",
        ("rank", "--config", "{d}/c.toml"),
        r"c\.toml, column 'w_births': must not be negative",
        {"c.toml": "w_births = -1\n"},
    ),
    Case("opt-config-bad-toml", ("rank", "--config", "{d}/c.toml"), r"c\.toml: invalid TOML", {"c.toml": "w = [\n"}),
    Case("opt-map-lang", ("map", "--lang", "de"), r"option --lang: unknown language 'de'"),
    Case("opt-lgn-unknown-network", ("lgn", "3", "9", "--out", "{d}/o"), r"there is no LGN 9 \(the 8 networks"),
    Case("opt-lgn-lang", ("lgn", "--lang", "de", "--out", "{d}/o"), r"option --lang: unknown language 'de'"),
    Case("opt-lgn-not-a-number", ("lgn", "drie", "--out", "{d}/o"), r"there is no LGN drie"),
    Case("opt-speed-not-a-number", (*COV, "--speed", "snel"), r"--speed", code=2),
    Case("opt-unknown-command", ("rnak",), r"rnak", code=2),
    Case(
        "scn-infeasible-named-in-compare",
        ("compare", "{d}/s.toml", "--out", "{d}/o"),
        r"s\.toml: scenario 'onmogelijk': .*no candidate venue",
        {
            "s.toml": 'name = "onmogelijk"\nmodel = "rotation"\n[candidates]\nids = ["CAND-0001"]\n'
            "[rotation]\nteams = 1\nsessions_per_team = 1\n"
        },
    ),
    Case("opt-run-missing-scenario", ("run", "{d}/nope.toml", "--out", "{d}/o"), r"nope\.toml"),
    # --- late failures: the step has staged some of its outputs when it fails ----------------------------------
    Case(
        "late-rank-disk-full-at-manifest",
        ("rank",),
        r"manifest_rank\.json: No space left on device",
        patch=_late("manifest_rank.json", disk_full=True),
    ),
    Case(
        "late-rank-folder-at-manifest",
        ("rank",),
        r"manifest_rank\.json: cannot write this output: a folder has its name",
        setup=_folder_at("manifest_rank.json"),
        patch=_late("manifest_rank.json"),
    ),
    Case(
        "late-rank-folder-at-a-table",
        ("rank",),
        r"sector_need\.csv: cannot write this output: a folder has its name",
        setup=_folder_at("sector_need.csv"),
        patch=_late("sector_need.csv"),
    ),
    Case(
        "late-coverage-disk-full-at-manifest",
        ("coverage", "--sets", "kg", "--no-raster"),
        r"coverage/manifest\.json: No space left on device",
        patch=_late("manifest.json", disk_full=True),
    ),
    Case(
        "late-site-disk-full-at-manifest",
        ("site", "scenarios/current.toml"),
        r"manifest\.json: No space left on device",
        patch=_late("manifest.json", disk_full=True),
    ),
    Case(
        "late-services-import-disk-full-at-manifest",
        (*IMPORT, "{d}/f.csv", "--set", "x"),
        r"manifest_services_x\.json: No space left on device",
        {"f.csv": _GOOD_SERVICES},
        patch=_late("manifest_services_x.json", disk_full=True),
    ),
    Case(
        "late-indicators-import-disk-full-at-manifest",
        (*FIG, "{d}/f.csv"),
        r"manifest_indicators_import\.json: No space left on device",
        {"f.csv": "code,births\n21001A00-,3\n"},
        patch=_late("manifest_indicators_import.json", disk_full=True),
    ),
    # --- issue 21: a damaged bundle network is named, never silently rebuilt from the OSM extract -------------
    Case(
        "data-graphml-truncated",
        COV,
        r"walk\.graphml: dataset 'osm_walk_graphml' differs .*data pull --dataset osm_walk_graphml --replace.*"
        r"--network \S+_walk\.osm\.bz2",
        setup=_damage("osm_walk_graphml", "half"),
    ),
    Case(
        "data-graphml-missing",
        ("site", "scenarios/current.toml", "--out", "{d}/o"),
        r"walk\.graphml: dataset 'osm_walk_graphml' is missing \(pull it again with `geoplanner data pull "
        r"--dataset osm_walk_graphml`",
        setup=_damage("osm_walk_graphml", "missing"),
    ),
    Case(
        "net-graphml-no-edges",
        (*COV, "--network", "{d}/n.graphml"),
        r"n\.graphml: the walking network has no edges",
        {"n.graphml": _NODES_ONLY_GRAPHML},
    ),
    # --- issue 21: every option of `run` is checked before its first step writes anything ------------------------
    Case("opt-run-lang", ("run", "--lang", "de", "--out", "{d}/o"), r"option --lang: unknown language 'de'"),
    Case(
        "opt-run-self-contained-without-assets",
        ("run", "--self-contained", "--out", "{d}/o"),
        r"offline map assets missing .*geoplanner assets fetch",
        env={"GEOPLANNER_CACHE_DIR": "{d}/empty-cache"},
    ),
    Case("opt-run-network-missing", ("run", "--network", "{d}/nope.osm", "--out", "{d}/o"), r"nope\.osm: network file"),
    Case(
        "opt-run-network-garbage",
        ("run", "--network", "{d}/n.osm", "--out", "{d}/o"),
        r"n\.osm: cannot read the network",
        {"n.osm": "not xml at all"},
    ),
    Case(
        "opt-run-network-one-street",
        ("run", "--network", "{d}/n.osm", "--out", "{d}/o"),
        r"n\.osm: 100% of the young children live more than 250 m",
        {"n.osm": _ONE_STREET},
    ),
    Case(
        "opt-run-config-top-n",
        ("run", "--config", "{d}/c.toml", "--out", "{d}/o"),
        r"c\.toml, column 'top_n': top_n = 200 would make all 117 rankable wijken priority wijken",
        {"c.toml": "top_n = 200\n"},
    ),
    Case("opt-report-lang", ("report", "scenarios/current.toml", "--lang", "EN"), r"option --lang: unknown language"),
    # --- issue 21: parameters the data cannot satisfy name their file and key -----------------------------------
    Case(
        "cfg-min-population-too-high",
        ("rank", "--config", "{d}/c.toml"),
        r"c\.toml, column 'min_population': only 0 of the 118 residential wijken have at least 40000 inhabitants",
        {"c.toml": 'deprivation_method = "pca"\nmin_population = 40000\n'},
    ),
    Case(
        "cfg-top-n-above-rankable",
        ("rank", "--config", "{d}/c.toml"),
        r"c\.toml, column 'top_n': top_n = 200 would make all 117 rankable wijken priority wijken",
        {"c.toml": "top_n = 200\n"},
    ),
    Case("opt-rank-top-all", ("rank", "--top", "117"), r"option --top: top_n = 117 would make all 117 rankable"),
    # --- more, as users make them: folders moved, files from Excel, LibreOffice and Notepad ---------------------
    Case(
        "data-dir-moved",
        ("rank",),
        r"gone/data: no data folder here \(GEOPLANNER_DATA_DIR\).*point GEOPLANNER_DATA_DIR at its new place",
        env={"GEOPLANNER_DATA_DIR": "{d}/gone/data"},
    ),
    Case(
        "data-dir-is-the-project-folder",
        ("rank",),
        r"dataset 'sectors' is not in this folder \(GEOPLANNER_DATA_DIR\) but in its data/ subfolder",
        env={"GEOPLANNER_DATA_DIR": "{d}/.."},
    ),
    Case(
        "opt-run-without-scenarios-folder",
        ("run", "--out", "{d}/o"),
        r"scenarios: no scenarios folder here",
        setup=_no_scenarios_folder,
    ),
    Case(
        "data-run-services-halved",
        ("run", "--out", "{d}/o"),
        r"kg_consultatiebureaus\.csv: dataset 'services_kg' differs",
        setup=_damage("services_kg", "half"),
    ),
    Case(
        "net-download-cut-off",
        (*COV, "--network", "{d}/walk.osm.bz2"),
        r"walk\.osm\.bz2: cannot read the network: Compressed file ended",
        setup=_truncated_copy("osm_walk", "walk.osm.bz2", 200_000),
    ),
    Case(
        "scn-notepad-bom-crlf",
        ("site", "{d}/s.toml"),
        r"s\.toml, row 2, column 'modle': unknown key",
        {"s.toml": '\ufeffname = "kladblok"\r\nmodle = "mclp"\r\n'},
    ),
    Case(
        "cfg-notepad-utf16",
        ("rank", "--config", "{d}/c.toml"),
        r"c\.toml: file is not UTF-8 text",
        {"c.toml": "top_n = 20\n".encode("utf-16")},
    ),
    Case(
        "fig-excel-na",
        (*FIG, "{d}/f.csv"),
        r"f\.csv, row 1, column 'births': not a number: '#N/A'",
        {"f.csv": "code;births;pop_0_2\r\n21001A00-;#N/A;30\r\n21001A011;4;20\r\n"},
    ),
    Case(
        "scn-folder-not-file",
        ("site", "scenarios"),
        r"scenarios: scenario file is a folder",
    ),
]


def _snapshot(*roots: Path) -> dict[str, str]:
    """sha256 of every file, every folder; a link by where it points and the sha256 of what it points to."""
    out = {}
    for root in roots:
        for p in sorted(root.rglob("*")):
            if p.is_symlink():
                content = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dangling"
                out[str(p)] = f"link to {os.readlink(p)}: {content}"
            elif p.is_file():
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
            elif p.is_dir():  # an empty output folder left behind is something written too
                out[str(p)] = "folder"
    return out


@pytest.fixture()
def sandbox(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """A case folder, a data folder of links to the real bundle, and outputs of an 'earlier run'."""
    data = tmp_path / "data"
    for p in data_dir.rglob("*"):
        rel = p.relative_to(data_dir)
        if p.is_dir() or rel.parts[:2] in (("services", "user"), ("indicators", "user")):
            continue
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).symlink_to(p)
    out = tmp_path / "outputs"
    (out / "coverage").mkdir(parents=True)
    (out / "priority_wijken.csv").write_text("rank,mdrc\n1,1\n", encoding="utf-8")
    (out / "coverage" / "coverage_region.csv").write_text("service_set,pop_0_2\nkg,1\n", encoding="utf-8")
    case = tmp_path / "case"
    case.mkdir()
    shutil.copytree(ROOT / "scenarios", case / "scenarios")
    monkeypatch.setenv("GEOPLANNER_DATA_DIR", str(data))
    monkeypatch.setenv("GEOPLANNER_OUTPUT_DIR", str(out))
    monkeypatch.chdir(case)
    return case, data, out


def test_at_least_sixty_cases() -> None:
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)


def _prepare(case: Case, case_dir: Path, data: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Set the case's environment, write its files, run its setup and patch; return its command line."""
    for name, value in case.env.items():
        monkeypatch.setenv(name, value.replace("{d}", str(case_dir)))
    for name, content in case.files.items():
        target = case_dir / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    if case.setup is not None:
        case.setup(case_dir, data)
    if case.patch is not None:
        case.patch(monkeypatch)
    return [a.replace("{d}", str(case_dir)) for a in case.argv]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(
    case: Case,
    sandbox: tuple[Path, Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from geoplanner.cli import main

    case_dir, data, out = sandbox
    argv = _prepare(case, case_dir, data, monkeypatch)
    before = _snapshot(out, data, case_dir)

    code = main(argv)  # an escaping exception (a traceback for the user) fails the test here

    err = capsys.readouterr().err.strip()
    assert code == case.code, err
    assert "Traceback" not in err
    if case.code == 1:
        assert len(err.splitlines()) == 1, err
    assert re.search(case.expect, err), err
    assert _snapshot(out, data, case_dir) == before, "an output or input changed"
    assert not [p for p in (*out.rglob(".*"), *data.rglob(".*")) if p.is_file()], "temporary files left behind"


LATE = [c for c in CASES if c.id.startswith("late-")]


@pytest.mark.parametrize("case", LATE, ids=[c.id for c in LATE])
def test_late_failures_catch_a_step_that_commits_on_failure(
    case: Case, sandbox: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mutation the late cases guard against: a failed step renames what it staged into place."""
    from geoplanner.cli import main
    from geoplanner.outputs import files

    case_dir, data, out = sandbox
    argv = _prepare(case, case_dir, data, monkeypatch)
    before = _snapshot(out, data, case_dir)
    monkeypatch.setattr(files._Stage, "discard", files._Stage.commit)  # the mutation
    assert main(argv) == 1
    assert _snapshot(out, data, case_dir) != before


def test_nan_coordinates_are_flagged_not_given(sandbox: tuple[Path, Path, Path]) -> None:
    """A row with 'nan' coordinates is kept unplaced with the reason, never marked as given."""
    from geoplanner.pipeline.imports import import_services

    case_dir, data, _out = sandbox
    f = case_dir / "f.csv"
    f.write_text(_GOOD_SERVICES + "S-2,Geen punt,kg,nan,nan\n", encoding="utf-8")
    report = import_services(f, "nanset")
    row = report.rows.set_index("id").loc["S-2"]
    assert not row["placed"] and row["accuracy"] == "invalid" and "not a number" in row["reason"]


def test_formula_cells_are_neutralised(sandbox: tuple[Path, Path, Path]) -> None:
    """Names a spreadsheet would run as formulas reach every CSV written as text."""
    import pandas as pd

    from geoplanner.pipeline.imports import import_services

    case_dir, data, _out = sandbox
    f = case_dir / "f.csv"
    f.write_text(
        'id,name,type,lat,lon\n=1+1,"=HYPERLINK(""http://x"")",kg,50.85,4.35\n@S,+32 2 555,kg,50.84,4.36\n',
        encoding="utf-8",
    )
    report = import_services(f, "formula")
    stored = pd.read_csv(report.stored, dtype=str)
    assert set(stored["name"]) == {'\'=HYPERLINK("http://x")', "'+32 2 555"}
    assert set(stored["id"]) == {"'=1+1", "'@S"}
    assert stored["lat"].str.match(r"^\d").all()  # numbers untouched


def test_interrupt_exits_130_and_keeps_earlier_outputs(tmp_path: Path, data_dir: Path) -> None:
    """Ctrl-C during `coverage` (real console script, real SIGINT): exit 130, one line, old outputs intact."""
    import signal
    import time

    out = tmp_path / "cov"
    out.mkdir()
    (out / "manifest.json").write_text('{"outputs": []}\n', encoding="utf-8")
    (out / "coverage_region.csv").write_text("old\n", encoding="utf-8")
    before = _snapshot(out)
    exe = Path(sys.executable).with_name("geoplanner")
    env = {**os.environ, "GEOPLANNER_DATA_DIR": str(data_dir)}
    proc = subprocess.Popen(
        [str(exe), "coverage", "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    # Wait until the run is writing its outputs (staged temporary files appear), then interrupt.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(p.name.startswith(".") for p in out.iterdir()):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _stdout, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert len(err.strip().splitlines()) == 1 and "interrupted" in err
    assert _snapshot(out) == before
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "temporary files left behind"


def test_exit_code_reaches_the_shell(tmp_path: Path, data_dir: Path) -> None:
    """`data check` with a missing file exits 1 through the console script (typer's code is not dropped)."""
    data = tmp_path / "data"
    shutil.copytree(data_dir, data, symlinks=True, ignore=shutil.ignore_patterns("user"))
    next(data.rglob("hvhk_locations.csv")).unlink()
    exe = Path(sys.executable).with_name("geoplanner")
    env = {**os.environ, "GEOPLANNER_DATA_DIR": str(data)}
    proc = subprocess.run([str(exe), "data", "check"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1
    assert "missing" in proc.stdout


def _site_manifest(folder: Path) -> dict:
    import json

    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def test_moved_data_folder_keeps_its_cache(
    sandbox: tuple[Path, Path, Path], cache_on: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 21: after the data folder moves, a warm cache still serves `site` and `coverage`, naming the new place.

    The stored solution once carried the paths of the folder that solved it, so the manifest of the next run
    hashed files that were no longer there ("No such file or directory").
    """
    from geoplanner.cli import main

    case_dir, data, _out = sandbox
    assert main(["site", "scenarios/current.toml", "--out", str(case_dir / "before")]) == 0
    assert _site_manifest(case_dir / "before")["solution_cache"]["hit"] is False
    moved = case_dir / "verhuisd"
    shutil.move(data, moved)
    monkeypatch.setenv("GEOPLANNER_DATA_DIR", str(moved))
    assert main(["site", "scenarios/current.toml", "--out", str(case_dir / "after")]) == 0
    assert main(["coverage", "--sets", "kg", "--no-raster", "--out", str(case_dir / "cov")]) == 0
    after = _site_manifest(case_dir / "after")
    assert after["solution_cache"]["hit"] is True  # the same solution, found by content
    data_inputs = [i["path"] for i in after["inputs"] if not i["path"].startswith("scenarios")]
    assert data_inputs and all(p.startswith(str(moved)) for p in data_inputs), data_inputs
    for manifest in (case_dir / "after" / "manifest.json", case_dir / "cov" / "manifest.json"):
        assert str(data) + os.sep not in manifest.read_text(encoding="utf-8")


def test_user_figures_note_counts_what_they_replaced(
    sandbox: tuple[Path, Path, Path], need_data: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 21: the note names the sectors and wijken the user's figures reached, and says so when none."""
    import dataclasses

    from geoplanner.inputs.sector_figures import load_sector_figures
    from geoplanner.need import NeedParams, build_need

    _case_dir, data, _out = sandbox
    stored = data / "indicators" / "user" / "sector_figures.csv"
    stored.parent.mkdir(parents=True)
    params = NeedParams(stability_draws=0)

    def note(text: str) -> str:
        stored.write_text(text, encoding="utf-8")
        built = build_need(dataclasses.replace(need_data, figures=load_sector_figures(data)), params)
        return next(n for n in built.notes if n.startswith("Echte cijfers"))

    # two 2022 sectors of one wijk: not the 22 wijken whose estimates merely mix 'derived' and 'estimated'
    assert "gebruikt voor 2 sectoren in 1 wijken" in note("code,births\n21004A001,5\n21004A002,4\n")
    # 2025 codes covering 2 of the 7 sectors of wijk 58: nothing is replaced, and the note says so
    assert "NIET gebruikt" in note("code,births\n21001A00K,5\n21001A02K,4\n")


def test_an_empty_open_service_set_is_said(
    sandbox: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 21: a scenario opening a set whose file has a header and no rows says that nothing of it is open."""
    from geoplanner.cli import main

    case_dir, data, _out = sandbox
    (data / "services" / "user").mkdir(parents=True)
    (data / "services" / "user" / "leeg.csv").write_text("id,name,type,lat,lon\n", encoding="utf-8")
    (case_dir / "s.toml").write_text('name = "leeg_open"\n[services]\nopen = ["leeg"]\n', encoding="utf-8")
    assert main(["site", "s.toml", "--out", str(case_dir / "o")]) == 0
    notes = (case_dir / "o" / "notes.txt").read_text(encoding="utf-8")
    assert "dienstenset 'leeg' heeft geen enkele gelokaliseerde dienst" in notes


def test_an_excel_export_in_dutch_imports_as_written(sandbox: tuple[Path, Path, Path]) -> None:
    """Excel (nl-BE) saves a list as CSV with a byte-order mark, `;`, decimal commas and CRLF: read as meant."""
    import pandas as pd

    from geoplanner.cli import main

    case_dir, data, _out = sandbox
    f = case_dir / "lijst.csv"
    rows = "id;naam;type;lat;lon\r\nA;Consultatie Noord;kg;50,8612;4,3521\r\nB;Crèche Zuid;kg;50,8201;4,3412\r\n"
    f.write_bytes(("\ufeff" + rows).encode("utf-8"))
    assert main(["services", "import", str(f), "--set", "excel"]) == 0
    stored = pd.read_csv(data / "services" / "user" / "excel.csv").set_index("id")
    assert stored.loc["A", "lat"] == pytest.approx(50.8612) and stored.loc["B", "lon"] == pytest.approx(4.3412)
    assert stored.loc["B", "name"] == "Crèche Zuid"


def test_a_count_with_a_thousands_separator_is_refused(
    sandbox: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from geoplanner.cli import main

    case_dir, _data, _out = sandbox
    (case_dir / "f.csv").write_text("code;pop_total\n21001A00-;1.234\n", encoding="utf-8")
    assert main(["indicators", "import", str(case_dir / "f.csv")]) == 1
    err = capsys.readouterr().err
    assert "row 1, column 'pop_total'" in err and "'1.234' is ambiguous" in err


def test_readme_counts_the_cases() -> None:
    """The README says how many bad inputs are checked: the number of cases here."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    found = re.search(r"holds these promises to account: (\d+) bad inputs", readme)
    assert found and int(found.group(1)) == len(CASES)
