"""`kgrec neo4j start | install | stop | status`: a local Neo4j server without Docker."""

from __future__ import annotations

from typing import Annotated

import typer

from kgrec.api.cli.common import JsonFlag, emit, handle_errors
from kgrec.api.settings import Settings
from kgrec.api.wiring import local_server

app = typer.Typer(help="Run a local Neo4j server (no Docker needed).", no_args_is_help=True)


@app.command("start")
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


@app.command("install")
@handle_errors
def neo4j_install() -> None:
    """Fetch the Neo4j and Neo4j Browser jars from Maven Central (once; cached)."""
    server = local_server(Settings())
    server.resolve_jars()
    typer.echo(f"Neo4j jars ready in {server.lib_dir}")


@app.command("stop")
@handle_errors
def neo4j_stop() -> None:
    """Shut the local Neo4j down cleanly."""
    server = local_server(Settings())
    typer.echo("Neo4j stopped" if server.stop() else "Neo4j was not running")


@app.command("status")
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
