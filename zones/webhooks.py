"""Webhooks as configured: the events they are told of, how much they are told, where.

A receiver is told the least it needs: references, not names or positions, unless an admin
configured it for more (``Detail``).
"""

from __future__ import annotations

import enum
import re
from urllib.parse import urlsplit

from zones.errors import InvalidWebhook

MAX_URL = 2000
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")


class Event(enum.StrEnum):
    OPENED = "opened"  # an alert is raised
    CLOSED = "closed"  # its stay ended (or it was merged into another)
    HANDLED = "handled"  # acknowledged, resolved or reopened


class Detail(enum.StrEnum):
    REFERENCES = "references"  # ids, references, kinds, times, zone name, link
    NAMES = "names"  # and the subject's name
    POSITIONS = "positions"  # and the name and where the alert is


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise InvalidWebhook(
            "a webhook's name is 1-80 lower-case letters, digits, '.', '_' or '-'", field="name"
        )
    return name


def check_url(url: str, *, require_https: bool) -> str:
    """An http(s) URL with a host and no credentials in it (they would be logged)."""
    if len(url) > MAX_URL:
        raise InvalidWebhook(f"the URL is longer than {MAX_URL} characters", field="url")
    try:
        parts = urlsplit(url)
        no_port = parts.port == 0  # a port out of range raises here
    except ValueError as exc:
        raise InvalidWebhook(f"not a URL: {exc}", field="url") from None
    if parts.scheme not in ("https", "http") or not parts.hostname or no_port:
        raise InvalidWebhook("the URL must be http:// or https:// with a host", field="url")
    if require_https and parts.scheme != "https":
        raise InvalidWebhook("in production a webhook's URL must be https://", field="url")
    if parts.username or parts.password:
        raise InvalidWebhook("put no user or password in the URL", field="url")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise InvalidWebhook("the URL may not hold spaces or control characters", field="url")
    return url


def check_events(events: list[str]) -> list[str]:
    """The events in their canonical order; at least one, each known."""
    known = {e.value for e in Event}
    bad = [e for e in events if e not in known]
    if bad or not events:
        raise InvalidWebhook(
            f"events must be some of {', '.join(e.value for e in Event)}"
            + (f"; not {bad[0]!r}" if bad else ""),
            field="events",
        )
    return [e.value for e in Event if e.value in events]
