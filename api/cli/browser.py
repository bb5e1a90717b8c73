"""`kgrec browser ...`: make Neo4j Browser show this graph well (style, guide, read-only login)."""

from __future__ import annotations

from typing import Annotated

import typer

from kgrec.api.routes_ui import static_text

app = typer.Typer(help="Neo4j Browser helpers: the kgrec style and guide.", no_args_is_help=True)


@app.command("style")
def style(
    bare: Annotated[bool, typer.Option("--bare", help="the GraSS only, without the ':style' prefix")] = False,
) -> None:
    """Print the command that applies kgrec's GraSS style: paste it into Browser's editor and run it."""
    grass = static_text("kgrec.grass")
    typer.echo(grass if bare else f":style {' '.join(grass.split())}")


@app.command("guide")
def guide(
    api: Annotated[str, typer.Option(help="where `kgrec serve` listens")] = "http://127.0.0.1:8000",
) -> None:
    """Print the Browser command that opens the kgrec guide slides served by the API."""
    typer.echo(f":play {api.rstrip('/')}/ui/guide.html")
