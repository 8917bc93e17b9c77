"""Loading zone files: real OpenStreetMap parks, and small shapes round-tripped through formats."""

from __future__ import annotations

import json
import zipfile
from collections import Counter
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pytest

import geopandas as gpd
import pyogrio
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from zones.categories import parse_category_map
from zones.crs import BRITISH_NATIONAL_GRID, project
from zones.errors import ImportFailed
from zones.importing import ZoneImport, read_zones

GEOD = Geod(ellps="WGS84")
AUCKLAND_UTM = 32760  # WGS 84 / UTM zone 60S
# Cambridge Guildhall on the British National Grid, and roughly where that is in lon/lat.
GUILDHALL_E, GUILDHALL_N = 545_000.0, 258_300.0
GUILDHALL_LON, GUILDHALL_LAT = 0.119, 52.205
# One square metre of the British National Grid near the Guildhall, in square metres of the
# WGS 84 ellipsoid: measured on a 1 km grid square, a hole-free ring Geod needs no help with.
_KM_SQUARE = gpd.GeoSeries([box(545_000, 258_000, 546_000, 259_000)], crs=27700).to_crs(4326)
GROUND_PER_GRID_M2 = abs(GEOD.geometry_area_perimeter(_KM_SQUARE.iloc[0])[0]) / 1e6


# --- the real data: OpenStreetMap green spaces of Norwich, with Auckland mixed in ----------


@pytest.fixture(scope="module")
def parks(shared_data: Path) -> ZoneImport:
    return read_zones(shared_data / "norwich-uk-osm-green-spaces" / "parks.geojson")


def in_auckland(zones: gpd.GeoDataFrame) -> np.ndarray:
    return np.asarray(zones.geometry.bounds["maxy"] < 0, dtype=bool)


def test_every_osm_polygon_is_kept_912_in_norwich_and_202_in_auckland(parks: ZoneImport) -> None:
    zones = parks.zones
    assert len(zones) + len(parks.skipped) == 1114
    assert parks.skipped == [] and parks.repaired == []  # all valid Polygons in the export
    assert zones.crs.to_epsg() == 4326
    assert list(zones.columns) == ["name", "category", "source", "source_id", "area_m2", "geometry"]
    assert set(zones.geom_type) == {"Polygon"}
    assert (~in_auckland(zones)).sum() == 912
    assert in_auckland(zones).sum() == 202
    norwich = zones[~in_auckland(zones)].total_bounds
    assert norwich == pytest.approx([1.12973, 52.56667, 1.47072, 52.72165], abs=1e-5)


def test_categories_come_from_the_osm_tags(parks: ZoneImport) -> None:
    norwich = parks.zones[~in_auckland(parks.zones)]
    # SOURCE.txt counts each feature by its leisure tag, else its landuse tag
    assert Counter(norwich["category"]) == {
        "sports_pitch": 225,  # leisure=pitch
        "green_space": 152,  # landuse=grass
        "farmland": 129,
        "meadow": 119,
        "garden": 104,
        "playground": 81,
        "recreation_ground": 34,  # landuse=recreation_ground 24 + leisure=recreation_ground 10
        "farmyard": 20,
        "park": 17,
        "scrub": 17,  # natural=scrub, nothing else
        "golf_course": 5,
        "grassland": 4,  # natural=grassland
        "nature_reserve": 2,
        "vineyard": 2,
        "horse_riding": 1,  # leisure=horse_riding on landuse=farmland: leisure wins
    }
    bawburgh = parks.zones.set_index("name").loc["Bawburgh Golf Course"]
    assert bawburgh["category"] == "golf_course"  # its type=multipolygon is not a category


def test_names_and_sources_name_the_osm_way(parks: ZoneImport) -> None:
    zones = parks.zones.set_index("source")
    first = zones.loc["parks.geojson#way/32316779"]  # landuse=recreation_ground, no name
    assert (first["name"], first["category"], first["source_id"]) == (
        "recreation_ground way/32316779",
        "recreation_ground",
        "way/32316779",
    )
    garden = parks.zones[parks.zones["name"] == "Grapes Hill Community Garden"].iloc[0]
    assert garden["category"] == "garden"
    assert parks.zones["source"].is_unique
    assert parks.zones["name"].notna().all()


def test_metric_areas_match_geodesic_areas_in_norwich_and_auckland(parks: ZoneImport) -> None:
    zones = parks.zones
    geodesic = np.array([abs(GEOD.geometry_area_perimeter(g)[0]) for g in zones.geometry])
    error = np.abs(zones["area_m2"].to_numpy() / geodesic - 1)
    measurable = geodesic > 100.0
    assert measurable.sum() > 1000
    worst = zones.loc[measurable, "source"].to_numpy()[np.argmax(error[measurable])]
    assert error[measurable].max() < 0.005, f"worst: {worst}"


def test_auckland_is_measured_on_the_ellipsoid_not_in_a_grid(parks: ZoneImport) -> None:
    zones = parks.zones
    auckland = zones[in_auckland(zones)]
    geodesic = [abs(GEOD.geometry_area_perimeter(g)[0]) for g in auckland.geometry]
    np.testing.assert_allclose(auckland["area_m2"], geodesic, rtol=1e-9)

    # Auckland lies 3 degrees from the British grid's antimeridian: measuring it there would be
    # off by ~0.1 %, and even its own UTM zone 60S by ~0.01 %; the ellipsoid is the truth.
    park = auckland.set_index("name").loc["Michael Joseph Savage Memorial Park"]
    truth = abs(GEOD.geometry_area_perimeter(park.geometry)[0])
    grid = shapely.area(project([park.geometry], BRITISH_NATIONAL_GRID))[0]
    utm = shapely.area(project([park.geometry], AUCKLAND_UTM))[0]
    assert park["area_m2"] == pytest.approx(truth, rel=1e-12)
    assert abs(grid / truth - 1) > 8e-4 and abs(utm / truth - 1) > 5e-5


# --- small shapes round-tripped through the file formats ------------------------------------


def around_guildhall() -> gpd.GeoDataFrame:
    """Five features drawn on the British National Grid near Cambridge Guildhall."""
    e, n = GUILDHALL_E, GUILDHALL_N
    square = box(e - 50, n - 50, e + 50, n + 50)
    fountain = box(e - 10, n - 10, e + 10, n + 10)
    return gpd.GeoDataFrame(
        {
            "name": ["Market square", "Two pitches", "Bow tie", "Bench", "Footpath"],
            "kind": ["Square", "Pitch", "Garden", "Bench", "Path"],
        },
        geometry=[
            Polygon(square.exterior.coords, [fountain.exterior.coords]),  # 100 m, 20 m hole
            MultiPolygon([box(e + 200, n, e + 250, n + 50), box(e + 300, n, e + 350, n + 50)]),
            Polygon([(e - 300, n), (e - 260, n + 40), (e - 260, n), (e - 300, n + 40)]),
            Point(e, n),
            LineString([(e, n), (e + 100, n + 100)]),
        ],
        crs=BRITISH_NATIONAL_GRID,
    )


def kml_text(shapes: gpd.GeoDataFrame) -> str:
    """A KML document as Google Earth writes one: a Folder of Placemarks, with altitudes."""

    def coordinates(coords: object) -> str:
        text = " ".join(f"{x:.9f},{y:.9f},0" for x, y in np.asarray(coords)[:, :2])
        return f"<coordinates>{text}</coordinates>"

    def ring(kind: str, coords: object) -> str:
        return f"<{kind}><LinearRing>{coordinates(coords)}</LinearRing></{kind}>"

    def geometry(g: BaseGeometry) -> str:
        if isinstance(g, Polygon):
            holes = "".join(ring("innerBoundaryIs", r.coords) for r in g.interiors)
            return f"<Polygon>{ring('outerBoundaryIs', g.exterior.coords)}{holes}</Polygon>"
        if isinstance(g, MultiPolygon):
            return f"<MultiGeometry>{''.join(geometry(p) for p in g.geoms)}</MultiGeometry>"
        return f"<{g.geom_type}>{coordinates(g.coords)}</{g.geom_type}>"

    placemarks = "".join(
        f'<Placemark id="pm{i}"><name>{escape(row["name"])}</name><ExtendedData>'
        f'<Data name="kind"><value>{escape(row["kind"])}</value></Data></ExtendedData>'
        f"{geometry(row.geometry)}</Placemark>"
        for i, row in shapes.to_crs(4326).iterrows()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">'
        f"<Document><name>zones</name><Folder><name>Market</name>{placemarks}</Folder></Document></kml>"
    )


def write_kml(shapes: gpd.GeoDataFrame, path: Path) -> None:
    """Through GDAL's KML driver when it can write, else by hand."""
    # LIBKML refuses to write the self-intersecting bow-tie; the plain KML driver does not check
    if "KML" in pyogrio.list_drivers(write=True):
        shapes.to_crs(4326).to_file(path, driver="KML")
    else:
        path.write_text(kml_text(shapes), encoding="utf-8")


def write_as(fmt: str, shapes: gpd.GeoDataFrame, folder: Path) -> Path:
    if fmt == "GeoPackage":
        shapes.to_file(folder / "market.gpkg", layer="market", driver="GPKG")
        return folder / "market.gpkg"
    if fmt == "Shapefile":  # one geometry type per shapefile: the three polygons
        shapes[shapes.geom_type.isin(["Polygon", "MultiPolygon"])].to_file(folder / "market.shp")
        return folder / "market.shp"
    if fmt == "GeoJSON":
        shapes.to_crs(4326).to_file(folder / "market.geojson", driver="GeoJSON")
        return folder / "market.geojson"
    write_kml(shapes, folder / "market.kml")
    return folder / "market.kml"


def guildhall_lon_lat() -> tuple[float, float]:
    lon, lat = Transformer.from_crs(BRITISH_NATIONAL_GRID, 4326, always_xy=True).transform(
        GUILDHALL_E, GUILDHALL_N
    )
    return lon, lat


@pytest.mark.parametrize("fmt", ["GeoPackage", "Shapefile", "GeoJSON", "KML"])
def test_round_trip_through_format(fmt: str, tmp_path: Path) -> None:
    path = write_as(fmt, around_guildhall(), tmp_path)
    result = read_zones(path, category_field="kind", category_map={"pitch": "sports_pitch"})
    zones = result.zones.set_index("name")
    assert zones.crs.to_epsg() == 4326
    assert list(zones.index) == ["Market square", "Two pitches", "Bow tie"]

    market = zones.loc["Market square"]
    lon, lat = market.geometry.centroid.coords[0]  # the square is centred on the Guildhall
    assert (lon, lat) == pytest.approx(guildhall_lon_lat(), abs=1e-7)
    assert (lon, lat) == pytest.approx((GUILDHALL_LON, GUILDHALL_LAT), abs=0.003)
    assert len(market.geometry.interiors) == 1
    # Drawn in grid metres; areas are on the ellipsoid, where a grid square metre at Cambridge
    # is 0.02 % more (the grid's scale factor there and the Airy ellipsoid's smaller size).
    assert abs(GROUND_PER_GRID_M2 - 1.0002) < 1e-4
    assert market["area_m2"] == pytest.approx(GROUND_PER_GRID_M2 * (100 * 100 - 20 * 20), rel=1e-5)

    pitches = zones.loc["Two pitches"]
    assert pitches.geometry.geom_type == "MultiPolygon"
    assert pitches["area_m2"] == pytest.approx(GROUND_PER_GRID_M2 * 2 * 50 * 50, rel=1e-5)

    assert zones["category"].to_dict() == {
        "Market square": "square",  # not in the map: kept, lower-cased
        "Two pitches": "sports_pitch",
        "Bow tie": "garden",
    }

    bow_tie = zones.loc["Bow tie"]
    assert bow_tie.geometry.geom_type == "MultiPolygon" and bow_tie.geometry.is_valid
    assert bow_tie["area_m2"] == pytest.approx(
        GROUND_PER_GRID_M2 * 2 * 40 * 20 / 2, rel=1e-5
    )  # two triangles
    [note] = result.repaired
    assert note.startswith(
        f'{path.name}#{bow_tie["source_id"]} "Bow tie": repaired self-intersection'
    )
    assert "now a MultiPolygon of 2 part(s)" in note

    if fmt == "Shapefile":
        assert result.skipped == []
    else:
        bench, footpath = result.skipped
        assert '"Bench": is a Point, not a polygon' in bench
        assert '"Footpath": is a LineString, not a polygon' in footpath
        assert bench.startswith(path.name + "#")


def test_hand_written_google_earth_kml(tmp_path: Path) -> None:
    path = tmp_path / "drawn.kml"
    path.write_text(kml_text(around_guildhall()), encoding="utf-8")
    result = read_zones(path, category_field="kind", category_map={"PITCH": "sports_pitch"})
    zones = result.zones.set_index("name")
    assert zones["source"].to_dict() == {
        "Market square": "drawn.kml#pm0",
        "Two pitches": "drawn.kml#pm1",
        "Bow tie": "drawn.kml#pm2",
    }
    assert not shapely.has_z(zones.geometry.to_numpy()).any()  # altitudes dropped
    assert zones.loc["Two pitches", "category"] == "sports_pitch"
    assert zones.loc["Market square"].geometry.centroid.coords[0] == pytest.approx(
        guildhall_lon_lat(), abs=1e-7
    )
    assert len(result.repaired) == 1 and len(result.skipped) == 2


def test_default_categories_from_common_columns(tmp_path: Path) -> None:
    path = tmp_path / "places.geojson"
    cell = [[[0.1, 52.2], [0.101, 52.2], [0.101, 52.201], [0.1, 52.201], [0.1, 52.2]]]
    rows = [
        {"name": "Rec", "leisure": "pitch", "landuse": "recreation_ground"},
        {"title": "Green", "landuse": "grass"},
        {"NAME": "St Mary's", "amenity": "kindergarten"},
        {"amenity": "school", "type": "multipolygon"},
        {"type": "multipolygon"},
        {"fclass": "Allotments"},
    ]
    features = [
        {
            "type": "Feature",
            "id": f"f{i}",
            "properties": props,
            "geometry": {"type": "Polygon", "coordinates": cell},
        }
        for i, props in enumerate(rows)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    zones = read_zones(path, category_map={"grass": "lawn"}, default_category="unknown").zones
    assert list(zones["category"]) == [
        "sports_pitch",  # leisure before landuse
        "lawn",  # the category map overrides the default table
        "nursery",
        "school",
        "unknown",  # type=multipolygon says how it is drawn, not what it is
        "allotments",
    ]
    assert list(zones["name"]) == [
        "Rec",
        "Green",
        "St Mary's",
        "school f3",
        "unknown f4",
        "allotments f5",
    ]
    assert list(zones["source"]) == [f"places.geojson#f{i}" for i in range(6)]


# --- coordinates that cannot be what the file says --------------------------------------------


def geojson_ring(path: Path, ring: list[list[float]]) -> Path:
    feature = {
        "type": "Feature",
        "properties": {"name": "Market"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


def test_geojson_in_grid_metres_without_a_crs_is_refused(tmp_path: Path) -> None:
    e, n = GUILDHALL_E, GUILDHALL_N
    ring = [[e, n], [e + 50, n], [e + 50, n + 50], [e, n + 50], [e, n]]
    path = geojson_ring(tmp_path / "metres.geojson", ring)
    with pytest.raises(
        ImportFailed, match=r"metres\.geojson.*out of longitude/latitude range.*source_crs"
    ):
        read_zones(path)
    zones = read_zones(path, source_crs="EPSG:27700").zones
    assert zones.geometry.iloc[0].exterior.coords[0] == pytest.approx(guildhall_lon_lat(), abs=1e-7)


def test_latitude_first_geojson_is_refused(tmp_path: Path) -> None:
    ring = [[52.2, 0.1], [52.2, 0.101], [52.201, 0.101], [52.201, 0.1], [52.2, 0.1]]
    with pytest.raises(ImportFailed, match="latitude, longitude"):
        read_zones(geojson_ring(tmp_path / "swapped.geojson", ring))


# --- files that cannot be read ------------------------------------------------------------------


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "zones.geojson"
    path.write_text("these are not the zones you are looking for")
    with pytest.raises(
        ImportFailed, match=r"zones\.geojson: cannot be read \(not a GeoJSON, GeoPackage"
    ):
        read_zones(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "zones.gpkg"
    path.touch()
    with pytest.raises(ImportFailed, match=r"zones\.gpkg: file is empty \(0 bytes\)"):
        read_zones(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match=r"nowhere\.shp: file not found"):
        read_zones(tmp_path / "nowhere.shp")


def test_feature_collection_without_features(tmp_path: Path) -> None:
    path = tmp_path / "none.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(ImportFailed, match=r"none\.geojson: holds no features"):
        read_zones(path)


def test_only_points_and_lines(tmp_path: Path) -> None:
    shapes = around_guildhall().iloc[3:]
    shapes.to_file(tmp_path / "furniture.gpkg")
    with pytest.raises(
        ImportFailed, match=r"furniture\.gpkg: no usable polygon among 2 feature\(s\).*Point"
    ):
        read_zones(tmp_path / "furniture.gpkg")


def test_other_formats_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "zones.csv"
    path.write_text("name,wkt\nMarket,POINT (0 0)\n")
    with pytest.raises(ImportFailed, match=r"zones\.csv: CSV files are not supported"):
        read_zones(path)


def test_shapefile_without_prj_needs_source_crs(tmp_path: Path) -> None:
    around_guildhall().iloc[:1].to_file(tmp_path / "market.shp")
    (tmp_path / "market.prj").unlink()
    with pytest.raises(
        ImportFailed, match=r"market\.shp does not say which coordinate.*source_crs"
    ):
        read_zones(tmp_path / "market.shp")
    zones = read_zones(tmp_path / "market.shp", source_crs=27700).zones
    assert zones.geometry.iloc[0].centroid.coords[0] == pytest.approx(guildhall_lon_lat(), abs=1e-7)


def test_several_layers_need_a_choice(tmp_path: Path) -> None:
    path = tmp_path / "council.gpkg"
    around_guildhall().to_file(path, layer="parks")
    around_guildhall().iloc[:1].to_file(path, layer="schools")
    with pytest.raises(
        ImportFailed, match=r"council\.gpkg holds 2 layers \(parks, schools\)"
    ) as raised:
        read_zones(path)
    assert raised.value.field == "layer"
    assert len(read_zones(path, layer="schools").zones) == 1


def test_named_field_must_exist(tmp_path: Path) -> None:
    path = write_as("GeoPackage", around_guildhall(), tmp_path)
    with pytest.raises(ImportFailed, match="has no field 'zone_type'; its fields are name, kind"):
        read_zones(path, category_field="zone_type")


def test_zipped_shapefile(tmp_path: Path) -> None:
    write_as("Shapefile", around_guildhall(), tmp_path)
    with zipfile.ZipFile(tmp_path / "market.zip", "w") as archive:
        for part in tmp_path.glob("market.*"):
            if part.suffix != ".zip":
                archive.write(part, part.name)
    result = read_zones(tmp_path / "market.zip")
    assert list(result.zones["source"]) == ["market.zip#0", "market.zip#1", "market.zip#2"]


# --- category map arguments ---------------------------------------------------------------------


def test_parse_category_map() -> None:
    assert parse_category_map(["pitch=sports_pitch", " Grass = green_space "]) == {
        "pitch": "sports_pitch",
        "grass": "green_space",
    }
    assert parse_category_map([]) == {}


@pytest.mark.parametrize("item", ["pitch", "=park", "pitch=", "pitch sports_pitch"])
def test_parse_category_map_rejects_malformed_items(item: str) -> None:
    with pytest.raises(ImportFailed, match="must look like value=category"):
        parse_category_map([item])


def test_parse_category_map_rejects_a_value_mapped_twice() -> None:
    with pytest.raises(ImportFailed, match="'Pitch' is mapped to both 'sports_pitch' and 'park'"):
        parse_category_map(["pitch=sports_pitch", "Pitch=park"])


def test_a_file_zone_across_180_is_split_and_a_polar_one_skipped(tmp_path: Path) -> None:
    fiji = Polygon([(179.5, -17.0), (-179.5, -17.0), (-179.5, -16.0), (179.5, -16.0)])
    polar = box(10.0, 84.2, 11.0, 84.8)
    path = tmp_path / "far.geojson"
    gpd.GeoDataFrame({"name": ["Fiji", "Polar"]}, geometry=[fiji, polar], crs=4326).to_file(path)
    result = read_zones(path)
    [zone] = result.zones.itertuples()
    assert zone.name == "Fiji" and zone.geometry.geom_type == "MultiPolygon"
    assert zone.geometry.bounds == (-180.0, -17.0, 180.0, -16.0)
    assert zone.area_m2 == pytest.approx(1.18e10, rel=0.01)  # 1 x 1 degree at 16.5 S, not the band
    assert "crossing longitude 180" in result.repaired[0]
    assert "polar zones are not supported" in result.skipped[0]


def test_a_shape_over_the_size_limits_is_skipped_and_the_rest_kept(tmp_path: Path) -> None:
    cell = [[0.1, 52.2], [0.101, 52.2], [0.101, 52.201], [0.1, 52.201], [0.1, 52.2]]
    islands = [[[[x + 0.002 * i, y] for x, y in cell]] for i in range(5_001)]
    features = [
        {"type": "Feature", "id": "many", "properties": {"name": "Islands"},
         "geometry": {"type": "MultiPolygon", "coordinates": islands}},
        {"type": "Feature", "id": "one", "properties": {"name": "Island"},
         "geometry": {"type": "Polygon", "coordinates": [cell]}},
    ]  # fmt: skip
    path = tmp_path / "islands.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    result = read_zones(path)
    assert list(result.zones["name"]) == ["Island"]
    assert result.skipped == [
        'islands.geojson#many "Islands": it has 5,001 parts; at most 5,000 are accepted'
    ]
