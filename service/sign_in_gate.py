"""The door to signing in: rate per client and per account, and a few sign-ins at a time.

Checking a password costs argon2's tens of milliseconds of CPU and 64 MiB: the one expensive
thing anyone may ask for without signing in. Before a sign-in reaches its handler (and so
before any thread, database connection or hash is spent on it) this middleware:

1. refuses a client address that has sent more than its share lately (a token bucket per
   address, as :func:`service.sign_in_limits.client_address` tells them: a forged
   ``X-Forwarded-For`` counts only from a configured trusted proxy);
2. reads the form (small: the body cap for strangers applies) and refuses a username asked
   for too often lately (a token bucket per account);
3. admits ``concurrent`` sign-ins at a time per process. Up to ``queue`` more wait for a
   turn in the event loop, holding no thread (sync handlers share anyio's thread pool with
   every signed-in user's request: waiting sign-ins must not take it); more than that, or a
   wait longer than ``wait_seconds``, is refused.

A refusal is a 429 with ``Retry-After``, answered ``refusal_delay_seconds`` later: a client
retrying at once on one connection then makes one attempt a second, not thousands. The
failures the database counts (:mod:`service.sign_in_limits`) come on top, shared by every
process; the buckets here are per process.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api import errors
from service.settings import Settings
from service.sign_in_limits import client_address, normal_username

MAX_KEYS = 100_000  # addresses and usernames remembered; the least recently seen go first
MAX_DELAYED = 1_000  # refusals held back at once; beyond that they are answered at once


class Buckets:
    """A token bucket per key: ``burst`` at once, refilled at ``per_minute``."""

    def __init__(
        self,
        per_minute: float,
        burst: int,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate, self.burst, self.max_keys, self.clock = per_minute / 60, burst, max_keys, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        """Take a token for ``key``: 0 when there was one, else the seconds until there is."""
        now = self.clock()
        tokens, then = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait


class Slots:
    """``size`` turns at a time; at most ``queue`` callers wait for one, each ``wait_s`` at
    most. Waiting happens in the event loop; a released turn passes to the longest waiter."""

    def __init__(self, size: int, queue: int, wait_s: float) -> None:
        self.size, self.queue, self.wait_s = size, queue, wait_s
        self.busy = 0
        self.waiting: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> bool:
        """True with a turn (give it back with :meth:`release`), False when refused."""
        if self.busy < self.size and not self.waiting:
            self.busy += 1
            return True
        if len(self.waiting) >= self.queue:
            return False
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append(turn)
        try:
            await asyncio.wait({turn}, timeout=self.wait_s)
        except asyncio.CancelledError:  # the client went away while waiting
            if turn.done() and not turn.cancelled():
                self.release()  # it had just been handed a turn: pass it on
            else:
                self._forget(turn)
            raise
        if turn.done():
            return True
        self._forget(turn)
        return False

    def release(self) -> None:
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():
                turn.set_result(None)  # the turn moves on: ``busy`` is unchanged
                return
        self.busy -= 1

    def _forget(self, turn: asyncio.Future[None]) -> None:
        turn.cancel()
        if turn in self.waiting:
            self.waiting.remove(turn)


class SignInGate:
    """Rate and concurrency limits in front of the sign-in routes (``POST`` to ``api_paths``,
    answered in JSON, or to ``page_paths``, answered with a page)."""

    def __init__(
        self, app: ASGIApp, settings: Settings, api_paths: set[str], page_paths: set[str]
    ) -> None:
        self.app, self.settings = app, settings
        self.api_paths, self.page_paths = frozenset(api_paths), frozenset(page_paths)
        limits = settings.sign_in
        self.clients = Buckets(limits.per_client_per_minute, limits.per_client_burst)
        self.accounts = Buckets(limits.per_account_per_minute, limits.per_account_burst)
        self.slots = Slots(limits.concurrent, limits.queue, limits.wait_seconds)
        self.delayed = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope.get("method") != "POST"
            or path not in self.api_paths | self.page_paths
        ):
            await self.app(scope, receive, send)
            return
        client = client_address(Request(scope), self.settings.auth.proxies)
        wait = self.clients.take(client)
        if wait:
            await self._refuse(scope, send, "too many sign-ins from this address", wait)
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client went away
        username = _username(scope, body)
        wait = self.accounts.take(normal_username(username)) if username is not None else 0
        if wait:
            await self._refuse(scope, send, "too many sign-ins for this account", wait)
            return
        if not await self.slots.acquire():
            await self._refuse(
                scope, send, "too many sign-ins at once", self.settings.sign_in.wait_seconds
            )
            return
        try:
            await self.app(scope, _replay(body, receive), send)
        finally:
            self.slots.release()

    async def _refuse(self, scope: Scope, send: Send, why: str, wait: float) -> None:
        retry = max(1, math.ceil(wait))
        delay = self.settings.sign_in.refusal_delay_seconds
        if delay and self.delayed < MAX_DELAYED:
            self.delayed += 1
            try:
                await asyncio.sleep(delay)
            finally:
                self.delayed -= 1
        response = self._answer(scope, f"{why}: try again in {retry} s", retry)
        response.headers["Retry-After"] = str(retry)
        await response(scope, _no_body, send)

    def _answer(self, scope: Scope, message: str, retry: int) -> Response:
        if scope["path"] in self.page_paths:
            from service.pages.render import render

            return render(
                Request(scope), "error.html", title="Try again shortly", user=None,
                settings=self.settings, heading="Too many sign-ins", message=message,
                status_code=429,
            )  # fmt: skip
        return JSONResponse(errors.body("too_many_sign_ins", message, "username"), 429)


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _username(scope: Scope, body: bytes) -> str | None:
    """The username of a URL-encoded sign-in form (other encodings: None, not counted here;
    the database's failure count still applies)."""
    kind = dict(scope.get("headers", [])).get(b"content-type", b"").split(b";")[0].strip()
    if kind != b"application/x-www-form-urlencoded":
        return None
    try:
        names = parse_qs(body.decode("latin-1"), max_num_fields=20).get("username")
    except ValueError:  # more fields than any sign-in form has
        return None
    return names[0] if names else None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _no_body() -> Message:
    return {"type": "http.disconnect"}
