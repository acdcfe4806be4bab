"""How sure is each chosen venue? A scenario solved under plausible variations of its figures (issue 20).

A *sweep* solves one scenario many times. In every *draw*:

1. **Counts** (``[sweep] counts = true``): each sector's derived or estimated births and children aged 0–2 are
   drawn within their stated uncertainty by :func:`geoplanner.need.stability.draw_births` — the draws of the
   ranking's ``p_top21``: gamma noise with the sector's coefficient of variation (``births_cv``, ``pop_0_2_cv``),
   reconciled so every commune keeps its published totals; observed figures are never drawn. Births and children
   are drawn independently, each within its own uncertainty. A drawn sector's children scale its demand points;
   its births set its share of 0-year-olds (:func:`geoplanner.scenario.capacity.consultation_demand`). The
   priority wijken stay those of the ranking (how sure that list is, is ``p_top21``).
2. **Assumptions**: each key of the ``[sweep]`` table (uptake, children per session, Dutch-speaking share, planned
   fill, …) is drawn uniformly within its ``[low, high]``.

Each draw is a pure function of the shared :class:`SweepBase` and its own generator, the ``i``-th child of
``numpy.random.SeedSequence(seed).spawn(n)``: the same seed gives the same draws whatever runs them, in whatever
order, and the first ``n`` draws of a longer sweep are the ``n`` draws of a shorter one. A draw re-solves without
the solution cache and with an empty teams-curve memo (its demand is not the context's), through
:func:`geoplanner.scenario.evaluate` with ``curve=False``: a capacitated rotation solves its own team count and
finds the teams needed from the capacity bound up (:func:`geoplanner.scenario.curve.search_teams_needed`), the
number its curve would give, in one or two solves instead of ten. Solves stop at ``[siting] node_limit``, never at
a time limit that could decide an answer.

Besides the draws a sweep solves the scenario as it is (the *base*), each assumption at the low and the high end of
its range with everything else as in the base (the one-at-a-time sensitivity), and the counts alone in the first
:data:`COUNT_ONLY_DRAWS` draws. :func:`tally` turns the outcomes into the tables: per venue ``p_chosen`` (the share
of draws in which it holds a session) and its class, per LGN the sessions, the 5–95 % range of each measure and
which assumption moves the result most.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geoplanner.core.errors import ConfigError, GeoplannerError, ModelError
from geoplanner.need.population import OBSERVED
from geoplanner.need.stability import draw_births, stability_class
from geoplanner.scenario.context import SitingContext
from geoplanner.scenario.evaluate import evaluate, select_candidates
from geoplanner.scenario.spec import SWEEP_KEYS, Scenario

__all__ = [
    "COUNT_ONLY_DRAWS",
    "SENSITIVITY_MEASURES",
    "SITE_COLUMNS",
    "SWEEP_MEASURES",
    "Job",
    "Outcome",
    "SweepBase",
    "SweepResult",
    "SweepTables",
    "assumption_values",
    "check_sweep",
    "draws_table",
    "lgn_table",
    "run_job",
    "sensitivity_table",
    "site_table",
    "summary_table",
    "sweep_base",
    "sweep_jobs",
    "sweep_notes",
    "tally",
    "top_assumption",
    "varied",
    "with_assumptions",
]

#: Draws in which the counts alone are drawn (the other assumptions at their base value), for the sensitivity table.
COUNT_ONLY_DRAWS = 20

#: The measures a sweep keeps of every draw (columns of :data:`geoplanner.scenario.measures.MEASURES`).
SWEEP_MEASURES = (
    "consultations_served",
    "consultations_served_new",
    "share_consultations_served",
    "share_priority_served",
    "children_served",
    "sessions_per_week",
    "teams_needed",
)


@dataclass(frozen=True, eq=False)
class SweepBase:
    """What every draw of a sweep shares; sent once to each worker.

    Attributes
    ----------
    scenario
        The scenario as its file gives it (its ``[sweep]`` table included).
    context
        The siting context, slimmed to what a draw reads: the scenario's service sets only, the need model's sector
        figures without geometry, no residential streets; ``cache`` off, an empty curve memo.
    sectors
        Per sector (sorted by ``cd_sector``): ``commune_nis``, ``births``, ``pop_0_2``, their ``*_cv`` and
        ``*_status``: what the counts are drawn from.
    point_sector
        Row of :attr:`sectors` of each demand point (-1: a point of no known sector, never scaled).
    """

    scenario: Scenario
    context: SitingContext
    sectors: pd.DataFrame
    point_sector: np.ndarray


@dataclass(frozen=True)
class Job:
    """One solve of a sweep.

    Attributes
    ----------
    kind
        ``base`` (the scenario as it is), ``draw`` (counts and assumptions drawn), ``low`` / ``high`` (one
        assumption at an end of its range) or ``counts`` (the counts of draw ``index`` alone).
    index
        The draw's number (``draw``, ``counts``); -1 otherwise.
    key
        The assumption (``low``, ``high``).
    seed
        The draw's generator seed: child ``index`` of ``SeedSequence(seed).spawn(n)``.
    """

    kind: str
    index: int = -1
    key: str = ""
    seed: np.random.SeedSequence | None = None


@dataclass(frozen=True)
class Outcome:
    """What a sweep keeps of one solve: the values used, the venues chosen and the measures.

    Attributes
    ----------
    job
        The job solved.
    values
        The value of each swept assumption in this solve.
    sites
        ``(id, lgn, sessions a week, consultations a year served there)`` of every venue with a session.
    measures
        :data:`SWEEP_MEASURES` of the solve (``teams_needed`` None: not reached within the curve's teams).
    status
        The solver's status (``within_gap``, ``node_limit``, …).
    error
        Why the draw could not be solved ('' when it was).
    """

    job: Job
    values: dict[str, float]
    sites: tuple[tuple[str, int, int, float], ...] = ()
    measures: dict[str, float | None] = field(default_factory=dict)
    status: str = ""
    error: str = ""

    @property
    def chosen(self) -> frozenset[str]:
        """The venues with a session."""
        return frozenset(s[0] for s in self.sites)


def check_sweep(scenario: Scenario) -> None:
    """Refuse a scenario a sweep cannot vary or tally.

    One that places nothing, a quick rotation (``[curve] max_teams = 0``: no teams needed), or one whose ``[sweep]``
    table draws nothing.
    """
    if scenario.model == "none":
        raise ConfigError("model 'none' places no venue: there is nothing to sweep", path=scenario.path,
                          column="model")  # fmt: skip
    if scenario.model == "capacitated_rotation" and scenario.curve_max_teams == 0:
        raise ConfigError("[curve] max_teams = 0 asks for no teams needed, which every draw tallies: give a number "
                          "of teams to search up to, e.g. max_teams = 10", path=scenario.path,
                          column="curve.max_teams")  # fmt: skip
    if not scenario.sweep_ranges and not scenario.sweep_counts:
        raise ConfigError("the [sweep] table draws nothing: give a range, e.g. uptake = [0.70, 0.85], or counts = true",
                          path=scenario.path, column="sweep")  # fmt: skip


def sweep_base(scenario: Scenario, context: SitingContext) -> SweepBase:
    """Return what every draw of ``scenario`` shares, slimmed from ``context`` (see :class:`SweepBase`)."""
    names = dict.fromkeys([*scenario.open_sets, scenario.candidate_set])
    need = context.need
    if need is None:
        raise ModelError("a sweep needs the need model's sector figures (the context has none)")
    sectors = pd.DataFrame(need.sectors).drop(columns="geometry", errors="ignore")
    slim = dataclasses.replace(need, sectors=sectors, lines=need.lines.iloc[:0], ranking=need.ranking.iloc[:0])
    ctx = dataclasses.replace(context, need=slim, services={n: context.services[n] for n in names}, cache=False,
                              curves={})  # fmt: skip
    cols = ["cd_sector", "commune_nis"] + [f"{c}{x}" for c in ("births", "pop_0_2") for x in ("", "_cv", "_status")]
    table = sectors.reindex(columns=cols).sort_values("cd_sector", kind="stable", ignore_index=True)
    for c in ("births_cv", "pop_0_2_cv"):
        table[c] = table[c].fillna(0.0)
    point_sector = pd.Index(table["cd_sector"]).get_indexer(context.demand["cd_sector"])
    return SweepBase(scenario, ctx, table, point_sector)


def sweep_jobs(scenario: Scenario, draws: int, seed: int) -> list[Job]:
    """Return the solves of a sweep, in the order their outcomes are tallied.

    The base, ``draws`` draws, each swept assumption at its low and high end, and the counts alone in the first
    :data:`COUNT_ONLY_DRAWS` draws (with the same generators, so the same counts as those draws).
    """
    streams = np.random.SeedSequence(seed).spawn(draws)
    jobs = [Job("base")] + [Job("draw", i, seed=streams[i]) for i in range(draws)]
    for key, _, _ in scenario.sweep_ranges:
        jobs += [Job("low", key=key), Job("high", key=key)]
    if scenario.sweep_counts:
        jobs += [Job("counts", i, seed=streams[i]) for i in range(min(draws, COUNT_ONLY_DRAWS))]
    return jobs


def assumption_values(scenario: Scenario) -> dict[str, float]:
    """Return the scenario's own value of each assumption its ``[sweep]`` table draws."""
    rates = scenario.consultations_per_child
    own = {f"consultations_age{a}": rates[a] for a in range(3)}
    return {key: float(own.get(key, getattr(scenario, key, np.nan))) for key, _, _ in scenario.sweep_ranges}


def with_assumptions(scenario: Scenario, values: dict[str, float]) -> Scenario:
    """Return the scenario with the given assumptions (keys of :data:`geoplanner.scenario.spec.SWEEP_KEYS`)."""
    unknown = set(values) - set(SWEEP_KEYS)
    if unknown:
        raise ValueError(f"not a sweep assumption: {sorted(unknown)}")
    rates = list(scenario.consultations_per_child)
    for a in range(3):
        rates[a] = values.get(f"consultations_age{a}", rates[a])
    plain = {k: v for k, v in values.items() if not k.startswith("consultations_age")}
    return dataclasses.replace(scenario, consultations_per_child=tuple(rates), **plain)


def _drawn_counts(base: SweepBase, rng: np.random.Generator) -> SitingContext:
    """Return the base context with births and children per sector drawn, and the demand points scaled."""
    t = base.sectors
    commune = t["commune_nis"].to_numpy()
    drawn = {}
    for col in ("births", "pop_0_2"):
        fixed = (t[f"{col}_status"] == OBSERVED).to_numpy()
        drawn[col] = draw_births(t[col].to_numpy(dtype=float), t[f"{col}_cv"].to_numpy(dtype=float), commune, fixed,
                                 1, rng)[0]  # fmt: skip
    old = t["pop_0_2"].to_numpy(dtype=float)
    factor = np.divide(drawn["pop_0_2"], old, out=np.ones_like(old), where=old > 0)
    ctx = base.context
    scale = np.where(base.point_sector >= 0, factor[base.point_sector], 1.0)
    demand = ctx.demand.assign(weight=ctx.demand["weight"].to_numpy(dtype=float) * scale)
    by_code = pd.DataFrame(drawn, index=t["cd_sector"])
    sectors = ctx.need.sectors.copy()
    for col in ("births", "pop_0_2"):
        sectors[col] = sectors["cd_sector"].map(by_code[col]).fillna(sectors[col])
    return dataclasses.replace(ctx, demand=demand, need=dataclasses.replace(ctx.need, sectors=sectors))


def varied(base: SweepBase, job: Job) -> tuple[Scenario, SitingContext, dict[str, float]]:
    """Return the scenario and context of one job, and the value of each swept assumption in it.

    The job's generator draws the counts first (births, then children aged 0–2), then each assumption in the order
    of :data:`geoplanner.scenario.spec.SWEEP_KEYS`: a ``counts`` job and the ``draw`` job of the same index share
    their counts.
    """
    s = base.scenario
    values = assumption_values(s)
    ctx = base.context
    rng = np.random.default_rng(job.seed) if job.seed is not None else None
    if job.kind in ("draw", "counts") and s.sweep_counts and rng is not None:
        ctx = _drawn_counts(base, rng)
    if job.kind == "draw" and rng is not None:
        values = {key: float(rng.uniform(low, high)) for key, low, high in s.sweep_ranges}
    elif job.kind in ("low", "high"):
        low, high = next((lo, hi) for key, lo, hi in s.sweep_ranges if key == job.key)
        values[job.key] = low if job.kind == "low" else high
    return with_assumptions(s, values), dataclasses.replace(ctx, cache=False, curves={}), values


def run_job(base: SweepBase, job: Job) -> Outcome:
    """Solve one job of a sweep (a pure function of ``base`` and ``job``); a draw that cannot be solved says why."""
    scenario, ctx, values = varied(base, job)
    try:
        result = evaluate(scenario, ctx, curve=False)
    except GeoplannerError as exc:
        return Outcome(job, values, error=exc.one_line())
    sites = result.sites
    served = sites["consultations_per_year"] if "consultations_per_year" in sites else pd.Series(np.nan, sites.index)
    rows = tuple((str(i), int(lgn), int(n), float(c)) for i, lgn, n, c in
                 zip(sites.get("id", []), sites.get("lgn", []), sites.get("sessions_per_week", []), served, strict=True)
                 if n > 0)  # fmt: skip
    measures = {m: result.summary.get(m) for m in SWEEP_MEASURES}
    if scenario.model == "capacitated_rotation" and measures["teams_needed"] is None:
        measures["teams_needed"] = float("inf")  # more teams than the curve's: a number beyond it, not a missing one
    return Outcome(job, values, rows, measures, str(result.summary.get("status", "")))


@dataclass(frozen=True)
class SweepResult:
    """A sweep's outcomes and the tables made of them (:func:`tally`).

    Attributes
    ----------
    scenario
        The scenario swept.
    draws, seed
        Number of draws and the seed they come from.
    base
        The scenario solved as it is.
    outcomes
        Every draw's outcome, by draw number.
    sensitivity_outcomes
        The one-at-a-time solves (``low``, ``high``, ``counts``).
    sites, lgn, summary, sensitivity, draws_table
        The tables: per venue (``p_chosen``, class), per LGN, per measure (5–95 %), per assumption, per draw.
    """

    scenario: Scenario
    draws: int
    seed: int
    base: Outcome
    outcomes: tuple[Outcome, ...]
    sensitivity_outcomes: tuple[Outcome, ...]
    sites: pd.DataFrame
    lgn: pd.DataFrame
    summary: pd.DataFrame
    sensitivity: pd.DataFrame
    draws_table: pd.DataFrame
    notes: tuple[str, ...] = ()

    def tables(self) -> SweepTables:
        """Return the tables the report and the run's workbook show (:class:`SweepTables`)."""
        return SweepTables(self.scenario.name, self.draws, self.seed, self.sites, self.summary, self.sensitivity,
                           self.lgn)  # fmt: skip


@dataclass(frozen=True, eq=False)
class SweepTables:
    """A sweep's tables without its outcomes: what the report and the run's workbook show of a sweep.

    Made by :meth:`SweepResult.tables`, or read back from the files a sweep wrote
    (:func:`geoplanner.pipeline.sweep.read_sweep`).

    Attributes
    ----------
    scenario
        The name of the scenario swept (its output folder).
    draws, seed
        Number of draws and the seed they come from.
    sites, summary, sensitivity, lgn
        The tables of :class:`SweepResult` of the same names.
    """

    scenario: str
    draws: int
    seed: int
    sites: pd.DataFrame
    summary: pd.DataFrame
    sensitivity: pd.DataFrame
    lgn: pd.DataFrame


def tally(base: SweepBase, outcomes: Sequence[Outcome], *, draws: int, seed: int) -> SweepResult:
    """Turn the outcomes of :func:`sweep_jobs` (in that order) into the sweep's tables.

    Raises
    ------
    ModelError
        When a solve failed (the first failure, with its draw).
    """
    failed = next((o for o in outcomes if o.error), None)
    if failed is not None:
        what = f"draw {failed.job.index}" if failed.job.index >= 0 else f"the {failed.job.kind} solve {failed.job.key}"
        raise ModelError(f"{what} of the sweep could not be solved: {failed.error}", path=base.scenario.path)
    first = outcomes[0]
    main = tuple(o for o in outcomes if o.job.kind == "draw")
    oat = tuple(o for o in outcomes if o.job.kind in ("low", "high", "counts"))
    s = base.scenario
    venues = select_candidates(s, base.context.services[s.candidate_set].points)
    return SweepResult(
        s, draws, seed, first, main, oat,
        sites=site_table(main, first, venues),
        lgn=lgn_table(main, first),
        summary=summary_table(main, first, s),
        sensitivity=sensitivity_table(first, oat, s),
        draws_table=draws_table(main),
        notes=sweep_notes(s, draws, seed),
    )  # fmt: skip


def site_table(outcomes: Sequence[Outcome], base: Outcome, venues: pd.DataFrame) -> pd.DataFrame:
    """Return per venue chosen in any draw (or in the base): ``p_chosen``, its class and what it holds when chosen.

    Columns: id, name, type, lgn, suitability, dutch_speaking, x, y, ``p_chosen`` (share of draws in which it
    holds a session), ``n_chosen``, ``stability`` (robust ≥ 0.9, likely ≥ 0.5, borderline ≥ 0.1, else unlikely),
    ``base_chosen`` (chosen in the scenario as it is), ``sessions_when_chosen`` (mean sessions a week in the draws
    that choose it) and ``consultations_when_chosen`` (median consultations a year served there); most sure first.
    """
    n = len(outcomes)
    held: dict[str, list[tuple[int, float]]] = {}
    for o in outcomes:
        for vid, _, sessions, served in o.sites:
            held.setdefault(vid, []).append((sessions, served))
    ids = sorted(set(held) | base.chosen)
    info = venues.set_index("id")
    rows = []
    for vid in ids:
        got = held.get(vid, [])
        v = info.loc[vid] if vid in info.index else None
        rows.append({
            "id": vid,
            "name": None if v is None else v["name"],
            "type": None if v is None else v["type"],
            "lgn": None if v is None else int(v["lgn"]),
            "suitability": None if v is None else v.get("suitability"),
            "dutch_speaking": None if v is None else v.get("dutch_speaking"),
            "x": None if v is None else float(v.geometry.x),
            "y": None if v is None else float(v.geometry.y),
            "p_chosen": len(got) / n if n else float("nan"),
            "n_chosen": len(got),
            "base_chosen": vid in base.chosen,
            "sessions_when_chosen": float(np.mean([g[0] for g in got])) if got else float("nan"),
            "consultations_when_chosen": float(np.median([g[1] for g in got])) if got else float("nan"),
        })  # fmt: skip
    out = pd.DataFrame(rows, columns=[c for c in SITE_COLUMNS if c != "stability"])
    out["stability"] = stability_class(out["p_chosen"].to_numpy(dtype=float)) if len(out) else []
    out = out.sort_values(["p_chosen", "base_chosen", "id"], ascending=[False, False, True], ignore_index=True)
    return out[list(SITE_COLUMNS)]


#: Columns of :func:`site_table`.
SITE_COLUMNS = ("id", "name", "type", "lgn", "suitability", "dutch_speaking", "x", "y", "p_chosen", "stability",
                "n_chosen", "base_chosen", "sessions_when_chosen", "consultations_when_chosen")  # fmt: skip


def _range(values: np.ndarray) -> dict[str, float]:
    """Return the 5th, 50th and 95th percentile (values of actual draws), mean, min and max; inf stays inf."""
    finite = values[np.isfinite(values)]
    p05, p50, p95 = np.percentile(values, [5, 50, 95], method="nearest") if values.size else (np.nan,) * 3
    return {"p05": float(p05), "p50": float(p50), "p95": float(p95),
            "mean": float(finite.mean()) if finite.size == values.size and values.size else float("nan"),
            "min": float(values.min()) if values.size else float("nan"),
            "max": float(values.max()) if values.size else float("nan")}  # fmt: skip


def _measure(o: Outcome, m: str) -> float:
    """Return a measure of an outcome as a number (teams needed beyond the curve: inf; none at all: NaN)."""
    v = o.measures.get(m)
    return float("nan") if v is None else float(v)


def _measures(scenario: Scenario, names: Sequence[str]) -> list[str]:
    """Return the measures a scenario has: teams needed only for a capacitated rotation (the others have no curve)."""
    return [m for m in names if m != "teams_needed" or scenario.model == "capacitated_rotation"]


def summary_table(outcomes: Sequence[Outcome], base: Outcome, scenario: Scenario) -> pd.DataFrame:
    """Return per measure its base value and its range over the draws.

    Columns: ``measure``, ``base``, ``p05``, ``p50``, ``p95``, ``mean``, ``min``, ``max``, ``draws`` and
    ``share_beyond_curve`` (teams needed: the share of draws that need more than the curve's teams, whose number
    is then unknown; their percentiles are written empty). Models without a teams curve have no teams needed.
    """
    rows = []
    for m in _measures(scenario, SWEEP_MEASURES):
        values = np.array([_measure(o, m) for o in outcomes], dtype=float)
        rng = _range(values)
        row = {"measure": m, "base": _measure(base, m), **rng, "draws": int(values.size)}
        row["share_beyond_curve"] = float(np.isinf(values).mean()) if m == "teams_needed" and values.size else 0.0
        rows.append({k: (np.nan if isinstance(v, float) and np.isinf(v) else v) for k, v in row.items()})
    return pd.DataFrame(rows)


def lgn_table(outcomes: Sequence[Outcome], base: Outcome) -> pd.DataFrame:
    """Return per LGN the sessions a week it gets: in the base, and the 5–95 % range and share of draws with any.

    Columns: ``lgn``, ``base_sessions``, ``p_any`` (share of draws with at least one session there),
    ``sessions_p05``, ``sessions_p50``, ``sessions_p95``, ``sessions_mean``.
    """
    lgns = sorted({lgn for o in (base, *outcomes) for _, lgn, _, _ in o.sites})
    rows = []
    for lgn in lgns:
        per = np.array([sum(n for _, z, n, _ in o.sites if z == lgn) for o in outcomes], dtype=float)
        p05, p50, p95 = np.percentile(per, [5, 50, 95], method="nearest") if per.size else (np.nan,) * 3
        rows.append({"lgn": lgn, "base_sessions": sum(n for _, z, n, _ in base.sites if z == lgn),
                     "p_any": float((per > 0).mean()) if per.size else float("nan"), "sessions_p05": p05,
                     "sessions_p50": p50, "sessions_p95": p95,
                     "sessions_mean": float(per.mean()) if per.size else float("nan")})  # fmt: skip
    return pd.DataFrame(rows, columns=["lgn", "base_sessions", "p_any", "sessions_p05", "sessions_p50",
                                       "sessions_p95", "sessions_mean"])  # fmt: skip


#: The measures the sensitivity table shows at each end of an assumption's range.
SENSITIVITY_MEASURES = ("consultations_served", "teams_needed")


def _swing(low: float, high: float) -> float:
    """Return ``high - low``; both beyond the curve (inf) is no change, one beyond it an unbounded one."""
    if np.isinf(low) and np.isinf(high):
        return 0.0
    return float(high - low)


def sensitivity_table(base: Outcome, oat: Sequence[Outcome], scenario: Scenario) -> pd.DataFrame:
    """Return how far each assumption alone moves the result (one at a time, everything else as in the base).

    One row per swept assumption (its ``low`` and ``high`` end) and, when counts are drawn, one for the counts
    (``low``/``high``: the lowest and highest result of the first :data:`COUNT_ONLY_DRAWS` draws' counts alone).
    Columns: ``assumption``, ``base_value``, ``low_value``, ``high_value``; per measure of
    :data:`SENSITIVITY_MEASURES` its value at the low and high end and ``<measure>_swing`` (high minus low; for
    counts max minus min); ``venues_changed`` (at the end that differs most from the base, the venues chosen there
    but not in the base or the reverse; counts: the most in any draw); ``rank_<measure>`` (1 = moves it most; an
    end beyond the teams curve moves teams needed most); ``moves_most`` (the assumption that moves consultations
    served most). Teams needed only for a capacitated rotation.
    """
    values = assumption_values(scenario)
    measures = _measures(scenario, SENSITIVITY_MEASURES)
    rows = []
    for key, low, high in scenario.sweep_ranges:
        lo = next(o for o in oat if o.job.kind == "low" and o.job.key == key)
        hi = next(o for o in oat if o.job.kind == "high" and o.job.key == key)
        row: dict[str, Any] = {"assumption": key, "base_value": values[key], "low_value": low, "high_value": high}
        for m in measures:
            a, b = _measure(lo, m), _measure(hi, m)
            row.update({f"{m}_low": a, f"{m}_high": b, f"{m}_swing": _swing(a, b)})
        row["venues_changed"] = max(len(lo.chosen ^ base.chosen), len(hi.chosen ^ base.chosen))
        rows.append(row)
    counts = [o for o in oat if o.job.kind == "counts"]
    if counts:
        row = {"assumption": "counts", "base_value": np.nan, "low_value": np.nan, "high_value": np.nan}
        for m in measures:
            v = np.array([_measure(o, m) for o in counts], dtype=float)
            row.update({f"{m}_low": v.min(), f"{m}_high": v.max(), f"{m}_swing": _swing(v.min(), v.max())})
        row["venues_changed"] = max(len(o.chosen ^ base.chosen) for o in counts)
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    for m in measures:
        swing = out[f"{m}_swing"].abs().replace([np.inf], np.nan)
        beyond = np.isinf(out[f"{m}_low"]) | np.isinf(out[f"{m}_high"])  # the curve's end passed: moves it most
        key = np.where(beyond, np.inf, swing.fillna(-1.0))
        out[f"rank_{m}"] = pd.Series(-key).rank(method="min").astype(int).to_numpy()
    out["moves_most"] = out["rank_consultations_served"] == 1
    return out.replace([np.inf, -np.inf], np.nan)


def top_assumption(sensitivity: pd.DataFrame, measure: str) -> tuple[str, float, float] | None:
    """Return the assumption that alone moves ``measure`` most, with the measure at its low and high end.

    Read off :func:`sensitivity_table` (its ``rank_<measure>``; ties by name). None when the table has no such rank
    or nothing moves the measure. A value beyond the teams curve is NaN.
    """
    col = f"rank_{measure}"
    if sensitivity.empty or col not in sensitivity:
        return None
    top = sensitivity.sort_values([col, "assumption"]).iloc[0]
    low, high = float(top[f"{measure}_low"]), float(top[f"{measure}_high"])
    if top[f"{measure}_swing"] == 0 or (np.isnan(low) and np.isnan(high)):
        return None
    return str(top["assumption"]), low, high


def draws_table(outcomes: Sequence[Outcome]) -> pd.DataFrame:
    """Return one row per draw: its number, the assumptions drawn, its measures and the venues it chose."""
    rows = []
    for o in outcomes:
        measures = {m: o.measures.get(m) for m in SWEEP_MEASURES}
        beyond = measures["teams_needed"] == float("inf")
        measures["teams_needed"] = None if beyond else measures["teams_needed"]
        rows.append({"draw": o.job.index, **o.values, **measures, "teams_beyond_curve": beyond,
                     "status": o.status, "venues": " ".join(sorted(o.chosen))})  # fmt: skip
    out = pd.DataFrame(rows)
    if "teams_needed" in out.columns:  # a number, empty beyond the curve: float whatever the draws held
        out["teams_needed"] = out["teams_needed"].astype(float)
    return out


def sweep_notes(scenario: Scenario, draws: int, seed: int) -> tuple[str, ...]:
    """Return what the sweep's figures rest on, in plain Dutch."""
    ranges = ", ".join(f"{key} {low:g}-{high:g}" for key, low, high in scenario.sweep_ranges) or "geen"
    counts = (
        "afgeleide en geschatte aantallen (geboorten, kinderen 0-2 per sector) getrokken binnen hun "
        "onzekerheid, afgestemd op de gemeentetotalen"
        if scenario.sweep_counts
        else "aantallen niet getrokken"
    )
    return (
        f"Gevoeligheidsanalyse: {draws} trekkingen (seed {seed}); {counts}; aannames uniform getrokken binnen: "
        f"{ranges}.",
        "p_chosen = aandeel van de trekkingen waarin een locatie een sessie krijgt; robuust >= 0,9, waarschijnlijk "
        ">= 0,5, twijfelgeval >= 0,1. De prioritaire wijken blijven die van de rangschikking.",
        "Teams nodig per trekking: het eerste aantal teams vanaf de capaciteitsgrens dat het doel haalt (hetzelfde "
        f"getal als de teamscurve); meer dan {max(scenario.curve_max_teams, int(scenario.teams or 1))} teams staat "
        "leeg in de percentielen.",
    )  # fmt: skip
