"""Copying a shared zone for one order: the order gets its own shape, the others keep theirs."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from service.db import orders_store, zones_store
from zones import model
from zones.errors import InvalidGeometry


def copy_for_order(
    session: Session,
    order_id: int,
    zone_id: int,
    draft: model.Zone,
    notes: list[str],
    user: str,
) -> tuple[model.Zone, model.Order]:
    """Store ``draft`` as a new zone that replaces ``zone_id`` in this order alone.

    The order gets a new version naming the copy; other orders keep the original zone. A
    stay inside the original zone under this order ends with the edit (a new shape, a new
    stay), as any change of an order's zones does.
    """
    order = orders_store.get_order(session, order_id)
    if not any(zone_id in c.zone_ids for c in order.conditions):
        raise InvalidGeometry(f"order {order_id} does not name zone {zone_id}", field="zone_id")
    original = zones_store.get(session, zone_id)
    source = f"copy of zone {zone_id} version {original.version} for order {order.reference}"
    copied = zones_store.create(session, replace(draft, source=source), notes=notes, user=user)
    assert copied.id is not None
    conditions = tuple(
        replace(c, id=None, zone_ids=tuple(copied.id if z == zone_id else z for z in c.zone_ids))
        for c in order.conditions
    )
    edited = orders_store.edit_order(
        session,
        order_id,
        replace(order, conditions=conditions),
        user,
        f"zone {zone_id} replaced by its copy, zone {copied.id}: {draft.reason}",
    )
    return copied, edited
