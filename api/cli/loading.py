"""`kgrec load taxonomy | products | interactions` and `kgrec stats`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kgrec.api.cli.common import JsonFlag, emit, graph_store, handle_errors, require_file
from kgrec.api.settings import Settings
from kgrec.api.use_cases import load_file
from kgrec.graph.loaders import LoadSummary
from kgrec.graph.product_parsing import parse_mapping

app = typer.Typer(help="Load catalogue files into the graph.", no_args_is_help=True)
stats_app = typer.Typer()


def _load(kind: str, path: Path, as_json: bool, **options: Any) -> None:
    settings = Settings()
    require_file(path)
    with graph_store(settings) as store:
        summary = load_file(
            store, kind, path, pseudonym_key=settings.pseudonym_key_bytes(), progress=not as_json, **options
        )
    _print_summary(summary, as_json)


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


@app.command("taxonomy")
@handle_errors
def load_taxonomy_cmd(
    path: Path,
    fmt: Annotated[str | None, typer.Option("--format", help="google, csv or jsonl")] = None,
    taxonomy: Annotated[str | None, typer.Option(help="Namespace; default 'google' for Google files")] = None,
    locale: Annotated[str | None, typer.Option(help="Locale of the names, e.g. zh-CN")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Load a category tree; a second locale of a loaded taxonomy only adds names."""
    _load("taxonomy", path, as_json, fmt=fmt, taxonomy=taxonomy, locale=locale)


@app.command("products")
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
    parse_mapping(map_ or [])
    _load(
        "products",
        path,
        as_json,
        taxonomy=taxonomy,
        mapping=map_ or [],
        currency=currency,
        extract_from_title=extract_from_title,
    )


@app.command("interactions")
@handle_errors
def load_interactions_cmd(path: Path, as_json: JsonFlag = False) -> None:
    """Load user_id,item_id,kind,timestamp events; user ids are pseudonymised first."""
    _load("interactions", path, as_json)


@stats_app.command("stats")
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
