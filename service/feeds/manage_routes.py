"""Device and gateway credentials: officers issue a device's own, admins gateways'.

Roles (``zones.permissions``): ``device.credentials`` (officers, for devices worn by their
units' subjects or by nobody; admins, any) and ``gateway.manage`` (admins). Every change
is audited; a secret is shown once, in the answer that makes it.
"""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from service.api.deps import Access, DeviceCredentialIssuer, GatewayManager, SessionDep
from service.api.schemas import ErrorResponse, Id
from service.db import devices_store
from service.feeds import credentials
from service.feeds.credentials import CredentialKind, FeedCredential, UnknownCredential
from service.feeds.schemas import (
    CredentialOut,
    DeviceCredentialIn,
    GatewayDevicesIn,
    GatewayIn,
    NewCredential,
)
from zones.errors import NotFound, UnknownDevice

router = APIRouter(tags=["device credentials"])
ERRORS: dict[int | str, dict[str, object]] = {
    403: {"model": ErrorResponse},
    404: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
}


def _out(c: FeedCredential) -> CredentialOut:
    return CredentialOut(**vars(c))


def _reaches_device(session: Session, user: Access, identifier: str) -> bool:
    """An officer reaches a device worn now by a subject of their units, or by nobody."""
    wearer = devices_store.current_wearer(session, identifier)
    if wearer is None:
        return True
    try:
        user.check(session, "subject_id", wearer)
    except NotFound:
        return False
    return True


def _own_device_credential(session: Session, user: Access, credential_id: int) -> FeedCredential:
    found = credentials.get(session, credential_id)
    if found.kind is not CredentialKind.DEVICE or not all(
        _reaches_device(session, user, d) for d in found.devices
    ):
        raise UnknownCredential(f"no device credential {credential_id}", field="credential_id")
    return found


@router.post("/device-credentials", status_code=201, response_model=NewCredential, responses=ERRORS)
def create_device_credential(
    body: DeviceCredentialIn, session: SessionDep, user: DeviceCredentialIssuer
) -> NewCredential:
    """Issue a device its own credential (an OwnTracks phone, an API client): it may submit
    fixes for that device only. The answer holds the secret: it is shown this once."""
    if not _reaches_device(session, user, body.device):
        raise UnknownDevice(f"no device {body.device!r} of your units", field="device")
    made, secret = credentials.create(
        session, CredentialKind.DEVICE, body.name or body.device, [body.device],
        by=user.username, username=body.username,
    )  # fmt: skip
    session.commit()
    return NewCredential(**vars(made), secret=secret)


@router.get("/device-credentials", response_model=list[CredentialOut], responses=ERRORS)
def list_device_credentials(
    session: SessionDep, user: DeviceCredentialIssuer
) -> list[CredentialOut]:
    """Device credentials (never their secrets), newest first, with the fixes each had
    refused for other devices."""
    return [
        _out(c)
        for c in credentials.listed(session, CredentialKind.DEVICE)
        if all(_reaches_device(session, user, d) for d in c.devices)
    ]


@router.post(
    "/device-credentials/{credential_id}/revoke", response_model=CredentialOut, responses=ERRORS
)
def revoke_device_credential(
    credential_id: Id, session: SessionDep, user: DeviceCredentialIssuer
) -> CredentialOut:
    """Revoke a device credential: its secret is refused from now on."""
    _own_device_credential(session, user, credential_id)
    revoked = credentials.revoke(session, credential_id, by=user.username)
    session.commit()
    return _out(revoked)


@router.post("/gateways", status_code=201, response_model=NewCredential, responses=ERRORS)
def create_gateway(body: GatewayIn, session: SessionDep, user: GatewayManager) -> NewCredential:
    """Issue a gateway credential: it may submit fixes for a registered set of devices (a
    Traccar server forwarding, the Traccar Client app with the secret in its URL). The
    answer holds the secret: it is shown this once."""
    made, secret = credentials.create(
        session, CredentialKind.GATEWAY, body.name, body.devices,
        by=user.username, username=body.username,
    )  # fmt: skip
    session.commit()
    return NewCredential(**vars(made), secret=secret)


@router.get("/gateways", response_model=list[CredentialOut], responses=ERRORS)
def list_gateways(session: SessionDep, user: GatewayManager) -> list[CredentialOut]:
    """Gateways, newest first, with their devices and the fixes each had refused for
    devices outside its set (a device to add, or a server sending what it should not)."""
    return [_out(c) for c in credentials.listed(session, CredentialKind.GATEWAY)]


@router.put("/gateways/{gateway_id}/devices", response_model=CredentialOut, responses=ERRORS)
def set_gateway_devices(
    gateway_id: Id, body: GatewayDevicesIn, session: SessionDep, user: GatewayManager
) -> CredentialOut:
    """Replace the set of devices a gateway may submit for."""
    changed = credentials.set_devices(session, gateway_id, body.devices, by=user.username)
    session.commit()
    return _out(changed)


@router.post("/gateways/{gateway_id}/revoke", response_model=CredentialOut, responses=ERRORS)
def revoke_gateway(gateway_id: Id, session: SessionDep, user: GatewayManager) -> CredentialOut:
    """Revoke a gateway: its secret is refused from now on."""
    if credentials.get(session, gateway_id).kind is not CredentialKind.GATEWAY:
        raise UnknownCredential(f"no gateway {gateway_id}", field="gateway_id")
    revoked = credentials.revoke(session, gateway_id, by=user.username)
    session.commit()
    return _out(revoked)
