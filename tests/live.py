"""The app served for real, by uvicorn on a localhost port, for tests that need a live server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from fastapi import FastAPI

from service.app import create_app
from service.settings import Settings


@contextmanager
def serve(settings: Settings, sock: socket.socket | None = None) -> Iterator[str]:
    """Serve ``create_app(settings)`` in a thread; yields its base URL, stops it afterwards.

    ``sock``: a socket already bound, for settings that must name the server's own address.
    """
    with serve_app(create_app(settings), sock) as base:
        yield base


@contextmanager
def serve_app(app: FastAPI, sock: socket.socket | None = None) -> Iterator[str]:
    """Serve ``app`` in a thread; yields its base URL, stops it afterwards."""
    if sock is None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))  # the port is ours from here on: no race for a "free" one
    host, port = sock.getsockname()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="none", lifespan="on"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive():
                pytest.fail("uvicorn stopped during start-up (see the captured log)")
            if time.monotonic() > deadline:
                pytest.fail("uvicorn did not start within 30 s")
            time.sleep(0.02)
        with socket.create_connection((host, port), timeout=5):
            pass  # it accepts connections
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
    assert not thread.is_alive(), "uvicorn did not shut down"
