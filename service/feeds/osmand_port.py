"""The OsmAnd protocol on a port of its own, as Traccar serves it on 5055.

Requests that arrive on that port are the OsmAnd route's: ``/`` (the credential in the
Authorization header) and ``/<secret>`` (the Traccar Client app's server URL
``http://HOST:5055/<secret>``). Nothing else of the service is reachable there, so the
port can be opened to trackers alone.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn import Config, Server

from service.api import errors


class OsmAndPort:
    def __init__(self, app: ASGIApp, port: int, path: str) -> None:
        self.app, self.port, self.path = app, port, path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server")
        if scope["type"] != "http" or not server or server[1] != self.port:
            await self.app(scope, receive, send)
            return
        rest = scope["path"].strip("/")
        if "/" in rest:
            answer = JSONResponse(
                errors.body("not_found", "this port serves the OsmAnd protocol only: / or "
                            "/<secret>"), 404)  # fmt: skip
            await answer(scope, receive, send)
            return
        path = f"{self.path}/{rest}" if rest else self.path
        await self.app({**scope, "path": path, "raw_path": path.encode()}, receive, send)


def serve(config: Config, osmand_port: int) -> None:
    """Serve the app on ``config``'s port and on ``osmand_port`` (one app, two sockets; in
    every worker process when there are several)."""
    from uvicorn.supervisors import Multiprocess

    main_socket = config.bind_socket()
    config.port, main_port = osmand_port, config.port
    sockets = [main_socket, config.bind_socket()]
    config.port = main_port
    if config.workers > 1:
        Multiprocess(config, sockets=sockets).run()
    else:
        Server(config).run(sockets=sockets)
