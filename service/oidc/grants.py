"""Which role and units the provider's claims give: by the ``ZONES_OIDC_GROUPS`` setting only.

A claim that matches no configured group gives nothing: there is no default role.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.oidc import SignInRefused
from service.settings import OidcSettings
from zones.model import Role


@dataclass(frozen=True)
class Grant:
    role: Role
    units: tuple[str, ...]


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """The claim at a dotted path (``realm_access.roles``), or None."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def group_names(claims: Mapping[str, Any], path: str) -> list[str]:
    """The groups claim as a list of names (some providers send a single group as a string)."""
    value = claim_at(claims, path)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def grant_for(claims: Mapping[str, Any], settings: OidcSettings) -> Grant:
    """The one role and the units the configured groups give; refused if none, or if the
    groups disagree on the role (the provider's groups need fixing, not guessing here)."""
    matched = [
        settings.groups[name]
        for name in group_names(claims, settings.groups_claim)
        if name in settings.groups
    ]
    if not matched:
        raise SignInRefused(
            f"your account at {settings.provider_name} is in no group that gives a role in "
            "this service; ask your administrator to add you to one"
        )
    roles = sorted({m.role.value for m in matched})
    if len(roles) > 1:
        raise SignInRefused(
            f"your groups at {settings.provider_name} give more than one role "
            f"({', '.join(roles)}); ask your administrator to leave you in one"
        )
    units = tuple(dict.fromkeys(unit for m in matched for unit in m.units))
    return Grant(Role(roles[0]), units)
