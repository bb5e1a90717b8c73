"""`python -m api.cli ...` runs the `kgrec` command."""

from kgrec.api.cli.main import run

run()
