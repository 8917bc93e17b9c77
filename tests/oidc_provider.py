"""A real OpenID Connect provider for tests: ``oidc_provider.mjs`` (the certified npm package
``oidc-provider``) run by node on a socket bound here, so its address is known before it
starts and no other process can take the port in between.

Its signing key is made here, so that tests can also sign ID tokens exactly as the provider
would, with one thing wrong (the issuer, the audience, the expiry...).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx
import pytest
from joserfc.jwk import RSAKey
from pydantic import SecretStr

from service.settings import GroupGrant, OidcSettings
from tests.conftest import ROOT, in_ci
from zones.model import Role

SCRIPT = ROOT / "tests" / "oidc_provider.mjs"
CLIENT_ID = "zones-test"

# The test accounts, keyed by login, with the claims the provider holds for each.
ACCOUNTS: dict[str, dict[str, Any]] = {
    "alice": {
        "preferred_username": "alice.cambs",
        "name": "Alice Officer",
        "groups": ["all-staff", "ppu-cambs-officers"],
    },
    "carol": {
        "preferred_username": "carol.control",
        "name": "Carol Control",
        "groups": ["force-control-room"],
    },
    "mallory": {"preferred_username": "mallory", "name": "Mallory", "groups": ["all-staff"]},
    "sam": {
        "preferred_username": "sam.two-hats",
        "name": "Sam",
        "groups": ["ppu-cambs-officers", "force-control-room"],
    },
    "taken": {"preferred_username": "local-user", "groups": ["ppu-cambs-officers"]},
}
GROUPS = {
    "ppu-cambs-officers": GroupGrant(role=Role.OFFICER, units=["cambs-ppu-city"]),
    "force-control-room": GroupGrant(role=Role.CONTROL_ROOM),
}


@dataclass(frozen=True)
class LocalProvider:
    issuer: str  # what it calls itself
    url: str  # where it listens
    client_secret: str
    key: RSAKey  # its signing key, private part included

    def settings(self, redirect_url: str, issuer: str | None = None) -> OidcSettings:
        """This service's settings for signing in here (``issuer``: to configure another)."""
        return OidcSettings(
            issuer=issuer or self.issuer,
            client_id=CLIENT_ID,
            client_secret=SecretStr(self.client_secret),
            redirect_url=redirect_url,
            scopes="openid profile groups",
            provider_name="Test Constabulary SSO",
            groups=GROUPS,
        )


def _node() -> str:
    node = shutil.which("node")
    installed = (ROOT / "node_modules" / "oidc-provider" / "package.json").is_file()
    if node is None or not installed:
        message = "node and the npm package oidc-provider are needed (./dev.sh installs both)"
        if in_ci():
            pytest.fail(message + "; CI must not skip the single sign-on tests")
        pytest.skip(message)
    return node


def bound_socket(host: str = "127.0.0.1") -> socket.socket:
    """A listening socket on a free port: its address is the provider's before it starts."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((host, 0))
    sock.listen(64)
    return sock


def address_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()
    return f"http://{host}:{port}"


@contextmanager
def running_provider(
    redirect_uris: list[str],
    accounts: Mapping[str, Mapping[str, Any]] = ACCOUNTS,
    issuer: str | None = None,
    sock: socket.socket | None = None,
) -> Iterator[LocalProvider]:
    """The provider, listening on ``sock`` (by default a free port of 127.0.0.1); stopped
    afterwards. ``issuer``: what it should call itself, if not its own address (a provider
    that answers for another issuer)."""
    node = _node()
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, auto_kid=True)
    sock = sock or bound_socket()
    url = address_of(sock)
    provider = LocalProvider(issuer or url, url, secrets.token_urlsafe(24), key)
    setup = {
        "fd": sock.fileno(),
        "issuer": provider.issuer,
        "client": {
            "client_id": CLIENT_ID,
            "client_secret": provider.client_secret,
            "redirect_uris": redirect_uris,
        },
        "jwks": {"keys": [key.as_dict(private=True)]},
        "accounts": accounts,
        "cookie_keys": [secrets.token_urlsafe(24)],
    }
    env = {**os.environ, "ZONES_TEST_OIDC": json.dumps(setup)}
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [node, str(SCRIPT)], cwd=ROOT, env=env, pass_fds=[sock.fileno()],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        sock.close()  # node holds its own copy now
        try:
            _wait_until_serving(proc, url, log)
            yield provider
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_until_serving(proc: subprocess.Popen[bytes], url: str, log: Any) -> None:
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            log.seek(0)
            pytest.fail(f"the test provider stopped:\n{log.read().decode(errors='replace')}")
        try:
            answer = httpx.get(f"{url}/.well-known/openid-configuration", timeout=2)
            if answer.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail("the test provider did not start within 30 s")
        time.sleep(0.05)


def sign_in_at_provider(provider_client: httpx.Client, authorize_url: str, login: str) -> httpx.URL:
    """What a person does at the provider: open its login page and submit their login (or
    nothing, if they are signed in there already); returns the redirect back to this service,
    not followed: that is the service's part."""
    answer = provider_client.get(authorize_url)
    while True:
        if answer.is_redirect and answer.next_request is not None:
            url = answer.next_request.url
            if (url.host, url.port) != (
                provider_client.base_url.host,
                provider_client.base_url.port,
            ):
                return url
            answer = provider_client.send(answer.next_request)
        elif answer.status_code == 200 and "Test identity provider" in answer.text:
            answer = provider_client.post(f"{answer.url}/login", data={"login": login})
        else:
            raise AssertionError(f"the provider answered {answer.status_code}: {answer.text}")
