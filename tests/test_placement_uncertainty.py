"""Coverage under geocoding uncertainty: homes whose threshold class could change (issue 13)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geoplanner.access.tables import class_may_change, placement_uncertainty
from geoplanner.access.times import ServiceTimes
from geoplanner.core.errors import ModelError

FIXTURES = Path(__file__).parent / "fixtures"


def test_class_may_change_hand_worked() -> None:
    # 4.5 km/h = 75 m per minute, so 150 m of doubt is ±2 minutes.
    minutes = np.array([4.0, 9.0, 11.0, 16.0, np.inf, 9.0, 14.5])
    radius = np.array([150.0, 150.0, 75.0, np.nan, 300.0, 0.0, 150.0])
    got = class_may_change(minutes, radius, (5, 10, 15), 4.5)
    expected = np.array(
        [
            [True, False, False],  # 4 ± 2: could be past 5
            [False, True, False],  # 9 ± 2: could be past 10
            [False, True, False],  # 11 ± 1: could be back within 10 (exactly 10 counts as within)
            [False, False, False],  # radius unknown
            [False, False, False],  # unreachable
            [False, False, False],  # no doubt
            [False, False, True],  # 14.5 ± 2: could be past 15
        ]
    )
    np.testing.assert_array_equal(got, expected)


def test_class_may_change_against_brute_force() -> None:
    """Independent check: shift each home's time over ±dt in fine steps and see whether its class changes."""
    rng = np.random.default_rng(13)
    minutes = rng.uniform(0, 25, 400)
    radius = rng.uniform(0, 600, 400)
    ths = (5.0, 10.0, 15.0)
    got = class_may_change(minutes, radius, ths, 3.6)
    dt = radius / (3.6 * 1000 / 60)
    shifts = np.linspace(-1, 1, 4001)
    for i in range(len(minutes)):
        t = minutes[i] + shifts * dt[i]
        for j, th in enumerate(ths):
            within = t <= th
            assert got[i, j] == (within.any() and not within.all()), (minutes[i], dt[i], th)


def _times(minutes, index) -> ServiceTimes:
    ids = np.array([f"S{k}" if k >= 0 else None for k in index], dtype=object)
    return ServiceTimes(np.asarray(minutes, float), np.asarray(index), ids, None, None, 4.5)


def test_placement_uncertainty_sums_children_by_nearest_service() -> None:
    demand = pd.DataFrame({"cd_sector": ["A", "A", "B", "B"], "weight": [10.0, 5.0, 2.0, 1.0]})
    # Homes 0 and 2 are nearest to S0 (radius 150 m: ±2 min), home 1 to S1 (no radius), home 3 reaches nothing.
    times = {"mine": _times([9.0, 9.0, 14.0, np.inf], [0, 1, 0, -1])}
    out = placement_uncertainty(demand, times, {"mine": np.array([150.0, np.nan])}, thresholds=(10, 15))
    region = out[out["level"] == "region"].set_index("service_set").loc["mine"]
    assert region["pop_0_2"] == 18.0
    assert region["uncertain_10_min"] == 10.0 and region["uncertain_15_min"] == 2.0
    assert region["pop_class_uncertain"] == 12.0 and region["max_radius_m"] == 150.0
    sector = out[out["level"] == "sector"].set_index("key")
    assert sector.loc["A", "pop_class_uncertain"] == 10.0 and sector.loc["B", "pop_class_uncertain"] == 2.0
    assert sector["pop_class_uncertain"].sum() == region["pop_class_uncertain"]
    with pytest.raises(ModelError, match="radii"):
        placement_uncertainty(demand, times, {"mine": np.array([150.0])}, thresholds=(10,))


def test_real_imported_set_flags_children_near_a_threshold(data_dir: Path, tmp_path: Path) -> None:
    """A geocoded user list on the real network: children are flagged only near a threshold, only for radius > 0."""
    from geoplanner.access.demand import demand_points
    from geoplanner.access.network import metres_per_minute, snap_points
    from geoplanner.access.times import nearest_service_times
    from geoplanner.inputs.areas import load_sectors
    from geoplanner.pipeline.imports import address_index, import_services
    from geoplanner.pipeline.load import load_network
    from geoplanner.pipeline.load import need as build_need

    store = tmp_path / "user"
    rep = import_services(
        FIXTURES / "services_addresses_issue13.csv",
        "issue13",
        data_dir=data_dir,
        store_dir=store,
        index=address_index(data_dir),
    )
    assert rep.n_placed == 6
    pts = pd.read_csv(rep.stored)
    net = load_network()
    built = build_need(data_dir)
    demand = demand_points(load_sectors(data_dir), built.sectors, built.lines)
    dsnap = snap_points(net, demand[["x", "y"]].to_numpy())
    import geopandas as gpd

    xy = gpd.GeoSeries(gpd.points_from_xy(pts["lon"], pts["lat"]), crs="EPSG:4326").to_crs("EPSG:31370")
    st = nearest_service_times(net, dsnap, np.c_[xy.x, xy.y], service_ids=pts["id"].astype(str))
    radius = pts["uncertainty_m"].to_numpy(dtype=float)
    out = placement_uncertainty(demand, {"issue13": st}, {"issue13": radius}, thresholds=(5, 10, 15))
    region = out[out["level"] == "region"].iloc[0]
    assert 0 < region["pop_class_uncertain"] < region["pop_0_2"]
    # Every flagged home is within dt of a threshold, and the table counts exactly the flagged homes.
    home_r = radius[st.service_index]
    dt = home_r / metres_per_minute(4.5)
    near = np.zeros(len(st.minutes), bool)
    for th in (5, 10, 15):
        near |= np.abs(st.minutes - th) <= dt
    flagged = class_may_change(st.minutes, home_r, (5, 10, 15))
    assert (flagged.any(axis=1) <= near).all()
    assert region["pop_class_uncertain"] == pytest.approx(demand["weight"].to_numpy()[flagged.any(axis=1)].sum())


def test_run_coverage_writes_the_uncertain_children(data_dir: Path, tmp_path: Path) -> None:
    """The coverage run counts them for an imported set, and writes zeros for sets without radii."""
    import json

    from geoplanner.pipeline import run_coverage
    from geoplanner.pipeline.imports import address_index, import_services

    work = tmp_path / "data"
    work.mkdir()
    for child in data_dir.iterdir():
        if child.name != "services":
            (work / child.name).symlink_to(child)
    (work / "services").mkdir()
    for f in (data_dir / "services").iterdir():
        if f.is_file():
            (work / "services" / f.name).symlink_to(f)
    import_services(FIXTURES / "services_addresses_issue13.csv", "issue13", data_dir=work, index=address_index(work))
    run = run_coverage(tmp_path / "out", sets=["issue13", "hvhk"], thresholds=[10, 15], raster=False, data_dir=work)
    table = pd.read_csv(tmp_path / "out" / "coverage_placement_uncertainty.csv")
    region = table[table["level"] == "region"].set_index("service_set")
    assert region.loc["issue13", "pop_class_uncertain"] > 0 and region.loc["hvhk", "pop_class_uncertain"] == 0
    assert region.loc["issue13", "pop_0_2"] == pytest.approx(run.tables["region"]["pop_0_2"].iloc[0])
    assert run.placement_uncertainty is not None and len(run.placement_uncertainty) == len(table)
    notes = json.loads(run.manifest.read_text())["notes"]
    assert any(n.startswith("issue13: drempelklasse") for n in notes)
