"""Folium maps served by us must load every script, stylesheet and font from our own files."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

import folium
from folium import plugins

from service.assets import CDN_TO_LOCAL, MissingAsset, localise, vendor_roots

NODE_MODULES = Path(__file__).resolve().parents[1] / "node_modules"
BASE_URL = "/static/vendor"
PLUGINS = (
    plugins.MarkerCluster,
    plugins.Draw,
    plugins.Fullscreen,
    plugins.HeatMap,
    plugins.GeoMan,
)
# folium's plugin constructors are unannotated; calling them through Any keeps mypy --strict
# quiet without an ignore on every line.
untyped: Any = plugins

# url(...) in CSS, quoted or not; data: URIs and IE's VML behaviour are not files.
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")


@pytest.fixture(scope="module")
def roots() -> dict[str, Path]:
    if not NODE_MODULES.is_dir():
        pytest.fail(f"{NODE_MODULES} is missing: run `npm ci` in the repository root first")
    return vendor_roots(NODE_MODULES)


class _Links(HTMLParser):
    """Collects <script src> and <link href> of a rendered page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href"}.get(tag)
        for name, value in attrs:
            if name == wanted and value is not None:
                self.urls.append(value)


def _full_map() -> folium.Map:
    m = folium.Map(location=[52.5, 13.4], zoom_start=10, tiles=None)
    cluster = untyped.MarkerCluster().add_to(m)
    folium.Marker([52.5, 13.4], icon=folium.Icon(prefix="fa", icon="house")).add_to(cluster)
    untyped.Draw().add_to(m)
    untyped.Fullscreen().add_to(m)
    untyped.HeatMap([[52.5, 13.4, 1.0], [52.51, 13.41, 0.5]]).add_to(m)
    return m


def _rendered_links(m: folium.Map) -> list[str]:
    parser = _Links()
    parser.feed(m.get_root().render())
    return parser.urls


def _file_for(url: str, roots: dict[str, Path]) -> Path:
    assert url.startswith(f"{BASE_URL}/"), url
    root_name, _, relative = url.removeprefix(f"{BASE_URL}/").partition("/")
    assert root_name in roots, f"{url}: no vendor root {root_name!r}"
    root = roots[root_name].resolve()
    path = (root / relative).resolve()
    assert path.is_relative_to(root), f"{url} escapes {root}"
    return path


def test_rendered_map_links_only_local_files(roots: dict[str, Path]) -> None:
    m = _full_map()
    localise(m, BASE_URL)
    urls = _rendered_links(m)

    external = [u for u in urls if urlsplit(u).scheme or urlsplit(u).netloc]
    assert external == []
    # Every plugin's own assets must be among them, not just the map's.
    assert any("markercluster" in u for u in urls)
    assert any("leaflet.draw" in u for u in urls)
    assert any("FullScreen" in u for u in urls)
    assert any("leaflet_heat" in u for u in urls)
    missing = [u for u in urls if not _file_for(u, roots).is_file()]
    assert missing == []


def test_every_mapped_file_exists(roots: dict[str, Path]) -> None:
    missing = [
        f"{url} -> {relative}"
        for url, relative in CDN_TO_LOCAL.items()
        if relative is not None and not _file_for(f"{BASE_URL}/{relative}", roots).is_file()
    ]
    assert missing == []


def test_table_covers_folium_defaults() -> None:
    """A folium upgrade that changes a URL must show up here, not on a user's blank map."""
    wanted = {
        url for cls in (folium.Map, *PLUGINS) for _, url in (*cls.default_js, *cls.default_css)
    }
    assert wanted - CDN_TO_LOCAL.keys() == set()
    assert CDN_TO_LOCAL.keys() - wanted == set()


def test_stylesheets_find_their_fonts_and_images(roots: dict[str, Path]) -> None:
    """Font Awesome's ../webfonts/, Leaflet's images/ etc. resolve relative to the served CSS."""
    broken: list[str] = []
    for relative in CDN_TO_LOCAL.values():
        if relative is None or not relative.endswith(".css"):
            continue
        css = _file_for(f"{BASE_URL}/{relative}", roots)
        for _, ref in CSS_URL.findall(css.read_text(encoding="utf-8")):
            # "%23..." is a fragment inside an inline SVG (GeoMan's icons), not a file.
            if ref.startswith(("data:", "#", "%23")):
                continue
            parts = urlsplit(ref)
            if parts.scheme or parts.netloc:
                broken.append(f"{relative}: external {ref}")
                continue
            # The URL a browser builds from the stylesheet's own URL must stay under our roots.
            url = f"{BASE_URL}/{Path(relative).parent / parts.path}"
            target = _file_for(_normalise(url), roots)
            if not target.is_file():
                broken.append(f"{relative}: {ref} -> {target}")
    assert broken == []


def _normalise(url: str) -> str:
    segments: list[str] = []
    for segment in url.split("/"):
        if segment == "..":
            segments.pop()
        elif segment != ".":
            segments.append(segment)
    return "/".join(segments)


def test_font_awesome_webfonts_are_served(roots: dict[str, Path]) -> None:
    css = _file_for(f"{BASE_URL}/npm/@fortawesome/fontawesome-free/css/all.min.css", roots)
    refs = {ref for _, ref in CSS_URL.findall(css.read_text(encoding="utf-8"))}
    assert "../webfonts/fa-solid-900.woff2" in refs
    assert (css.parent.parent / "webfonts" / "fa-solid-900.woff2").is_file()


def test_unknown_cdn_asset_raises_and_changes_nothing() -> None:
    m = _full_map()
    # A real folium plugin that nobody vendored.
    untyped.Terminator().add_to(m)
    before = list(m.default_js)

    with pytest.raises(MissingAsset, match=r"CDN_TO_LOCAL.*package\.json") as caught:
        localise(m, BASE_URL)

    assert caught.value.url in {url for _, url in plugins.Terminator.default_js}
    assert caught.value.url in str(caught.value)
    assert m.default_js == before


def test_other_maps_keep_folium_defaults() -> None:
    original_js = list(folium.Map.default_js)
    original_css = list(folium.Map.default_css)

    localise(_full_map(), BASE_URL)

    fresh = folium.Map()
    assert fresh.default_js == original_js
    assert fresh.default_css == original_css
    assert folium.Map.default_js == original_js
    assert plugins.HeatMap.default_js[0][1].startswith("https://")


def test_localise_twice_and_trailing_slash() -> None:
    m = _full_map()
    localise(m, BASE_URL + "/")
    first = _rendered_links(m)
    localise(m, BASE_URL)
    assert _rendered_links(m) == first
    assert all(u.startswith(f"{BASE_URL}/") and "//" not in u for u in first)


def test_dropped_assets_leave_no_link() -> None:
    m = _full_map()
    localise(m, BASE_URL)
    html = m.get_root().render()
    assert "glyphicons" not in html
    assert "awesome.rotate" not in html
