import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from geoplanner import inputs
from geoplanner.core.errors import DataError, DataMissingError


def test_real_sectors(data_dir):
    sectors = inputs.load_sectors(data_dir)
    assert len(sectors) == 724 and sectors["cd_sector"].is_unique
    assert sectors.crs.to_epsg() == 31370
    assert sorted(sectors["commune_nis"].unique()) == list(range(21001, 21020))
    assert abs(sectors.area.sum() / 1e6 - 162.42) < 0.1


def test_real_wijken_and_crosswalks(data_dir):
    wijken = inputs.load_wijken(data_dir)
    assert len(wijken) == 145
    assert (wijken["district_type"] == "residential").sum() == 118
    assert set(wijken.loc[wijken["mdrc"] >= 900, "district_type"]) == {"park"}
    cw = inputs.load_crosswalk(data_dir)
    assert len(cw) == 724 and set(cw["mdrc"]) == set(wijken["mdrc"])
    sectors = inputs.load_sectors(data_dir)
    merged = sectors.merge(cw, on="cd_sector", suffixes=("", "_cw"))
    assert (merged["mdrc"] == merged["mdrc_cw"]).all()
    assert len(inputs.load_crosswalk(data_dir, vintage=2025)) == 749


def test_indicators_keep_missing_as_missing(data_dir):
    ind = inputs.load_wijk_indicators(data_dir).set_index("mdrc")
    assert len(ind) == 145
    # Quartier Royal (6) has no BIM value in the source: it must stay NaN, never 0
    assert pd.isna(ind.loc[6, "bim_beneficiaries_share_pct_2024"])
    assert (ind["bim_beneficiaries_share_pct_2024"].dropna() > 0).all()


def test_commune_population_matches_statbel(data_dir):
    pop = inputs.load_commune_population(data_dir)
    assert len(pop) == 19
    assert pop["pop_total"].sum() == 1_218_255
    assert pop["pop_0_2"].sum() == 50_045
    assert pop["pop_age0"].sum() == 16_600
    assert (pop["pop_0_4"] > pop["pop_0_2"]).all()


def test_region_outline(data_dir):
    region = inputs.load_region(data_dir)
    assert 160 < region.area / 1e6 < 164


def test_service_sets_report_incompleteness(data_dir):
    kg = inputs.load_services("kg", data_dir)
    assert list(kg.points["id"]) == ["KG-01"]
    assert "KG-02" in set(kg.excluded["id"])  # planned, not current supply
    assert kg.incomplete and kg.expected_count == 18
    assert "ONVOLLEDIGE" in kg.completeness_note
    one = inputs.load_services("one", data_dir)
    assert "ONE-01" in set(one.excluded["id"])  # prenatal only
    assert "ONE-12" in set(one.unlocated["id"])  # current, no coordinates: reported, not dropped
    cand = inputs.load_services("candidates", data_dir)
    assert len(cand.points) + len(cand.unlocated) == 614
    assert cand.points.crs.to_epsg() == 31370
    assert cand.points["approximate"].dtype == bool


def test_one_status_keeps_non_current_rows_out_of_supply(data_dir):
    raw = pd.read_csv(data_dir / "services" / "one_consultations_v2.csv", dtype=str)
    current = set(raw.loc[raw["status"] == "current", "id"])
    one = inputs.load_services("one", data_dir)
    # only current rows are supply (located or not); every other row is excluded, with its reason
    assert set(one.points["id"]) | set(one.unlocated["id"]) == current
    assert set(one.points["id"]) == {"ONE-10", "ONE-11"}
    excluded = one.excluded.set_index("id")
    assert set(excluded.index) == set(raw["id"]) - current
    assert excluded.loc["ONE-07", "excluded_reason"] == "status: historical"
    assert excluded.loc["ONE-08", "excluded_reason"] == "status: unverified"
    assert excluded.loc["ONE-02", "excluded_reason"] == "status: unverified"  # no coordinates, still excluded
    assert excluded.loc["ONE-01", "status"] == "prenatal_only"
    assert "9 niet als huidig aanbod geteld (5 historical, 1 prenatal_only, 3 unverified)" in one.completeness_note
    # the same rows stay out of the combined sets, where every type counts
    family = inputs.load_services("all_family", data_dir)
    assert not (set(family.points["id"]) & (set(raw["id"]) - current))
    assert family.excluded.set_index("id").loc["ONE-01", "excluded_reason"] == "status: prenatal_only"
    # asked for, historical rows come back
    wider = inputs.load_services("one", data_dir, statuses=("current", "historical"))
    assert "ONE-07" in set(wider.points["id"]) and "ONE-08" not in set(wider.points["id"])
    with pytest.raises(DataError, match="unknown service status"):
        inputs.load_services("one", data_dir, statuses=("closed",))


def test_bad_service_status_names_row(data_dir, tmp_path):
    target = _user_set(data_dir, tmp_path, "")
    (target / "services" / "user" / "mine.csv").write_text(
        "id,name,type,lat,lon,status\nA,x,cb,50.85,4.35,current\nB,y,cb,50.84,4.36,closed?\n", encoding="utf-8"
    )
    with pytest.raises(DataError, match="unknown status") as err:
        inputs.load_services("mine", target)
    assert (err.value.row, err.value.column) == (2, "status")
    (target / "services" / "user" / "mine.csv").write_text(
        "id,name,type,lat,lon,status\nA,x,cb,50.85,4.35,current\nB,y,cb,50.84,4.36,historical\n", encoding="utf-8"
    )
    s = inputs.load_services("mine", target)
    assert list(s.points["id"]) == ["A"] and list(s.excluded["excluded_reason"]) == ["status: historical"]


def test_sector_population_2019(data_dir):
    pop = inputs.load_sector_population(data_dir)
    assert len(pop) == 724 and pop["cd_sector"].is_unique
    assert pop["pop_total"].sum() == 1_205_525  # PROVENANCE.md
    assert (pop["pop_total"] == 0).sum() == 22
    assert set(pop["cd_sector"]) == set(inputs.load_sectors(data_dir)["cd_sector"])


def test_sector_age_bands_list_the_absent_sectors(data_dir):
    age = inputs.load_sector_age_bands(data_dir)
    assert len(age) == 724
    absent = age[~age["in_age_file"]]
    assert len(absent) == 49 and absent["pop_0_4"].isna().all()  # listed, not hidden, not zero-filled
    present = age[age["in_age_file"]]
    assert present["pop_0_4"].sum() == 77_539 and present["pop_total"].sum() == 1_218_772
    # the absent sectors are the small ones: 304 residents in 2019 between them (PROVENANCE.md)
    pop = inputs.load_sector_population(data_dir).set_index("cd_sector")["pop_total"]
    assert pop.reindex(absent["cd_sector"]).sum() == 304


def test_sector_bimd_and_ibsa_shares(data_dir):
    bimd = inputs.load_sector_bimd(data_dir)
    assert len(bimd) == 675 and bimd["bimd2011_decile"].between(1, 10).all()
    # decile 1 is the most deprived tenth: its lowest score is above decile 2's highest
    by = bimd.groupby("bimd2011_decile")["bimd2011_score"]
    assert by.min()[1] > by.max()[2]
    shares = inputs.load_commune_age_shares(data_dir)
    assert len(shares) == 19
    assert shares.set_index("commune_nis").loc[21011, "share_under3_pct"] == 5.03
    # the commune 0-4 count (used for the ratios of the need model) against a plain sum of the raw table
    raw = pd.read_csv(data_dir / "indicators" / "pop_age_commune_2020.csv")
    pop = inputs.load_commune_population(data_dir).set_index("commune_nis")
    expected = raw[raw["age"] <= 4].groupby("commune_nis")["population"].sum()
    assert (pop["pop_0_4"] == expected.reindex(pop.index)).all()


def _sector_csv(data_dir: Path, tmp_path: Path, name: str, edit) -> Path:
    src = {
        "population": data_dir / "population" / "sector_population_2019.csv",
        "age": data_dir / "population" / "sector_population_by_age5_2022.csv",
        "bimd": data_dir / "indicators" / "sector_bimd_2011.csv",
    }[name]
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    df = edit(df)
    path = tmp_path / f"{name}.csv"
    df.to_csv(path, index=False)
    return path


def test_sector_files_bad_rows_are_named(data_dir, tmp_path):
    def unknown_code(df):
        df.loc[4, "cd_sector"] = "21001Z99-"
        return df

    with pytest.raises(DataError, match="not a 2022 Statbel sector") as err:
        inputs.load_sector_population(data_dir, path=_sector_csv(data_dir, tmp_path, "population", unknown_code))
    assert (err.value.row, err.value.column) == (5, "cd_sector")

    def negative(df):
        df.loc[2, "pop_total_2019"] = "-4"
        return df

    with pytest.raises(DataError, match="not a head count") as err:
        inputs.load_sector_population(data_dir, path=_sector_csv(data_dir, tmp_path, "population", negative))
    assert err.value.row == 3

    with pytest.raises(DataError, match="sector\\(s\\) missing"):
        inputs.load_sector_population(
            data_dir, path=_sector_csv(data_dir, tmp_path, "population", lambda d: d.head(700))
        )

    def bands_off(df):
        df.loc[7, "pop_0_4"] = str(int(df.loc[7, "pop_0_4"]) + 5)
        return df

    with pytest.raises(DataError, match="age bands sum to") as err:
        inputs.load_sector_age_bands(data_dir, path=_sector_csv(data_dir, tmp_path, "age", bands_off))
    assert (err.value.row, err.value.column) == (8, "pop_total")

    def wrong_commune(df):
        df.loc[0, "commune_nis"] = "21002"
        return df

    with pytest.raises(DataError, match="lies in commune 21001") as err:
        inputs.load_sector_bimd(data_dir, path=_sector_csv(data_dir, tmp_path, "bimd", wrong_commune))
    assert err.value.row == 1

    def half_commune(df):  # a truncated file: Anderlecht loses half its sectors
        keep = ~((df["commune_nis"] == "21001") & (df.index % 2 == 0))
        return df[keep]

    with pytest.raises(DataError, match="commune 21001 sum to"):
        inputs.load_sector_age_bands(data_dir, path=_sector_csv(data_dir, tmp_path, "age", half_commune))

    def swapped_deciles(df):
        df.loc[0, "bimd2011_decile"] = "10"  # a score of 53.7 among the least deprived
        return df

    with pytest.raises(DataError, match="holds a higher score"):
        inputs.load_sector_bimd(data_dir, path=_sector_csv(data_dir, tmp_path, "bimd", swapped_deciles))


def test_unknown_service_set(data_dir):
    with pytest.raises(DataError, match="unknown service set"):
        inputs.load_services("nope", data_dir)


# --- bad inputs -----------------------------------------------------------------------------


@pytest.fixture
def sectors_gdf(data_dir):
    return gpd.read_file(data_dir / "statistical_sectors" / "brussels_statistical_sectors_2022_31370.gpkg")


def test_missing_file(tmp_path):
    with pytest.raises(DataMissingError, match="file not found"):
        inputs.load_sectors(path=tmp_path / "nothing.gpkg")


def test_missing_data_folder_says_what_to_do(tmp_path):
    with pytest.raises(DataMissingError, match="geoplanner data pull"):
        inputs.load_sectors(tmp_path)


def test_wrong_crs(tmp_path, sectors_gdf):
    wrong = sectors_gdf.set_crs("EPSG:4326", allow_override=True)
    path = tmp_path / "wrong.gpkg"
    wrong.to_file(path)
    with pytest.raises(DataError, match="do not fall in Brussels"):
        inputs.load_sectors(path=path)


def test_other_crs_is_reprojected(tmp_path, sectors_gdf):
    path = tmp_path / "wgs84.gpkg"
    sectors_gdf.head(20).to_crs("EPSG:4326").to_file(path)
    out = inputs.load_sectors(path=path)
    assert out.crs.to_epsg() == 31370 and len(out) == 20


def test_missing_column(tmp_path, sectors_gdf):
    path = tmp_path / "nocol.gpkg"
    sectors_gdf.drop(columns="mdrc").to_file(path)
    with pytest.raises(DataError, match="missing column") as err:
        inputs.load_sectors(path=path)
    assert err.value.column == "mdrc"


def test_duplicate_ids(tmp_path, sectors_gdf):
    dup = pd.concat([sectors_gdf.head(3), sectors_gdf.head(1)], ignore_index=True)
    path = tmp_path / "dup.gpkg"
    gpd.GeoDataFrame(dup, crs=sectors_gdf.crs).to_file(path)
    with pytest.raises(DataError, match="duplicate id") as err:
        inputs.load_sectors(path=path)
    assert err.value.row == 4 and err.value.column == "cd_sector"


def test_codes_that_do_not_match(tmp_path, sectors_gdf):
    bad = sectors_gdf.head(5).copy()
    bad.loc[2, "cd_munty_refnis"] = "21009"  # sector code says 21001
    path = tmp_path / "mismatch.gpkg"
    bad.to_file(path)
    with pytest.raises(DataError, match="does not match sector") as err:
        inputs.load_sectors(path=path)
    assert err.value.row == 3
    bad = sectors_gdf.head(5).copy()
    bad.loc[0, "cd_sector"] = "XYZ"
    bad.to_file(path)
    with pytest.raises(DataError, match="not a Brussels sector code"):
        inputs.load_sectors(path=path)


def test_non_numeric_indicator(tmp_path, data_dir):
    src = data_dir / "indicators" / "wijk_indicators_ibsa.csv"
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    df.loc[9, "unemployment_rate_pct_2023"] = "twelve"
    path = tmp_path / "ind.csv"
    df.to_csv(path, index=False)
    with pytest.raises(DataError) as err:
        inputs.load_wijk_indicators(path=path)
    assert (err.value.row, err.value.column) == (10, "unemployment_rate_pct_2023")
    assert "ind.csv, row 10, column 'unemployment_rate_pct_2023': not a number" in err.value.one_line()


def test_nd_flags_are_missing_not_errors(tmp_path, data_dir):
    src = data_dir / "indicators" / "wijk_indicators_ibsa.csv"
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    df.loc[0, "cpas_ris_beneficiaries_share_pct_2023"] = "ND"
    df.loc[1, "cpas_ris_beneficiaries_share_pct_2023"] = "VS"
    path = tmp_path / "ind.csv"
    df.to_csv(path, index=False)
    out = inputs.load_wijk_indicators(path=path)
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
    s = inputs.load_services("mine", target)
    assert list(s.points["id"]) == ["A"] and list(s.unlocated["id"]) == ["B"]
    assert "mine" in inputs.service_set_names(target)


def test_service_outside_region_and_swapped(data_dir, tmp_path):
    target = _user_set(data_dir, tmp_path, "A,Bureau A,cb,4.35,50.85,gps\n")
    with pytest.raises(DataError, match="outside the Brussels region") as err:
        inputs.load_services("mine", target)
    assert err.value.row == 1 and "swapped" in err.value.hint


def test_service_duplicate_and_non_numeric(data_dir, tmp_path):
    target = _user_set(data_dir, tmp_path, "A,x,cb,50.85,4.35,gps\nA,y,cb,50.84,4.36,gps\n")
    with pytest.raises(DataError, match="duplicate id") as err:
        inputs.load_services("mine", target)
    assert err.value.row == 2
    target = _user_set(data_dir, tmp_path / "2", "A,x,cb,fifty,4.35,gps\n")
    with pytest.raises(DataError, match="not a number") as err:
        inputs.load_services("mine", target)
    assert err.value.column == "lat"


def test_set_without_any_coordinates(data_dir, tmp_path):
    target = _user_set(data_dir, tmp_path, "A,Bureau A,cb,,,needs geocoding\n")
    s = inputs.load_services("mine", target)
    assert len(s.points) == 0 and list(s.unlocated["id"]) == ["A"]
    assert s.incomplete and "1 zonder coördinaten" in s.completeness_note


def test_a_service_set_is_read_once_until_its_file_changes(data_dir, tmp_path, monkeypatch):
    target = _user_set(data_dir, tmp_path, "A,Bureau A,cb,50.85,4.35,gps\n")
    reads = []
    from geoplanner.inputs import services

    real = services._read_services
    monkeypatch.setattr(services, "_read_services", lambda *a: reads.append(a[0]) or real(*a))
    first = inputs.load_services("mine", target)
    first.points.loc[0, "name"] = "changed by a caller"  # a caller's change stays its own
    again = inputs.load_services("mine", target)
    assert len(reads) == 1 and again.points["name"].tolist() == ["Bureau A"]
    csv = target / "services" / "user" / "mine.csv"
    csv.write_text("id,name,type,lat,lon,geocode_method\nA,Bureau A,cb,50.85,4.35,gps\nB,B,cb,50.84,4.36,gps\n")
    assert inputs.load_services("mine", target).points["id"].tolist() == ["A", "B"] and len(reads) == 2
