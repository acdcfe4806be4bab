"""The layout keeps its rules (tests/_structure.py), and each rule catches a violation planted on purpose.

Rules, from the parsed source of every module of the package:
1. layers import only downward (core → cache → inputs → need/geocode/siting → access → scenario → outputs →
   pipeline → cli), no import cycles, no private names of another module;
2. the package's own modules are imported at module level; inside a function only heavy optional libraries,
   with a comment saying why;
3. only ``outputs/files.py``, ``cache.py``, ``pipeline/`` and ``cli/`` write files; only ``inputs/`` (and those)
   find files in the data folder; the engines read no file at all;
4. modules under 800 lines, functions under 80 (docstrings not counted).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from _structure import MAX_FUNCTION_LINES, MAX_MODULE_LINES, violations

ROOT = Path(__file__).resolve().parents[1]


def test_the_package_keeps_every_rule() -> None:
    found = violations(ROOT)
    assert not found, "\n" + "\n".join(map(str, found))


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    """Write a small package named like ours: the rules look at the names of its parts."""
    base = {
        "geoplanner/__init__.py": '"""Pkg."""\n',
        "geoplanner/core/__init__.py": '"""Core."""\n',
        "geoplanner/core/settings.py": '"""Settings."""\n\n\ndef data_dir() -> str:\n    return "data"\n',
        "geoplanner/inputs/__init__.py": '"""Inputs."""\n',
        "geoplanner/inputs/load.py": (
            '"""Load."""\n\nfrom geoplanner.core.settings import data_dir\n\n\n'
            "def load_sectors() -> str:\n    return open(data_dir()).read()\n"
        ),
        "geoplanner/need/__init__.py": '"""Need."""\n',
        "geoplanner/need/model.py": '"""Model."""\n\nfrom geoplanner.inputs import load\n\n\ndef f(x):\n    return x\n',
        "geoplanner/outputs/__init__.py": '"""Outputs."""\n',
        "geoplanner/outputs/files.py": '"""Files."""\n\n\ndef write(df, p):\n    df.to_csv(p)\n',
        "geoplanner/pipeline/__init__.py": '"""Pipeline."""\n',
        "geoplanner/pipeline/run.py": (
            '"""Run."""\n\nfrom geoplanner.inputs.load import load_sectors\nfrom geoplanner.need.model import f\n'
            "from geoplanner.outputs.files import write\n\n\ndef run(p):\n    write(f(load_sectors()), p)\n"
        ),
    }
    base.update(files)
    for rel, text in base.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


def _rules(tmp_path: Path, files: dict[str, str]) -> list[str]:
    return [f"{v.rule} {v.module}" for v in violations(_package(tmp_path, files))]


def test_a_clean_small_package_passes(tmp_path: Path) -> None:
    assert _rules(tmp_path, {}) == []


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # rule 1: an engine importing the layer that writes
        ({"geoplanner/need/up.py": "from geoplanner.pipeline import run\n"}, "layers geoplanner.need.up"),
        # rule 1: two peers of the engine layer
        ({"geoplanner/geocode/__init__.py": "from geoplanner.need import model\n"}, "layers geoplanner.geocode"),
        # rule 1: a cycle inside a package, hidden in a function
        (
            {
                "geoplanner/need/a.py": "from geoplanner.need import b\n",
                "geoplanner/need/b.py": "def g():\n    from geoplanner.need import a\n    return a\n",
            },
            "cycle geoplanner.need.a",
        ),
        # rule 1: another module's private name, taken or reached into
        ({"geoplanner/need/p.py": "from geoplanner.inputs.load import _helper\n"}, "private geoplanner.need.p"),
        (
            {"geoplanner/need/q.py": "from geoplanner.inputs import load\n\nx = load._cache\n"},
            "private geoplanner.need.q",
        ),
        # rule 2: the package's own module imported inside a function
        (
            {"geoplanner/need/lazy.py": "def g():\n    from geoplanner.inputs import load\n    return load\n"},
            "lazy-import geoplanner.need.lazy",
        ),  # fmt: skip
        # rule 2: a light library imported lazily, and a heavy one without a reason
        (
            {"geoplanner/need/h.py": "def g():\n    import hashlib\n    return hashlib\n"},
            "lazy-import geoplanner.need.h",
        ),
        (
            {"geoplanner/outputs/m.py": "def g():\n    import matplotlib\n    return matplotlib\n"},
            "lazy-import geoplanner.outputs.m",
        ),  # fmt: skip
        # rule 3: an engine writing a file, finding its own data, reading a file
        ({"geoplanner/need/w.py": "def g(df):\n    df.to_csv('x.csv')\n"}, "writes geoplanner.need.w"),
        (
            {"geoplanner/outputs/w.py": "def g(p):\n    with open(p, 'w') as fh:\n        fh.write('x')\n"},
            "writes geoplanner.outputs.w",
        ),  # fmt: skip
        (
            {
                "geoplanner/need/d.py": (
                    "from geoplanner.inputs.load import load_sectors\n\n\ndef g():\n    return load_sectors()\n"
                )
            },
            "data-dir geoplanner.need.d",
        ),  # fmt: skip
        (
            {"geoplanner/need/r.py": "import pandas as pd\n\n\ndef g(p):\n    return pd.read_csv(p)\n"},
            "reads geoplanner.need.r",
        ),  # fmt: skip
        # rule 4: a function too long, a module too long
        (
            {"geoplanner/need/long.py": "def g():\n" + "    x = 1\n" * (MAX_FUNCTION_LINES + 1) + "    return x\n"},
            "size geoplanner.need.long",
        ),  # fmt: skip
        ({"geoplanner/need/big.py": "x = 1\n" * (MAX_MODULE_LINES + 1)}, "size geoplanner.need.big"),
    ],
)
def test_a_planted_violation_is_caught(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    assert expected in _rules(tmp_path, files)


def test_what_the_rules_allow(tmp_path: Path) -> None:
    """A heavy library imported lazily with its reason, writing to memory, imports for annotations only."""
    allowed = {
        "geoplanner/outputs/chart.py": (
            "import io\n\n\ndef png(fig):\n    import matplotlib  # heavy: only when a chart is drawn\n\n"
            "    buf = io.BytesIO()\n    fig.savefig(buf)\n    return buf.getvalue()\n"
        ),
        "geoplanner/need/typed.py": (
            "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from geoplanner.pipeline.run import run\n"
        ),
    }
    assert _rules(tmp_path, allowed) == []


def test_no_merge_conflict_markers_left_in_the_project() -> None:
    """A merge that kept both sides' markers would ship them (it once did, in the README)."""
    import re
    import subprocess

    root = Path(__file__).resolve().parent.parent
    tracked = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=False).stdout.split()
    if not tracked:  # not a git checkout (a source archive): look at the usual text files
        tracked = [str(p.relative_to(root)) for ext in ("py", "md", "toml", "j2", "js", "html", "css")
                   for p in root.rglob(f"*.{ext}") if ".venv" not in p.parts]  # fmt: skip
    marker = re.compile(r"^(<{7} |>{7} |={7}$)", re.M)
    found = []
    for rel in tracked:
        path = root / rel
        if path.suffix in (".py", ".md", ".toml", ".j2", ".js", ".html", ".css", ".txt", ".cfg") and path.is_file():
            if marker.search(path.read_text(encoding="utf-8", errors="replace")):
                found.append(rel)
    assert found == []
