"""Offline geocoder: the real rows needing geocoding, authored hard cases, name handling."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geoplanner import cache
from geoplanner import geocode as gc
from geoplanner.geocode.match import close_cores
from geoplanner.pipeline.imports import address_index

FIXTURES = Path(__file__).parent / "fixtures"


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Equirectangular distance; plenty at city scale."""
    k = 111_320.0
    return math.hypot((lat1 - lat2) * k, (lon1 - lon2) * k * math.cos(math.radians(lat1)))


@pytest.fixture(scope="module")
def index(data_dir: Path) -> gc.AddressIndex:
    return address_index(data_dir)


def test_index_content(index: gc.AddressIndex) -> None:
    summary = index.summary()
    assert summary["communes"] == 19
    assert summary["street_names"] > 5000  # the region has ~5,000+ named streets in two languages
    # 2013 OSM: a few thousand address points only, hence mostly street-level results.
    assert 3000 < summary["address_points"] < 20000
    assert set(index.communes["commune_nis"]) == set(range(21001, 21020))


def test_cache_is_reused(data_dir: Path, index: gc.AddressIndex) -> None:
    again = address_index(data_dir)
    assert again is index
    key = gc.address_index_key(index.sha256, index.sectors_sha256)
    assert cache.cache_file(key, kind="geocode").is_file()
    assert isinstance(cache.load(key, kind="geocode"), gc.AddressIndex)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Rue de Lessines - Lessensstraat", ["rue de lessines", "lessensstraat"]),
        ("Nieuwland (Rue Terre-Neuve)", ["nieuwland", "rue terre neuve"]),
        ("Rue du Céleri -Selderijstraat", ["rue du celeri", "selderijstraat"]),
        ("Av. Louise/Louizalaan", ["avenue louise", "louizalaan"]),
        ("Chée de Wavre", ["chaussee de wavre"]),
        ("Bd. Anspach", ["boulevard anspach"]),
        ("Kerkstr.", ["kerkstraat"]),
        ("Gentse Stwg", ["gentse steenweg"]),
        ("Rue Sans-Souci", ["rue sans souci"]),
        ("R. St-Lazare", ["rue st lazare"]),
    ],
)
def test_street_variants(raw: str, expected: list[str]) -> None:
    assert gc.street_variants(raw) == expected


def test_real_rows_needing_geocoding(data_dir: Path, index: gc.AddressIndex) -> None:
    """Every shared service row with a street but no point; what OSM 2013 can honestly give."""
    frames = [
        pd.read_csv(data_dir / "services" / f, dtype=str)
        for f in ("kg_consultatiebureaus.csv", "hvhk_locations.csv", "one_consultations_v2.csv", "candidate_sites.csv")
    ]
    rows = pd.concat(frames, ignore_index=True)
    todo = rows[rows["lat"].isna() & rows["street"].notna()].set_index("id")
    assert set(todo.index) == {"KG-02", "HVHK-02", "HVHK-06", "ONE-05", "ONE-12"}
    out = gc.geocode_frame(todo, index=index)
    # Nieuwland 198: no house number in OSM 2013, street level, near the midpoint in the PROVENANCE note.
    hvhk02 = out.loc["HVHK-02"]
    assert hvhk02["accuracy"] == "street" and "Nieuwland" in hvhk02["matched_street"]
    assert hvhk02["postcode_check"] == "ok" and hvhk02["commune_nis"] == 21004
    assert _metres(hvhk02["lat"], hvhk02["lon"], 50.840363, 4.345064) < 300
    assert _metres(hvhk02["lat"], hvhk02["lon"], 50.838374, 4.343300) < 500  # Brede School Nieuwland site
    # Rue de Lessines - Lessensstraat, Molenbeek: street only (the source gives no number).
    for sid in ("KG-02", "HVHK-06"):
        r = out.loc[sid]
        assert r["accuracy"] == "street" and r["matched_street"] == "Rue de Lessines - Lessensstraat"
        assert r["commune_nis"] == 21012 and r["postcode_check"] == "ok"
    # Rue des Grenadiers: OSM 2013 only has Avenue des Grenadiers -> not found, said why.
    one05 = out.loc["ONE-05"]
    assert one05["accuracy"] == "not_found" and math.isnan(one05["lat"])
    assert "avenue des grenadiers" in one05["reason"]
    # Avenue Vander Biest (Stockel, v2 list): absent from OSM 2013 -> not found rather than a wrong street.
    one12 = out.loc["ONE-12"]
    assert one12["accuracy"] == "not_found" and math.isnan(one12["lat"]) and one12["reason"]


def test_street_method_reproduces_documented_midpoints(data_dir: Path, index: gc.AddressIndex) -> None:
    """Rows placed by hand at OSM 2013 street midpoints: the street method lands within 300 m."""
    one = pd.read_csv(data_dir / "services" / "one_consultations_v2.csv", dtype=str)
    cand = pd.read_csv(data_dir / "services" / "candidate_sites.csv", dtype=str)
    rows = pd.concat([one, cand], ignore_index=True)
    mid = rows[rows["geocode_method"].fillna("").str.startswith("street midpoint")]
    assert len(mid) == 5  # ONE-03/04/06/07 (historical rows in v2, placed all the same) and CAND-0004
    for _, row in mid.iterrows():
        r = gc.geocode(index, row["street"], None, row["postcode"], row["commune"])
        assert r.accuracy == "street", row["id"]
        assert _metres(r.lat, r.lon, float(row["lat"]), float(row["lon"])) < 300, row["id"]


def test_authored_addresses(index: gc.AddressIndex) -> None:
    cases = pd.read_csv(FIXTURES / "geocode_addresses.csv", dtype=str, keep_default_na=False)
    out = gc.geocode_frame(cases.replace({"": None}), index=index)
    for (_, case), (_, res) in zip(cases.iterrows(), out.iterrows(), strict=True):
        assert res["accuracy"] == case["expected_accuracy"], (case["case"], res["reason"])
        if case["expected_street"]:
            assert res["matched_street"] == case["expected_street"], case["case"]
            assert res["score"] >= gc.MATCH_THRESHOLD
            assert -90 < res["lat"] and res["method"]
        else:
            assert math.isnan(res["lat"]) and res["reason"], case["case"]
    by_case = dict(zip(cases["case"], out.to_dict("records"), strict=True))
    assert by_case["wrong_postcode"]["postcode_check"] == "mismatch"
    assert "postcode mismatch" in by_case["wrong_postcode"]["reason"]
    assert by_case["wrong_postcode"]["score"] == pytest.approx(1 - gc.POSTCODE_PENALTY)
    assert "ambiguous" in by_case["ambiguous_no_postcode"]["reason"]
    assert "interpolated between" in by_case["interpolation"]["method"]
    assert "no house number" in by_case["missing_number"]["reason"]
    assert "not in OSM" in by_case["number_not_in_osm"]["reason"]
    assert by_case["initials"]["score"] < 1.0  # accepted, but not as a certain match


def test_bilingual_halves_give_the_same_point(index: gc.AddressIndex) -> None:
    fr = gc.geocode(index, "Rue de Lessines", None, "1080")
    nl = gc.geocode(index, "Lessensstraat", None, "1080")
    both = gc.geocode(index, "Rue de Lessines - Lessensstraat", None, "1080")
    assert (fr.x, fr.y) == (nl.x, nl.y) == (both.x, both.y)


def test_postcode_picks_the_right_homonym(index: gc.AddressIndex) -> None:
    berchem = gc.geocode(index, "Rue de l'Eglise", None, "1082")
    woluwe = gc.geocode(index, "Kerkstraat", None, "1150")
    assert berchem.commune_nis == 21003 and woluwe.commune_nis == 21019
    assert _metres(berchem.lat, berchem.lon, woluwe.lat, woluwe.lon) > 5000


def test_below_threshold_is_not_found(index: gc.AddressIndex) -> None:
    r = gc.geocode(index, "Rue de la Roi", None, "1000")  # neither Rue de la Croix nor Avenue du Roi
    assert r.accuracy == "not_found" and 0 < r.score < gc.MATCH_THRESHOLD
    assert "avenue du roi" in r.reason  # the near miss is named for the user to check
    r = gc.geocode(index, "Rue Xyzzy", None, "1000")
    assert r.accuracy == "not_found" and r.reason == "street not found in OSM"
    # A one-letter slip in a long name is accepted, with a score below 1.
    r = gc.geocode(index, "Rue Royal", None, "1000")
    assert r.accuracy == "street" and r.matched_street == "Rue Royale - Koningsstraat"
    assert gc.MATCH_THRESHOLD <= r.score < 1


def test_accuracy_on_candidate_rows_with_known_points(data_dir: Path, index: gc.AddressIndex) -> None:
    """The 18 OSM-2026 candidate venues with street and number are ground truth for the geocoder.

    Measured: 17 placed (1 address point, 16 street-level), median error ~45 m, worst ~840 m
    (number 900 on the 3 km Route de Lennik, radius 2 km); Rue Fernand Brunfaut is not in OSM 2013.
    All 17 true points lie within their uncertainty radius.
    """
    cand = pd.read_csv(data_dir / "services" / "candidate_sites.csv", dtype=str)
    truth = cand[cand["street"].notna() & cand["number"].notna() & cand["lat"].notna()]
    assert len(truth) == 18
    out = gc.geocode_frame(truth, index=index)
    placed = out["accuracy"] != "not_found"
    assert placed.sum() >= 17
    err = [
        _metres(r["lat"], r["lon"], float(t["lat"]), float(t["lon"]))
        for (_, r), (_, t) in zip(out[placed].iterrows(), truth[placed].iterrows(), strict=True)
    ]
    assert sorted(err)[len(err) // 2] < 100
    assert max(err) < 1000
    assert set(out.loc[~placed, "reason"]) == {"street not found in OSM"}
    # Independent ground truth (2026 coordinates) for the radius: every true point lies within it ...
    radius = out.loc[placed, "uncertainty_m"].to_numpy()
    assert all(e <= r for e, r in zip(err, radius, strict=True)), list(zip(err, radius, strict=True))
    # ... and the radius is not wider than needed (measured: median radius 172 m, 4.0 x the median error).
    assert np.median(radius) <= _MAX_STREET_RADIUS_PER_MEDIAN_ERROR * np.median(err)


# ----------------------------------------------------------------------------- issue 13: ranges, postcodes, radius


@pytest.mark.parametrize(
    ("raw", "lo", "hi", "suffix"),
    [
        ("12", 12, 12, ""),
        ("12A", 12, 12, "a"),
        ("12 bis", 12, 12, "bis"),
        ("27-31", 27, 31, ""),
        ("78 / 84", 78, 84, ""),
        ("610/640", 610, 640, ""),
        ("2-4", 2, 4, ""),
        ("2 à 4", 2, 4, ""),
        ("2 tot 4", 2, 4, ""),
        ("14-15", 14, 15, ""),
        ("12/3", 12, 12, ""),  # number 12, box 3
        ("12 bte 3", 12, 12, ""),
        ("12 bus 3", 12, 12, ""),
        ("12A bte 4", 12, 12, "a"),
        ("2-400", 2, 2, ""),  # wider than any real range: the first number
    ],
)
def test_parse_house_number(raw: str, lo: int, hi: int, suffix: str) -> None:
    hn = gc.parse_house_number(raw)
    assert hn is not None and (hn.lo, hn.hi, hn.suffix) == (lo, hi, suffix)
    assert hn.is_range == (hi > lo)


def test_parse_house_number_rejects_and_parity() -> None:
    assert gc.parse_house_number("zonder nummer") is None and gc.parse_house_number(None) is None
    assert gc.parse_house_number("27-31").parity == 1 and gc.parse_house_number("14-15").parity is None
    assert gc.parse_house_number("78 / 84").text == gc.parse_house_number("78-84").text == "78-84"


def _true_postcode(index: gc.AddressIndex, i: int) -> str:
    p = index.points.iloc[i]
    return p["postcode"] or p["pcs"][0]


def _dist(r: gc.GeocodeResult, p: pd.Series) -> float:
    return math.hypot(r.x - p["x"], r.y - p["y"])


@pytest.mark.parametrize(
    ("number", "street"), [("27-31", None), ("78 / 84", None), ("610/640", "Louvain"), ("2-4", None)]
)
def test_ranges_from_the_issue_match_their_osm_point(index: gc.AddressIndex, number: str, street: str | None) -> None:
    """The ranges named in the issue, written as OSM has them (or with spaces), find their own address point."""
    text = gc.parse_house_number(number).text
    pts = index.points[(index.points["number"] == text) & (index.points["way"] >= 0)]
    if street:
        pts = pts[pts["street"].str.contains(street)]
    assert len(pts)
    for i, p in pts.iterrows():
        r = gc.geocode(index, p["street"], number, _true_postcode(index, i))
        assert r.accuracy == "address_point", (p["street"], number, r.reason)
        assert _dist(r, p) < 25 and r.uncertainty_m >= gc.ADDRESS_POINT_RADIUS_M


def test_every_osm_range_is_found_as_written(index: gc.AddressIndex) -> None:
    """Before issue 13, 7 of these 144 range queries gave an address point; now every one does."""
    p = index.points
    ranges = p[(p["hi"] > p["lo"]) & (p["way"] >= 0)]
    assert len(ranges) > 100
    hits = 0
    for i, row in ranges.iterrows():
        r = gc.geocode(index, row["street"], row["number"], _true_postcode(index, i))
        if r.accuracy == "address_point":
            hits += 1
            assert _dist(r, row) < 25, (row["street"], row["number"])  # itself, or with its twin on the same spot
    assert hits == len(ranges)


def test_single_number_within_a_stored_range_and_range_over_singles(index: gc.AddressIndex) -> None:
    # OSM has "Rue Belliard 60-62" (one building): 60, "62 bte 3" and "60 / 62" are that building.
    whole = gc.geocode(index, "Rue Belliard", "60-62", "1040")
    for number in ("60", "62 bte 3", "60 / 62"):
        r = gc.geocode(index, "Rue Belliard", number, "1040")
        assert r.accuracy == "address_point" and (r.x, r.y) == (whole.x, whole.y), number
    # 61 is on the other side of the street: not that building.
    assert "60-62" not in gc.geocode(index, "Rue Belliard", "61", "1040").method
    # A range over separately numbered points: the mean of the points it covers, the radius spans them.
    p = index.points
    street = p[(p["street"] == "Chaussée de Louvain - Leuvensesteenweg") & p["number"].isin(["539", "545"])]
    r = gc.geocode(index, "Chaussée de Louvain", "539-545", "1030")
    assert r.accuracy == "address_point" and "539, 545" in r.method
    assert r.x == pytest.approx(street["x"].mean(), abs=0.1) and r.y == pytest.approx(street["y"].mean(), abs=0.1)
    half = math.hypot(*(street[["x", "y"]].iloc[0] - street[["x", "y"]].iloc[1])) / 2
    assert r.uncertainty_m >= half


@pytest.mark.parametrize(
    ("street", "number", "wrong", "right"),
    [
        ("Chaussée de Wavre", "1126", "1050", "1160"),  # Ixelles / Etterbeek / Auderghem
        ("Chaussée de Louvain", "545", "1210", "1030"),  # Saint-Josse / Schaerbeek / Evere
        ("Chaussée d'Alsemberg", "995", "1190", "1180"),  # Saint-Gilles / Forest / Uccle
    ],
)
def test_wrong_postcode_on_a_street_across_communes(
    index: gc.AddressIndex, street: str, number: str, wrong: str, right: str
) -> None:
    """The address point on the same street in another postcode wins, flagged; it used to land on the wrong stretch."""
    good = gc.geocode(index, street, number, right)
    bad = gc.geocode(index, street, number, wrong)
    assert good.accuracy == bad.accuracy == "address_point"
    assert (bad.x, bad.y) == (good.x, good.y)
    assert good.postcode_check == "ok" and bad.postcode_check == "mismatch"
    assert f"postcode {right}" in bad.reason and "mismatch" in bad.reason
    # Held out, the number is placed from its known neighbours on the same street, which rule the
    # postcode out: still flagged, and the true point lies within the radius.
    own = index.points[
        (index.points["number"] == number) & index.points["street"].str.contains(street.split(" ")[-1])
    ].index
    held = index.without_points(own)
    r = gc.geocode(held, street, number, wrong)
    assert r.accuracy in ("interpolated", "street") and r.postcode_check == "mismatch", r.reason
    assert math.hypot(r.x - good.x, r.y - good.y) <= r.uncertainty_m


def test_postcode_areas_tell_the_city_apart(index: gc.AddressIndex) -> None:
    """1050 no longer accepts a street in Haren; 1020/1120/1130 each have their own area."""
    haren_1050 = gc.geocode(index, "Rue Harenheyde", None, "1050")
    haren_1130 = gc.geocode(index, "Rue Harenheyde", None, "1130")
    assert haren_1130.postcode_check == "ok" and haren_1130.score == 1.0
    assert haren_1050.postcode_check == "mismatch" and haren_1050.score == pytest.approx(1 - gc.POSTCODE_PENALTY)
    assert "outside postcode 1050" in haren_1050.reason
    # Avenue du Roi Albert exists in Neder-Over-Heembeek (1120) and in Berchem (1082).
    noh = gc.geocode(index, "Avenue du Roi Albert", None, "1120")
    berchem = gc.geocode(index, "Avenue du Roi Albert", None, "1082")
    assert noh.commune_nis == 21004 and berchem.commune_nis == 21003 and noh.postcode_check == "ok"
    # 1020 (Laeken) is wrong for both, but Neder-Over-Heembeek is its neighbour: that one, flagged.
    laeken = gc.geocode(index, "Avenue du Roi Albert", None, "1020")
    assert (laeken.x, laeken.y) == (noh.x, noh.y) and laeken.postcode_check == "mismatch"
    # Place Saint-Lambert: Laeken (1020) and Woluwe-Saint-Lambert (1200).
    assert gc.geocode(index, "Place Saint-Lambert", None, "1020").commune_nis == 21004
    assert gc.geocode(index, "Place Saint-Lambert", None, "1200").commune_nis == 21018


def test_postcode_areas_agree_with_osm_addresses(index: gc.AddressIndex) -> None:
    """Independent check: the OSM addr:postcode of 2,265 address points against the Statbel-built areas."""
    areas = index.postcode_areas.set_index("postcode")
    assert sorted(areas.index) == sorted(gc.POSTCODE_COMMUNES)
    p = index.points[index.points["postcode"].isin(list(gc.POSTCODE_COMMUNES))]
    assert len(p) > 2000
    inside = [pc in pcs for pc, pcs in zip(p["postcode"], p["pcs"], strict=True)]
    assert sum(inside) >= 0.99 * len(p)
    # Every City postcode area lies in the City of Brussels, except 1040/1050 which add Etterbeek/Ixelles.
    city = index.communes.set_index("commune_nis").geometry[21004]
    for pc in ("1000", "1020", "1120", "1130"):
        assert areas.geometry[pc].difference(city.buffer(50)).area < 0.01 * areas.geometry[pc].area, pc
    assert areas.geometry["1130"].distance(areas.geometry["1050"]) > 4000


def test_address_point_far_from_the_street_line(index: gc.AddressIndex) -> None:
    """Avenue O. Van Goidtsnoven 271 lies 576 m from the street as drawn in OSM 2013; it was placed 639 m off."""
    p = index.points
    own = p[p["street"].str.contains("Van Goidtsnoven") & (p["number"] == "271")]
    assert len(own) == 1 and own["way_dist_m"].iloc[0] > 500
    r = gc.geocode(index, "Avenue O. Van Goidtsnoven", "271", "1180")
    assert r.accuracy == "address_point" and _dist(r, own.iloc[0]) < 1
    # Without its point it is a street-level result again, with a radius that says so.
    held = gc.geocode(index.without_points(own.index), "Avenue O. Van Goidtsnoven", "271", "1180")
    assert held.accuracy != "address_point" and held.uncertainty_m > 100


def test_street_radius_is_the_reach_of_the_stretch(index: gc.AddressIndex) -> None:
    """Street-level radius = farthest point of the matched stretch in the postcode area + set-back (brute force)."""
    r = gc.geocode(index, "Chaussée de Wavre", None, "1040")
    assert r.accuracy == "street"
    ways = index.ways[index.ways["label"] == "Chaussée de Wavre - Waversesteenweg"]
    zone = index.postcode_areas.set_index("postcode").geometry["1040"].buffer(30)
    stretch = ways.geometry.intersection(zone)
    coords = np.array([c for g in stretch if not g.is_empty for part in getattr(g, "geoms", [g]) for c in part.coords])
    reach = np.hypot(coords[:, 0] - r.x, coords[:, 1] - r.y).max()
    assert r.uncertainty_m == pytest.approx(reach + gc.STREET_SETBACK_M, abs=2)
    # A whole street (no postcode) is longer, so less certain.
    assert gc.geocode(index, "Chaussée de Wavre", None, None).uncertainty_m > r.uncertainty_m


#: Calibration bounds (issue 22, item 2): the radius claims to hold the true point 9 times in 10.
_MIN_COVERAGE, _MIN_CLASS_COVERAGE = 0.90, 0.85  # near the claim, from below (all results; each class)
_MAX_RADIUS_PER_P90_ERROR = 3.0  # median radius of a class against the 90th percentile of its error
_MAX_STREET_RADIUS_PER_MEDIAN_ERROR = 5.0  # street class (no 50 m floor): median radius against median error
_MIN_CLASS_SIZE = 20


def _hold_out(index: gc.AddressIndex, size: int = 200, seed: int = 13) -> pd.DataFrame:
    """Geocode sampled OSM addresses with their own point held out, with and without the number."""
    p = index.points
    rng = np.random.default_rng(seed)
    pool = np.flatnonzero((p["way"] >= 0).to_numpy() & (p["hi"] == p["lo"]).to_numpy())
    ids = rng.choice(pool, size=size, replace=False)
    held = index.without_points(ids)
    rows = []
    for i in ids:
        row = p.iloc[int(i)]
        for number in (row["number"], None):
            r = gc.geocode(held, row["street"], number, _true_postcode(index, int(i)))
            if r.found:
                rows.append({"accuracy": r.accuracy, "error_m": _dist(r, row), "radius_m": r.uncertainty_m})
    return pd.DataFrame(rows)


def _check_calibration(results: pd.DataFrame) -> None:
    """Assert that the radius is calibrated on both sides: it holds the true point about as often as it claims
    (9 in 10), and it is not wider than that needs: per class, the median radius stays within
    :data:`_MAX_RADIUS_PER_P90_ERROR` times the 90th percentile of the error (the width a 9-in-10 radius
    needs), and for street-level results, which have no 50 m floor, within
    :data:`_MAX_STREET_RADIUS_PER_MEDIAN_ERROR` times the median error.
    """
    within = results["error_m"] <= results["radius_m"]
    assert within.mean() >= _MIN_COVERAGE, f"radius too narrow: {within.mean():.1%} of true points within it"
    for accuracy, part in results.groupby("accuracy"):
        if len(part) < _MIN_CLASS_SIZE:
            continue
        coverage = (part["error_m"] <= part["radius_m"]).mean()
        assert coverage >= _MIN_CLASS_COVERAGE, f"{accuracy}: radius too narrow, {coverage:.1%} within it"
        needed = part["error_m"].quantile(0.9)
        wide = part["radius_m"].median() / needed
        assert wide <= _MAX_RADIUS_PER_P90_ERROR, f"{accuracy}: radius wider than needed, {wide:.1f}x the p90 error"
        if accuracy == "street":
            wide = part["radius_m"].median() / part["error_m"].median()
            assert wide <= _MAX_STREET_RADIUS_PER_MEDIAN_ERROR, f"street: radius wider than needed, {wide:.1f}x"


def test_radius_holds_on_a_hold_out(index: gc.AddressIndex) -> None:
    """A hold-out of 200 OSM addresses (the bench runs the large one): the radius is calibrated on both sides.

    Measured: 98 % of 398 results within their radius; median radius / p90 error 0.7 (street), 1.6
    (interpolated); street median radius 2.8 x the median error. Mutation: a scratch copy of the package whose
    geocoder states every radius x10 fails here ("interpolated: radius wider than needed, 16.2x the p90 error")
    and in the candidate-venue test, where the old ">= 90 % within" check passed it; the same mutation, and a
    radius x0.3, run on every test run in :func:`test_calibration_check_catches_a_wrong_radius`.
    """
    results = _hold_out(index)
    assert len(results) >= 380 and (results["radius_m"] >= gc.ADDRESS_POINT_RADIUS_M).all()
    assert set(results["accuracy"]) >= {"interpolated", "street"}
    _check_calibration(results)


@pytest.mark.parametrize(("factor", "message"), [(10.0, "wider than needed"), (0.3, "too narrow")])
def test_calibration_check_catches_a_wrong_radius(
    index: gc.AddressIndex, monkeypatch: pytest.MonkeyPatch, factor: float, message: str
) -> None:
    """Mutation test of :func:`_check_calibration` (issue 22, item 2).

    Every radius the geocoder states is multiplied by ``factor`` (a monkeypatch of ``place_on_street`` in
    ``geoplanner.geocode.geocoder``, the real code path otherwise): ten times too wide still holds every true
    point, which the old one-sided check (">= 90 % within") let pass; it fails now on the median radius
    against the error it needs to cover. A radius 0.3 times the real one fails on coverage.
    """
    from geoplanner.geocode import geocoder

    real = geocoder.place_on_street

    def mutated(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - passes everything through
        placed, flags = real(*args, **kwargs)
        placed.radius *= factor
        return placed, flags

    monkeypatch.setattr(geocoder, "place_on_street", mutated)
    results = _hold_out(index)
    if factor > 1:
        assert (results["error_m"] <= results["radius_m"]).mean() >= _MIN_COVERAGE  # passes the one-sided check
    with pytest.raises(AssertionError, match=message):
        _check_calibration(results)


def test_without_points_hides_only_those_points(index: gc.AddressIndex) -> None:
    r = gc.geocode(index, "Rue Belliard", "60-62", "1040")
    own = index.points[(index.points["number"] == "60-62") & index.points["street"].str.contains("Belliard")].index
    held = index.without_points(own)
    assert gc.geocode(held, "Rue Belliard", "60-62", "1040").method != r.method
    assert gc.geocode(index, "Rue Belliard", "60-62", "1040").method == r.method  # the index itself is untouched


def test_dutch_type_glued_to_a_french_name(index: gc.AddressIndex) -> None:
    """A French name with its Dutch type glued on ("Rue Cervantesstraat") is Rue Cervantes, likely not certain."""
    r = gc.geocode(index, "Rue Cervantesstraat", "4-6", "1190")
    assert r.accuracy == "address_point" and r.matched_street == "Rue Cervantes - Cervantesstraat"
    assert gc.MATCH_THRESHOLD <= r.score < 1
    assert gc.geocode(index, "Avenue Paul Hymans laan", "12-14", "1200").accuracy == "address_point"


def test_postcode_written_with_country_or_town(index: gc.AddressIndex) -> None:
    plain = gc.geocode(index, "Rue Belliard", "60-62", "1040")
    for written in ("B-1040", "B1040", "1040 Bruxelles", "1040.0"):
        r = gc.geocode(index, "Rue Belliard", "60-62", written)
        assert (r.x, r.y, r.postcode_check) == (plain.x, plain.y, "ok"), written


def test_street_level_on_a_street_through_several_postcodes_says_so(index: gc.AddressIndex) -> None:
    """Only the postcode picks the stretch here: the reason says where else the street runs."""
    r = gc.geocode(index, "Chaussée de Wavre", None, "1040")
    assert r.accuracy == "street" and r.postcode_check == "ok"
    assert "also runs through postcode" in r.reason and "1160" in r.reason and "1050" in r.reason
    assert "also runs through" not in gc.geocode(index, "Rue Harenheyde", None, "1130").reason


def test_fast_close_matches_equal_difflib(index: gc.AddressIndex) -> None:
    """The vectorised pre-filter gives exactly difflib.get_close_matches (the reference) on real names."""
    import difflib

    cores = list(index.core_keys)
    rng = np.random.default_rng(5)
    words = [cores[i] for i in rng.choice(len(cores), 40, replace=False)]
    # Typos: a letter dropped, swapped or replaced, as users type them.
    words += [w[:3] + w[4:] for w in words[:15]] + [w[::-1][:6] for w in words[15:20]] + ["lesines", "reforme", "x"]
    for w in words:
        assert close_cores(index, w, n=8, cutoff=0.75) == difflib.get_close_matches(w, cores, n=8, cutoff=0.75), w


# ----------------------------------------------------------------------------- issue 21: one silent wrong place


def test_generic_part_does_not_carry_a_match(index: gc.AddressIndex) -> None:
    """Issue 21, item 6: names sharing a generic part ('steenweg op', 'cité') must agree in the word that differs.

    Before the fix 'Steenweg op Waterloo 216' scored 0.865 against 'Steenweg op Waver' (a Dutch name of Chaussée de
    Wavre) and was placed on Chaussée de Wavre 216, 2.2 km away, as an address point with a 50 m radius, postcode ok;
    'Avenue de la Cité Moderne' (Berchem's garden city is a Rue) landed on Avenue de la Cité Modèle in Laeken.
    """
    p = index.points
    wavre = p[p["street"].str.startswith("Chaussée de Wavre") & (p["number"] == "216")]
    own = p[(p["street"] == "Steenweg op Waterloo") & (p["number"] == "216")]  # OSM holds this very address
    assert len(wavre) == len(own) == 1 and math.hypot(*(wavre[["x", "y"]].iloc[0] - own[["x", "y"]].iloc[0])) > 2000
    for postcode in ("1050", "1060", None):
        r = gc.geocode(index, "Steenweg op Waterloo", "216", postcode)
        # 'Steenweg op X' is the X-se steenweg: Chaussée de Waterloo (a similar name, so not a certain match) ...
        assert r.matched_street == "Chaussée de Waterloo - Waterloosesteenweg" and r.score < 1, (postcode, r)
        # ... whose address point of that number is written 'Steenweg op Waterloo' too: the true place.
        assert r.accuracy == "address_point" and _dist(r, own.iloc[0]) < 1, (postcode, r)
        assert (r.postcode_check == "mismatch") == (postcode == "1050")
        # Without that point, nothing borrows the address point of Chaussée de Wavre 216.
        held = gc.geocode(index.without_points(own.index), "Steenweg op Waterloo", "216", postcode)
        assert held.accuracy not in ("address_point", "not_found") and "Waterloo" in held.matched_street
        assert _dist(held, wavre.iloc[0]) > 1000
    # The Dutch name OSM does carry still finds its own address point.
    r = gc.geocode(index, "Steenweg op Waver", "216", "1050")
    assert r.accuracy == "address_point" and r.score == 1.0 and _dist(r, wavre.iloc[0]) < 1
    # French: 'cité' shared, 'moderne' against 'modèle' differs.
    for postcode in (None, "1020"):
        r = gc.geocode(index, "Avenue de la Cité Moderne", "10", postcode)
        assert r.accuracy == "not_found" and "Cité Modèle" in r.reason and r.score < gc.MATCH_THRESHOLD, r
    assert gc.geocode(index, "Rue de la Cité Moderne", "10", "1082").matched_street.startswith("Rue de la Cité Moderne")


def test_fuzzy_street_match_needs_the_address_point_to_agree(index: gc.AddressIndex) -> None:
    """A fuzzy match of the street never gets the address-point radius from a point whose own street disagrees."""
    from geoplanner.geocode.area import NO_AREA
    from geoplanner.geocode.place import place_on_street

    label = "Chaussée de Wavre - Waversesteenweg"
    ways = sorted({int(w) for w in index.points.loc[index.points["street"] == label, "way"] if w >= 0})
    exact, _ = place_on_street(index, ways, "216", NO_AREA, False)
    assert exact.accuracy == "address_point"
    # The same street reached by a fuzzy name whose distinct word differs: no address point, no interpolation.
    fuzzy, flags = place_on_street(index, ways, "216", NO_AREA, False, query=["steenweg op waterloo"])
    assert fuzzy.accuracy == "street" and fuzzy.radius > exact.radius and "not in OSM" in flags[0]
    # A fuzzy name that agrees (a typo) keeps it.
    typo, _ = place_on_street(index, ways, "216", NO_AREA, False, query=["chaussee de wavr"])
    assert typo.accuracy == "address_point" and typo.point.equals(exact.point)
