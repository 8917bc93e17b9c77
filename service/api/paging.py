"""Keyset paging for the lists that grow: an opaque cursor and the headers that carry it.

The bodies stay JSON arrays (or a FeatureCollection), so the next page travels in headers:
``Link: <url>; rel="next"`` (RFC 8288, the full URL with the same filters) and
``Next-Cursor`` (the cursor alone); both are absent on the last page.

A cursor is the sort key of the last item sent (its id last, so the order is total), tagged
with the list and its order and signed with a key derived from the service's signing
secret: the client cannot read anything into it or forge one, and a cursor that was edited,
cut short, or made for another list or order is refused (422 ``invalid_cursor``), never a
500 and never a silently wrong page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request, Response

from service.api.deps import SettingsDep
from service.api.errors import InvalidCursor
from service.api.schemas import Line
from service.auth import signing_key

MAC_BYTES = 16
NEXT_CURSOR = "Next-Cursor"
HEADERS = {
    "Link": {
        "description": 'The next page, as `<url>; rel="next"` (RFC 8288), with the same '
        "filters; absent on the last page",
        "schema": {"type": "string"},
    },
    NEXT_CURSOR: {
        "description": "The cursor of the next page alone (pass it as `cursor`); absent on "
        "the last page",
        "schema": {"type": "string"},
    },
}
Cursor = Annotated[
    Line | None,
    Query(
        max_length=1000,
        description="Where the page starts: the `Next-Cursor` header (or the `Link` URL) "
        "of the page before, with the same filters; omit for the first page",
    ),
]
Key = tuple[Any, ...]
T = TypeVar("T")


def page_responses(model: Any) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answer of a paged list: its body and the two headers."""
    return {200: {"model": model, "headers": HEADERS}}


def _key(secret: str) -> bytes:
    return hashlib.sha256(b"zones list cursor\x00" + secret.encode()).digest()


def _mac(secret: str, payload: bytes) -> bytes:
    return hmac.new(_key(secret), payload, hashlib.sha256).digest()[:MAC_BYTES]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    return value


def _typed(value: Any) -> Any:
    if isinstance(value, dict):
        return datetime.fromisoformat(value["t"])
    return value


def encode(secret: str, order: str, key: Key) -> str:
    """The cursor that starts the page after ``key`` in the list sorted by ``order``."""
    payload = json.dumps([order, [_plain(v) for v in key]], separators=(",", ":")).encode()
    token = base64.urlsafe_b64encode(payload + _mac(secret, payload))
    return token.rstrip(b"=").decode()


def decode(secret: str, order: str, cursor: str, shape: Sequence[type]) -> Key:
    """The sort key a cursor holds, checked: signed by us, for this order, of this shape."""
    refused = InvalidCursor(
        "cursor is not one this list gave (it may be altered, truncated, or from another "
        "list or sort order): start again without it",
        field="cursor",
    )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError) as exc:
        raise refused from exc
    payload, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
    if len(raw) <= MAC_BYTES or not hmac.compare_digest(mac, _mac(secret, payload)):
        raise refused
    try:
        tag, values = json.loads(payload)
        key = tuple(_typed(v) for v in values)
    except (ValueError, TypeError, KeyError) as exc:
        raise refused from exc
    if tag != order or len(key) != len(shape):
        raise refused
    for value, kind in zip(key, shape, strict=True):
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise refused
    return key


def link_next(request: Request, response: Response, cursor: str | None) -> None:
    """Set the ``Link`` and ``Next-Cursor`` headers for the page after this one, if any."""
    if cursor is None:
        return
    url = request.url.remove_query_params("cursor").include_query_params(cursor=cursor)
    response.headers["Link"] = f'<{url}>; rel="next"'
    response.headers[NEXT_CURSOR] = cursor


@dataclass(frozen=True)
class Pager:
    """One request's paging: the cursor it came with, and where the next page's go."""

    request: Request
    response: Response
    secret: str
    cursor: str | None

    def after(self, order: str, shape: Sequence[type]) -> Key | None:
        """The sort key the page starts after (None: the first page)."""
        return None if self.cursor is None else decode(self.secret, order, self.cursor, shape)

    def page(self, found: list[T], limit: int, order: str, key: Callable[[T], Key]) -> list[T]:
        """The page out of ``found`` (read with ``limit + 1``: one more tells that a next
        page exists), with the headers that lead to the next one."""
        if len(found) <= limit:
            return found
        items = found[:limit]
        link_next(self.request, self.response, encode(self.secret, order, key(items[-1])))
        return items


def _pager(
    request: Request, response: Response, settings: SettingsDep, cursor: Cursor = None
) -> Pager:
    return Pager(request, response, signing_key(settings.auth), cursor)


PagerDep = Annotated[Pager, Depends(_pager)]
