"""Handling an alert: what a person may do to it, and what state that leaves it in.

The stay (inside, then left) is a fact about the subject; handling is a fact about the
force. Every alert starts unhandled, whether or not the stay has ended, and moves
unhandled -> acknowledged -> resolved. Assignment and notes may come at any point. Only a
supervisor may reopen a resolved alert, with a note saying why, to correct a disposition.
A new stay is always a new alert, never a reopened one.
"""

from __future__ import annotations

from dataclasses import dataclass

from zones.errors import Forbidden, InvalidAlertAction
from zones.model import AlertActionKind, Disposition, Handling, Role

ACTING_ROLES = frozenset({Role.CONTROL_ROOM, Role.SUPERVISOR})
REOPENING_ROLES = frozenset({Role.SUPERVISOR})
NOTE_LIMIT = 4000


@dataclass(frozen=True, slots=True)
class HandlingState:
    """The handling part of an alert."""

    handling: Handling
    assigned_to: str | None = None
    disposition: Disposition | None = None


def apply(
    state: HandlingState,
    action: AlertActionKind,
    role: Role,
    *,
    note: str | None = None,
    assignee: str | None = None,
    disposition: Disposition | None = None,
) -> HandlingState:
    """The state after ``action`` by a user with ``role``, or an error saying why not.

    Parameters
    ----------
    state
        The alert's handling now.
    action
        acknowledge, assign (needs ``assignee``), note (needs ``note``), resolve (needs
        ``disposition``) or reopen (needs ``note``; supervisors only).

    Raises
    ------
    Forbidden
        The role may not act on alerts, or may not reopen.
    InvalidAlertAction
        The action does not fit the state, or lacks what it needs.
    """
    if role not in ACTING_ROLES:
        raise Forbidden(
            f"role {role.value!r} may not act on alerts (the control room and supervisors may)"
        )
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_LIMIT:
        raise InvalidAlertAction(f"a note has at most {NOTE_LIMIT} characters", field="note")
    for name, value, wanted in (
        ("assignee", assignee, AlertActionKind.ASSIGN),
        ("disposition", disposition, AlertActionKind.RESOLVE),
    ):
        if value is not None and action is not wanted:
            raise InvalidAlertAction(f"{name} belongs only to {wanted.value}", field=name)
    h = state.handling
    if action is AlertActionKind.ACKNOWLEDGE:
        if h is not Handling.UNHANDLED:
            raise InvalidAlertAction(f"the alert is already {h.value}", field="action")
        return HandlingState(Handling.ACKNOWLEDGED, state.assigned_to)
    if action is AlertActionKind.ASSIGN:
        if not assignee:
            raise InvalidAlertAction("say who to assign the alert to", field="assignee")
        return HandlingState(h, assignee, state.disposition)
    if action is AlertActionKind.NOTE:
        if note is None:
            raise InvalidAlertAction("a note needs some text", field="note")
        return state
    if action is AlertActionKind.RESOLVE:
        if h is Handling.RESOLVED:
            raise InvalidAlertAction(
                "the alert is already resolved; a supervisor may reopen it", field="action"
            )
        if disposition is None:
            names = ", ".join(d.value for d in Disposition)
            raise InvalidAlertAction(
                f"resolving needs a disposition (one of: {names})", field="disposition"
            )
        return HandlingState(Handling.RESOLVED, state.assigned_to, disposition)
    # reopen
    if role not in REOPENING_ROLES:
        raise Forbidden("only a supervisor may reopen a resolved alert")
    if h is not Handling.RESOLVED:
        raise InvalidAlertAction(f"only a resolved alert can be reopened; it is {h.value}")
    if note is None:
        raise InvalidAlertAction("reopening needs a note saying why", field="note")
    return HandlingState(Handling.ACKNOWLEDGED, state.assigned_to, None)
