"""Location models for consultation sites, one module per model family (as PySAL spopt).

- :mod:`~geoplanner.siting.covering`: maximal covering (MCLP) and set covering (LSCP);
- :mod:`~geoplanner.siting.p_median`: p-median;
- :mod:`~geoplanner.siting.rotation`: the weekly rotation of mobile teams (reach only);
- :mod:`~geoplanner.siting.capacitated`: capacitated maximal covering and the capacitated
  rotation (teams × team-days × venues; demand in consultations, supply in session capacity);
- :mod:`~geoplanner.siting.base`: the result type, input checks, the shared MILP builder.

A model is built with ``Model.from_cost_matrix(...)`` and solved exactly with
:func:`scipy.optimize.milp` (HiGHS) under a time limit. When HiGHS cannot prove optimality in
time, the better of its incumbent and a greedy solution is returned with the proven bound and
the gap; with ``method="greedy"`` (or when HiGHS finds nothing) the greedy solution is returned
with the LP-relaxation bound, so the reported gap is always an honest upper bound on the loss.

Each result lists the chosen venues in *greedy marginal order*: the first site adds the most
covered demand, each next one the most given those before it, so the list can be cut at any
budget and ``marginal[i]`` says what the i-th site adds.
"""

from geoplanner.siting.assignment import CapacityResult
from geoplanner.siting.base import DAGDELEN, DAYS, Session, SitingResult
from geoplanner.siting.capacitated import WEEK_SLOTS, CapacitatedCovering, CapacitatedRotation, WorkSlot, serve_sessions
from geoplanner.siting.covering import MaximalCovering, SetCovering
from geoplanner.siting.p_median import PMedian
from geoplanner.siting.rotation import Rotation

__all__ = [
    "DAYS",
    "DAGDELEN",
    "Session",
    "SitingResult",
    "MaximalCovering",
    "SetCovering",
    "PMedian",
    "Rotation",
    "CapacityResult",
    "CapacitatedCovering",
    "CapacitatedRotation",
    "WorkSlot",
    "WEEK_SLOTS",
    "serve_sessions",
]
