"""A project-managed PostgreSQL 15 + PostGIS 3 cluster under ``.data/``.

The cluster listens on the loopback interface only, uses the ``C.UTF-8`` locale (pg_trgm needs it to
see trigrams in Japanese) and trusts loopback connections: it is a development and demo database.
PostgreSQL refuses to run as root, so when we are root every server command runs as ``postgres``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from search.errors import EmbeddedClusterError
from search.settings import DbSettings

POSTGIS_PACKAGE = "postgresql-15-postgis-3"
_PG_MAJOR = "15"
_SERVER_USER = "postgres"


# A first load writes ~1 GB of WAL per 100,000 shops (the GIN pending lists above all). With the
# defaults the run's backend spent ~6% of its time waiting on WAL, much of it writing the 8MB of WAL
# buffers out itself whenever they filled. With these the WAL writer does that writing, segments are
# kept for reuse, and a 100,000-row load fits between two checkpoints (bench/results/ingest_bench.md,
# 2026-12-05, seventh session; docs/scaling.md says the same for a PostgreSQL of your own). New
# segments are still zero-filled (wal_init_zero): without it a full disk makes the server stop with
# a PANIC mid-load instead of failing the run with "No space left on device"
# (tests/reliability/test_disk_faults.py).
WAL_SETTINGS = ("wal_buffers=64MB", "max_wal_size=4GB", "min_wal_size=2GB")


@dataclass(frozen=True)
class ClusterStatus:
    running: bool
    initialised: bool
    data_dir: Path
    port: int
    url: str


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def find_pg_bin(explicit: Path | None = None) -> Path:
    """The directory holding ``initdb`` and ``pg_ctl`` for PostgreSQL 15."""
    candidates = [explicit] if explicit else []
    candidates.append(Path(f"/usr/lib/postgresql/{_PG_MAJOR}/bin"))
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(Path(out.stdout.strip()))
    for candidate in candidates:
        if candidate and (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    raise EmbeddedClusterError(
        "PostgreSQL 15 server binaries not found; install them with "
        "'apt-get install -y postgresql-15 postgresql-15-postgis-3' or set KOSODATE_DB_PG_BIN"
    )


def postgis_installed(pg_bin: Path) -> bool:
    sharedir = pg_bin.parent.parent.parent.parent / "share" / "postgresql" / _PG_MAJOR / "extension"
    for base in (sharedir, Path(f"/usr/share/postgresql/{_PG_MAJOR}/extension")):
        if (base / "postgis.control").exists():
            return True
    return False


def ensure_postgis(pg_bin: Path, *, install: bool = True) -> None:
    """Install PostGIS from Debian packages when it is missing and we may (root, apt-get present)."""
    if postgis_installed(pg_bin):
        return
    apt = shutil.which("apt-get")
    if not (install and apt and _is_root()):
        raise EmbeddedClusterError(
            f"PostGIS is not installed; run 'apt-get install -y {POSTGIS_PACKAGE}' (as root)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([apt, "-qq", "update"], check=False, env=env, capture_output=True)
    done = subprocess.run(
        [apt, "install", "-y", "-qq", "--no-install-recommends", POSTGIS_PACKAGE],
        check=False,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 or not postgis_installed(pg_bin):
        raise EmbeddedClusterError(f"could not install {POSTGIS_PACKAGE}: {done.stderr.strip()[-500:]}")


class EmbeddedCluster:
    """Start, stop and inspect the cluster described by ``DbSettings``."""

    def __init__(self, settings: DbSettings, *, fast: bool = False) -> None:
        self.settings = settings
        self.root = settings.data_dir.resolve()
        self.pgdata = self.root / "pg"
        self.rundir = self.root / "run"
        self.logfile = self.root / "postgresql.log"
        # ``fast`` trades crash safety for speed: for throwaway test clusters only.
        self.fast = fast
        self._pg_bin: Path | None = None

    @property
    def pg_bin(self) -> Path:
        if self._pg_bin is None:
            self._pg_bin = find_pg_bin(self.settings.pg_bin)
        return self._pg_bin

    def _run(self, args: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = ["runuser", "-u", _SERVER_USER, "--", *args] if _is_root() else args
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd="/")
        if check and done.returncode != 0:
            message = (done.stderr or done.stdout).strip()[-800:]
            raise EmbeddedClusterError(f"{Path(args[0]).name} failed: {message}")
        return done

    def _prepare_dirs(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for path in (self.pgdata, self.rundir):
            path.mkdir(exist_ok=True)
        self.logfile.touch(exist_ok=True)
        if _is_root():
            self.root.chmod(0o755)
            for path in (self.pgdata, self.rundir, self.logfile):
                shutil.chown(path, _SERVER_USER, _SERVER_USER)
            self.pgdata.chmod(0o700)
            probe = subprocess.run(
                ["runuser", "-u", _SERVER_USER, "--", "test", "-w", str(self.pgdata)],
                check=False,
                capture_output=True,
            )
            if probe.returncode != 0:
                raise EmbeddedClusterError(
                    f"the postgres user cannot reach {self.pgdata}; put the cluster somewhere it can "
                    "(KOSODATE_DB_DATA_DIR=/var/tmp/kosodate, for example)"
                )

    @property
    def initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def init(self) -> None:
        if self.initialised:
            return
        self._prepare_dirs()
        self._run(
            [
                str(self.pg_bin / "initdb"),
                "-D", str(self.pgdata),
                "-U", self.settings.user,
                "--locale=C.UTF-8",
                "--encoding=UTF8",
                "--auth=trust",
            ]
        )  # fmt: skip

    def _server_options(self) -> str:
        opts = [
            "-c listen_addresses=127.0.0.1",
            f"-c port={self.settings.port}",
            f"-c unix_socket_directories={self.rundir}",
            "-c max_connections=200",
            "-c shared_buffers=256MB",
            "-c jit=off",
            *(f"-c {setting}" for setting in WAL_SETTINGS),
        ]
        if self.fast:
            opts += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        return " ".join(opts)

    def is_running(self) -> bool:
        if not self.initialised:
            return False
        done = self._run([str(self.pg_bin / "pg_ctl"), "status", "-D", str(self.pgdata)], check=False)
        return done.returncode == 0

    def start(self) -> None:
        ensure_postgis(self.pg_bin)
        self.init()
        if self.is_running():
            return
        self._prepare_dirs()
        self._run(
            [
                str(self.pg_bin / "pg_ctl"),
                "start", "-w", "-t", "60",
                "-D", str(self.pgdata),
                "-l", str(self.logfile),
                "-o", self._server_options(),
            ]
        )  # fmt: skip
        self.wait_ready()

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(self.admin_dsn(), connect_timeout=2):
                    return
            except psycopg.OperationalError as exc:
                last = exc
                time.sleep(0.1)
        raise EmbeddedClusterError(f"the embedded cluster did not accept connections: {last}")

    def stop(self) -> None:
        if self.is_running():
            self._run([str(self.pg_bin / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.pgdata)])

    def admin_dsn(self, dbname: str = "postgres") -> str:
        return (
            f"host={self.settings.host} port={self.settings.port} user={self.settings.user} dbname={dbname}"
        )

    def create_database(self, name: str | None = None, *, template: str | None = None) -> None:
        """Create a database (optionally from a template) unless it exists."""
        dbname = name or self.settings.name
        with psycopg.connect(self.admin_dsn(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
            if exists:
                return
            stmt = sql.SQL("CREATE DATABASE {} ENCODING 'UTF8'").format(sql.Identifier(dbname))
            if template:
                stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(dbname), sql.Identifier(template)
                )
            conn.execute(stmt)

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.admin_dsn(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def url(self, dbname: str | None = None) -> str:
        s = self.settings
        return f"postgresql://{s.user}@{s.host}:{s.port}/{dbname or s.name}"

    def status(self) -> ClusterStatus:
        return ClusterStatus(
            running=self.is_running(),
            initialised=self.initialised,
            data_dir=self.root,
            port=self.settings.port,
            url=self.url(),
        )
