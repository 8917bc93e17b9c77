"""Live alerts for open pages: server-sent events, with what a reconnecting page missed.

The stream takes a database connection only for moments (to check the user, to catch up),
never for its lifetime: the events come from the process's one listening connection
(``service.events``). A page that reconnects sends ``Last-Event-ID`` (browsers do it by
themselves) and first gets every event after it. Logging out or being disabled ends it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from service.api import out
from service.api.deps import SettingsDep, oauth2, user_of
from service.api.schemas import ErrorResponse
from service.auth import NotAuthenticated, User
from service.credentials import recheck
from service.db import alerts_store
from service.events import AlertHub, Message, Renderer
from zones.errors import Forbidden, ZonesError
from zones.permissions import DESCRIPTIONS, Action, grant

router = APIRouter(tags=["alerts"])
KEEPALIVE_SECONDS = 15.0
REPLAY_LIMIT = 1000
LOOKBACK = 1000  # how far below the newest id sent a late commit is still looked for


class StreamUnavailable(ZonesError):
    code = "stream_unavailable"


def render(session: Session, events: list[alerts_store.Event]) -> list[tuple[int, str, str | None]]:
    """Each event as the JSON a page receives (the event and the alert as it is now), with
    the unit of the alert's subject, which decides who receives it."""
    alerts = {a.id: a for a in alerts_store.get_many(session, sorted({e.alert_id for e in events}))}
    rendered = []
    for e in events:
        alert = alerts.get(e.alert_id)
        if alert is not None:
            body = {
                "event_id": e.id,
                "kind": e.kind,
                "at": e.at.isoformat(),
                "alert": out.alert(alert).model_dump(mode="json"),
            }
            rendered.append((e.id, json.dumps(body), alert.subject_unit))
    return rendered


def renderer(sessions: sessionmaker[Session]) -> Renderer:
    """How the hub renders one event, once for every stream of the process."""

    def one(event_id: int) -> tuple[str, str | None] | None:
        with sessions() as session:
            found = alerts_store.event(session, event_id)
            done = render(session, [found]) if found is not None else []
        return (done[0][1], done[0][2]) if done else None

    return one


class Sent:
    """The event ids one stream has sent.

    An id is taken when a change is written but the change is heard when it commits, and
    two processes' transactions commit in either order: event 41 may be heard after 42.
    So a stream sends every event it has not sent yet, not only those above the newest.
    """

    def __init__(self, start: int) -> None:
        self.start = start  # the page has (or was just given) everything up to here
        self.last = start
        self.ids: set[int] = set()

    def add(self, event_id: int) -> bool:
        """Note ``event_id`` as sent; False if it already was."""
        if event_id in self.ids:
            return False
        self.ids.add(event_id)
        self.last = max(self.last, event_id)
        if len(self.ids) > 2 * LOOKBACK:
            self.ids = {i for i in self.ids if i > self.last - LOOKBACK}
        return True

    def floor(self) -> int:
        """Where catching up starts: late commits below the newest are looked for too."""
        return max(self.start, self.last - LOOKBACK)


def _sse(event: str, data: str, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {data}\n\n"


@router.get(
    "/alerts/stream",
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "server-sent events"},
        401: {"model": ErrorResponse},
        503: {"model": ErrorResponse},
    },
)
async def alert_stream(
    request: Request,
    settings: SettingsDep,
    token: Annotated[str | None, Query(include_in_schema=False)] = None,
    after: Annotated[
        int | None, Query(ge=0, description="Replay events after this id (as Last-Event-ID)")
    ] = None,
    last_event_id: Annotated[int | None, Header(alias="Last-Event-ID", ge=0)] = None,
) -> StreamingResponse:
    """New alerts and changes to alerts, as they are committed, by any server process.

    Each ``alert`` event carries ``event_id``, ``kind`` (opened, extended, closed, action)
    and the alert as it is now. A client that reconnects with ``Last-Event-ID`` (or
    ``?after=``) first gets every event after that id. ``signed_out`` ends the stream.
    """
    if token is not None:
        raise NotAuthenticated("send the token in the Authorization header, not the URL")
    hub: AlertHub | None = getattr(request.app.state, "hub", None)
    if hub is None:
        raise StreamUnavailable("live events are not available in this process")
    sessions: sessionmaker[Session] = request.app.state.sessionmaker
    bearer = await oauth2(request)

    def authenticate() -> User:
        with sessions() as session:
            return user_of(request, settings, session, bearer)

    user = await anyio.to_thread.run_sync(authenticate)
    allowed = grant(Action.ALERT_READ, user.role, user.units)
    if allowed is None:
        raise Forbidden(f"role {user.role.value!r} may not {DESCRIPTIONS[Action.ALERT_READ]}")
    start = last_event_id if last_event_id is not None else after

    def missed(last: int) -> list[tuple[int, str, str | None]]:
        with sessions() as session:
            return render(session, alerts_store.events_after(session, last, REPLAY_LIMIT))

    def newest() -> int:
        with sessions() as session:
            return alerts_store.last_event_id(session)

    def still_allowed() -> bool:
        """The user, with the same role, and the sign-in or personal token the stream was
        opened with, are all still live (however old the token itself is by now)."""
        try:
            with sessions() as session:
                return recheck(session, user).role is user.role
        except NotAuthenticated:
            return False

    async def catch_up(sent: Sent, after: int) -> AsyncIterator[str]:
        """Every event after ``after`` not sent yet, in batches until none are left."""
        while True:
            batch = await anyio.to_thread.run_sync(missed, after)
            for event_id, data, unit in batch:
                if sent.add(event_id) and allowed.reaches(unit):
                    yield _sse("alert", data, event_id)
            if len(batch) < REPLAY_LIMIT:
                return
            after = batch[-1][0]

    async def events() -> AsyncIterator[str]:
        # Subscribed inside the generator, whose finally always unsubscribes (a response
        # cut before it starts never runs it), and before catching up, so nothing falls
        # between the two.
        subscription = hub.subscribe()
        try:
            yield "retry: 3000\n\n"
            sent = Sent(start if start is not None else await anyio.to_thread.run_sync(newest))
            if start is not None:
                async for chunk in catch_up(sent, start):
                    yield chunk
            yield _sse("ready", json.dumps({"last_event_id": sent.last}))
            while True:
                try:
                    message: Message = await asyncio.wait_for(
                        subscription.queue.get(), KEEPALIVE_SECONDS
                    )
                except TimeoutError:
                    if not await anyio.to_thread.run_sync(still_allowed):
                        yield _sse("signed_out", "{}")
                        return
                    yield ": keepalive\n\n"
                    continue
                if subscription.lagging or message.kind == "resync":
                    # A full inbox dropped messages: the events are rows to catch up from,
                    # and a dropped log-out is found by asking the database.
                    dropped, subscription.lagging = subscription.lagging, False
                    async for chunk in catch_up(sent, sent.floor()):
                        yield chunk
                    if dropped and not await anyio.to_thread.run_sync(still_allowed):
                        yield _sse("signed_out", "{}")
                        return
                if message.kind == "alert":
                    if sent.add(message.event_id) and allowed.reaches(message.unit):
                        yield _sse("alert", message.data, message.event_id)
                elif (message.kind == "revoked" and message.credential == user.credential) or (
                    message.kind == "user_disabled" and message.username == user.username
                ):
                    yield _sse("signed_out", "{}")
                    return
                elif message.kind == "closing":
                    return
        finally:
            hub.unsubscribe(subscription)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
