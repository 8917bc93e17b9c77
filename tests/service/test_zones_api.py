"""Zones over HTTP: stored as GeoJSON Features, listed by bbox, edited into new versions."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.service.conftest import square, zone_feature
from zones.model import Role


def test_a_zone_is_stored_and_answered_as_a_feature(officer: TestClient) -> None:
    r = officer.post("/api/v1/zones", json=zone_feature(square(0.12, 52.2), "Jesus Green"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["type"] == "Feature" and isinstance(body["id"], int)
    assert body["properties"]["name"] == "Jesus Green"
    assert body["properties"]["version"] == 1
    # A 0.002 x 0.002 degree square at 52.2 N is about 137 m x 222 m.
    assert 29_000 < body["properties"]["area_m2"] < 32_000
    assert body["geometry"]["type"] == "Polygon"


def test_bbox_lists_only_intersecting_zones(officer: TestClient) -> None:
    near = officer.post("/api/v1/zones", json=zone_feature(square(0.12, 52.2))).json()["id"]
    far = officer.post("/api/v1/zones", json=zone_feature(square(1.30, 52.63))).json()["id"]
    r = officer.get("/api/v1/zones", params={"bbox": "0.10,52.19,0.13,52.21"})
    assert r.status_code == 200
    ids = {f["id"] for f in r.json()["features"]}
    assert near in ids and far not in ids
    assert r.json()["type"] == "FeatureCollection"


def test_a_multipolygon_with_a_hole_is_accepted(officer: TestClient) -> None:
    outer = square(0.12, 52.2, 0.002)["coordinates"][0]
    hole = list(reversed(square(0.12, 52.2, 0.0005)["coordinates"][0]))
    other = square(0.13, 52.2)["coordinates"]
    geom = {"type": "MultiPolygon", "coordinates": [[outer, hole], other]}
    r = officer.post("/api/v1/zones", json=zone_feature(geom))
    assert r.status_code == 201, r.text
    assert r.json()["geometry"]["type"] == "MultiPolygon"
    assert len(r.json()["geometry"]["coordinates"][0]) == 2  # the hole survived


def test_editing_a_zone_adds_a_version_and_keeps_the_old(officer: TestClient) -> None:
    zid = officer.post("/api/v1/zones", json=zone_feature(square(0.12, 52.2))).json()["id"]
    r = officer.put(
        f"/api/v1/zones/{zid}",
        json=zone_feature(square(0.12, 52.2, 0.002), "Bigger", reason="the park was extended"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["properties"]["version"] == 2
    versions = officer.get(f"/api/v1/zones/{zid}/versions").json()["features"]
    assert [v["properties"]["version"] for v in versions] == [1, 2]
    # Who made each version, and why.
    assert [v["properties"]["created_by"] for v in versions] == ["test-officer"] * 2
    assert versions[1]["properties"]["reason"] == "the park was extended"
    assert versions[0]["properties"]["superseded_at"] is not None
    assert versions[0]["properties"]["name"] == "Test park"
    old = officer.get(f"/api/v1/zones/{zid}", params={"version": 1}).json()
    assert old["geometry"] == square(0.12, 52.2) | {
        "coordinates": [[list(p) for p in square(0.12, 52.2)["coordinates"][0]]]
    }


def test_editing_an_unknown_zone_is_a_404_with_a_code(officer: TestClient) -> None:
    r = officer.put("/api/v1/zones/999999", json=zone_feature(square(0.12, 52.2)))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "unknown_zone"


def test_an_unclosed_ring_is_refused_naming_the_ring(officer: TestClient) -> None:
    geom = {
        "type": "Polygon",
        "coordinates": [[[0.12, 52.2], [0.13, 52.2], [0.13, 52.21], [0.12, 52.21]]],
    }
    r = officer.post("/api/v1/zones", json=zone_feature(geom))
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid_geometry"
    assert err["field"] == "geometry.coordinates[0]"
    assert "not closed" in err["message"]


def test_a_self_intersection_is_refused_with_its_place(officer: TestClient) -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[0.12, 52.2], [0.13, 52.21], [0.13, 52.2], [0.12, 52.21], [0.12, 52.2]]],
    }
    r = officer.post("/api/v1/zones", json=zone_feature(bowtie))
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid_geometry"
    assert "self-intersection at lon 0.1250000, lat 52.2050000" in err["message"]
    assert officer.get("/api/v1/zones").json()["features"] == []  # nothing half-stored


def test_a_self_intersection_is_repaired_on_request_with_a_note(officer: TestClient) -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[0.12, 52.2], [0.13, 52.21], [0.13, 52.2], [0.12, 52.21], [0.12, 52.2]]],
    }
    r = officer.post("/api/v1/zones", params={"repair": "true"}, json=zone_feature(bowtie))
    assert r.status_code == 201, r.text
    assert r.json()["geometry"]["type"] == "MultiPolygon"
    assert "repaired self-intersection" in r.json()["properties"]["notes"][0]


def test_coordinates_out_of_range_are_refused(officer: TestClient) -> None:
    geom = square(0.12, 52.2)
    geom["coordinates"][0][1] = [200.0, 52.2]
    r = officer.post("/api/v1/zones", json=zone_feature(geom))
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_coordinates"
    assert r.json()["error"]["field"] == "geometry.coordinates[0][1]"


def test_a_uk_zone_sent_lat_lon_is_refused(officer: TestClient) -> None:
    swapped = {
        "type": "Polygon",
        "coordinates": [[[y, x] for x, y in square(0.12, 52.2)["coordinates"][0]]],
    }
    r = officer.post("/api/v1/zones", json=zone_feature(swapped))
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "coordinates_swapped"


def test_a_point_is_not_a_zone(officer: TestClient) -> None:
    r = officer.post(
        "/api/v1/zones", json=zone_feature({"type": "Point", "coordinates": [0.12, 52.2]})
    )
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "geometry.type"


def test_malformed_json_is_a_422_naming_the_problem(officer: TestClient) -> None:
    r = officer.post(
        "/api/v1/zones",
        content=b'{"type": "Feature", "geometry": ',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"
    assert "JSON" in r.json()["error"]["message"]


def test_a_missing_name_is_named(officer: TestClient) -> None:
    feature = zone_feature(square(0.12, 52.2))
    del feature["properties"]["name"]
    r = officer.post("/api/v1/zones", json=feature)
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "properties.name"


def test_a_bad_bbox_is_refused(officer: TestClient) -> None:
    r = officer.get("/api/v1/zones", params={"bbox": "0.2,52,0.1"})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "bbox"


def test_the_control_room_may_not_draw_zones(control: TestClient) -> None:
    r = control.post("/api/v1/zones", json=zone_feature(square(0.12, 52.2)))
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"


def test_no_token_no_api(app: FastAPI) -> None:
    client = TestClient(app)
    r = client.get("/api/v1/zones")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "not_authenticated"


def test_a_wrong_password_gets_no_token(officer: TestClient, users: dict[Role, str]) -> None:
    r = officer.post(
        "/api/v1/auth/token", data={"username": "test-officer", "password": "nope-nope"}
    )
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "not_authenticated"


def test_an_oversized_body_is_refused_before_parsing(officer: TestClient) -> None:
    huge = b"[" + b"0," * (9 * 1024 * 1024) + b"0]"
    r = officer.post("/api/v1/zones", content=huge, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "body_too_large"


def test_the_api_docs_load_swagger_ui_from_this_service(app: FastAPI) -> None:
    client = TestClient(app)
    page = client.get("/docs").text
    assert "/static/npm/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn.jsdelivr.net" not in page
    assert client.get("/static/npm/swagger-ui-dist/swagger-ui-bundle.js").status_code == 200
    assert client.get("/openapi.json").json()["paths"]["/api/v1/sightings/check"]


@pytest.mark.parametrize(
    ("geometry", "field"),
    [
        (None, "geometry"),
        ({"type": "Polygon", "coordinates": "0.1 52.2"}, "geometry.coordinates"),
        ({"type": "Polygon", "coordinates": [[["0.1", "52.2"]] * 4]}, "geometry.coordinates[0][0]"),
        (
            {"type": "Polygon", "coordinates": [[[0.1, 52.2], [0.2, 52.2], [0.1, 52.2]]]},
            "geometry.coordinates[0]",
        ),
        ({"type": "MultiPolygon", "coordinates": []}, "geometry.coordinates"),
        ({"type": "Polygon"}, "geometry.coordinates"),
    ],
)
def test_malformed_geojson_is_refused_naming_the_place(
    officer: TestClient, geometry: Any, field: str
) -> None:
    r = officer.post("/api/v1/zones", json=zone_feature(geometry))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"].startswith(field)


def test_nan_inside_a_ring_is_refused(officer: TestClient) -> None:
    raw = (
        '{"type": "Feature", "properties": {"name": "n", "category": "park"}, "geometry": '
        '{"type": "Polygon", "coordinates": '
        "[[[0.1, 52.2], [NaN, 52.2], [0.2, 52.3], [0.1, 52.2]]]}}"
    )
    r = officer.post("/api/v1/zones", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"] == {
        "code": "invalid_coordinates",
        "message": "longitude nan is out of range or not finite",
        "field": "geometry.coordinates[0][1]",
    }
