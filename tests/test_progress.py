"""Stage timings and the progress reporter: nesting, failures, no reporter by default."""

from __future__ import annotations

import time

import pytest

from geoplanner.core.progress import reporting, stage


def test_stages_record_their_seconds_and_nest():
    events, timings = [], {}
    with reporting(lambda *e: events.append(e)):
        with stage("outer", into=timings):
            time.sleep(0.02)
            with stage("inner", into=timings, key="in"):
                time.sleep(0.01)
    assert set(timings) == {"outer", "in"} and timings["outer"] >= timings["in"] >= 0.01
    assert [(e, label, depth) for e, label, _, depth in events] == [
        ("start", "outer", 0), ("start", "inner", 1), ("end", "inner", 1), ("end", "outer", 0),
    ]  # fmt: skip
    assert events[0][2] is None and events[2][2] == pytest.approx(timings["in"], abs=1e-3)


def test_a_failing_stage_is_still_timed_and_the_reporter_is_reset():
    events, timings = [], {}
    with pytest.raises(ZeroDivisionError):
        with reporting(lambda *e: events.append(e)):
            with stage("broken", into=timings):
                1 / 0  # noqa: B018
    assert "broken" in timings and events[-1][0] == "end"
    events.clear()
    with stage("after", into=timings):  # no reporter any more
        pass
    assert events == [] and "after" in timings
