"""`kgrec train | encode | models | embed-new`: the embedding commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kgrec.api.cli.common import JsonFlag, emit, graph_store, handle_errors
from kgrec.api.settings import Settings
from kgrec.api.use_cases import train_and_publish
from kgrec.api.wiring import text_encoder
from kgrec.embeddings.artifacts import Artifact, list_artifacts, use_artifact
from kgrec.embeddings.cold_start import embed_new_products
from kgrec.embeddings.encoder_artifacts import (
    BASE,
    current_choice,
    encoders_root,
    is_encoder,
    list_encoders,
    use_encoder,
)
from kgrec.embeddings.encoders import DEFAULT_ENCODER, PACKAGED, open_encoder
from kgrec.embeddings.reencode import reencode_artifact
from kgrec.embeddings.training import TrainingConfig, resolve_model
from kgrec.embeddings.triples import export_triples
from kgrec.graph.errors import NotFoundError

app = typer.Typer()

DEFAULTS = TrainingConfig()
models_app = typer.Typer(help="List or switch trained artifacts and text encoders.", no_args_is_help=True)


@app.command("train")
@handle_errors
def train_cmd(
    model: Annotated[str, typer.Option(help="Any PyKEEN model name")] = DEFAULTS.model,
    dim: Annotated[int, typer.Option(help="Embedding dimension")] = DEFAULTS.dim,
    epochs: Annotated[
        int, typer.Option(help="Maximum epochs (early stopping may end sooner)")
    ] = DEFAULTS.epochs,
    batch_size: Annotated[int, typer.Option()] = DEFAULTS.batch_size,
    lr: Annotated[float, typer.Option(help="Adam learning rate")] = DEFAULTS.lr,
    seed: Annotated[int, typer.Option()] = DEFAULTS.seed,
    eval_sample: Annotated[int, typer.Option(help="Most triples evaluated per split")] = DEFAULTS.eval_sample,
    device: Annotated[str, typer.Option(help="cpu, cuda or cuda:N (PyKEEN on that GPU)")] = DEFAULTS.device,
    if_stale: Annotated[
        bool, typer.Option("--if-stale", help="Skip when the current artifact matches the graph")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Train KG embeddings on the graph in Neo4j, encode product texts, write vectors back."""
    resolve_model(model)
    if if_stale and (fresh := _current_if_fresh(Settings())) is not None:
        emit(
            {"skipped": True, "artifact": fresh},
            as_json,
            [f"artifact {fresh} matches the graph: not retraining"],
        )
        return
    config = TrainingConfig(
        model=model,
        dim=dim,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        eval_sample=eval_sample,
        device=device,
    )
    settings = Settings()
    encoder = text_encoder(settings)
    with graph_store(settings) as store:
        summary = train_and_publish(
            store,
            settings.home,
            config,
            encoder,
            pseudonym_key=settings.pseudonym_key_bytes(),
            progress=not as_json,
        )
    d = summary.as_dict()
    emit(
        d,
        as_json,
        [
            f"trained {d['model']} (dim {d['dim']}) on {d['triples']} triples, {d['entities']} entities "
            f"in {d['seconds']}s ({d['epochs_run']} epochs)",
            f"  test MRR {d['metrics']['mrr']}, Hits@10 {d['metrics']['hits_at_10']} "
            f"(random weights: MRR {d['random_baseline']['mrr']}, "
            f"Hits@10 {d['random_baseline']['hits_at_10']})",
            f"  text->KG alignment on held-out entities: R2 {d['alignment']['r2']}, "
            f"Hits@10 {d['alignment']['hits_at_10']}",
            f"  artifact {d['artifact']} (now current)",
        ],
    )


def _current_if_fresh(settings: Settings) -> str | None:
    try:
        artifact = Artifact.open_current(settings.home)
    except NotFoundError:
        return None
    with graph_store(settings) as store:
        drift = artifact.check_fingerprint(export_triples(store).fingerprint)
    return artifact.name if drift is None else None


@app.command("encode")
@handle_errors
def encode_cmd(query: str, as_json: JsonFlag = False) -> None:
    """Encode a shopper query with the BERT text encoder."""
    encoder = text_encoder(Settings())
    vector = [round(float(x), 6) for x in encoder.encode([query])[0]]
    payload = {"model": encoder.name, "dim": encoder.dim, "vector": vector}
    emit(payload, as_json, [f"{encoder.name} ({encoder.dim} dims): {vector[:8]} ..."])


@models_app.command("list")
@handle_errors
def models_list(as_json: JsonFlag = False) -> None:
    """Trained artifacts, newest last; the current one is marked."""
    home = Settings().home
    items = list_artifacts(home)
    encoders = list_encoders(home)
    lines = [
        f"{'*' if a['current'] else ' '} {a['name']}  {a['model']} d{a['dim']}  "
        f"MRR {a['metrics']['mrr']:.4f}  text {a.get('text_model')}  {a['created']}"
        for a in items
    ] or ["no artifacts yet: run `kgrec train`"]
    choice = current_choice(home)
    chosen = DEFAULT_ENCODER if choice is None else choice if isinstance(choice, str) else ""
    packaged = [
        {
            "name": p.key,
            "encoder": p.name,
            "package": p.package,
            "languages": p.languages,
            "about": p.about,
            "current": p.key == chosen,
        }
        for p in PACKAGED.values()
    ]
    lines += ["encoders (packaged):"]
    lines += [
        f"{'*' if p['current'] else ' '} {p['name']}  [{p['languages']}]  {p['about']}" for p in packaged
    ]
    lines += ["encoders (fine-tuned):"] if encoders else []
    lines += [
        f"{'*' if e['current'] else ' '} {e['name']}  {e['pairs']} pairs  {e['created']}" for e in encoders
    ]
    emit({"artifacts": items, "encoders": encoders, "packaged_encoders": packaged}, as_json, lines)


@models_app.command("use")
@handle_errors
def models_use(name: str) -> None:
    """Make NAME the artifact, or the text encoder (packaged: minilm, e5-multilingual,
    use-multilingual; or fine-tuned; `base` = minilm), that serving uses. Switching encoders
    re-encodes the current artifact's product and category texts with the new one first."""
    settings = Settings()
    home = settings.home
    if is_encoder(home, name):
        reencoded = _reencode_for(settings, name)
        use_encoder(home, name)
        typer.echo(
            f"current encoder: {name}"
            + (f"; product texts re-encoded: artifact {reencoded}" if reencoded else "")
        )
        if settings.text_model:
            typer.echo(f"note: KGREC_TEXT_MODEL={settings.text_model} is set and overrides this choice")
        return
    use_artifact(home, name)
    typer.echo(f"current artifact: {name}")


def _reencode_for(settings: Settings, name: str) -> str | None:
    """A new artifact whose text vectors come from encoder `name`, unless the current one's do."""
    try:
        artifact = Artifact.open_current(settings.home)
    except NotFoundError:
        return None
    choice: str | Path | None = (
        name if name in PACKAGED or name == BASE else encoders_root(settings.home) / name
    )
    encoder = open_encoder(None if choice == BASE else choice, threads=settings.torch_threads)
    if artifact.manifest.get("text_model") == encoder.name:
        return None
    with graph_store(settings) as store:
        return reencode_artifact(store, settings.home, encoder, progress=True).name


@app.command("embed-new")
@handle_errors
def embed_new_cmd(as_json: JsonFlag = False) -> None:
    """Give products loaded after training a KG-space vector, without retraining."""
    settings = Settings()
    artifact = Artifact.open_current(settings.home)
    with graph_store(settings) as store:
        count = embed_new_products(store, artifact, text_encoder(settings))
    emit({"embedded": count, "artifact": artifact.name}, as_json, [f"embedded {count} new products"])
