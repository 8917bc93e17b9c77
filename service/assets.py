"""Serve folium's browser assets from this service instead of the public CDNs folium names.

Our users' networks cannot reach those CDNs, so a map that links to them renders blank.
The npm packages pinned in ``package.json`` (installed by ``npm ci`` into ``node_modules/``)
hold the same files, and folium's own wheel holds the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import folium

NPM_ROOT = "npm"
"""First path segment of assets served from ``node_modules``."""

FOLIUM_ROOT = "folium"
"""First path segment of assets served from the folium package's ``templates`` folder."""

_FOLIUM_TEMPLATES = Path(folium.__file__).resolve().parent / "templates"

# Keyed by the exact URL folium 0.20 writes, so that a folium upgrade which changes any URL
# fails loudly in localise() instead of quietly going back to a CDN.
CDN_TO_LOCAL: dict[str, str | None] = {
    # folium.Map
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "npm/leaflet/dist/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "npm/leaflet/dist/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "npm/jquery/dist/jquery.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": (
        "npm/bootstrap/dist/js/bootstrap.bundle.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": (
        "npm/bootstrap/dist/css/bootstrap.min.css"
    ),
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": (
        "npm/@fortawesome/fontawesome-free/css/all.min.css"
    ),
    # npm has no 2.0.2; the dist/ files of its 2.0.0, 2.0.4 and 2.0.5 are byte-identical,
    # and 2.0.0's bower.json calls them 2.0.2.
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": (  # noqa: E501
        "npm/leaflet.awesome-markers/dist/leaflet.awesome-markers.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": (  # noqa: E501
        "npm/leaflet.awesome-markers/dist/leaflet.awesome-markers.css"
    ),
    # No npm package ships this Bootstrap 3.0.0 file, and Bootstrap 3 itself would clash with
    # folium's Bootstrap 5. Icons must therefore use Font Awesome (folium.Icon(prefix="fa"));
    # with folium's default prefix="glyphicon" the marker pin shows without its symbol.
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": None,
    # Lives only in folium's git repository (not in its wheel, not on npm). It only adds
    # .fa-rotate-N for Icon(angle=N); Font Awesome 6 itself still covers 90, 180 and 270.
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css": None,  # noqa: E501
    # plugins.MarkerCluster
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js": (
        "npm/leaflet.markercluster/dist/leaflet.markercluster.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css": (
        "npm/leaflet.markercluster/dist/MarkerCluster.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": (  # noqa: E501
        "npm/leaflet.markercluster/dist/MarkerCluster.Default.css"
    ),
    # plugins.Draw: npm has the very 1.0.2 that folium names on cdnjs.
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.js": (
        "npm/leaflet-draw/dist/leaflet.draw.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.css": (
        "npm/leaflet-draw/dist/leaflet.draw.css"
    ),
    # plugins.Fullscreen: the package ships no .min.js (jsDelivr minifies on request), so the
    # unminified source it does ship stands in.
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js": (
        "npm/leaflet.fullscreen/Control.FullScreen.js"
    ),
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css": (
        "npm/leaflet.fullscreen/Control.FullScreen.css"
    ),
    # plugins.GeoMan: folium names "@latest"; package.json pins the version we test with.
    "https://unpkg.com/@geoman-io/leaflet-geoman-free@latest/dist/leaflet-geoman.js": (
        "npm/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.js"
    ),
    "https://unpkg.com/@geoman-io/leaflet-geoman-free@latest/dist/leaflet-geoman.css": (
        "npm/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css"
    ),
    # plugins.HeatMap: folium links its own git main branch, but its wheel carries the file.
    "https://cdn.jsdelivr.net/gh/python-visualization/folium@main/folium/templates/leaflet_heat.min.js": (  # noqa: E501
        "folium/leaflet_heat.min.js"
    ),
}


class MissingAsset(LookupError):
    """Raised for a CDN URL that has no local copy in ``CDN_TO_LOCAL``."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"no local copy of {url}: add it to CDN_TO_LOCAL in service/assets.py and "
            "its npm package to package.json, or the map would load it from a CDN our "
            "users cannot reach"
        )
        self.url = url


def vendor_roots(node_modules: Path) -> dict[str, Path]:
    """Map each first path segment of ``CDN_TO_LOCAL`` values to the folder serving it."""
    return {NPM_ROOT: node_modules, FOLIUM_ROOT: _FOLIUM_TEMPLATES}


def localise(element: folium.Element, base_url: str) -> None:
    """Point every element's ``default_js``/``default_css`` under ``element`` at ``base_url``."""
    prefix = base_url.rstrip("/")
    # Resolve everything before changing anything, so a MissingAsset leaves the tree as it was.
    changes: list[tuple[Any, str, list[tuple[str, str]]]] = []
    for node in _walk(element):
        for attr in ("default_js", "default_css"):
            links: list[tuple[str, str]] | None = getattr(node, attr, None)
            if links is None:
                continue
            local = [(name, _local_url(url, prefix)) for name, url in links]
            changes.append((node, attr, [(name, url) for name, url in local if url is not None]))
    for node, attr, links in changes:
        # An instance attribute: the class-level lists are shared by every map in the process.
        setattr(node, attr, links)


def _walk(element: Any) -> Iterator[Any]:
    # branca keeps children only in the private _children dict; it has no public iterator.
    stack = [element]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(getattr(node, "_children", {}).values())


def _local_url(url: str, prefix: str) -> str | None:
    if url in CDN_TO_LOCAL:
        relative = CDN_TO_LOCAL[url]
        return None if relative is None else f"{prefix}/{relative}"
    parts = urlsplit(url)
    # Already ours (a second localise, or an asset the app added itself): leave it alone.
    # The netloc test keeps a protocol-relative "//cdn..." from passing as a local path.
    if not (parts.scheme or parts.netloc) or (prefix and url.startswith(f"{prefix}/")):
        return url
    raise MissingAsset(url)
