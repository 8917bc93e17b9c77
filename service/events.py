"""Live events: one PostgreSQL LISTEN connection per server process, fanned out to streams.

Alert changes are numbered rows of ``alert_events``; a trigger NOTIFYs ``zones_events``
with the number when the row is committed, whichever process (or worker, or CLI) wrote
it. Each server process keeps one dedicated connection listening (never one from the
pool) and hands every event to the open streams of that process, rendered once. Log-outs
and disabled users are announced on the same channel, so their streams end at once.

If the listening connection drops, the hub reconnects and tells every stream to catch up
from the database (events are rows, so nothing is lost while it was away).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

import anyio
import psycopg

log = logging.getLogger(__name__)
CHANNEL = "zones_events"
QUEUE_SIZE = 1000
RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class Message:
    """What a stream is told: an alert event (rendered), a session ended, or 'catch up'."""

    kind: str  # "alert", "revoked", "user_disabled", "resync", "closing"
    event_id: int = 0
    data: str = ""  # the rendered event, for "alert"
    unit: str | None = None  # the unit of the alert's subject: who may be told
    credential: str | None = None  # for "revoked": the sign-in or personal token ended
    username: str | None = None


Renderer = Callable[[int], tuple[str, str | None] | None]  # the event, its subject's unit


class Subscription:
    """One open stream's inbox."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self.lagging = False

    def put(self, message: Message) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            # A stream too slow to keep up catches up from the database instead.
            self.lagging = True


class AlertHub:
    """Listens on ``zones_events`` and fans each event out to every subscription."""

    def __init__(self, conninfo: str, render: Renderer) -> None:
        self.conninfo = conninfo
        self.render = render
        self.subscriptions: set[Subscription] = set()
        self.connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="alert-hub")

    async def stop(self) -> None:
        for sub in list(self.subscriptions):
            sub.put(Message("closing"))
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def subscribe(self) -> Subscription:
        sub = Subscription()
        self.subscriptions.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self.subscriptions.discard(sub)

    def _broadcast(self, message: Message) -> None:
        for sub in list(self.subscriptions):
            sub.put(message)

    async def _run(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.connected.set()
                    # Events may have come and gone while nobody listened: after a lost
                    # connection, or before the first one if streams opened meanwhile.
                    self._broadcast(Message("resync"))
                    async for note in conn.notifies():
                        await self._dispatch(note.payload)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.connected.clear()
                log.warning("alert event listener lost its connection; retrying", exc_info=True)
                await asyncio.sleep(RETRY_SECONDS)

    async def _dispatch(self, payload: str) -> None:
        try:
            body = json.loads(payload)
            kind = body["kind"]
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed %s notification", CHANNEL)
            return
        if kind == "alert":
            if not self.subscriptions:
                # No page of this process is listening: rendering would read the alert for
                # nobody, on every change of every stay. A page that opens later catches up
                # from the stored events (Last-Event-ID), so nothing is lost.
                return
            event_id = int(body["id"])
            rendered = await anyio.to_thread.run_sync(self.render, event_id)
            if rendered is not None:
                self._broadcast(Message("alert", event_id, rendered[0], unit=rendered[1]))
        elif kind == "revoked":
            self._broadcast(Message("revoked", credential=str(body.get("credential"))))
        elif kind == "user_disabled":
            self._broadcast(Message("user_disabled", username=str(body.get("username"))))
