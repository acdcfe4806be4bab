"""Fast reader for the OSMnx GraphML walking network: only what :mod:`geoplanner.access.network` uses.

``osmnx.load_graphml`` builds a full NetworkX graph and converts every attribute of every edge (names,
speeds, OSM ids) before :func:`geoplanner.access.network.network_from_graph` keeps four of them (node ``x`` and
``y``, edge ``length`` and ``geometry``). On the Brussels network that is 10-15 s of a cold build. This
reader parses the file with the standard library's C XML parser (the cyclic garbage collector paused)
and keeps those four, in the order NetworkX would list them (nodes in file order, then edges node by
node, neighbour by neighbour in order of first appearance, parallel edges by key), so the network built
from them is the same array for array (about 3 s instead of 12-15 s).

It covers plain GraphML as OSMnx (NetworkX) writes it: one directed graph, no key defaults, no nested
graphs, hyperedges, ports or yEd extensions, integer node ids, an ``id`` on every edge. For anything else
it returns None and the caller falls back to OSMnx, which then also gives the error messages.
"""

from __future__ import annotations

import gc
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

_NS = "{http://graphml.graphdrawing.org/xmlns}"
_TYPES = {"string": str, "int": int, "long": int, "float": float, "double": float, "boolean": None}
_USED = ("x", "y", "length", "geometry")


@dataclass
class GraphArrays:
    """Nodes and edges of an OSMnx GraphML file as lists, in NetworkX iteration order.

    Attributes
    ----------
    node_ids
        OSM node ids in node order.
    x, y
        Node coordinates in the graph's CRS.
    crs
        The graph's ``crs`` attribute, or None.
    edge_u, edge_v
        Node positions (into ``node_ids``) of each directed edge.
    length
        Edge ``length`` in metres.
    geometry
        Edge ``geometry`` as WKT (None where an edge has none).
    """

    node_ids: list[int]
    x: list[float]
    y: list[float]
    crs: str | None
    edge_u: list[int]
    edge_v: list[int]
    length: list[float]
    geometry: list[str | None]


class _Unsupported(Exception):
    """A GraphML feature this reader leaves to OSMnx."""


def _edge_key(text: str | None):
    if not text:
        raise _Unsupported("edge without id")
    try:
        return int(text)  # NetworkX's default edge key type
    except ValueError:
        return text


def read_graphml(path: str | Path) -> GraphArrays | None:
    """Read the nodes, coordinates, lengths and geometries of an OSMnx GraphML file.

    Parameters
    ----------
    path
        The ``.graphml`` file.

    Returns
    -------
    GraphArrays or None
        None when the file uses GraphML features this reader does not cover, or does not parse
        (the caller then reads it with OSMnx).
    """
    # The tree and the lists are ~1 million small objects that hold no cycles; the cyclic garbage
    # collector, triggered again and again while they are made, would take 3/4 of the time.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _read(Path(path))
    except (_Unsupported, ET.ParseError, ValueError, TypeError, KeyError, OverflowError):
        return None
    finally:
        if enabled:
            gc.enable()


def _read(path: Path) -> GraphArrays:
    root = ET.parse(path).getroot()  # the C parser builds the tree; ~1.5 s for the Brussels file
    if root.tag != _NS + "graphml":
        raise _Unsupported("not GraphML")
    keys: dict[str, tuple[str, type]] = {}
    graphs = []
    for el in root:
        if el.tag == _NS + "key":
            kind = el.get("attr.type", "string")
            if _TYPES.get(kind) is None or len(el):  # a <default> child: NetworkX stores it apart
                raise _Unsupported(f"key type {kind} or default")
            keys[el.get("id")] = (el.get("attr.name"), _TYPES[kind])
        elif el.tag == _NS + "graph":
            graphs.append(el)
        else:
            raise _Unsupported(el.tag)
    if len(graphs) != 1 or graphs[0].get("edgedefault") != "directed":
        raise _Unsupported("several or undirected graphs")
    nodes: dict[int, dict[str, str]] = {}
    edges: list[tuple[int, int, object, dict[str, str]]] = []
    graph_data: dict[str, str] = {}
    node_tag, edge_tag, data_tag = _NS + "node", _NS + "edge", _NS + "data"
    for el in graphs[0]:
        tag = el.tag
        if tag == node_tag:
            nodes.setdefault(int(el.get("id")), {}).update(_data(el, keys))
        elif tag == edge_tag:
            if el.get("directed") == "false":
                raise _Unsupported("undirected edge")
            edges.append((int(el.get("source")), int(el.get("target")), _edge_key(el.get("id")), _data(el, keys)))
        elif tag == data_tag:  # graph attributes
            graph_data.update(_data_one(el, keys))
        else:  # hyperedges and anything else
            raise _Unsupported(tag)
    for u, v, _, _ in edges:  # nodes named only by an edge come after the declared ones, as in NetworkX
        nodes.setdefault(u, {})
        nodes.setdefault(v, {})
    # NetworkX MultiDiGraph: adjacency dict per node, neighbours in order of first edge, keys in order;
    # an edge repeating (u, v, key) updates the first one's attributes.
    adj: dict[int, dict[int, dict[object, dict[str, str]]]] = {n: {} for n in nodes}
    for u, v, k, data in edges:
        kd = adj[u].setdefault(v, {})
        if k in kd:
            kd[k].update(data)
        else:
            kd[k] = data
    pos = {n: i for i, n in enumerate(nodes)}
    eu: list[int] = []
    ev: list[int] = []
    length: list[float | None] = []
    geometry: list[str | None] = []
    for u, nbrs in adj.items():
        iu = pos[u]
        for v, kd in nbrs.items():
            iv = pos[v]
            for data in kd.values():
                eu.append(iu)
                ev.append(iv)
                ln = data.get("length")
                length.append(None if ln is None else float(ln))
                geometry.append(data.get("geometry"))
    xs = [None if (c := d.get("x")) is None else float(c) for d in nodes.values()]
    ys = [None if (c := d.get("y")) is None else float(c) for d in nodes.values()]
    if None in xs or None in ys or None in length:
        raise _Unsupported("missing x, y or length")  # OSMnx's path names the node or edge
    crs = graph_data.get("crs")
    return GraphArrays(list(nodes), xs, ys, None if crs is None else str(crs), eu, ev, length, geometry)


def _data_one(el: ET.Element, keys: dict[str, tuple[str, type]]) -> dict[str, str]:
    if len(el):
        raise _Unsupported("data with sub-elements (yEd)")
    name, kind = keys[el.get("key")]
    if el.text is None or name not in (*_USED, "crs"):
        return {}
    if name == "geometry" and kind is not str:
        raise _Unsupported("geometry not a string")
    return {name: el.text}


def _data(el: ET.Element, keys: dict[str, tuple[str, type]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for child in el:
        if child.tag != _NS + "data":
            raise _Unsupported(child.tag)
        out.update(_data_one(child, keys))
    return out
