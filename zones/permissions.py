"""Who may do what: one table of action x role, each cell saying how far the role reaches.

``FORCE`` reaches every unit's subjects, ``UNIT`` only those of the user's own units, and an
action a role lacks is refused outright. A subject beyond a user's reach does not exist for
them (the service answers 404, not 403), so walking ids discloses nothing.
The README's permission table is printed from :data:`TABLE` (``zones permissions``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from zones.model import Role


class Reach(enum.Enum):
    UNIT = "own units"
    FORCE = "whole force"


class Action(enum.StrEnum):
    ZONE_READ = "zone.read"
    ZONE_DRAW = "zone.draw"
    ZONE_CREATE = "zone.create"
    ZONE_EDIT = "zone.edit"
    SUBJECT_READ = "subject.read"
    SUBJECT_WRITE = "subject.write"
    SUBJECT_MOVE = "subject.move"
    POSITIONS_READ = "positions.read"
    SIGHTING_CHECK = "sighting.check"
    FEED_WRITE = "feed.write"
    DEVICE_CREDENTIALS = "device.credentials"
    GATEWAY_MANAGE = "gateway.manage"
    ALERT_READ = "alert.read"
    ALERT_HANDLE = "alert.handle"
    PLACE_SEARCH = "place.search"
    HOLD_MANAGE = "hold.manage"
    ANALYSIS_RUN = "analysis.run"
    AUDIT_READ = "audit.read"
    USER_LIST = "user.list"
    USER_MANAGE = "user.manage"
    WEBHOOK_MANAGE = "webhook.manage"
    UTILITY = "utility"


DESCRIPTIONS: dict[Action, str] = {
    Action.ZONE_READ: "read the zone library (shapes, versions) and grow buffers around shapes",
    Action.ZONE_DRAW: "validate and preview drawn or uploaded shapes (nothing stored)",
    Action.ZONE_CREATE: "add a zone to the library",
    Action.ZONE_EDIT: "edit a zone (only one no other unit's orders use)",
    Action.SUBJECT_READ: "read subjects, their orders, conditions, visits and the orders using a "
    "zone",
    Action.SUBJECT_WRITE: "create and edit subjects, orders, order copies of zones, visits, "
    "devices",
    Action.SUBJECT_MOVE: "move a subject (orders, alerts and history) to another unit",
    Action.POSITIONS_READ: "read positions: tracks, replays, transits, alert evidence",
    Action.SIGHTING_CHECK: "check a sighting against a subject's orders",
    Action.FEED_WRITE: "submit batches of fixes",
    Action.DEVICE_CREDENTIALS: "issue, list and revoke a device's own credential (for devices "
    "worn by the unit's subjects, or by nobody)",
    Action.GATEWAY_MANAGE: "issue and revoke gateway credentials (a Traccar server, the Traccar "
    "Client), set their devices, and see every credential's refused fixes",
    Action.ALERT_READ: "read alerts, their history and the live alert stream",
    Action.ALERT_HANDLE: "acknowledge, assign, close and dispose of alerts",
    Action.PLACE_SEARCH: "search by place: who is barred from here",
    Action.HOLD_MANAGE: "place, release and list legal holds (which stop retention)",
    Action.ANALYSIS_RUN: "crime-scene matching and screening, always with a reason",
    Action.AUDIT_READ: "read the audit log",
    Action.USER_LIST: "list active users, to assign alerts to them",
    Action.USER_MANAGE: "manage users, their roles and units, and units",
    Action.WEBHOOK_MANAGE: "add, list, disable and re-key the webhooks alerts are sent to",
    Action.UTILITY: "grid references and local-time helpers (no personal data)",
}

OF, CR, SU, AN, AD = Role.OFFICER, Role.CONTROL_ROOM, Role.SUPERVISOR, Role.ANALYST, Role.ADMIN
U, F = Reach.UNIT, Reach.FORCE

TABLE: dict[Action, dict[Role, Reach]] = {
    Action.ZONE_READ: {OF: F, CR: F, SU: F, AN: F, AD: F},
    Action.ZONE_DRAW: {OF: F},
    Action.ZONE_CREATE: {OF: F},
    Action.ZONE_EDIT: {OF: U},
    Action.SUBJECT_READ: {OF: U, CR: F, SU: U},
    Action.SUBJECT_WRITE: {OF: U},
    Action.SUBJECT_MOVE: {SU: U, AD: F},
    Action.POSITIONS_READ: {OF: U, CR: F, SU: U},
    Action.SIGHTING_CHECK: {OF: U, CR: F, SU: U},
    Action.FEED_WRITE: {OF: U, CR: F},
    Action.DEVICE_CREDENTIALS: {OF: U, AD: F},
    Action.GATEWAY_MANAGE: {AD: F},
    Action.ALERT_READ: {OF: U, CR: F, SU: U},
    Action.ALERT_HANDLE: {CR: F, SU: U},
    Action.PLACE_SEARCH: {CR: F, SU: U},
    Action.HOLD_MANAGE: {SU: U, AD: F},
    Action.ANALYSIS_RUN: {AN: F},
    Action.AUDIT_READ: {SU: F, AD: F},
    Action.USER_LIST: {CR: F, SU: F, AD: F},
    Action.USER_MANAGE: {AD: F},
    Action.WEBHOOK_MANAGE: {AD: F},
    Action.UTILITY: {OF: F, CR: F, SU: F, AN: F, AD: F},
}


@dataclass(frozen=True)
class Grant:
    """What one user may do for one action: ``units`` is None for the whole force."""

    action: Action
    role: Role
    units: frozenset[str] | None

    def reaches(self, unit: str | None) -> bool:
        return self.units is None or (unit is not None and unit in self.units)


def reach(action: Action, role: Role) -> Reach | None:
    """How far ``role`` reaches for ``action``; None when it may not do it at all."""
    return TABLE[action].get(role)


def grant(action: Action, role: Role, units: frozenset[str]) -> Grant | None:
    """The grant of a user with ``role`` in ``units``; None when the role lacks the action."""
    how = reach(action, role)
    if how is None:
        return None
    return Grant(action, role, None if how is Reach.FORCE else units)


def markdown_table() -> str:
    """The table as Markdown, as the README shows it."""
    roles = list(Role)
    head = "| action | what it covers | " + " | ".join(r.value for r in roles) + " |"
    rule = "|---|---|" + "---|" * len(roles)
    rows = []
    for action in Action:
        cells = []
        for role in roles:
            how = TABLE[action].get(role)
            cells.append("—" if how is None else how.value)
        rows.append(f"| `{action.value}` | {DESCRIPTIONS[action]} | " + " | ".join(cells) + " |")
    return "\n".join([head, rule, *rows])
