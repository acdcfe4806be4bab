"""Compare two output folders of `geoplanner run`: are they the same results?

    python bench/compare_outputs.py BEFORE AFTER [--ignore-solver]

Every file of either folder is compared by kind, and one line per file says what differs:

- CSV: the tables, cell by cell (``equal``), else the columns or the first differing cells;
- GeoPackage: every layer (attributes and geometries) and the ``layer_styles`` table, not the file's bytes
  (a GeoPackage records when it was written);
- JSON manifests: everything but what says *when* or *how fast* (``created_utc``, ``timings_s``) and what
  names the code (cache keys, which change with any source change, and the sha256 of outputs whose content
  is compared on its own);
- anything else (HTML, PNG, GeoTIFF, XLSX, TXT): the bytes.

With ``--ignore-solver``, solver seconds (``solve_s``) are not compared. Exits 1 when anything differs.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

import pandas as pd
import pyogrio

#: What says when or how fast a run went, or names the code (a cache key, whether it was found): not a result.
_VOLATILE = {"created_utc", "timings_s", "key", "hit"}


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
