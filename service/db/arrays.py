"""Membership in a list sent as one array parameter.

``column.in_(values)`` sends one parameter per value: a batch of fixes from thousands of
tags turns into statements with thousands of placeholders, which the driver parses and the
server plans anew for every length. ``column = ANY(:array)`` is one parameter and one plan.

:func:`any_of` names the parameter instead of holding its values, for statements built once
and run with their parameters given each time: building a statement and its cache key costs
more, in a sighting check, than running it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement


def among(column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column = ANY(values)``: true where the column's value is one of ``values``."""
    test: ColumnElement[bool] = column == any_(
        bindparam(None, list(values), type_=ARRAY(column.type))
    )
    return test


def any_of(column: Any, name: str) -> ColumnElement[bool]:
    """``column = ANY(:name)``, the array given as the parameter ``name`` when run."""
    test: ColumnElement[bool] = column == any_(bindparam(name, type_=ARRAY(column.type)))
    return test
