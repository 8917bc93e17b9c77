"""Domain errors: plain exceptions with a stable code and a message safe to show a client.

The HTTP edge (``service.api.errors``) maps each class to a status code in one table;
nothing here knows about HTTP.
"""

from __future__ import annotations


class ZonesError(Exception):
    """Base of every domain error; ``code`` is stable, ``message`` is safe for clients."""

    code = "zones_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidGeometry(ZonesError):
    """A zone geometry that cannot be accepted (wrong type, unclosed ring, self-intersection...)."""

    code = "invalid_geometry"


class InvalidCoordinates(ZonesError):
    """Coordinates out of range, not finite, or apparently given latitude first."""

    code = "invalid_coordinates"


class SwappedCoordinates(InvalidCoordinates):
    """A position that only makes sense with longitude and latitude exchanged."""

    code = "coordinates_swapped"


class InvalidObservation(ZonesError):
    """An observation that cannot be judged (no subject, bad time, negative accuracy...)."""

    code = "invalid_observation"


class NotFound(ZonesError):
    """Base for references to things that do not exist."""

    code = "not_found"


class UnknownSubject(NotFound):
    code = "unknown_subject"


class UnknownZone(NotFound):
    code = "unknown_zone"


class UnknownOrder(NotFound):
    code = "unknown_order"


class UnknownDevice(NotFound):
    code = "unknown_device"


class UnknownAlert(NotFound):
    code = "unknown_alert"


class Conflict(ZonesError):
    """A write that clashes with what is stored (duplicate reference, stale version)."""

    code = "conflict"


class ImportFailed(ZonesError):
    """A zone file that cannot be read or holds no usable polygons."""

    code = "import_failed"
