"""What every step shares, read from the data folder once: need inputs, the walking network, the context.

The engines take their inputs as arguments; the functions here find them in the data folder (through
:mod:`geoplanner.inputs`), keep the slow ones in :mod:`geoplanner.cache` keyed by the content of the files
they come from, and hand them on.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import geopandas as gpd

from geoplanner import cache as store
from geoplanner.access.network import (
    NETWORK_VERSION,
    WalkNetwork,
    build_network,
    network_from_arrays,
    network_to_arrays,
)
from geoplanner.core import settings
from geoplanner.core.checksum import sha256_file
from geoplanner.core.errors import DataError, DataMissingError
from geoplanner.inputs.areas import load_region, load_sectors, load_wijken
from geoplanner.inputs.bundle import dataset_path, get_dataset
from geoplanner.inputs.config import read_text_file
from geoplanner.inputs.figures import (
    load_commune_age_shares,
    load_commune_population,
    load_sector_age_bands,
    load_sector_bimd,
    load_sector_population,
    load_wijk_indicators,
)
from geoplanner.inputs.grid import load_population_grid
from geoplanner.inputs.network_files import read_network_file
from geoplanner.inputs.osm import load_osm_lines
from geoplanner.inputs.sector_figures import load_sector_figures, sector_figures_path
from geoplanner.need import Need, NeedData, NeedParams, build_need
from geoplanner.need.residential import (
    FRONTAGE_HIGHWAYS,
    LINES_VERSION,
    lines_from_arrays,
    lines_to_arrays,
    residential_lines,
)
from geoplanner.outputs.files import atomic_path

__all__ = [
    "NEED_DATASETS",
    "need_params",
    "residential_streets",
    "need_data",
    "need",
    "default_network_file",
    "load_network",
    "download_network",
]

#: Datasets the need step reads (all must be present and intact before the slow part).
NEED_DATASETS = (
    "sectors",
    "wijken",
    "wijk_indicators",
    "pop_age_commune",
    "sector_population",
    "sector_age_bands",
    "sector_bimd",
    "commune_age_shares",
    "osm_pbf",
    "ghsl_population",
    "region_boundary",
)


def need_params(path: str | Path | None) -> NeedParams:
    """Return the need parameters of a TOML file (``--config``), or the defaults when ``path`` is None."""
    if path is None:
        return NeedParams()
    return NeedParams.from_toml(read_text_file(path, what="file"), path=Path(path))


def residential_streets(data_dir: Path | None = None, *, use_cache: bool = True) -> gpd.GeoDataFrame:
    """Return :func:`geoplanner.need.residential.residential_lines` of the bundle, from the cache when unchanged.

    The key is the content (bundle sha256) of the OSM extract, the GHSL grid and the region outline, the
    highway values, :data:`~geoplanner.need.residential.LINES_VERSION` and the code, so changed inputs or
    rules are rebuilt, never served stale, and a moved data folder still finds its lines.
    """
    files = {k: get_dataset(k).sha256 for k in ("osm_pbf", "ghsl_population", "region_boundary")}
    for k in files:
        dataset_path(k, data_dir)  # present and intact
    key = store.digest(
        {**store.base_parts(), "what": "residential_lines", "files": files, "highways": list(FRONTAGE_HIGHWAYS),
         "version": LINES_VERSION}
    )  # fmt: skip
    if use_cache:
        stored = store.load_arrays(key, kind="need")
        lines = lines_from_arrays(stored) if stored is not None else None
        if lines is not None:
            return lines
    streets = load_osm_lines(data_dir, highways=FRONTAGE_HIGHWAYS)
    lines = residential_lines(streets, load_region(data_dir), load_population_grid(data_dir))
    if use_cache:
        store.save_arrays(key, lines_to_arrays(lines), kind="need")
    return lines


def need_data(data_dir: Path | None = None, *, use_cache: bool = True) -> NeedData:
    """Read everything the need step uses from the data folder (see :class:`geoplanner.need.NeedData`)."""
    for key in NEED_DATASETS:
        dataset_path(key, data_dir)  # every file present and intact before the slow part
    return NeedData(
        sectors=load_sectors(data_dir),
        wijken=load_wijken(data_dir),
        indicators=load_wijk_indicators(data_dir),
        communes=load_commune_population(data_dir),
        residents=load_sector_population(data_dir),
        age_bands=load_sector_age_bands(data_dir),
        bimd=load_sector_bimd(data_dir),
        age_shares=load_commune_age_shares(data_dir),
        lines=residential_streets(data_dir, use_cache=use_cache),
        figures=load_sector_figures(data_dir),
        figures_path=sector_figures_path(data_dir),
        use_cache=use_cache,
    )


def need(data_dir: Path | None = None, params: NeedParams | None = None, *, use_cache: bool = True) -> Need:
    """Run the need step on the data folder: :func:`geoplanner.need.build_need` of :func:`need_data`."""
    return build_need(need_data(data_dir, use_cache=use_cache), params)


def default_network_file(data_dir: Path | None = None) -> Path:
    """Return the bundle's walking network, the OSMnx GraphML, once it is found intact.

    A missing or damaged GraphML is refused, never silently replaced: building the network from the OSM walk
    extract instead takes several times longer, so it happens only when asked for (``--network`` naming the
    extract, as the error's hint says).

    Raises
    ------
    DataMissingError
        If the GraphML is not in the data folder.
    DataError
        If it differs from the bundle's version (truncated or changed after ``data pull``).
    """
    try:
        return dataset_path("osm_walk_graphml", data_dir)
    except DataError as exc:
        again = "" if isinstance(exc, DataMissingError) else " --replace"
        extract = get_dataset("osm_walk").local_path(data_dir)
        hint = (
            f"pull it again with `geoplanner data pull --dataset osm_walk_graphml{again}`, or build the network "
            f"from the OSM walk extract, which is slower, with --network {extract}"
        )
        raise type(exc)(exc.message, path=exc.path, hint=hint) from None


def load_network(
    source: str | Path | None = None,
    *,
    cache: bool = True,
    largest_component: bool = True,
    cache_dir: Path | None = None,
    data_dir: Path | None = None,
) -> WalkNetwork:
    """Load the walking network, from :mod:`geoplanner.cache` when the file's content has not changed.

    Parameters
    ----------
    source
        ``.osm``, ``.osm.bz2``, ``.osm.pbf`` or OSMnx ``.graphml``. Default: the bundle's
        ``osm_walk_graphml`` (:func:`default_network_file`).
    cache
        Read and write the array cache (kind ``network``). The key is the sha256 of the file's content,
        ``largest_component``, :data:`~geoplanner.access.network.NETWORK_VERSION` and the code, so a changed
        input or rule is rebuilt, never served stale, and a moved file is still found.
    largest_component
        Keep only the largest connected piece (default) or all pieces.
    cache_dir
        Default :func:`geoplanner.core.settings.cache_dir`.
    data_dir
        Data folder (for the default network).

    Returns
    -------
    WalkNetwork
        Its ``source`` is the file read this time, its ``sha256`` the file's content.

    Raises
    ------
    DataMissingError
        If no source is given and the bundle has no network.
    DataError
        If the file cannot be read or holds no walkable street.
    """
    path = Path(source) if source is not None else default_network_file(data_dir)
    if not path.is_file():
        raise DataError("network file not found", path=path, hint="pass --network PATH or run `geoplanner data pull`")
    digest = sha256_file(path)
    params = {"largest_component": bool(largest_component)}
    key = store.digest({**store.base_parts(), "what": "network", "sha256": digest, "version": NETWORK_VERSION,
                        **params})  # fmt: skip
    if cache:  # not turned off by $GEOPLANNER_NO_CACHE: a network is rebuilt only when its file changes
        stored = store.load_arrays(key, cache_dir, kind="network")
        net = network_from_arrays(stored, source=path, params=params) if stored is not None else None
        if net is not None and net.sha256 == digest:
            return net
    net = build_network(read_network_file(path), largest_component=largest_component, source=path, sha256=digest,
                        params=params)  # fmt: skip
    if cache:
        store.save_arrays(key, network_to_arrays(net), cache_dir, kind="network")
    return net


def download_network(polygon: Any, *, target: str | Path | None = None, cache: bool = True) -> WalkNetwork:
    """Download a current walking network with OSMnx (needs internet), save it as GraphML and load it.

    The graph is saved first, so the download is kept, can be cited and re-used offline.

    Parameters
    ----------
    polygon
        Study area, a shapely (Multi)Polygon in EPSG:31370.
    target
        Where to save the GraphML; default ``<cache_dir>/network/walk_download_<date>.graphml``.
    cache
        Passed to :func:`load_network`.

    Returns
    -------
    WalkNetwork
    """
    import osmnx as ox  # heavy, and only for a download

    poly_wgs = gpd.GeoSeries([polygon], crs=settings.CRS).to_crs(settings.WGS84).iloc[0]
    graph = ox.graph_from_polygon(poly_wgs, network_type="walk", simplify=True, retain_all=True)
    if target is None:
        target = settings.cache_dir() / "network" / f"walk_download_{dt.date.today().isoformat()}.graphml"
    target = Path(target)
    with atomic_path(target) as tmp:
        ox.save_graphml(graph, tmp)
    return load_network(target, cache=cache)
