"""Start the application: load once, bind to loopback (any other host needs a token), serve with uvicorn."""

from __future__ import annotations

import ipaddress
import logging
import secrets
import socket
import time
from pathlib import Path

import uvicorn

from geoplanner.core.errors import ConfigError
from geoplanner.serve.app import create_app
from geoplanner.serve.state import ServerState

__all__ = ["is_loopback", "check_binding", "run_server"]


def is_loopback(host: str) -> bool:
    """Tell whether ``host`` only reaches this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str | None, port: int | None = None) -> str | None:
    """Return the token the server will require: ``token``, or a new one for a host other than loopback.

    Raises
    ------
    ConfigError
        A token shorter than 16 characters (option ``--token``); a port that is taken or a host this machine does
        not have (``--port``, ``--host``), found before the slow load.
    """
    if token is not None and len(token) < 16:
        raise ConfigError("the token must have at least 16 characters", column="--token")
    if port is not None:
        _check_port(host, port)
    if token is None and not is_loopback(host):
        return secrets.token_urlsafe(24)
    return token


def _check_port(host: str, port: int) -> None:
    """Refuse a port another program listens on, or a host that is not an address of this machine."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise ConfigError(f"unknown host {host!r}", column="--host") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}", column="--port") from None


def run_server(host: str = "127.0.0.1", port: int = 8765, token: str | None = None, *, workers: int = 2,
               scenarios_dir: Path | None = None, say: object = print) -> None:  # fmt: skip
    """Load the shared context once, then serve until Ctrl-C.

    Parameters
    ----------
    host, port
        Where to listen (default loopback only).
    token
        Required on every API call; made up and printed when ``host`` is not loopback and none is given.
    workers
        Evaluations run at once (threads; HiGHS uses one core each).
    scenarios_dir
        The shipped scenarios (default ``./scenarios``).
    say
        Where the start-up lines go.
    """
    token = check_binding(host, token, port)
    start = time.perf_counter()
    state = ServerState.load(scenarios_dir, workers=workers)
    app = create_app(state, token=token)
    url = f"http://{host if ':' not in host else f'[{host}]'}:{port}/" + (f"#token={token}" if token else "")
    say(f"geoplanner serve: loaded in {time.perf_counter() - start:.1f} s; open {url}")  # type: ignore[operator]
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        state.shutdown()
