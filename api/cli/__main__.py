"""`python -m api.cli ...` runs the `kgrec` command."""

from api.cli.main import run

run()
