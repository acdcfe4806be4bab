"""Command-line interface: a thin layer over the library.

Each concern registers its commands from its own module (``geoplanner.cli.<concern>``);
this module only builds the app and turns :class:`~geoplanner.core.errors.GeoplannerError`
into one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from geoplanner.core.errors import GeoplannerError

__all__ = ["app", "main", "console", "err_console", "stage_printer", "EXIT_INTERRUPTED"]

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


def stage_printer(max_depth: int = 1):  # noqa: ANN201 - geoplanner.core.progress.Reporter or None
    """Return a :mod:`geoplanner.core.progress` reporter printing each stage and its seconds on stderr.

    Only in a terminal (None otherwise: logs and pipes keep the commands' usual output; the
    seconds are still in the manifests). Stages nested deeper than ``max_depth`` are not shown.
    """
    if not err_console.is_terminal:
        return None

    def report(event: str, label: str, seconds: float | None, depth: int) -> None:
        if depth > max_depth:
            return
        pad = "  " * depth
        if event == "start":
            err_console.print(f"{pad}[dim]… {label}[/]", highlight=False)
        else:
            err_console.print(f"{pad}[green]✓[/] {label} [dim]{seconds:.1f} s[/]", highlight=False)

    return report


# Modules that add commands to `app`, in the order of the data flow.
_COMMAND_MODULES = ("data", "rank", "imports", "coverage", "siting", "sweep", "maps", "lgn", "run", "serve")

for _name in _COMMAND_MODULES:
    importlib.import_module(f"geoplanner.cli.{_name}").register(app)


#: Exit code of a run interrupted by Ctrl-C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130
_INTERRUPTED = "interrupted (Ctrl-C): the step that was running left its earlier outputs as they were"


def _click_classes(name: str) -> tuple[type[BaseException], ...]:
    """Return the click exception class ``name`` from click and from the copy newer typer versions vendor."""
    import importlib

    found = []
    for module in ("click.exceptions", "typer._click.exceptions"):
        try:
            found.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(dict.fromkeys(found))


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code.

    0 success; 1 a problem with the input or the data (one line on stderr, no traceback); 2 a
    wrong command line; 130 interrupted by Ctrl-C.
    """
    from rich.markup import escape

    try:
        code = app(args=argv, standalone_mode=False)
    except GeoplannerError as exc:
        err_console.print(f"[bold red]error:[/] {escape(exc.one_line())}", highlight=False, soft_wrap=True)
        return 1
    except (*_click_classes("Abort"), KeyboardInterrupt):
        err_console.print(_INTERRUPTED, highlight=False)
        return EXIT_INTERRUPTED
    except _click_classes("ClickException") as exc:  # usage errors carry their own exit codes
        exc.show()
        return exc.exit_code
    except OSError as exc:  # unwritable output folder, disk full, a path that is a file, ...
        where = f"{exc.filename}: " if exc.filename else ""
        message = escape(f"{where}{exc.strerror or exc}")
        err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
        return 1
    # Without standalone mode, click returns the code of `typer.Exit(code)`, and typer turns
    # Ctrl-C inside a command into Exit(130).
    if code == EXIT_INTERRUPTED:
        err_console.print(_INTERRUPTED, highlight=False)
    return code if isinstance(code, int) and not isinstance(code, bool) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
