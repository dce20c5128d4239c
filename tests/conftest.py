"""Test fixtures: one throwaway PostGIS cluster per session, migrations applied once.

Each test that needs a database gets a fresh one cloned from a migrated template (fast, and it also
works for the API and for CLI subprocesses); pure query tests can use a rolled-back transaction.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from ingest.pipeline import ingest_file
from ingest.programmes import load_programme
from search.db import sync_engine
from search.embedded import EmbeddedCluster
from search.migrate import upgrade
from search.settings import DbSettings

PROJECT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("KOSODATE_SHARED_DATA", PROJECT.parent / "shared" / "data"))
SAMPLE = PROJECT / "ingest" / "sample_data"
TEMPLATE = "kosodate_template"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    cluster: EmbeddedCluster
    settings: DbSettings

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.settings.port}/{dbname}"

    def db_settings(self, dbname: str) -> DbSettings:
        return DbSettings(url=self.url(dbname).replace("+psycopg", ""))


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="kosodate-test-pg-"))
    root.chmod(0o755)
    settings = DbSettings(data_dir=root, port=free_port(), name=TEMPLATE)
    cluster = EmbeddedCluster(settings, fast=True)
    cluster.start()
    cluster.create_database(TEMPLATE)
    upgrade(settings.sqlalchemy_url())
    try:
        yield Cluster(cluster, settings)
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def fresh_database(pg_cluster: Cluster) -> Iterator[DbSettings]:
    """A fresh, migrated database (cloned from the template), dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    pg_cluster.cluster.create_database(name, template=TEMPLATE)
    try:
        yield pg_cluster.db_settings(name)
    finally:
        pg_cluster.cluster.drop_database(name)


@contextmanager
def kanagawa_sample_database(pg_cluster: Cluster) -> Iterator[DbSettings]:
    """A fresh database holding the Kanagawa sample registry (for module-scoped fixtures)."""
    with fresh_database(pg_cluster) as settings:
        engine = sync_engine(settings)
        try:
            ingest_file(engine, SAMPLE / "sample_kanagawa.csv", load_programme("kanagawa"))
        finally:
            engine.dispose()
        yield settings


@pytest.fixture
def db_settings(pg_cluster: Cluster) -> Iterator[DbSettings]:
    """A fresh, migrated database for this test."""
    with fresh_database(pg_cluster) as settings:
        yield settings


@pytest.fixture
def engine(db_settings: DbSettings) -> Iterator[Engine]:
    eng = create_engine(db_settings.sqlalchemy_url())
    try:
        yield eng
    finally:
        eng.dispose()


def cli_env(settings: DbSettings) -> dict[str, str]:
    """The environment for running the real ``kosodate`` CLI as a subprocess against ``settings``'
    database: none of the caller's own KOSODATE_ settings, and a statement timeout long enough for a
    whole ingest."""
    assert settings.url is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOSODATE_")}
    env["KOSODATE_DATABASE_URL"] = settings.url.get_secret_value()
    env["KOSODATE_DB_STATEMENT_TIMEOUT_MS"] = "600000"
    return env


def shared_file(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not found at {path} (set KOSODATE_SHARED_DATA)")
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "pg_cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)
