"""The only layer that both computes and writes: each step of the main job, from the data folder to the outputs.

Each ``run_*`` function finds its inputs (through :mod:`geoplanner.inputs`), computes with the engines,
writes its files atomically as one step with a manifest (inputs with sha256, parameters, versions), and
returns what it computed so a notebook user can keep working with it. Modules: :mod:`~geoplanner.pipeline.load`
(what every step shares: need inputs, the network, read once and cached), :mod:`~geoplanner.pipeline.rank`,
:mod:`~geoplanner.pipeline.coverage`, :mod:`~geoplanner.pipeline.siting`, and :mod:`~geoplanner.pipeline.run`
(the main job).
"""

from geoplanner.pipeline.coverage import DEFAULT_SETS, CoverageRun, run_coverage
from geoplanner.pipeline.rank import RANK_COLUMNS, RankRun, run_rank
from geoplanner.pipeline.run import MainRun, run_all, scenario_files

__all__ = [
    "DEFAULT_SETS",
    "RANK_COLUMNS",
    "CoverageRun",
    "MainRun",
    "RankRun",
    "run_all",
    "run_coverage",
    "run_rank",
    "scenario_files",
]
