"""The page elements (branca/folium) the maps add besides folium's own: shared data, controls, point batches.

Each renders a little JavaScript into the page; the data they carry is escaped by
:mod:`geoplanner.outputs.maps.markup` or reaches the page through ``tojson``.
"""

from __future__ import annotations

from typing import Any

from branca.element import Element, MacroElement
from folium.template import Template

__all__ = ["SharedData", "HtmlControl", "PointBatch", "Attribution", "LgnSelector", "LegendToggle"]


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
    (``kind="circle"``); an optional sixth item is the LGN the point lies in (the selector of
    :class:`LgnSelector` dims the others). Tooltip and popup HTML must already be escaped; the list reaches the
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
                if (it.length > 5 && it[5] !== null) { mk.gpLgn = it[5]; }
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


class LgnSelector(MacroElement):
    """A control to show one local network (LGN): it zooms to it and filters the tooltips to its wijken and sectors.

    Features and points outside the chosen network are dimmed and take no pointer (so no tooltip or popup opens
    for them); a layer switched on later is filtered too. The page's address ``…#lgn=3`` opens on network 3, and
    choosing one writes it there, so a link can open the map on one network. The chosen number is also on the map
    container (``data-lgn``), for tests and styles.

    Parameters
    ----------
    options
        ``(number, label, [[south, west], [north, east]])`` of each network.
    title
        The control's label.
    everything
        The label of the choice "all networks".

    Every label must already be escaped (:func:`geoplanner.outputs.maps.markup.esc`).
    bounds
        The whole region's bounds, for "all networks".
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var lgns = {{ this.options|tojson }};
            var all = {{ this.bounds|tojson }};
            var current = null, sel = null;
            function lgnOf(l) {
                if (l.gpLgn !== undefined) { return l.gpLgn; }
                return l.feature && l.feature.properties ? l.feature.properties.lgn : undefined;
            }
            function apply() {
                map.eachLayer(function(l) {
                    var n = lgnOf(l);
                    if (n === undefined || n === null) { return; }
                    var on = current === null || +n === current;
                    [l._path, l._icon].forEach(function(e) {
                        if (!e) { return; }
                        e.style.opacity = on ? "" : "0.25";
                        e.style.pointerEvents = on ? "" : "none";
                    });
                });
            }
            function choose(value, zoom) {
                current = value ? +value : null;
                if (sel) { sel.value = current === null ? "" : String(current); }
                map.getContainer().setAttribute("data-lgn", current === null ? "" : String(current));
                apply();
                if (zoom) {
                    var hit = lgns.filter(function(o) { return o[0] === current; })[0];
                    map.fitBounds(hit ? hit[2] : all);
                }
            }
            var ctl = L.control({position: "topleft"});
            ctl.onAdd = function() {
                var div = L.DomUtil.create("div", "gp-lgn-select");
                var html = "<label>" + {{ this.title|tojson }} + "<br><select><option value=''>" +
                    {{ this.everything|tojson }} + "</option>";
                lgns.forEach(function(o) { html += "<option value='" + o[0] + "'>" + o[1] + "</option>"; });
                div.innerHTML = html + "</select></label>";
                sel = div.querySelector("select");
                sel.addEventListener("change", function() {
                    choose(this.value, true);
                    if (window.history && history.replaceState) {
                        history.replaceState(null, "", this.value ? "#lgn=" + this.value : location.pathname);
                    }
                });
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            ctl.addTo(map);
            map.on("overlayadd", apply);
            map.gpChooseLgn = choose;
            var m = /lgn=([0-9]+)/.exec(window.location.hash);
            // after the page's script has added every layer
            if (m) { setTimeout(function() { choose(m[1], true); }, 0); }
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self, options: list[tuple[int, str, list[list[float]]]], title: str, everything: str, bounds: list[list[float]]
    ) -> None:
        super().__init__()
        self.options = [[int(n), text, b] for n, text, b in options]
        self.title = title
        self.everything = everything
        self.bounds = bounds


class LegendToggle(MacroElement):
    """Shows a legend section only while one of the layers it describes is on (sections ``.gp-leg``, ``data-names``).

    The names are those of the layer control; a layer switched on or off there shows or hides its section.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            function update() {
                var c = map.getContainer(), on = {};
                c.querySelectorAll(".leaflet-control-layers-overlays label").forEach(function(l) {
                    var i = l.querySelector("input");
                    on[l.textContent.trim()] = !!(i && i.checked);
                });
                c.querySelectorAll(".gp-leg").forEach(function(s) {
                    var names = JSON.parse(s.getAttribute("data-names") || "[]");
                    if (!names.length) { return; }
                    s.style.display = names.some(function(n) { return on[n]; }) ? "" : "none";
                });
            }
            map.on("overlayadd overlayremove", function() { setTimeout(update, 0); });
        })();
        {% endmacro %}
        """
    )
