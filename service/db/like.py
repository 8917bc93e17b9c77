"""Searching text by a part of it, the way a person types it."""

from __future__ import annotations

ESCAPE = "\\"


def contains(text: str) -> str:
    """An ILIKE pattern matching values that contain ``text`` literally (``%`` and ``_`` too)."""
    literal = text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return f"%{literal}%"
