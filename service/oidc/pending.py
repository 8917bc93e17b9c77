"""What the browser carries while it is away at the provider: state, nonce, PKCE verifier.

Kept in a short-lived cookie, signed (HS256) with a key derived from the service's secret
for this purpose alone, so it can never pass for a session token. The cookie binds the
callback to the browser that started the sign-in: a callback without it, or with another
state, is refused (login CSRF).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

import jwt

COOKIE = "zones_oidc"
PATH = "/auth/oidc"
MINUTES = 10


@dataclass(frozen=True)
class Pending:
    state: str
    nonce: str
    code_verifier: str
    next: str


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"zones oidc pending sign-in", hashlib.sha256).digest()


def seal(pending: Pending, secret: str) -> str:
    exp = datetime.now(UTC) + timedelta(minutes=MINUTES)
    return jwt.encode({**asdict(pending), "exp": exp}, _key(secret), algorithm="HS256")


def unseal(cookie: str | None, secret: str) -> Pending | None:
    """The pending sign-in, or None if the cookie is missing, forged or expired."""
    if not cookie:
        return None
    try:
        claims = jwt.decode(
            cookie, _key(secret), algorithms=["HS256"], options={"require": ["exp"]}
        )
        fields = (claims["state"], claims["nonce"], claims["code_verifier"], claims["next"])
        return Pending(*(str(f) for f in fields))
    except (jwt.PyJWTError, KeyError):
        return None
