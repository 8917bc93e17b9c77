"""Schemathesis against the OpenAPI document, signed in as each role, on the demo's data.

Every operation gets at least 50 generated requests (valid and invalid ones), plus the
document's examples and Schemathesis' coverage cases (boundaries, missing and unknown
parameters, methods the path does not take), with a fixed seed. Every response must be no
server error and must match the document: status code, content type, body, headers and
``Allow``. Each role starts from a fresh copy of the demo's data (subjects, orders,
conditions, zones, fixes, alerts), so what one role's run creates or changes does not steer
another's.

Not run: the live alert stream (it never ends by itself; it has tests of its own), and
Schemathesis' stateful phase, whose scenarios Hypothesis replays and so need the database
as it was for each one (a copy per scenario, about a second each): its two checks of their
own look for a deleted resource still answering (the API deletes nothing) and for a created
one that cannot be read (the API tests read back what they create).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session

from service import demo, sign_ins
from service.app import create_app
from service.audit_mac import AuditKey
from service.auth import User, add_user
from service.db import units_store
from service.db.engine import make_sessionmaker
from service.db.migrate import upgrade
from service.settings import MapSettings, Settings
from tests.conftest import scratch_database
from zones.model import Role

SEED = 20261129
EXAMPLES = 50  # generated per operation and role, besides the examples and coverage cases
CONFIG = {
    "seed": SEED,
    # Valid data has no NUL character: the API refuses it in any text, at the door (422).
    "generation": {"max-examples": EXAMPLES, "database": "none", "allow-x00": False},
    "checks": {
        "enabled": True,
        # Schema-valid data may still break a rule JSON Schema cannot say (a period that
        # ends before it starts, a self-intersecting zone): that is a 422, never a 400.
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "401", "403", "404", "409", "422", "429"]
        },
    },
}
SIGN_IN = "/api/v1/auth/token"  # the one operation for no one in particular: run once
EXCLUDED = ["/api/v1/alerts/stream"]  # see above
PASSWORD = "schemathesis-pw-1"

# The coverage phase's cases (boundaries, missing and unknown parameters, methods the path
# does not take) probe validation, which is the same for every role that may call: they run
# as an officer of the demo's unit, whom most operations admit; each other role gets the
# generated cases.
GENERATED_ONLY = {**CONFIG, "phases": {"coverage": {"enabled": False}}}

SETTINGS = Settings(map=MapSettings(tiles="none"))
APP = create_app(SETTINGS)  # its document is read at collection; its database comes per role


def schema(config: dict[str, object]) -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_dict(
        APP.openapi(), config=SchemathesisConfig.from_dict(config)
    )
    loaded.app = APP
    return loaded


as_officer = schema(CONFIG).exclude(path=[*EXCLUDED, SIGN_IN])
as_other_roles = schema(GENERATED_ONLY).exclude(path=[*EXCLUDED, SIGN_IN])
anonymously = schema(CONFIG).include(path=SIGN_IN)


@pytest.fixture(scope="module")
def demo_data() -> Iterator[str]:
    """A database holding the demo, to copy for each run (loading it takes seconds)."""
    with scratch_database("schemathesis") as url:
        engine = create_engine(url)
        upgrade(engine)
        demo.run(engine)
        engine.dispose()  # a template database must have no connections
        yield url


@contextmanager
def copy_of(template_url: str, name: str) -> Iterator[Engine]:
    """A copy of the template database for one run, bound to the app; dropped afterwards."""
    template = make_url(template_url)
    target = f"{template.database}_{name}"
    admin = create_engine(template.set(database="postgres"), isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
    with admin.connect() as conn:
        conn.execute(drop)
        conn.execute(text(f'CREATE DATABASE "{target}" TEMPLATE "{template.database}"'))
    engine = create_engine(template.set(database=target))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(drop)
        admin.dispose()


@pytest.fixture(scope="module")
def signed_in(request: pytest.FixtureRequest, demo_data: str) -> Iterator[tuple[User, Engine]]:
    """The role's user, on a fresh copy of the demo for this role's run. Its name is one no
    generated request guesses (but Schemathesis learns names from GET /users)."""
    role: Role = request.param
    with copy_of(demo_data, role.value) as engine:
        user = User(f"st-{role.value}-q7w", role)
        with Session(engine) as session:
            add_user(session, user.username, PASSWORD, role)
            units_store.set_members(session, user.username, [demo.UNIT])
            session.commit()
        yield user, engine


@as_officer.parametrize()
@pytest.mark.parametrize("signed_in", [Role.OFFICER], ids=str, indirect=True)
def test_api_conforms_for_an_officer(
    case: schemathesis.Case, signed_in: tuple[User, Engine]
) -> None:
    call_and_validate(case, *signed_in)


OTHER_ROLES = [r for r in Role if r is not Role.OFFICER]


@as_other_roles.parametrize()
@pytest.mark.parametrize("signed_in", OTHER_ROLES, ids=str, indirect=True)
def test_api_conforms_for_each_other_role(
    case: schemathesis.Case, signed_in: tuple[User, Engine]
) -> None:
    call_and_validate(case, *signed_in)


def call_and_validate(case: schemathesis.Case, user: User, engine: Engine) -> None:
    APP.state.sessionmaker = sessions = make_sessionmaker(engine, AuditKey.of(SETTINGS))
    # A new sign-in each time: a generated log-out ends the sign-in it is sent with.
    with sessions() as session:
        token = sign_ins.sign_in_api(session, user, SETTINGS.auth).access_token
        session.commit()
    try:
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"})
    finally:
        if case.operation.path.endswith("/disable"):  # it may have been this user
            enable(engine, user)


def enable(engine: Engine, user: User) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE users SET disabled = false WHERE username = :name"),
            {"name": user.username},
        )


@pytest.fixture(scope="module")
def no_one(demo_data: str) -> Iterator[Engine]:
    with copy_of(demo_data, "anonymous") as engine:
        yield engine


@anonymously.parametrize()
def test_signing_in_conforms(case: schemathesis.Case, no_one: Engine) -> None:
    APP.state.sessionmaker = make_sessionmaker(no_one)
    case.call_and_validate()
