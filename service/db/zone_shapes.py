"""Zone geometries kept between requests: a zone version's shape never changes once stored.

Judging the same zones over and over (every sighting check of a subject under "every park
in town") parsed the same WKB into new shapely objects each time, and prepared them again.
Here each database's zone versions keep one shapely object, so it is parsed once and its
GEOS preparation (``shapely.prepare``) lasts; the rows read for what held then leave the
geometry column out, and only versions not yet held are read with theirs.

The cache belongs to the engine (or connection) the session is bound to: two databases in
one process (tests, a scratch bench) never share entries, and a database dropped and made
again comes with a new engine. A zone version is never updated in place (a change is a new
version), so an entry cannot go stale; entries beyond :data:`LIMIT` are dropped oldest
first.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from shapely.geometry.base import BaseGeometry

from service.db import convert, tables
from service.db.arrays import among

LIMIT = 50_000
Key = tuple[int, int]  # (zone id, version)
_caches: weakref.WeakKeyDictionary[object, OrderedDict[Key, BaseGeometry]] = (
    weakref.WeakKeyDictionary()
)


def _cache(session: Session) -> OrderedDict[Key, BaseGeometry]:
    bind = session.get_bind()
    found = _caches.get(bind)
    if found is None:
        found = _caches[bind] = OrderedDict()
    return found


def geometries(session: Session, keys: Iterable[Key]) -> dict[Key, BaseGeometry]:
    """The geometry of each zone version, read from the database only where not held."""
    cache = _cache(session)
    wanted = set(keys)
    missing = set(wanted - cache.keys())
    if missing:
        zv = tables.ZoneVersion
        # By zone id, one array parameter; a zone's other versions are few, and skipped.
        rows = session.execute(
            select(zv.zone_id, zv.version, zv.geom).where(
                among(zv.zone_id, sorted({zone_id for zone_id, _ in missing}))
            )
        )
        for zone_id, version, geom in rows:
            if (zone_id, version) in missing:
                cache[(zone_id, version)] = convert.geom_from_db(geom)
    out = {}
    for key in wanted:
        if key in cache:
            cache.move_to_end(key)
            out[key] = cache[key]
    while len(cache) > LIMIT:
        cache.popitem(last=False)
    return out
