"""Refusing big request bodies before anything reads them, and small ones from strangers.

A caller with a well-signed, unexpired bearer token or session cookie may send up to
``max_body_bytes`` (a batch of fixes, a city boundary); anyone else up to
``anonymous_body_bytes``, which a sign-in form fits. Telling them apart costs one HMAC
(:func:`service.sign_ins.read`, or a personal access token's tag), never the database,
so a forged ``Authorization`` header does not lift the cap and a stranger cannot make the
server read 16 MB to answer 401.
A declared ``Content-Length`` over the cap is refused without reading a byte; a body sent
without one is counted as it arrives and refused as soon as it passes the cap.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import personal_tokens, sign_ins
from service.api import errors
from service.auth import NotAuthenticated, signing_key
from service.settings import ApiSettings, AuthSettings


class BodyOverLimit(HTTPException):
    """Raised from ``receive`` when the body passes the cap. An HTTP exception, so that
    FastAPI's own body reading hands it on as a 413 instead of a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over {limit} bytes")
        self.limit = limit


class BodyLimit:
    """413 for a body over the caller's cap, before anything parses it."""

    def __init__(self, app: ASGIApp, api: ApiSettings, auth: AuthSettings) -> None:
        self.app, self.api, self.auth = app, api, auth

    def limit_for(self, scope: Scope) -> int:
        """The full limit for a caller with valid credentials, the small one for others."""
        return self.api.max_body_bytes if self._signed_in(scope) else self.api.anonymous_body_bytes

    def _signed_in(self, scope: Scope) -> bool:
        tokens = []
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and token.strip():
                    tokens.append(token.strip())
            elif name == b"cookie":
                cookie = cookie_parser(value.decode("latin-1")).get(self.auth.cookie_name)
                if cookie:
                    tokens.append(cookie)
        key = signing_key(self.auth)
        for token in tokens:
            if personal_tokens.is_personal(token):
                if personal_tokens.well_signed(token, key):
                    return True
                continue
            try:
                sign_ins.read(token, self.auth)
            except NotAuthenticated:
                continue
            return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await refusal(limit)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyOverLimit(limit)
            return message

        try:
            await self.app(scope, counted, send)
        except BodyOverLimit:  # raised where nothing turned it into an answer (a middleware)
            await refusal(limit)(scope, receive, send)


def refusal(limit: int) -> JSONResponse:
    return JSONResponse(
        errors.body("body_too_large", f"request body over {limit} bytes", "body"), 413
    )
