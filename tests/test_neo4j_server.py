"""The launched server is a real Neo4j 5 with Browser served and auth on."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError

from kgrec.graph.errors import LauncherError
from kgrec.graph.neo4j_launcher import LocalNeo4j

pytestmark = pytest.mark.neo4j


def test_status_reports_version_and_urls(neo4j_server: LocalNeo4j) -> None:
    status = neo4j_server.status()
    assert status.running
    assert status.version is not None and status.version.startswith("5.")
    assert status.browser_url.startswith(f"http://127.0.0.1:{neo4j_server.http_port}/browser/")


def test_browser_is_served(neo4j_server: LocalNeo4j) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{neo4j_server.http_port}/browser/", timeout=10) as resp:
        body = resp.read().decode("utf-8", errors="replace")
    assert resp.status == 200
    assert "<html" in body.lower()
    with urllib.request.urlopen(f"http://127.0.0.1:{neo4j_server.http_port}/", timeout=10) as resp:
        discovery = json.loads(resp.read())
    assert discovery["bolt_direct"] == neo4j_server.bolt_uri


def test_auth_is_enforced(neo4j_server: LocalNeo4j) -> None:
    with (
        GraphDatabase.driver(neo4j_server.bolt_uri, auth=("neo4j", "wrong-password")) as driver,
        pytest.raises(AuthError),
    ):
        driver.verify_connectivity()


def test_second_start_reports_already_running(neo4j_server: LocalNeo4j) -> None:
    assert neo4j_server.start() is False


def test_a_second_server_on_taken_ports_is_refused(neo4j_server: LocalNeo4j, tmp_path: Path) -> None:
    other = LocalNeo4j(
        home=tmp_path / "other",
        lib_dir=neo4j_server.lib_dir,
        password="other-password",
        bolt_port=neo4j_server.bolt_port,
        http_port=neo4j_server.http_port,
    )
    with pytest.raises(LauncherError, match=f"port {neo4j_server.bolt_port} .* already in use"):
        other.start()
    assert neo4j_server.status().running
