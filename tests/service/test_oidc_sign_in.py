"""Signing in through single sign-on, against a real OpenID Connect provider (the certified
``oidc-provider`` on npm, run by node): the whole authorization code flow, and each way it
must refuse."""

from __future__ import annotations

import base64
import json
import logging
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service.app import create_app
from service.auth import add_user
from service.db import tables, units_store
from service.oidc import SignInRefused
from service.oidc.client import OidcClient
from service.settings import Environment, MapSettings, OidcSettings, Settings
from tests.oidc_provider import (
    CLIENT_ID,
    LocalProvider,
    running_provider,
    sign_in_at_provider,
)
from tests.service.conftest import PASSWORD
from zones.model import Role

CALLBACK = "http://testserver/auth/oidc/callback"


@pytest.fixture(scope="module")
def provider() -> Iterator[LocalProvider]:
    with running_provider([CALLBACK]) as running:
        yield running


@pytest.fixture
def settings(provider: LocalProvider) -> Settings:
    return Settings(map=MapSettings(tiles="none"), oidc=provider.settings(CALLBACK))


@pytest.fixture
def web(app: FastAPI, session: Session) -> Iterator[TestClient]:
    """The browser's side at this service (which has the unit the provider's groups name)."""
    units_store.add_unit(session, "cambs-ppu-city", "Cambridgeshire PPU, city")
    session.commit()
    with TestClient(app) as client:
        yield client


@pytest.fixture
def idp(provider: LocalProvider) -> Iterator[httpx.Client]:
    """The same browser's side at the provider (its own cookies there)."""
    with httpx.Client(base_url=provider.url, timeout=10) as client:
        yield client


def start(web: TestClient, next: str = "/") -> str:
    """Click "Sign in with ..."; the provider's authorization URL the browser is sent to."""
    leaving = web.get("/auth/oidc/login", params={"next": next}, follow_redirects=False)
    assert leaving.status_code == 303, leaving.text
    return leaving.headers["location"]


def sign_in(web: TestClient, idp: httpx.Client, login: str, next: str = "/") -> httpx.Response:
    back = sign_in_at_provider(idp, start(web, next), login)
    return web.get(str(back), follow_redirects=False)


def user_row(session: Session, username: str) -> tables.User | None:
    session.expire_all()
    return session.scalar(select(tables.User).where(tables.User.username == username))


def test_a_mapped_user_signs_in_and_gets_a_working_session(
    web: TestClient,
    idp: httpx.Client,
    session: Session,
    provider: LocalProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="service.oidc.accounts")
    assert web.get("/desk", follow_redirects=False).status_code == 303  # to the login page
    asked = parse_qs(urlsplit(start(web)).query)
    assert asked["code_challenge_method"] == ["S256"] and len(asked["code_challenge"][0]) == 43
    assert asked["state"][0] and asked["nonce"][0] and asked["client_id"] == [CLIENT_ID]

    came_back = sign_in(web, idp, "alice", next="/desk")

    assert came_back.status_code == 200
    assert '<meta http-equiv="refresh" content="0; url=/desk">' in came_back.text
    assert "zones_session" in came_back.headers["set-cookie"]
    desk = web.get("/desk", follow_redirects=False)
    assert desk.status_code == 200 and "alice.cambs" in desk.text
    row = user_row(session, "alice.cambs")
    assert row is not None and row.role == "officer" and row.password_hash is None
    assert (row.external_issuer, row.external_subject) == (provider.issuer, "alice")
    assert "alice.cambs is in units cambs-ppu-city" in caplog.text
    assert units_store.memberships(session)["alice.cambs"] == ["cambs-ppu-city"]


def test_a_group_naming_a_unit_the_service_lacks_refuses_the_sign_in(
    web: TestClient, idp: httpx.Client, session: Session
) -> None:
    session.execute(delete(tables.Unit).where(tables.Unit.code == "cambs-ppu-city"))
    session.commit()
    refused = sign_in(web, idp, "alice")
    assert refused.status_code == 403 and "cambs-ppu" in refused.text
    assert user_row(session, "alice.cambs") is None


def test_the_role_follows_the_providers_groups_at_each_sign_in(
    web: TestClient, idp: httpx.Client, session: Session
) -> None:
    assert sign_in(web, idp, "carol").status_code == 200
    row = user_row(session, "carol.control")
    assert row is not None and row.role == "control_room"
    row.role = "supervisor"  # changed here, but the provider's groups say otherwise
    session.commit()
    assert sign_in(web, idp, "carol").status_code == 200
    row = user_row(session, "carol.control")
    assert row is not None and row.role == "control_room"

    row.disabled = True  # disabled here: the provider cannot override that
    session.commit()
    refused = sign_in(web, idp, "carol")
    assert refused.status_code == 403 and "disabled" in refused.text


def test_an_unmapped_user_is_refused_with_no_role_given(
    web: TestClient, idp: httpx.Client, session: Session
) -> None:
    refused = sign_in(web, idp, "mallory")
    assert refused.status_code == 403
    assert "in no group that gives a role in this service" in refused.text
    assert "zones_session" not in refused.headers.get("set-cookie", "")
    assert user_row(session, "mallory") is None
    assert web.get("/desk", follow_redirects=False).status_code == 303


def test_groups_that_give_two_roles_are_refused(web: TestClient, idp: httpx.Client) -> None:
    refused = sign_in(web, idp, "sam")
    assert refused.status_code == 403
    assert "more than one role (control_room, officer)" in refused.text


def test_a_name_a_local_account_has_is_refused_and_the_account_left_alone(
    web: TestClient, idp: httpx.Client, session: Session
) -> None:
    add_user(session, "local-user", PASSWORD, Role.SUPERVISOR)
    session.commit()
    refused = sign_in(web, idp, "taken")
    assert refused.status_code == 403 and "already exists" in refused.text
    row = user_row(session, "local-user")
    assert row is not None and row.external_subject is None and row.role == "supervisor"


def test_an_external_user_has_no_password_and_cannot_be_given_one(
    web: TestClient, idp: httpx.Client, session: Session
) -> None:
    assert sign_in(web, idp, "alice").status_code == 200
    for password in ("anything-at-all", PASSWORD):
        r = web.post("/api/v1/auth/token", data={"username": "alice.cambs", "password": password})
        assert r.status_code == 401 and "wrong username or password" in r.text
    row = user_row(session, "alice.cambs")
    assert row is not None
    row.password_hash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"
    with pytest.raises(IntegrityError, match="one_way_to_sign_in"):
        session.commit()


def test_a_tampered_state_is_refused(web: TestClient, idp: httpx.Client, app: FastAPI) -> None:
    back = sign_in_at_provider(idp, start(web), "alice")
    tampered = back.copy_set_param("state", "x" + back.params["state"][1:])
    refused = web.get(str(tampered), follow_redirects=False)
    assert refused.status_code == 403 and "does not match" in refused.text

    with TestClient(app) as other_browser:  # the right state, but not the browser that asked
        refused = other_browser.get(str(back), follow_redirects=False)
    assert refused.status_code == 403 and "in another browser" in refused.text


def test_a_replayed_code_is_refused(web: TestClient, idp: httpx.Client, app: FastAPI) -> None:
    back = sign_in_at_provider(idp, start(web), "alice")
    carried = web.cookies.get("zones_oidc")
    assert carried
    assert web.get(str(back), follow_redirects=False).status_code == 200

    # The same answer again, even with the browser's pending-sign-in cookie copied along.
    with TestClient(app) as attacker:
        again = attacker.get(str(back), headers={"Cookie": f"zones_oidc={carried}"})
    assert again.status_code == 403 and "used already" in again.text
    assert "zones_session" not in again.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ({"error": "access_denied"}, "did not sign you in"),
        ({"code": "x", "iss": "https://elsewhere.example"}, "does not come from"),
        ({"code": "x", "iss": None}, "does not come from"),  # it says it always sends one
        ({"code": ""}, "no sign-in code"),
    ],
)
def test_a_callback_that_is_not_a_sign_in_is_refused(
    web: TestClient, provider: LocalProvider, query: dict[str, str | None], why: str
) -> None:
    state = parse_qs(urlsplit(start(web)).query)["state"][0]
    params = {"state": state, "iss": provider.issuer, **query}
    refused = web.get(
        "/auth/oidc/callback", params={k: v for k, v in params.items() if v is not None}
    )
    assert refused.status_code == 403 and why in refused.text


def test_a_provider_answering_for_another_issuer_is_refused(
    sessions: sessionmaker[Session],
) -> None:
    with running_provider([CALLBACK], issuer="https://sso.other-force.example") as impostor:
        settings = Settings(
            map=MapSettings(tiles="none"),
            oidc=impostor.settings(CALLBACK, issuer=impostor.url),
        )
        app = create_app(settings)
        app.state.sessionmaker = sessions
        with TestClient(app) as web:
            refused = web.get("/auth/oidc/login", follow_redirects=False)
    assert refused.status_code == 502
    assert "names itself &#39;https://sso.other-force.example&#39;" in refused.text


# -- the ID token's own checks, with tokens signed by the provider's real key --------------------


def _unsigned(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


@pytest.mark.parametrize(
    ("change", "accepted"),
    [
        ({}, True),
        ({"iss": "https://sso.other-force.example"}, False),
        ({"aud": "another-client"}, False),
        ({"aud": None}, False),
        ({"exp": "past"}, False),
        ({"nonce": "another-nonce"}, False),
        ({"nonce": None}, False),
        ({"key": "another"}, False),
        ({"key": "none"}, False),
    ],
    ids=lambda v: ",".join(f"{k}={w}" for k, w in v.items()) if isinstance(v, dict) else str(v),
)
def test_an_id_token_with_anything_wrong_is_refused(
    provider: LocalProvider, change: dict[str, Any], accepted: bool
) -> None:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": provider.issuer,
        "sub": "alice",
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 300,
        "nonce": "the-nonce",
    }
    key_kind = change.pop("key", "provider")
    for name, value in change.items():
        if value is None:
            del claims[name]
        else:
            claims[name] = now - 3600 if value == "past" else value
    if key_kind == "none":
        token = _unsigned(claims)
    else:
        key = provider.key if key_kind == "provider" else RSAKey.generate_key(2048)
        token = jwt.encode({"alg": "RS256", "kid": provider.key.kid}, claims, key)
    client = OidcClient(provider.settings(CALLBACK))
    answer = {"id_token": token, "access_token": "opaque", "token_type": "Bearer"}
    if accepted:
        assert client.id_token_claims(answer, "the-nonce")["sub"] == "alice"
    else:
        with pytest.raises(SignInRefused, match="did not pass its checks"):
            client.id_token_claims(answer, "the-nonce")


# -- configuration -------------------------------------------------------------------------------


def test_the_login_page_offers_single_sign_on_only_when_configured(
    web: TestClient, sessions: sessionmaker[Session]
) -> None:
    offered = web.get("/login", params={"next": "/desk"})
    link = re.search(r'<a class="button" href="([^"]+)">Sign in with ([^<]+)</a>', offered.text)
    assert link is not None
    assert link.groups() == ("/auth/oidc/login?next=/desk", "Test Constabulary SSO")

    plain = create_app(Settings(map=MapSettings(tiles="none")))
    plain.state.sessionmaker = sessions
    with TestClient(plain) as client:
        assert "Sign in with" not in client.get("/login").text
        assert client.get("/auth/oidc/login", follow_redirects=False).status_code == 404


def test_a_half_configured_provider_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="ZONES_OIDC_CLIENT_ID, ZONES_OIDC_REDIRECT_URL"):
        OidcSettings(issuer="https://sso.example", groups={"g": {"role": "officer"}})
    with pytest.raises(ValidationError, match="ZONES_OIDC_GROUPS"):
        OidcSettings(issuer="https://sso.example", client_id="c", redirect_url="https://z/cb")
    with pytest.raises(ValidationError, match="role"):
        OidcSettings(groups={"g": {"role": "superuser"}})
    in_production = {
        "issuer": "http://sso.example",
        "client_id": "c",
        "redirect_url": "https://zones.example/auth/oidc/callback",
        "groups": {"g": {"role": "officer"}},
    }
    with pytest.raises(ValidationError, match="ZONES_OIDC_ISSUER must be an https"):
        Settings(environment=Environment.PRODUCTION, oidc=OidcSettings(**in_production))


def test_the_mapping_reads_nested_claims_and_single_groups(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from service.oidc.grants import grant_for

    monkeypatch.setenv(
        "ZONES_OIDC_GROUPS",
        '{"ppu-cambs-officers": {"role": "officer", "units": ["cambs-ppu"]},'
        ' "ppu-peterborough": {"role": "officer", "units": ["pboro-ppu", "cambs-ppu"]}}',
    )
    nested = OidcSettings(groups_claim="realm_access.roles")
    claims = {"realm_access": {"roles": ["ppu-peterborough", "ppu-cambs-officers", "other"]}}
    grant = grant_for(claims, nested)
    assert grant.role is Role.OFFICER and grant.units == ("pboro-ppu", "cambs-ppu")
    single = grant_for({"groups": "ppu-cambs-officers"}, OidcSettings())
    assert single.units == ("cambs-ppu",)
    with pytest.raises(SignInRefused):
        grant_for({"groups": [["ppu-cambs-officers"]]}, OidcSettings())
