"""The deployment files: docker-compose.yml validated by Debian's docker-compose (no engine needed)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml
from sqlalchemy import Engine, text

from search.embedded import WAL_SETTINGS
from tests.conftest import PROJECT


def test_compose_file_is_valid() -> None:
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.skip("docker-compose is not installed (make test installs it from Debian packages)")
    done = subprocess.run(
        [exe, "-f", str(PROJECT / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT,
    )
    assert done.returncode == 0, done.stderr


def test_compose_has_the_three_services_with_health_checks_and_volumes() -> None:
    spec = yaml.safe_load((PROJECT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = spec["services"]
    assert services["db"]["image"].startswith("postgis/postgis:15-3")
    assert services["meilisearch"]["image"].startswith("getmeili/meilisearch:")
    assert services["api"]["build"] == "."
    for name in ("db", "meilisearch", "api"):
        assert "healthcheck" in services[name], name
    assert set(spec["volumes"]) == {"pgdata", "meilidata"}
    assert "KOSODATE_DATABASE_URL" in services["api"]["environment"]


def test_the_database_has_the_wal_settings_for_loads_embedded_and_in_compose(engine: Engine) -> None:
    """The embedded cluster starts with WAL_SETTINGS (a load's backend no longer writes WAL buffers out
    itself or zero-fills segments), and the compose file's PostGIS is started with the same."""
    with engine.connect() as conn:
        for setting in WAL_SETTINGS:
            name, value = setting.split("=")
            shown = conn.execute(text(f"SELECT current_setting('{name}')")).scalar_one()
            assert shown == value, (name, shown)
    spec = yaml.safe_load((PROJECT / "docker-compose.yml").read_text(encoding="utf-8"))
    command = spec["services"]["db"]["command"]
    assert command[0] == "postgres"
    assert [command[i + 1] for i in range(1, len(command), 2) if command[i] == "-c"] == list(WAL_SETTINGS)
