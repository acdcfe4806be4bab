"""Evaluations off the request thread: a bounded pool, progress, and cancellation a newer request brings.

A job runs in a worker thread of a pool of ``workers`` threads (HiGHS releases the GIL while it solves, so two
workers use two cores). Progress comes from :func:`geoplanner.core.progress.stage`: each step the engine starts
is the job's current step. Cancelling a job marks it at once (the client sees ``cancelled``); a job still queued
never starts, and a running one stops when its engine starts the next step (a single solve is not interrupted:
the quick evaluation is one solve; the teams curve is one step per number of teams).
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from geoplanner.core.errors import GeoplannerError
from geoplanner.core.progress import reporting

__all__ = ["Cancelled", "Job", "JobPool", "Busy"]

_LOG = logging.getLogger("geoplanner.serve")


class Cancelled(Exception):
    """Raised inside a job's thread when the job was cancelled (at the next step the engine starts)."""


class Busy(GeoplannerError):
    """More evaluations are waiting than the pool takes: the client should try again shortly."""


@dataclass(eq=False)
class Job:
    """One evaluation: its state, current step, and result or one-line error."""

    id: str
    kind: str
    state: str = "queued"  # queued | running | done | cancelled | error
    step: str = ""
    steps: int = 0
    result: Any = None
    error: str | None = None
    key: str | None = None
    cancel_event: threading.Event = dataclasses.field(default_factory=threading.Event)
    future: Future | None = None

    def cancel(self) -> None:
        """Cancel the job: at once for the client; the worker stops at its next step."""
        self.cancel_event.set()
        if self.state in ("queued", "running"):
            self.state = "cancelled"
        if self.future is not None:
            self.future.cancel()

    def public(self) -> dict[str, Any]:
        """Return what the client sees of the job (no result)."""
        return {"id": self.id, "kind": self.kind, "state": self.state, "step": self.step, "steps": self.steps,
                "error": self.error, "field": self.key}  # fmt: skip


class JobPool:
    """A bounded pool of worker threads; at most ``max_waiting`` jobs queued or running at once."""

    def __init__(self, workers: int = 2, max_waiting: int = 32) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="geoplanner-eval")
        self._max = max_waiting
        self._live: set[Job] = set()
        self._lock = threading.Lock()
        self.jobs: dict[str, Job] = {}

    def submit(self, kind: str, work: Callable[[Job], Any]) -> Job:
        """Queue ``work(job)`` as a job and return it (refused with :class:`Busy` when too many wait).

        ``work`` should keep its result only while ``job.cancel_event`` is not set.
        """
        with self._lock:
            self._live = {j for j in self._live if j.state in ("queued", "running")}
            if len(self._live) >= self._max:
                raise Busy(f"{len(self._live)} evaluations are waiting; try again in a moment")
            job = Job(id=secrets.token_hex(8), kind=kind)
            self._live.add(job)
            self.jobs[job.id] = job
            if len(self.jobs) > 1000:  # forget the oldest finished jobs
                for old in [k for k, j in self.jobs.items() if j.state not in ("queued", "running")][:500]:
                    del self.jobs[old]
        job.future = self._pool.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Callable[[Job], Any]) -> None:
        if job.cancel_event.is_set():
            return

        def report(event: str, label: str, seconds: float | None, depth: int) -> None:
            if event == "start":
                if job.cancel_event.is_set():
                    raise Cancelled(label)
                job.step, job.steps = label, job.steps + 1

        job.state = "running"
        try:
            with reporting(report):
                result = work(job)
        except Cancelled:
            job.state = "cancelled"
            return
        except GeoplannerError as exc:
            job.error, job.key, job.state = exc.one_line(), exc.column, "error"
            return
        except Exception:  # noqa: BLE001 - the client gets one line, the server's log the traceback
            _LOG.exception("evaluation %s failed", job.id)
            job.error, job.state = "internal error while evaluating (see the server's log)", "error"
            return
        if job.cancel_event.is_set():
            job.state = "cancelled"
            return
        job.result, job.state = result, "done"

    def shutdown(self) -> None:
        """Cancel every job and stop the workers (running solves finish first)."""
        for job in list(self.jobs.values()):
            job.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
