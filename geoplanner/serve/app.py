"""The web application: a JSON/GeoJSON API over :func:`geoplanner.scenario.evaluate`, and the page that uses it.

Every API answer is JSON (downloads aside); every error is ``{"error": "<one line>", "field": <key or null>}`` with
a 4xx status (5xx only for a fault of the server, whose traceback goes to the server's log, never to the page).
With a token (required for any host but loopback), every ``/api`` call must carry it (header
``X-Geoplanner-Token``, or ``?token=`` on a download link); the page itself and its scripts hold no data.
Static files are served by fixed names: nothing a client sends becomes a path. OpenAPI docs: ``/docs``.
"""

from __future__ import annotations

import hmac
import logging
import re
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import Body, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pyproj import Transformer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from geoplanner.core.errors import ConfigError, DataError, GeoplannerError
from geoplanner.geocode import geocode
from geoplanner.inputs.lgn import LGN
from geoplanner.outputs.maps.assets import PACKAGES, local_path
from geoplanner.outputs.precision import round_for_csv
from geoplanner.outputs.report.render import render_report
from geoplanner.outputs.workbook import glossary, main_job_sheets, workbook_bytes
from geoplanner.pipeline.assets import assets_dir
from geoplanner.pipeline.imports import UPLOAD_SUFFIXES
from geoplanner.pipeline.maps import report_inputs
from geoplanner.pipeline.siting import comparison_tables
from geoplanner.serve.edit import editor_fields, scenario_toml
from geoplanner.serve.jobs import Busy, Job
from geoplanner.serve.layers import area_figures, wijk_table
from geoplanner.serve.state import ServerState, Session
from geoplanner.serve.views import comparison_view, import_view, records, result_view, to_wgs84, venues_csv

__all__ = ["create_app", "MAX_UPLOAD_BYTES", "MAX_COMPARE"]

_LOG = logging.getLogger("geoplanner.serve")

#: Largest upload accepted (bytes).
MAX_UPLOAD_BYTES = 2_000_000
#: Scenarios compared side by side at most.
MAX_COMPARE = 3
#: The page's own files, by the only names a client can ask for.
_STATIC = {"app.js": "text/javascript", "app.css": "text/css", "index.html": "text/html"}
#: The vendored Leaflet files, by the only names a client can ask for (``/vendor/<name>``).
_VENDOR = {Path(f).name: (p, f) for p in PACKAGES if p.name == "leaflet" for f in p.files}
_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


def _error(status: int, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": message.splitlines()[0] if message else "error", "field": field}, status_code=status)


def _static(name: str) -> Response:
    text = resources.files("geoplanner.serve").joinpath("static", name).read_bytes()
    return Response(text, media_type=_STATIC[name], headers={"Cache-Control": "no-cache"})


def _handlers(app: FastAPI) -> None:
    """Turn every error into one line of JSON: no traceback, no stack in the page."""

    @app.exception_handler(GeoplannerError)
    async def user_error(request: Request, exc: GeoplannerError) -> JSONResponse:
        status = 503 if isinstance(exc, Busy) else (403 if exc.column == "token" else 400)
        # a file's error names the file, row and column; an option's is shown next to its field
        text = exc.one_line() if exc.path is not None else exc.message + (f" ({exc.hint})" if exc.hint else "")
        return _error(status, text, exc.column)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        return _error(422, f"{where or 'request'}: {first.get('msg', 'invalid request')}", where or None)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def fault(request: Request, exc: Exception) -> JSONResponse:
        _LOG.exception("request %s failed", request.url.path)
        return _error(500, "internal error (the server's log has the details)")


def _guard(app: FastAPI, token: str | None) -> None:
    """Check the token on every ``/api`` call when the server has one."""

    @app.middleware("http")
    async def check_token(request: Request, call_next: Any) -> Any:
        if token and request.url.path.startswith("/api/") and request.url.path != "/api/health":
            given = request.headers.get("x-geoplanner-token") or request.query_params.get("token") or ""
            if not hmac.compare_digest(given.encode(), token.encode()):
                return _error(403, "missing or wrong token (open the address the server printed)", "token")
        return await call_next(request)


def _pages(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def index() -> Response:
        return _static("index.html")

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in _STATIC or name == "index.html":
            return _error(404, "not found")
        return _static(name)

    @app.get("/vendor/{name}", include_in_schema=False)
    @app.get("/vendor/images/{name}", include_in_schema=False)
    def vendor(name: str) -> Response:
        if name not in _VENDOR:
            return _error(404, "not found")
        path = local_path(*_VENDOR[name], assets_dir())
        if not path.is_file():
            return _error(404, "the Leaflet files are not there: run `geoplanner assets fetch` once")
        return Response(path.read_bytes(), media_type=_TYPES[path.suffix], headers={"Cache-Control": "max-age=3600"})


def _results(state: ServerState, session: Session, names: list[str]) -> list[Any]:
    """Return the session's results of the named scenarios, the current situation first (evaluated on the way)."""
    if not names or len(names) > MAX_COMPARE:
        raise ConfigError(f"choose 1 to {MAX_COMPARE} scenarios", column="names")
    missing = [n for n in names if n not in session.results and n != state.baseline_name]
    if missing:
        raise ConfigError(f"scenario '{missing[0]}' is not computed yet in this session: press Bereken first",
                          column="names")  # fmt: skip
    base = [state.baseline] if state.baseline_name not in names else []
    return base + [session.results.get(n) or state.baseline for n in names]


def _engine(app: FastAPI, state: ServerState) -> None:
    @app.get("/api/health")
    def health() -> dict[str, Any]:
        return {"ready": True, "baseline": state.baseline_name}

    @app.post("/api/session")
    def new_session() -> dict[str, Any]:
        lgns = [[n, LGN[n][0]] for n in sorted(LGN)]
        return {"session": state.new_session().id, "baseline": state.baseline_name, "lgns": lgns}

    @app.get("/api/overview")
    def overview(lgn: int | None = Query(None, ge=1, le=8), x_session: str = Header("")) -> dict[str, Any]:
        state.session(x_session)
        table = wijk_table(state.context, state.baseline)
        if lgn is not None:
            table = table[table["lgn"] == lgn]
        return {"area": area_figures(state.context, state.baseline, lgn), "wijken": records(table)}

    @app.get("/api/layers")
    def layers(x_session: str = Header("")) -> Response:
        state.session(x_session)
        return Response(state.layers_json, media_type="application/json")

    @app.get("/api/scenarios")
    def scenarios(x_session: str = Header("")) -> dict[str, Any]:
        session = state.session(x_session)
        sets = [{"name": n, "label": n} for n in state.context.services]
        sets += [{"name": n, "label": ss.label} for n, ss in session.sets.items() if "-lijst-" in n]
        return {"scenarios": state.scenario_names(session), "sets": sets, "added": records_of(session.added)}

    @app.get("/api/scenario")
    def scenario(name: str, x_session: str = Header("")) -> dict[str, Any]:
        s = state.scenario(state.session(x_session), name)
        return {"name": s.name, "title": s.label, "model": s.model, "description": s.description.strip(),
                "fields": editor_fields(s)}  # fmt: skip


def _evaluations(app: FastAPI, state: ServerState) -> None:
    @app.post("/api/evaluate", status_code=202)
    def evaluate(request: dict[str, Any] = Body(...), x_session: str = Header("")) -> dict[str, Any]:
        session = state.session(x_session)
        return state.submit(session, state.edited(session, request), quick=True, admit=_admitted(request)).public()

    @app.post("/api/curve", status_code=202)
    def curve(request: dict[str, Any] = Body(...), x_session: str = Header("")) -> dict[str, Any]:
        session = state.session(x_session)
        top = request.get("max_teams", 10)  # the scenario files' default: 1..10 teams
        s = state.edited(session, {**request, "edits": {**(request.get("edits") or {}), "curve.max_teams": top}})
        if s.model != "capacitated_rotation":
            raise ConfigError("a teams curve is drawn for a capacitated rotation only", column="model")
        return state.submit(session, s, quick=False, admit=_admitted(request)).public()

    def own_job(job_id: str, sid: str) -> Job:
        """Return one of the session's jobs (another session's is unknown to it)."""
        found = state.pool.jobs.get(job_id) if job_id in state.session(sid).job_ids else None
        if found is None:
            raise ConfigError("unknown job", column="job")
        return found

    @app.get("/api/jobs/{job_id}")
    def job(job_id: str, x_session: str = Header("")) -> dict[str, Any]:
        found = own_job(job_id, x_session)
        out = found.public()
        if found.state == "done":
            out["result"] = result_view(found.result)
        return out

    @app.post("/api/jobs/{job_id}/cancel")
    def cancel(job_id: str, x_session: str = Header("")) -> dict[str, Any]:
        found = own_job(job_id, x_session)
        found.cancel()
        return found.public()

    @app.post("/api/compare")
    def compare_(request: dict[str, Any] = Body(...), x_session: str = Header("")) -> dict[str, Any]:
        session = state.session(x_session)
        names = [str(n) for n in request.get("names") or []]
        return comparison_view(_results(state, session, names), cache=state.context.cache)


def _admitted(request: dict[str, Any]) -> list[str]:
    """Return the venue ids a request lets in whatever the selection says (checked: text, at most 200)."""
    admit = request.get("admit") or []
    if not isinstance(admit, list) or len(admit) > 200 or not all(isinstance(i, str) for i in admit):
        raise ConfigError("admit must be a list of at most 200 venue ids", column="admit")
    return sorted(set(admit))


def records_of(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the venues a session added as the page shows them (WGS84)."""
    out = []
    for v in rows:
        lon, lat = to_wgs84([v["x"]], [v["y"]])
        out.append({"id": v["id"], "name": v["name"], "lon": float(lon[0]), "lat": float(lat[0]),
                    "uncertainty_m": v.get("uncertainty_m")})  # fmt: skip
    return out


def _own_data(app: FastAPI, state: ServerState) -> None:
    @app.post("/api/upload")
    async def upload(request: Request, filename: str = Query(..., max_length=200),
                     x_session: str = Header("")) -> dict[str, Any]:  # fmt: skip
        session = state.session(x_session)
        suffix = Path(filename).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            raise DataError(f"unsupported file type {suffix or '(none)'!r}", column="file", hint="use .csv or .xlsx")
        declared = int(request.headers.get("content-length") or 0)
        if declared > MAX_UPLOAD_BYTES:
            raise DataError(f"the file is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB", column="file")
        data = b""
        async for chunk in request.stream():
            data += chunk
            if len(data) > MAX_UPLOAD_BYTES:
                raise DataError(f"the file is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB", column="file")
        if suffix == ".xlsx" and not data.startswith(b"PK\x03\x04"):
            raise DataError("this is not an .xlsx workbook", column="file")
        if suffix == ".csv" and b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise DataError("this is not a text (CSV) file", column="file")
        shown = re.sub(r"[\x00-\x1f]", "", Path(filename).name)[:80] or "upload"
        name, report = await run_in_threadpool(state.upload, session, data, suffix, shown)
        return import_view(report, name, shown)

    @app.get("/api/geocode")
    def geocode_(street: str = Query(..., min_length=2, max_length=120), number: str = Query("", max_length=20),
                 postcode: str = Query("", max_length=10), x_session: str = Header("")) -> dict[str, Any]:  # fmt: skip
        state.session(x_session)
        res = geocode(state.address_index(), street, number or None, postcode or None)
        if not res.found:
            raise DataError(f"address not found: {res.reason}", column="address")
        return {"lon": round(float(res.lon), 6), "lat": round(float(res.lat), 6), "x": float(res.x),
                "y": float(res.y), "accuracy": res.accuracy, "uncertainty_m": float(res.uncertainty_m),
                "matched": res.matched_street}  # fmt: skip

    @app.post("/api/venues")
    def add_venue(venue: dict[str, Any] = Body(...), x_session: str = Header("")) -> dict[str, Any]:
        session = state.session(x_session)
        name = str(venue.get("name") or "").strip()
        if not name or len(name) > 120:
            raise ConfigError("a venue needs a name (at most 120 characters)", column="venue_name")
        try:
            lon, lat = float(venue["lon"]), float(venue["lat"])
        except (KeyError, TypeError, ValueError):
            raise ConfigError("a venue needs lon and lat", column="venue") from None
        x, y = _to_lambert(lon, lat)
        radius = venue.get("uncertainty_m")
        row = state.add_venue(session, {"name": name, "x": x, "y": y,
                                        "uncertainty_m": float(radius) if radius is not None else None})  # fmt: skip
        return records_of([row])[0]


_TO_LAMBERT = Transformer.from_crs("EPSG:4326", "EPSG:31370", always_xy=True)


def _to_lambert(lon: float, lat: float) -> tuple[float, float]:
    return _TO_LAMBERT.transform(lon, lat)


def _downloads(app: FastAPI, state: ServerState) -> None:
    def attachment(body: bytes | str, name: str, media: str) -> Response:
        return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @app.get("/api/download/scenario")
    def download_scenario(name: str, session: str = Query(...)) -> Response:
        sess = state.session(session)
        s = sess.runs.get(name) or state.scenario(sess, name)  # as evaluated: with the session's venues, if any
        note = "Scenario uit geoplanner serve; `geoplanner site " + s.name + ".toml` geeft hetzelfde resultaat."
        if s.curve_max_teams == 0:
            note += "\n[curve] max_teams = 0: snelle berekening zonder teamscurve; zet 10 voor 'Hoeveel teams?'."
        if s.candidate_set in sess.sets:
            note += (f"\nDe kandidaten zijn de locaties van de sessie (met toegelaten en toegevoegde): download ze als "
                     f"CSV en importeer ze eerst: geoplanner services import {s.candidate_set}.csv --set "
                     f"{s.candidate_set}")  # fmt: skip
        return attachment(scenario_toml(s, note), f"{s.name}.toml", "application/toml")

    @app.get("/api/download/venues")
    def download_venues(name: str, session: str = Query(...)) -> Response:
        sess = state.session(session)
        s = sess.runs.get(name) or state.scenario(sess, name)
        if s.candidate_set not in sess.sets:
            raise ConfigError(f"scenario '{name}' uses the set '{s.candidate_set}' of the data folder", column="name")
        return attachment(venues_csv(sess.sets[s.candidate_set]), f"{s.candidate_set}.csv", "text/csv")

    @app.get("/api/download/workbook")
    def download_workbook(names: str, session: str = Query(...)) -> Response:
        sess = state.session(session)
        results = _results(state, sess, [n for n in names.split(",") if n])
        table, per_lgn, per_wijk = comparison_tables(results, state.context.ranking)  # rounded as the CSVs
        sheets = main_job_sheets(priority=state.context.ranking, comparison=table, comparison_wijk=per_wijk,
                                 timetables={r.scenario.name: round_for_csv(r.timetable) for r in results})  # fmt: skip
        notes = list(dict.fromkeys(n for r in results for n in r.notes))
        data = workbook_bytes(sheets, notes, glossary=glossary())
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return attachment(data, "geoplanner_scenarios.xlsx", media)

    @app.get("/api/download/print")
    def download_print(names: str, session: str = Query(...)) -> Response:
        sess = state.session(session)
        results = _results(state, sess, [n for n in names.split(",") if n])
        page = render_report(report_inputs(results, state.context), cache=state.context.cache)
        return Response(page, media_type="text/html")


def create_app(state: ServerState, *, token: str | None = None) -> FastAPI:
    """Return the application over a loaded :class:`ServerState` (``token``: required on every API call)."""
    app = FastAPI(title="geoplanner serve", description="Scenario explorer over geoplanner.scenario.evaluate",
                  version="1")  # fmt: skip
    _handlers(app)
    _guard(app, token)
    _pages(app)
    _engine(app, state)
    _evaluations(app, state)
    _own_data(app, state)
    _downloads(app, state)
    return app
