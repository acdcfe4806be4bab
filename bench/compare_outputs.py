"""Compare two output folders of `geoplanner run`: are they the same results?

    python bench/compare_outputs.py BEFORE AFTER [--ignore-solver]

Every file of either folder is compared by kind, and one line per file says what differs:

- CSV: the tables, cell by cell (``equal``), else the columns or the first differing cells;
- GeoPackage: every layer (attributes and geometries) and the ``layer_styles`` table, not the file's bytes
  (a GeoPackage records when it was written);
- JSON manifests: everything but what says *when* or *how fast* (``created_utc``, ``timings_s``) and what
  names the code (cache keys, which change with any source change, and the sha256 of outputs whose content
  is compared on its own);
- HTML: the text, once folium's random element ids are numbered in order of appearance;
- XLSX: every sheet's cells (values and number formats), not the archive's bytes;
- anything else (PNG, GeoTIFF, TXT): the bytes.

With ``--ignore-solver``, the solver's seconds (``solve_s``, "Rekentijd (s)" in the report and the workbook) are not
compared: they differ from one solve to the next. Exits 1 when anything differs.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

import openpyxl
import pandas as pd
import pyogrio

#: What says when or how fast a run went, or names the code (a cache key, whether it was found): not a result.
_VOLATILE = {"created_utc", "timings_s", "key", "hit"}
#: Headers of the solver's seconds in the report and the workbook (nl, fr, en), left out with --ignore-solver.
_SOLVE_HEADERS = ("Rekentijd (s)", "Temps de calcul (s)", "Solve time (s)", "solve_s")
_HEX_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
_TABLE = re.compile(r"<table\b.*?</table>", re.S)
_ROW = re.compile(r"<tr\b.*?</tr>", re.S)
_CELL = re.compile(r"<(t[hd])\b([^>]*)>(.*?)</\1>", re.S)


def _html(a: Path, b: Path, ignore_solver: bool) -> str:
    """Compare two pages once folium's random element ids (32 hex digits) are numbered in order of appearance."""

    def norm(text: str) -> str:
        ids: dict[str, str] = {}
        text = _HEX_ID.sub(lambda m: ids.setdefault(m.group(0), f"id{len(ids)}"), text)
        return _TABLE.sub(_blank_solver_column, text) if ignore_solver else text

    ta, tb = norm(a.read_text(encoding="utf-8")), norm(b.read_text(encoding="utf-8"))
    if ta == tb:
        return "equal"
    i = (
        next(k for k in range(min(len(ta), len(tb))) if ta[k] != tb[k])
        if ta[: len(tb)] != tb[: len(ta)]
        else min(len(ta), len(tb))
    )
    return f"text differs at character {i}: {ta[i : i + 60]!r} != {tb[i : i + 60]!r}"


def _blank_solver_column(table: re.Match) -> str:
    """Blank the cells under a solver-seconds header in one HTML table."""
    rows = _ROW.findall(table.group(0))
    if not rows:
        return table.group(0)
    header = [c[2].strip() for c in _CELL.findall(rows[0])]
    cols = [i for i, h in enumerate(header) if h in _SOLVE_HEADERS]
    if not cols:
        return table.group(0)
    out = table.group(0)
    for row in rows[1:]:
        cells = _CELL.findall(row)
        new = row
        for i in cols:
            if i < len(cells):
                tag, attrs, body = cells[i]
                new = new.replace(f"<{tag}{attrs}>{body}</{tag}>", f"<{tag}{attrs}></{tag}>", 1)
        out = out.replace(row, new, 1)
    return out


def _xlsx(a: Path, b: Path, ignore_solver: bool) -> str:
    """Compare two workbooks sheet by sheet, cell by cell (values and number formats)."""
    wa, wb = openpyxl.load_workbook(a), openpyxl.load_workbook(b)
    if wa.sheetnames != wb.sheetnames:
        return f"sheets differ: {wa.sheetnames} != {wb.sheetnames}"
    for name in wa.sheetnames:
        ra = [[(c.value, c.number_format) for c in row] for row in wa[name].iter_rows()]
        rb = [[(c.value, c.number_format) for c in row] for row in wb[name].iter_rows()]
        if ignore_solver:
            for rows in (ra, rb):
                skip = {j for r in rows for j, (v, _) in enumerate(r) if v in _SOLVE_HEADERS}
                for r in rows:
                    for j in skip:
                        if j < len(r) and r[j][0] not in _SOLVE_HEADERS:
                            r[j] = (None, r[j][1])
        if ra != rb:
            return f"sheet {name!r} differs"
    return "equal"


def _csv(a: Path, b: Path, ignore: set[str]) -> str:
    fa, fb = pd.read_csv(a, dtype=str, keep_default_na=False), pd.read_csv(b, dtype=str, keep_default_na=False)
    fa = fa.drop(columns=[c for c in ignore if c in fa])
    fb = fb.drop(columns=[c for c in ignore if c in fb])
    if list(fa.columns) != list(fb.columns):
        return f"columns differ: {sorted(set(fa.columns) ^ set(fb.columns))} or their order"
    if fa.shape != fb.shape:
        return f"shape {fa.shape} != {fb.shape}"
    diff = fa.ne(fb)
    if not diff.any().any():
        return "equal"
    col = diff.any().idxmax()
    row = int(diff[col].to_numpy().argmax())
    first = f"{fa[col].iloc[row]!r} != {fb[col].iloc[row]!r}"
    return f"{int(diff.to_numpy().sum())} cells differ, first {col!r} row {row}: {first}"


def _styles(path: Path) -> list[tuple]:
    with closing(sqlite3.connect(path)) as con:
        try:
            rows = con.execute("SELECT f_table_name, styleName, styleQML, styleSLD, useAsDefault FROM layer_styles")
        except sqlite3.OperationalError:
            return []
        return sorted(rows.fetchall())


def _gpkg(a: Path, b: Path) -> str:
    la, lb = [n for n, _ in pyogrio.list_layers(a)], [n for n, _ in pyogrio.list_layers(b)]
    if sorted(la) != sorted(lb):
        return f"layers differ: {sorted(set(la) ^ set(lb))}"
    for layer in la:
        ga, gb = pyogrio.read_dataframe(a, layer=layer), pyogrio.read_dataframe(b, layer=layer)
        if list(ga.columns) != list(gb.columns) or len(ga) != len(gb):
            return f"layer {layer}: columns or rows differ"
        attrs = [c for c in ga.columns if c != "geometry"]
        if not ga[attrs].equals(gb[attrs]):
            return f"layer {layer}: attributes differ"
        if "geometry" in ga and not ga.geometry.geom_equals_exact(gb.geometry, tolerance=0).all():
            return f"layer {layer}: geometries differ"
    return "equal" if _styles(a) == _styles(b) else "layer_styles differ"


def _strip(obj: object, key: str | None = None) -> object:
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k in _VOLATILE:
                continue
            out[k] = _strip(v, k)
        return out
    if isinstance(obj, list):
        return [_strip(v, key) for v in obj]
    return obj


def _normalise(entries: list, root: Path, here: Path, verdicts: dict[str, str]) -> None:
    """Make file paths relative to the output root; drop the digests of files compared equal on their own."""
    for entry in entries:
        path = Path(str(entry.get("path", "")))
        if path.is_absolute() and path.is_relative_to(root):
            rel = path.relative_to(root)
        elif not path.is_absolute():
            rel = (here / path) if (root / here / path).exists() else path
        else:
            continue
        entry["path"] = rel.as_posix()
        if verdicts.get(rel.as_posix()) == "equal":
            entry.pop("sha256", None)
            entry.pop("bytes", None)


def _manifest(before: Path, after: Path, rel: Path, verdicts: dict[str, str]) -> str:
    ma, mb = json.loads((before / rel).read_text()), json.loads((after / rel).read_text())
    for m, root in ((ma, before), (mb, after)):
        m.pop("versions", None)
        for part in ("inputs", "outputs"):
            _normalise(m.get(part, []), root.resolve(), rel.parent, verdicts)
        params = m.get("parameters", {})
        if isinstance(params.get("network"), str) and params["network"].startswith(str(root.resolve())):
            params["network"] = Path(params["network"]).relative_to(root.resolve()).as_posix()
    sa, sb = _strip(ma), _strip(mb)
    if sa == sb:
        return "equal"
    diff = sorted(k for k in set(sa) | set(sb) if sa.get(k) != sb.get(k))
    return f"differs in {diff}"


def compare(before: Path, after: Path, ignore: set[str]) -> list[tuple[str, str]]:
    """Return (relative path, verdict) for every file of either folder."""
    names = sorted({p.relative_to(before) for p in before.rglob("*") if p.is_file()}
                   | {p.relative_to(after) for p in after.rglob("*") if p.is_file()})  # fmt: skip
    out: dict[str, str] = {}
    manifests = []
    for rel in names:
        a, b = before / rel, after / rel
        if not a.exists() or not b.exists():
            out[str(rel)] = "only in " + ("after" if b.exists() else "before")
        elif rel.suffix == ".json":
            manifests.append(rel)
        elif rel.suffix == ".csv":
            out[str(rel)] = _csv(a, b, ignore)
        elif rel.suffix == ".gpkg":
            out[str(rel)] = _gpkg(a, b)
        elif rel.suffix == ".html":
            out[str(rel)] = _html(a, b, "solve_s" in ignore)
        elif rel.suffix == ".xlsx":
            out[str(rel)] = _xlsx(a, b, "solve_s" in ignore)
        else:
            out[str(rel)] = "equal" if a.read_bytes() == b.read_bytes() else "bytes differ"
    verdicts = {Path(k).as_posix(): v for k, v in out.items()}
    # manifests that list other manifests (the run's) come last: those are compared by then
    for rel in sorted(manifests, key=lambda r: (len(r.parts) == 1, r.name == "manifest_run.json", str(r))):
        out[str(rel)] = verdicts[rel.as_posix()] = _manifest(before, after, rel, verdicts)
    return sorted(out.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--ignore-solver", action="store_true", help="do not compare solver seconds (solve_s)")
    args = parser.parse_args()
    rows = compare(args.before, args.after, {"solve_s"} if args.ignore_solver else set())
    for rel, verdict in rows:
        print(f"{verdict:>12}  {rel}" if verdict == "equal" else f"DIFFERS  {rel}: {verdict}")
    bad = [r for r, v in rows if v != "equal"]
    print(f"{len(rows) - len(bad)} of {len(rows)} files equal")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
