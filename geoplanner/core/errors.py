"""One exception family for everything a user can get wrong.

Every error names what it can of the file, the row and the column, so the CLI can print
one line and exit non-zero without a traceback.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["GeoplannerError", "DataError", "ConfigError", "DataMissingError", "ModelError"]


class GeoplannerError(Exception):
    """Base class: a problem the user can fix, reported as one line.

    Parameters
    ----------
    message
        What is wrong, in plain words.
    path
        The file concerned, if any.
    row
        1-based data row (the header is row 0), or a line number for text files.
    column
        The column or key concerned, or a command-line option (``--name``).
    hint
        What the user can do about it.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.path = Path(path) if path is not None else None
        self.row = row
        self.column = column
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """Return the error as one line: ``file, row N, column C: message (hint)``."""
        where = []
        if self.path is not None:
            where.append(str(self.path))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            # A command-line option is named as such; anything else is a column or a key.
            where.append(f"option {self.column}" if self.column.startswith("--") else f"column '{self.column}'")
        text = (", ".join(where) + ": " if where else "") + self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class DataError(GeoplannerError):
    """An input file is missing, malformed or inconsistent."""


class DataMissingError(DataError):
    """A dataset the command needs is not in ``data/``."""


class ConfigError(GeoplannerError):
    """A parameter, scenario or configuration file is invalid."""


class ModelError(GeoplannerError):
    """A model cannot be solved as asked (infeasible, empty, degenerate)."""
