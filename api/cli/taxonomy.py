"""`kgrec align-taxonomy`: map a shop's taxonomy onto another (Google's) with MAPS_TO edges."""

from __future__ import annotations

from typing import Annotated

import typer

from kgrec.api.cli.common import JsonFlag, emit, graph_store, handle_errors
from kgrec.api.settings import Settings
from kgrec.api.wiring import text_encoder
from kgrec.embeddings.taxonomy_alignment import DEFAULT_MIN_SCORE, align_taxonomies

app = typer.Typer()


@app.command("align-taxonomy")
@handle_errors
def align_taxonomy_cmd(
    source: Annotated[str, typer.Option("--from", help="The shop's taxonomy, e.g. amazon_uk")],
    target: Annotated[str, typer.Option("--to", help="The taxonomy to map onto, e.g. google")] = "google",
    min_score: Annotated[
        float,
        typer.Option(
            help="Keep mappings scoring at least this (weighted cosine of paths, leaf names and "
            "product titles, current encoder)"
        ),
    ] = DEFAULT_MIN_SCORE,
    as_json: JsonFlag = False,
) -> None:
    """Map every category of --from onto its closest category of --to (text encoder over full paths,
    leaf names and the titles of the products beneath, brand names taken out, a parent's mapping
    constraining its children's); re-running replaces the edges."""
    settings = Settings()
    encoder = text_encoder(settings)
    with graph_store(settings) as store:
        mappings = align_taxonomies(store, source, target, encoder, min_score=min_score, progress=not as_json)
    methods: dict[str, int] = {}
    for m in mappings:
        methods[m.method] = methods.get(m.method, 0) + 1
    payload = {
        "from": source,
        "to": target,
        "encoder": encoder.name,
        "mapped": len(mappings),
        "methods": methods,
        "mappings": [m._asdict() for m in mappings],
    }
    lines = [
        f"{len(mappings)} {source} categories mapped onto {target} with {encoder.name} "
        f"(min score {min_score}): {', '.join(f'{k} {v}' for k, v in sorted(methods.items()))}",
        *(f"  {m.source} -> {m.target}  {m.score:.3f}" for m in mappings[:10]),
        "review in Neo4j Browser: MATCH p = (:Category {taxonomy: $from})-[:MAPS_TO]->() RETURN p LIMIT 50",
    ]
    emit(payload, as_json, lines)
