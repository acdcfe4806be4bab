"""Benchmark of the offline geocoder: import speed and hold-out accuracy on real OSM addresses.

**Speed.** ``import_services`` (what ``geoplanner services import`` runs) on a CSV of real
addresses written from the OSM address points, with the address index loaded once, and the
time to load the index from its disk cache (once per command).

**Hold-out accuracy.** Real OSM 2013 address points are sampled (the same number from every
commune, seeded). Each sampled point is taken out of the index (:meth:`AddressIndex.without_points`,
in folds) and its address is geocoded in several variants written the way users write them:

- ``osm_text``: ``addr:street`` as in OSM, number, postcode;
- ``french`` / ``dutch``: one half of the bilingual street name;
- ``unaccented`` and ``abbreviated`` ("Av.", "Bd", "Chée", "str.", "stwg");
- ``wrong_postcode``: the postcode of the nearest other postcode area;
- ``no_number`` and ``nonexistent_number`` (the number + 1000).

The distance from each result to the taken-out point is measured per accuracy class and
variant, and so is how often that point lies within the stated ``uncertainty_m``. House-number
ranges ("27-31") are measured apart: every OSM range queried as written with the full index,
and again held out. The truth is the OSM point itself (a building's representative point or an
entrance node).

Run: ``PYTHONPATH=. python bench/bench_geocode.py [--per-commune 30] [--seed 2026] [--speed-rows 1000]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

VARIANTS = (
    "osm_text",
    "french",
    "dutch",
    "unaccented",
    "abbreviated",
    "wrong_postcode",
    "no_number",
    "nonexistent_number",
)

_ABBREVIATIONS = (
    ("Avenue ", "Av. "),
    ("Boulevard ", "Bd "),
    ("Chaussée ", "Chée "),
    ("Place ", "Pl. "),
    ("Rue ", "R. "),
    ("steenweg", "stwg"),
    ("straat", "str."),
)


def _unaccent(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _halves(label: str) -> tuple[str, str]:
    """French and Dutch halves of a bilingual OSM name ("Rue X - Xstraat"); empty when not bilingual."""
    parts = [p.strip() for p in label.split(" - ")]
    return (parts[0], parts[1]) if len(parts) == 2 else ("", "")


def true_postcode(index, i: int) -> str:
    """The point's own ``addr:postcode`` when it has one, else the (first) postcode area holding it."""
    pc = index.points["postcode"].iloc[i]
    return pc or (index.points["pcs"].iloc[i] or ("",))[0]


def _wrong_postcode(index, i: int) -> str:
    """Postcode of the nearest postcode area that does not hold the point."""
    import shapely

    p = index.points.iloc[i]
    own = set(p["pcs"]) | ({p["postcode"]} if p["postcode"] else set())
    pt = shapely.Point(p["x"], p["y"])
    areas = index.postcode_areas[~index.postcode_areas["postcode"].isin(own)]
    return str(areas.iloc[int(np.argmin(areas.distance(pt).to_numpy()))]["postcode"])


def queries_for(index, i: int) -> list[tuple[str, str, str, str]]:
    """(variant, street, number, postcode) queries for address point ``i``."""
    p = index.points.iloc[i]
    label = index.ways["label"].iloc[int(p["way"])]
    fr, nl = _halves(label)
    street, number, pc = str(p["street"]), str(p["number"]), true_postcode(index, i)
    out = [("osm_text", street, number, pc)]
    if fr:
        out += [("french", fr, number, pc), ("dutch", nl, number, pc)]
    base = fr or street
    if _unaccent(base) != base:
        out.append(("unaccented", _unaccent(base), number, pc))
    short = base
    for long_, abbr in _ABBREVIATIONS:
        short = short.replace(long_, abbr)
    if short != base:
        out.append(("abbreviated", short, number, pc))
    out.append(("wrong_postcode", street, number, _wrong_postcode(index, i)))
    out.append(("no_number", street, "", pc))
    out.append(("nonexistent_number", street, str(int(p["lo"]) + 1000), pc))
    return out


def sample_points(index, per_commune: int, seed: int, ranges: bool) -> np.ndarray:
    """Row positions of linked address points: ``per_commune`` single numbers per commune, or all ranges."""
    p = index.points
    linked = p["way"].to_numpy() >= 0
    is_range = (p["hi"] > p["lo"]).to_numpy()
    if ranges:
        return np.flatnonzero(linked & is_range)
    rng = np.random.default_rng(seed)
    out = []
    for nis in sorted(p["nis"].unique()):
        ids = np.flatnonzero(linked & ~is_range & (p["nis"].to_numpy() == nis))
        out.extend(rng.choice(ids, size=min(per_commune, len(ids)), replace=False).tolist())
    return np.array(sorted(out))


def run_holdout(index, ids: np.ndarray, folds: int, seed: int, variants: bool = True) -> pd.DataFrame:
    """Geocode every sampled address with its own point held out; one row per query.

    ``variants=False`` asks only the address as OSM writes it (for the ranges).
    """
    from geoplanner.geocode import geocode

    rng = np.random.default_rng(seed + 1)
    fold_of = rng.permutation(len(ids)) % folds
    label_pcs = _label_postcodes(index)
    rows = []
    for f in range(folds):
        members = ids[fold_of == f]
        held = index.without_points(members)
        for i in members:
            truth = index.points.iloc[int(i)]
            label = index.ways["label"].iloc[int(truth["way"])]
            if variants:
                qs = queries_for(index, int(i))
            else:
                qs = [("osm_text", str(truth["street"]), str(truth["number"]), true_postcode(index, int(i)))]
            for variant, street, number, pc in qs:
                r = geocode(held, street, number or None, pc)
                d = float(np.hypot(r.x - truth["x"], r.y - truth["y"])) if r.found else np.nan
                rows.append(
                    {
                        "point": int(i),
                        "commune": int(truth["nis"]),
                        "variant": variant,
                        "query": r.query,
                        "accuracy": r.accuracy,
                        "distance_m": d,
                        "uncertainty_m": r.uncertainty_m,
                        "within": bool(d <= r.uncertainty_m) if r.found else False,
                        "postcode_check": r.postcode_check,
                        # the street also runs through the (wrong) postcode area given
                        "street_in_given_area": pc in label_pcs.get(label, ()),
                        "matched_street": r.matched_street,
                        "method": r.method,
                        "reason": r.reason,
                    }
                )
    return pd.DataFrame(rows)


def _label_postcodes(index) -> dict[str, set[str]]:
    """Postcode areas each OSM street name runs through."""
    out: dict[str, set[str]] = {}
    for label, pcs in zip(index.ways["label"], index.ways["pcs"], strict=True):
        out.setdefault(label, set()).update(pcs)
    return out


def summarise(df: pd.DataFrame, by: str) -> pd.DataFrame:
    """Distance and radius figures per group of ``by``."""
    placed = df[df["accuracy"] != "not_found"]
    g = placed.groupby(by)
    out = pd.DataFrame(
        {
            "queries": df.groupby(by).size(),
            "placed": g.size(),
            "median_m": g["distance_m"].median().round(0),
            "p90_m": g["distance_m"].quantile(0.9).round(0),
            "max_m": g["distance_m"].max().round(0),
            "within_25m": (g["distance_m"].apply(lambda s: (s <= 25).mean()) * 100).round(1),
            "beyond_250m": (g["distance_m"].apply(lambda s: (s > 250).mean()) * 100).round(1),
            "median_radius_m": g["uncertainty_m"].median().round(0),
            "within_radius_pct": (g["within"].mean() * 100).round(1),
        }
    )
    return out.fillna({"placed": 0}).astype({"placed": int})


def speed(index, rows: int, seed: int) -> dict[str, float]:
    """Addresses per second: ``import_services`` with the index in memory, and the whole CLI command.

    The CLI run is ``python -m geoplanner services import`` in a fresh process (start-up, index load
    from its disk cache, reference data, report), on a data folder of links to the real one so the
    imported set does not land in ``data/``.
    """
    import os
    import subprocess
    import sys

    from geoplanner.core import settings
    from geoplanner.pipeline.imports import address_index, clear_address_indexes, import_services

    rng = np.random.default_rng(seed + 2)
    p = index.points
    ids = rng.choice(np.flatnonzero(p["way"].to_numpy() >= 0), size=min(rows, len(p)), replace=False)
    table = pd.DataFrame(
        {
            "id": [f"A-{k:05d}" for k in range(len(ids))],
            "name": [f"adres {k}" for k in range(len(ids))],
            "type": "bench",
            "street": p["street"].iloc[ids].to_numpy(),
            # every third row without its number, like real lists
            "number": [("" if k % 3 == 2 else str(n)) for k, n in enumerate(p["number"].iloc[ids])],
            "postcode": [true_postcode(index, int(i)) for i in ids],
        }
    )
    out: dict[str, float] = {"rows": float(len(ids))}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "addresses.csv"
        table.to_csv(src, index=False)
        t = time.perf_counter()
        import_services(src, "bench", store_dir=Path(tmp), index=index)
        out["library_per_s"] = len(ids) / (time.perf_counter() - t)
        data = Path(tmp) / "data"
        (data / "services").mkdir(parents=True)
        for child in settings.data_dir().resolve().iterdir():
            if child.name != "services":
                (data / child.name).symlink_to(child)
        for f in (settings.data_dir().resolve() / "services").iterdir():
            if f.is_file():
                (data / "services" / f.name).symlink_to(f)
        env = {**os.environ, "GEOPLANNER_DATA_DIR": str(data), "GEOPLANNER_OUTPUT_DIR": str(Path(tmp) / "out")}
        env.setdefault("GEOPLANNER_CACHE_DIR", str(settings.cache_dir().resolve()))
        cmd = [sys.executable, "-m", "geoplanner", "services", "import", str(src), "--set", "bench_cli"]
        t = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        out["cli_per_s"] = len(ids) / (time.perf_counter() - t)
    clear_address_indexes()  # time a load from the disk cache, as a new command does
    t = time.perf_counter()
    address_index()
    out["index_load_s"] = time.perf_counter() - t
    return out


def _ranges_as_written(index) -> pd.DataFrame:
    """Every OSM range queried as OSM writes it, with the full index (its own point included)."""
    from geoplanner.geocode import geocode

    rows = []
    for i in sample_points(index, 0, 0, ranges=True):
        p = index.points.iloc[int(i)]
        r = geocode(index, p["street"], p["number"], true_postcode(index, int(i)))
        d = float(np.hypot(r.x - p["x"], r.y - p["y"])) if r.found else np.nan
        rows.append(
            {"accuracy": r.accuracy, "distance_m": d, "uncertainty_m": r.uncertainty_m, "within": d <= r.uncertainty_m}
        )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-commune", type=int, default=30, help="addresses sampled per commune")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--folds", type=int, default=10, help="hold-out folds")
    parser.add_argument("--speed-rows", type=int, default=1000)
    parser.add_argument("--csv", type=Path, default=None, help="write every query's result here")
    args = parser.parse_args()
    from geoplanner.pipeline.imports import address_index

    pd.set_option("display.width", 200)
    t = time.perf_counter()
    index = address_index()
    print(f"address index: {index.summary()} ({time.perf_counter() - t:.1f} s)")

    sp = speed(index, args.speed_rows, args.seed)
    print(
        f"\nimport speed over {sp['rows']:.0f} rows: {sp['library_per_s']:,.0f} addresses/s (import_services, index in"
        f" memory), {sp['cli_per_s']:,.0f} addresses/s (whole `geoplanner services import` command); index load"
        f" from the disk cache {sp['index_load_s']:.2f} s"
    )

    ids = sample_points(index, args.per_commune, args.seed, ranges=False)
    df = run_holdout(index, ids, args.folds, args.seed)
    print(
        f"\nhold-out: {len(ids)} addresses in {df['commune'].nunique()} communes, {len(df)} queries (seed {args.seed})"
    )
    print("\nby accuracy class (all variants):")
    print(summarise(df, "accuracy").to_string())
    print("\nby variant:")
    print(summarise(df, "variant").to_string())
    wrong = df[(df["variant"] == "wrong_postcode") & (df["accuracy"] != "not_found")]
    for label, part in (("all", wrong), ("street also in the given area", wrong[wrong["street_in_given_area"]])):
        print(
            f"\nwrong postcode, {label}: {len(part)} placed, "
            f"flagged 'mismatch' {(part['postcode_check'] == 'mismatch').mean():.0%}, "
            f"beyond 250 m {(part['distance_m'] > 250).mean():.1%}, max {part['distance_m'].max():.0f} m, "
            f"within the radius {part['within'].mean():.1%}"
        )

    full = _ranges_as_written(index)
    print(
        f"\nranges as written, full index: {len(full)} queries, address_point "
        f"{(full['accuracy'] == 'address_point').sum()}, median {full['distance_m'].median():.0f} m, "
        f"beyond 250 m {(full['distance_m'] > 250).mean():.1%}"
    )
    held = run_holdout(index, sample_points(index, 0, args.seed, ranges=True), args.folds, args.seed, variants=False)
    print("ranges held out:")
    print(summarise(held, "accuracy").to_string())
    if args.csv:
        pd.concat([df.assign(sample="single"), held.assign(sample="range")]).to_csv(args.csv, index=False)
        print(f"wrote {args.csv}")


if __name__ == "__main__":
    main()
