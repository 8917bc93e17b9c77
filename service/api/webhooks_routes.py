"""Webhooks that alerts are sent to (admins), and each alert's deliveries (its readers)."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import AlertReader, SessionDep, SettingsDep, WebhookManager
from service.api.schemas import ErrorResponse, Id
from service.api.webhook_schemas import DeliveryOut, NewWebhookSecret, WebhookIn, WebhookOut
from service.db import alerts_store, audit_store, webhooks_store
from service.settings import Environment, Settings

router = APIRouter(tags=["webhooks"])
ERRORS: dict[int | str, dict[str, object]] = {
    403: {"model": ErrorResponse},
    404: {"model": ErrorResponse},
    409: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}


def _key(settings: Settings) -> str:
    key = settings.api.webhooks.key
    assert key is not None  # filled in from the state folder if not given
    return key


def _out(hook: webhooks_store.Webhook) -> WebhookOut:
    return WebhookOut.model_validate(hook, from_attributes=True)


@router.post("/webhooks", status_code=201, response_model=NewWebhookSecret, responses=ERRORS)
def add_webhook(
    body: WebhookIn, session: SessionDep, settings: SettingsDep, user: WebhookManager
) -> NewWebhookSecret:
    """Add a webhook, enabled. The answer holds its signing secret: shown this once. It is
    told of alerts opened from now on (not of older ones)."""
    hook, secret = webhooks_store.add(
        session, _key(settings), body.name, body.url, [e.value for e in body.events],
        body.detail, user.username,
        require_https=settings.environment is Environment.PRODUCTION,
    )  # fmt: skip
    audit_store.record(
        session, user.username, "webhook.add", "webhook", hook.id,
        detail={"name": hook.name, "url": hook.url, "events": hook.events,
                "detail": hook.detail},
    )  # fmt: skip
    session.commit()
    return NewWebhookSecret(**_out(hook).model_dump(), secret=secret)


@router.get("/webhooks", response_model=list[WebhookOut], responses=ERRORS)
def list_webhooks(session: SessionDep, user: WebhookManager) -> list[WebhookOut]:
    """Every webhook (never its secret), with its undelivered and failing notices."""
    return [_out(h) for h in webhooks_store.listed(session)]


def _enable(session: SessionDep, webhook_id: int, enabled: bool, by: str) -> WebhookOut:
    hook = webhooks_store.set_enabled(session, webhooks_store.name_of(session, webhook_id), enabled)
    action = "webhook.enable" if enabled else "webhook.disable"
    audit_store.record(session, by, action, "webhook", hook.id, detail={"name": hook.name})
    session.commit()
    return _out(hook)


@router.post("/webhooks/{webhook_id}/disable", response_model=WebhookOut, responses=ERRORS)
def disable_webhook(webhook_id: Id, session: SessionDep, user: WebhookManager) -> WebhookOut:
    """Send it nothing more: its undelivered notices wait, and none are added for it."""
    return _enable(session, webhook_id, False, user.username)


@router.post("/webhooks/{webhook_id}/enable", response_model=WebhookOut, responses=ERRORS)
def enable_webhook(webhook_id: Id, session: SessionDep, user: WebhookManager) -> WebhookOut:
    """Send to it again, starting with the notices that waited."""
    return _enable(session, webhook_id, True, user.username)


@router.post(
    "/webhooks/{webhook_id}/rotate-secret", response_model=NewWebhookSecret, responses=ERRORS
)
def rotate_webhook_secret(
    webhook_id: Id, session: SessionDep, settings: SettingsDep, user: WebhookManager
) -> NewWebhookSecret:
    """A new signing secret, shown this once; every try from now on is signed with it."""
    name = webhooks_store.name_of(session, webhook_id)
    hook, secret = webhooks_store.rotate(session, _key(settings), name)
    audit_store.record(
        session, user.username, "webhook.rotate_secret", "webhook", hook.id, detail={"name": name}
    )
    session.commit()
    return NewWebhookSecret(**_out(hook).model_dump(), secret=secret)


@router.get("/alerts/{alert_id}/deliveries", response_model=list[DeliveryOut], responses=ERRORS)
def alert_deliveries(alert_id: Id, session: SessionDep, user: AlertReader) -> list[DeliveryOut]:
    """What each webhook was to be told about the alert and how far it got: delivered,
    pending, or failing (still retried), with the last try's result."""
    alerts_store.get(session, alert_id)
    return [
        DeliveryOut.model_validate(d, from_attributes=True)
        for d in webhooks_store.deliveries(session, alert_id)
    ]
