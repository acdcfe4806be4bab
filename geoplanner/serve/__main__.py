"""``python -m geoplanner.serve`` (what ``geoplanner serve`` runs): options, one-line errors, exit codes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geoplanner.core.errors import GeoplannerError
from geoplanner.serve.server import run_server


def main(argv: list[str] | None = None) -> int:
    """Parse the options and serve; 1 with one line on stderr for a bad option or input, 130 after Ctrl-C."""
    parser = argparse.ArgumentParser(prog="geoplanner serve", description="Scenario explorer in the browser.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--token", default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scenarios", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        run_server(args.host, args.port, args.token, workers=args.workers, scenarios_dir=args.scenarios)
    except GeoplannerError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
