"""The small amount of HTML around the maps: a navigation bar and simple pages."""

from __future__ import annotations

import html
from typing import Any

import folium

# An empty icon: browsers ask for /favicon.ico otherwise, and log the 404 as an error.
STYLE = """
<link rel="icon" href="data:,">
<style>
 body{font-family:system-ui,sans-serif;margin:0;color:#222}
 nav.zones-nav{background:#1d3557;color:#fff;padding:.5rem 1rem;display:flex;gap:1.5rem;
   align-items:center;font-size:15px;position:relative;z-index:1000}
 nav.zones-nav a{color:#fff;text-decoration:none} nav.zones-nav .who{margin-left:auto;opacity:.8}
 main{padding:1rem 2rem;max-width:70rem} table{border-collapse:collapse}
 td,th{border-bottom:1px solid #ddd;padding:.3rem .8rem;text-align:left}
 form.login{display:grid;gap:.6rem;max-width:20rem} .error{color:#b00020}
 .legend{font-size:13px;padding:.3rem 1rem;background:#f1faee}
</style>
"""


def nav(user: str | None) -> str:
    if not user:
        return '<nav class="zones-nav"><b>Exclusion zones</b></nav>'
    return (
        '<nav class="zones-nav"><b>Exclusion zones</b><a href="/">Orders</a>'
        '<a href="/alerts/map">Alert map</a><a href="/docs">API</a>'
        f'<span class="who">{html.escape(user)} · <a href="/logout">log out</a></span></nav>'
    )


def page(title: str, body: str, user: str | None = None) -> str:
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title>{STYLE}</head><body>{nav(user)}<main>{body}</main></body></html>"
    )


def with_nav(m: folium.Map, title: str, user: str, legend: str) -> str:
    """Render a map as a whole page with our navigation bar and a one-line legend above it."""
    root: Any = m.get_root()  # a branca Figure; folium types it as a plain Element
    root.title = title
    root.header.add_child(folium.Element(STYLE))
    root.html.add_child(
        folium.Element(
            nav(user) + f'<div class="legend"><b>{html.escape(title)}</b> · {legend}</div>'
        ),
        index=0,
    )
    # The map fills the window below the bar and legend.
    root.header.add_child(
        folium.Element("<style>.folium-map{height:calc(100vh - 72px)!important}</style>")
    )
    rendered: str = root.render()
    return rendered
