"""A user's own figures per statistical sector: births, young children, inhabitants, a kansarmoede-index.

Validated against the Statbel 2022 and 2025 sector codes and the commune totals; 2025 codes are summed to
wijken through the IBSA crosswalk. Once stored (``geoplanner indicators import``), the need model uses them
instead of the estimates and marks them 'observed'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geoplanner.core import settings
from geoplanner.core.errors import DataError
from geoplanner.inputs.areas import load_crosswalk
from geoplanner.inputs.figures import load_commune_population
from geoplanner.inputs.user_tables import is_blank, map_columns, parse_number, read_user_table

__all__ = [
    "FIGURE_COLUMNS",
    "TOTALS_TOLERANCE",
    "REFUSE_FACTOR",
    "SectorFigures",
    "sector_figures_path",
    "validate_sector_figures",
    "figures_to_store",
    "load_sector_figures",
]

#: Sector figures a user may give (any subset); counts, except the index in per cent.
FIGURE_COLUMNS = ("births", "pop_0_2", "pop_total", "kansarmoede_index")
#: The figures that count people.
COUNT_COLUMNS = ("births", "pop_0_2", "pop_total")
#: A count written with thousands separators ('1.234', '12,345,678'): a Dutch Excel's '.' reads as a decimal point.
_THOUSANDS = re.compile(r"\d{1,3}([.,]\d{3})+")

#: Relative gap between a commune's summed sector figures and the public commune figure
#: (Statbel, 1 Jan 2020) above which a warning is given. Loose on purpose: the user's year
#: usually differs (births fell 16 % from 2019 to 2023).
TOTALS_TOLERANCE = 0.25

#: A commune's summed sector figures above this multiple of its public count are refused, not
#: warned about: no commune's young children or population doubled between the years the data
#: covers (regional births moved by less than 20 % between 2012 and 2023), so such a sum is a unit
#: or column mistake (e.g. a commune total repeated on every sector row).
REFUSE_FACTOR = 2.0

_FIGURE_ALIASES: dict[str, tuple[str, ...]] = {
    "code": (
        "code",
        "cd sector",
        "sector",
        "sector code",
        "secteur",
        "code secteur",
        "secteurstatistique code",
        "nis9",
    ),
    "births": ("births", "geboorten", "naissances", "births count"),
    "pop_0_2": ("pop 0 2", "pop_0_2", "kinderen 0 2", "enfants 0 2", "children 0 2", "population 0 2"),
    "pop_total": ("pop total", "population", "bevolking", "pop_total", "inwoners"),
    "kansarmoede_index": ("kansarmoede index", "kansarmoede", "kansarmoedeindex", "indice de pauvrete", "kai"),
    "year": ("year", "jaar", "annee"),
}
# Columns checked against the Statbel commune counts: (column, Statbel column, in words).
_TOTAL_CHECKS = (
    ("pop_0_2", "pop_0_2", "0-2 year olds"),
    ("births", "pop_age0", "children aged 0"),
    ("pop_total", "pop_total", "inhabitants"),
)


@dataclass(frozen=True)
class SectorFigures:
    """Observed sector figures from a user, ready to replace the estimates.

    Attributes
    ----------
    by_sector
        Indexed by 2022 ``cd_sector`` (files with 2022 codes); columns among
        :data:`FIGURE_COLUMNS` (NaN where the user gave nothing) and ``year``. Empty for
        files with 2025 codes.
    by_wijk
        Indexed by ``mdrc`` (files with 2025 codes, aggregated through the IBSA 2025
        crosswalk): summed counts, the kansarmoede-index as a pop_0_2-weighted mean where
        pop_0_2 is given (else a simple mean, see ``kansarmoede_weighting``), ``n_sectors``
        given and ``n_sectors_total`` in the wijk. Empty for 2022 files.
    vintage
        2022 or 2025.
    source
        The file read.
    warnings
        Plausibility warnings (totals against commune figures).
    """

    by_sector: pd.DataFrame
    by_wijk: pd.DataFrame
    vintage: int
    source: Path
    warnings: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        """The figures the user gave."""
        frame = self.by_sector if self.vintage == 2022 else self.by_wijk
        return [c for c in FIGURE_COLUMNS if c in frame.columns and frame[c].notna().any()]


def sector_figures_path(data_dir: Path | None = None) -> Path:
    """Return where the user's sector figures are stored."""
    return (data_dir or settings.data_dir()) / "indicators" / "user" / "sector_figures.csv"


def _first(mask: pd.Series | np.ndarray) -> int:
    """Return the position of the first true value."""
    return int(np.flatnonzero(np.asarray(mask))[0])


def _sector_codes(df: pd.DataFrame, path: Path) -> pd.Series:
    """Return the sector codes, cleaned; refuse empty and duplicate ones."""
    codes = df["code"].astype("string").str.strip().str.strip('"').str.upper()
    if codes.isna().any():
        raise DataError("empty sector code", path=path, row=_first(codes.isna()) + 1, column="code")
    dup = codes.duplicated()
    if dup.any():
        i = _first(dup)
        raise DataError(f"duplicate sector code {codes.iloc[i]!r}", path=path, row=i + 1, column="code")
    return codes


def _vintage(codes: pd.Series, cw22: pd.DataFrame, cw25: pd.DataFrame, path: Path) -> int:
    """2022 or 2025, from the codes; refuse unknown codes and files that mix the two."""
    in22, in25 = codes.isin(cw22.index), codes.isin(cw25.index)
    unknown = ~(in22 | in25)
    if unknown.any():
        i = _first(unknown)
        raise DataError(
            f"{int(unknown.sum())} unknown sector code(s), first {codes.iloc[i]!r}",
            path=path,
            row=i + 1,
            column="code",
            hint="use Statbel 2022 or 2025 codes of Brussels sectors (e.g. 21001A00-)",
        )
    only22, only25 = in22 & ~in25, in25 & ~in22
    if only22.any() and only25.any():
        i, j = _first(only22), _first(only25)
        raise DataError(
            f"mixes 2022-only codes (row {i + 1}: {codes.iloc[i]}) and 2025-only codes ({codes.iloc[j]})",
            path=path,
            row=j + 1,
            column="code",
            hint="use one sector vintage per file",
        )
    return 2025 if only25.any() else 2022


def _values(df: pd.DataFrame, codes: pd.Series, given: list[str], path: Path) -> pd.DataFrame:
    """Return the figures as numbers per sector code; refuse text, negative values, an index over 100 %."""
    values = pd.DataFrame(index=pd.Index(codes.astype(str), name="cd_sector"))
    for col in given:
        parsed = []
        for i, raw in enumerate(df[col]):
            if is_blank(raw):
                parsed.append(np.nan)
                continue
            if col in COUNT_COLUMNS and _THOUSANDS.fullmatch(str(raw).strip()):
                raise DataError(f"{raw!r} is ambiguous: a count with a thousands separator, or a decimal?", path=path,
                                row=i + 1, column=col, hint="write counts without separators (1234)")  # fmt: skip
            v = parse_number(raw)
            if v is None:
                raise DataError(f"not a number: {raw!r}", path=path, row=i + 1, column=col)
            if v < 0:
                raise DataError(f"negative value {v}", path=path, row=i + 1, column=col)
            if col == "kansarmoede_index" and v > 100:
                raise DataError(f"kansarmoede-index {v} outside 0-100 %", path=path, row=i + 1, column=col)
            parsed.append(v)
        values[col] = parsed
    return values


def _years(df: pd.DataFrame, path: Path) -> list[float]:
    """Return the ``year`` column as numbers (NaN where blank); refuse a cell that is not a year."""
    years = [parse_number(y) for y in df["year"]]
    bad = [i for i, (y, raw) in enumerate(zip(years, df["year"], strict=True)) if y is None and not is_blank(raw)]
    if bad:
        raise DataError(f"not a year: {df['year'].iloc[bad[0]]!r}", path=path, row=bad[0] + 1, column="year")
    return [np.nan if y is None else y for y in years]


def _check_consistency(values: pd.DataFrame, path: Path) -> None:
    """Refuse rows whose counts cannot all be true: more births than 0-2s, more 0-2s than people."""
    pairs = (
        ("births", "pop_0_2", "more births than children aged 0-2"),
        ("births", "pop_total", "more births than inhabitants"),
        ("pop_0_2", "pop_total", "more children aged 0-2 than inhabitants"),
    )
    for small, big, what in pairs:
        if small not in values.columns or big not in values.columns:
            continue
        bad = (values[small] > values[big]).to_numpy()
        if bad.any():
            i = _first(bad)
            raise DataError(
                f"{what} ({values[small].iloc[i]:g} > {values[big].iloc[i]:g})", path=path, row=i + 1, column=small
            )


def _check_totals(values: pd.DataFrame, cw: pd.DataFrame, pop: pd.DataFrame, path: Path) -> list[str]:
    """Compare each commune's summed figures with its Statbel counts: warn beyond the tolerance, refuse 2x."""
    warnings: list[str] = []
    commune = values.index.map(cw["commune_nis"])
    sectors_per_commune = cw.groupby("commune_nis").size()
    for col, ref_col, label in _TOTAL_CHECKS:
        if col not in values.columns:
            continue
        sums = values[col].groupby(commune).sum(min_count=1)
        counts = values[col].notna().groupby(commune).sum()
        for nis, total in sums.dropna().items():
            ref = float(pop.at[nis, ref_col])
            complete = counts[nis] == sectors_per_commune[nis]
            gap = (total - ref) / ref if ref else np.inf
            if total > REFUSE_FACTOR * ref:
                raise DataError(
                    f"the sectors of commune {nis} sum to {total:,.0f} {label}, more than {REFUSE_FACTOR:g}x "
                    f"the {ref:,.0f} Statbel counts (1/1/2020)",
                    path=path,
                    row=_first((commune == nis) & values[col].notna().to_numpy()) + 1,
                    column=col,
                    hint="check the unit and the column (a total in the wrong column, figures per 1,000?)",
                )
            if (complete and abs(gap) > TOTALS_TOLERANCE) or (not complete and gap > TOTALS_TOLERANCE):
                warnings.append(
                    f"{col}: commune {nis} sums to {total:.0f}, Statbel 2020 has {ref:.0f} {label} "
                    f"({gap:+.0%}; tolerance ±{TOTALS_TOLERANCE:.0%}"
                    + (")" if complete else f", {counts[nis]} of {sectors_per_commune[nis]} sectors given)")
                )
    return warnings


def validate_sector_figures(
    df: pd.DataFrame, path: Path, data_dir: Path | None = None, *, read_warnings: list[str] | None = None
) -> SectorFigures:
    """Check a user's table of sector figures and return them per 2022 sector or per wijk.

    Parameters
    ----------
    df
        The table as read (:func:`~geoplanner.inputs.user_tables.read_user_table`).
    path
        The user's file, named in errors.
    data_dir
        Data folder (crosswalks and commune population for the checks).
    read_warnings
        Warnings from reading the file, put before the plausibility warnings.

    Returns
    -------
    SectorFigures

    Raises
    ------
    DataError
        No code or figure column; empty, duplicate, unknown or mixed-vintage codes; a value that is not a
        number, negative, or an index outside 0-100; counts that cannot all be true; a commune summing to
        more than :data:`REFUSE_FACTOR` times its Statbel count.
    """
    df = map_columns(df, _FIGURE_ALIASES, path)
    if "code" not in df.columns:
        raise DataError(
            f"no sector code column; found {', '.join(map(str, df.columns))}",
            path=path,
            column="code",
            hint="name it 'code' (or cd_sector): the 9-character Statbel sector code, e.g. 21001A00-",
        )
    given = [c for c in FIGURE_COLUMNS if c in df.columns]
    if not given:
        raise DataError(
            f"no figure column; expected any of {', '.join(FIGURE_COLUMNS)}", path=path, hint="e.g. births, pop_0_2"
        )
    codes = _sector_codes(df, path)
    cw22 = load_crosswalk(data_dir, vintage=2022).set_index("cd_sector")
    cw25 = load_crosswalk(data_dir, vintage=2025).set_index("cd_sector")
    vintage = _vintage(codes, cw22, cw25, path)
    values = _values(df, codes, given, path)
    _check_consistency(values, path)
    if "year" in df.columns:
        values["year"] = _years(df, path)
    cw = cw25 if vintage == 2025 else cw22
    warnings = list(read_warnings or [])
    warnings += _check_totals(values, cw, load_commune_population(data_dir).set_index("commune_nis"), path)
    if vintage == 2022:
        by_sector = values.sort_index()
        by_wijk = pd.DataFrame(index=pd.Index([], name="mdrc", dtype=int))
    else:
        by_sector = pd.DataFrame(index=pd.Index([], name="cd_sector", dtype=str))
        by_wijk = _aggregate_to_wijk(values, cw25, warnings)
    return SectorFigures(by_sector=by_sector, by_wijk=by_wijk, vintage=vintage, source=path, warnings=warnings)


def _weighted_index(values: pd.DataFrame, mdrc: pd.Index, wijken: pd.Index) -> tuple[list[float], list[str]]:
    """Average the kansarmoede-index per wijk: by pop_0_2 where every sector gives it, else plainly."""
    k = values["kansarmoede_index"]
    weights = values["pop_0_2"] if "pop_0_2" in values.columns else pd.Series(np.nan, index=values.index)
    weighted, how = [], []
    for code in wijken:
        sel = (mdrc == code) & k.notna().to_numpy()
        kv, wv = k[sel], weights[sel]
        if not len(kv):
            weighted.append(np.nan)
            how.append("")
        elif wv.notna().all() and wv.sum() > 0:
            weighted.append(float((kv * wv).sum() / wv.sum()))
            how.append("pop_0_2-weighted mean")
        else:
            weighted.append(float(kv.mean()))
            how.append("unweighted mean (no pop_0_2)")
    return weighted, how


def _aggregate_to_wijk(values: pd.DataFrame, cw25: pd.DataFrame, warnings: list[str]) -> pd.DataFrame:
    """Sum counts and average the index per wijk (mdrc) through the 2025 crosswalk."""
    mdrc = values.index.map(cw25["mdrc"])
    grouped = values.groupby(mdrc)
    out = pd.DataFrame(index=pd.Index(sorted(set(mdrc)), name="mdrc"))
    for col in ("births", "pop_0_2", "pop_total"):
        if col in values.columns:
            out[col] = grouped[col].sum(min_count=1)
    if "kansarmoede_index" in values.columns:
        weighted, how = _weighted_index(values, mdrc, out.index)
        out["kansarmoede_index"] = weighted
        out["kansarmoede_weighting"] = how
        if "unweighted mean (no pop_0_2)" in how:
            warnings.append("kansarmoede-index averaged without population weights in some wijken (no pop_0_2)")
    if "year" in values.columns:
        out["year"] = grouped["year"].max()
    out["n_sectors"] = grouped.size()
    out["n_sectors_total"] = cw25.groupby("mdrc").size().reindex(out.index).to_numpy()
    partial = out[out["n_sectors"] < out["n_sectors_total"]]
    if len(partial):
        warnings.append(
            f"{len(partial)} wijk(en) have figures for only some of their sectors; their sums are partial"
            f" (e.g. wijk {partial.index[0]}: {partial['n_sectors'].iloc[0]} of {partial['n_sectors_total'].iloc[0]})"
        )
    return out


def figures_to_store(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Return the columns of a user's figures table that are stored: code, the figures given, year.

    Parameters
    ----------
    df
        The table as read (validated with :func:`validate_sector_figures`).
    path
        The user's file, named in errors.

    Returns
    -------
    pandas.DataFrame
        With canonical column names, as ``load_sector_figures`` reads them back.
    """
    mapped = map_columns(df, _FIGURE_ALIASES, path)
    return mapped[[c for c in ("code", *FIGURE_COLUMNS, "year") if c in mapped.columns]]


def load_sector_figures(data_dir: Path | None = None) -> SectorFigures | None:
    """Return the user's stored sector figures, validated again, or ``None`` if there are none."""
    path = sector_figures_path(data_dir)
    if not path.exists():
        return None
    df, warnings = read_user_table(path)
    return validate_sector_figures(df, path, data_dir, read_warnings=warnings)
