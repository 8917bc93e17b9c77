"""Sealing the audit log into one keyed chain, and verifying it.

Writers never wait for each other: each entry carries its own row MAC. The sealer (the
worker, every tick, and ``zones audit verify`` before it checks) gives the committed,
unsealed entries the next places in the chain, in the order it finds them. Because the
chain follows the order of *sealing*, not of ids, an entry whose transaction took an id
early but committed late is simply sealed in a later round: nothing has to wait for the
transactions still in flight, and no entry is ever skipped for good. Positions run 1, 2,
3... with no gaps (ids have gaps: a rolled-back transaction spends its id), so a missing
entry shows as a missing position.

The sealed head (position, entry id, chain MAC) is also recorded in a file in the state
folder, outside the database, after each seal: cutting off the sealed tail of the log, or
swapping in another database, shows against it. The sealer refuses to extend a chain that
does not reach the recorded head, or it would seal over the gap.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Text, cast, func, select, text
from sqlalchemy.orm import Session

from service.audit_mac import GENESIS, AuditKey, Content, chain_mac, row_mac
from service.db import audit_store, tables
from service.settings import ApiSettings

log = logging.getLogger("zones.audit")
SEAL_LOCK = 0x5A415544  # "ZAUD": one sealer at a time; writers never take it
BATCH = 5000
SYSTEM_USER = "zones"


@dataclass(frozen=True)
class Head:
    position: int
    entry_id: int
    mac: bytes


class ChainBroken(RuntimeError):
    """The chain in the database does not reach the head recorded outside it."""


def seal(session: Session, key: AuditKey) -> int:
    """Give every committed, unsealed entry its place in the chain; commit; record the head.

    Returns how many entries were sealed. Raises :class:`ChainBroken` (and seals nothing)
    when the sealed tail recorded in the state folder is no longer in the database.
    """
    session.execute(select(func.pg_advisory_xact_lock(SEAL_LOCK)))
    head = last_sealed(session)
    problem = head_problem(session, read_head(key.head_file), head)
    if problem is not None:
        session.rollback()
        raise ChainBroken(problem)
    if head is None:
        _adopt(session, key)
    head = head or Head(0, 0, GENESIS)
    a = tables.AuditEntry
    sealed = 0
    while rows := session.execute(
        select(a.id, a.row_mac)
        .where(a.seal_seq.is_(None), a.row_mac.is_not(None))
        .order_by(a.id)
        .limit(BATCH)
    ).all():
        ids, positions, macs = [], [], []
        for entry_id, row in rows:
            assert row is not None  # selected so
            position = head.position + 1
            head = Head(position, entry_id, chain_mac(key, head.mac, position, entry_id, row))
            ids.append(entry_id)
            positions.append(position)
            macs.append(head.mac)
        session.execute(
            text(
                "UPDATE audit_log a SET seal_seq = s.position, chain_mac = s.mac "
                "FROM unnest(CAST(:ids AS bigint[]), CAST(:positions AS bigint[]), "
                "CAST(:macs AS bytea[])) AS s(id, position, mac) WHERE a.id = s.id"
            ),
            {"ids": ids, "positions": positions, "macs": macs},
        )
        sealed += len(rows)
    session.commit()
    if sealed:
        write_head(key.head_file, head)
    return sealed


def seal_job(session: Session, since: datetime, now: datetime, settings: ApiSettings) -> int:
    """The worker's job: seal what was written since its last tick. A broken chain is logged
    (every tick, until someone looks) and never stops the other jobs."""
    try:
        key = audit_store.key_of(session)
    except audit_store.AuditUnbound:
        log.warning("the worker's sessions have no audit key: the audit is not being sealed")
        return 0
    try:
        return seal(session, key)
    except ChainBroken as exc:
        log.error("audit chain broken, not sealing: %s (run `zones audit verify`)", exc)
        return 0


def last_sealed(session: Session) -> Head | None:
    a = tables.AuditEntry
    row = session.execute(
        select(a.seal_seq, a.id, a.chain_mac)
        .where(a.seal_seq.is_not(None))
        .order_by(a.seal_seq.desc())
        .limit(1)
    ).first()
    if row is None or row.chain_mac is None or row.seal_seq is None:
        return None
    return Head(row.seal_seq, row.id, row.chain_mac)


def head_problem(session: Session, recorded: Head | None, head: Head | None) -> str | None:
    """What is wrong with the database's chain against the head recorded outside it."""
    if recorded is None:
        return None
    where = f"the head recorded outside the database is entry {recorded.entry_id} at position "
    where += str(recorded.position)
    if head is None or head.position < recorded.position:
        ends = "has no sealed entry" if head is None else f"ends at position {head.position}"
        return f"head truncated: {where}, but the chain in the database {ends}"
    a = tables.AuditEntry
    there = session.execute(
        select(a.id, a.chain_mac).where(a.seal_seq == recorded.position)
    ).first()
    if there is None or (there.id, there.chain_mac) != (recorded.entry_id, recorded.mac):
        return (
            f"head mismatch: {where}, but the database holds another entry there: the chain was "
            "rewritten from there, or this is not the database this installation sealed"
        )
    return None


def _adopt(session: Session, key: AuditKey) -> int:
    """Give a MAC to the entries written before entries had MACs, as they stand now (the
    chain's first seal only, and said so in the audit)."""
    a = tables.AuditEntry
    rows = session.execute(
        select(a.id, *_content_columns()).where(a.row_mac.is_(None)).order_by(a.id)
    ).all()
    if not rows:
        return 0
    session.execute(
        text(
            "UPDATE audit_log a SET row_mac = s.mac FROM unnest(CAST(:ids AS bigint[]), "
            "CAST(:macs AS bytea[])) AS s(id, mac) WHERE a.id = s.id"
        ),
        {"ids": [r.id for r in rows], "macs": [row_mac(key, _content(r)) for r in rows]},
    )
    session.add(
        audit_store.entry(
            key, SYSTEM_USER, "audit.adopt",
            detail={"entries": len(rows), "first_id": rows[0].id, "last_id": rows[-1].id},
        )
    )  # fmt: skip
    session.flush()
    log.info("adopted %d audit entries written before entries had MACs", len(rows))
    return len(rows)


@dataclass(frozen=True)
class Problem:
    kind: str  # altered, missing, out_of_order, no_mac, head_truncated, head_mismatch
    entry_id: int | None
    position: int | None
    message: str


@dataclass
class Report:
    entries: int = 0
    sealed: int = 0
    unsealed: int = 0
    intact: Head | None = None  # the last sealed entry before the first problem
    head_recorded: Head | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        lines = []
        if self.problems:
            first = self.problems[0]
            lines.append(f"audit chain BROKEN: {first.message}")
            if len(self.problems) > 1:
                more = ", ".join(p.message for p in self.problems[1:6])
                etc = ", ..." if len(self.problems) > 6 else ""
                lines.append(f"{len(self.problems) - 1} more problem(s): {more}{etc}")
        intact = (
            "no sealed entry"
            if self.intact is None
            else f"chain intact up to id {self.intact.entry_id} (position {self.intact.position})"
        )
        lines.append(f"{self.entries} entries, {intact}, {self.unsealed} unsealed")
        if self.head_recorded is None:
            lines.append("no head recorded outside the database yet: a cut tail cannot show")
        elif not any(p.kind.startswith("head") for p in self.problems):
            lines.append(f"head recorded outside the database (position "
                         f"{self.head_recorded.position}) is in the chain")  # fmt: skip
        return "\n".join(lines)


def verify(session: Session, key: AuditKey) -> Report:
    """Recompute every row MAC and the chain; compare the head recorded outside the database.

    Reads in one snapshot; entries sealed after it began count as unsealed.
    """
    report = Report(head_recorded=read_head(key.head_file))  # before the snapshot: see below
    # The head file is written after its seal commits, so a head read before this query
    # is always inside the query's snapshot; one read after could be ahead of it.
    a = tables.AuditEntry
    rows = session.execute(
        select(a.id, a.row_mac, a.seal_seq, a.chain_mac, *_content_columns())
        .order_by(a.seal_seq.asc().nulls_last(), a.id)
        .execution_options(yield_per=BATCH)
    )
    previous, expected, clean = GENESIS, 1, True
    at_recorded: tuple[int, bytes | None] | None = None

    def problem(kind: str, r: object, message: str) -> None:
        nonlocal clean
        clean = False
        report.problems.append(
            Problem(kind, getattr(r, "id", None), getattr(r, "seal_seq", None), message)
        )

    for r in rows:
        report.entries += 1
        name = f"entry {r.id}" + ("" if r.seal_seq is None else f" (position {r.seal_seq})")
        if r.row_mac is None:
            problem("no_mac", r, f"{name} has no MAC: it was not written by the service")
        elif row_mac(key, _content(r)) != r.row_mac:
            problem("altered", r, f"{name} altered: its content does not match its MAC")
        if r.seal_seq is None:
            report.unsealed += 1
            continue
        report.sealed += 1
        if report.head_recorded is not None and r.seal_seq == report.head_recorded.position:
            at_recorded = (r.id, r.chain_mac)
        if r.seal_seq > expected:
            gone = r.seal_seq - expected
            problem("missing", r, f"{gone} entr{'y' if gone == 1 else 'ies'} missing before "
                    f"{name}: positions {expected} to {r.seal_seq - 1} are gone")  # fmt: skip
        elif r.seal_seq < expected:
            problem("out_of_order", r, f"{name} out of order: position {r.seal_seq} again")
        elif r.row_mac is not None and r.chain_mac != chain_mac(
            key, previous, r.seal_seq, r.id, r.row_mac
        ):
            problem("out_of_order", r, f"{name} out of order: it is not the entry that was "
                    f"sealed after position {r.seal_seq - 1}")  # fmt: skip
        # Go on from the stored MAC: one bad entry is one problem, not all that follow.
        previous, expected = r.chain_mac or GENESIS, max(expected, r.seal_seq + 1)
        if clean:
            report.intact = Head(r.seal_seq, r.id, r.chain_mac or GENESIS)
    recorded = report.head_recorded
    if recorded is not None:
        if report.sealed == 0 or expected - 1 < recorded.position:
            ends = "ends at position " + str(expected - 1) if report.sealed else "is empty"
            report.problems.append(Problem(
                "head_truncated", None, recorded.position,
                f"head truncated: the head recorded outside the database is entry "
                f"{recorded.entry_id} at position {recorded.position}, but the chain {ends}",
            ))  # fmt: skip
        elif at_recorded != (recorded.entry_id, recorded.mac):
            report.problems.append(Problem(
                "head_mismatch", None, recorded.position,
                f"head mismatch: position {recorded.position} does not hold the entry "
                f"recorded outside the database (entry {recorded.entry_id})",
            ))  # fmt: skip
    return report


def _content_columns() -> tuple[object, ...]:
    a = tables.AuditEntry
    return (
        a.at, a.username, a.action, a.object_type, a.object_id, a.reason, a.client,
        a.recipient, cast(a.detail, Text).label("detail"), cast(a.records, Text).label("records"),
    )  # fmt: skip


def _content(r: object) -> Content:
    return Content(*(getattr(r, name) for name in Content.__dataclass_fields__))


def read_head(path: Path) -> Head | None:
    """The sealed head recorded in ``path``, if any."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    return Head(int(data["position"]), int(data["entry_id"]), bytes.fromhex(data["mac"]))


def write_head(path: Path, head: Head) -> None:
    """Record ``head`` atomically (mode 600), never going back to an earlier position: two
    sealers that finish in the other order leave the later head."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = read_head(path)
        if current is not None and current.position >= head.position:
            return
        temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        body = {
            "position": head.position,
            "entry_id": head.entry_id,
            "mac": head.mac.hex(),
            "sealed_at": datetime.now(UTC).isoformat(),
        }
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(json.dumps(body) + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
    finally:
        os.close(lock)
