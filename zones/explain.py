"""Verdicts and alerts in plain English: sentences an officer could read out in court.

Each names things as people do (the order's reference, the clause's words, the zone's name
and version) and says how far, how sure and when, in local civil time.
"""

from __future__ import annotations

from typing import Literal

from zones import device_alerts
from zones.localtime import DEFAULT_TZ, describe_local
from zones.model import (
    Alert,
    AlertKind,
    AlertStatus,
    Evidence,
    Names,
    Severity,
    Stage,
    Status,
    Subject,
    Verdict,
)

Outcome = Literal["breach", "possible_breach", "no_breach", "nothing_in_force"]

CLAUSE_QUOTE = 160  # characters of a clause quoted in a sentence before it is cut short


def metres(value: float) -> str:
    """A distance as people say it: '42 m', '1.2 km'."""
    v = abs(value)
    return f"{v / 1000:.1f} km" if v >= 1000 else f"{v:.0f} m"


def clause(names: Names | None, condition_id: int) -> str:
    """'clause 2 of SHPO SHPO/CAM/2026/0141 ("Not to ...")'."""
    if names is None:
        return f"condition {condition_id}"
    text = names.clause_text.strip()
    if len(text) > CLAUSE_QUOTE:
        text = text[: CLAUSE_QUOTE - 1].rstrip() + "…"
    return (
        f"clause {names.clause_number} of {names.order_type.value} {names.order_reference} "
        f"(\u201c{text}\u201d)"
    )


def zone(names: Names | None, zone_id: int, version: int) -> str:
    name = names.zone_name if names is not None else f"zone {zone_id}"
    return f"{name} (zone {zone_id}, version {version})"


def accuracy(v: Verdict, accuracy_m: float | None) -> str:
    if not accuracy_m:
        return "No accuracy was given, so only the reported point was judged."
    share = v.disc_fraction_inside
    shown = "" if share is None else f" ({share:.0%} of it)"
    if v.evidence is Evidence.DEFINITE:
        return f"The whole {metres(accuracy_m)} accuracy disc lies in the area: definite."
    if v.evidence is Evidence.POSSIBLE:
        return f"The {metres(accuracy_m)} accuracy disc straddles the edge{shown}: possible."
    return f"The whole {metres(accuracy_m)} accuracy disc lies outside the area."


def rounded(value: float, limits: tuple[float, ...] = (), decimals: int = 1) -> float:
    """``value`` rounded to ``decimals``, or to more where fewer would put it on the other side
    of (or onto) one of ``limits``: a printed distance never contradicts its status."""
    for d in range(decimals, 10):
        r = round(value, d)
        if all((r > lim) == (value > lim) and (r == lim) == (value == lim) for lim in limits):
            return r
    return value


def distance(value: float, limits: tuple[float, ...] = ()) -> str:
    """A geodesic distance as evidence states it: to the decimetre, or finer where the
    decimetre would cross one of ``limits`` (the zone's edge, the buffer, the warning ring)."""
    shown = rounded(abs(value), tuple(abs(x) for x in limits))
    text = f"{shown:,.9f}".rstrip("0")
    return (text + "0" if text.endswith(".") else text) + " m"


def limits_of(v: Verdict) -> tuple[float, ...]:
    """The distances at which a verdict's status changes."""
    return (0.0, v.buffer_m, v.buffer_m + v.warning_m)


def verdict(v: Verdict, accuracy_m: float | None = None) -> str:
    """One verdict as a sentence or two: where, how far (geodesic, on WGS 84), which clause,
    how sure, and whether the clause applied at that time (its schedule)."""
    where = zone(v.names, v.zone_id, v.zone_version)
    rule = clause(v.names, v.condition_id)
    far = distance(v.distance_m, limits_of(v))
    if not v.applies:
        what = "inside" if v.status is Status.INSIDE else f"{far} from"
        head = (
            f"{what.capitalize()} {where}, but {rule} did not apply at that time under its "
            f"schedule ({v.window or 'no window'}): no breach."
        )
        return f"{head} {accuracy(v, accuracy_m)}"
    if v.status is Status.INSIDE:
        head = f"Inside {where}, {far} from its edge: a breach of {rule}."
    elif v.status is Status.BUFFER:
        head = (
            f"Outside {where} but {far} from it, within the {metres(v.buffer_m)} of {rule}: "
            "a breach."
        )
    elif v.status is Status.WARNING:
        head = (
            f"Outside {where}, {far} from it: beyond the {metres(v.buffer_m)} barred by {rule} "
            f"but within its {metres(v.warning_m)} warning ring. A warning, not a breach."
        )
    else:
        limit = f" (the clause bars {metres(v.buffer_m)} around it)" if v.buffer_m else ""
        head = f"Outside {where}, {far} from it{limit}: no breach of {rule}."
    basis = " Distances are geodesic, on the WGS 84 ellipsoid, to the zone's edge."
    during = f" The clause applied then under its schedule: {v.window}." if v.window else ""
    shown = basis if v.status is not Status.OUTSIDE else ""
    return f"{head}{during} {accuracy(v, accuracy_m)}{shown}"


OPENED = {
    "window_opened": "The stay began when the clause's schedule window opened, with the "
    "subject's last known position already inside.",
    "visit_ended": "The stay began when an authorised visit ended with the subject still inside.",
}
CLOSED = {
    "exit": "The first clear observation after that was {at}.",
    "signal_lost": "No observation came for longer than the gap allowed, so the stay is "
    "taken to have ended at the last one inside, {at}.",
    "window_closed": "The clause stopped applying at {at} (its schedule window closed, or "
    "the order changed), which ended the stay.",
    "visit_started": "An authorised visit began at {at}, which ended the alert.",
    "visit_ended": "The authorised visit ended at {at}.",
}


def alert_title(a: Alert) -> str:
    """What an alert is about, as a headline: the zone's name, or the device alert's kind."""
    if a.kind is not AlertKind.ZONE:
        return device_alerts.title(a)
    return a.names.zone_name if a.names is not None else f"zone {a.zone_id}"


def alert(a: Alert, tz: str = DEFAULT_TZ) -> str:
    """One alert (a stay) as a paragraph: who, where, which clause, when, how deep, how sure,
    under which schedule window and rules, and what was known when it was judged."""
    if a.kind is not AlertKind.ZONE:
        return device_alerts.explain(a, tz)
    assert a.zone_id is not None and a.zone_version is not None and a.deepest_m is not None
    assert a.condition_id is not None and a.evidence is not None
    who = (
        f"{a.subject_reference} ({a.subject_name})"
        if a.subject_reference
        else f"subject {a.subject_id}"
    )
    where = zone(a.names, a.zone_id, a.zone_version)
    rule = clause(a.names, a.condition_id)
    if a.severity is Severity.WARNING:
        inside = f"in the {metres(a.warning_m)} warning ring beyond the area around"
        depth = f" at best {distance(a.deepest_m)} from it"
    else:
        inside = "inside" if a.deepest_m <= 0 else f"within {metres(a.buffer_m)} of"
        depth = (
            f" up to {distance(a.deepest_m)} inside"
            if a.deepest_m < 0
            else f" at best {distance(a.deepest_m)} from it"
        )
    span = f"first seen {describe_local(a.first_at, tz)}, last seen {describe_local(a.last_at, tz)}"
    count = f"{a.observation_count} observation{'s' if a.observation_count != 1 else ''}"
    parts = [
        f"{who} was {inside} {where}, barred by {rule}: {span} ({count},{depth}; evidence "
        f"{a.evidence.value})."
    ]
    if a.opened_by in OPENED:
        parts.append(OPENED[a.opened_by])
    if a.schedule_window:
        parts.append(f"The clause applied then under its schedule: {a.schedule_window}.")
    if a.status is AlertStatus.OPEN:
        parts.append("No observation since shows the subject outside.")
    else:
        at = describe_local(a.closed_at, tz) if a.closed_at else "an unknown time"
        parts.append(CLOSED.get(a.closed_by or "exit", CLOSED["exit"]).format(at=at))
    stage = a.stage
    if stage is Stage.PENDING:
        parts.append(_rules(a, "It is a pending stay, not an alert: it has not yet met"))
    elif stage is Stage.AUTHORISED:
        parts.append("It was covered by an authorised visit: kept on record, not an alert.")
    elif stage is Stage.MERGED:
        parts.append(f"Data that arrived later joined it to alert {a.merged_into}.")
    elif (
        a.confirmed_at is not None
        and a.rules
        and (a.rules.get("confirm_fixes", 1) > 1 or a.rules.get("confirm_seconds", 0) > 0)
    ):
        parts.append(
            _rules(a, f"It became an alert at {describe_local(a.confirmed_at, tz)}, on meeting")
        )
    if a.severity is Severity.WARNING:
        parts.append("This is a warning, not a breach of the order.")
    if a.late:
        parts.append("It was raised from data that arrived late.")
    if a.judged_at is not None:
        parts.append(
            f"Judged against the zone and clause versions in force at each observation's "
            f"time, as recorded at {describe_local(a.judged_at, tz)}."
        )
    return " ".join(parts)


def _rules(a: Alert, lead: str) -> str:
    r = a.rules or {}
    fixes, seconds = int(r.get("confirm_fixes", 1)), int(r.get("confirm_seconds", 0))
    need = f"{fixes} observation{'s' if fixes != 1 else ''}"
    if seconds:
        need += f" over at least {seconds} seconds"
    return f"{lead} the clause's confirmation rule ({need})."


def sighting(
    subject: Subject,
    verdicts: list[Verdict],
    accuracy_m: float | None,
    when: str,
    *,
    in_force: int | None = None,
) -> tuple[str, Outcome]:
    """The answer to a sighting check in one sentence, and its outcome.

    ``verdicts`` come ranked (breaches first). "Nothing to judge against" is said as such:
    it is not "no breach". ``in_force`` is how many zones of conditions were in force when
    the verdicts list only those that matter (default: one a verdict).
    """
    who = f"{subject.reference} ({subject.name})"
    if not verdicts:
        return (
            f"Nothing to judge against: {who} had no order condition in force {when}. "
            "This is not a finding of no breach.",
            "nothing_in_force",
        )
    top = verdicts[0]
    if not any(v.applies for v in verdicts):
        return (
            f"No breach by {who} {when}: the order's conditions did not apply at that time "
            f"under their schedules. {verdict(top, accuracy_m)}",
            "no_breach",
        )
    if top.is_breach:
        return f"Breach by {who} {when}. {verdict(top, accuracy_m)}", "breach"
    if top.applies and top.in_area is False and top.evidence is not Evidence.NONE:
        return (
            f"Possible breach by {who} {when}: the reported point is outside, but its accuracy "
            f"disc overlaps the area. {verdict(top, accuracy_m)}",
            "possible_breach",
        )
    # In a clause's area while the clause did not apply (its schedule): say so, plainly.
    off = next((v for v in verdicts if v.in_area and not v.applies), None)
    aside = f" Note: {verdict(off, accuracy_m)}" if off is not None else ""
    warned = next((v for v in verdicts if v.is_warning), None)
    if warned is not None:
        return (
            f"No breach by {who} {when}, but a warning: {verdict(warned, accuracy_m)}{aside}",
            "no_breach",
        )
    applying = [v for v in verdicts if v.applies] or verdicts
    nearest = min(applying, key=lambda v: v.distance_m - v.buffer_m)
    named = zone(nearest.names, nearest.zone_id, nearest.zone_version)
    return (
        f"No breach by {who} {when}: judged against "
        f"{len(verdicts) if in_force is None else in_force} zone(s) in force; the "
        f"nearest that applied then is {named}, {metres(nearest.distance_m)} away.{aside}",
        "no_breach",
    )
