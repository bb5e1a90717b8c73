"""The `kgrec` application: every command group added from its own module.

The commands that train, encode or evaluate need torch, transformers and PyKEEN (about 5 s to
import). Their modules are imported only when one of their commands runs (`LAZY_COMMANDS`), so
`kgrec --help`, `kgrec stats` and `kgrec load ...` start without them.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Annotated, Any

import typer
from typer import _click as click  # typer >= 0.24 ships its own click; its groups hold these
from typer.core import TyperCommand, TyperGroup

from kgrec.api.cli import browser, loading, neo4j_server, recommend

# name -> (module, Typer attribute, short help shown by `kgrec --help`).
# tests/test_startup.py checks each short help against the real command's docstring.
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "train": (
        "kgrec.api.cli.training",
        "app",
        "Train KG embeddings on the graph in Neo4j, encode product texts, write vectors back.",
    ),
    "encode": ("kgrec.api.cli.training", "app", "Encode a shopper query with the BERT text encoder."),
    "models": ("kgrec.api.cli.training", "models_app", "List or switch trained artifacts and text encoders."),
    "embed-new": (
        "kgrec.api.cli.training",
        "app",
        "Give products loaded after training a KG-space vector, without retraining.",
    ),
    "evaluate": (
        "kgrec.api.cli.evaluate",
        "app",
        "Train on the training part only, then compare every system on the held-out cases.",
    ),
    "finetune": (
        "kgrec.api.cli.finetune",
        "app",
        "Fine-tune the BERT encoder, save it as a versioned encoder (now current), and re-encode "
        "the product texts of the current embedding artifact with it (a new artifact, now current).",
    ),
    "align-taxonomy": (
        "kgrec.api.cli.taxonomy",
        "app",
        "Map every category of --from onto its closest category of --to (text encoder over full "
        "paths, leaf names and the titles of the products beneath, brand names taken out, a "
        "parent's mapping constraining its children's); re-running replaces the edges.",
    ),
}


def load_command(name: str) -> click.Command:
    """The real click command behind a lazy name (imports its module)."""
    module, attribute, _ = LAZY_COMMANDS[name]
    built = typer.main.get_command(getattr(importlib.import_module(module), attribute))
    if isinstance(built, TyperGroup) and attribute == "app":
        return built.commands[name]
    return built


class LazyCommand(TyperCommand):
    """Stands in for a command in `--help`; running it builds the real one, whose context
    (options, `--help`, callback) then takes over."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        return load_command(self.name or "").make_context(info_name, args, parent=parent, **extra)


class LazyGroup(TyperGroup):
    """The root group: eager commands as Typer adds them, plus the LAZY_COMMANDS stand-ins."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, (_, _, short_help) in LAZY_COMMANDS.items():
            self.commands.setdefault(name, LazyCommand(name, help=short_help))


app = typer.Typer(
    cls=LazyGroup, help="kgrec: knowledge-graph e-commerce recommendations.", no_args_is_help=True
)
app.add_typer(neo4j_server.app, name="neo4j")
app.add_typer(loading.app, name="load")
app.add_typer(loading.stats_app)
app.add_typer(recommend.app)
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
