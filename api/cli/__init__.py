"""The `kgrec` command line: one module per command group (api/cli/main.py adds them).

Commands are thin: they parse options, call the same use cases as the HTTP routes
(api/use_cases.py), and print text or `--json`. Errors map to exit codes in common.py.
"""

from kgrec.api.cli.main import app, run

__all__ = ["app", "run"]
