"""Routes for people. Pages log in with a cookie holding the same token the API uses."""

from __future__ import annotations

import html
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

import folium
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from service.api.deps import SessionDep, SettingsDep
from service.assets import localise
from service.auth import NotAuthenticated, User, authenticate, issue_token, read_token
from service.db import alerts_store, observations_store, orders_store, zones_store
from service.pages.layout import page, with_nav
from service.settings import AssetSource, Settings
from zones import maps, model

router = APIRouter(include_in_schema=False)
STATIC = "/static"


class LoginRequired(Exception):
    """A page was asked for without a valid session cookie."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def page_user(request: Request, settings: SettingsDep) -> User:
    token = request.cookies.get(settings.auth.cookie_name)
    if not token:
        raise LoginRequired(request.url.path)
    try:
        return read_token(token, settings.auth)
    except NotAuthenticated as exc:
        raise LoginRequired(request.url.path) from exc


PageUser = Annotated[User, Depends(page_user)]


def _map(settings: Settings) -> folium.Map:
    return maps.base_map(settings.map.tiles, settings.map.tiles_attribution)


def _render(m: folium.Map, settings: Settings, title: str, user: User, legend: str) -> str:
    folium.LayerControl().add_to(m)
    if settings.map.assets is AssetSource.LOCAL:
        localise(m, f"{STATIC}")
    return with_nav(m, title, f"{user.username} ({user.role.value})", legend)


@router.get("/login", response_class=HTMLResponse)
def login_form(next: str = "/", error: str | None = None, username: str = "") -> str:
    msg = f'<p class="error">{html.escape(error)}</p>' if error else ""
    name = html.escape(username, quote=True)
    return page(
        "Log in",
        f"<h1>Log in</h1>{msg}<form class='login' method='post' action='/login'>"
        f"<input type='hidden' name='next' value='{html.escape(next, quote=True)}'>"
        f"<label>User name <input name='username' value='{name}' autocomplete='username' "
        "required></label><label>Password <input name='password' type='password' "
        "autocomplete='current-password' required></label><button type='submit'>Log in</button>"
        "</form>",
    )


@router.post("/login")
def login(
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        user = authenticate(session, username, password)
    except NotAuthenticated as exc:
        target = f"/login?next={quote(next)}&error={quote(exc.message)}&username={quote(username)}"
        return RedirectResponse(target, status_code=303)
    safe_next = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(safe_next, status_code=303)
    response.set_cookie(
        settings.auth.cookie_name,
        issue_token(user, settings.auth),
        max_age=settings.auth.token_minutes * 60,
        httponly=True,
        samesite="strict",
    )
    return response


@router.get("/logout")
def logout(settings: SettingsDep) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(settings.auth.cookie_name)
    return response


@router.get("/", response_class=HTMLResponse)
def index(session: SessionDep, user: PageUser) -> str:
    subjects = {s.id: s for s in orders_store.list_subjects(session)}
    open_alerts = alerts_store.search(
        session, alerts_store.AlertFilter(status=model.AlertStatus.OPEN, limit=10_000)
    )
    per_subject: dict[int, int] = {}
    for a in open_alerts:
        per_subject[a.subject_id] = per_subject.get(a.subject_id, 0) + 1
    rows = []
    for o in orders_store.list_orders(session):
        s = subjects[o.subject_id]
        rows.append(
            f"<tr><td>{html.escape(s.reference)}</td><td>{html.escape(s.name)}</td>"
            f"<td>{html.escape(o.type.value)} {html.escape(o.reference)}</td>"
            f"<td>{o.starts} to {o.ends or 'open-ended'}</td><td>{len(o.conditions)}</td>"
            f"<td>{per_subject.get(o.subject_id, 0)}</td>"
            f"<td><a href='/orders/{o.id}/map'>map</a></td></tr>"
        )
    table = (
        "<table><tr><th>Subject</th><th>Name</th><th>Order</th><th>In force</th>"
        "<th>Conditions</th><th>Open alerts</th><th></th></tr>" + "".join(rows) + "</table>"
        if rows
        else "<p>No orders yet.</p>"
    )
    body = (
        f"<h1>Orders</h1><p><a href='/alerts/map'>Force-wide map of open alerts "
        f"({len(open_alerts)})</a></p>{table}"
    )
    return page("Orders", body, f"{user.username} ({user.role.value})")


@router.get("/orders/{order_id}/map", response_class=HTMLResponse)
def order_map(order_id: int, session: SessionDep, settings: SettingsDep, user: PageUser) -> str:
    order = orders_store.get_order(session, order_id)
    subject = orders_store.get_subject(session, order.subject_id)
    m = _map(settings)
    drawn: list[BaseGeometry] = []
    for i, cond in enumerate(order.conditions, start=1):
        zones = zones_store.current(session, ids=list(cond.zone_ids))
        name = f"Condition {i}: {cond.text[:40]}"
        drawn.extend(maps.add_zones(m, zones, buffer_m=cond.buffer_m, name=name))
    points = [
        maps.MapPoint(
            o.lon,
            o.lat,
            f"{o.kind} {o.observed_at:%Y-%m-%d %H:%M:%S %Z}"
            + (f"<br>±{o.accuracy_m:g} m" if o.accuracy_m else "")
            + ("<br><b>breach</b>" if o.breach else "")
            + (" (late)" if o.late else ""),
            breach=o.breach,
            accuracy_m=o.accuracy_m,
        )
        for o in observations_store.recent(session, subject.id or 0)
    ]
    maps.add_points(m, points, name="Recent observations")
    maps.fit(m, drawn + [Point(p.lon, p.lat) for p in points])
    title = f"{order.type.value} {order.reference}: {subject.name} ({subject.reference})"
    legend = (
        f"{len(order.conditions)} condition(s); zones red, buffers dashed; "
        f"{len(points)} recent observation(s): red in breach, blue clear"
    )
    return _render(m, settings, title, user, legend)


@router.get("/alerts/map", response_class=HTMLResponse)
def alerts_map(session: SessionDep, settings: SettingsDep, user: PageUser) -> str:
    found = alerts_store.search(
        session, alerts_store.AlertFilter(status=model.AlertStatus.OPEN, limit=10_000)
    )
    subjects = {s.id: s for s in orders_store.list_subjects(session)}
    orders = orders_store.list_orders(session)
    zone_ids = sorted({z for o in orders for c in o.conditions for z in c.zone_ids})
    zones = zones_store.current(session, ids=zone_ids) if zone_ids else []
    by_id = {z.id: z for z in zones}
    m = _map(settings)
    maps.add_zones(m, zones, name="Zones of orders")
    buffers = folium.FeatureGroup(name="Buffers of conditions")
    buffers.add_to(m)
    for order in orders:
        for c in order.conditions:
            maps.add_buffers(buffers, [by_id[z] for z in c.zone_ids], c.buffer_m)
    points = []
    for a in found:
        s = subjects[a.subject_id]
        label = (
            f"<b>Alert {a.id}</b> ({a.evidence.value})<br>{html.escape(s.name)} "
            f"({html.escape(s.reference)})<br>order {a.order_id}, condition {a.condition_id}"
            f"<br>zone {a.zone_id} version {a.zone_version}"
            f"<br>since {a.first_at:%Y-%m-%d %H:%M %Z}, {a.observation_count} observation(s)"
            + ("<br>raised from late data" if a.late else "")
        )
        points.append(maps.MapPoint(a.lon, a.lat, label, breach=True))
    maps.add_points(m, points, name="Open alerts", cluster=True, colour=maps.ALERT_COLOUR)
    maps.fit(m, [z.geometry for z in zones] + [Point(p.lon, p.lat) for p in points])
    legend = f"{len(points)} open alert(s) (purple) over {len(zones)} zone(s) named by orders"
    return _render(m, settings, "Open alerts", user, legend)
