"""The notebook maps escape every text they draw: Leaflet shows popups, tooltips and the
names in the layer control as HTML, so a zone or subject name must arrive as text."""

from __future__ import annotations

import folium
from shapely.geometry import box

from zones.maps import MapPoint, add_points, add_zones, base_map
from zones.model import Zone

NAME = '<img src=x onerror="window.__xss=1">'


def rendered() -> str:
    m = base_map(None)
    zone = Zone(1, 1, NAME, NAME, box(0.11, 52.19, 0.13, 52.21))
    add_zones(m, [zone], buffer_m=50, name=f"Zones {NAME}")
    add_points(m, [MapPoint(0.12, 52.2, label=f"seen {NAME}")], name=f"Fixes {NAME}")
    add_points(m, [MapPoint(0.12, 52.2, label=NAME)], name=f"Cluster {NAME}", cluster=True)
    folium.LayerControl().add_to(m)
    return str(m.get_root().render())


def test_no_text_reaches_a_map_as_markup() -> None:
    page = rendered()
    assert "<img" not in page
    assert "\\u003cimg" not in page  # nor inside a script, to be made markup by Leaflet
    assert page.count("&lt;img") >= 6  # popups, tooltips and layer names, as text
