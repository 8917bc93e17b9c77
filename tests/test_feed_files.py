"""GPX, NDJSON and CSV files read into fixes, each bad record refused alone."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from tests.feed_files import BILLION_LAUGHS, OSMAND, TRACCAR_EXPORT, TRACCAR_GPX_BUILDER, XXE
from zones.errors import ImportFailed
from zones.feeds.gpx import read_gpx
from zones.feeds.tabular import read_csv, read_ndjson


def test_traccars_gpx_1_0_export_without_a_namespace() -> None:
    [record] = read_gpx(TRACCAR_EXPORT, device="TAG-G", hdop_m=9)
    fix = record.fix
    assert record.where == "trk[0].trkseg[0].trkpt[0]"
    assert fix is not None
    assert (fix.lon, fix.lat, fix.altitude_m) == (20.25, 10.5, 30.75)
    assert fix.time == datetime(1970, 1, 1, tzinfo=UTC)
    assert fix.accuracy_m is None  # no hdop: accuracy unknown, not zero
    assert (fix.device, fix.protocol) == ("TAG-G", "gpx")


def test_traccars_gpx_1_1_with_offsets_course_and_speed() -> None:
    first, second = read_gpx(TRACCAR_GPX_BUILDER, device="TAG-G", hdop_m=9)
    assert first.fix is not None and second.fix is not None
    assert first.fix.time == datetime(2026, 11, 28, 14, 3, tzinfo=UTC)  # +01:00 in the file
    assert (first.fix.bearing_deg, first.fix.speed_mps) == (90.0, 1.5)
    assert second.where == "trk[0].trkseg[0].trkpt[1]"


def test_osmand_hdop_becomes_metres_and_a_point_without_time_is_refused_alone() -> None:
    wpt, good, timeless = read_gpx(OSMAND, device="TAG-G", hdop_m=9)
    assert wpt.where == "wpt[0]" and wpt.fix is not None
    assert wpt.fix.time == datetime(2023, 6, 7, 12, 31, 35, tzinfo=UTC)
    assert good.fix is not None
    assert good.fix.accuracy_m == 27.0  # hdop 3 x 9 m
    assert (good.fix.bearing_deg, good.fix.speed_mps) == (273.0, 5.02)  # from extensions
    assert timeless.fix is None and timeless.problem is not None
    assert timeless.where == "trk[0].trkseg[0].trkpt[1]"
    assert (timeless.problem.index, timeless.problem.field) == (2, "time")
    assert "no time" in timeless.problem.message


def test_the_hdop_factor_is_the_callers() -> None:
    _, good, _ = read_gpx(OSMAND, device="TAG-G", hdop_m=1)
    assert good.fix is not None and good.fix.accuracy_m == 3.0


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "xxe"])
def test_entities_are_refused_at_once(payload: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(ImportFailed, match="DTD or entities") as caught:
        read_gpx(payload, device="TAG-G", hdop_m=9)
    assert time.perf_counter() - started < 0.5
    assert "root:" not in caught.value.message  # nothing of /etc/passwd comes back


def test_not_gpx_too_many_points_and_broken_xml_refuse_the_file() -> None:
    with pytest.raises(ImportFailed, match="not GPX"):
        read_gpx(b'<kml xmlns="http://www.opengis.net/kml/2.2"/>', device="d", hdop_m=9)
    with pytest.raises(ImportFailed, match="not well-formed"):
        read_gpx(TRACCAR_EXPORT[:-10], device="d", hdop_m=9)
    with pytest.raises(ImportFailed, match="more than 1 records"):
        read_gpx(TRACCAR_GPX_BUILDER, device="d", hdop_m=9, max_records=1)


def test_a_gpx_time_from_before_1900_is_refused() -> None:
    [record] = read_gpx(TRACCAR_EXPORT.replace(b"1970-01-01", b"0001-01-01"), device="d", hdop_m=9)
    assert record.problem is not None and "year" in record.problem.message


NDJSON = (
    b'{"device_id": "TAG-N", "time": "2026-11-28T14:03:00+00:00", "lon": 0.1218, '
    b'"lat": 52.2053, "accuracy_m": 12}\n'
    b"\n"
    b'{"device_id": "TAG-N", "time": "2026-11-28T14:04:00", "lon": 0.1219, "lat": 52.2054}\n'
    b"not json\n"
    b'{"device_id": "TAG-N", "time": "2026-11-28T14:05:00Z", "lon": 0.122, "lat": 52.2055, '
    b'"subject_id": 3}\n'
    b'{"device_id": "TAG-N", "time": "2026-11-28T14:06:00Z", "lon": 0.122, "lat": 52.2055, '
    b'"valid": false, "id": "fix-6", "battery_pct": 40}\n'
)


def test_ndjson_refuses_each_bad_line_alone_with_its_number() -> None:
    records = read_ndjson(NDJSON)
    assert [r.where for r in records] == ["line 1", "line 3", "line 4", "line 5", "line 6"]
    first, naive, garbage, unknown, flagged = records
    assert first.fix is not None and first.fix.accuracy_m == 12.0
    assert naive.problem is not None and naive.problem.field == "time"
    assert "UTC offset" in naive.problem.message
    assert garbage.problem is not None and garbage.problem.message == "the line is not JSON"
    assert unknown.problem is not None and unknown.problem.field == "subject_id"
    assert flagged.fix is not None
    assert (flagged.fix.valid, flagged.fix.client_id, flagged.fix.battery_pct) == (
        False,
        "fix-6",
        40.0,
    )


CSV = (
    b"\xef\xbb\xbfdevice_id,time,lon,lat,accuracy_m\r\n"  # a spreadsheet's byte-order mark
    b"TAG-C,2026-11-28T14:03:00+00:00,0.1218,52.2053,12\r\n"
    b"TAG-C,2026-11-28T14:04:00+00:00,east,52.2054,\r\n"
    b"TAG-C,2026-11-28T14:05:00+00:00,0.1220\r\n"
    b'"TAG-C",2026-11-28T14:06:00Z,0.1221,52.2056,\r\n'
)


def test_csv_refuses_each_bad_row_alone_with_its_line_number() -> None:
    good, word, short, quoted = read_csv(CSV)
    assert good.where == "line 2" and good.fix is not None and good.fix.accuracy_m == 12
    assert word.where == "line 3" and word.problem is not None and word.problem.field == "lon"
    assert short.where == "line 4" and short.problem is not None
    assert "2 cells" not in short.problem.message and "3 cells" in short.problem.message
    assert quoted.fix is not None and quoted.fix.accuracy_m is None  # empty cell: not given


def test_a_csv_header_the_service_cannot_read_refuses_the_file() -> None:
    with pytest.raises(ImportFailed, match="unknown column 'speed'"):
        read_csv(b"device_id,time,lon,lat,speed\nTAG,2026-11-28T14:03:00Z,0.1,52,3\n")
    with pytest.raises(ImportFailed, match="no lat column"):
        read_csv(b"device_id,time,lon\n")
    with pytest.raises(ImportFailed, match="not UTF-8"):
        read_csv(b"device_id,time,lon,lat\n\xff\xfe")
