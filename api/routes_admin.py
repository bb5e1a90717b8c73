"""Admin endpoints behind `X-API-Key`: uploads through the loaders, training jobs, reloads."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, UploadFile

from api.deps import Admin, State
from embeddings.artifacts import Artifact
from embeddings.build import build_embeddings
from embeddings.cold_start import embed_new_products
from embeddings.training import TrainingConfig, resolve_model
from graph.errors import NotFoundError
from graph.loaders import load_interactions, load_products, load_taxonomy
from graph.product_parsing import parse_mapping
from recommender.region_publishing import publish_regions
from recommender.service import Recommender

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Admin])


@router.post("/load/{kind}")
def load(
    kind: Literal["taxonomy", "products", "interactions"],
    state: State,
    file: Annotated[UploadFile, File()],
    taxonomy: Annotated[str | None, Form(max_length=100)] = None,
    fmt: Annotated[str | None, Form(alias="format", max_length=10)] = None,
    locale: Annotated[str | None, Form(max_length=20)] = None,
    mapping: Annotated[list[str] | None, Form(alias="map")] = None,
    currency: Annotated[str | None, Form(max_length=10)] = None,
) -> dict[str, Any]:
    """Runs the same loader as `kgrec load`; errors name the line (422), nothing is half-written."""
    suffix = Path(file.filename or "upload").suffix[:10]
    with tempfile.TemporaryDirectory(prefix="kgrec-upload-") as tmp:
        path = Path(tmp) / f"{Path(file.filename or 'upload').stem[:80] or 'upload'}{suffix}"
        with path.open("wb") as handle:
            shutil.copyfileobj(file.file, handle)
        store = state.store
        if kind == "taxonomy":
            summary = load_taxonomy(store, path, fmt=fmt, taxonomy=taxonomy, locale=locale)
        elif kind == "products":
            summary = load_products(
                store, path, taxonomy=taxonomy, mapping=parse_mapping(mapping or []), currency=currency
            )
        else:
            summary = load_interactions(store, path, pseudonym_key=state.pseudonym_key)
    result = summary.as_dict()
    result["file"] = file.filename
    if kind == "products":
        result["cold_start"] = _cold_start(state)
    return result


def _cold_start(state: State) -> int:
    """Products loaded after training get vectors at once, when a trained artifact exists."""
    try:
        artifact = Artifact.open_current(state.settings.home)
    except NotFoundError:
        return 0
    count = embed_new_products(state.store, artifact, state.encoder)
    if count:
        state.reload()
    return count


@router.post("/train", status_code=202)
def train(
    state: State,
    model: str = TrainingConfig().model,
    dim: int = TrainingConfig().dim,
    epochs: int = TrainingConfig().epochs,
) -> dict[str, Any]:
    """Starts training in the background; poll `GET /v1/admin/jobs/{id}`."""
    config = TrainingConfig(model=resolve_model(model), dim=dim, epochs=epochs)

    def work() -> dict[str, Any]:
        summary = build_embeddings(state.store, state.settings.home, config, state.encoder)
        embed_new_products(state.store, Artifact.open_current(state.settings.home), state.encoder)
        fresh = Recommender.load(
            state.store, state.settings.home, state.encoder, pseudonym_key=state.pseudonym_key
        )
        publish_regions(state.store, fresh.catalog)
        state.reload()
        return summary.as_dict()

    return state.submit("train", work).as_dict()


@router.get("/jobs/{job_id}")
def job(job_id: str, state: State) -> dict[str, Any]:
    found = state.jobs.get(job_id)
    if found is None:
        raise NotFoundError(f"no job {job_id!r}")
    return found.as_dict()


@router.post("/reload")
def reload(state: State) -> dict[str, str]:
    """Switches to the newest current artifact; requests keep being served during the switch."""
    return {"artifact": state.reload()}
