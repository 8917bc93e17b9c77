"""What the zone editor asks of the API: a dry run of storing a zone, and a condition's buffer
drawn as it is typed."""

from __future__ import annotations

from fastapi.testclient import TestClient

import shapely
from pyproj import Geod
from shapely.geometry import shape
from shapely.ops import nearest_points

from tests.service.conftest import square, zone_feature

BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[0.12, 52.2], [0.13, 52.21], [0.13, 52.2], [0.12, 52.21], [0.12, 52.2]]],
}
GEOD = Geod(ellps="WGS84")


def stored(client: TestClient) -> list[dict[str, object]]:
    features: list[dict[str, object]] = client.get("/api/v1/zones").json()["features"]
    return features


def test_a_valid_zone_is_answered_as_it_would_be_stored_and_nothing_is_stored(
    officer: TestClient,
) -> None:
    feature = zone_feature(square(0.12, 52.2), name="Drawn by hand", category="drawn")
    feature["properties"]["drawing"] = {"shape": "rectangle"}
    r = officer.post("/api/v1/zones/validate", json=feature)
    assert r.status_code == 200, r.text
    assert r.json()["valid"] is True and r.json()["error"] is None
    answer = r.json()["feature"]
    assert shape(answer["geometry"]).equals(shape(square(0.12, 52.2)))
    assert answer["properties"]["name"] == "Drawn by hand"
    assert answer["properties"]["drawing"] == {"shape": "rectangle"}
    # 0.002 degrees square at 52.2 N: about 137 m by 222 m
    assert 29_000 < answer["properties"]["area_m2"] < 32_000
    assert "notes" not in answer["properties"]
    assert stored(officer) == []


def test_a_bow_tie_gets_the_same_error_as_storing_it_would_with_its_place(
    officer: TestClient,
) -> None:
    checked = officer.post("/api/v1/zones/validate", json=zone_feature(BOWTIE))
    created = officer.post("/api/v1/zones", json=zone_feature(BOWTIE))
    # a refused shape is the answer of a dry run, not a failed call
    assert (checked.status_code, created.status_code) == (200, 422)
    assert checked.json()["valid"] is False and checked.json()["feature"] is None
    assert checked.json()["error"] == created.json()["error"]
    error = checked.json()["error"]
    assert error["code"] == "invalid_geometry"
    assert error["location"] == [0.125, 52.205]
    assert "self-intersection" in error["message"]
    assert stored(officer) == []


def test_a_repair_is_previewed_with_its_note(officer: TestClient) -> None:
    r = officer.post("/api/v1/zones/validate", params={"repair": "true"}, json=zone_feature(BOWTIE))
    assert r.status_code == 200, r.text
    assert r.json()["valid"] is True
    assert r.json()["feature"]["geometry"]["type"] == "MultiPolygon"
    assert "repaired self-intersection" in r.json()["feature"]["properties"]["notes"][0]
    assert stored(officer) == []


def test_the_dry_run_refuses_a_malformed_request_as_storing_does(officer: TestClient) -> None:
    nameless = zone_feature(square(0.12, 52.2), name="")
    circle = zone_feature(square(0.12, 52.2))
    circle["properties"]["drawing"] = {"shape": "circle", "center": [0.12, 52.2]}
    for feature in (nameless, circle):
        checked = officer.post("/api/v1/zones/validate", json=feature)
        assert checked.status_code == 422
        assert checked.json() == officer.post("/api/v1/zones", json=feature).json()


def test_only_those_who_may_store_zones_may_dry_run_them(control: TestClient) -> None:
    r = control.post("/api/v1/zones/validate", json=zone_feature(square(0.12, 52.2)))
    assert r.status_code == 403


def test_a_buffer_is_grown_in_metres(control: TestClient) -> None:
    zone = square(0.12, 52.2)
    r = control.post("/api/v1/zones/buffer", json={"buffer_m": 100, "geometries": [zone]})
    assert r.status_code == 200, r.text
    [grown] = r.json()["features"]
    assert grown["properties"] == {"index": 0, "buffer_m": 100}
    outline = shapely.get_coordinates(shape(grown["geometry"]).exterior)
    # every point of the grown outline lies 100 m from the square, on the Earth
    inner = shape(zone)
    for lon, lat in outline[::7]:
        near = nearest_points(inner.exterior, shapely.Point(lon, lat))[0]
        _, _, metres = GEOD.inv(near.x, near.y, lon, lat)
        assert abs(metres - 100) < 1.5, (lon, lat, metres)


def test_a_buffer_repairs_a_bow_tie_and_skips_what_is_not_a_zone(officer: TestClient) -> None:
    point = {"type": "Point", "coordinates": [0.12, 52.2]}
    r = officer.post(
        "/api/v1/zones/buffer", json={"buffer_m": 50, "geometries": [point, BOWTIE, point]}
    )
    assert r.status_code == 200, r.text
    assert [f["properties"]["index"] for f in r.json()["features"]] == [1]
    assert len(r.json()["skipped"]) == 2
    assert "geometries[0]" in r.json()["skipped"][0]
    assert stored(officer) == []


def test_a_buffer_must_be_positive(officer: TestClient) -> None:
    r = officer.post(
        "/api/v1/zones/buffer", json={"buffer_m": 0, "geometries": [square(0.12, 52.2)]}
    )
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "buffer_m"
