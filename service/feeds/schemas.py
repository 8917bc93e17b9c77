"""Wire shapes of device and gateway credentials."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from service.api.schemas import Line, Wire
from service.feeds.credentials import CredentialKind

# A registered device's identifier (POST /api/v1/devices).
DeviceId = Annotated[Line, Field(min_length=1, max_length=100)]


class DeviceCredentialIn(Wire):
    device: Line = Field(
        min_length=1,
        max_length=100,
        description="The registered device it submits for (an OwnTracks device is user/device)",
        examples=["jane/phone"],
    )
    name: Line | None = Field(default=None, max_length=200, description="What it is for")
    username: Line | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="For HTTP Basic: the username sent with the secret as password (the "
        "OwnTracks app's user)",
    )


class GatewayIn(Wire):
    name: Line = Field(min_length=1, max_length=200, examples=["Traccar, force HQ"])
    devices: list[DeviceId] = Field(
        max_length=10_000, description="The registered devices it may submit for"
    )
    username: Line | None = Field(default=None, min_length=1, max_length=100)


class GatewayDevicesIn(Wire):
    devices: list[DeviceId] = Field(max_length=10_000)


class CredentialOut(BaseModel):
    id: int
    kind: CredentialKind
    name: str
    username: str | None
    devices: list[str]
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    last_used_at: datetime | None
    refused_count: int = Field(description="Fixes refused for devices outside its set")
    last_refused_device: str | None
    last_refused_at: datetime | None


class NewCredential(CredentialOut):
    secret: str = Field(
        description="Shown this once. Send it as `Authorization: Bearer <secret>`, as the "
        "HTTP Basic password (with the username), or at the end of the OsmAnd URL"
    )
