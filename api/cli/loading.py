"""`kgrec load taxonomy | products | interactions | bulk` and `kgrec stats`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse

import typer

from kgrec.api.cli.common import JsonFlag, emit, graph_store, handle_errors, require_file
from kgrec.api.settings import Settings
from kgrec.api.use_cases import load_file
from kgrec.api.wiring import local_server
from kgrec.graph.bulk_import import bulk_load, require_local
from kgrec.graph.bulk_staging import StagingStore
from kgrec.graph.errors import InvalidArgumentError
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


@app.command("bulk")
@handle_errors
def load_bulk_cmd(
    taxonomy_file: Annotated[
        list[Path] | None, typer.Option("--taxonomy-file", help="Google taxonomy file, repeatable, first")
    ] = None,
    products: Annotated[list[Path] | None, typer.Option(help="Products file, repeatable")] = None,
    interactions: Annotated[
        list[Path] | None, typer.Option(help="Interactions file, repeatable, last")
    ] = None,
    taxonomy: Annotated[str | None, typer.Option(help="Taxonomy of the products' category paths")] = None,
    map_: Annotated[list[str] | None, typer.Option("--map", help="FIELD=COLUMN, repeatable")] = None,
    currency: Annotated[str | None, typer.Option(help="Currency for prices without one")] = None,
    extract_from_title: Annotated[
        bool, typer.Option("--extract-from-title", help="Add brands and attributes read from the titles")
    ] = False,
    keep_csvs: Annotated[bool, typer.Option(help="Keep the generated import CSVs")] = False,
    as_json: JsonFlag = False,
) -> None:
    """First load into an EMPTY local database with neo4j-admin import (many times faster).

    Every file is validated as `kgrec load` does before the server is stopped for the import;
    a database holding any node is refused. Later, incremental loads use `kgrec load`.
    """
    settings = Settings()
    plan: list[tuple[str, Path, dict[str, Any]]] = [("taxonomy", p, {}) for p in taxonomy_file or []]
    plan += [
        (
            "products",
            p,
            {
                "taxonomy": taxonomy,
                "mapping": map_ or [],
                "currency": currency,
                "extract_from_title": extract_from_title,
            },
        )
        for p in products or []
    ]
    plan += [("interactions", p, {}) for p in interactions or []]
    if not plan:
        raise InvalidArgumentError("files", "give at least one --taxonomy-file, --products or --interactions")
    parse_mapping(map_ or [])
    for _, path, _ in plan:
        require_file(path)
    server = local_server(settings)
    require_local(server, urlparse(settings.neo4j_uri).hostname)
    summaries: list[LoadSummary] = []

    def stage(staging: StagingStore) -> None:
        key = settings.pseudonym_key_bytes()
        for kind, path, options in plan:
            summaries.append(
                load_file(staging, kind, path, pseudonym_key=key, progress=not as_json, **options)
            )

    result = bulk_load(
        server,
        lambda: graph_store(settings),
        stage,
        work_dir=server.home / "import",
        database=settings.neo4j_database,
        keep_csvs=keep_csvs,
    )
    lines = [f"staged {s.kind}: {s.rows} rows from {s.file}" for s in summaries]
    lines += [f"  {phase}: {seconds:.1f}s" for phase, seconds in result.seconds.items()]
    lines.append("nodes: " + ", ".join(f"{k} {v}" for k, v in sorted(result.nodes.items())))
    lines.append("relationships: " + ", ".join(f"{k} {v}" for k, v in sorted(result.relationships.items())))
    emit({"files": [s.as_dict() for s in summaries], **result.as_dict()}, as_json, lines)


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
