"""The engine modules stay pure: no output writing and no import cycle between them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def _loaded_after(module: str) -> set[str]:
    """Return the geoplanner modules a fresh interpreter has loaded after importing ``module``."""
    code = (
        f"import importlib, json, sys; importlib.import_module({module!r}); "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('geoplanner'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout))


@pytest.mark.parametrize(
    ("module", "absent"),
    [
        (
            "geoplanner.access.times",
            {"geoplanner.access.isochrones", "geoplanner.pipeline", "geoplanner.outputs.manifest"},
        ),
        ("geoplanner.access.isochrones", {"geoplanner.pipeline", "geoplanner.scenario"}),
        ("geoplanner.scenario", {"geoplanner.pipeline", "geoplanner.access.isochrones"}),
    ],
)
def test_engine_modules_do_not_import_the_runs(module: str, absent: set[str]) -> None:
    loaded = _loaded_after(module)
    assert module in loaded  # the probe works
    assert not (loaded & absent), sorted(loaded & absent)


def test_run_coverage_lives_in_pipeline() -> None:
    import geoplanner.access.times as acc
    from geoplanner import pipeline

    assert not hasattr(acc, "run_coverage") and not hasattr(acc, "CoverageRun")
    assert pipeline.run_coverage.__module__ == "geoplanner.pipeline"


def test_accessibility_names_no_writing_module_even_lazily() -> None:
    """Lazy imports inside functions count too: the cycle accessibility ↔ isochrones is gone."""
    import ast
    from pathlib import Path

    import geoplanner.access.times as acc

    tree = ast.parse(Path(acc.__file__).read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
    banned = {
        "geoplanner.access.isochrones",
        "geoplanner.pipeline",
        "geoplanner.outputs.manifest",
        "geoplanner.outputs.files",
    }
    assert not (names & banned), sorted(names & banned)
