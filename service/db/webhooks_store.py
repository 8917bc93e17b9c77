"""Webhook rows: add, list, enable or disable, rotate a secret; and each alert's deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.db import tables
from service.webhooks import sealing
from zones import webhooks
from zones.errors import Conflict, UnknownWebhook


@dataclass(frozen=True)
class Webhook:
    """A webhook as admins see it: never its secret. ``pending`` and ``failing`` count its
    deliveries not yet made (failing: tried and failed many times)."""

    id: int
    name: str
    url: str
    enabled: bool
    events: list[str]
    detail: str
    created_at: datetime
    created_by: str
    secret_rotated_at: datetime | None
    disabled_at: datetime | None
    pending: int
    failing: int


@dataclass(frozen=True)
class Delivery:
    """One notice about an alert to one webhook, and how its delivery stands."""

    webhook: str
    webhook_enabled: bool
    event: str
    idempotency_key: str
    status: str
    attempts: int
    created_at: datetime
    last_attempt_at: datetime | None
    last_result: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None


def _row(session: Session, name: str) -> tables.Webhook:
    row = session.scalar(
        select(tables.Webhook).where(tables.Webhook.name == name).with_for_update()
    )
    if row is None:
        raise UnknownWebhook(f"no webhook named {name!r}", field="name")
    return row


def _by_id(session: Session, webhook_id: int) -> tables.Webhook:
    row = session.get(tables.Webhook, webhook_id, with_for_update=True)
    if row is None:
        raise UnknownWebhook(f"no webhook with id {webhook_id}", field="webhook_id")
    return row


def name_of(session: Session, webhook_id: int) -> str:
    return _by_id(session, webhook_id).name


def add(
    session: Session,
    key: str,
    name: str,
    url: str,
    events: list[str],
    detail: webhooks.Detail,
    by: str,
    *,
    require_https: bool,
) -> tuple[Webhook, str]:
    """A new webhook, enabled, and its secret (to be shown once)."""
    secret = sealing.new_secret()
    row = tables.Webhook(
        name=webhooks.check_name(name),
        url=webhooks.check_url(url, require_https=require_https),
        events=webhooks.check_events(events),
        detail=detail.value,
        secret_sealed=sealing.seal(key, name, secret),
        enabled=True,
        created_at=func.clock_timestamp(),  # compared with the outbox's clock
        created_by=by,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict(f"a webhook named {name!r} exists already", field="name") from None
    return get(session, name), secret


def set_enabled(session: Session, name: str, enabled: bool) -> Webhook:
    """Disable (nothing is sent to it, nothing new is queued for it) or enable again."""
    row = _row(session, name)
    row.enabled = enabled
    row.disabled_at = None if enabled else datetime.now(UTC)
    session.flush()
    return get(session, name)


def rotate(session: Session, key: str, name: str) -> tuple[Webhook, str]:
    """A new secret for the webhook: the old one signs nothing from now on."""
    row = _row(session, name)
    secret = sealing.new_secret()
    row.secret_sealed = sealing.seal(key, name, secret)
    row.secret_rotated_at = datetime.now(UTC)
    session.flush()
    return get(session, name), secret


def listed(session: Session, name: str | None = None) -> list[Webhook]:
    """Every webhook (or the one named), by name, with its counts of undelivered notices."""
    w, d = tables.Webhook, tables.WebhookDelivery
    undelivered = d.status != "delivered"
    counts = (
        select(
            d.webhook_id,
            func.count().filter(undelivered).label("pending"),
            func.count().filter(d.status == "failing").label("failing"),
        )
        .group_by(d.webhook_id)
        .subquery()
    )
    q = (
        select(w, func.coalesce(counts.c.pending, 0), func.coalesce(counts.c.failing, 0))
        .outerjoin(counts, counts.c.webhook_id == w.id)
        .order_by(w.name)
    )
    if name is not None:
        q = q.where(w.name == name)
    return [
        Webhook(
            id=r.id,
            name=r.name,
            url=r.url,
            enabled=r.enabled,
            events=list(r.events),
            detail=r.detail,
            created_at=r.created_at,
            created_by=r.created_by,
            secret_rotated_at=r.secret_rotated_at,
            disabled_at=r.disabled_at,
            pending=int(pending),
            failing=int(failing),
        )
        for r, pending, failing in session.execute(q)
    ]


def get(session: Session, name: str) -> Webhook:
    found = listed(session, name)
    if not found:
        raise UnknownWebhook(f"no webhook named {name!r}", field="name")
    return found[0]


def deliveries(session: Session, alert_id: int) -> list[Delivery]:
    """What each webhook was to be told about the alert, and how far each got, oldest first."""
    w, n, d = tables.Webhook, tables.AlertNotice, tables.WebhookDelivery
    rows = session.execute(
        select(
            w.name,
            w.enabled,
            n.event,
            n.key,
            d.status,
            d.attempts,
            n.at,
            d.last_attempt_at,
            d.last_result,
            case((d.status == "delivered", None), else_=d.next_attempt_at),
            d.delivered_at,
        )
        .join(n, n.id == d.notice_id)
        .join(w, w.id == d.webhook_id)
        .where(n.alert_id == alert_id)
        .order_by(n.id, w.name)
    )
    return [Delivery(*tuple(r)) for r in rows]
