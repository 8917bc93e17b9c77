"""Wire schemas of sign-in: refreshing, the current session, passwords, personal tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from service.api.schemas import Line, Wire
from service.auth import PrincipalKind, TokenScope
from service.passwords import MAX_LENGTH
from zones import model


class RefreshIn(Wire):
    refresh_token: Annotated[Line, StringConstraints(min_length=1, max_length=2000)]


class SessionOut(BaseModel):
    """Who is signed in, how, and until when."""

    username: str
    role: model.Role
    kind: PrincipalKind = Field(description="`session` (signed in) or `pat` (personal token)")
    scope: TokenScope
    ends_at: datetime = Field(
        description="When this sign-in (or personal token) ends, however much it is used"
    )


class PasswordChange(Wire):
    current_password: Annotated[Line, StringConstraints(min_length=1, max_length=MAX_LENGTH)]
    new_password: Annotated[Line, StringConstraints(min_length=1, max_length=MAX_LENGTH)] = Field(
        description="At least 12 characters, not a common password, not the username"
    )


class PersonalTokenIn(Wire):
    name: Annotated[Line, StringConstraints(min_length=1, max_length=100)] = Field(
        description="What the token is for, e.g. 'QGIS on the analysis laptop'"
    )
    scope: TokenScope = Field(
        default=TokenScope.READ,
        description="`read`: GET, HEAD and OPTIONS only; `full`: whatever your role may do",
    )
    expires_in_days: int = Field(
        ge=1, le=5 * 365, description="Required: the token ends then (at most 365 days)"
    )


class PersonalTokenOut(BaseModel):
    id: int
    username: str
    name: str
    scope: TokenScope
    created_at: datetime
    expires_at: datetime
    active: bool = Field(description="Neither revoked nor expired")
    revoked_at: datetime | None
    revoked_by: str | None


class NewPersonalToken(PersonalTokenOut):
    token: str = Field(description="The token itself: shown this once, never again")
