"""Open a GeoPackage layer with QGIS itself and report what its style parser made of the stored styles.

Run by the system Python that has PyQGIS (Debian's python3-qgis), not the project's venv:

    python3 tests/_qgis_probe.py FILE.gpkg LAYER [PNG]

Prints one JSON object: the default renderer QGIS applied when it added the layer, every style it
lists in the file's layer_styles table and, per style, the renderer, its rules/categories and
labelling after QGIS parsed it; with PNG, the layer rendered with its default style.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile


def _rules(rule) -> list[dict]:
    return [
        {
            "label": r.label(),
            "filter": r.filterExpression(),
            "active": r.active(),
            "has_symbol": r.symbol() is not None,
            "children": _rules(r),
        }
        for r in rule.children()
    ]


def _describe(layer) -> dict:
    r = layer.renderer()
    out = {"renderer": r.type() if r else None, "labels": layer.labelsEnabled()}
    if r is None:
        return out
    if r.type() == "RuleRenderer":
        out["rules"] = _rules(r.rootRule())
    elif r.type() == "categorizedSymbol":
        out["attribute"] = r.classAttribute()
        out["categories"] = [
            {"value": c.value(), "label": c.label(), "render": c.renderState()} for c in r.categories()
        ]
    out["order_by"] = r.orderByEnabled()
    out["legend"] = [i.label() for i in r.legendSymbolItems()]
    if layer.labelsEnabled() and layer.labeling() is not None:
        s = layer.labeling().settings()
        out["label_expression"] = s.fieldName if s.isExpression else None
    return out


def main(path: str, layer_name: str, png: str | None) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp())
    from qgis.core import (
        Qgis,
        QgsApplication,
        QgsMapRendererSequentialJob,
        QgsMapSettings,
        QgsVectorLayer,
    )
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor
    from qgis.PyQt.QtXml import QDomDocument

    app = QgsApplication([], False, tempfile.mkdtemp())  # a throw-away profile, not ~/.local
    app.initQgis()
    result: dict = {"qgis": Qgis.QGIS_VERSION}
    layer = QgsVectorLayer(f"{path}|layername={layer_name}", layer_name, "ogr")
    result["valid"] = layer.isValid()
    if not layer.isValid():
        return result
    result["features"] = layer.featureCount()
    result["default"] = _describe(layer)  # what QGIS applied on adding the layer
    count, ids, names, descriptions, err = layer.listStylesInDatabase()
    result["listed"] = {"count": count, "names": list(names), "descriptions": list(descriptions), "error": err}
    styles = {}
    for sid, name in zip(ids, names, strict=False):
        qml, err = layer.getStyleFromDatabase(sid)
        probe = QgsVectorLayer(f"{path}|layername={layer_name}", layer_name, "ogr")
        doc = QDomDocument()
        parsed = doc.setContent(qml)
        ok, msg = probe.importNamedStyle(doc)
        styles[name] = {"xml_ok": bool(parsed[0] if isinstance(parsed, tuple) else parsed), "imported": ok,
                        "message": msg, **_describe(probe)}  # fmt: skip
    result["styles"] = styles
    if png:
        settings = QgsMapSettings()
        settings.setLayers([layer])
        settings.setDestinationCrs(layer.crs())
        settings.setExtent(layer.extent())
        settings.setOutputSize(QSize(800, 800))
        settings.setBackgroundColor(QColor(255, 255, 255))
        job = QgsMapRendererSequentialJob(settings)
        job.start()
        job.waitForFinished()
        image = job.renderedImage()
        image.save(png, "PNG")
        colours: dict[str, int] = {}
        step = 2
        for x in range(0, image.width(), step):
            for y in range(0, image.height(), step):
                c = image.pixelColor(x, y)
                key = f"{c.red()},{c.green()},{c.blue()}"
                colours[key] = colours.get(key, 0) + 1
        result["render"] = {
            "errors": [e.message for e in job.errors()],
            "size": [image.width(), image.height()],
            "colours": dict(sorted(colours.items(), key=lambda kv: -kv[1])[:40]),
        }
    return result


if __name__ == "__main__":
    out = main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    print(json.dumps(out, ensure_ascii=False), flush=True)
    # PyQGIS tends to crash while tearing down layers and the application at exit: the answer is out, leave.
    os._exit(0)
