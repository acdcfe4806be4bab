"""Check every option and input of a command before its first step writes anything.

A command of many steps (``geoplanner run``) writes each step's outputs as soon as the step is done, so a
mistake found late — a language code, a missing map asset, a damaged bundle file, an unreadable network —
would leave the earlier steps' outputs behind. The functions here find those mistakes first, in a few
seconds: they read what is cheap to read (options, scenario files, service lists, bundle checksums) and
load the walking network, which the run needs anyway and which is cached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from geoplanner.access.demand import check_network_fit, demand_points
from geoplanner.access.network import WalkNetwork, snap_points
from geoplanner.core.errors import ConfigError
from geoplanner.core.i18n import check_lang
from geoplanner.inputs.bundle import dataset_path
from geoplanner.need import sector_need
from geoplanner.outputs.files import ensure_output_dir
from geoplanner.pipeline.coverage import COVERAGE_DATASETS, DEFAULT_SETS
from geoplanner.pipeline.load import NEED_DATASETS, load_network, need_data
from geoplanner.pipeline.maps import check_assets
from geoplanner.pipeline.siting import load_scenario, load_service_sets
from geoplanner.scenario import Scenario

__all__ = ["RUN_DATASETS", "RunInputs", "check_output_options", "check_run", "check_network_reach"]

#: Bundle datasets the steps of the main job read (the network and the service lists are checked by loading them).
RUN_DATASETS = tuple(dict.fromkeys((*NEED_DATASETS, *COVERAGE_DATASETS, "sector_crosswalk")))


@dataclass(frozen=True)
class RunInputs:
    """What :func:`check_run` read while checking, handed on so the run does not read it again.

    Attributes
    ----------
    scenarios
        The scenario files, parsed and checked against the data, in the order given.
    network
        The walking network, loaded.
    """

    scenarios: list[Scenario]
    network: WalkNetwork


def check_output_options(out_dir: Path | None, *, lang: str, self_contained: bool) -> None:
    """Check the options of a command that writes maps or a report: the output folder, ``--lang``, the assets.

    Raises
    ------
    GeoplannerError
        The first problem, naming the option (``--out``, ``--lang``) or the missing asset and how to fetch it.
    """
    if out_dir is not None:
        ensure_output_dir(out_dir)
    try:
        check_lang(lang)
    except ConfigError as exc:  # a language reaches the commands only as --lang
        raise ConfigError(exc.message, column="--lang", hint=exc.hint) from None
    check_assets(self_contained)


def check_run(
    out_dir: Path,
    *,
    scenarios: Sequence[Path],
    network: Path | None = None,
    lang: str = "nl",
    self_contained: bool = False,
    data_dir: Path | None = None,
) -> RunInputs:
    """Check everything the main job will use before its first step runs.

    In this order: the output folder, ``--lang``, the offline map assets (``--self-contained``), every
    scenario file (parsed and checked against the data), every bundle file the steps read (sha256), the
    service sets the coverage step measures, and the walking network (``--network`` or the bundle's), loaded;
    a network of the user's must also reach where the children live (:func:`check_network_reach`).

    Parameters
    ----------
    out_dir
        Output root.
    scenarios
        Scenario files.
    network
        Walking-network file (default: the bundle's).
    lang, self_contained
        The options of the maps and the report.
    data_dir
        Data folder.

    Returns
    -------
    RunInputs

    Raises
    ------
    GeoplannerError
        The first problem found, as one line naming the file, row and column or the option.
    """
    check_output_options(out_dir, lang=lang, self_contained=self_contained)
    loaded = [load_scenario(p, data_dir=data_dir) for p in scenarios]
    for key in RUN_DATASETS:
        dataset_path(key, data_dir)  # present and intact
    load_service_sets(DEFAULT_SETS, data_dir)
    net = load_network(network, data_dir=data_dir)
    if network is not None:
        check_network_reach(net, data_dir)
    return RunInputs(loaded, net)


def check_network_reach(net: WalkNetwork, data_dir: Path | None = None) -> None:
    """Refuse a network of the user's (``--network``) that does not reach where the children live.

    The coverage step makes the same check (:func:`geoplanner.access.demand.check_network_fit`) on the same
    demand points; made here, it stops the run before the need step writes. It costs reading the need inputs
    and the sector figures once more (a few seconds), so it runs only for a network other than the bundle's.

    Raises
    ------
    DataError
        Naming the network file, if more than 2 % of the children live over 250 m from every street.
    """
    data = need_data(data_dir)
    figures = data.figures
    sectors = sector_need(data, observed=figures.by_sector if figures is not None else None)
    points = demand_points(data.sectors, sectors, data.lines)
    check_network_fit(net, snap_points(net, points[["x", "y"]].to_numpy()), points["weight"].to_numpy())
