"""`kgrec finetune`: the text encoder fine-tuned on the shop's graded (query, product) pairs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kgrec.api.cli.common import JsonFlag, emit, graph_store, handle_errors, require_file
from kgrec.api.settings import Settings
from kgrec.api.wiring import text_encoder
from kgrec.embeddings.artifacts import current_name
from kgrec.embeddings.encoders import DEFAULT_ENCODER, PACKAGED
from kgrec.embeddings.finetune import FinetuneConfig, FinetuneResult, finetune_encoder, read_pairs
from kgrec.embeddings.reencode import reencode_artifact
from kgrec.embeddings.texts import product_text
from kgrec.graph.errors import InvalidArgumentError
from kgrec.graph.loaders import load_products
from kgrec.graph.memory_store import MemoryGraphStore
from kgrec.graph.store import GraphStore

DEFAULTS = FinetuneConfig()
CHECKPOINT = "finetune-checkpoint"
app = typer.Typer()


def finetune_base(choice: str | None) -> Path | None:
    """Fine-tuning trains a transformers BERT: MiniLM (None) or a model folder, not a packaged engine."""
    if choice is None or choice == DEFAULT_ENCODER:
        return None
    if choice in PACKAGED:
        raise InvalidArgumentError(
            "text_model", f"{choice} runs in its own engine and cannot be fine-tuned: use minilm or a folder"
        )
    return Path(choice)


def _texts(store: GraphStore) -> dict[str, str]:
    return {p.id: product_text(p) for p in store.iter_product_texts()}


@app.command("finetune")
@handle_errors
def finetune_cmd(
    pairs: Annotated[
        Path, typer.Option(help="query<TAB>product_id<TAB>grade (1-3) lines, train queries only")
    ],
    epochs: Annotated[int, typer.Option()] = DEFAULTS.epochs,
    batch_size: Annotated[
        int, typer.Option(help="Queries per step (each other's negatives)")
    ] = DEFAULTS.batch_size,
    lr: Annotated[float, typer.Option(help="AdamW learning rate")] = DEFAULTS.lr,
    max_pairs: Annotated[
        int | None, typer.Option(help="Train on about this many pairs (whole queries, drawn at random)")
    ] = None,
    products: Annotated[
        Path | None,
        typer.Option(help="Read product texts from this file instead of the graph (no re-encoding then)"),
    ] = None,
    extract_from_title: Annotated[
        bool, typer.Option("--extract-from-title", help="With --products: as `load products` does")
    ] = False,
    seed: Annotated[int, typer.Option()] = DEFAULTS.seed,
    hard_negatives: Annotated[
        str,
        typer.Option(
            help="judged: the query's own low-graded products; "
            "bm25: BM25's top hits not graded relevant for it"
        ),
    ] = DEFAULTS.hard_negatives,
    negative_depth: Annotated[
        int, typer.Option(help="With bm25: how many of its top non-relevant hits each query cycles through")
    ] = DEFAULTS.negative_depth,
    checkpoint_every: Annotated[
        int,
        typer.Option(
            help="Save a resumable checkpoint in KGREC_HOME/finetune-checkpoint every this many steps "
            "(0: none); a re-run of the same command resumes from it"
        ),
    ] = 100,
    stop_after: Annotated[
        float | None,
        typer.Option(
            help="Stop after about this many seconds of training, with a checkpoint to resume from "
            "(time-boxed pieces of a long run)"
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Fine-tune the BERT encoder, save it as a versioned encoder (now current), and re-encode
    the product texts of the current embedding artifact with it (a new artifact, now current)."""
    config = FinetuneConfig(
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        max_pairs=max_pairs,
        seed=seed,
        hard_negatives=hard_negatives,
        negative_depth=negative_depth,
        checkpoint_every=checkpoint_every,
    )
    settings = Settings()
    rows = read_pairs(require_file(pairs))
    base = finetune_base(settings.text_model)

    def tune(store: GraphStore) -> FinetuneResult:
        return finetune_encoder(
            rows,
            _texts(store),
            settings.home,
            config=config,
            base_model=base,
            source=str(pairs),
            progress=not as_json,
            checkpoint=settings.home / CHECKPOINT if checkpoint_every or stop_after else None,
            stop_after=stop_after,
        )

    if products is not None:
        store = MemoryGraphStore()
        load_products(store, require_file(products), extract_from_title=extract_from_title)
        result = tune(store)
        reencoded = None
    else:
        with graph_store(settings) as graph:
            result = tune(graph)
            reencoded = (
                reencode_artifact(graph, settings.home, text_encoder(settings), progress=not as_json).name
                if current_name(settings.home) and result.path is not None
                else None
            )
    payload = {**result.as_dict(), "reencoded_artifact": reencoded}
    if result.path is None:
        emit(
            payload,
            as_json,
            [
                f"stopped after {result.steps} of {result.of_steps} steps ({result.seconds:.0f}s of training "
                f"so far); checkpoint in {settings.home / CHECKPOINT}: run the same command again to resume"
            ],
        )
        return
    lines = [
        f"fine-tuned on {result.pairs} pairs ({result.queries} queries), {result.steps} steps in "
        f"{result.seconds:.0f}s ({result.steps_per_second:.2f} steps/s); loss "
        f"{payload['loss_first']} -> {payload['loss_last']}",
        f"  encoder {payload['encoder']} (now current; `kgrec models use base` goes back)",
        f"  product texts re-encoded: artifact {reencoded} (now current)"
        if reencoded
        else "  no embedding artifact re-encoded (run `kgrec train`, or re-run without --products)",
        "  a running API picks both up on POST /v1/admin/reload",
    ]
    emit(payload, as_json, lines)
