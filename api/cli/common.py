"""What every command module shares: the JSON flag, output, the graph store, errors -> exit codes."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer

from kgrec.api.settings import Settings
from kgrec.api.wiring import open_driver, open_store
from kgrec.graph.errors import InputFileError, KgrecError
from kgrec.graph.neo4j_store import Neo4jGraphStore

P = ParamSpec("P")
R = TypeVar("R")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except KgrecError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


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


def require_file(path: Path) -> Path:
    if not path.is_file():
        raise InputFileError(path, None, "file not found")
    return path
