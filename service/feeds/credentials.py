"""Credentials of devices and gateways: who may submit fixes, and for which devices.

A device credential submits for its one device (an OwnTracks phone, an API client); a
gateway's for a registered set (a Traccar server forwarding many trackers, the Traccar
Client app with the secret in its URL). The secret (``zdev_``/``zgw_`` and 256 random
bits) is shown once, when made, and stored only as its SHA-256, as personal access tokens
are. It is presented as a bearer token, as the password of HTTP Basic (with the
credential's username), or as the last segment of the OsmAnd URL. A fix for any other
device is refused and counted on the credential, for admins to see.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service.auth import NotAuthenticated
from service.db import audit_store, tables
from zones.errors import InvalidObservation, NotFound, UnknownDevice

PREFIXES = {"device": "zdev_", "gateway": "zgw_"}
MAX_DEVICES = 10_000  # on one gateway


class CredentialKind(StrEnum):
    DEVICE = "device"
    GATEWAY = "gateway"


class UnknownCredential(NotFound):
    code = "unknown_credential"


@dataclass(frozen=True)
class FeedCredential:
    """A credential as officers and admins see it: never its secret."""

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
    refused_count: int
    last_refused_device: str | None
    last_refused_at: datetime | None


@dataclass(frozen=True)
class Presented:
    """A live credential a request presented: what it may submit for."""

    id: int
    kind: CredentialKind
    username: str | None
    devices: frozenset[str]

    @property
    def reporter(self) -> str:
        """How observations and the audit name it."""
        return f"{self.kind.value}:{self.id}"


def looks_like_secret(value: str) -> bool:
    return value.startswith(tuple(PREFIXES.values()))


def create(
    session: Session,
    kind: CredentialKind,
    name: str,
    identifiers: Sequence[str],
    *,
    by: str,
    username: str | None = None,
) -> tuple[FeedCredential, str]:
    """A new credential and its secret (shown this once, never again)."""
    if kind is CredentialKind.DEVICE and len(identifiers) != 1:
        raise InvalidObservation("a device credential is for exactly one device", field="device")
    if not name.strip():
        raise InvalidObservation("give the credential a name", field="name")
    device_ids = _device_ids(session, identifiers)
    value = f"{PREFIXES[kind.value]}{secrets.token_urlsafe(32)}"
    row = tables.FeedCredential(
        kind=kind.value,
        name=name.strip(),
        username=username.strip() if username and username.strip() else None,
        secret_hash=_hash(value),
        created_by=by,
    )
    session.add(row)
    session.flush()
    session.add_all(
        tables.FeedCredentialDevice(credential_id=row.id, device_id=d) for d in device_ids
    )
    audit_store.record(
        session, by, f"{kind.value}_credential.create", "feed_credential", row.id,
        detail={"name": row.name, "username": row.username, "devices": sorted(identifiers)},
    )  # fmt: skip
    session.flush()
    return get(session, row.id), value


def set_devices(
    session: Session, credential_id: int, identifiers: Sequence[str], *, by: str
) -> FeedCredential:
    """Replace a gateway's set of devices."""
    found = get(session, credential_id)
    if found.kind is not CredentialKind.GATEWAY:
        raise UnknownCredential(f"no gateway {credential_id}", field="gateway_id")
    device_ids = _device_ids(session, identifiers)
    link = tables.FeedCredentialDevice
    session.query(link).filter(link.credential_id == credential_id).delete()
    session.add_all(link(credential_id=credential_id, device_id=d) for d in device_ids)
    audit_store.record(
        session, by, "gateway_credential.devices", "feed_credential", credential_id,
        detail={"devices": sorted(identifiers)},
    )  # fmt: skip
    session.flush()
    return get(session, credential_id)


def revoke(session: Session, credential_id: int, *, by: str) -> FeedCredential:
    """Revoke a credential: its secret is refused from now on."""
    found = get(session, credential_id)
    c = tables.FeedCredential
    session.execute(
        update(c)
        .where(c.id == credential_id, c.revoked_at.is_(None))
        .values(revoked_at=func.now(), revoked_by=by)
    )
    audit_store.record(
        session, by, f"{found.kind.value}_credential.revoke", "feed_credential", credential_id
    )
    session.flush()
    return get(session, credential_id)


def get(session: Session, credential_id: int) -> FeedCredential:
    found = listed(session, ids=[credential_id])
    if not found:
        raise UnknownCredential(f"no credential {credential_id}", field="credential_id")
    return found[0]


def listed(
    session: Session, kind: CredentialKind | None = None, ids: Sequence[int] | None = None
) -> list[FeedCredential]:
    """Credentials, newest first, each with its devices and its refusals."""
    c, link, d = tables.FeedCredential, tables.FeedCredentialDevice, tables.Device
    q = select(c).order_by(c.id.desc())
    if kind is not None:
        q = q.where(c.kind == kind.value)
    if ids is not None:
        q = q.where(c.id.in_(ids))
    rows = list(session.scalars(q))
    devices: dict[int, list[str]] = {r.id: [] for r in rows}
    for cid, identifier in session.execute(
        select(link.credential_id, d.identifier)
        .join(d, d.id == link.device_id)
        .where(link.credential_id.in_(list(devices)))
        .order_by(d.identifier)
    ):
        devices[cid].append(identifier)
    return [
        FeedCredential(
            r.id,
            CredentialKind(r.kind),
            r.name,
            r.username,
            devices[r.id],
            r.created_by,
            r.created_at,
            r.revoked_at,
            r.revoked_by,
            r.last_used_at,
            r.refused_count,
            r.last_refused_device,
            r.last_refused_at,
        )
        for r in rows
    ]


def authenticate(session: Session, secret: str, username: str | None = None) -> Presented:
    """The live credential of a presented secret (and username, for HTTP Basic)."""
    c = tables.FeedCredential
    row = session.execute(
        select(c.id, c.kind, c.username, c.revoked_at).where(c.secret_hash == _hash(secret))
    ).first()
    if row is None or row.revoked_at is not None:
        raise NotAuthenticated("unknown or revoked device credential")
    if username is not None and row.username is not None and username != row.username:
        raise NotAuthenticated("unknown or revoked device credential")
    link, d = tables.FeedCredentialDevice, tables.Device
    devices = frozenset(
        session.scalars(
            select(d.identifier)
            .join(link, link.device_id == d.id)
            .where(link.credential_id == row.id)
        )
    )
    return Presented(row.id, CredentialKind(row.kind), row.username, devices)


def note_use(session: Session, credential_id: int, refused: Sequence[str], now: datetime) -> None:
    """Record that the credential was used, and the fixes refused for devices outside its
    set: counted, with the last such device, for admins to see."""
    c = tables.FeedCredential
    values: dict[str, Any] = {"last_used_at": now}
    if refused:
        values |= {
            "refused_count": c.refused_count + len(refused),
            "last_refused_device": refused[-1][:100],
            "last_refused_at": now,
        }
    session.execute(update(c).where(c.id == credential_id).values(**values))


def _device_ids(session: Session, identifiers: Sequence[str]) -> list[int]:
    wanted = sorted(set(identifiers))
    if len(wanted) > MAX_DEVICES:
        raise InvalidObservation(f"at most {MAX_DEVICES} devices", field="devices")
    d = tables.Device
    found = dict(session.execute(select(d.identifier, d.id).where(d.identifier.in_(wanted))).all())
    missing = [i for i in wanted if i not in found]
    if missing:
        raise UnknownDevice(
            f"device {missing[0]!r} is not registered (POST /api/v1/devices first)", field="devices"
        )
    return [found[i] for i in wanted]


def _hash(secret: str) -> str:
    # A fast hash is right: the secret is 256 random bits, not a guessable password.
    return hashlib.sha256(secret.encode()).hexdigest()
