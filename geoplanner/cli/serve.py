"""``geoplanner serve``: the scenario explorer in the browser (:mod:`geoplanner.serve`).

The web application is a front end of its own (layer 8, beside this one), so this command starts it as
``python -m geoplanner.serve`` with the same options and returns its exit code: 0, 1 with one line for a bad
option or input, 130 after Ctrl-C.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to ``app``."""

    @app.command("serve")
    def serve_cmd(
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (default: this machine only)."),
        port: int = typer.Option(8765, "--port", min=1, max=65535, help="Port to listen on."),
        token: str | None = typer.Option(
            None, "--token", help="Required on every API call (made up and printed for a host other than loopback)."
        ),
        workers: int = typer.Option(2, "--workers", min=1, max=16, help="Evaluations run at once."),
        scenarios: Path | None = typer.Option(None, "--scenarios", help="Folder of shipped scenarios (scenarios/)."),
    ) -> None:
        """Open the scenario explorer: overview, scenario editor, comparison, own data, downloads."""
        args = [
            sys.executable,
            "-m",
            "geoplanner.serve",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(workers),
        ]
        if token is not None:
            args += ["--token", token]
        if scenarios is not None:
            args += ["--scenarios", str(scenarios)]
        try:
            code = subprocess.call(args)  # noqa: S603 - our own module, options passed as a list
        except KeyboardInterrupt:
            code = 130
        raise typer.Exit(code)
