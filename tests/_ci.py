"""What a test may skip: on a developer machine a missing system tool, in CI (``CI=true``) nothing.

CI (``.ci/run``) installs Chromium, chromedriver and PyQGIS; a test that needs one of them and does not
find it fails there, saying what is missing, instead of skipping. ``tests/conftest.py`` turns any other
skip into a failure under ``CI=true`` too, so ``CI=true pytest -rs`` lists no skips.
"""

from __future__ import annotations

import os

import pytest

__all__ = ["in_ci", "need"]


def in_ci() -> bool:
    """Return whether the tests run in CI: ``$CI`` set to anything but empty, ``0``, ``false`` or ``no``."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def need(condition: bool, why: str) -> None:
    """Skip when ``condition`` does not hold on a developer machine; fail under CI, which installs it."""
    if condition:
        return
    if in_ci():
        pytest.fail(why + " (required in CI: .ci/run installs it)")
    pytest.skip(why)
