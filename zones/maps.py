"""Drawing zones, observations and alerts with folium, for pages and notebooks alike."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

import folium
import shapely
from folium.plugins import Fullscreen, MarkerCluster
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from zones import bounded
from zones.bounded import Budget
from zones.geodesic_buffer import geodesic_buffer
from zones.model import Zone

ZONE_STYLE = {"color": "#b2182b", "weight": 2, "fillColor": "#ef8a62", "fillOpacity": 0.25}
BUFFER_STYLE = {"color": "#b2182b", "weight": 1, "dashArray": "6 4", "fillOpacity": 0.05}
BREACH_COLOUR, CLEAR_COLOUR, ALERT_COLOUR = "#d7301f", "#2b8cbe", "#7a0177"


@dataclass(frozen=True)
class MapPoint:
    """A position to draw, with a popup (``label``, plain text) and whether it is a breach."""

    lon: float
    lat: float
    label: str
    breach: bool = False
    time: datetime | None = None
    accuracy_m: float | None = None


def base_map(tiles: str | None = "OpenStreetMap", attribution: str | None = None) -> folium.Map:
    """An empty map; ``tiles=None`` (or ``"none"``) draws no base layer, for closed networks."""
    use_tiles = None if tiles is None or tiles.lower() == "none" else tiles
    # folium gives max_zoom only to the tile layer; without tiles the map itself needs one, or
    # the marker cluster plugin throws ("Map has no maxZoom specified") and nothing is drawn.
    m = folium.Map(
        location=[52.205, 0.119], zoom_start=13, tiles=use_tiles, attr=attribution, maxZoom=19
    )
    Fullscreen().add_to(m)  # type: ignore[no-untyped-call]
    return m


# Growing a shape costs about 2 ms per vertex (a band per edge, all unioned): a park takes
# milliseconds, a 20,000-vertex outline 30 s. Shapes sent to be drawn get this budget.
DRAWING_BUDGET = Budget(seconds=10.0, memory_mb=1024)


def buffered(
    zones: Sequence[Zone], buffer_m: float, *, budget: Budget | None = None
) -> list[BaseGeometry]:
    """Each zone grown by ``buffer_m`` metres of geodesic distance, in EPSG:4326.

    The same area the judging calls a breach (see :mod:`zones.geodesic_buffer`). With a
    ``budget`` the work runs in a child process within it (see :mod:`zones.bounded`), and
    overrunning it raises ``GeometryTooCostly``.
    """
    geoms = np.array([z.geometry for z in zones], dtype=object)
    if budget is None or not zones:
        return list(geodesic_buffer(geoms, buffer_m))
    what = "growing these shapes by the buffer"
    return list(bounded.run(geodesic_buffer, geoms, buffer_m, budget=budget, what=what))


def add_buffers(
    target: folium.Map | folium.FeatureGroup, zones: Sequence[Zone], buffer_m: float
) -> list[BaseGeometry]:
    """Draw each zone's buffer, dashed; returns the buffered shapes."""
    if buffer_m <= 0 or not zones:
        return []
    grown_all = buffered(zones, buffer_m)
    for z, grown in zip(zones, grown_all, strict=True):
        folium.GeoJson(
            mapping(grown),
            style_function=lambda _f: BUFFER_STYLE,
            tooltip=f"{html.escape(z.name)}: {buffer_m:g} m buffer",
        ).add_to(target)
    return grown_all


def add_zones(
    m: folium.Map, zones: Sequence[Zone], *, buffer_m: float = 0.0, name: str = "Zones"
) -> list[BaseGeometry]:
    """Draw zones (and their buffer, dashed) in one layer, each with a popup naming the zone
    and its version; returns the outermost shapes drawn (buffers where there are any)."""
    # Leaflet shows popups, tooltips and layer-control names as HTML: every text is escaped.
    group = folium.FeatureGroup(name=html.escape(name))
    grown = add_buffers(group, zones, buffer_m)
    for z in zones:
        popup = (
            f"<b>{html.escape(z.name)}</b><br>zone {z.id} version {z.version}<br>"
            f"{html.escape(z.category)}" + (f"<br>{z.area_m2:,.0f} m²" if z.area_m2 else "")
        )
        shape = folium.GeoJson(
            {"type": "Feature", "geometry": mapping(z.geometry), "properties": {"zone_id": z.id}},
            style_function=lambda _f: ZONE_STYLE,
            tooltip=html.escape(z.name),
        )
        shape.add_child(folium.Popup(popup, max_width=300))
        shape.add_to(group)
    group.add_to(m)
    return grown or [z.geometry for z in zones]


def add_points(
    m: folium.Map,
    points: Iterable[MapPoint],
    *,
    name: str,
    cluster: bool = False,
    colour: str | None = None,
) -> folium.FeatureGroup:
    """Draw positions as circles: red for breaches, blue otherwise; accuracy as a faint disc."""
    group = folium.FeatureGroup(name=html.escape(name))
    target = MarkerCluster(name=html.escape(name)).add_to(group) if cluster else group  # type: ignore[no-untyped-call]
    for p in points:
        c = colour or (BREACH_COLOUR if p.breach else CLEAR_COLOUR)
        if p.accuracy_m:
            folium.Circle(
                [p.lat, p.lon], radius=p.accuracy_m, color=c, weight=1, fill=True, fill_opacity=0.08
            ).add_to(target)
        folium.CircleMarker(
            [p.lat, p.lon],
            radius=6,
            color=c,
            fill=True,
            fill_opacity=0.9,
            popup=folium.Popup(html.escape(p.label), max_width=320),
        ).add_to(target)
    group.add_to(m)
    return group


def fit(m: folium.Map, geometries: Sequence[BaseGeometry]) -> None:
    """Zoom the map to the bounds of ``geometries`` (no-op when there are none)."""
    if not geometries:
        return
    minx, miny, maxx, maxy = shapely.total_bounds(np.array(geometries, dtype=object))
    # Padding keeps shapes at the edge clear of the zoom and layer controls.
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(40, 40))
