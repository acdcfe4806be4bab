"""Atomic outputs: a step replaces its files as a whole, or not at all."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from geoplanner.outputs.files import csv_safe, output_step, pending_path, write_csv, write_text
from geoplanner.outputs.manifest import write_manifest


def _run(out: Path, files: dict[str, str], *, fail: BaseException | None = None) -> None:
    with output_step(out):
        written = [write_text(out / name, text) for name, text in files.items()]
        if fail is not None:
            raise fail
        write_manifest(out, command="test", inputs=[], parameters={}, outputs=written)


def _files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.iterdir())}


def test_files_appear_only_when_the_step_ends(tmp_path: Path) -> None:
    out = tmp_path / "o"
    with output_step(out):
        target = write_text(out / "a.csv", "new\n")
        assert not target.exists()  # staged aside until the step ends
        assert pending_path(target).read_text() == "new\n"
    assert target.read_text() == "new\n"


def test_failed_step_leaves_the_previous_run_untouched(tmp_path: Path) -> None:
    out = tmp_path / "o"
    _run(out, {"a.csv": "1\n", "b.csv": "1\n"})
    before = _files(out)
    for exc in (RuntimeError("boom"), KeyboardInterrupt()):
        with pytest.raises(type(exc)):
            _run(out, {"a.csv": "2\n", "c.csv": "2\n"}, fail=exc)
        assert _files(out) == before
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_failed_step_removes_the_folders_it_created(tmp_path: Path) -> None:
    """A step that fails leaves no empty folder behind, and never removes one that was there before."""
    (tmp_path / "out").mkdir()
    with pytest.raises(RuntimeError), output_step(tmp_path / "out" / "new" / "step"):
        write_text(tmp_path / "out" / "new" / "step" / "a.txt", "a")
        raise RuntimeError("boom")
    assert list((tmp_path / "out").iterdir()) == []  # out/ was there: kept; new/ and new/step/ removed
    with pytest.raises(RuntimeError), output_step(tmp_path / "out"):
        write_text(tmp_path / "out" / "b.txt", "b")
        raise RuntimeError("boom")
    assert (tmp_path / "out").is_dir()


def test_stale_files_of_the_previous_run_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "o"
    _run(out, {"timetable.csv": "rotation\n", "sites.csv": "1\n"})
    (out / "mine.txt").write_text("a file of the user's, not in any manifest\n")
    _run(out, {"sites.csv": "2\n"})
    assert _files(out).keys() == {"sites.csv", "manifest.json", "mine.txt"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert [o["path"] for o in manifest["outputs"]] == ["sites.csv"]  # relative to the manifest


def test_manifest_hashes_the_staged_files(tmp_path: Path) -> None:
    import hashlib

    out = tmp_path / "o"
    _run(out, {"a.csv": "x\n"})
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["outputs"][0]["sha256"] == hashlib.sha256(b"x\n").hexdigest()


def test_nested_steps_commit_on_their_own(tmp_path: Path) -> None:
    outer, inner = tmp_path / "o", tmp_path / "o" / "maps"
    with pytest.raises(RuntimeError):
        with output_step(outer, manifest="report_manifest.json"):
            with output_step(inner):
                write_text(inner / "gap.html", "map\n")
            assert (inner / "gap.html").read_text() == "map\n"  # the inner step is done
            write_text(outer / "report.html", "report\n")
            raise RuntimeError("report failed")
    assert (inner / "gap.html").exists() and not (outer / "report.html").exists()


def test_csv_cells_that_look_like_formulas_become_text(tmp_path: Path) -> None:
    df = pd.DataFrame({"name": ["=SUM(A1)", "+32 2 555", "-x", "@a", "ok", "-3.5", "-", None], "n": range(8)})
    assert csv_safe(df)["name"].tolist()[:6] == ["'=SUM(A1)", "'+32 2 555", "'-x", "'@a", "ok", "-3.5"]
    target = write_csv(tmp_path / "t.csv", df)
    back = pd.read_csv(target, dtype=str, keep_default_na=False)
    assert back["name"].iloc[0] == "'=SUM(A1)" and back["n"].iloc[2] == "2"
    assert df["name"].iloc[0] == "=SUM(A1)"  # the caller's frame is not changed


def test_a_rename_that_fails_at_the_end_puts_every_file_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """All or none: when the manifest (renamed last) cannot be renamed, the files renamed before it go back."""
    import os

    out = tmp_path / "o"
    _run(out, {"a.csv": "1\n", "b.csv": "1\n"})
    before = _files(out)
    real = os.replace

    def replace(src, dst):
        if Path(dst).name == "manifest.json" and Path(src).suffix == ".json":  # the staged manifest, not a backup
            raise OSError(28, "No space left on device", str(dst))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="No space"):
        _run(out, {"a.csv": "2\n", "b.csv": "2\n", "c.csv": "2\n"})
    monkeypatch.undo()
    assert _files(out) == before
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_a_folder_where_an_output_goes_is_refused_before_anything_moves(tmp_path: Path) -> None:
    from geoplanner.core.errors import DataError

    out = tmp_path / "o"
    _run(out, {"a.csv": "1\n"})
    (out / "b.csv").mkdir()
    before = _files_and_folders(out)
    with pytest.raises(DataError, match="a folder has its name") as err:
        _run(out, {"a.csv": "2\n", "b.csv": "2\n"})
    assert Path(str(err.value.path)).name == "b.csv"
    assert _files_and_folders(out) == before


def _files_and_folders(folder: Path) -> dict[str, str | None]:
    return {p.name: (p.read_text() if p.is_file() else None) for p in sorted(folder.iterdir())}


def test_manifest_hashes_what_a_linked_input_points_to(tmp_path: Path) -> None:
    """A bundle file may be a link (a data folder of links to a shared copy): its content is hashed, not the link."""
    import hashlib

    real = tmp_path / "shared" / "wijken.csv"
    real.parent.mkdir()
    real.write_text("mdrc\n1\n")
    link = tmp_path / "data" / "wijken.csv"
    link.parent.mkdir()
    link.symlink_to(real)
    out = tmp_path / "o"
    for content in ("mdrc\n1\n", "mdrc\n2\n"):
        real.write_text(content)
        with output_step(out):
            write_manifest(out, command="test", inputs=[link], parameters={})
        (entry,) = json.loads((out / "manifest.json").read_text())["inputs"]
        assert entry["path"] == str(link)
        assert entry["sha256"] == hashlib.sha256(content.encode()).hexdigest()
        assert entry["bytes"] == len(content)
