"""``zones device`` and ``zones gateway``: the operator registers trackers and issues their
credentials; the secret is printed once and works on the protocol routes' check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from service import cli
from service.auth import NotAuthenticated
from service.db.migrate import upgrade
from service.feeds import credentials
from tests.conftest import scratch_database


def test_device_and_gateway_commands(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with scratch_database("feeds_cli") as url:
        engine = create_engine(url)
        try:
            upgrade(engine)
            with engine.begin() as c:
                c.execute(text("INSERT INTO units (code, name) VALUES ('u', 'U')"))
                c.execute(
                    text(
                        "INSERT INTO subjects (id, reference, name, unit) "
                        "VALUES (1, 'C-1', 'C', 'u')"
                    )
                )
            monkeypatch.setenv("ZONES_DATABASE_URL", url)
            monkeypatch.setenv("ZONES_STATE_DIR", str(tmp_path))

            def zones(*args: str) -> str:
                assert cli.main(list(args)) == 0
                return capsys.readouterr().out

            assert "worn by subject 1" in zones(
                "device", "register", "jane/phone", "--subject", "1"
            )
            issued = zones("device", "credential", "jane/phone", "--username", "jane")
            [device_secret] = re.findall(r"secret \(shown this once\): (\S+)", issued)
            added = zones("gateway", "add", "Traccar HQ", "--device", "jane/phone")
            [gateway_secret] = re.findall(r"secret \(shown this once\): (\S+)", added)
            gateway_id = int(added.split()[0])
            assert "Traccar HQ" in zones("gateway", "list") and gateway_secret not in zones(
                "gateway", "list"
            )
            assert cli.main(["gateway", "add", "x", "--device", "nope"]) == 2  # unknown device
            with Session(engine) as session:
                who = credentials.authenticate(session, device_secret, username="jane")
                assert who.devices == {"jane/phone"}
                with pytest.raises(NotAuthenticated):
                    credentials.authenticate(session, device_secret, username="john")
            assert "revoked" in zones("gateway", "revoke", str(gateway_id))
            with Session(engine) as session:
                with pytest.raises(NotAuthenticated):
                    credentials.authenticate(session, gateway_secret)
                actions = session.scalars(text("SELECT action FROM audit_log ORDER BY id")).all()
            assert actions == [
                "device.assign", "device_credential.create", "gateway_credential.create",
                "gateway_credential.revoke",
            ]  # fmt: skip
        finally:
            engine.dispose()
