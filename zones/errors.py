"""Domain errors: plain exceptions with a stable code and a message safe to show a client.

The HTTP edge (``service.api.errors``) maps each class to a status code in one table;
nothing here knows about HTTP.
"""

from __future__ import annotations

from datetime import datetime


class ZonesError(Exception):
    """Base of every domain error; ``code`` is stable, ``message`` is safe for clients."""

    code = "zones_error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        location: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.location = location  # lon, lat of the problem, when it has a place on the map

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidGeometry(ZonesError):
    """A zone geometry that cannot be accepted (wrong type, unclosed ring, self-intersection...)."""

    code = "invalid_geometry"


class GeometryTooLarge(InvalidGeometry):
    """A geometry over a size limit (vertices, parts, holes): refused before any work on it."""

    code = "geometry_too_large"


class GeometryTooCostly(InvalidGeometry):
    """A geometry whose check or repair overran its budget of computing time or memory."""

    code = "geometry_too_costly"


class Busy(ZonesError):
    """Too many costly computations at once: try again shortly."""

    code = "busy"


class InvalidCoordinates(ZonesError):
    """Coordinates out of range, not finite, or apparently given latitude first."""

    code = "invalid_coordinates"


class SwappedCoordinates(InvalidCoordinates):
    """A position that only makes sense with longitude and latitude exchanged."""

    code = "coordinates_swapped"


class InvalidObservation(ZonesError):
    """An observation that cannot be judged (no subject, bad time, negative accuracy...)."""

    code = "invalid_observation"


class InvalidOrder(ZonesError):
    """An order or condition that cannot be accepted as given."""

    code = "invalid_order"


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


class Forbidden(ZonesError):
    """The signed-in user's role may not do this."""

    code = "forbidden"


class InvalidAlertAction(ZonesError):
    """An action on an alert that does not fit its state or lacks what it needs."""

    code = "invalid_alert_action"


class ZoneShared(Conflict):
    """An edit to a zone that other orders use too, made without confirming it."""

    code = "zone_shared"


class UnknownParameter(ZonesError):
    """A query parameter the route does not take: refused, never silently ignored."""

    code = "unknown_parameter"


class InvalidGridReference(InvalidCoordinates):
    """An Ordnance Survey grid reference that cannot be read, or a place off the grid."""

    code = "invalid_grid_reference"

    def __init__(self, message: str, *, field: str | None = "grid_ref") -> None:
        super().__init__(message, field=field)


class InvalidSchedule(ZonesError):
    """A schedule (weekly windows, dates, exceptions) or a calendar file that cannot be accepted."""

    code = "invalid_schedule"

    def __init__(self, message: str, *, field: str | None = "schedule") -> None:
        super().__init__(message, field=field)


class UnknownTimeZone(InvalidObservation):
    """A time zone name the tz database does not know (e.g. "BST" rather than "Europe/London")."""

    code = "unknown_time_zone"

    def __init__(self, message: str, *, field: str | None = "tz") -> None:
        super().__init__(message, field=field)


class NonexistentLocalTime(InvalidObservation):
    """A local time in the gap skipped when the clocks go forward."""

    code = "nonexistent_local_time"

    def __init__(self, message: str, *, field: str | None = "local_time") -> None:
        super().__init__(message, field=field)


class AmbiguousLocalTime(InvalidObservation):
    """A local time in the hour repeated when the clocks go back; ``candidates``: both, in UTC."""

    code = "ambiguous_local_time"

    def __init__(
        self,
        message: str,
        candidates: tuple[datetime, datetime],
        *,
        field: str | None = "local_time",
    ) -> None:
        super().__init__(message, field=field)
        self.candidates = candidates


class DeviceNotAssigned(InvalidObservation):
    """A fix whose device was not worn by its subject (or by anyone) at the fix's time."""

    code = "device_not_assigned"


class ObservationTooOld(InvalidObservation):
    """An observation from before the retention period: what it would be judged with may
    already be deleted, so judging it could rewrite old alerts wrongly."""

    code = "observation_too_old"


class UnknownWebhook(NotFound):
    code = "unknown_webhook"


class InvalidWebhook(ZonesError):
    """A webhook that cannot be configured as given (its address, events or name)."""

    code = "invalid_webhook"
