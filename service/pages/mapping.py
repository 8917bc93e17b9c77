"""The folium maps of the workspaces: base layer from the settings, plugins each page needs.

The pages' own scripts draw the data (fetched from the API); folium builds the map, its
base tiles and the plugins, and the page is told their JavaScript names.
"""

from __future__ import annotations

import folium
from folium.plugins import GeoMan, HeatMap, MarkerCluster

from service.settings import Settings
from zones import maps


def base(settings: Settings) -> folium.Map:
    """An empty map at the configured centre, with the configured tiles (or none)."""
    m = maps.base_map(settings.map.tiles, settings.map.tiles_attribution)
    m.location = [settings.map.center_lat, settings.map.center_lon]
    m.options["zoom"] = settings.map.zoom
    return m


def with_editor(settings: Settings) -> tuple[folium.Map, folium.FeatureGroup, folium.Element]:
    """A map with Leaflet-Geoman's drawing tools and the layer group they draw into."""
    m = base(settings)
    drawn = folium.FeatureGroup(name="Drawn", control=False)
    drawn.add_to(m)
    editor = GeoMan(  # type: ignore[no-untyped-call]
        feature_group=drawn,
        position="topleft",
        drawMarker=False,
        drawCircleMarker=False,
        drawPolyline=False,
        drawText=False,
        rotateMode=False,
    ).add_to(m)
    return m, drawn, editor


def with_clusters(settings: Settings) -> tuple[folium.Map, folium.Element, folium.Element]:
    """A map with a marker cluster and a heat-map layer (both empty; the page fills them)."""
    m = base(settings)
    cluster = MarkerCluster(name="Alerts", control=False).add_to(m)  # type: ignore[no-untyped-call]
    heat = HeatMap(  # type: ignore[no-untyped-call]
        [], name="Heat map", control=False, radius=30, show=False
    ).add_to(m)
    return m, cluster, heat
