"""The deployment files: docker-compose.yml validated by Debian's docker-compose (no engine needed)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

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
