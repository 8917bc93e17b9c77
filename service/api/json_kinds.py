"""JSON values kept to the kind the schema gives them, where pydantic's lax mode would convert.

FastAPI validates a parsed JSON body in pydantic's lax Python mode, which reads ``true`` as
1, ``"12"`` as 12 and ``0.5`` as half a second after 1970. The OpenAPI schema says a number
is a JSON number and an instant is ISO 8601 text, so those are refused (422) instead.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Union, get_args, get_origin

_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
LOCAL_INSTANT_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$"


def iso_instant(value: object) -> object:
    """An instant given as ISO 8601 text (or already a datetime), never as a number."""
    if isinstance(value, datetime) or (isinstance(value, str) and _INSTANT.match(value)):
        return value
    raise ValueError("give a date and time in ISO 8601, e.g. 2026-11-28T14:03:00+00:00")


def iso_day(value: object) -> object:
    """A calendar day given as ISO 8601 text (or already a date), never as a number."""
    if isinstance(value, date) or (isinstance(value, str) and _DAY.match(value)):
        return value
    raise ValueError("give a date in ISO 8601, e.g. 2026-11-28")


def _kinds(annotation: Any) -> set[Any]:
    """The plain types an annotation admits (Annotated stripped, unions flattened)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _kinds(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return set().union(*(_kinds(a) for a in get_args(annotation)))
    return {annotation}


def _items(annotation: Any) -> list[Any] | None:
    """The item annotations of a list or tuple annotation (one for a list), else None."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _items(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        found = [i for a in get_args(annotation) if (i := _items(a)) is not None]
        return found[0] if len(found) == 1 else None
    if origin in (list, tuple):
        return [a for a in get_args(annotation) if a is not Ellipsis]
    return None


def number_check(annotation: Any) -> Callable[[object], bool] | None:
    """A test of whether a value stands where the annotation wants a JSON number but is not
    one: ``true``/``false`` (unless booleans are admitted too), or text where only numbers
    are; at the top or as an item of a list. Worked out once per annotation; None when the
    annotation admits no number anywhere."""
    kinds = _kinds(annotation) - {type(None)}
    numbers = kinds & {int, float}
    items = _items(annotation)
    item_checks = [number_check(k) for k in items] if items else []
    if not numbers and not any(item_checks):
        return None
    booleans_refused = bool not in kinds
    text_refused = bool(numbers) and kinds == numbers

    def check(value: object) -> bool:
        if numbers and isinstance(value, bool):
            return booleans_refused
        if text_refused and isinstance(value, str):
            return True
        if item_checks and isinstance(value, list):
            checks = item_checks if len(item_checks) == len(value) else item_checks[:1] * len(value)
            return any(c is not None and c(v) for v, c in zip(value, checks, strict=False))
        return False

    return check
