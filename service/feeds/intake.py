"""Fixes from devices into the store: every feed (HTTP protocols, MQTT, uploads) comes
through :func:`accept`, so they are attributed, filtered, judged and alerted alike."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from service import device_alerts, monitoring
from service.settings import ApiSettings
from zones import model
from zones.errors import InvalidObservation, UnknownDevice, ZonesError
from zones.feeds.fix import FeedFix
from zones.geometry import check_position

CLOCK_SKEW = timedelta(minutes=5)  # a fix "from the future" beyond this is a device clock fault


def _observation(fix: FeedFix, now: datetime) -> model.Observation:
    check_position(fix.lon, fix.lat)
    if fix.time - now > CLOCK_SKEW:
        raise InvalidObservation(f"time {fix.time.isoformat()} is in the future", field="time")
    return model.Observation(
        lon=fix.lon,
        lat=fix.lat,
        time=fix.time.astimezone(UTC),
        accuracy_m=fix.accuracy_m,
        device_id=fix.device,
        kind=model.ObservationKind.FIX,
    )


def accept(
    session: Session,
    fixes: Sequence[FeedFix],
    settings: ApiSettings,
    *,
    reporter: str,
    devices: frozenset[str] | None = None,
    now: datetime | None = None,
) -> list[monitoring.Recorded]:
    """Store and judge fixes from devices, in the caller's transaction; one result per fix,
    in order. With ``devices`` (a device's or gateway's credential), a fix from any other
    device is refused as unknown. A fix whose device was worn by nobody at its time is
    refused, as is one from the future."""
    now = now or datetime.now(UTC)
    results = [monitoring.Recorded(index=i) for i in range(len(fixes))]
    good: list[model.Observation] = []
    where: list[int] = []
    for i, fix in enumerate(fixes):
        try:
            if devices is not None and fix.device not in devices:
                raise UnknownDevice(
                    f"device {fix.device!r} is not one this credential may submit for",
                    field="device",
                )
            good.append(_observation(fix, now))
            where.append(i)
        except ZonesError as exc:
            results[i].error = exc
    for i, rec in zip(
        where, monitoring.record(session, good, settings, reporter=reporter, now=now), strict=True
    ):
        rec.index = i
        results[i] = rec
    device_alerts.raise_alarms(session, fixes, results, now)  # tamper, power cut, ...
    return results
