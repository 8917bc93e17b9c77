"""The trackers' own HTTP protocols: OsmAnd (the Traccar Client and OsmAnd apps), Traccar's
position forwarding, and OwnTracks over HTTP.

These routes are authenticated by a device's or gateway's credential, never a user's:
each request may submit only for the credential's devices. Each is a thin adapter: read
the protocol (``zones.feeds``), hand the fixes to :func:`service.feeds.intake.accept`,
answer as the client expects.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from service.api.deps import SessionDep, SettingsDep
from service.api.errors import error_body
from service.api.schemas import LINE_PATTERN, ErrorResponse
from service.auth import NotAuthenticated
from service.feeds import credentials, intake
from service.feeds.credentials import Presented
from service.settings import Settings
from zones.errors import UnknownDevice, ZonesError
from zones.feeds import osmand, owntracks, traccar
from zones.feeds.fix import FeedFix

router = APIRouter(prefix="/feeds")
OSMAND = "/api/v1/feeds/osmand"  # where the OsmAnd port's requests are served
ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse, "description": "No credential, or an unknown or revoked one"},
    404: {"model": ErrorResponse, "description": "A device this credential may not submit for"},
    422: {"model": ErrorResponse, "description": "A payload that cannot be read or stored"},
}
OSMAND_ANSWERS: dict[int | str, dict[str, object]] = {
    200: {"description": "Stored (or already stored): an empty body, as Traccar answers"},
    400: {"model": ErrorResponse, "description": "Refused: unreadable, or a device this "
          "credential may not submit for, as Traccar answers (the body says why)"},
    401: {"model": ErrorResponse, "description": "No credential, or an unknown or revoked one"},
}  # fmt: skip
KEY = Annotated[
    str,
    Path(
        min_length=8,
        max_length=100,
        pattern=r"^[A-Za-z0-9_\-]+$",
        description="A device's or gateway's secret, for clients that send only their id",
    ),
]


async def raw_body(request: Request) -> bytes:
    return await request.body()


Body = Annotated[bytes, Depends(raw_body)]


def presented(request: Request, session: Session, key: str | None = None) -> Presented:
    """The credential a request carries: in the URL (``key``), as a bearer token, or as the
    password of HTTP Basic with the credential's username."""
    if key is not None:
        return credentials.authenticate(session, key)
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return credentials.authenticate(session, value.strip())
    if scheme.lower() == "basic":
        try:
            user, colon, secret = (
                base64.b64decode(value.strip(), validate=True).decode().partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            raise NotAuthenticated("HTTP Basic credentials that cannot be read") from None
        if colon:
            return credentials.authenticate(session, secret, username=user)
    raise NotAuthenticated(
        "send the device's or gateway's secret: Authorization: Bearer <secret>, HTTP Basic "
        "with it as password, or (OsmAnd) at the end of the URL"
    )


def _submit(session: Session, settings: Settings, who: Presented, fixes: list[FeedFix]) -> None:
    """Accept the fixes for the credential and commit; raise the first refusal."""
    results = intake.accept(
        session, fixes, settings.api, reporter=who.reporter, devices=who.devices,
        credential_id=who.id,
    )  # fmt: skip
    session.commit()  # the stored fixes, and the count of refused ones, either way
    for r in results:
        if r.error is not None:
            raise r.error


def _only_device(session: Session, who: Presented, device: str) -> None:
    """A message without a position still names its device: it must be the credential's."""
    if device not in who.devices:
        credentials.note_use(session, who.id, [device], datetime.now(UTC))
        session.commit()
        raise UnknownDevice(
            f"device {device!r} is not one this credential may submit for", field="device"
        )


def _osmand(
    request: Request, body: bytes, session: Session, settings: Settings, key: str | None
) -> Response:
    who = presented(request, session, key)
    try:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            message = osmand.read_json(body)
        else:
            pairs = request.query_params.multi_items()
            if not pairs:  # as Traccar: parameters in the query, or else a form body
                pairs = parse_qsl(body.decode("ascii", "replace"), keep_blank_values=True)
            message = osmand.read_query(pairs, received_at=datetime.now(UTC))
        if message.fix is None:
            _only_device(session, who, message.device)
        else:
            _submit(session, settings, who, [message.fix])
    except NotAuthenticated:
        raise
    except ZonesError as exc:  # the OsmAnd clients know 200 and 400, as Traccar answers
        return JSONResponse(error_body(exc), status_code=400)
    return Response(status_code=200)


@router.get("/osmand", tags=["osmand"], operation_id="osmand_get", responses=OSMAND_ANSWERS,
            response_class=Response)  # fmt: skip
def osmand_get(
    request: Request, body: Body, session: SessionDep, settings: SettingsDep
) -> Response:
    """OsmAnd protocol (the OsmAnd app's online tracking): `id`, `lat`, `lon`, `timestamp`,
    `speed` (knots), `bearing`, `altitude`, `accuracy`, `batt`, `valid`, `alarm`, ... in
    the query; the credential in the Authorization header."""
    return _osmand(request, body, session, settings, None)


@router.post("/osmand", tags=["osmand"], operation_id="osmand_post", responses=OSMAND_ANSWERS,
             response_class=Response)  # fmt: skip
def osmand_post(
    request: Request, body: Body, session: SessionDep, settings: SettingsDep
) -> Response:
    """OsmAnd protocol by POST: the query string, a form, or the Traccar Client app's JSON
    (`{"device_id", "location": {"timestamp", "coords": {...}, "battery": {...}}}`)."""
    return _osmand(request, body, session, settings, None)


@router.get("/osmand/{key}", tags=["osmand"], operation_id="osmand_get_with_key",
            responses=OSMAND_ANSWERS, response_class=Response)  # fmt: skip
def osmand_get_with_key(
    key: KEY, request: Request, body: Body, session: SessionDep, settings: SettingsDep
) -> Response:
    """OsmAnd protocol with the secret in the URL, for clients that send only their `id`."""
    return _osmand(request, body, session, settings, key)


@router.post("/osmand/{key}", tags=["osmand"], operation_id="osmand_post_with_key",
             responses=OSMAND_ANSWERS, response_class=Response)  # fmt: skip
def osmand_post_with_key(
    key: KEY, request: Request, body: Body, session: SessionDep, settings: SettingsDep
) -> Response:
    """OsmAnd protocol by POST with the secret in the URL: the Traccar Client app's server
    URL is `https://HOST/api/v1/feeds/osmand/<secret>`."""
    return _osmand(request, body, session, settings, key)


@router.post("/traccar", tags=["traccar"], operation_id="traccar_forward", responses=ERRORS,
             status_code=200, response_class=Response)  # fmt: skip
def traccar_forward(
    request: Request, body: Body, session: SessionDep, settings: SettingsDep
) -> Response:
    """Traccar position forwarding (`forward.type=json`): `{"position": {...}, "device":
    {...}}`, from a Traccar server with a gateway credential in `forward.header`
    (`Authorization: Bearer <secret>`). Alarms (tamper, power cut, low battery) are kept.
    Any answer but 2xx makes Traccar retry, when `forward.retry.enable` is on."""
    who = presented(request, session)
    _submit(session, settings, who, [traccar.read_forwarded(body)])
    return Response(status_code=200)


@router.post("/owntracks", tags=["owntracks"], operation_id="owntracks_publish",
             responses={200: {"description": "Stored: an empty JSON array, as OwnTracks "
                              "expects"}, **ERRORS})  # fmt: skip
def owntracks_publish(
    request: Request,
    body: Body,
    session: SessionDep,
    settings: SettingsDep,
    x_limit_u: Annotated[str | None, Header(max_length=100, pattern=LINE_PATTERN)] = None,
    x_limit_d: Annotated[str | None, Header(max_length=100, pattern=LINE_PATTERN)] = None,
    u: Annotated[
        str | None, Query(max_length=100, pattern=LINE_PATTERN, description="OwnTracks user")
    ] = None,
    d: Annotated[
        str | None, Query(max_length=100, pattern=LINE_PATTERN, description="OwnTracks device")
    ] = None,
) -> JSONResponse:
    """OwnTracks over HTTP: the app's JSON (`_type: location` gives a fix; other types are
    accepted and ignored). The device is `user/device`: the user from `X-Limit-U` (or `u`,
    or the HTTP Basic username), the device from `X-Limit-D` (or `d`)."""
    who = presented(request, session)
    user = x_limit_u or u or who.username or ""
    fixes = owntracks.read_message(body, user=user, device=x_limit_d or d or "")
    if fixes:
        _submit(session, settings, who, fixes)
    return JSONResponse([])
