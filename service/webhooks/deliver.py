"""The worker's delivery of notices to webhooks: at least once, never dropped silently.

Each tick takes the deliveries that are due in bounded batches, oldest first, and posts
each with a short timeout, until none is due or the tick's time budget is spent (then the
rest wait for the next tick), so the worker's other jobs keep their time. When a webhook
fails, its other due deliveries are not sent in that tick but held back (those of its batch
as failed tries of their own, saying why), so a receiver that is down costs one timeout
per tick, not one per notice. A failed delivery is retried after an exponential back-off
with jitter (``base * 2**(n-1)``, capped, times a random factor between 0.5 and 1), for as
long as it fails: after ``failing_after`` tries it shows as *failing* (per alert and per
webhook) and is still tried at least every ``retry_cap_seconds``. Nothing is dead, nothing
is dropped.

A redirect is a failure, not followed: it could carry the signed notice elsewhere.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

import httpx2 as httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import audit_store, tables
from service.settings import ApiSettings, WebhookSettings
from service.webhooks import sealing, signature
from zones.webhooks import Detail

log = logging.getLogger("zones.webhooks")
USER_AGENT = "zones-webhooks/1"


def backoff(attempts: int, cfg: WebhookSettings, rng: random.Random) -> timedelta:
    """How long to wait after the ``attempts``-th failed try."""
    ceiling = min(cfg.retry_cap_seconds, cfg.retry_base_seconds * 2 ** min(attempts - 1, 30))
    return timedelta(seconds=ceiling * rng.uniform(0.5, 1.0))


def body(notice: tables.AlertNotice, detail: Detail, public_url: str) -> bytes:
    """The notice as one webhook is told it: the same bytes on every try."""
    p = notice.payload
    subject: dict[str, Any] = {"reference": p["subject"]["reference"]}
    if detail is not Detail.REFERENCES:
        subject["name"] = p["subject"]["name"]
    told: dict[str, Any] = {
        "id": notice.key,
        "event": f"alert.{notice.event}",
        "at": notice.at.isoformat(),
        "link": f"{public_url.rstrip('/')}/desk?alert={notice.alert_id}",
        "alert": p["alert"],
        "subject": subject,
        "order": p["order"],
        "zone": p["zone"],
    }
    if detail is Detail.POSITIONS:
        told["position"] = p["position"]
    return json.dumps(told, sort_keys=True, separators=(",", ":")).encode()


def _post(
    client: httpx.Client, hook: tables.Webhook, secret: str, content: bytes, key: str,
    event: str, attempt: int, now: datetime,
) -> str | None:  # fmt: skip
    """Send one notice; None when the receiver took it (2xx), else what went wrong."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Idempotency-Key": key,
        "Zones-Event": f"alert.{event}",
        "Zones-Attempt": str(attempt),
        signature.HEADER: signature.header(secret, int(now.timestamp()), content),
    }
    try:
        answer = client.post(hook.url, content=content, headers=headers)
    except httpx.TimeoutException:
        return "no answer in time"
    except httpx.HTTPError as exc:
        log.info("webhook %s: %r", hook.name, exc)
        # Shown to whoever may read the alert: never the URL, which may hold a token.
        return f"{type(exc).__name__}: {exc}".replace(hook.url, "<url>")[:200]
    return None if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"


def _failed(
    delivery: tables.WebhookDelivery, problem: str, now: datetime, cfg: WebhookSettings,
    rng: random.Random,
) -> None:  # fmt: skip
    delivery.attempts += 1
    delivery.last_attempt_at, delivery.last_result = now, problem[:200]
    delivery.status = "failing" if delivery.attempts >= cfg.failing_after else "pending"
    delivery.next_attempt_at = now + backoff(delivery.attempts, cfg, rng)


def _hold_back(
    session: Session, ids: list[int], problem: str, now: datetime, cfg: WebhookSettings,
    rng: random.Random,
) -> None:  # fmt: skip
    """Count a failed try for deliveries not sent because their webhook just failed."""
    d = tables.WebhookDelivery
    for delivery in session.scalars(
        select(d).where(d.id.in_(ids), d.status != "delivered").with_for_update(skip_locked=True)
    ):
        _failed(delivery, f"held back: {problem}", now, cfg, rng)
    session.commit()


def _attempt(
    session: Session, client: httpx.Client, delivery_id: int, now: datetime,
    cfg: WebhookSettings, rng: random.Random,
) -> str | bool | None:  # fmt: skip
    """Try one delivery: None when delivered, what went wrong when not, False when it was
    not due after all."""
    d, n, w = tables.WebhookDelivery, tables.AlertNotice, tables.Webhook
    found = session.execute(
        select(d, n, w)
        .join(n, n.id == d.notice_id)
        .join(w, w.id == d.webhook_id)
        .where(d.id == delivery_id, d.status != "delivered", w.enabled)
        .with_for_update(of=d, skip_locked=True)
    ).first()
    if found is None:
        session.rollback()
        return False
    delivery, notice, hook = found
    assert cfg.key is not None  # filled in from the state folder if not given
    attempt = delivery.attempts + 1
    try:
        secret = sealing.unseal(cfg.key, hook.name, hook.secret_sealed)
    except sealing.SecretUnreadable as exc:
        problem: str | None = str(exc)[:200]
    else:
        content = body(notice, Detail(hook.detail), cfg.public_url)
        problem = _post(client, hook, secret, content, notice.key, notice.event, attempt, now)
    if problem is None:
        delivery.attempts, delivery.last_attempt_at = attempt, now
        delivery.status, delivery.delivered_at, delivery.last_result = "delivered", now, "delivered"
        audit_store.record(
            session, "worker", f"alert.notify.{notice.event}", "alert", notice.alert_id,
            recipient=f"webhook:{hook.name}", detail={"key": notice.key, "detail": hook.detail},
        )  # fmt: skip
    else:
        _failed(delivery, problem, now, cfg, rng)
        log.warning("webhook %s: notice %s try %d failed: %s", hook.name, notice.key, attempt,
                    problem)  # fmt: skip
    session.commit()
    return problem


def due(
    session: Session, now: datetime, limit: int, skip: Collection[int] = ()
) -> list[tuple[int, int]]:
    """The deliveries to try now, oldest first, but to the webhooks ``skip``:
    (delivery id, webhook id)."""
    d, w = tables.WebhookDelivery, tables.Webhook
    rows = session.execute(
        select(d.id, d.webhook_id)
        .join(w, w.id == d.webhook_id)
        .where(d.status != "delivered", d.next_attempt_at <= now, w.enabled)
        .where(d.webhook_id.not_in(skip))
        .order_by(d.next_attempt_at, d.id)
        .limit(limit)
    ).all()
    return [(r[0], r[1]) for r in rows]


def deliver(
    session: Session,
    since: datetime,
    now: datetime,
    settings: ApiSettings,
    *,
    rng: random.Random | None = None,
) -> int:
    """Try the deliveries that are due, batch after batch, until none is due or the tick's
    budget is spent; how many were delivered."""
    cfg = settings.webhooks
    rng = rng or random.Random()
    started, delivered = time.monotonic(), 0
    failed: dict[int, str] = {}  # webhook id: what went wrong this tick
    with httpx.Client(timeout=cfg.timeout_seconds, follow_redirects=False) as client:
        while time.monotonic() - started <= cfg.budget_seconds:
            work = due(session, now, cfg.batch, skip=failed)
            session.rollback()  # no transaction held while waiting on receivers
            held: dict[int, list[int]] = {}
            progress = False
            for delivery_id, webhook_id in work:
                if time.monotonic() - started > cfg.budget_seconds:
                    break  # the rest wait for the next tick
                if webhook_id in failed:
                    held.setdefault(webhook_id, []).append(delivery_id)
                    continue
                outcome = _attempt(session, client, delivery_id, now, cfg, rng)
                if outcome is None:
                    delivered += 1
                elif isinstance(outcome, str):
                    failed[webhook_id] = outcome
                progress = progress or outcome is not False
            for webhook_id, ids in held.items():
                _hold_back(session, ids, failed[webhook_id], now, cfg, rng)
            if not progress:
                break  # nothing due (or only rows another worker holds)
    return delivered
