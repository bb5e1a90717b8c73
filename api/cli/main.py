"""The `kgrec` application: every command group added from its own module."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from kgrec.api.cli import browser, evaluate, finetune, loading, neo4j_server, recommend, taxonomy, training

app = typer.Typer(help="kgrec: knowledge-graph e-commerce recommendations.", no_args_is_help=True)
app.add_typer(neo4j_server.app, name="neo4j")
app.add_typer(loading.app, name="load")
app.add_typer(loading.stats_app)
app.add_typer(training.app)
app.add_typer(training.models_app, name="models")
app.add_typer(recommend.app)
app.add_typer(evaluate.app)
app.add_typer(finetune.app)
app.add_typer(taxonomy.app)
app.add_typer(browser.app, name="browser")


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    level = logging.INFO if verbose else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    # On the handler too: some libraries (PyKEEN) set INFO on their own loggers.
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    if not verbose:
        # Their CPU notices ("automatic batch size", "only cuda is safe") are noise for kgrec users.
        for noisy in ("pykeen", "torch_max_mem"):
            logging.getLogger(noisy).setLevel(logging.ERROR)


def run() -> None:
    app()
