"""Refusing NUL characters before anything reads a request: PostgreSQL cannot store them in
text, and no name, note or reference has a use for one. A clear 422 at the door instead of
a database error (a 500) deep inside."""

from __future__ import annotations

import re

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# "\u0000" in JSON text: a backslash escape (an odd run of backslashes) followed by u0000.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
_URL_NUL = re.compile(rb"%00")
TEXT_BODIES = (b"application/json", b"application/x-www-form-urlencoded")


def _refusal(where: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": {
                "code": "invalid_text",
                "message": "text may not contain NUL characters (\\u0000)",
                "field": where,
            }
        },
        status_code=422,
    )


class RefuseNul:
    """422 for a NUL in the path, the query string, or a JSON or form body (files pass)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope.get("path", ""):
            await _refusal("path")(scope, receive, send)
            return
        query: bytes = scope.get("query_string", b"")
        if b"\x00" in query or _URL_NUL.search(query):
            await _refusal("query")(scope, receive, send)
            return
        kind = dict(scope.get("headers", [])).get(b"content-type", b"").split(b";")[0].strip()
        if kind not in TEXT_BODIES:
            await self.app(scope, receive, send)
            return
        # Text bodies are small (the body limit applies first): read it whole, look, replay.
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        pattern = _JSON_NUL if kind == b"application/json" else _URL_NUL
        if b"\x00" in body or pattern.search(body):
            await _refusal("body")(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
