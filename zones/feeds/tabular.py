"""Fixes uploaded as NDJSON (one JSON object a line) or CSV (a header row, then one fix a
row), with the JSON batch's field names. Each line is read alone: a bad one is refused with
its line number and reason, and the others are kept.

Fields (CSV columns), in any order:

``device_id``, ``time``, ``lon``, ``lat``
    required: the registered device, an ISO 8601 instant with a UTC offset, WGS 84 degrees
``accuracy_m``, ``speed_mps``, ``bearing_deg``, ``altitude_m``, ``battery_pct``
    optional numbers (an empty CSV cell is "not given")
``valid``
    optional: ``false`` (or ``0``) for a fix the device itself marked invalid
``id``
    optional: the client's own id of the fix, so a resend is known by it
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping

from zones.errors import ImportFailed, InvalidObservation
from zones.feeds.fix import FeedFix
from zones.feeds.records import (
    MAX_RECORDS,
    Record,
    accuracy,
    check_count,
    instant,
    refused,
)
from zones.feeds.values import flag, identifier, number, required

REQUIRED = ("device_id", "time", "lon", "lat")
NUMBERS = ("accuracy_m", "speed_mps", "bearing_deg", "altitude_m", "battery_pct")
FIELDS = frozenset({*REQUIRED, *NUMBERS, "valid", "id"})
MAX_LINE = 4096  # characters: a fix is a hundred or so
MAX_ID = 100  # as a registered device identifier


def _client_id(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > MAX_ID or any(ord(c) < 32 or 127 <= ord(c) < 160 for c in text):
        raise InvalidObservation(f"id must be one line of 1 to {MAX_ID} characters", field="id")
    return text


def _big_int(digits: str) -> int | float:
    """JSON integers as Python reads them, except that one too long for a float is infinite
    (refused as such), never an overflow or a digit-limit error."""
    return int(digits) if len(digits) < 300 else float(digits)


def _fix(row: Mapping[str, object], protocol: str) -> FeedFix:
    given = {k: v for k, v in row.items() if v is not None and v != ""}
    unknown = sorted(set(given) - FIELDS)
    if unknown:
        raise InvalidObservation(
            f"unknown field {unknown[0][:40]!r} (fields: {', '.join(sorted(FIELDS))})",
            field=unknown[0][:40],
        )
    missing = [f for f in REQUIRED if f not in given]
    if missing:
        raise InvalidObservation(f"{missing[0]} is required", field=missing[0])
    when = given["time"]
    if not isinstance(when, str):
        raise InvalidObservation("time must be ISO 8601 text with a UTC offset", field="time")
    extra = {n: number(given[n], n) for n in NUMBERS if n in given}
    return FeedFix(
        device=identifier(given["device_id"], "device_id", MAX_ID),
        time=instant(when, "time", naive_is_utc=False),
        lon=required(given["lon"], "lon"),
        lat=required(given["lat"], "lat"),
        accuracy_m=accuracy(extra.get("accuracy_m"), "accuracy_m"),
        speed_mps=extra.get("speed_mps"),
        bearing_deg=extra.get("bearing_deg"),
        altitude_m=extra.get("altitude_m"),
        battery_pct=extra.get("battery_pct"),
        valid=flag(given["valid"], "valid") if "valid" in given else True,
        client_id=_client_id(given["id"]) if "id" in given else None,
        protocol=protocol,
    )


def _decoded(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")  # a spreadsheet's byte-order mark is not a column
    except UnicodeDecodeError as exc:
        raise ImportFailed(f"the file is not UTF-8 text (byte {exc.start})", field="file") from exc


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number from 1, line) of each line that is not blank."""
    for number_, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield number_, line


def read_ndjson(data: bytes, *, max_records: int = MAX_RECORDS) -> list[Record]:
    """Each non-blank line of an NDJSON file as a fix, or refused with its line number."""
    records: list[Record] = []
    for line_no, line in _lines(_decoded(data)):
        check_count(len(records) + 1, max_records)
        where = f"line {line_no}"
        try:
            if len(line) > MAX_LINE:
                raise InvalidObservation(
                    f"the line is longer than {MAX_LINE} characters", field="line"
                )
            try:
                row = json.loads(line, parse_int=_big_int)
            except (ValueError, RecursionError) as exc:
                raise InvalidObservation("the line is not JSON", field="line") from exc
            if not isinstance(row, dict):
                raise InvalidObservation("the line is not a JSON object", field="line")
            records.append(Record(where, fix=_fix(row, "ndjson")))
        except InvalidObservation as exc:
            records.append(refused(len(records), where, exc))
    return records


def read_csv(data: bytes, *, max_records: int = MAX_RECORDS) -> list[Record]:
    """Each row after the header as a fix, or refused with its line number.

    Raises
    ------
    ImportFailed
        No header row, a column not named above, a column named twice, or a required
        column missing: the whole file, since no row of it could be read right.
    """
    text = _decoded(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration as exc:
        raise ImportFailed(
            "the file is empty: give a header row, then fixes", field="file"
        ) from exc
    except csv.Error as exc:
        raise ImportFailed(f"the header row cannot be read ({exc})", field="file") from exc
    unknown = [h for h in header if h not in FIELDS]
    missing = [f for f in REQUIRED if f not in header]
    if unknown or missing or len(set(header)) != len(header):
        why = (
            f"unknown column {unknown[0][:40]!r}"
            if unknown
            else f"no {missing[0]} column"
            if missing
            else "a column is named twice"
        )
        raise ImportFailed(
            f"the header row is not one this service reads: {why}; columns: "
            f"{', '.join(REQUIRED)} and optionally {', '.join([*NUMBERS, 'valid', 'id'])}",
            field="file",
        )
    records: list[Record] = []
    while True:
        line_no = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            records.append(
                refused(len(records), f"line {line_no}", InvalidObservation(str(exc), field="line"))
            )
            continue
        if not any(cell.strip() for cell in row):
            continue
        check_count(len(records) + 1, max_records)
        where = f"line {line_no}"
        try:
            if len(row) != len(header):
                raise InvalidObservation(
                    f"the row has {len(row)} cells; the header has {len(header)}", field="line"
                )
            records.append(Record(where, fix=_fix(dict(zip(header, row, strict=True)), "csv")))
        except InvalidObservation as exc:
            records.append(refused(len(records), where, exc))
    return records
