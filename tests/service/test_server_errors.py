"""An unexpected error answers 500 without ending the connection: the client's next request
on it is served (it was reset before, as uvicorn closes a connection whose app raised)."""

from __future__ import annotations

import http.client
import json
import logging
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI

from tests.live import serve_app


def test_after_a_500_the_same_connection_serves_the_next_request(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise RuntimeError("a bug, with a secret detail")

    app.add_api_route("/api/v1/broken-for-this-test", broken)
    with serve_app(app) as base, caplog.at_level(logging.ERROR):
        url = urlsplit(base)
        connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
        connection.request("GET", "/api/v1/broken-for-this-test")
        first = connection.getresponse()
        answer = json.loads(first.read())
        assert first.status == 500
        assert answer["error"]["code"] == "internal_error"
        assert "secret" not in json.dumps(answer)  # the detail goes to the log only
        assert first.getheader("connection") != "close"
        connection.request("GET", "/openapi.json")  # same connection
        second = connection.getresponse()
        assert second.status == 200 and second.read()
        connection.close()
    [logged] = [r for r in caplog.records if r.getMessage().startswith("unhandled error")]
    assert logged.exc_info and "secret detail" in str(logged.exc_info[1])
    ref = answer["error"]["message"].split("(ref ")[1].rstrip(")")
    assert ref in logged.getMessage()
