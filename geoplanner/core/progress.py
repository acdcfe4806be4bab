"""Stages of a long run: their seconds, and an optional reporter the command line sets.

The library never prints. A run wraps each step in :func:`stage`, which measures it and, when a
reporter is set (:func:`reporting`, used by the CLI to show progress on stderr), tells it when
the step starts and ends::

    timings = {}
    with stage("rank", into=timings):
        ...
    timings  # {"rank": 12.345}

Stages may nest (a scenario, its teams curve, one solve of the curve); the reporter gets the
depth so it can indent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["Reporter", "stage", "reporting"]

#: Called as ``reporter(event, label, seconds, depth)``; event is ``"start"`` (seconds None) or ``"end"``.
Reporter = Callable[[str, str, "float | None", int], None]

_REPORTER: ContextVar[Reporter | None] = ContextVar("geoplanner_progress_reporter", default=None)
_DEPTH: ContextVar[int] = ContextVar("geoplanner_progress_depth", default=0)


@contextmanager
def stage(label: str, *, into: dict[str, Any] | None = None, key: str | None = None) -> Iterator[None]:
    """Measure a step; record its seconds in ``into[key or label]`` and tell the reporter, if any.

    Parameters
    ----------
    label
        What the step does, as shown to the user.
    into
        Where to record the seconds (rounded to milliseconds); also when the step fails.
    key
        Key in ``into`` (default ``label``).

    Yields
    ------
    None
    """
    reporter = _REPORTER.get()
    depth = _DEPTH.get()
    token = _DEPTH.set(depth + 1)
    if reporter is not None:
        reporter("start", label, None, depth)
    start = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - start
        _DEPTH.reset(token)
        if into is not None:
            into[key or label] = round(seconds, 3)
        if reporter is not None:
            reporter("end", label, seconds, depth)


@contextmanager
def reporting(reporter: Reporter | None) -> Iterator[None]:
    """Send the stages run inside this block to ``reporter`` (None: to nobody)."""
    token = _REPORTER.set(reporter)
    try:
        yield
    finally:
        _REPORTER.reset(token)
