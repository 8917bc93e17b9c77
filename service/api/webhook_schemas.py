"""Wire schemas of webhooks and of an alert's deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from service.api.schemas import Line, Wire
from zones.webhooks import MAX_URL, Detail, Event


class WebhookIn(Wire):
    name: Annotated[Line, StringConstraints(min_length=1, max_length=80)] = Field(
        description="A short name: lower-case letters, digits, '.', '_', '-' (e.g. 'cad')"
    )
    url: Annotated[Line, StringConstraints(min_length=1, max_length=MAX_URL)] = Field(
        description="Where notices are POSTed; https:// in production"
    )
    events: list[Event] = Field(
        default=[Event.OPENED, Event.CLOSED, Event.HANDLED],
        min_length=1,
        max_length=3,
        description="Which changes of an alert it is told of",
    )
    detail: Detail = Field(
        default=Detail.REFERENCES,
        description="`references`: no names or positions; `names`: and the subject's name; "
        "`positions`: and the name and where the alert is",
    )


class WebhookOut(BaseModel):
    id: int
    name: str
    url: str
    enabled: bool
    events: list[Event]
    detail: Detail
    created_at: datetime
    created_by: str
    secret_rotated_at: datetime | None
    disabled_at: datetime | None
    pending: int = Field(description="Notices not yet delivered to it")
    failing: int = Field(description="... of which tried and failed many times (still retried)")


class NewWebhookSecret(WebhookOut):
    secret: str = Field(
        description="The signing secret (`whsec_...`): shown this once, never again"
    )


class DeliveryOut(BaseModel):
    """One notice about the alert to one webhook, and how far its delivery got."""

    webhook: str
    webhook_enabled: bool = Field(description="A disabled webhook is sent nothing")
    event: Event
    idempotency_key: str = Field(description="The same on every try of this notice")
    status: str = Field(description="`pending`, `failing` (tried many times) or `delivered`")
    attempts: int
    created_at: datetime
    last_attempt_at: datetime | None
    last_result: str | None = Field(description="`delivered`, `HTTP 500`, a network error...")
    next_attempt_at: datetime | None
    delivered_at: datetime | None
