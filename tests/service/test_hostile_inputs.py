"""Every route, walked with hostile values in each path and query parameter and in each
field of a body: huge, negative and 400-digit numbers, NaN, years 1 and 9999, NUL and
other control characters. Nothing answers 500.

The routes come from the app itself, so a new route is walked as soon as it exists; one
that takes a body it has no sample for fails the test until a sample is added below.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, get_args
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from tests.service.conftest import PASSWORD, square, zone_feature
from tests.service.test_permissions import action_of
from zones.model import Role
from zones.permissions import grant

PARK = (0.1500, 52.1000)

# Raw query values, percent-encoded as they are sent (so invalid UTF-8 can be sent too).
HOSTILE_VALUES = [
    "2147483648",  # one past a PostgreSQL integer
    "355687428095999",
    "-1",
    "0",
    "9" * 400,
    "-" + "9" * 5000,  # past Python's int-from-string digit limit
    "1e400",
    "NaN",
    "-Infinity",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "1-01-01",
    "2025-13-45T25:61:00Z",
    "%00",
    "a%01b",
    "%1b%5b31m",
    "%7f",
    "%ff%fe",  # not UTF-8
    "%ed%a0%80",  # a lone surrogate, encoded
    "x" * 5000,
    "",
]
# JSON values put in place of each leaf of a sample body.
HOSTILE_JSON = [
    "2147483648",
    "-1",
    "9" * 400,
    "-" + "9" * 400 + ".5",
    "1e400",
    "NaN",
    "Infinity",
    '"0001-01-01T00:00:00Z"',
    '"9999-12-31T23:59:59+00:00"',
    '"a\\u0000b"',
    '"a\\u0007b"',
    '"\\ud800"',
    '"' + "x" * 30_000 + '"',
    "[]",
    "{}",
    "null",
    "true",
]


def when(minutes_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


@pytest.fixture
def world(client_as: Callable[[Role], TestClient], users: dict[Role, str]) -> dict[str, Any]:
    """A zone, a subject barred from it, an alert, a visit: ids for every kind of path."""
    officer = client_as(Role.OFFICER)
    zone = officer.post("/api/v1/zones", json=zone_feature(square(*PARK), "Walk Park")).json()
    subject = officer.post("/api/v1/subjects", json={"reference": "W-1", "name": "Wa Lk"}).json()
    order = officer.post(
        "/api/v1/orders",
        json={
            "subject_id": subject["id"],
            "reference": "SHPO/W/1",
            "starts": "2020-01-01",
            "conditions": [{"text": "Not to enter Walk Park.", "zone_ids": [zone["id"]]}],
        },
    ).json()
    checked = client_as(Role.CONTROL_ROOM).post(
        "/api/v1/sightings/check",
        json={
            "subject_id": subject["id"],
            "lon": PARK[0],
            "lat": PARK[1],
            "time": when(5),
            "source": "public",
        },
    )
    assert checked.status_code == 200, checked.text
    visit = officer.post(
        f"/api/v1/subjects/{subject['id']}/visits",
        json={
            "zone_id": zone["id"],
            "starts": when(-60),
            "ends": when(-120),
            "authorised_by": "DS 1 Walker",
            "reason": "a supervised visit",
        },
    )
    assert visit.status_code == 201, visit.text
    hold = client_as(Role.SUPERVISOR).post(
        "/api/v1/holds", json={"subject_id": subject["id"], "reason": "an appeal is pending"}
    )
    assert hold.status_code == 201, hold.text
    tag = {"identifier": "TAG-W", "subject_id": subject["id"]}
    assert officer.post("/api/v1/devices", json=tag).status_code == 201
    gateway = client_as(Role.ADMIN).post(
        "/api/v1/gateways", json={"name": "Walk Traccar", "devices": ["TAG-W"]}
    )
    assert gateway.status_code == 201, gateway.text
    return {
        "gateway_id": gateway.json()["id"],
        "hold_id": hold.json()["id"],
        "zone_id": zone["id"],
        "subject_id": subject["id"],
        "order_id": order["id"],
        "clause_id": order["conditions"][0]["clause_id"],
        "alert_id": checked.json()["alert_id"],
        "visit_id": visit.json()["id"],
        "username": users[Role.OFFICER],
    }


def samples(w: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """A body each route accepts (or nearly): the walk changes one leaf of it at a time."""
    feature = zone_feature(square(*PARK), "Walk Park", reason="redrawn")
    order = {
        "subject_id": w["subject_id"],
        "reference": "SHPO/W/2",
        "type": "SHPO",
        "court": "Cambridge Magistrates",
        "starts": "2020-01-01",
        "ends": "2030-01-01",
        "conditions": [
            {
                "text": "Not to enter Walk Park.",
                "zone_ids": [w["zone_id"]],
                "buffer_m": 10,
                "warning_m": 20,
                "schedule": {
                    "timezone": "Europe/London",
                    "windows": [{"days": ["mon"], "start": "08:00", "end": "16:00"}],
                    "exceptions": [
                        {"first_day": "2026-12-19", "last_day": "2027-01-03", "label": "Xmas"}
                    ],
                },
                "confirm_fixes": 1,
                "confirm_seconds": 0,
                "clear_fixes": 1,
                "clear_seconds": 0,
            }
        ],
    }
    subject = {"reference": "W-2", "name": "Walter", "risk_level": "high", "officer": "PC 1"}
    return {
        ("POST", "/api/v1/zones"): feature,
        ("PUT", "/api/v1/zones/{zone_id}"): feature,
        ("POST", "/api/v1/zones/validate"): feature,
        ("POST", "/api/v1/zones/buffer"): {"buffer_m": 50, "geometries": [square(*PARK)]},
        ("POST", "/api/v1/orders/{order_id}/zones/{zone_id}/copy"): feature,
        ("POST", "/api/v1/subjects"): subject,
        ("PUT", "/api/v1/subjects/{subject_id}"): {**subject, "reference": "W-1"},
        ("POST", "/api/v1/orders"): order,
        ("PUT", "/api/v1/orders/{order_id}"): {
            **order,
            "conditions": [{**order["conditions"][0], "clause_id": w["clause_id"]}],
            "reason": "varied by the court",
        },
        ("POST", "/api/v1/sightings/check"): {
            "subject_id": w["subject_id"],
            "lon": PARK[0],
            "lat": PARK[1],
            "accuracy_m": 10,
            "time": when(3),
            "source": "public",
            "source_detail": "caller",
        },
        ("POST", "/api/v1/observations"): [
            {"subject_id": w["subject_id"], "lon": PARK[0], "lat": PARK[1], "time": when(2)}
        ],
        ("POST", "/api/v1/devices"): {"identifier": "TAG-W", "subject_id": w["subject_id"]},
        ("POST", "/api/v1/alerts/{alert_id}/actions"): {
            "action": "note",
            "note": "looked at it",
        },
        ("POST", "/api/v1/subjects/{subject_id}/visits"): {
            "zone_id": w["zone_id"],
            "starts": when(-600),
            "ends": when(-660),
            "authorised_by": "DS 1 Walker",
            "reason": "a supervised visit",
        },
        ("POST", "/api/v1/visits/{visit_id}/withdraw"): {"reason": "cancelled"},
        ("POST", "/api/v1/schedules/exceptions"): {"icalendar": "BEGIN:VCALENDAR\r\nEND:VCALENDAR"},
        ("POST", "/api/v1/auth/refresh"): {"refresh_token": "zrt_" + "x" * 43},
        ("POST", "/api/v1/auth/password"): {
            "current_password": "not the password",
            "new_password": "a new and long passphrase",
        },
        ("POST", "/api/v1/auth/tokens"): {"name": "QGIS", "scope": "read", "expires_in_days": 30},
        ("POST", "/api/v1/subjects/{subject_id}/move"): {"unit": "other-unit", "reason": "moved"},
        ("POST", "/api/v1/units"): {"code": "walk-unit", "name": "Walk unit"},
        ("PUT", "/api/v1/users/{username}/units"): {"units": ["test-unit"]},
        ("POST", "/api/v1/holds"): {"subject_id": w["subject_id"], "reason": "an appeal"},
        ("POST", "/api/v1/holds/{hold_id}/release"): {"reason": "the appeal was heard"},
        ("POST", "/api/v1/device-credentials"): {"device": "TAG-W", "username": "walker"},
        ("POST", "/api/v1/gateways"): {"name": "Traccar", "devices": ["TAG-W"]},
        ("PUT", "/api/v1/gateways/{gateway_id}/devices"): {"devices": ["TAG-W"]},
        ("POST", "/api/v1/webhooks"): {
            "name": "cad",
            "url": "https://cad.example.org/zones",
            "events": ["opened", "closed"],
            "detail": "references",
        },
    }


FORMS = {  # routes that read a form, not JSON: walked through their query only
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/zones/preview"),
    ("POST", "/api/v1/observations/gpx"),
    ("POST", "/api/v1/observations/ndjson"),
    ("POST", "/api/v1/observations/csv"),
    ("POST", "/login"),
    ("POST", "/logout"),
}


def query_fields(dependant: Dependant) -> Iterator[Any]:
    yield from dependant.query_params
    for sub in dependant.dependencies:
        yield from query_fields(sub)


def plain_type(annotation: Any) -> Any:
    args = [a for a in get_args(annotation) if a is not type(None)]
    return plain_type(args[0]) if args else annotation


BASELINE_BY_NAME = {
    "bbox": "0.1,52.0,0.2,52.2",
    "lon": str(PARK[0]),
    "lat": str(PARK[1]),
    "time_zone": "Europe/London",
    "ref": "TL 451 583",
    "reason": "incident 42",
    "next": "/",
    "q": "W",
    "from": when(120),
    "to": when(0),
    "local_time": "2025-06-01T12:00:00",
}


def baseline(name: str, annotation: Any, w: dict[str, Any]) -> str:
    """A value the parameter accepts, so the others' hostile values reach the handler."""
    if name in w:
        return str(w[name])
    if name in BASELINE_BY_NAME:
        return BASELINE_BY_NAME[name]
    kind = plain_type(annotation)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return str(next(iter(kind)).value)
    if kind is bool:
        return "false"
    if "datetime" in str(kind).lower():
        return when(60)
    if kind in (int, float):
        return "1"
    return "x"


def routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    """(method, full path, route) of every route the app serves, signing out last. (The
    live stream answers 503 here at once: the test app has no event hub.)"""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.route
        if isinstance(route, APIRoute):
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", context.path)  # {zone_id:id}: {zone_id}
            found += [(method, path, route) for method in sorted(route.methods)]
    return sorted(found, key=lambda f: "logout" in f[1])


def server_error(status: int) -> bool:
    """A 5xx other than 503, which is the answer meant for "not available now"."""
    return status >= 500 and status != 503


@pytest.fixture
def walkers(app: FastAPI, users: dict[Role, str]) -> dict[str, TestClient]:
    """A client with a bearer token for the API for each role (each route is walked as a
    role the permission table lets through), and an officer signed in to the pages."""
    found: dict[str, TestClient] = {}
    for role in Role:
        api = TestClient(app, raise_server_exceptions=False)
        form = {"username": users[role], "password": PASSWORD}
        token = api.post("/api/v1/auth/token", data=form).json()["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
        found[role.value] = api
    form = {"username": users[Role.OFFICER], "password": PASSWORD}
    pages = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    [csrf] = re.findall(r'name="csrf_token" value="([^"]+)"', pages.get("/login").text)
    pages.post("/login", data={**form, "next": "/", "csrf_token": csrf})
    return {**found, "pages": pages}


def walker_of(route: APIRoute, walkers: dict[str, TestClient], path: str) -> TestClient:
    """The client of the first role the route's permission admits (officers first)."""
    if not path.startswith("/api/"):
        return walkers["pages"]
    action = action_of(route)
    order = (Role.OFFICER, Role.CONTROL_ROOM, Role.SUPERVISOR, Role.ADMIN, Role.ANALYST)
    for role in order:
        if action is None or grant(action, role, frozenset({"test-unit"})) is not None:
            return walkers[role.value]
    return walkers[Role.OFFICER.value]


def url_of(path: str, path_values: dict[str, str], query_values: dict[str, str]) -> str:
    for name, value in path_values.items():
        path = path.replace("{" + name + "}", value)
    query = "&".join(f"{k}={v}" for k, v in query_values.items())
    return f"{path}?{query}" if query else path


def hostile_urls(path: str, route: APIRoute, w: dict[str, Any]) -> Iterator[str]:
    """The route's URL with values it accepts, then with each hostile value in each of its
    path and query parameters in turn (the others keeping the accepted ones)."""
    params = {p.alias: p.field_info.annotation for p in route.dependant.path_params}
    query = {p.alias: p.field_info.annotation for p in query_fields(route.dependant)}
    base_path = {n: quote(baseline(n, kind, w), safe="") for n, kind in params.items()}
    base_query = {n: quote(baseline(n, kind, w), safe="") for n, kind in query.items()}
    yield url_of(path, base_path, base_query)
    for name in params:
        for value in filter(None, HOSTILE_VALUES):
            yield url_of(path, {**base_path, name: value}, base_query)
    for name in query:
        for value in HOSTILE_VALUES:
            yield url_of(path, base_path, {**base_query, name: value})


def test_no_path_or_query_value_gets_a_500(
    app: FastAPI, world: dict[str, Any], walkers: dict[str, TestClient]
) -> None:
    failures: list[str] = []
    body_of = samples(world)
    for method, path, route in routes(app):
        client = walker_of(route, walkers, path)
        body = body_of.get((method, path))
        if route.body_field is not None and body is None and (method, path) not in FORMS:
            failures.append(f"{method} {path}: no sample body to walk it with")
            continue
        for url in hostile_urls(path, route, world):
            r = client.request(method, url, json=body)
            if server_error(r.status_code):
                failures.append(f"{method} {url[:160]} -> {r.status_code} {r.text[:160]}")
    assert not failures, "\n".join(failures)


def leaves(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The place of every value in a body, and of every object and list holding them; of a
    list, only its first item is walked (the others are alike)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*at, key))
    elif isinstance(value, list) and value:
        yield from leaves(value[0], (*at, 0))
    yield at


def replaced(value: Any, at: tuple[Any, ...], raw: str) -> str:
    """``value`` as JSON text with the leaf at ``at`` replaced by the raw JSON ``raw``."""
    marker = "\x00MARK\x00"

    def put(v: Any, path: tuple[Any, ...]) -> Any:
        if not path:
            return marker
        copy = dict(v) if isinstance(v, dict) else list(v)
        copy[path[0]] = put(v[path[0]], path[1:])
        return copy

    return json.dumps(put(value, at)).replace(json.dumps(marker), raw)


def test_no_body_value_gets_a_500(
    app: FastAPI, world: dict[str, Any], walkers: dict[str, TestClient]
) -> None:
    failures: list[str] = []
    served = {(method, path): route for method, path, route in routes(app)}
    for (method, path), body in samples(world).items():
        url = path.format(**world)
        client = walker_of(served[(method, path)], walkers, path)
        for at in leaves(body):
            for raw in HOSTILE_JSON:
                r = client.request(
                    method, url, content=replaced(body, at, raw),
                    headers={"content-type": "application/json"},
                )  # fmt: skip
                if server_error(r.status_code):
                    failures.append(
                        f"{method} {path} {at} = {raw[:40]} -> {r.status_code} {r.text[:160]}"
                    )
    assert not failures, "\n".join(failures)


# Strings clients send that are not ours to bound: files, and FastAPI's OAuth2 sign-in form.
UNBOUNDED = {
    ("POST", "/api/v1/zones/preview", "file"),
    *(("POST", f"/api/v1/observations/{kind}", "file") for kind in ("gpx", "ndjson", "csv")),
    ("POST", "/api/v1/schedules/exceptions", ""),  # an .ics file as the body (the body cap)
    *(("POST", "/api/v1/auth/token", f) for f in
      ("grant_type", "username", "password", "scope", "client_id", "client_secret")),
}  # fmt: skip


def strings(schema: dict[str, Any], components: dict[str, Any], at: str) -> Iterator[Any]:
    """(place, schema) of every string in a JSON schema, through references."""
    if "$ref" in schema:
        yield from strings(components[schema["$ref"].split("/")[-1]], components, at)
        return
    for option in schema.get("anyOf", []) + schema.get("allOf", []):
        yield from strings(option, components, at)
    kind = schema.get("type")
    if (
        kind == "string"
        and not {"enum", "const"} & schema.keys()
        and schema.get("format") not in ("date", "date-time")
    ):
        yield at, schema
    for name, item in schema.get("properties", {}).items():
        yield from strings(item, components, f"{at}.{name}" if at else name)
    if kind == "array" and "items" in schema:
        yield from strings(schema["items"], components, f"{at}[]")


def test_every_string_a_client_sends_has_a_length_limit_and_refuses_controls(
    app: FastAPI,
) -> None:
    """Read from the OpenAPI document, so that a new field cannot escape."""
    document = app.openapi()
    components = document["components"]["schemas"]
    loose = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            found = [
                (p["name"], s)
                for p in operation.get("parameters", [])
                for _, s in strings(p["schema"], components, p["name"])
            ]
            for content in operation.get("requestBody", {}).get("content", {}).values():
                found += list(strings(content["schema"], components, ""))
            for name, schema in found:
                if (method.upper(), path, name) in UNBOUNDED:
                    continue
                if "maxLength" not in schema or "pattern" not in schema:
                    loose.append(f"{method.upper()} {path} {name}")
    assert not loose, "strings without maxLength or the control-character pattern:\n" + "\n".join(
        loose
    )


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/subjects", {"reference": "C-1", "name": "Ann\x07"}, "name"),
        ("/api/v1/subjects", {"reference": "C-1\n", "name": "Ann"}, "reference"),
        ("/api/v1/subjects", {"reference": "C-1", "name": "Ann\x1b[2J"}, "name"),
        ("/api/v1/subjects", {"reference": "C-1", "name": "Ann\x85"}, "name"),
        ("/api/v1/zones", zone_feature(square(*PARK), "Park\x08"), "properties.name"),
    ],
)
def test_control_characters_are_refused_naming_the_field(
    officer: TestClient, path: str, body: dict[str, Any], field: str
) -> None:
    r = officer.post(path, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_error"
    assert r.json()["error"]["field"] == field
    assert "may not hold control character U+" in r.json()["error"]["message"]


def test_a_control_character_in_a_query_is_refused_naming_it(officer: TestClient) -> None:
    r = officer.get("/api/v1/subjects", params={"q": "An\x07n"})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "query.q"


def test_free_text_keeps_its_tabs_and_line_breaks(officer: TestClient) -> None:
    zone = officer.post("/api/v1/zones", json=zone_feature(square(*PARK))).json()
    subject = officer.post("/api/v1/subjects", json={"reference": "T-1", "name": "Tab"}).json()
    text = "Not to enter:\r\n\t(a) the park;\n\t(b) its car park."
    r = officer.post(
        "/api/v1/orders",
        json={
            "subject_id": subject["id"],
            "reference": "SHPO/T/1",
            "starts": "2020-01-01",
            "conditions": [{"text": text, "zone_ids": [zone["id"]]}],
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["conditions"][0]["text"] == text


def order_with(conditions: list[dict[str, Any]], subject_id: int = 1) -> dict[str, Any]:
    return {
        "subject_id": subject_id,
        "reference": "SHPO/L/1",
        "starts": "2020-01-01",
        "conditions": conditions,
    }


@pytest.mark.parametrize(
    ("conditions", "field", "message"),
    [
        (
            [{"text": "Not to enter."}] * 201,
            "conditions",
            "List should have at most 200 items after validation, not 201",
        ),
        (
            [{"text": "Not to enter.", "zone_ids": list(range(1, 2002))}],
            "conditions[0].zone_ids",
            "List should have at most 2000 items after validation, not 2001",
        ),
        (
            [{"text": "Not to enter.", "zone_ids": list(range(1, 2001))}] * 6,
            "body",
            "the conditions name 12,000 zones in all; at most 10,000 per order",
        ),
        (
            [{"text": "x" * 20_001}],
            "conditions[0].text",
            "String should have at most 20000 characters",
        ),
    ],
    ids=["conditions", "zones per condition", "zones per order", "clause text"],
)
def test_an_order_over_its_limits_is_refused_with_a_clear_error(
    officer: TestClient, conditions: list[dict[str, Any]], field: str, message: str
) -> None:
    r = officer.post("/api/v1/orders", json=order_with(conditions))
    assert r.status_code == 422, r.text[:300]
    assert r.json()["error"]["field"] == field
    assert message in r.json()["error"]["message"]
