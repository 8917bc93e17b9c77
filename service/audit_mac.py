"""The audit log's MACs: an entry's content byte for byte, and how sealed entries chain.

Every entry gets a *row MAC* when it is written: HMAC-SHA256, under the installation's audit
key, of its canonical content (when, who, what, from where, why, to whom, which records).
Writers share nothing, so writing the audit takes no lock. The *sealer* later gives each
committed entry the next place in one chain::

    chain_mac[n] = HMAC(key, chain_mac[n-1] || n || entry id || row_mac)

so deleting, reordering or altering a sealed entry breaks the chain from there on. The key
is not in the database: whoever owns the database cannot recompute either MAC.

The content of ``detail`` and ``records`` is compared by value, as PostgreSQL's ``jsonb``
keeps it: keys in order, numbers as exact decimals (``1e20`` comes back as
``100000000000000000000``, ``1.0`` as ``1.0``), so the MAC made from the values written
matches the one made from the row read back, and any change of value shows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Context, Decimal
from json.encoder import encode_basestring_ascii as _string  # one spelling per string
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from service.settings import Settings

VERSION = "zones-audit/1"
GENESIS = bytes(32)  # what the first sealed entry follows
HEAD_FILE = "audit-head"


@dataclass(frozen=True)
class AuditKey:
    """The key that MACs the audit, and where the sealed head is recorded outside the
    database (in the state folder, beside the key)."""

    secret: bytes = field(repr=False)
    head_file: Path

    @classmethod
    def of(cls, settings: Settings) -> AuditKey:
        assert settings.audit.key is not None  # filled in from the state folder if not given
        return cls(settings.audit.key.encode(), settings.state_dir / HEAD_FILE)


@dataclass(frozen=True)
class Content:
    """What a row MAC covers: every column of an entry but its id and seal."""

    at: datetime
    username: str
    action: str
    object_type: str | None
    object_id: str | None
    reason: str | None
    client: str | None
    recipient: str | None
    detail: str | None  # JSON text: as sent to the database, or as it gives it back
    records: str | None


def row_mac(key: AuditKey, content: Content) -> bytes:
    """The MAC of one entry's content."""
    return hmac.digest(key.secret, canonical(content), hashlib.sha256)


def chain_mac(key: AuditKey, previous: bytes, position: int, entry_id: int, row: bytes) -> bytes:
    """The MAC that puts entry ``entry_id`` at ``position``, after ``previous``."""
    message = (
        previous
        + position.to_bytes(8, "big", signed=True)
        + entry_id.to_bytes(8, "big", signed=True)
        + row
    )
    return hmac.digest(key.secret, message, hashlib.sha256)


def canonical(content: Content) -> bytes:
    """One byte string per distinct content; the same whether built before the insert or
    from the row read back."""
    at = content.at.astimezone(UTC).isoformat(timespec="microseconds")
    texts = (
        VERSION, at, content.username, content.action, content.object_type, content.object_id,
        content.reason, content.client, content.recipient,
    )  # fmt: skip
    parts = ["null" if t is None else _string(t) for t in texts]
    parts.append(_canon(_exact(content.detail)))
    parts.append(_canon(_exact(content.records)))
    return ("[" + ",".join(parts) + "]").encode()


def _exact(text: str | None) -> Any:
    """JSON text as values, numbers exactly (never through a binary float)."""
    return None if text is None else _DECODER.decode(text)


def _fraction(literal: str) -> int | Decimal:
    """A number written with a point or an exponent: an int when whole (``1.0``, ``1e20``, as
    jsonb may give them back), else its exact decimal value."""
    value = Decimal(literal)
    if not value.is_finite():
        raise ValueError("an audit entry cannot hold NaN or infinity")
    return int(value) if value == value.to_integral_value() else value


_DECODER = json.JSONDecoder(parse_float=_fraction)


def _canon(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is int:
        return str(value)
    if kind is dict:
        items = sorted(value.items())
        return "{" + ",".join(_string(k) + ":" + _canon(v) for k, v in items) + "}"
    if kind is list:
        return "[" + ",".join(_canon(v) for v in value) + "]"
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is Decimal:
        return _decimal(value)
    raise TypeError(f"an audit entry cannot hold a {kind.__name__}")


def _decimal(value: Decimal) -> str:
    """A fraction's exact value in one spelling: digits without trailing zeros, a negative
    exponent (whole numbers are ints, spelt as such)."""
    sign, digits, exponent = value.normalize(Context(prec=len(value.as_tuple().digits))).as_tuple()
    assert isinstance(exponent, int)
    return ("-" if sign else "") + "".join(map(str, digits)) + f"e{exponent}"
