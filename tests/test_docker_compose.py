from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import REPO


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is not installed")
def test_docker_compose_file_validates() -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "KGREC_NEO4J_PASSWORD": "p",
        "KGREC_PSEUDONYM_KEY": "k",
        "KGREC_API_KEY": "a",
    }
    result = subprocess.run(
        ["docker-compose", "-f", str(REPO / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "neo4j:5.26-community" in result.stdout
    assert "healthcheck" in result.stdout
