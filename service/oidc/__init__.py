"""Sign-in through a force's single sign-on: OpenID Connect, authorization code flow, PKCE.

- ``client``: the provider (discovery, authorization URL, code exchange, ID token checks).
- ``pending``: what the browser carries between leaving for the provider and coming back.
- ``grants``: which role and units the provider's claims give, by ``ZONES_OIDC_GROUPS``.
- ``accounts``: the local user of an external identity; ``assign_units``, the seam to units.
- ``flow``: the callback's checks in order, from the returning browser to a signed-in user.
"""

from __future__ import annotations

from zones.errors import Forbidden, ZonesError


class SignInRefused(Forbidden):
    """Single sign-on did not sign this person in here; the message says why, safely."""

    code = "sign_in_refused"


class ProviderUnavailable(ZonesError):
    """The identity provider could not be reached, or answered something unusable."""

    code = "sso_unavailable"
