"""How a notification is signed, and how a receiver checks it.

The header ``Zones-Signature: t=<unix seconds>,v1=<hex>`` carries the time of signing and
HMAC-SHA256, keyed with the webhook's secret (its UTF-8 bytes, ``whsec_`` and all), of the
time, a full stop and the raw body::

    v1 = hex(HMAC-SHA256(secret, f"{t}.".encode() + body))

A receiver recomputes it over the bytes it received (before parsing them), compares in
constant time, and refuses a ``t`` further than its tolerance from its own clock: a captured
request replayed later then fails, and a changed ``t`` breaks the MAC.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Zones-Signature"
TOLERANCE_SECONDS = 300


def mac(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def header(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the ``Zones-Signature`` header for ``body`` signed at ``timestamp``."""
    return f"t={timestamp},v1={mac(secret, timestamp, body)}"


def verify(
    secret: str, value: str, body: bytes, now: float, tolerance: float = TOLERANCE_SECONDS
) -> bool:
    """Whether ``value`` (a ``Zones-Signature`` header) signs ``body`` and is recent."""
    parts = dict(p.split("=", 1) for p in value.split(",") if "=" in p)
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    if not stamp.isdigit() or abs(now - int(stamp)) > tolerance:
        return False
    return hmac.compare_digest(given, mac(secret, int(stamp), body))
