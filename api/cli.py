"""The `kgrec` command line: thin wrappers over library calls, with errors mapped to exit codes."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer

from api.settings import Settings
from api.wiring import local_server, open_driver, open_store
from graph.errors import (
    GraphUnavailableError,
    InputFileError,
    InvalidArgumentError,
    KgrecError,
    MissingToolError,
)
from graph.loaders import LoadSummary, load_interactions, load_products, load_taxonomy
from graph.neo4j_store import Neo4jGraphStore
from graph.product_parsing import parse_mapping

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(help="kgrec: knowledge-graph e-commerce recommendations.", no_args_is_help=True)
neo4j_app = typer.Typer(help="Run a local Neo4j server (no Docker needed).", no_args_is_help=True)
load_app = typer.Typer(help="Load catalogue files into the graph.", no_args_is_help=True)
app.add_typer(neo4j_app, name="neo4j")
app.add_typer(load_app, name="load")

EXIT_BAD_INPUT = 2
EXIT_UNAVAILABLE = 3
EXIT_FAILED = 1

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def exit_code_for(exc: KgrecError) -> int:
    if isinstance(exc, (InputFileError, InvalidArgumentError)):
        return EXIT_BAD_INPUT
    if isinstance(exc, (GraphUnavailableError, MissingToolError)):
        return EXIT_UNAVAILABLE
    return EXIT_FAILED


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except KgrecError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exit_code_for(exc)) from None

    return wrapper


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


@contextmanager
def graph_store(settings: Settings) -> Iterator[Neo4jGraphStore]:
    driver = open_driver(settings)
    try:
        store = open_store(settings, driver)
        store.ping()
        yield store
    finally:
        driver.close()


def emit(payload: Any, as_json: bool, lines: list[str]) -> None:
    if as_json:
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        for line in lines:
            typer.echo(line)


@neo4j_app.command("start")
@handle_errors
def neo4j_start(
    bolt_port: Annotated[
        int | None, typer.Option(help="Bolt port (default from KGREC_NEO4J_URI, 7687)")
    ] = None,
    http_port: Annotated[int, typer.Option(help="HTTP port for Neo4j Browser")] = 7474,
) -> None:
    """Start Neo4j 5 Community from Maven Central jars; waits until Bolt answers."""
    server = local_server(Settings(), bolt_port, http_port)
    if not server.start():
        typer.echo(f"Neo4j is already running (pid {server.running_pid()}) on {server.bolt_uri}")
        return
    status = server.status()
    typer.echo(f"Neo4j {status.version or ''} started on {status.bolt_uri} (pid {status.pid})")
    typer.echo(f"Browser: {status.browser_url}")


@neo4j_app.command("install")
@handle_errors
def neo4j_install() -> None:
    """Fetch the Neo4j and Neo4j Browser jars from Maven Central (once; cached)."""
    server = local_server(Settings())
    server.resolve_jars()
    typer.echo(f"Neo4j jars ready in {server.lib_dir}")


@neo4j_app.command("stop")
@handle_errors
def neo4j_stop() -> None:
    """Shut the local Neo4j down cleanly."""
    server = local_server(Settings())
    typer.echo("Neo4j stopped" if server.stop() else "Neo4j was not running")


@neo4j_app.command("status")
@handle_errors
def neo4j_status(
    as_json: JsonFlag = False,
    http_port: Annotated[int, typer.Option(help="HTTP port for Neo4j Browser")] = 7474,
) -> None:
    """Say whether the local Neo4j runs, with its version and URLs."""
    status = local_server(Settings(), http_port=http_port).status()
    emit(
        {
            "running": status.running,
            "pid": status.pid,
            "version": status.version,
            "bolt_uri": status.bolt_uri,
            "browser_url": status.browser_url,
        },
        as_json,
        [
            f"running: {'yes' if status.running else 'no'}" + (f" (pid {status.pid})" if status.pid else ""),
            f"version: {status.version or 'unknown'}",
            f"bolt:    {status.bolt_uri}",
            f"browser: {status.browser_url}",
        ],
    )
    if not status.running:
        raise typer.Exit(1)


def require_file(path: Path) -> Path:
    if not path.is_file():
        raise InputFileError(path, None, "file not found")
    return path


def _print_summary(summary: LoadSummary, as_json: bool) -> None:
    c = summary.counts
    lines = [
        f"{summary.kind}: {summary.rows} rows from {summary.file} in {summary.seconds:.1f}s",
        f"  created {c.created}, updated {c.updated}, skipped {c.skipped}",
    ]
    cats = summary.categories
    if cats.created or cats.updated or cats.skipped:
        lines.append(f"  categories: created {cats.created}, updated {cats.updated}, skipped {cats.skipped}")
    lines.extend(f"  note: {n}" for n in summary.notes)
    emit(summary.as_dict(), as_json, lines)


@load_app.command("taxonomy")
@handle_errors
def load_taxonomy_cmd(
    path: Path,
    fmt: Annotated[str | None, typer.Option("--format", help="google, csv or jsonl")] = None,
    taxonomy: Annotated[str | None, typer.Option(help="Namespace; default 'google' for Google files")] = None,
    locale: Annotated[str | None, typer.Option(help="Locale of the names, e.g. zh-CN")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Load a category tree; a second locale of a loaded taxonomy only adds names."""
    settings = Settings()
    require_file(path)
    with graph_store(settings) as store:
        summary = load_taxonomy(store, path, fmt=fmt, taxonomy=taxonomy, locale=locale, progress=not as_json)
    _print_summary(summary, as_json)


@load_app.command("products")
@handle_errors
def load_products_cmd(
    path: Path,
    taxonomy: Annotated[str | None, typer.Option(help="Taxonomy of category paths / ids")] = None,
    map_: Annotated[list[str] | None, typer.Option("--map", help="FIELD=COLUMN, repeatable")] = None,
    currency: Annotated[str | None, typer.Option(help="Currency for prices without one")] = None,
    extract_from_title: Annotated[
        bool,
        typer.Option(
            "--extract-from-title", help="Add brands, sizes, colours, materials read from the titles"
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Load products (CSV or JSON Lines) with brands, attributes and categories."""
    settings = Settings()
    mapping = parse_mapping(map_ or [])
    require_file(path)
    with graph_store(settings) as store:
        summary = load_products(
            store,
            path,
            taxonomy=taxonomy,
            mapping=mapping,
            currency=currency,
            extract_from_title=extract_from_title,
            progress=not as_json,
        )
    _print_summary(summary, as_json)


@load_app.command("interactions")
@handle_errors
def load_interactions_cmd(path: Path, as_json: JsonFlag = False) -> None:
    """Load user_id,item_id,kind,timestamp events; user ids are pseudonymised first."""
    settings = Settings()
    require_file(path)
    with graph_store(settings) as store:
        summary = load_interactions(
            store, path, pseudonym_key=settings.pseudonym_key_bytes(), progress=not as_json
        )
    _print_summary(summary, as_json)


@app.command("stats")
@handle_errors
def stats_cmd(as_json: JsonFlag = False) -> None:
    """Node and relationship counts, and per-taxonomy shape."""
    with graph_store(Settings()) as store:
        stats = store.stats()
    lines = ["nodes:"]
    lines += [f"  {k:<15} {v:>9}" for k, v in sorted(stats.nodes.items())]
    lines.append("relationships:")
    lines += [f"  {k:<15} {v:>9}" for k, v in sorted(stats.relationships.items())]
    lines.append("taxonomies:")
    lines += [
        f"  {t.name}: {t.categories} categories, {t.roots} roots, depth {t.max_depth}, "
        f"locales {', '.join(sorted(t.locales)) or '-'}"
        for t in stats.taxonomies
    ]
    emit(stats.as_dict(), as_json, lines)


def register_commands() -> None:
    """Commands living in other modules attach themselves to `app` on import."""
    from api import cli_embeddings, cli_evaluate, cli_finetune, cli_recommend

    del cli_embeddings, cli_evaluate, cli_finetune, cli_recommend


def run() -> None:
    register_commands()
    app()
