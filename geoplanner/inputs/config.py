"""Read the user's own text files: parameter files and scenario files (TOML), as text to parse."""

from __future__ import annotations

from pathlib import Path

from geoplanner.core.errors import ConfigError

__all__ = ["read_text_file"]


def read_text_file(path: str | Path, *, what: str = "file") -> str:
    """Return the UTF-8 text of a user's file, refusing a missing or non-text file in one line.

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for the message (``"scenario file"``, ``"parameter file"``).

    Returns
    -------
    str
        The text (a leading byte-order mark removed).

    Raises
    ------
    ConfigError
        If the file does not exist, is a folder or is not UTF-8 text.
    """
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{what} not found", path=path) from None
    except IsADirectoryError:
        raise ConfigError(f"{what} is a folder, not a file", path=path) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{what} is not UTF-8 text", path=path) from None
