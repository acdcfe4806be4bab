"""Command-line interface: a thin layer over the library.

Each concern registers its commands from its own module (``geoplanner.cli.<concern>``);
this module only builds the app and turns :class:`~geoplanner.errors.GeoplannerError`
into one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from geoplanner.errors import GeoplannerError

__all__ = ["app", "main", "console", "err_console"]

app = typer.Typer(
    name="geoplanner",
    help="Plan preventive family support in Brussels: need, walking access, siting, maps.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Wide enough for the ranking tables when output goes to a file or a CI log.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

# Modules that add commands to `app`, in the order of the data flow.
_COMMAND_MODULES = ("data", "rank", "imports", "coverage", "siting", "maps", "run")

for _name in _COMMAND_MODULES:
    importlib.import_module(f"geoplanner.cli.{_name}").register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 1 user error, 2 usage error)."""
    try:
        app(args=argv, standalone_mode=False)
    except GeoplannerError as exc:
        err_console.print(f"[bold red]error:[/] {exc.one_line()}", highlight=False, soft_wrap=True)
        return 1
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        return 130
    except Exception as exc:  # click usage errors carry their own exit codes
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        if isinstance(exc, click.exceptions.Exit):
            return exc.exit_code
        raise
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
