"""Loading a zone file into the zone library: read and checked by the domain, stored here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from service.db import zones_store
from zones.importing import ZoneImport, read_zones


@dataclass(frozen=True)
class Imported:
    """What an import stored, and what the domain dropped or repaired on the way."""

    ids: list[int]
    categories: dict[str, int]
    result: ZoneImport


def import_zones(
    session: Session,
    path: Path,
    *,
    layer: str | None = None,
    name_field: str | None = None,
    category_field: str | None = None,
    category_map: Mapping[str, str] | None = None,
    source_crs: str | None = None,
    user: str | None = "import",
) -> Imported:
    """Read ``path`` (any CRS, reprojected to EPSG:4326) and store each zone at version 1."""
    result = read_zones(
        path,
        layer=layer,
        name_field=name_field,
        category_field=category_field,
        category_map=dict(category_map or {}),
        source_crs=source_crs,
    )
    gdf = result.zones
    ids = zones_store.create_many(
        session,
        list(gdf.geometry),
        list(gdf["name"]),
        list(gdf["category"]),
        list(gdf["source"]),
        user=user,
    )
    counts = {str(k): int(v) for k, v in gdf["category"].value_counts().items()}
    return Imported(ids=ids, categories=counts, result=result)
