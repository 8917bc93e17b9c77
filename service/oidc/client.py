"""The identity provider, through authlib: discovery, the authorization URL with state, nonce
and PKCE (S256), the code exchange, and the ID token's checks (signature through the
provider's JWKS, issuer, audience, expiry, nonce, ``at_hash``).

authlib's Starlette integration keeps its state in ``request.session`` (an app-wide
SessionMiddleware) and is async, while this service's handlers and database are sync; its
framework-free remote app (the base of its Flask and Django integrations) does the same
protocol work synchronously, and ``service.oidc.pending`` keeps the state.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx
from authlib.integrations.base_client import BaseApp, FrameworkIntegration, OAuthError
from authlib.integrations.base_client.sync_app import OAuth2Mixin
from authlib.integrations.base_client.sync_openid import OpenIDMixin
from authlib.integrations.httpx_client import OAuth2Client
from joserfc.errors import JoseError

from service.oidc import ProviderUnavailable, SignInRefused
from service.settings import OidcSettings

# ID tokens signed with the client secret (HS*) or not at all are never accepted.
_ASYMMETRIC = ("RS", "PS", "ES", "Ed")


class _Remote(OAuth2Mixin, OpenIDMixin, BaseApp):  # type: ignore[misc]
    client_cls = OAuth2Client


@dataclass(frozen=True)
class Started:
    """A sign-in sent to the provider: where to send the browser, and what to keep."""

    url: str
    state: str
    nonce: str
    code_verifier: str


class OidcClient:
    """One configured provider; its discovery document and keys are fetched once and kept
    (the keys again when a token names one not seen yet: the provider rotated them)."""

    def __init__(self, settings: OidcSettings) -> None:
        if settings.issuer is None:
            raise ValueError("single sign-on is not configured (ZONES_OIDC_ISSUER)")
        self.settings = settings
        self.issuer = settings.issuer
        self._lock = threading.Lock()
        self._remote = _Remote(
            FrameworkIntegration("zones"),
            name="zones",
            client_id=settings.client_id,
            client_secret=settings.client_secret.get_secret_value(),
            server_metadata_url=f"{self.issuer.rstrip('/')}/.well-known/openid-configuration",
            client_kwargs={
                "scope": settings.scopes,
                "code_challenge_method": "S256",
                "timeout": settings.timeout_seconds,
            },
        )

    def metadata(self) -> Mapping[str, Any]:
        """The provider's discovery document, checked to name the configured issuer."""
        with self._lock:
            try:
                meta: dict[str, Any] = self._remote.load_server_metadata()
            except (httpx.HTTPError, ValueError) as exc:
                raise ProviderUnavailable(
                    f"{self.settings.provider_name} cannot be reached; try again shortly"
                ) from exc
            named = meta.get("issuer")
            if named != self.issuer:
                # OpenID Connect Discovery 4.3: a provider answering for another issuer is
                # not this one (a mix-up). Forget it, so a corrected provider is seen.
                meta.clear()
                raise ProviderUnavailable(
                    f"{self.settings.provider_name} names itself {named!r}, "
                    f"not the configured {self.issuer!r}"
                )
            algs = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
            meta["id_token_signing_alg_values_supported"] = [
                a for a in algs if isinstance(a, str) and a.startswith(_ASYMMETRIC)
            ]
            return meta

    def start(self) -> Started:
        """The authorization URL, with a fresh state, nonce and PKCE verifier."""
        self.metadata()
        made = self._remote.create_authorization_url(self.settings.redirect_url)
        return Started(made["url"], made["state"], made["nonce"], made["code_verifier"])

    def finish(self, code: str, code_verifier: str, nonce: str) -> dict[str, Any]:
        """The signed-in person's claims: the checked ID token's, with the userinfo
        endpoint's added (the ID token wins where both have a claim)."""
        meta = self.metadata()
        try:
            token = self._remote.fetch_access_token(
                redirect_uri=self.settings.redirect_url, code=code, code_verifier=code_verifier
            )
        except OAuthError as exc:
            raise SignInRefused(
                f"{self.settings.provider_name} refused the sign-in code (it was used "
                "already, or it expired): please sign in again"
            ) from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderUnavailable(
                f"{self.settings.provider_name} cannot be reached; try again shortly"
            ) from exc
        claims = self.id_token_claims(token, nonce)
        if meta.get("userinfo_endpoint"):
            info = self._userinfo(token)
            if info.get("sub") != claims["sub"]:
                raise SignInRefused(f"{self.settings.provider_name} answered for someone else")
            claims = {**info, **claims}
        return claims

    def id_token_claims(self, token: Mapping[str, Any], nonce: str) -> dict[str, Any]:
        """The claims of the token response's ID token, once every check has passed."""
        if not isinstance(token.get("id_token"), str):
            raise SignInRefused(f"{self.settings.provider_name} sent no ID token")
        self.metadata()
        options = {
            "iss": {"essential": True, "value": self.issuer},
            "aud": {"essential": True, "value": self.settings.client_id},
        }
        try:
            info = self._remote.parse_id_token(dict(token), nonce=nonce, claims_options=options)
        except (httpx.HTTPError, RuntimeError) as exc:
            raise ProviderUnavailable(
                f"the signing keys of {self.settings.provider_name} cannot be fetched"
            ) from exc
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise SignInRefused(
                f"the answer from {self.settings.provider_name} did not pass its checks"
            ) from exc
        return dict(info)

    def _userinfo(self, token: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return dict(self._remote.userinfo(token=dict(token)))
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderUnavailable(
                f"{self.settings.provider_name} did not say who signed in; try again shortly"
            ) from exc
