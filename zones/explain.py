"""Verdicts and alerts in plain English: sentences an officer could read out in court.

Each names things as people do (the order's reference, the clause's words, the zone's name
and version) and says how far, how sure and when, in local civil time.
"""

from __future__ import annotations

from typing import Literal

from zones.localtime import DEFAULT_TZ, describe_local
from zones.model import Alert, AlertStatus, Evidence, Names, Status, Subject, Verdict

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


def verdict(v: Verdict, accuracy_m: float | None = None) -> str:
    """One verdict as a sentence or two."""
    where = zone(v.names, v.zone_id, v.zone_version)
    rule = clause(v.names, v.condition_id)
    if v.status is Status.INSIDE:
        head = f"Inside {where}, {metres(v.distance_m)} from its edge: a breach of {rule}."
    elif v.status is Status.BUFFER:
        head = (
            f"Outside {where} but {metres(v.distance_m)} from it, within the "
            f"{metres(v.buffer_m)} of {rule}: a breach."
        )
    else:
        limit = f" (the clause bars {metres(v.buffer_m)} around it)" if v.buffer_m else ""
        head = f"Outside {where}, {metres(v.distance_m)} from it{limit}: no breach of {rule}."
    return f"{head} {accuracy(v, accuracy_m)}"


def alert(a: Alert, tz: str = DEFAULT_TZ) -> str:
    """One alert (a stay) as a paragraph: who, where, which clause, when, how deep, how sure."""
    who = (
        f"{a.subject_reference} ({a.subject_name})"
        if a.subject_reference
        else f"subject {a.subject_id}"
    )
    where = zone(a.names, a.zone_id, a.zone_version)
    rule = clause(a.names, a.condition_id)
    inside = "inside" if a.deepest_m <= 0 else f"within {metres(a.buffer_m)} of"
    depth = (
        f" up to {metres(a.deepest_m)} inside"
        if a.deepest_m < 0
        else f" at best {metres(a.deepest_m)} from it"
    )
    span = f"first seen {describe_local(a.first_at, tz)}, last seen {describe_local(a.last_at, tz)}"
    count = f"{a.observation_count} observation{'s' if a.observation_count != 1 else ''}"
    if a.status is AlertStatus.OPEN:
        end = "No observation since shows the subject outside."
    else:
        left = describe_local(a.closed_at, tz) if a.closed_at else "an unknown time"
        end = f"The first clear observation after that was {left}."
    late = " It was raised from data that arrived late." if a.late else ""
    return (
        f"{who} was {inside} {where}, barred by {rule}: {span} ({count},{depth}; evidence "
        f"{a.evidence.value}). {end}{late}"
    )


def sighting(
    subject: Subject, verdicts: list[Verdict], accuracy_m: float | None, when: str
) -> tuple[str, Outcome]:
    """The answer to a sighting check in one sentence, and its outcome.

    ``verdicts`` come ranked (breaches first). "Nothing to judge against" is said as such:
    it is not "no breach".
    """
    who = f"{subject.reference} ({subject.name})"
    if not verdicts:
        return (
            f"Nothing to judge against: {who} had no order condition in force {when}. "
            "This is not a finding of no breach.",
            "nothing_in_force",
        )
    top = verdicts[0]
    if top.is_breach:
        return f"Breach by {who} {when}. {verdict(top, accuracy_m)}", "breach"
    if top.evidence is not Evidence.NONE:
        return (
            f"Possible breach by {who} {when}: the reported point is outside, but its accuracy "
            f"disc overlaps the area. {verdict(top, accuracy_m)}",
            "possible_breach",
        )
    nearest = min(verdicts, key=lambda v: v.distance_m - v.buffer_m)
    return (
        f"No breach by {who} {when}: judged against {len(verdicts)} zone(s) in force; the "
        f"nearest is {zone(nearest.names, nearest.zone_id, nearest.zone_version)}, "
        f"{metres(nearest.distance_m)} away.",
        "no_breach",
    )
