"""The private PostGIS cluster: created under the project folder on first use, reused after.

It serves the way an embedded database would: no port of its own (a Unix socket in the
cluster's folder), trust authentication for local connections only. The server runs as the
user who runs the command, or as the ``postgres`` OS user when that is root (PostgreSQL
refuses to run as root). Every client (psql here, psycopg, Alembic, the tests) connects as
the cluster's superuser role ``postgres``, never as a role named after the OS user, which
does not exist in the cluster.
``ZONES_DATABASE_URL`` bypasses all of this.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from service.settings import DatabaseSettings

log = logging.getLogger(__name__)
SOCKET_PATH_LIMIT = 100  # sockaddr_un holds 107 bytes; leave room for ".s.PGSQL.5432"
SUPERUSER = "postgres"  # the cluster's own superuser role, whoever runs the command


class LocalDatabaseError(RuntimeError):
    """The private cluster could not be created or started."""


def _bindir() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    found = shutil.which("initdb")
    if candidates:
        return candidates[0].parent
    if found:
        return Path(found).resolve().parent
    raise LocalDatabaseError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: run the README's set-up "
        "command, or point ZONES_DATABASE_URL at a PostGIS database"
    )


def _run_as() -> list[str]:
    """The command prefix that runs PostgreSQL tools as a non-root user."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


def _owner_uid() -> int | None:
    return pwd.getpwnam("postgres").pw_uid if os.geteuid() == 0 else None


class LocalCluster:
    """A PostgreSQL cluster in ``settings.dir``: ``data/``, ``run/`` (socket) and ``log``."""

    def __init__(self, settings: DatabaseSettings) -> None:
        self.root = settings.dir.resolve()
        self.data = self.root / "data"
        self.logfile = self.root / "postgres.log"
        self.name = settings.name
        run = self.root / "run"
        if len(str(run)) > SOCKET_PATH_LIMIT:
            digest = hashlib.sha1(str(self.root).encode()).hexdigest()[:12]
            run = Path(tempfile.gettempdir()) / f"zones-db-{digest}"
        self.socket_dir = run

    def url(self, database: str | None = None) -> str:
        """SQLAlchemy URL of a database in this cluster, over its socket."""
        return f"postgresql+psycopg://{SUPERUSER}@/{database or self.name}?host={self.socket_dir}"

    def _pg(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [*_run_as(), str(_bindir() / tool), *args]
        return subprocess.run(cmd, capture_output=True, text=True, check=False)

    def _prepare_dirs(self) -> None:
        uid = _owner_uid()
        for d in (self.root, self.socket_dir):
            d.mkdir(parents=True, exist_ok=True)
            if uid is not None:
                os.chown(d, uid, -1)
        if uid is not None and not self.logfile.exists():
            self.logfile.touch()
            os.chown(self.logfile, uid, -1)

    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def running(self) -> bool:
        return (
            self.initialised()
            and self._pg("pg_ctl", "status", "-D", str(self.data)).returncode == 0
        )

    def ensure(self) -> str:
        """Create and start the cluster if needed, create the database; return its URL."""
        self._prepare_dirs()
        if not self.initialised():
            log.info("creating private PostGIS cluster in %s", self.data)
            done = self._pg(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            )
            if done.returncode != 0:
                raise LocalDatabaseError(f"initdb failed: {done.stderr.strip()}")
        if not self.running():
            options = f"-k {self.socket_dir} -c listen_addresses='' -c fsync=on"
            done = self._pg(
                "pg_ctl",
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.data),
                "-l",
                str(self.logfile),
                "-o",
                options,
            )
            if done.returncode != 0:
                tail = (
                    self.logfile.read_text(errors="replace")[-2000:]
                    if self.logfile.exists()
                    else ""
                )
                raise LocalDatabaseError(
                    f"could not start PostgreSQL: {done.stderr.strip()}\n{tail}"
                )
        self.create_database(self.name)
        return self.url()

    def _psql(self, sql: str, database: str = "postgres") -> str:
        done = self._pg(
            "psql", "-h", str(self.socket_dir), "-U", SUPERUSER, "-d", database, "-XAtqc", sql
        )
        if done.returncode != 0:
            raise LocalDatabaseError(f"psql failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def create_database(self, name: str, *, fresh: bool = False) -> str:
        """Create database ``name`` (dropping it first when ``fresh``); return its URL."""
        if fresh:
            self._psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if self._psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") != "1":
            self._psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.running():
            self._pg("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w")


def database_url(settings: DatabaseSettings) -> str:
    """The URL to use: ``ZONES_DATABASE_URL`` if set, else the private cluster (started)."""
    if settings.url:
        return settings.url
    return LocalCluster(settings).ensure()
