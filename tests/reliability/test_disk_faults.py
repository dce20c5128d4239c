"""A full or read-only disk during export, upload and ingest: a clear error, nothing half-written published.

Method (the first that works in this container, as root): a real tiny filesystem, ``mount -t tmpfs -o
size=...``, filled to the brim with a ballast file for "disk full", and ``mount -o remount,ro`` for
"read-only" (root ignores file modes, so chmod would simulate nothing). The PostgreSQL test puts a whole
cluster's data directory on such a filesystem, so the server itself runs out of space mid-ingest. The
mounts are undone in the fixtures' finalizers. Without the right to mount, these tests skip and say so.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from click.testing import CliRunner
from pydantic import SecretStr
from sqlalchemy import create_engine, text

from api import create_app
from api.settings import ApiSettings, AppSettings
from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from kosodate.cli import main
from search.db import sync_engine
from search.embedded import EmbeddedCluster
from search.migrate import upgrade
from search.settings import DbSettings
from tests.conftest import SAMPLE, free_port, shared_file

pytestmark = [pytest.mark.fault, pytest.mark.db]
KOSODATE = [sys.executable, "-m", "kosodate"]


class TinyDisk:
    """A tmpfs of a fixed size at ``path``; ``fill()`` leaves about ``spare`` bytes free."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.ballast = path / "ballast.bin"

    def free(self) -> int:
        st = os.statvfs(self.path)
        return st.f_bavail * st.f_frsize

    def fill(self, spare: int = 0) -> None:
        with self.ballast.open("ab") as fh:
            block = b"\0" * (1 << 20)
            with contextlib.suppress(OSError):
                while self.free() > spare + len(block):
                    fh.write(block)
                    fh.flush()
                while self.free() > spare:
                    fh.write(b"\0" * 4096)
                    fh.flush()
        assert self.free() <= spare + 4096

    def empty(self) -> None:
        self.ballast.unlink(missing_ok=True)

    def read_only(self, on: bool) -> None:
        flag = "ro" if on else "rw"
        subprocess.run(["mount", "-o", f"remount,{flag}", str(self.path)], check=True, capture_output=True)

    def files(self, under: Path | None = None) -> list[str]:
        return sorted(p.name for p in (under or self.path).iterdir() if p != self.ballast)


@contextlib.contextmanager
def tiny_disk(size: str) -> Iterator[TinyDisk]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tiny tmpfs needs root (the container runs the suite as root)")
    path = Path(tempfile.mkdtemp(prefix="kosodate-disk-"))
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        path.rmdir()
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); no other real full-disk method")
    try:
        yield TinyDisk(path)
    finally:
        subprocess.run(["umount", str(path)], check=False, capture_output=True)
        if os.path.ismount(path):
            subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def disk() -> Iterator[TinyDisk]:
    with tiny_disk("4m") as d:
        yield d


def _cli(args: list[str], settings: DbSettings) -> subprocess.CompletedProcess[str]:
    """The real command, run in this process (a subprocess would spend seconds importing); an exception
    that escapes the command shows as a traceback in stderr, as it would in a terminal."""
    assert settings.url is not None
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("KOSODATE_")}
    env["KOSODATE_DATABASE_URL"] = settings.url.get_secret_value()
    result = CliRunner().invoke(main, args, env=env)
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    stderr = result.stderr + (f"Traceback: {result.exception!r}" if crashed else "")
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, stderr)


def _export(settings: DbSettings, fmt: str, out: Path) -> subprocess.CompletedProcess[str]:
    return _cli(["export", "--format", fmt, "--out", str(out)], settings)


@pytest.fixture
def sample_db(db_settings: DbSettings) -> DbSettings:
    engine = sync_engine(db_settings)
    ingest_file(engine, SAMPLE / "sample_kanagawa.csv", load_programme("kanagawa"))
    engine.dispose()
    return db_settings


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_cli_export_keeps_the_previous_file(
    sample_db: DbSettings, disk: TinyDisk, fmt: str, fault: str
) -> None:
    out = disk.path / f"shops.{fmt}"
    first = _export(sample_db, fmt, out)
    assert first.returncode == 0, first.stderr
    previous = out.read_bytes()
    assert len(previous) > 1000
    disk.fill() if fault == "full" else disk.read_only(True)
    try:
        failed = _export(sample_db, fmt, out)
    finally:
        if fault == "read-only":
            disk.read_only(False)
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr, failed.stderr
    reason = "No space left on device" if fault == "full" else "Read-only file system"
    assert failed.stderr.startswith("error: could not write") and reason in failed.stderr, failed.stderr
    assert out.read_bytes() == previous  # the published file is untouched
    assert disk.files() == [out.name]  # and no half-written temporary file is left beside it
    disk.empty()
    again = _export(sample_db, fmt, out)
    assert again.returncode == 0 and out.read_bytes() == previous


async def _upload(settings: AppSettings, body: bytes) -> httpx.Response:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post(
                "/v1/operator/uploads",
                params={"filename": "list.csv"},
                content=body,
                headers={"Authorization": "Bearer t0ken-for-tests", "Content-Type": "text/csv"},
            )


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_upload_to_a_full_or_read_only_disk(db_settings: DbSettings, disk: TinyDisk, fault: str) -> None:
    folder = disk.path / "uploads"
    folder.mkdir()
    api = ApiSettings(operator_token=SecretStr("t0ken-for-tests"), upload_dir=folder)
    settings = AppSettings(db=db_settings, api=api)
    body = (SAMPLE / "sample_kanagawa.csv").read_bytes() * 40  # bigger than what is left
    disk.fill(spare=8192) if fault == "full" else disk.read_only(True)
    try:
        r = anyio.run(_upload, settings, body)
    finally:
        if fault == "read-only":
            disk.read_only(False)
    assert r.status_code == 507, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "nothing was kept" in r.json()["detail"] and str(disk.path) not in r.text
    assert disk.files(folder) == []  # no partial upload left behind
    disk.empty()
    ok = anyio.run(_upload, settings, body)
    assert ok.status_code == 201, ok.text
    assert disk.files(folder) == [ok.json()["upload_id"]]


def _fingerprint(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT string_agg(s::text, E'\\n' ORDER BY s.id) FROM shops s")
            ).scalar_one()
    finally:
        engine.dispose()
    return hashlib.sha256(str(rows).encode()).hexdigest()


def _wait_ready(url: str, timeout: float = 60) -> None:
    engine = create_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_postgres_runs_out_of_space_during_an_ingest(tmp_path: Path) -> None:
    """The cluster's data directory on a small tmpfs, filled to leave 1 MB: the ingest of a real list
    fails with a clear message, the previous data is intact, and once there is room the run completes."""
    src = shared_file("shops", "ishikawa_prepass_2017_shared.csv")
    with tiny_disk("320m") as disk:
        settings = DbSettings(
            data_dir=disk.path / "pg", port=free_port(), name="full", statement_timeout_ms=60000
        )
        cluster = EmbeddedCluster(settings, fast=True)
        cluster.start()
        try:
            cluster.create_database()
            upgrade(settings.sqlalchemy_url())
            engine = sync_engine(settings)
            ingest_file(engine, SAMPLE / "sample_kanagawa.csv", load_programme("kanagawa"))
            engine.dispose()
            url = settings.sqlalchemy_url()
            before = _fingerprint(url)
            env = {k: v for k, v in os.environ.items() if not k.startswith("KOSODATE_")}
            env["KOSODATE_DATABASE_URL"] = cluster.url()
            big = tmp_path / "big.csv"
            with (
                src.open(encoding="utf-8", newline="") as fh,
                big.open("w", encoding="utf-8", newline="") as out,
            ):
                rows = list(csv.reader(fh))
                writer = csv.writer(out)
                writer.writerow(rows[0])
                for copy in range(3):
                    for row in rows[1:]:
                        writer.writerow([f"{row[0]}", f"{row[1]}-{copy}", f"{row[2]} {copy}", *row[3:]])
            disk.fill(spare=1 << 20)
            failed = subprocess.run(
                [*KOSODATE, "ingest", str(big), "--programme", "ishikawa"],
                capture_output=True, text=True, env=env, timeout=300, check=False,
            )  # fmt: skip
            assert failed.returncode == 1, failed.stdout[-500:]
            assert "Traceback" not in failed.stderr, failed.stderr[-3000:]
            said = next((ln for ln in failed.stderr.splitlines() if ln.startswith("error: ")), "")
            assert "failed and changed nothing" in said, failed.stderr[-2000:]
            assert "No space left on device" in said, said
            disk.empty()
            _wait_ready(url)  # after a PANIC the postmaster restarts the server by itself
            assert _fingerprint(url) == before  # the previous data, untouched
            rerun = subprocess.run(
                [*KOSODATE, "ingest", str(big), "--programme", "ishikawa", "--json"],
                capture_output=True, text=True, env=env, timeout=300, check=False,
            )  # fmt: skip
            assert rerun.returncode == 0, rerun.stderr[-2000:]
        finally:
            cluster.stop()


REPORT_ROWS = (
    "source_id,name,address,lat,lng,categories\n"
    "R1,ハマの店,神奈川県横浜市中区山下町1,35.4437,139.6500,\n"
    "R2,分類が変,神奈川県藤沢市藤沢1-7,35.3399,139.4885,bargain\n"
)


@pytest.mark.parametrize("command", ["rejections", "handoff"])
@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_cli_reports_keep_the_previous_file(
    db_settings: DbSettings, disk: TinyDisk, tmp_path: Path, command: str, fault: str
) -> None:
    registry = tmp_path / "r.csv"
    registry.write_text(REPORT_ROWS, encoding="utf-8")
    engine = sync_engine(db_settings)
    summary = ingest_file(engine, registry, load_programme("kanagawa"))
    engine.dispose()
    assert (summary.rejected, summary.handed_off) == (1, 1)
    out = disk.path / "report.csv"
    args = (
        ["rejections", "--run", str(summary.run_id), "--output", str(out)]
        if command == "rejections"
        else ["handoff", "export", "--to", "hamahug", "--output", str(out)]
    )

    def run() -> subprocess.CompletedProcess[str]:
        return _cli(args, db_settings)

    first = run()
    assert first.returncode == 0, first.stderr
    previous = out.read_bytes()
    assert previous
    disk.fill() if fault == "full" else disk.read_only(True)
    try:
        failed = run()
    finally:
        if fault == "read-only":
            disk.read_only(False)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr, failed.stderr
    assert failed.stderr.startswith("error: could not write") and "was not changed" in failed.stderr
    assert out.read_bytes() == previous and disk.files() == [out.name]
