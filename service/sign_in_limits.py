"""Refusing password guessing: after 10 failed sign-ins in 15 minutes, the account and the
client address are each refused for 15 minutes (HTTP 429 with ``Retry-After``).

Failures are rows in PostgreSQL, so every server process counts the same ones. A refused
attempt checks no password, so a correct password while refused proves nothing to a guesser
and does not reset the count; the count falls only as failures age out of the window. The
client address is the connection's, or, behind a configured trusted proxy, the nearest
address in ``X-Forwarded-For`` that is not one of those proxies.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.requests import Request

from service.db import tables
from zones.errors import ZonesError

LIMIT = 10
WINDOW = timedelta(minutes=15)


class TooManyAttempts(ZonesError):
    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, field="username")
        self.retry_after = retry_after


def client_address(request: Request, trusted_proxies: frozenset[str]) -> str:
    """Who is asking: the peer, or behind a trusted proxy the last untrusted forwarder."""
    peer = request.client.host if request.client is not None else "unknown"
    if peer not in trusted_proxies:
        return peer[:100]
    forwarded = [a.strip() for a in request.headers.get("x-forwarded-for", "").split(",")]
    for address in reversed([a for a in forwarded if a]):
        if address not in trusted_proxies:
            return address[:100]
    return peer[:100]


def check(session: Session, username: str, client: str, now: datetime | None = None) -> None:
    """Refuse the attempt when the account or the address has failed too often lately."""
    now = now or datetime.now(UTC)
    f = tables.SignInFailure
    for column, value, what in ((f.username, normal_username(username), "account"),
                                (f.client, client, "address")):  # fmt: skip
        recent = session.scalars(
            select(f.at)
            .where(column == value, f.at > now - WINDOW)
            .order_by(f.at.desc())
            .limit(LIMIT)
        ).all()
        if len(recent) >= LIMIT:
            # Refused until the oldest of the last LIMIT failures leaves the window.
            wait = max(1, math.ceil((recent[-1] + WINDOW - now).total_seconds()))
            raise TooManyAttempts(
                f"too many failed sign-ins for this {what}: try again in "
                f"{math.ceil(wait / 60)} minute(s)",
                retry_after=wait,
            )


def record_failure(session: Session, username: str, client: str) -> None:
    """Count a failed sign-in, committed at once: the request itself is about to fail."""
    session.add(
        tables.SignInFailure(
            username=normal_username(username), client=client, at=func.clock_timestamp()
        )
    )
    session.commit()


def normal_username(username: str) -> str:
    """An account as counted: case and surrounding spaces do not make another one."""
    return username.strip().lower()[:200]
