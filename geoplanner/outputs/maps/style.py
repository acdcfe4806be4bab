"""The look the interactive (folium) and printable (PNG) maps share: colours, class breaks, markers.

Kept apart from both drawing libraries, so a colour or a class means the same on screen and on paper.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "MINUTE_BREAKS",
    "MINUTE_COLOURS",
    "THRESHOLD_COLOURS",
    "BIRTH_COLOURS",
    "DEPRIVATION_COLOURS",
    "TYPE_COLOURS",
    "SHAPES",
    "GAP_COLOUR",
    "SITE_COLOUR",
    "UNSERVED_CAPACITY_COLOUR",
    "GAP_MAX_RADIUS",
    "classify",
    "palette",
]

#: Walking-time classes (minutes) shared by every map and the report.
MINUTE_BREAKS = (0, 5, 10, 15, 20, 30)
#: Fill of each walking-time class, green (near) to red (far).
MINUTE_COLOURS = ("#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027")
#: Isochrone fill per threshold (minutes); others fall back to grey.
THRESHOLD_COLOURS = {5: "#08519c", 10: "#3182bd", 15: "#6baed6", 20: "#bdd7e7"}
#: Sequential palette of births per sector (light to dark orange).
BIRTH_COLOURS = ("#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704")
#: Sequential palette of the deprivation index (light to dark purple).
DEPRIVATION_COLOURS = ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f")
#: Colours of the service types, in the order of the sorted type names (repeated when there are more).
TYPE_COLOURS = (
    "#e41a1c",
    "#377eb8",
    "#4daf4a",
    "#984ea3",
    "#ff7f00",
    "#a65628",
    "#f781bf",
    "#999999",
    "#66c2a5",
    "#e6ab02",
    "#1b9e77",
    "#7570b3",
)
#: Marker shapes of the service layers, in the order of the sorted layer names.
SHAPES = ("square", "diamond", "triangle", "circle", "hexagon")
#: Children beyond the threshold (the gap), and consultations unserved for lack of a session in reach.
GAP_COLOUR = "#b2182b"
#: A scenario's new sites.
SITE_COLOUR = "#6a3d9a"
#: Consultations unserved because the sessions in reach are full.
UNSERVED_CAPACITY_COLOUR = "#e08214"
#: Radius in pixels of the circle of the sector with the largest gap (the others scale by area).
GAP_MAX_RADIUS = 18.0


def classify(values: np.ndarray, breaks: tuple[float, ...]) -> np.ndarray:
    """Return the class index of each value (-1 for missing); the top break closes the last class."""
    idx = np.searchsorted(np.asarray(breaks[1:-1]), values, side="right")
    return np.where(np.isfinite(values), idx, -1)


def palette(n: int, colours: tuple[str, ...]) -> tuple[str, ...]:
    """Pick ``n`` colours spread over a sequential palette."""
    if n >= len(colours):
        return colours
    idx = np.round(np.linspace(0, len(colours) - 1, n)).astype(int)
    return tuple(colours[i] for i in idx)
