"""`kgrec --help`, `kgrec stats` and `kgrec load` start without torch, transformers or PyKEEN."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.core import TyperCommand

from kgrec.api.cli.main import LAZY_COMMANDS, load_command

HEAVY = ("torch", "transformers", "pykeen")

# Runs commands through the installed entry point in one fresh interpreter, then lists which
# heavy modules ended up imported.
PROBE = """
import json, sys
from kgrec.api.cli import app
for args in json.loads(sys.argv[1]):
    try:
        app(args, prog_name="kgrec")
    except SystemExit as stop:
        assert stop.code in (0, 2, 3), (args, stop.code)
print(json.dumps(sorted(m for m in {heavy} if m in sys.modules)))
"""


def _heavy_after(commands: list[list[str]], tmp_path: Path) -> list[str]:
    env = {
        **os.environ,
        "KGREC_HOME": str(tmp_path / "home"),
        "KGREC_NEO4J_URI": "bolt://127.0.0.1:9",  # closed: the command stops at the connection
        "KGREC_NEO4J_PASSWORD": "unused",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), json.dumps(commands)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_help_stats_and_load_do_not_import_torch_transformers_or_pykeen(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    commands = [["--help"], ["stats"], ["load", "taxonomy", str(missing)], ["load", "products", "--help"]]
    assert _heavy_after(commands, tmp_path) == []


def test_a_lazy_command_still_imports_what_it_needs(tmp_path: Path) -> None:
    assert "pykeen" in _heavy_after([["train", "--help"]], tmp_path)


@pytest.mark.parametrize("name", sorted(LAZY_COMMANDS))
def test_lazy_short_help_matches_the_real_command(name: str) -> None:
    real = load_command(name)
    stand_in = TyperCommand(name, help=LAZY_COMMANDS[name][2])
    assert stand_in.get_short_help_str(300) == real.get_short_help_str(300)
