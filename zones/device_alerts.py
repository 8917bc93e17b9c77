"""Alerts raised by a subject's device rather than by a stay in a zone: a loss of
communication under a clause that requires a working tag, and the tracker's own alarms.

Pure rules and words; the store and the worker (``service.device_alerts``) apply them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from zones.localtime import DEFAULT_TZ, describe_local
from zones.model import ALARM_KINDS, Alert, AlertKind, AlertStatus

TITLES = {
    AlertKind.COMMUNICATION_LOSS: "Communication lost",
    AlertKind.TAMPER: "Tamper alarm",
    AlertKind.STRAP_CUT: "Strap cut",
    AlertKind.POWER_CUT: "Power cut",
    AlertKind.LOW_BATTERY: "Low battery",
}
CLOSED = {
    "fixes_returned": "Fixes were received again from {at}.",
    "requirement_ended": "From {at} no clause in force required a tag, which ended it.",
    "alarm_quiet": "The device did not repeat the alarm after {at}.",
}


def alarm_kinds(alarms: Iterable[str]) -> list[AlertKind]:
    """The alert kinds a fix's alarm words open, in a fixed order; unknown words open none."""
    words = set(alarms)
    return sorted((k for k in ALARM_KINDS if k.value in words), key=lambda k: k.value)


def silence_began(last_received: datetime | None, required_from: datetime) -> datetime:
    """When the present silence began: the last fix received, or when a clause first
    required a tag if no fix has come since (a subject with no device at all is silent from
    then on)."""
    return required_from if last_received is None else max(last_received, required_from)


def backfill(observed: list[datetime]) -> dict[str, Any] | None:
    """What fixes received late cover of a gap: how many, and the span of their own times."""
    if not observed:
        return None
    return {
        "count": len(observed),
        "first_observed_at": min(observed).isoformat(),
        "last_observed_at": max(observed).isoformat(),
    }


def title(a: Alert) -> str:
    """What a device alert is about, as its headline: 'Communication lost', 'Tamper alarm'."""
    return TITLES.get(a.kind, a.kind.value)


def explain(a: Alert, tz: str = DEFAULT_TZ) -> str:
    """A device alert as a paragraph: who, what, since when, and what has come since."""
    who = (
        f"{a.subject_reference} ({a.subject_name})"
        if a.subject_reference
        else f"subject {a.subject_id}"
    )
    detail = a.detail or {}
    parts: list[str]
    if a.kind is AlertKind.COMMUNICATION_LOSS:
        minutes = detail.get("silence_minutes")
        rule = (
            f"clause {a.names.clause_number} of {a.names.order_type.value} "
            f"{a.names.order_reference}"
            if a.names is not None
            else f"condition {a.condition_id}"
        )
        since = describe_local(a.first_at, tz)
        if detail.get("no_device"):
            head = f"No device was assigned to {who}, whom {rule} requires to wear a tag"
        else:
            head = f"No fix was received from the device of {who} ({rule} requires a tag)"
        parts = [f"{head}, for {minutes} minutes or more since {since}."]
        if detail.get("last_observed_at"):
            parts.append("The map shows the last known position.")
        fill = detail.get("backfill")
        if fill:
            n = fill["count"]
            parts.append(
                f"{n} fix{'es' if n != 1 else ''} from the gap arrived later, observed "
                f"{describe_local(datetime.fromisoformat(fill['first_observed_at']), tz)} to "
                f"{describe_local(datetime.fromisoformat(fill['last_observed_at']), tz)}."
            )
    else:
        device = f"device {a.device_id}" if a.device_id else "the device"
        n = a.observation_count
        parts = [
            f"{title(a)} reported by {device} of {who}: first {describe_local(a.first_at, tz)}, "
            f"last {describe_local(a.last_at, tz)} ({n} fix{'es' if n != 1 else ''})."
        ]
    if a.status is AlertStatus.OPEN:
        parts.append("It is still going on.")
    else:
        at = describe_local(a.closed_at, tz) if a.closed_at else "an unknown time"
        parts.append(CLOSED.get(a.closed_by or "", "It ended at {at}.").format(at=at))
    return " ".join(parts)
