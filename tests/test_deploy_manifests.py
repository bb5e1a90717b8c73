"""The manifests in deploy/ parse, and every setting and command they use exists in kgrec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
import yaml

from kgrec.api.cli.main import app
from kgrec.api.settings import Settings
from tests.conftest import REPO

DEPLOY = REPO / "deploy"


def _documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def _kgrec_env_names(node: Any) -> set[str]:
    """Every KGREC_* variable named anywhere in a manifest (as a key or as `name:`)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and key.startswith("KGREC_"):
                found.add(key)
            if key == "name" and isinstance(value, str) and value.startswith("KGREC_"):
                found.add(value)
            found |= _kgrec_env_names(value)
    elif isinstance(node, list):
        for item in node:
            found |= _kgrec_env_names(item)
    return found


def _kgrec_commands(node: Any) -> list[list[str]]:
    if isinstance(node, dict):
        own = [node["command"]] if isinstance(node.get("command"), list) else []
        return own + [c for value in node.values() for c in _kgrec_commands(value)]
    if isinstance(node, list):
        return [c for item in node for c in _kgrec_commands(item)]
    return []


def test_kubernetes_manifests_hold_the_serving_pieces() -> None:
    kinds = [d["kind"] for d in _documents(DEPLOY / "kubernetes" / "kgrec.yaml")]
    assert kinds == [
        "ConfigMap",
        "PersistentVolumeClaim",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "CronJob",
    ]


def test_manifests_use_only_settings_and_commands_kgrec_has() -> None:
    fields = {f"KGREC_{name.upper()}" for name in Settings.model_fields}
    root = typer.main.get_command(app)
    for path in (DEPLOY / "kubernetes" / "kgrec.yaml", DEPLOY / "compose.replicas.yml"):
        documents = _documents(path)
        assert _kgrec_env_names(documents) <= fields, path
        commands = [c for c in _kgrec_commands(documents) if c[0] == "kgrec"]
        assert commands, path
        for command in commands:
            # Click parses the arguments as `kgrec` would, without running the command.
            context = root.make_context("kgrec", [*command[1:2], "--help"], resilient_parsing=True)
            sub = root.get_command(context, command[1])
            assert sub is not None, command
            sub.make_context(command[1], command[2:], parent=context)
    compose = _documents(DEPLOY / "compose.replicas.yml")[0]
    assert (DEPLOY / "nginx.conf").is_file()
    assert compose["services"]["api"]["environment"]["KGREC_NEO4J_URI"].startswith("neo4j://")
