"""Creating the engine and sessions; the app's lifespan owns the engine."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

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


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
