"""Categories of imported zones: which source attribute says what a feature is, and the
default mapping of common values (OpenStreetMap tags, council layers) to our categories."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

import pandas as pd

from zones.errors import ImportFailed

# Attribute columns that say what a feature is, most specific first. `category` is ours;
# `leisure`, `landuse`, `amenity`, `natural` are OpenStreetMap keys; `type`, `class` and
# `fclass` are what common exports (Geofabrik shapefiles, council layers) call them.
CATEGORY_FIELDS = (
    "category",
    "leisure",
    "landuse",
    "amenity",
    "type",
    "class",
    "fclass",
    "natural",
)
# Values that describe how a feature is drawn, not what it is (OSM type=multipolygon).
NOT_A_CATEGORY = frozenset({"multipolygon", "boundary", "yes"})

# Default value -> category table for what police zones are usually drawn around. Values not
# listed keep their own lower-cased value (landuse=meadow -> "meadow").
DEFAULT_CATEGORIES: Mapping[str, str] = MappingProxyType(
    {
        # leisure=*
        "park": "park",
        "playground": "playground",
        "pitch": "sports_pitch",
        "garden": "garden",
        "nature_reserve": "nature_reserve",
        "recreation_ground": "recreation_ground",
        "common": "green_space",
        "dog_park": "park",
        # landuse=*
        "grass": "green_space",
        "village_green": "green_space",
        # amenity=*
        "school": "school",
        "kindergarten": "nursery",
        "childcare": "nursery",
        "college": "college",
    }
)


def parse_category_map(items: Sequence[str]) -> dict[str, str]:
    """Turn ``value=category`` arguments into a category map.

    Parameters
    ----------
    items
        Strings such as ``["pitch=sports_pitch", "grass=green_space"]``.

    Returns
    -------
    The map from lower-cased source value to category (values are matched case-insensitively).

    Raises
    ------
    ImportFailed
        When an item is not ``value=category`` or a value is mapped to two categories.
    """
    mapping: dict[str, str] = {}
    for item in items:
        value, sep, category = (part.strip() for part in item.partition("="))
        if not sep or not value or not category:
            raise ImportFailed(
                f"category mapping {item!r} must look like value=category, e.g. pitch=sports_pitch",
                field="category_map",
            )
        key = value.lower()
        if mapping.get(key, category) != category:
            raise ImportFailed(
                f"{value!r} is mapped to both {mapping[key]!r} and {category!r}",
                field="category_map",
            )
        mapping[key] = category
    return mapping


def text_values(column: pd.Series) -> pd.Series:
    """Column values as stripped strings, with missing and blank values as NA."""
    text = column.astype("string").str.strip()
    return text.mask(text == "")


def first_value(
    frame: pd.DataFrame, columns: Sequence[str], skip: frozenset[str] = frozenset()
) -> pd.Series:
    """Per row, the first value among ``columns`` (skipping the ``skip`` values), else NA."""
    first = pd.Series(pd.NA, index=frame.index, dtype="string")
    for column in columns:  # a handful of columns, each handled whole
        values = text_values(frame[column])
        first = first.fillna(values.mask(values.str.lower().isin(skip)))
    return first


def categorise(values: pd.Series, table: Mapping[str, str], default: str) -> pd.Series:
    """Map values through ``table`` (case-insensitively); unmapped values stay, lower-cased."""
    lower = text_values(values).str.lower()
    lookup = {key.strip().lower(): category for key, category in table.items()}
    return lower.map(lookup).fillna(lower).fillna(default).astype("string")
