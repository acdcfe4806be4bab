import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from geoplanner import load
from geoplanner.errors import DataError, DataMissingError


def test_real_sectors(data_dir):
    sectors = load.load_sectors(data_dir)
    assert len(sectors) == 724 and sectors["cd_sector"].is_unique
    assert sectors.crs.to_epsg() == 31370
    assert sorted(sectors["commune_nis"].unique()) == list(range(21001, 21020))
    assert abs(sectors.area.sum() / 1e6 - 162.42) < 0.1


def test_real_wijken_and_crosswalks(data_dir):
    wijken = load.load_wijken(data_dir)
    assert len(wijken) == 145
    assert (wijken["district_type"] == "residential").sum() == 118
    assert set(wijken.loc[wijken["mdrc"] >= 900, "district_type"]) == {"park"}
    cw = load.load_crosswalk(data_dir)
    assert len(cw) == 724 and set(cw["mdrc"]) == set(wijken["mdrc"])
    sectors = load.load_sectors(data_dir)
    merged = sectors.merge(cw, on="cd_sector", suffixes=("", "_cw"))
    assert (merged["mdrc"] == merged["mdrc_cw"]).all()
    assert len(load.load_crosswalk(data_dir, vintage=2025)) == 749


def test_indicators_keep_missing_as_missing(data_dir):
    ind = load.load_wijk_indicators(data_dir).set_index("mdrc")
    assert len(ind) == 145
    # Quartier Royal (6) has no BIM value in the source: it must stay NaN, never 0
    assert pd.isna(ind.loc[6, "bim_beneficiaries_share_pct_2024"])
    assert (ind["bim_beneficiaries_share_pct_2024"].dropna() > 0).all()


def test_commune_population_matches_statbel(data_dir):
    pop = load.load_commune_population(data_dir)
    assert len(pop) == 19
    assert pop["pop_total"].sum() == 1_218_255
    assert pop["pop_0_2"].sum() == 50_045
    assert pop["pop_age0"].sum() == 16_600


def test_region_outline(data_dir):
    region = load.load_region(data_dir)
    assert 160 < region.area / 1e6 < 164


def test_service_sets_report_incompleteness(data_dir):
    kg = load.load_services("kg", data_dir)
    assert list(kg.points["id"]) == ["KG-01"]
    assert "KG-02" in set(kg.excluded["id"])  # planned, not current supply
    assert kg.incomplete and kg.expected_count == 18
    assert "ONVOLLEDIGE" in kg.completeness_note
    one = load.load_services("one", data_dir)
    assert "ONE-01" in set(one.excluded["id"])  # prenatal only
    assert "ONE-02" in set(one.unlocated["id"])  # no coordinates: reported, not dropped
    cand = load.load_services("candidates", data_dir)
    assert len(cand.points) + len(cand.unlocated) == 614
    assert cand.points.crs.to_epsg() == 31370
    assert cand.points["approximate"].dtype == bool


def test_unknown_service_set(data_dir):
    with pytest.raises(DataError, match="unknown service set"):
        load.load_services("nope", data_dir)


# --- bad inputs -----------------------------------------------------------------------------


@pytest.fixture
def sectors_gdf(data_dir):
    return gpd.read_file(data_dir / "statistical_sectors" / "brussels_statistical_sectors_2022_31370.gpkg")


def test_missing_file(tmp_path):
    with pytest.raises(DataMissingError, match="file not found"):
        load.load_sectors(path=tmp_path / "nothing.gpkg")


def test_missing_data_folder_says_what_to_do(tmp_path):
    with pytest.raises(DataMissingError, match="geoplanner data pull"):
        load.load_sectors(tmp_path)


def test_wrong_crs(tmp_path, sectors_gdf):
    wrong = sectors_gdf.set_crs("EPSG:4326", allow_override=True)
    path = tmp_path / "wrong.gpkg"
    wrong.to_file(path)
    with pytest.raises(DataError, match="do not fall in Brussels"):
        load.load_sectors(path=path)


def test_other_crs_is_reprojected(tmp_path, sectors_gdf):
    path = tmp_path / "wgs84.gpkg"
    sectors_gdf.head(20).to_crs("EPSG:4326").to_file(path)
    out = load.load_sectors(path=path)
    assert out.crs.to_epsg() == 31370 and len(out) == 20


def test_missing_column(tmp_path, sectors_gdf):
    path = tmp_path / "nocol.gpkg"
    sectors_gdf.drop(columns="mdrc").to_file(path)
    with pytest.raises(DataError, match="missing column") as err:
        load.load_sectors(path=path)
    assert err.value.column == "mdrc"


def test_duplicate_ids(tmp_path, sectors_gdf):
    dup = pd.concat([sectors_gdf.head(3), sectors_gdf.head(1)], ignore_index=True)
    path = tmp_path / "dup.gpkg"
    gpd.GeoDataFrame(dup, crs=sectors_gdf.crs).to_file(path)
    with pytest.raises(DataError, match="duplicate id") as err:
        load.load_sectors(path=path)
    assert err.value.row == 4 and err.value.column == "cd_sector"


def test_codes_that_do_not_match(tmp_path, sectors_gdf):
    bad = sectors_gdf.head(5).copy()
    bad.loc[2, "cd_munty_refnis"] = "21009"  # sector code says 21001
    path = tmp_path / "mismatch.gpkg"
    bad.to_file(path)
    with pytest.raises(DataError, match="does not match sector") as err:
        load.load_sectors(path=path)
    assert err.value.row == 3
    bad = sectors_gdf.head(5).copy()
    bad.loc[0, "cd_sector"] = "XYZ"
    bad.to_file(path)
    with pytest.raises(DataError, match="not a Brussels sector code"):
        load.load_sectors(path=path)


def test_non_numeric_indicator(tmp_path, data_dir):
    src = data_dir / "indicators" / "wijk_indicators_ibsa.csv"
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    df.loc[9, "unemployment_rate_pct_2023"] = "twelve"
    path = tmp_path / "ind.csv"
    df.to_csv(path, index=False)
    with pytest.raises(DataError) as err:
        load.load_wijk_indicators(path=path)
    assert (err.value.row, err.value.column) == (10, "unemployment_rate_pct_2023")
    assert "ind.csv, row 10, column 'unemployment_rate_pct_2023': not a number" in err.value.one_line()


def test_nd_flags_are_missing_not_errors(tmp_path, data_dir):
    src = data_dir / "indicators" / "wijk_indicators_ibsa.csv"
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    df.loc[0, "cpas_ris_beneficiaries_share_pct_2023"] = "ND"
    df.loc[1, "cpas_ris_beneficiaries_share_pct_2023"] = "VS"
    path = tmp_path / "ind.csv"
    df.to_csv(path, index=False)
    out = load.load_wijk_indicators(path=path)
    assert out["cpas_ris_beneficiaries_share_pct_2023"].iloc[:2].isna().all()


def _user_set(data_dir: Path, tmp_path: Path, rows: str) -> Path:
    target = tmp_path / "data"
    (target / "osm").mkdir(parents=True)
    shutil.copy(data_dir / "bundle.toml", target / "bundle.toml")
    shutil.copy(data_dir / "osm" / "brussels_capital_region_boundary_54094.poly", target / "osm")
    user = target / "services" / "user"
    user.mkdir(parents=True)
    (user / "mine.csv").write_text("id,name,type,lat,lon,geocode_method\n" + rows, encoding="utf-8")
    return target


def test_user_service_set(data_dir, tmp_path):
    target = _user_set(data_dir, tmp_path, "A,Bureau A,cb,50.85,4.35,gps\nB,Bureau B,cb,,,needs geocoding\n")
    s = load.load_services("mine", target)
    assert list(s.points["id"]) == ["A"] and list(s.unlocated["id"]) == ["B"]
    assert "mine" in load.service_set_names(target)


def test_service_outside_region_and_swapped(data_dir, tmp_path):
    target = _user_set(data_dir, tmp_path, "A,Bureau A,cb,4.35,50.85,gps\n")
    with pytest.raises(DataError, match="outside the Brussels region") as err:
        load.load_services("mine", target)
    assert err.value.row == 1 and "swapped" in err.value.hint


def test_service_duplicate_and_non_numeric(data_dir, tmp_path):
    target = _user_set(data_dir, tmp_path, "A,x,cb,50.85,4.35,gps\nA,y,cb,50.84,4.36,gps\n")
    with pytest.raises(DataError, match="duplicate id") as err:
        load.load_services("mine", target)
    assert err.value.row == 2
    target = _user_set(data_dir, tmp_path / "2", "A,x,cb,fifty,4.35,gps\n")
    with pytest.raises(DataError, match="not a number") as err:
        load.load_services("mine", target)
    assert err.value.column == "lat"


def test_set_without_any_coordinates(data_dir, tmp_path):
    target = _user_set(data_dir, tmp_path, "A,Bureau A,cb,,,needs geocoding\n")
    s = load.load_services("mine", target)
    assert len(s.points) == 0 and list(s.unlocated["id"]) == ["A"]
    assert s.incomplete and "1 zonder coördinaten" in s.completeness_note
