import hashlib
from pathlib import Path

import pytest

from geoplanner.core.errors import ConfigError, DataMissingError
from geoplanner.inputs.bundle import check, load_bundle
from geoplanner.pipeline.data import pull


def _bundle(tmp_path: Path, content: bytes, *, direct_url: str | None = None) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    digest = hashlib.sha256(content).hexdigest()
    extra = f'direct = true\nurl = "{direct_url}"' if direct_url else 'url = "https://example.org/x.csv"'
    (data / "bundle.toml").write_text(
        f"""[datasets.sample]
path = "things/sample.csv"
sha256 = "{digest}"
title = "t"
publisher = "p"
licence = "l"
year = 2020
{extra}
"""
    )
    return data


def test_pull_copies_from_mirror_and_verifies(tmp_path):
    data = _bundle(tmp_path, b"a,b\n1,2\n")
    mirror = tmp_path / "mirror" / "things"
    mirror.mkdir(parents=True)
    (mirror / "sample.csv").write_bytes(b"a,b\n1,2\n")
    actions = pull(tmp_path / "mirror", data_dir=data)
    assert [a.action for a in actions] == ["copied"]
    assert (data / "things" / "sample.csv").read_bytes() == b"a,b\n1,2\n"
    assert [a.action for a in pull(tmp_path / "mirror", data_dir=data)] == ["present"]
    assert [a.action for a in check(data)] == ["ok"]


def test_pull_refuses_to_overwrite_a_different_file(tmp_path):
    data = _bundle(tmp_path, b"new\n")
    (tmp_path / "mirror" / "things").mkdir(parents=True)
    (tmp_path / "mirror" / "things" / "sample.csv").write_bytes(b"new\n")
    own = data / "things" / "sample.csv"
    own.parent.mkdir()
    own.write_bytes(b"user's own\n")
    assert [a.action for a in pull(tmp_path / "mirror", data_dir=data)] == ["conflict"]
    assert own.read_bytes() == b"user's own\n"
    assert [a.action for a in check(data)] == ["changed"]
    assert [a.action for a in pull(tmp_path / "mirror", data_dir=data, replace=True)] == ["replaced"]
    assert own.read_bytes() == b"new\n"


def test_checksum_mismatch_writes_nothing(tmp_path):
    data = _bundle(tmp_path, b"expected\n")
    (tmp_path / "mirror" / "things").mkdir(parents=True)
    (tmp_path / "mirror" / "things" / "sample.csv").write_bytes(b"tampered\n")
    with pytest.raises(Exception, match="checksum mismatch"):
        pull(tmp_path / "mirror", data_dir=data)
    assert not (data / "things" / "sample.csv").exists()
    assert not list((data / "things").glob(".*"))  # no temporary left behind


def test_missing_without_source_says_where_to_get_it(tmp_path):
    data = _bundle(tmp_path, b"x\n")
    (tmp_path / "empty").mkdir()
    (action,) = pull(tmp_path / "empty", data_dir=data)
    assert action.action == "missing"
    assert "https://example.org/x.csv" in action.detail
    with pytest.raises(DataMissingError):
        pull(tmp_path / "does-not-exist", data_dir=data)


def test_direct_download_path(tmp_path):
    # a file: URL exercises the download branch without touching the network
    src = tmp_path / "published.csv"
    src.write_bytes(b"official\n")
    data = _bundle(tmp_path, b"official\n", direct_url=src.as_uri())
    (action,) = pull(None, data_dir=data)
    assert action.action == "downloaded"
    assert (data / "things" / "sample.csv").read_bytes() == b"official\n"


def test_bundle_rejects_unknown_keys(tmp_path):
    bad = tmp_path / "bundle.toml"
    bad.write_text(
        '[datasets.a]\npath="x"\nsha256="0"\ntitle="t"\npublisher="p"\nlicence="l"\nyear=1\nurl="u"\ncolour="red"\n'
    )
    with pytest.raises(ConfigError, match="unknown key"):
        load_bundle(bad)


def test_real_bundle_is_complete(data_dir):
    bundle = load_bundle(data_dir / "bundle.toml")
    assert {"sectors", "wijken", "wijk_indicators", "osm_pbf", "services_kg"} <= set(bundle)
    assert bundle["services_kg"].expected_count == 18
    # the sector figures of the need model and the ONE list with its status column
    assert {"sector_population", "sector_age_bands", "sector_bimd", "commune_age_shares"} <= set(bundle)
    assert bundle["services_one"].path.endswith("one_consultations_v2.csv")
    assert bundle["sector_age_bands"].year == 2022 and bundle["sector_population"].year == 2019
    assert all(a.action == "ok" for a in check(data_dir))
