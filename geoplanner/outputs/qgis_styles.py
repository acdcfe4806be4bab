"""QGIS layer styles stored inside the GeoPackages, so the layers open styled in QGIS.

QGIS keeps the styles of a GeoPackage layer in the table ``layer_styles`` of the same file (the
table its "Save style → in database" writes, with the schema of its OGR provider) and applies a
layer's default style when the layer is added. The ``*_styles`` functions build such rows as
:class:`LayerStyle` objects for geoplanner's layers; :func:`geoplanner.outputs.files.write_layer_styles`
stores them (``sqlite3``):

- the coverage layers (``coverage.gpkg``: ``sector``, ``wijk``, ``commune``, ``lgn``) hold one
  feature per area *and service set*, so every style is rule-based with one group of classes per
  service set, only one set switched on (the others are ticked on in the layers panel):
  walking-time classes (mean, the default, and 90th percentile; the maps' minute classes) and
  the share of children within each threshold;
- the ``services`` points of ``coverage.gpkg``, categorised by service set (the union sets, whose
  points repeat those of the single sets, are switched off);
- the ``wijken`` of ``priority_wijken.gpkg``: the priority wijken with a strong outline and a
  "rank. name" label, the others light; and, once the ranking has ``p_top21``, a style of that
  probability in classes.

Style names and legend labels are Dutch by default (``lang``). The rows carry a fixed
``update_time`` so the same layers get the same rows. :func:`style_coverage_gpkg` and
:func:`style_priority_gpkg` are the ``after`` callbacks of :func:`geoplanner.outputs.files.write_gpkg`:
they read which layers, sets and columns the file being written holds and store their styles in it,
before it is renamed into place.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from geoplanner.core.i18n import DEFAULT_LANG, check_lang, label
from geoplanner.inputs.services import SERVICE_SETS
from geoplanner.outputs.files import STYLE_NAME_MAX, STYLES_UPDATE_TIME, gpkg_tables, write_layer_styles

__all__ = [
    "LayerStyle",
    "Rule",
    "fill_symbol",
    "marker_symbol",
    "read_layer_styles",
    "rule_based_qml",
    "categorized_qml",
    "coverage_styles",
    "services_style",
    "priority_styles",
    "style_coverage_gpkg",
    "style_priority_gpkg",
    "COVERAGE_LAYERS",
    "UPDATE_TIME",
    "MINUTE_CLASSES",
    "SHARE_CLASSES",
]

#: ``update_time`` of every row written (a fixed time, so the same styles give the same rows).
UPDATE_TIME = STYLES_UPDATE_TIME
#: Coverage layers of ``coverage.gpkg`` that get the walking-time and share styles.
COVERAGE_LAYERS = ("sector", "wijk", "commune", "lgn")
#: Walking-time class bounds (minutes): the classes of the HTML maps (``maps.MINUTE_BREAKS``).
MINUTE_CLASSES = (0, 5, 10, 15, 20, 30)
# Green (near) to red (far), as the maps' walking-time colours.
_MINUTE_COLOURS = ("#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027")
#: Class bounds of a share of children (0-1) within a threshold.
SHARE_CLASSES = (0.0, 0.25, 0.5, 0.75, 0.9)
# Red (few reached) to green (most reached): green means good access in every style.
_SHARE_COLOURS = ("#d73027", "#fc8d59", "#fee08b", "#91cf60", "#1a9850")
_P_TOP_CLASSES = (0.0, 0.1, 0.5, 0.9)
_P_TOP_COLOURS = ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#54278f")
_NO_DATA = "#d9d9d9"
_PRIORITY_OUTLINE = "#b2182b"  # the maps' gap colour
_SET_STYLE = {  # marker colour and shape per built-in service set
    "kg": ("#e41a1c", "square"),
    "one": ("#377eb8", "circle"),
    "hvhk": ("#4daf4a", "diamond"),
    "any_cb": ("#984ea3", "circle"),
    "candidates": ("#999999", "triangle"),
    "all_family": ("#ff7f00", "triangle"),
}
_OTHER_COLOURS = ("#a65628", "#f781bf", "#66c2a5", "#e6ab02", "#1b9e77", "#7570b3")
# Set shown by default on the coverage layers: all consultation bureaus, the headline figure.
_DEFAULT_SET = "any_cb"
_DEFAULT_THRESHOLD = 15.0
# QGIS's geometry type codes (QgsWkbTypes::GeometryType).
_GEOMETRY = {"point": 0, "line": 1, "polygon": 2}
_QGIS_VERSION = "3.22.0"  # the QML format written (QGIS 3.22 LTR and later read it)
_SHARE = re.compile(r"^share_within_(\d+(?:\.\d+)?)_min$")

# Words the styles need that the maps do not (nl, fr, en).
_TEXT: dict[str, tuple[str, str, str]] = {
    "mean_walk": ("Gemiddelde wandeltijd", "Temps de marche moyen", "Mean walking time"),
    "other_wijken": ("Overige wijken", "Autres quartiers", "Other districts"),
    "p_top21": ("Kans op top 21", "Probabilité top 21", "Probability of top 21"),
    "or_more": ("of meer", "ou plus", "or more"),
    "less_than": ("minder dan", "moins de", "less than"),
    "per_set": (
        "per dienstenset (vink de set aan in het lagenpaneel); kinderen 0–2 per sector geschat",
        "par ensemble de services (cochez-le dans le panneau des couches) ; enfants de 0–2 ans par secteur estimés",
        "per service set (tick the set in the layers panel); children aged 0–2 per sector estimated",
    ),
    "priority_desc": (
        "prioritaire wijken met rang en naam, overige wijken licht",
        "quartiers prioritaires avec rang et nom, autres quartiers en clair",
        "priority districts with rank and name, other districts light",
    ),
}


def _t(key: str, lang: str) -> str:
    return _TEXT[key][("nl", "fr", "en").index(check_lang(lang))]


# ---------------------------------------------------------------------------------------------
# The layer_styles table
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerStyle:
    """One row of ``layer_styles``: a named QML style of one layer.

    Attributes
    ----------
    layer
        Table name of the layer in the GeoPackage.
    name
        Style name shown by QGIS (at most 30 characters).
    qml
        The style document (QGIS QML).
    description
        Shown by QGIS next to the name.
    default
        The style QGIS applies when the layer is added (at most one per layer).
    """

    layer: str
    name: str
    qml: str
    description: str = ""
    default: bool = False


def read_layer_styles(gpkg: str | Path) -> list[dict]:
    """Return the rows of a GeoPackage's ``layer_styles`` table (empty when it has none), by id."""
    with closing(sqlite3.connect(Path(gpkg))) as con:
        if "layer_styles" not in gpkg_tables(con):
            return []
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute("SELECT * FROM layer_styles ORDER BY id")]


# ---------------------------------------------------------------------------------------------
# QML
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A rule of a rule-based renderer.

    Attributes
    ----------
    label
        Legend text.
    filter
        QGIS expression (``ELSE`` for "everything else"); empty matches every feature.
    symbol
        Symbol properties (see :func:`fill_symbol`, :func:`marker_symbol`); None for a group.
    children
        Nested rules, drawn for features that also match this rule.
    active
        Ticked in the layers panel (an unticked rule draws nothing until ticked).
    """

    label: str
    filter: str = ""
    symbol: dict[str, str] | None = None
    children: tuple[Rule, ...] = ()
    active: bool = True


def _rgba(colour: str, alpha: int = 255) -> str:
    """``#rrggbb`` → QGIS's ``r,g,b,a``."""
    c = colour.lstrip("#")
    return f"{int(c[0:2], 16)},{int(c[2:4], 16)},{int(c[4:6], 16)},{alpha}"


def fill_symbol(
    colour: str | None, outline: str = "#636363", width_mm: float = 0.2, *, alpha: int = 255
) -> dict[str, str]:
    """Properties of a polygon symbol: a solid fill (None: no fill) and an outline."""
    return {
        "type": "fill",
        "class": "SimpleFill",
        "color": _rgba(colour or "#ffffff", alpha if colour else 0),
        "style": "solid" if colour else "no",
        "outline_color": _rgba(outline),
        "outline_style": "solid",
        "outline_width": f"{width_mm:g}",
        "outline_width_unit": "MM",
        "joinstyle": "bevel",
    }


def marker_symbol(colour: str, shape: str = "circle", size_mm: float = 2.6) -> dict[str, str]:
    """Properties of a point symbol (QGIS's simple marker: circle, square, diamond, triangle…)."""
    return {
        "type": "marker",
        "class": "SimpleMarker",
        "name": shape,
        "color": _rgba(colour),
        "outline_color": _rgba("#232323"),
        "outline_style": "solid",
        "outline_width": "0.3",
        "outline_width_unit": "MM",
        "size": f"{size_mm:g}",
        "size_unit": "MM",
        "joinstyle": "bevel",
    }


def _symbol(parent: ET.Element, name: str, props: dict[str, str]) -> None:
    sym = ET.SubElement(
        parent, "symbol", {"type": props["type"], "name": name, "alpha": "1", "clip_to_extent": "1", "force_rhr": "0"}
    )
    layer = ET.SubElement(sym, "layer", {"class": props["class"], "enabled": "1", "locked": "0", "pass": "0"})
    values = {k: v for k, v in props.items() if k not in ("type", "class")}
    # QGIS 3.22 reads the Option map, older 3.x the prop list: write both, as QGIS 3.22 does.
    option = ET.SubElement(layer, "Option", {"type": "Map"})
    for k, v in values.items():
        ET.SubElement(option, "Option", {"name": k, "type": "QString", "value": v})
    for k, v in values.items():
        ET.SubElement(layer, "prop", {"k": k, "v": v})


def _root(geometry: str, labels: bool) -> ET.Element:
    return ET.Element(
        "qgis",
        {"version": _QGIS_VERSION, "styleCategories": "Symbology|Labeling", "labelsEnabled": "1" if labels else "0"},
    )


def _finish(root: ET.Element, geometry: str) -> str:
    ET.SubElement(root, "layerGeometryType").text = str(_GEOMETRY[geometry])
    ET.indent(root, space=" ")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode") + "\n"


def _order_by(renderer: ET.Element, expression: str | None) -> None:
    renderer.set("enableorderby", "1" if expression else "0")
    if expression:
        order = ET.SubElement(renderer, "orderby")
        ET.SubElement(order, "orderByClause", {"asc": "1", "nullsFirst": "1"}).text = expression


def _labeling(root: ET.Element, expression: str) -> None:
    """Add a simple labeling by ``expression`` (features whose label is NULL get none)."""
    lab = ET.SubElement(root, "labeling", {"type": "simple"})
    settings = ET.SubElement(lab, "settings", {"calloutType": "simple"})
    style = ET.SubElement(
        settings,
        "text-style",
        {
            "fieldName": expression,
            "isExpression": "1",
            "fontSize": "8",
            "fontSizeUnit": "Point",
            "fontWeight": "75",
            "textColor": "0,0,0,255",
            "textOpacity": "1",
            "multilineHeight": "1",
        },
    )
    ET.SubElement(
        style,
        "text-buffer",
        {
            "bufferDraw": "1",
            "bufferSize": "0.8",
            "bufferSizeUnits": "MM",
            "bufferColor": "255,255,255,255",
            "bufferOpacity": "1",
            "bufferNoFill": "1",
            "bufferJoinStyle": "128",
        },
    )
    ET.SubElement(settings, "text-format", {"wrapChar": "", "multilineAlign": "3", "autoWrapLength": "0"})
    ET.SubElement(
        settings,
        "placement",
        {"placement": "1", "centroidInside": "1", "centroidWhole": "0", "dist": "0", "priority": "5"},
    )
    ET.SubElement(settings, "rendering", {"drawLabels": "1", "obstacle": "1", "displayAll": "0", "zIndex": "0"})


def rule_based_qml(
    rules: Sequence[Rule],
    *,
    geometry: str = "polygon",
    key: str = "",
    order_by: str | None = None,
    label_expression: str | None = None,
) -> str:
    """Return the QML of a rule-based renderer.

    Parameters
    ----------
    rules
        Top-level rules, drawn in order (a feature matching several is drawn by each).
    geometry
        ``point``, ``line`` or ``polygon`` (QGIS refuses a style of another geometry type).
    key
        Seed of the rules' keys, so the same style gets the same keys.
    order_by
        Expression of the feature drawing order (ascending; drawn last = on top).
    label_expression
        A QGIS expression to label features with (NULL: no label).
    """
    root = _root(geometry, label_expression is not None)
    renderer = ET.SubElement(
        root, "renderer-v2", {"type": "RuleRenderer", "symbollevels": "0", "forceraster": "0", "referencescale": "-1"}
    )
    symbols: list[dict[str, str]] = []
    top = ET.SubElement(renderer, "rules", {"key": _key(key, "root")})

    def add(parent: ET.Element, rule: Rule, path: str) -> None:
        attrs = {"key": _key(key, path), "label": rule.label}
        if rule.filter:
            attrs["filter"] = rule.filter
        if rule.symbol is not None:
            attrs["symbol"] = str(len(symbols))
            symbols.append(rule.symbol)
        if not rule.active:
            attrs["checkstate"] = "0"
        el = ET.SubElement(parent, "rule", attrs)
        for i, child in enumerate(rule.children):
            add(el, child, f"{path}/{i}")

    for i, rule in enumerate(rules):
        add(top, rule, str(i))
    sym_el = ET.SubElement(renderer, "symbols")
    for i, props in enumerate(symbols):
        _symbol(sym_el, str(i), props)
    _order_by(renderer, order_by)
    if label_expression is not None:
        _labeling(root, label_expression)
    return _finish(root, geometry)


def categorized_qml(
    attribute: str,
    categories: Sequence[tuple[str, str, dict[str, str], bool]],
    *,
    geometry: str = "point",
    order_by: str | None = None,
) -> str:
    """Return the QML of a categorised renderer.

    Parameters
    ----------
    attribute
        The field whose value picks the category.
    categories
        ``(value, legend label, symbol properties, shown)`` per category; a category not shown
        is listed in the legend, unticked.
    geometry
        ``point``, ``line`` or ``polygon``.
    order_by
        Expression of the feature drawing order.
    """
    root = _root(geometry, False)
    renderer = ET.SubElement(
        root,
        "renderer-v2",
        {"type": "categorizedSymbol", "attr": attribute, "symbollevels": "0", "forceraster": "0",
         "referencescale": "-1"},
    )  # fmt: skip
    cats = ET.SubElement(renderer, "categories")
    sym_el = ET.SubElement(renderer, "symbols")
    for i, (value, text, props, shown) in enumerate(categories):
        ET.SubElement(
            cats, "category", {"value": value, "label": text, "symbol": str(i), "render": "true" if shown else "false"}
        )
        _symbol(sym_el, str(i), props)
    _order_by(renderer, order_by)
    return _finish(root, geometry)


def _key(seed: str, path: str) -> str:
    """Return a stable rule key (QGIS uses it to remember which rules are ticked)."""
    return "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"geoplanner:{seed}:{path}")) + "}"


def _field(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# ---------------------------------------------------------------------------------------------
# geoplanner's styles
# ---------------------------------------------------------------------------------------------


def _set_label(name: str) -> str:
    return SERVICE_SETS[name][0] if name in SERVICE_SETS else name


def _ordered_sets(sets: Iterable[str]) -> list[str]:
    """Built-in sets in their defined order, then the user's, sorted."""
    given = list(dict.fromkeys(sets))
    return [s for s in SERVICE_SETS if s in given] + sorted(s for s in given if s not in SERVICE_SETS)


def _num(x: float) -> str:
    return f"{x:g}"


def _pct(x: float) -> str:
    return f"{100 * x:g}"


def _class_rules(column: str, bounds: Sequence[float], colours: Sequence[str], texts: Sequence[str],
                 outline: str, width: float, lang: str) -> tuple[Rule, ...]:  # fmt: skip
    """Rules for the classes [b0, b1), [b1, b2), … [bn, ∞) of ``column``, and a no-data rule."""
    f = _field(column)
    rules = []
    for i, text in enumerate(texts):
        lo = bounds[i]
        hi = bounds[i + 1] if i + 1 < len(bounds) else None
        parts = [f"{f} >= {_num(lo)}"] if i > 0 else [f"{f} IS NOT NULL"]
        if hi is not None:
            parts.append(f"{f} < {_num(hi)}")
        rules.append(Rule(text, " AND ".join(parts), fill_symbol(colours[i], outline, width)))
    rules.append(Rule(label("no_data", lang), f"{f} IS NULL", fill_symbol(_NO_DATA, outline, width)))
    return tuple(rules)


def _minute_texts(lang: str) -> list[str]:
    m = label("minutes", lang)
    b = MINUTE_CLASSES
    return [f"{_num(b[i])}–{_num(b[i + 1])} {m}" for i in range(len(b) - 1)] + [
        f"{_num(b[-1])} {m} {_t('or_more', lang)}"
    ]


def _share_texts(lang: str) -> list[str]:
    b = SHARE_CLASSES
    return [f"{_t('less_than', lang)} {_pct(b[1])} %"] + [
        f"{_pct(b[i])}–{_pct(b[i + 1] if i + 1 < len(b) else 1.0)} %" for i in range(1, len(b))
    ]


def coverage_styles(
    sets: Sequence[str],
    thresholds: Sequence[float],
    *,
    layers: Sequence[str] = COVERAGE_LAYERS,
    default_set: str | None = None,
    lang: str = DEFAULT_LANG,
) -> list[LayerStyle]:
    """Styles of the coverage layers: walking-time and share classes, one group per service set.

    For each layer: "Gemiddelde wandeltijd" (``mean_min``, the default style), "90e percentiel
    wandeltijd" (``p90_min``) in the maps' minute classes, and "Aandeel binnen T min"
    (``share_within_T_min``) per threshold in share classes. Each style has a group of rules per
    service set (filter on ``service_set``); only ``default_set`` is ticked, since the sets'
    features lie on top of each other. Areas without children (no value) are grey.

    Parameters
    ----------
    sets
        Service sets present in the layers.
    thresholds
        Minutes of the ``share_within_<t>_min`` columns.
    layers
        Layer names.
    default_set
        The set ticked (default ``any_cb`` when present, else the first set).
    lang
        Language of style names and legends.

    Returns
    -------
    list of LayerStyle
    """
    check_lang(lang)
    ordered = _ordered_sets(sets)
    if not ordered:
        raise ValueError("no service set to style")
    shown = default_set if default_set in ordered else (_DEFAULT_SET if _DEFAULT_SET in ordered else ordered[0])
    minutes = (
        ("mean_min", _t("mean_walk", lang), True),
        ("p90_min", label("p90_min", lang)[:1].upper() + label("p90_min", lang)[1:], False),
    )
    measures = [(col, name, MINUTE_CLASSES, _MINUTE_COLOURS, _minute_texts(lang), default)
                for col, name, default in minutes]  # fmt: skip
    for t in sorted({float(x) for x in thresholds}):
        name = f"{label('share_covered', lang)} {_num(t)} {label('minutes', lang)}"
        measures.append((f"share_within_{_num(t)}_min", name, SHARE_CLASSES, _SHARE_COLOURS, _share_texts(lang), False))
    out = []
    for layer in layers:
        outline, width = ("#969696", 0.1) if layer == "sector" else ("#636363", 0.26)
        for col, name, bounds, colours, texts, default in measures:
            classes = _class_rules(col, bounds, colours, texts, outline, width, lang)
            rules = [
                Rule(_set_label(s), f"{_field('service_set')} = {_literal(s)}", None, classes, active=s == shown)
                for s in ordered
            ]
            qml = rule_based_qml(rules, geometry="polygon", key=f"{layer}:{col}")
            desc = f"{name} — {_t('per_set', lang)}"
            out.append(LayerStyle(layer, name[:STYLE_NAME_MAX], qml, desc, default))
    return out


def services_style(sets: Sequence[str], *, layer: str = "services", lang: str = DEFAULT_LANG) -> LayerStyle:
    """Style the service points by set (categorised); union sets such as ``any_cb`` unticked.

    A set drawing on more than one bundle dataset repeats the points of the single sets, so
    only the single sets (and the user's) are ticked; when there are none, every set is.
    """
    check_lang(lang)
    ordered = _ordered_sets(sets)
    union = {s for s in ordered if s in SERVICE_SETS and len(SERVICE_SETS[s][1]) > 1}
    show_all = all(s in union for s in ordered)
    cats = []
    for i, s in enumerate(ordered):
        colour, shape = _SET_STYLE.get(s, (_OTHER_COLOURS[i % len(_OTHER_COLOURS)], "pentagon"))
        cats.append((s, _set_label(s), marker_symbol(colour, shape), show_all or s not in union))
    qml = categorized_qml("service_set", cats, geometry="point")
    name = label("services", lang)
    return LayerStyle(layer, name, qml, f"{name}: {label('service_set', lang).lower()}", True)


def priority_styles(
    columns: Iterable[str] = (), *, layer: str = "wijken", lang: str = DEFAULT_LANG
) -> list[LayerStyle]:
    """Styles of the ranked wijken: priority wijken outlined and labelled "rank. name".

    The default style "Prioritaire wijken" fills the priority wijken lightly with a strong red
    outline, drawn on top of the other wijken (light grey). When ``columns`` has ``p_top21``
    (the probability of a wijk being among the 21 priority wijken), a second style shows it in
    classes, with the same outlines and labels.

    Parameters
    ----------
    columns
        The layer's columns (decides the optional styles).
    layer
        Layer name.
    lang
        Language of style names, legends and the label's name column (``name_fr`` in French).
    """
    check_lang(lang)
    name_col = "name_fr" if lang == "fr" else "name_nl"
    prio = _field("priority")
    labels = f"CASE WHEN {prio} THEN to_string(to_int({_field('rank')})) || '. ' || {_field(name_col)} END"
    order = f"CASE WHEN {prio} THEN 1 ELSE 0 END"  # priority wijken last, so their outline is on top
    title = label("priority_wijken", lang)
    strong = fill_symbol("#fdae6b", _PRIORITY_OUTLINE, 0.8, alpha=110)
    light = fill_symbol("#f0f0f0", "#bdbdbd", 0.15)
    main = rule_based_qml(
        [Rule(_t("other_wijken", lang), "ELSE", light), Rule(title, prio, strong)],
        key=f"{layer}:priority",
        order_by=order,
        label_expression=labels,
    )
    out = [LayerStyle(layer, title, main, _t("priority_desc", lang), True)]
    if "p_top21" in set(columns):
        b = _P_TOP_CLASSES
        texts = [f"{_t('less_than', lang)} {_pct(b[1])} %"] + [
            f"{_pct(b[i])}–{_pct(b[i + 1] if i + 1 < len(b) else 1.0)} %" for i in range(1, len(b))
        ]
        classes = _class_rules("p_top21", b, _P_TOP_COLOURS, texts, "#bdbdbd", 0.15, lang)
        outline = Rule(title, prio, fill_symbol(None, _PRIORITY_OUTLINE, 0.8))
        qml = rule_based_qml([*classes, outline], key=f"{layer}:p_top21", order_by=order, label_expression=labels)
        name = _t("p_top21", lang)
        out.append(LayerStyle(layer, name, qml, f"{name}; {_t('priority_desc', lang)}", False))
    return out


def _columns(con: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in con.execute(f"PRAGMA table_info({_field(table)})")]


def style_coverage_gpkg(gpkg: str | Path, *, lang: str = DEFAULT_LANG, default_set: str | None = None) -> int:
    """Add the coverage and services styles to ``coverage.gpkg`` (the sets and thresholds read from it).

    Parameters
    ----------
    gpkg
        The file (the temporary file of the atomic write).
    lang
        Language of style names and legends.
    default_set
        The service set ticked on the coverage layers.

    Returns
    -------
    int
        Rows written.
    """
    path = Path(gpkg)
    with closing(sqlite3.connect(path)) as con:
        present = gpkg_tables(con)
        layers = [lv for lv in COVERAGE_LAYERS if lv in present]
        sets: list[str] = []
        thresholds: set[float] = set()
        for lv in layers:
            sets += [r[0] for r in con.execute(f"SELECT DISTINCT service_set FROM {_field(lv)}") if r[0] is not None]
            thresholds |= {float(m.group(1)) for c in _columns(con, lv) if (m := _SHARE.match(c))}
        point_sets = []
        if "services" in present:
            point_sets = [r[0] for r in con.execute('SELECT DISTINCT service_set FROM "services"') if r[0] is not None]
    styles = (
        coverage_styles(sets, sorted(thresholds), layers=layers, default_set=default_set, lang=lang) if sets else []
    )
    if point_sets:
        styles.append(services_style(point_sets, lang=lang))
    return write_layer_styles(path, styles)


def style_priority_gpkg(gpkg: str | Path, *, layer: str = "wijken", lang: str = DEFAULT_LANG) -> int:
    """Add the priority-wijken styles to ``priority_wijken.gpkg`` (optional styles by its columns).

    Returns
    -------
    int
        Rows written.
    """
    with closing(sqlite3.connect(Path(gpkg))) as con:
        columns = _columns(con, layer)
    return write_layer_styles(gpkg, priority_styles(columns, layer=layer, lang=lang))
