"""The floor of ``zones bench api``: the least a request that stores something can cost.

It reads a JSON body, inserts one row through the app's own session and pool, and commits;
what a sighting check costs beyond this is our own work. Mounted only with
``ZONES_API_BENCH_FLOOR`` (never in production), and it writes only to the scratch table
the bench creates (:data:`TABLE`), so a server that has it can harm nothing else.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Body
from sqlalchemy import text

from service.api.deps import SessionDep

TABLE = "bench_floor"
CREATE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, "
    "at timestamptz NOT NULL DEFAULT now(), body jsonb NOT NULL)"
)
router = APIRouter(tags=["bench"], include_in_schema=False)


@router.post("/bench/floor")
def floor(session: SessionDep, body: dict[str, Any] = Body()) -> dict[str, int]:
    """Insert the body as one row and commit; answer the row's id."""
    row_id = session.execute(
        text(f"INSERT INTO {TABLE} (body) VALUES (CAST(:body AS jsonb)) RETURNING id"),
        {"body": json.dumps(body)},
    ).scalar_one()
    session.commit()
    return {"id": int(row_id)}
