"""The callback's checks, in order, from the browser coming back to a signed-in user."""

from __future__ import annotations

import hmac

from sqlalchemy.orm import Session

from service.auth import User
from service.oidc import SignInRefused
from service.oidc.accounts import sign_in_external
from service.oidc.client import OidcClient
from service.oidc.grants import grant_for
from service.oidc.pending import Pending


def finish_sign_in(
    client: OidcClient,
    session: Session,
    pending: Pending | None,
    *,
    state: str,
    code: str,
    error: str,
    iss: str | None,
) -> User:
    """Who came back signed in, after state, issuer, code, ID token and groups all check out.

    ``iss`` is the authorization response's issuer (RFC 9207): required when the provider
    says it sends one, and checked whenever it is there.
    """
    name = client.settings.provider_name
    if pending is None:
        raise SignInRefused(
            "this sign-in was started too long ago or in another browser: please start again"
        )
    if not hmac.compare_digest(pending.state.encode(), state.encode()):
        raise SignInRefused("this sign-in does not match the one this browser started")
    says_who = client.metadata().get("authorization_response_iss_parameter_supported")
    if (iss is not None or says_who) and iss != client.issuer:
        raise SignInRefused(f"this answer does not come from {name}")  # a mix-up attack
    if error:
        raise SignInRefused(f"{name} did not sign you in")
    if not code:
        raise SignInRefused(f"{name} sent no sign-in code")
    claims = client.finish(code, pending.code_verifier, pending.nonce)
    grant = grant_for(claims, client.settings)
    return sign_in_external(session, client.issuer, claims, grant, client.settings)
