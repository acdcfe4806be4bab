"""How many decimals an output table keeps: each number rounded to what it means, in one place.

The engines compute in full floating-point precision; a table written for people and their tools keeps what the
figure can carry. An estimated number of children is not known to the child (``7860.999999999999`` says nothing
``7861.0`` does not), a share is read to the tenth of a percent, a walking time to the tenth of a minute.
:func:`round_for_csv` rounds a table by its column names (:func:`csv_decimals`); the pipeline applies it once to
every table before it is written, and hands the same rounded table to the CSV, the workbook, the report and the
LGN pages, so they all show the same number.

=========================================  ==========  ==============================================================
column                                     decimals    why
=========================================  ==========  ==============================================================
``x``, ``y`` (EPSG:31370 metres)           2           a centimetre: a GIS join or a re-plot loses nothing
``lat``, ``lon``                           6           about 10 cm
shares (``share_*``, ``*_share``,          3           0.1 % (a coefficient of variation is a share too)
``utilisation``, ``p_*``, ``*_cv``,
``solver_gap``, ``gap_share``)
children, births, residents                1           estimates: whole children and one decimal to sum without drift
(``pop_*``, ``births``, ``children*``,
``within_<t>_min``, ``uncertain_*``, …)
consultations, places, attendance          1           derived from assumptions; one decimal keeps sums exact enough
minutes (``*_min``)                        1           a tenth of a minute is 7.5 m of walking
metres (``*_m``), per mille                1
seconds (``*_s``)                          2
any other number (scores, z-scores,        4           indices standardised over the wijken: 4 decimals keep the
contributions, loadings, factors)                      ranking's order and let an analyst re-weight the components
=========================================  ==========  ==============================================================

Integers, booleans and text are left as they are. Input data written by an import (a user's service list with its
coordinates, sector figures) is data, not an output table: it is never rounded here.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["csv_decimals", "round_for_csv", "DEFAULT_DECIMALS"]

#: Decimals of a number whose column no rule names (scores, z-scores, loadings, factors).
DEFAULT_DECIMALS = 4

_SHARE_NAMES = frozenset({"utilisation", "solver_gap", "gap_share"})
_COUNT_NAMES = frozenset({"births", "children", "marginal_children", "cumulative_children", "expected_attendance",
                          "capacity", "capacity_per_year", "marginal_demand", "priority_wijken"})  # fmt: skip
_COUNT_PREFIXES = ("pop_", "births_", "children_", "within_", "uncertain_", "consultations")
_THRESHOLD_COUNT = re.compile(r"^(within|uncertain)_\d+(\.\d+)?_min$")


def csv_decimals(column: str) -> int:
    """Return the decimals an output table keeps in a numeric ``column`` (see the module docstring)."""
    c = str(column)
    if c in ("x", "y"):
        return 2
    if c in ("lat", "lon"):
        return 6
    if c.startswith(("share_", "p_")) or c.endswith(("_share", "_cv")) or c in _SHARE_NAMES:
        return 3
    if _THRESHOLD_COUNT.match(c):
        return 1  # children within (or uncertain at) a threshold: a count, though it ends in _min
    if c.endswith("_min"):
        return 1
    if c.endswith(("_m", "_permille")):
        return 1
    if c.endswith("_s"):
        return 2
    if c in _COUNT_NAMES or c.startswith(_COUNT_PREFIXES) or c.endswith("_demand"):
        return 1
    return DEFAULT_DECIMALS


def round_for_csv(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` with each float column rounded to :func:`csv_decimals` of its name.

    Rounding twice gives the same table, so a table rounded before it is handed to several writers stays
    the same in each. Integer, boolean, text and geometry columns are kept as they are; ``inf`` and missing
    values stay what they were.
    """
    out = frame.copy()
    for col in out.columns:
        values = out[col]
        if pd.api.types.is_float_dtype(values.dtype):
            out[col] = np.round(values.to_numpy(dtype=float), csv_decimals(str(col)))
        elif values.dtype == object and _all_floats(values):  # floats mixed with None (a measure some lack)
            out[col] = np.round(pd.to_numeric(values).to_numpy(dtype=float), csv_decimals(str(col)))
    return out


def _all_floats(values: pd.Series) -> bool:
    """Whether every value present in an object column is a float (none a bool, an int or text)."""
    present = values.dropna()
    return bool(len(present)) and bool(present.map(lambda v: isinstance(v, float | np.floating)).all())
