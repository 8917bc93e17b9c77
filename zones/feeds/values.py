"""Reading the loosely typed values trackers send: numbers, flags and times, each refused
with the field it came in."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime

from zones.errors import InvalidObservation

SECONDS_UP_TO = 2**31 - 1  # Traccar's rule: a Unix time below this is seconds, else ms
KNOT_MPS = 1852 / 3600  # one knot (a nautical mile an hour) in metres a second


def number(value: object, field: str) -> float | None:
    """A finite number from a JSON number or a decimal string; None for null or ""."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidObservation(f"{field} must be a number, not true/false", field=field)
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise InvalidObservation(f"{field} must be a number", field=field) from None
    if not isinstance(value, int | float):
        raise InvalidObservation(f"{field} must be a number", field=field)
    try:
        result = float(value)
    except OverflowError:  # a JSON integer of hundreds of digits
        raise InvalidObservation(f"{field} is far too large a number", field=field) from None
    if not math.isfinite(result):
        raise InvalidObservation(f"{field} must be a finite number", field=field)
    return result


def required(value: object, field: str) -> float:
    result = number(value, field)
    if result is None:
        raise InvalidObservation(f"{field} is required", field=field)
    return result


def flag(value: object, field: str) -> bool:
    """``true``/``false`` (any case), ``1``/``0``, or a JSON boolean."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise InvalidObservation(f"{field} must be true or false", field=field)


def unix_time(value: float, field: str) -> datetime:
    """A Unix time in seconds, or in milliseconds when too large for seconds (as Traccar
    reads OsmAnd's ``timestamp``)."""
    seconds = value if value < SECONDS_UP_TO else value / 1000
    if seconds <= 0:
        raise InvalidObservation(f"{field} must be a time after 1970", field=field)
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidObservation(f"{field} {value} is not a time", field=field) from None


def iso_time(value: object, field: str) -> datetime:
    """An ISO 8601 instant; one without an offset is taken as UTC (as Traccar does)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidObservation(f"{field} must be an ISO 8601 time", field=field)
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidObservation(
            f"{field} {value[:40]!r} is not an ISO 8601 time", field=field
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def identifier(value: object, field: str, longest: int = 100) -> str:
    """A device identifier as a tracker sends it: text of 1 to ``longest`` characters."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise InvalidObservation("the device id is missing", field=field)
    text = value.strip()
    if len(text) > longest or any(ord(c) < 32 for c in text):
        raise InvalidObservation(
            f"the device id is not 1 to {longest} printable characters", field=field
        )
    return text


def json_object(payload: bytes | str | Mapping[str, object], what: str) -> Mapping[str, object]:
    """A body that must be one JSON object (``what`` names it in the refusal)."""
    if isinstance(payload, bytes | str):
        try:
            payload = json.loads(payload)
        except (ValueError, RecursionError):
            raise InvalidObservation(f"{what} is not JSON", field="body") from None
    if not isinstance(payload, Mapping):
        raise InvalidObservation(f"{what} must be a JSON object", field="body")
    return payload
