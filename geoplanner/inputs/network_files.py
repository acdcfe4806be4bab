"""Read a walking-network file into nodes and edges: OSMnx GraphML, OSM XML, or an ``.osm.pbf`` extract.

The engine (:mod:`geoplanner.access.network`) turns what is read here into its array network. GraphML is
read by the fast reader of :mod:`geoplanner.inputs.graphml` (OSMnx when the file needs it), OSM XML by
OSMnx, and a ``.pbf`` by GDAL's OSM driver with the OSMnx 'walk' filter applied to the ways' tags.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import shapely
from pyproj import Transformer

from geoplanner.core import settings
from geoplanner.core.errors import DataError
from geoplanner.inputs.graphml import GraphArrays, read_graphml

__all__ = ["WALK_EXCLUDE", "read_network_file", "read_pbf_ways", "read_osm_xml", "walkable"]

#: OSMnx 2.1 'walk' filter, applied when we read ways ourselves (same rules as the bundle's walk extract, see
#: data/osm/PROVENANCE.md): a way is kept when it has `highway` and each tag below is absent or does not match.
WALK_EXCLUDE = {
    "area": r"yes",
    "access": r"private",
    "highway": r"abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|raceway"
    r"|razed|rest_area|services",
    "foot": r"no",
    "service": r"private",
    "sidewalk": r"separate",
    "sidewalk:both": r"separate",
    "sidewalk:left": r"separate",
    "sidewalk:right": r"separate",
}
_HSTORE_RE = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')


def _tags(other: str | None) -> dict[str, str]:
    """Parse the OGR OSM driver's ``other_tags`` hstore string."""
    if not isinstance(other, str) or not other:
        return {}
    return {k: v for k, v in _HSTORE_RE.findall(other)}


def walkable(highway: str | None, other: str | None) -> bool:
    """Apply the OSMnx 'walk' filter to one way (its ``highway`` and its other tags as hstore text)."""
    if not isinstance(highway, str) or not highway:
        return False
    tags = _tags(other)
    tags["highway"] = highway
    for key, pattern in WALK_EXCLUDE.items():
        value = tags.get(key)
        if value is not None and re.search(pattern, value):
            return False
    return True


def read_pbf_ways(path: Path) -> GraphArrays:
    """Read the walkable ways of an ``.osm.pbf`` as a graph of their segments (EPSG:31370, planar lengths).

    OSMnx reads only OSM XML, so for PBF the ``lines`` layer is read, the ways that pass the OSMnx 'walk'
    filter kept, and the topology built from shared vertices: two ways meet where they share an OSM node,
    which in a PBF has exactly the same coordinates. Every segment between consecutive vertices is an edge
    (the graph is not simplified). OSM node ids are not exposed by the driver, so node ids are synthetic
    (negative).
    """
    try:
        df = pyogrio.read_dataframe(path, layer="lines", columns=["highway", "other_tags"], where="highway IS NOT NULL")
    except Exception as exc:  # GDAL raises its own error types
        raise DataError(f"cannot read OSM ways: {exc}", path=path) from exc
    keep = np.array([walkable(h, o) for h, o in zip(df["highway"], df["other_tags"], strict=True)], dtype=bool)
    lines = df.geometry.values[keep]
    coords, line_idx = shapely.get_coordinates(np.asarray(lines), return_index=True)
    if len(coords) == 0:
        raise DataError("no walkable ways in the OSM file", path=path)
    # OSM nodes are stored at 1e-7 degree precision, so rounding to that recovers shared nodes.
    key = np.round(coords * 1e7).astype(np.int64)
    uniq, inverse = np.unique(key, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    lon, lat = uniq[:, 0] / 1e7, uniq[:, 1] / 1e7
    tr = Transformer.from_crs(settings.WGS84, settings.CRS, always_xy=True)
    x, y = (np.asarray(c, dtype=float) for c in tr.transform(lon, lat))
    same_line = line_idx[1:] == line_idx[:-1]
    eu = inverse[:-1][same_line]
    ev = inverse[1:][same_line]
    seg = np.stack([np.stack([x[eu], y[eu]], axis=1), np.stack([x[ev], y[ev]], axis=1)], axis=1)
    return GraphArrays(
        node_ids=(-np.arange(1, len(x) + 1, dtype=np.int64)).tolist(),
        x=x,
        y=y,
        crs=settings.CRS,
        edge_u=eu,
        edge_v=ev,
        length=np.hypot(x[ev] - x[eu], y[ev] - y[eu]),
        geometry=list(shapely.linestrings(seg)),
    )


def read_osm_xml(path: Path) -> Any:
    """Read OSM XML with OSMnx, walkable both ways, and drop ways that fail the 'walk' filter.

    The bundle's walk extract is already filtered; a user's file (e.g. all highways) may hold motorways or
    private roads, so the filter is applied again on the tags OSMnx keeps. Returns a NetworkX graph.
    """
    import osmnx as ox  # heavy (networkx, requests): only for OSM XML files

    saved = ox.settings.useful_tags_way
    ox.settings.useful_tags_way = sorted(set(saved) | set(WALK_EXCLUDE))
    try:
        # retain_all=True: components are handled by the network builder, uniformly for every input kind.
        graph = ox.graph_from_xml(path, bidirectional=True, simplify=False, retain_all=True)
    finally:
        ox.settings.useful_tags_way = saved
    drop = []
    for u, v, k, data in graph.edges(keys=True, data=True):
        for key, pattern in WALK_EXCLUDE.items():
            value = data.get(key)
            if isinstance(value, str) and re.search(pattern, value):
                drop.append((u, v, k))
                break
    graph.remove_edges_from(drop)
    graph.remove_nodes_from([n for n, deg in graph.degree() if deg == 0])
    return ox.simplify_graph(graph)


def read_network_file(path: str | Path) -> GraphArrays | Any:
    """Read a network file, choosing the reader by its name.

    Parameters
    ----------
    path
        ``.osm.pbf``, OSMnx ``.graphml``, ``.osm``/``.xml`` (optionally ``.bz2``).

    Returns
    -------
    GraphArrays or networkx.MultiDiGraph
        Lists of nodes and edges (GraphML read by the fast reader, PBF), or the graph OSMnx built.

    Raises
    ------
    DataError
        If the file is missing, of an unknown type, or cannot be read.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("network file not found", path=path, hint="pass --network PATH or run `geoplanner data pull`")
    name = path.name.lower()
    if name.endswith(".pbf"):
        return read_pbf_ways(path)
    if name.endswith(".graphml"):
        arrays = read_graphml(path)
        if arrays is not None and arrays.node_ids:
            return arrays
    if not name.endswith((".graphml", ".osm", ".osm.bz2", ".xml", ".xml.bz2")):
        raise DataError(
            "unknown network file type", path=path, hint="use .osm, .osm.bz2, .osm.pbf or an OSMnx .graphml"
        )
    try:
        if name.endswith(".graphml"):
            import osmnx as ox  # heavy: only for GraphML the fast reader leaves to OSMnx

            return ox.load_graphml(path)
        return read_osm_xml(path)
    except DataError:
        raise
    except Exception as exc:  # parsers raise many types; report one line
        raise DataError(f"cannot read the network: {exc}", path=path) from exc
