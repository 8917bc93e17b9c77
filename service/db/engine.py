"""Creating the engine and sessions; the app's lifespan owns the engine."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from service.audit_mac import AuditKey
from service.db import audit_store
from service.localdb import database_url
from service.settings import DatabaseSettings


def make_engine(settings: DatabaseSettings) -> Engine:
    """An engine for ``ZONES_DATABASE_URL``, or for the private cluster (started on demand)."""
    return create_engine(
        database_url(settings),
        pool_size=settings.pool_size,
        pool_pre_ping=True,
        hide_parameters=True,  # positions of people must not reach the logs with an error
    )


def listen_conninfo(engine: Engine) -> str:
    """A libpq connection string for the engine's database, for a LISTEN connection of its
    own (psycopg directly: a listener must not hold one of the pool's connections)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def make_sessionmaker(engine: Engine, audit: AuditKey | None = None) -> sessionmaker[Session]:
    """Sessions of the app; with ``audit``, every one of them can write the audit log."""
    info = {} if audit is None else audit_store.binding(audit)
    return sessionmaker(bind=engine, expire_on_commit=False, info=info)


class DatabaseUnusable(RuntimeError):
    """The database cannot be reached, or its server has no PostGIS to offer."""


def check_database(engine: Engine) -> str:
    """Connect once and make sure PostGIS can be used; return a one-line description.

    Run by ``zones db start`` (and so by ``./dev.sh``) so that a newcomer meets a missing
    server or a missing PostGIS package at set-up, in one sentence, not as a failing test.
    """
    where = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar_one()
            postgis = connection.execute(
                text("SELECT default_version FROM pg_available_extensions WHERE name = 'postgis'")
            ).scalar_one_or_none()
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnusable(f"cannot connect to {where}: {reason}") from exc
    if postgis is None:
        major = str(version).split(".")[0]
        raise DatabaseUnusable(
            f"the PostgreSQL {version} server at {where} has no PostGIS extension to offer "
            f"(on Debian: install postgresql-{major}-postgis-3)"
        )
    return f"{where} (PostgreSQL {version}, PostGIS {postgis} available)"
