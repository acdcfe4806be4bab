"""One set of measures for every scenario, whatever its model: reach, service under capacity, cost in sessions.

Every scenario is measured the same way, so fixed sites and mobile teams compare on one scale:

- **reach**: children aged 0–2 within the walking threshold of an open site (also deprivation-weighted), and the
  priority wijken reached (at least :data:`~geoplanner.scenario.spec.REACH_SHARE` of their children in reach);
- **service under capacity**: the consultations a year the expected users ask, those served — by the known
  bureaus (their capacity is not in the data: demand in their reach counts as served, an assumption), by new
  fixed sites and by mobile sessions, each session holding ``children_per_session × weeks_per_year ×
  planned_fill`` places — and those left unserved *because of distance* (no site in reach) or *because of
  capacity* (a site in reach, but full); the priority wijken served (at least the same share of their expected
  consultations served);
- **cost**: the new staffed sessions a week (a new fixed site holds ``sessions_per_site`` of them), the teams,
  and the consultations a year each weekly session serves.

:data:`MEASURES` names each measure once, with its Dutch label and its meaning: the CSVs, the workbook (and its
glossary), the report and the maps all use these names.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from geoplanner.access.tables import weighted_quantile
from geoplanner.core.i18n import DEFAULT_LANG, LABELS, check_lang
from geoplanner.scenario.spec import Scenario

__all__ = [
    "Measure",
    "MEASURES",
    "POINT_SERVICE_COLUMNS",
    "service_columns",
    "reach_measures",
    "service_measures",
    "lgn_measures",
    "wijk_measures",
    "sector_measures",
    "measure_label",
    "WALK_TIME_MEASURES",
]


class Measure(NamedTuple):
    """A figure every scenario has: its column name, kind (for formatting) and meaning (Dutch, for the glossary).

    Its label in each language is :func:`geoplanner.core.i18n.label` of the column name.
    """

    column: str
    kind: str  # count | share | minutes | number
    meaning: str


#: The walking-time measures: left out of tables for readers when a known-service layer is too incomplete for a
#: time to it to say anything about Brussels (they stay in the CSVs, for analysts).
WALK_TIME_MEASURES = ("mean_min", "p90_min")

#: Every measure of a scenario, in the order of ``comparison.csv`` (after ``scenario``, ``title``, ``model``).
MEASURES: tuple[Measure, ...] = (
    Measure("threshold_min", "number", "wandeltijd in minuten waarbinnen een locatie een gezin bereikt"),
    Measure("children_total", "count", "kinderen van 0 tot 2 jaar in het gewest (afgeleid/geschat)"),
    Measure(
        "children_within_threshold",
        "count",
        "kinderen 0-2 die binnen de drempel wandelen van een open locatie (bestaand of nieuw)",
    ),
    Measure("share_within_threshold", "share", "kinderen binnen bereik / kinderen 0-2"),
    Measure(
        "deprivation_weighted_share_within",
        "share",
        "aandeel binnen bereik waarin elk kind telt als 1 + 0,5 × kansarmoede-index van zijn wijk boven 0",
    ),
    Measure("priority_wijken", "count", "aantal prioritaire wijken"),
    Measure(
        "priority_wijken_reached",
        "count",
        "prioritaire wijken waar minstens de helft van de kinderen binnen bereik woont",
    ),
    Measure(
        "mean_min",
        "minutes",
        "gemiddelde wandeltijd naar de dichtste open locatie, gewogen naar kinderen; niet getoond als de "
        "laag van bestaande bureaus voor minder dan de helft bekend is",
    ),
    Measure("p90_min", "minutes", "90e percentiel van de wandeltijd, gewogen naar kinderen"),
    Measure(
        "consultations_demand",
        "count",
        "consultaties per jaar die de verwachte gebruikers vragen (schema per leeftijd × gebruik × aandeel "
        "Nederlandstalig)",
    ),
    Measure(
        "consultations_served",
        "count",
        "bediend binnen de capaciteit: door bekende bureaus, nieuwe vaste locaties en mobiele sessies",
    ),
    Measure(
        "consultations_served_existing",
        "count",
        "vraag binnen bereik van een bekend bureau (aanname: hun capaciteit staat niet in de data)",
    ),
    Measure(
        "consultations_served_new",
        "count",
        "bediend door de nieuwe sessies van het scenario (vaste locaties of mobiele teams), binnen hun plaatsen",
    ),
    Measure(
        "consultations_unserved_distance",
        "count",
        "gevraagd waar geen locatie binnen de drempel ligt",
    ),
    Measure(
        "consultations_unserved_capacity",
        "count",
        "gevraagd binnen bereik van een nieuwe sessie die al vol is",
    ),
    Measure("share_consultations_served", "share", "consultaties bediend / verwachte consultaties"),
    Measure(
        "share_priority_served",
        "share",
        "bediende / verwachte consultaties in de prioritaire wijken",
    ),
    Measure(
        "priority_wijken_served",
        "count",
        "prioritaire wijken waar minstens de helft van de verwachte consultaties bediend wordt",
    ),
    Measure(
        "share_deprivation_served",
        "share",
        "aandeel bediend waarin elke consultatie weegt als 1 + 0,5 × kansarmoede-index boven 0",
    ),
    Measure("children_served", "count", "consultaties bediend / consultaties per kind"),
    Measure("new_sites", "count", "locaties met nieuwe bemande sessies"),
    Measure("teams", "count", "mobiele consultatieteams (0 voor vaste locaties)"),
    Measure(
        "sessions_per_week",
        "count",
        "nieuwe bemande sessies (dagdelen) per week: de kost van het scenario in personeel",
    ),
    Measure(
        "consultations_per_session",
        "count",
        "bediend door nieuwe sessies / nieuwe sessies per week",
    ),
    Measure(
        "dutch_session_share",
        "share",
        "nieuwe sessies op een locatie die als Nederlandstalig bekend staat (onbekend telt niet mee)",
    ),
    Measure("peak_utilisation_share", "share", "bezetting van de drukste nieuwe locatie"),
    Measure(
        "teams_needed",
        "count",
        "het kleinste aantal teams op de getekende curve dat het doel haalt (aandeel bediend in de prioritaire wijken)",
    ),
    Measure("teams_target_share", "share", "het doel van de curve"),
)

#: Per demand point, the service columns every scenario's points carry.
POINT_SERVICE_COLUMNS = (
    "consultations_demand",
    "consultations_per_child",
    "consultations_served_existing",
    "consultations_served_new",
    "consultations_unserved_distance",
    "consultations_unserved_capacity",
    "children_served",
)


def measure_label(column: str, lang: str = DEFAULT_LANG) -> str:
    """Return the label of a measure in ``lang`` (the column name when it is not a measure)."""
    return LABELS[check_lang(lang)].get(column, column)


def service_columns(
    demand: np.ndarray, rate: np.ndarray, existing_cov: np.ndarray, service: Any | None
) -> dict[str, np.ndarray]:
    """Return per demand point the consultations asked, served by known bureaus and new sessions, and unserved.

    Parameters
    ----------
    demand
        Consultations a year each point asks.
    rate
        Consultations a year per child of each point (before uptake).
    existing_cov
        Whether each point is within the threshold of a known bureau that stays open.
    service
        The new sessions' assignment (:class:`geoplanner.siting.CapacityResult`: ``served``, ``in_reach``), or
        None when the scenario places none.
    """
    served_new = np.zeros_like(demand) if service is None else np.where(existing_cov, 0.0, service.served)
    in_reach = np.zeros(demand.size, bool) if service is None else service.in_reach & ~existing_cov
    served = np.where(existing_cov, demand, served_new)
    return {
        "consultations_demand": demand,
        "consultations_per_child": rate,
        "consultations_served_existing": np.where(existing_cov, demand, 0.0),
        "consultations_served_new": served_new,
        "consultations_unserved_distance": np.where(existing_cov | in_reach, 0.0, demand),
        "consultations_unserved_capacity": np.maximum(np.where(in_reach, demand - served_new, 0.0), 0.0),
        "children_served": served / np.where(rate > 0, rate, 1.0),
    }


def _dep_weight(dem: pd.DataFrame) -> np.ndarray:
    dep = np.nan_to_num(dem["deprivation"].to_numpy(dtype=float), nan=0.0)
    return 1.0 + 0.5 * np.maximum(dep, 0.0)  # the deprivation_weighted default, for every scenario


def _share_by_wijk(points: pd.DataFrame, part: str, whole: str) -> pd.Series:
    g = points.groupby("mdrc")[[part, whole]].sum()
    return g[part] / g[whole].where(g[whole] > 0)


def reach_measures(s: Scenario, points: pd.DataFrame, dem: pd.DataFrame) -> dict[str, Any]:
    """Return the walking-reach measures of a scenario (see the module docstring)."""
    children, minutes = points["children"].to_numpy(), points["minutes"].to_numpy()
    within = points["within_threshold"].to_numpy()
    dep_w = children * _dep_weight(dem)
    prio = dem["priority"].to_numpy()
    reach = np.isfinite(minutes)
    by_wijk = _share_by_wijk(points[prio].assign(cw=np.where(within[prio], children[prio], 0.0)), "cw", "children")
    return {
        "threshold_min": s.threshold_min,
        "children_total": float(children.sum()),
        "children_within_threshold": float(children[within].sum()),
        "share_within_threshold": float(children[within].sum() / children.sum()),
        "deprivation_weighted_share_within": float(dep_w[within].sum() / dep_w.sum()),
        "priority_wijken": int(dem.loc[prio, "mdrc"].nunique()),
        "priority_wijken_reached": int((by_wijk >= s.priority_share - 1e-12).sum()),
        "mean_min": float((children[reach] * minutes[reach]).sum() / children[reach].sum()) if reach.any() else None,
        "p90_min": float(weighted_quantile(minutes, children, 0.9)),
    }


def service_measures(s: Scenario, points: pd.DataFrame, dem: pd.DataFrame) -> dict[str, Any]:
    """Return the service-under-capacity measures of a scenario (see the module docstring)."""
    d = points["consultations_demand"].to_numpy()
    served = (points["consultations_served_existing"] + points["consultations_served_new"]).to_numpy()
    prio = dem["priority"].to_numpy()
    dep_w = _dep_weight(dem)
    wijk = _share_by_wijk(points[prio].assign(served=served[prio]), "served", "consultations_demand")
    return {
        "consultations_demand": float(d.sum()),
        "consultations_served": float(served.sum()),
        "consultations_served_existing": float(points["consultations_served_existing"].sum()),
        "consultations_served_new": float(points["consultations_served_new"].sum()),
        "consultations_unserved_distance": float(points["consultations_unserved_distance"].sum()),
        "consultations_unserved_capacity": float(points["consultations_unserved_capacity"].sum()),
        "share_consultations_served": float(served.sum() / d.sum()) if d.sum() > 0 else float("nan"),
        "share_priority_served": float(served[prio].sum() / d[prio].sum()) if d[prio].sum() > 0 else float("nan"),
        "priority_wijken_served": int((wijk >= s.priority_share - 1e-12).sum()),
        "share_deprivation_served": float((dep_w * served).sum() / (dep_w * d).sum()) if d.sum() > 0 else float("nan"),
        "children_served": float(points["children_served"].sum()),
    }


def _grouped(points: pd.DataFrame, key: str) -> pd.DataFrame:
    p = points.assign(
        within=np.where(points["within_threshold"], points["children"], 0.0),
        served=points["consultations_served_existing"] + points["consultations_served_new"],
    )
    out = p.groupby(key, as_index=False).agg(
        children=("children", "sum"),
        children_within_threshold=("within", "sum"),
        consultations_demand=("consultations_demand", "sum"),
        consultations_served=("served", "sum"),
        consultations_served_existing=("consultations_served_existing", "sum"),
        consultations_served_new=("consultations_served_new", "sum"),
        consultations_unserved_distance=("consultations_unserved_distance", "sum"),
        consultations_unserved_capacity=("consultations_unserved_capacity", "sum"),
        children_served=("children_served", "sum"),
    )
    out.insert(
        3, "share_within_threshold", out["children_within_threshold"] / out["children"].where(out["children"] > 0)
    )
    demand = out["consultations_demand"].where(out["consultations_demand"] > 0)
    out["share_consultations_served"] = out["consultations_served"] / demand
    return out


def lgn_measures(s: Scenario, points: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    """Return reach and service per LGN, with the new sessions a week held in it."""
    out = _grouped(points, "lgn")
    sessions = sites.groupby("lgn")["sessions_per_week"].sum() if len(sites) else pd.Series(dtype=float)
    out["sessions_per_week"] = out["lgn"].map(sessions).fillna(0).astype(int)
    out.insert(0, "scenario", s.name)
    return out


def wijk_measures(points: pd.DataFrame) -> pd.DataFrame:
    """Return reach and service per wijk (``mdrc``)."""
    return _grouped(points, "mdrc")


def sector_measures(points: pd.DataFrame) -> pd.DataFrame:
    """Return reach and service per statistical sector (``cd_sector``), the twin of :func:`wijk_measures`."""
    return _grouped(points, "cd_sector")
