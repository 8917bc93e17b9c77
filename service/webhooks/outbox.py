"""The outbox: what receivers are told about alerts, written in the transaction that changed
them (called by :mod:`service.db.alert_events` as it writes the alert events, whatever code
path raised them), so a change that is committed is never left untold, and one rolled back
is never told.

What is told, per alert:

- ``opened`` when the alert is announced as opened;
- ``closed`` once, when a told alert's stay has ended (or it was merged into another);
- ``handled`` each time its handling state or disposition changes (acknowledged, resolved,
  reopened): a receiver can close its own incident.

Each notice gets one delivery per enabled webhook that wants its event. A webhook hears of
an alert's later events only if it existed when the alert was told as opened: a webhook
added later gets no old alerts, not even their endings.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.db import tables

EVENTS = ("opened", "closed", "handled")
UNHANDLED = ("unhandled", None)


def _facts(alert_ids: Collection[int]) -> Any:
    """What a notice may say of each alert; outer joins, so an alert of any kind is told."""
    a, s, c = tables.Alert, tables.Subject, tables.Condition
    v, zv = tables.OrderVersion, tables.ZoneVersion
    return (
        select(
            a,
            s.reference,
            s.name,
            v.reference,
            v.type,
            zv.name,
            func.ST_X(a.geom),
            func.ST_Y(a.geom),
        )
        .join(s, s.id == a.subject_id)
        .outerjoin(c, c.id == a.condition_id)
        .outerjoin(v, v.id == c.order_version_id)
        .outerjoin(zv, (zv.zone_id == a.zone_id) & (zv.version == a.zone_version))
        .where(a.id.in_(alert_ids))
    )


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def snapshot(row: Row[Any]) -> dict[str, Any]:
    """Everything any webhook may be sent; each gets only what its ``detail`` allows."""
    alert, reference, name, order_ref, order_type, zone_name, lon, lat = tuple(row)
    return {
        "alert": {
            "id": alert.id,
            "severity": alert.severity,
            "evidence": alert.evidence,
            "status": alert.status,
            "handling": alert.handling,
            "disposition": alert.disposition,
            "first_at": _iso(alert.first_at),
            "last_at": _iso(alert.last_at),
            "closed_at": _iso(alert.closed_at),
            "opened_by": alert.opened_by,
            "closed_by": alert.closed_by,
            "late": alert.late,
            "merged_into": alert.merged_into,
        },
        "subject": {"reference": reference, "name": name},
        "order": None if order_ref is None else {"reference": order_ref, "type": order_type},
        "zone": None if zone_name is None else {"name": zone_name, "version": alert.zone_version},
        "position": None
        if lon is None
        else {"lon": round(lon, 6), "lat": round(lat, 6), "deepest_m": round(alert.deepest_m, 1)},
    }


def enqueue(session: Session, changed: dict[int, str]) -> None:
    """Write the notices the changes ``{alert_id: kind}`` call for, and their deliveries."""
    w = tables.Webhook
    hooks = session.execute(select(w.id, w.events, w.created_at).where(w.enabled)).all()
    if not hooks:
        return  # nobody to tell, and nobody added later hears of these alerts
    n = tables.AlertNotice
    told: dict[int, dict[str, Any]] = {}
    for alert_id, event, at, payload in session.execute(
        select(n.alert_id, n.event, n.at, n.payload).where(n.alert_id.in_(changed)).order_by(n.id)
    ):
        mine = told.setdefault(alert_id, {})
        mine[event] = at
        if event == "handled":
            mine["state"] = (payload["alert"]["handling"], payload["alert"]["disposition"])
    # The clock, not the transaction's start: a webhook added while this transaction ran
    # was added after these alerts opened.
    now = session.scalar(select(func.clock_timestamp()))
    assert now is not None
    notices: list[dict[str, Any]] = []
    opened_at: dict[int, datetime] = {}
    for row in session.execute(_facts(changed)):
        alert = row[0]
        mine = told.get(alert.id, {})
        events = []
        if changed[alert.id] == "opened" and "opened" not in mine:
            events.append("opened")
        opened = now if events else mine.get("opened")
        if opened is None:
            continue  # never told as opened: its later changes are not told either
        opened_at[alert.id] = opened
        if (alert.status == "closed" or alert.merged_into is not None) and "closed" not in mine:
            events.append("closed")
        if (alert.handling, alert.disposition) != mine.get("state", UNHANDLED):
            events.append("handled")
        payload = snapshot(row)
        notices += [
            {"alert_id": alert.id, "event": e, "key": str(uuid.uuid4()), "at": now,
             "payload": payload}
            for e in events
        ]  # fmt: skip
    if not notices:
        return
    written = session.execute(insert(n).values(notices).returning(n.id, n.alert_id, n.event)).all()
    deliveries = [
        {"notice_id": notice_id, "webhook_id": hook.id, "next_attempt_at": now}
        for notice_id, alert_id, event in written
        for hook in hooks
        if event in hook.events and hook.created_at <= opened_at[alert_id]
    ]
    if deliveries:
        session.execute(insert(tables.WebhookDelivery).values(deliveries))
