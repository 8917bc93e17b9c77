"""``zones device ...`` and ``zones gateway ...``: register trackers and issue their
credentials from the command line (as the operator, ``cli`` in the audit log)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line imports the database layer only when a command runs
    from service.feeds.credentials import FeedCredential
    from service.settings import Settings


def _show(c: FeedCredential) -> str:
    state = f"revoked {c.revoked_at:%Y-%m-%d %H:%M}" if c.revoked_at else "active"
    refused = (
        f"; refused {c.refused_count} (last {c.last_refused_device!r})" if c.refused_count else ""
    )
    devices = ", ".join(c.devices[:5]) + (
        f" and {len(c.devices) - 5} more" if len(c.devices) > 5 else ""
    )
    return f"{c.id:>5} {c.kind.value:<8} {c.name!r} [{devices}] {state}{refused}"


def _issued(c: FeedCredential, secret: str) -> None:
    print(_show(c))
    print(f"secret (shown this once): {secret}")
    if c.username:
        print(f"HTTP Basic: username {c.username!r}, the secret as password")


def cmd_device(args: argparse.Namespace, settings: Settings) -> int:
    from service.cli import _instant, _session
    from service.db import audit_store, devices_store
    from service.feeds import credentials
    from service.feeds.credentials import CredentialKind

    with _session(settings) as session:
        if args.action == "register":
            at = _instant(args.assigned_from, "assigned_from") if args.assigned_from else None
            row = devices_store.assign_device(
                session, args.identifier, args.subject, at or datetime.now(UTC), "cli"
            )
            audit_store.record(
                session, "cli", "device.assign", "device", row.id,
                detail={"identifier": row.identifier, "subject_id": row.subject_id},
            )  # fmt: skip
            session.commit()
            print(f"device {row.identifier} worn by subject {row.subject_id}")
        elif args.action == "credential":
            made, secret = credentials.create(
                session, CredentialKind.DEVICE, args.name or args.identifier, [args.identifier],
                by="cli", username=args.username,
            )  # fmt: skip
            session.commit()
            _issued(made, secret)
        elif args.action == "list":
            for c in credentials.listed(session, CredentialKind.DEVICE):
                print(_show(c))
        else:
            print(_show(credentials.revoke(session, args.id, by="cli")))
            session.commit()
    return 0


def cmd_gateway(args: argparse.Namespace, settings: Settings) -> int:
    from service.cli import _session
    from service.feeds import credentials
    from service.feeds.credentials import CredentialKind

    with _session(settings) as session:
        if args.action == "add":
            made, secret = credentials.create(
                session, CredentialKind.GATEWAY, args.name, args.device or [],
                by="cli", username=args.username,
            )  # fmt: skip
            session.commit()
            _issued(made, secret)
        elif args.action == "devices":
            print(_show(credentials.set_devices(session, args.id, args.device or [], by="cli")))
            session.commit()
        elif args.action == "list":
            for c in credentials.listed(session, CredentialKind.GATEWAY):
                print(_show(c))
        else:
            print(_show(credentials.revoke(session, args.id, by="cli")))
            session.commit()
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    d = sub.add_parser("device", help="trackers and their own credentials")
    dsub = d.add_subparsers(dest="action", required=True)
    dr = dsub.add_parser("register", help="register a tracker, or move it to another subject")
    dr.add_argument("identifier", help="as the tracker sends it (OwnTracks: user/device)")
    dr.add_argument("--subject", type=int, help="the subject id wearing it (none: nobody)")
    dr.add_argument("--assigned-from", help="when it was fitted, ISO 8601 (default now)")
    dc = dsub.add_parser("credential", help="issue a device its own credential (shown once)")
    dc.add_argument("identifier")
    dc.add_argument("--username", help="for HTTP Basic (the OwnTracks app's user)")
    dc.add_argument("--name", help="what it is for")
    dsub.add_parser("list", help="list device credentials and their refusals")
    dv = dsub.add_parser("revoke", help="revoke a device credential")
    dv.add_argument("id", type=int)
    d.set_defaults(func=cmd_device)
    g = sub.add_parser("gateway", help="credentials that submit for a set of devices")
    gsub = g.add_subparsers(dest="action", required=True)
    ga = gsub.add_parser("add", help="issue a gateway credential (shown once)")
    ga.add_argument("name", help="e.g. 'Traccar, force HQ'")
    ga.add_argument("--device", action="append", help="a registered device; repeatable")
    ga.add_argument("--username", help="for HTTP Basic")
    gd = gsub.add_parser("devices", help="replace a gateway's set of devices")
    gd.add_argument("id", type=int)
    gd.add_argument("--device", action="append", help="a registered device; repeatable")
    gsub.add_parser("list", help="list gateways, their devices and refusals")
    gv = gsub.add_parser("revoke", help="revoke a gateway")
    gv.add_argument("id", type=int)
    g.set_defaults(func=cmd_gateway)
