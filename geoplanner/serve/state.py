"""The server's state: the shared context built once, and the sessions, each with its own scenarios and data.

Network, need, demand points and service sets are loaded once when the server starts (:meth:`ServerState.load`).
Every browser gets a session of its own: the scenarios it made, their results, the service lists it uploaded and
the venues it added. A session that brings data of its own evaluates in its own copy of the context (its own
service sets by names no other session uses, and its own ``curves={}`` memo); the others share the server's. The
solution cache (:mod:`geoplanner.cache`, ``.cache/solutions``) is the one the command line uses.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import threading
import time
from collections import ChainMap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geoplanner import cache
from geoplanner.core import settings
from geoplanner.core.errors import ConfigError, DataError
from geoplanner.inputs.areas import load_communes
from geoplanner.inputs.services import ServiceSet
from geoplanner.pipeline.imports import address_index, preview_services
from geoplanner.pipeline.siting import build_context, load_scenario
from geoplanner.scenario import Scenario, ScenarioResult, SitingContext, evaluate, select_candidates, with_baseline
from geoplanner.serve.edit import apply_edits
from geoplanner.serve.jobs import Job, JobPool
from geoplanner.serve.layers import overview_layers

__all__ = ["Session", "ServerState", "MAX_SESSIONS", "MAX_UPLOAD_ROWS"]

_LOG = logging.getLogger("geoplanner.serve")

#: Sessions kept at once (the oldest unused one is forgotten beyond this).
MAX_SESSIONS = 200
#: Rows an uploaded service list may have.
MAX_UPLOAD_ROWS = 2000
#: Venues a session may add by hand.
MAX_ADDED_VENUES = 50
#: Scenarios (with their results) a session keeps; the oldest go first.
MAX_RESULTS = 20


@dataclass(eq=False)
class Session:
    """One browser's work: its scenarios and results, uploaded sets, added venues and latest evaluation."""

    id: str
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    results: dict[str, ScenarioResult] = field(default_factory=dict)
    sets: dict[str, ServiceSet] = field(default_factory=dict)
    added: list[dict[str, Any]] = field(default_factory=list)
    curves: dict[str, Any] = field(default_factory=dict)
    job: Job | None = None
    job_ids: list[str] = field(default_factory=list)  # this session's jobs, newest last (the last 50)
    runs: dict[str, Scenario] = field(default_factory=dict)  # what each result was evaluated as (own venue set)
    seen: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)
    uploads: int = 0

    def context(self, shared: SitingContext) -> SitingContext:
        """Return the context this session evaluates in: the shared one, or its own copy with its sets."""
        if not self.sets:
            return shared
        return dataclasses.replace(shared, services=ChainMap(self.sets, shared.services), curves=self.curves)


class ServerState:
    """The shared context, the shipped scenarios, the overview and the sessions of one server."""

    def __init__(self, context: SitingContext, shipped: dict[str, Scenario], *, workers: int = 2,
                 data_dir: Path | None = None) -> None:  # fmt: skip
        self.context = context
        self.data_dir = data_dir
        self.shipped = dict(shipped)
        ordered = with_baseline(list(shipped.values()))
        self.baseline_name = ordered[0].name
        self.baseline = evaluate(ordered[0], context)
        self.layers = overview_layers(context, self.baseline, {n: context.services[n] for n in ordered[0].open_sets})
        self.layers_json = json.dumps(self.layers, separators=(",", ":")).encode()
        self.pool = JobPool(workers=workers)
        self.sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._communes: gpd.GeoDataFrame | None = None

    @classmethod
    def load(cls, scenarios_dir: Path | None = None, *, data_dir: Path | None = None, workers: int = 2) -> ServerState:
        """Load network, need, demand and service sets once, and the shipped scenarios of ``scenarios_dir``."""
        folder = Path(scenarios_dir) if scenarios_dir is not None else Path.cwd() / "scenarios"
        paths = sorted(folder.glob("*.toml")) if folder.is_dir() else []
        shipped = {s.name: s for s in (load_scenario(p, data_dir=data_dir) for p in paths)}
        return cls(build_context(data_dir, cache=True), shipped, workers=workers, data_dir=data_dir)

    # sessions -------------------------------------------------------------------------------------------------
    def new_session(self) -> Session:
        """Open a session (the oldest unused is forgotten beyond :data:`MAX_SESSIONS`)."""
        with self._lock:
            if len(self.sessions) >= MAX_SESSIONS:
                oldest = min(self.sessions.values(), key=lambda x: x.seen)
                self.sessions.pop(oldest.id)
            session = Session(id=secrets.token_urlsafe(16))
            self.sessions[session.id] = session
        return session

    def session(self, sid: str | None) -> Session:
        """Return the session of an id the client sent."""
        found = self.sessions.get(sid or "")
        if found is None:
            raise ConfigError("unknown or expired session: reload the page", column="session")
        found.seen = time.monotonic()
        return found

    def scenario(self, session: Session, name: str) -> Scenario:
        """Return a scenario of the session, else a shipped one, by name."""
        found = session.scenarios.get(name) or self.shipped.get(name)
        if found is None:
            raise ConfigError(f"unknown scenario '{name}'", column="base")
        return found

    def scenario_names(self, session: Session) -> list[dict[str, Any]]:
        """Return the scenarios a session can start from or compare: shipped first, then its own."""
        out = [{"name": s.name, "title": s.label, "model": s.model, "shipped": True, "evaluated": s.name in
                session.results} for s in self.shipped.values()]  # fmt: skip
        out += [{"name": s.name, "title": s.label, "model": s.model, "shipped": False, "evaluated": s.name in
                 session.results} for s in session.scenarios.values() if s.name not in self.shipped]  # fmt: skip
        return out

    # evaluations ----------------------------------------------------------------------------------------------
    def edited(self, session: Session, request: dict[str, Any]) -> Scenario:
        """Return the scenario a request asks for (base, edits, new name), checked; raises naming the field."""
        base = self.scenario(session, str(request.get("base") or ""))
        edits = dict(request.get("edits") or {})
        name = request.get("name") or None
        if name is None and edits and base.name in self.shipped:
            name = f"{base.name}_bewerkt"  # a shipped scenario is never shadowed by its edit
        if name in self.shipped and (edits or self.shipped[name] is not base):
            raise ConfigError(f"'{name}' is a shipped scenario: choose another name", column="name")
        for set_key in ("services.open", "candidates.set"):
            names = edits.get(set_key)
            for n in [names] if isinstance(names, str) else names or []:
                if n not in session.sets and n not in self.context.services:
                    raise ConfigError(f"unknown service set '{n}'", column=set_key)
        return apply_edits(base, edits, name=name)

    def submit(self, session: Session, scenario: Scenario, *, quick: bool = True, admit: Sequence[str] = ()) -> Job:
        """Evaluate a scenario in the pool for a session; its older evaluation is cancelled.

        ``admit``: ids of venues of the candidate set to let in whatever the scenario's selection says; with them or
        with venues the session added, the scenario runs on a candidate set of the session's own (:meth:`pool`).
        """
        if quick and scenario.model == "capacitated_rotation":
            scenario = dataclasses.replace(scenario, curve_max_teams=0)
        run = self.pool_scenario(session, scenario, admit) if (session.added or admit) else scenario
        context = session.context(self.context)

        def work(job: Job) -> ScenarioResult:
            result = evaluate(run, context)
            with session.lock:
                if not job.cancel_event.is_set():  # a cancelled evaluation never replaces a newer one's result
                    for kept in (session.scenarios, session.results, session.runs):
                        kept.pop(scenario.name, None)  # newest last: the oldest go first beyond the bound
                    session.scenarios[scenario.name] = scenario
                    session.results[scenario.name] = result
                    session.runs[scenario.name] = run
                    for old in list(session.results)[:-MAX_RESULTS]:
                        for kept in (session.scenarios, session.results, session.runs):
                            kept.pop(old, None)
            return result

        with session.lock:
            if session.job is not None:
                session.job.cancel()
            session.job = self.pool.submit("curve" if not quick else "evaluate", work)
            session.job_ids = [*session.job_ids[-49:], session.job.id]
        return session.job

    def pool_scenario(self, session: Session, s: Scenario, admit: Sequence[str] = ()) -> Scenario:
        """Return the scenario on a candidate set of the session's own: its selection, the admitted and added venues.

        The set holds the venues the scenario's selection keeps, those of ``admit`` and those the session added,
        less the excluded; the scenario's filters are cleared so that it takes them all. The set is named by its
        venues, so two selections never share a name, nor a teams-curve memo.
        """
        if s.model == "none":
            return s
        cset = session.context(self.context).services[s.candidate_set]
        known = set(cset.points["id"])
        unknown = [i for i in admit if i not in known]
        if unknown:
            raise ConfigError(f"unknown venue '{unknown[0]}' in '{s.candidate_set}'", column="admit")
        keep = set(select_candidates(s, cset.points)["id"]) | set(admit)
        pool = cset.points[cset.points["id"].isin(keep - set(s.candidate_exclude))]
        added = [v for v in session.added if v["id"] not in s.candidate_exclude]
        frames = [pool]
        if added:
            frames.append(gpd.GeoDataFrame(pd.DataFrame(added).drop(columns=["x", "y"]), crs=settings.CRS,
                                           geometry=gpd.points_from_xy([v["x"] for v in added],
                                                                       [v["y"] for v in added])))  # fmt: skip
        points = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=settings.CRS)
        points["approximate"] = points["approximate"].fillna(False).astype(bool)
        name = f"sessie-{session.id[:8].lower()}-locaties-{cache.digest(sorted(points['id']))[:8]}"
        with session.lock:
            session.sets[name] = ServiceSet(
                name=name,
                label="kandidaat-locaties van deze sessie",
                points=points.sort_values("id", ignore_index=True),
                unlocated=pd.DataFrame(),
                excluded=pd.DataFrame(),
                expected_count=None,
            )
        return dataclasses.replace(s, candidate_set=name, candidate_suitability=(), candidate_types=(),
                                   candidate_communes=(), candidate_lgn=(), candidate_ids=(), candidate_exclude=(),
                                   dutch_only=False)  # fmt: skip

    # own data -------------------------------------------------------------------------------------------------
    def address_index(self) -> Any:
        """Return the offline address index (loaded the first time it is needed, then kept by the pipeline)."""
        return address_index(self.data_dir)

    def upload(self, session: Session, data: bytes, suffix: str, shown_as: str) -> tuple[str, Any]:
        """Import an uploaded service list into the session as a set of its own; return its name and report."""
        with session.lock:
            session.uploads += 1
            name = f"sessie-{session.id[:8].lower()}-lijst-{session.uploads}"
        ss, report = preview_services(data, suffix, name, shown_as=shown_as, data_dir=self.data_dir,
                                      max_rows=MAX_UPLOAD_ROWS)  # fmt: skip
        with session.lock:
            session.sets[name] = dataclasses.replace(ss, label=f"eigen lijst: {shown_as}")
            session.curves = {}  # the memo is by scenario only: new data, a new memo
        return name, report

    def commune_of(self, x: float, y: float) -> int | None:
        """Return the NIS code of the commune holding a Lambert 72 point (None outside the region)."""
        if self._communes is None:
            self._communes = load_communes(self.data_dir)
        hit = self._communes[self._communes.contains(gpd.points_from_xy([x], [y])[0])]
        return int(hit["commune_nis"].iloc[0]) if len(hit) else None

    def add_venue(self, session: Session, venue: dict[str, Any]) -> dict[str, Any]:
        """Add a venue to the session's candidates (checked: inside the region, a name, at most 50)."""
        nis = self.commune_of(venue["x"], venue["y"])
        if nis is None:
            raise DataError("the point lies outside the Brussels region", column="venue")
        with session.lock:
            if len(session.added) >= MAX_ADDED_VENUES:
                raise DataError(f"at most {MAX_ADDED_VENUES} venues can be added in a session", column="venue")
            vid = f"eigen-{len(session.added) + 1}"
            row = {"id": vid, "name": venue["name"], "type": "eigen_locatie", "suitability": "geschikt",
                   "language": venue.get("language") or "unknown", "commune_nis": str(nis), "x": venue["x"],
                   "y": venue["y"], "uncertainty_m": venue.get("uncertainty_m"), "source": "toegevoegd in de app",
                   "approximate": bool((venue.get("uncertainty_m") or 0) > 50)}  # fmt: skip
            session.added.append(row)
            session.curves = {}
        return row

    def shutdown(self) -> None:
        """Stop the workers."""
        self.pool.shutdown()
