"""The page elements (branca/folium) the maps add besides folium's own: shared data, controls, point batches.

Each renders a little JavaScript into the page; the data they carry is escaped by
:mod:`geoplanner.outputs.maps.markup` or reaches the page through ``tojson``.
"""

from __future__ import annotations

from typing import Any

from branca.element import Element, MacroElement
from folium.template import Template

__all__ = ["SharedData", "HtmlControl", "PointBatch", "Attribution"]


class _Raw(Element):
    """Text put into the page as it is (no template: the text is data, not Jinja)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class SharedData(MacroElement):
    """Data written into the page once, read by every layer that draws it.

    The three sector layers of a map (births, deprivation, walking time), and both halves of a
    side-by-side map, draw the same polygons, and two of them show the same tooltips: each layer's
    features carry only their fill and stubs that the layer's ``filter`` replaces by the shared
    geometry and tooltip, so the page holds them once. The data sits in a function declaration, which
    JavaScript hoists: layers written before it can call it, and the same name written twice is one
    entry of the page's script.
    """

    def __init__(self, key: str, text: str) -> None:
        super().__init__()
        self.key, self.text = key, text

    def render(self, **kwargs: Any) -> None:
        """Put the data into the page's script, once per key."""
        js = f"function {self.key}() {{ return {self.key}.v || ({self.key}.v = {self.text}); }}\n"
        self.get_root().script.add_child(_Raw(js), name=self.key)


class HtmlControl(MacroElement):
    """A Leaflet control holding fixed, already-escaped HTML (legend, title)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var ctl = L.control({position: {{ this.position|tojson }}});
            ctl.onAdd = function() {
                var div = L.DomUtil.create('div', {{ this.css_class|tojson }});
                div.innerHTML = {{ this.content|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            ctl.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, content: str, position: str, css_class: str) -> None:
        super().__init__()
        self.content = content
        self.position = position
        self.css_class = css_class


class PointBatch(MacroElement):
    """Many point markers added to their parent layer by one loop in the page.

    One folium ``Marker`` + ``Popup`` per point costs a template compilation each; the
    batch keeps pages small and fast. Items are ``[lat, lon, tooltip, popup, extra]`` where
    ``extra`` is the SVG of a ``divIcon`` (``kind="icon"``) or a radius in pixels
    (``kind="circle"``). Tooltip and popup HTML must already be escaped; the list reaches the
    page through ``tojson``, which also escapes ``<`` so no data can close the script.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var layer = {{ this._parent.get_name() }};
            var style = {{ this.style|tojson }};
            {{ this.items|tojson }}.forEach(function(it) {
                var mk;
                if ({{ (this.kind == "icon")|tojson }}) {
                    mk = L.marker([it[0], it[1]], {icon: L.divIcon({html: it[4], className: "gp-icon",
                        iconSize: [style.size, style.size], iconAnchor: [style.size / 2, style.size / 2]}),
                        interactive: style.interactive, zIndexOffset: style.z || 0});
                } else {
                    mk = L.circleMarker([it[0], it[1]], Object.assign({radius: it[4]}, style));
                }
                if (it[2]) { mk.bindTooltip(it[2], {sticky: true}); }
                if (it[3]) { mk.bindPopup(it[3], {maxWidth: 360}); }
                mk.addTo(layer);
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, items: list[list[Any]], kind: str, style: dict[str, Any]) -> None:
        super().__init__()
        self.items = items
        self.kind = kind
        self.style = style


class Attribution(MacroElement):
    """Adds the data sources to Leaflet's attribution box (shown even without tiles)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
