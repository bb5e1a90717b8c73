"""`kgrec recommend`: ranked, diversified, explained products from the command line."""

from __future__ import annotations

import os
import shutil
from typing import Annotated

import typer

from kgrec.api.cli.common import JsonFlag, emit, graph_store, handle_errors
from kgrec.api.settings import Settings
from kgrec.api.use_cases import build_request
from kgrec.api.wiring import limit_blas_threads, text_encoder
from kgrec.recommender.regions import REGION_KINDS
from kgrec.recommender.request import DEFAULT_DIVERSITY, DEFAULT_QUERY_DIVERSITY, DEFAULT_STRATEGY, Filters
from kgrec.recommender.rerankers import RERANKERS

app = typer.Typer()


@app.command("recommend")
@handle_errors
def recommend_cmd(
    query: Annotated[str | None, typer.Argument(help="What the shopper typed")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Shop user id (pseudonymised)")] = None,
    history: Annotated[str | None, typer.Option(help="Comma-separated product ids, oldest first")] = None,
    k: Annotated[int, typer.Option("-k", help="How many items (1-100)")] = 10,
    diversity: Annotated[
        float | None,
        typer.Option(
            help=f"0 = relevance, 1 = widest coverage (default: the tuned one, else "
            f"{DEFAULT_QUERY_DIVERSITY} for a query alone, {DEFAULT_DIVERSITY} otherwise)"
        ),
    ] = None,
    strategy: Annotated[
        str | None,
        typer.Option(help=f"One of {', '.join(RERANKERS)} (default: the tuned one, else {DEFAULT_STRATEGY})"),
    ] = None,
    regions: Annotated[str, typer.Option(help=f"Region kind: {' or '.join(REGION_KINDS)}")] = "taxonomy",
    category: Annotated[str | None, typer.Option(help="Only this category id and its subtree")] = None,
    brand: Annotated[str | None, typer.Option(help="Only this brand")] = None,
    price_min: Annotated[float | None, typer.Option()] = None,
    price_max: Annotated[float | None, typer.Option()] = None,
    locale: Annotated[
        str | None,
        typer.Option(
            help="Shopper's locale (zh-CN, de-DE): explanation sentences in it where kgrec has a "
            "catalogue, category and region names where the graph has them; else English"
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Recommend products for a query and/or a shopper, with graph paths that explain them."""
    request = build_request(
        query=query,
        user_id=user,
        history=(history or "").split(","),
        k=k,
        diversity=diversity,
        strategy=strategy,
        region_kind=regions,
        filters=Filters(category=category, brand=brand, price_min=price_min, price_max=price_max),
        locale=locale,
    )
    from kgrec.recommender.service import Recommender

    limit_blas_threads()
    settings = Settings()
    with graph_store(settings) as store:
        recommender = Recommender.load(
            store, settings.home, text_encoder(settings), pseudonym_key=settings.pseudonym_key_bytes()
        )
        result = recommender.recommend(request).as_dict()
    lines = [
        f"{len(result['items'])} items, {result['regions_covered']} regions, ILD {result['ild']}"
        + (
            f", filter-bubble share {result['filter_bubble_share']:.2f}"
            if result["filter_bubble_share"]
            else ""
        ),
    ]
    for n, item in enumerate(result["items"], start=1):
        lines.append(f"{n:>2}. {item['title'][:70]}  [{item['region']['name']}]  score {item['score']}")
        lines.extend(f"      - {e['text']}" for e in item.get("explanations", []))
    lines.extend(f"note: {n}" for n in result["notes"])
    if result["ignored_history"]:
        lines.append(f"ignored unknown history ids: {', '.join(result['ignored_history'])}")
    emit(result, as_json, lines)


@app.command("serve")
@handle_errors
def serve_cmd(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes sharing Neo4j and KGREC_HOME (docs/scaling.md)")
    ] = 1,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    if workers == 1:
        from kgrec.api.app import create_app

        uvicorn.run(create_app(), host=host, port=port, log_level="info", access_log=False)
        return
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker writes its samples here; /metrics on any worker sums them. Emptied at
        # start, as prometheus_client asks: one `kgrec serve` per KGREC_HOME.
        folder = Settings().home.resolve() / "metrics" / "multiprocess"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    uvicorn.run(
        "kgrec.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # Loading torch and the encoder holds a worker's GIL for seconds on a busy machine: without
        # room, uvicorn's 5 s health check kills and restarts workers that are only starting.
        timeout_worker_healthcheck=120,
        log_level="info",
        access_log=False,
    )
