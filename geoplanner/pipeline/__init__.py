"""The only layer that both computes and writes: each step of the main job, from the data folder to the outputs.

Each ``run_*`` function finds its inputs (through :mod:`geoplanner.inputs`), computes with the engines,
writes its files atomically as one step with a manifest (inputs with sha256, parameters, versions), and
returns what it computed so a notebook user can keep working with it. Modules: :mod:`~geoplanner.pipeline.load`
(what every step shares: need inputs, the network, read once and cached), :mod:`~geoplanner.pipeline.rank`,
:mod:`~geoplanner.pipeline.coverage`, :mod:`~geoplanner.pipeline.siting`, and :mod:`~geoplanner.pipeline.run`
(the main job; import it from there: it loads the map and report libraries).
"""

from geoplanner.pipeline.coverage import DEFAULT_SETS, CoverageRun, run_coverage
from geoplanner.pipeline.rank import RANK_COLUMNS, RankRun, run_rank

__all__ = [
    "DEFAULT_SETS",
    "RANK_COLUMNS",
    "CoverageRun",
    "RankRun",
    "run_coverage",
    "run_rank",
]
