"""The local user of an external identity: made at first sign-in, its role kept in step with
the provider's groups at every sign-in after.

An external user is known by the provider's ``iss`` and ``sub`` (stable), not by name, and
has no password: the password form and ``POST /auth/token`` refuse them like a wrong
password. The name comes from a claim once; a name that a local account (or another
external identity) already has is refused, never linked, so a provider cannot take over a
local account.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.auth import User
from service.db import tables, units_store
from service.db.units_store import UnknownUnit
from service.oidc import SignInRefused
from service.oidc.grants import Grant
from service.settings import OidcSettings

log = logging.getLogger(__name__)


def assign_units(session: Session, username: str, unit_codes: Sequence[str]) -> None:
    """Make ``username``'s units exactly ``unit_codes``, as their provider's groups say today.

    Called at every single sign-on, after the user row exists and before the transaction
    commits. A code that names no unit refuses the sign-in (``SignInRefused``) rather than
    grant less or more than the provider meant.
    """
    try:
        units_store.set_members(session, username, list(unit_codes))
    except UnknownUnit as exc:
        raise SignInRefused(
            f"the single sign-on groups name a unit this service does not have ({exc.message}); "
            "ask an administrator to add it"
        ) from exc
    log.info("single sign-on: %s is in units %s", username, ", ".join(unit_codes) or "(none)")


def sign_in_external(
    session: Session, issuer: str, claims: Mapping[str, Any], grant: Grant, settings: OidcSettings
) -> User:
    """The local user for these checked claims, made or updated (not yet committed)."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not 0 < len(subject) <= 255:
        raise SignInRefused(f"{settings.provider_name} sent no usable subject (sub)")
    row = session.scalar(
        select(tables.User).where(
            tables.User.external_issuer == issuer, tables.User.external_subject == subject
        )
    )
    if row is None:
        row = _new_user(session, issuer, subject, _username(claims, settings), grant)
    elif row.disabled:
        raise SignInRefused("this account is disabled in this service")
    else:
        row.role = grant.role.value
    assign_units(session, row.username, grant.units)
    return User(row.username, grant.role)


def _username(claims: Mapping[str, Any], settings: OidcSettings) -> str:
    name = claims.get(settings.username_claim)
    if (
        not isinstance(name, str)
        or not 0 < len(name) <= 80
        or name != name.strip()
        or any(unicodedata.category(c).startswith("C") for c in name)
    ):
        raise SignInRefused(
            f"{settings.provider_name} sent no usable user name "
            f"(claim {settings.username_claim!r}: 1 to 80 printable characters)"
        )
    return name


def _new_user(session: Session, issuer: str, subject: str, username: str, grant: Grant) -> Any:
    taken = session.scalar(select(tables.User.id).where(tables.User.username == username))
    if taken is not None:
        raise SignInRefused(
            f"an account named {username!r} already exists in this service; an "
            "administrator must rename or remove it before you can sign in with this name"
        )
    row = tables.User(
        username=username,
        password_hash=None,
        role=grant.role.value,
        external_issuer=issuer,
        external_subject=subject,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:  # the same person signing in twice at once
        raise SignInRefused("this account was being set up at the same moment; try again") from exc
    return row
