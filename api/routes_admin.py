"""Admin endpoints behind `X-API-Key`: uploads through the loaders, training jobs, reloads."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile

from kgrec.api.deps import Admin, State
from kgrec.api.schemas import LoadKind, error_responses
from kgrec.api.use_cases import load_file, train_and_publish
from kgrec.embeddings.artifacts import Artifact
from kgrec.embeddings.cold_start import embed_new_products
from kgrec.embeddings.training import TrainingConfig, resolve_model
from kgrec.graph.errors import InputFileError, NotFoundError

router = APIRouter(
    prefix="/v1/admin", tags=["admin"], dependencies=[Admin], responses=error_responses(401, 403, 404, 409)
)


@router.post("/load/{kind}")
def load(
    kind: LoadKind,
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
        try:
            summary = load_file(
                state.store,
                kind,
                path,
                pseudonym_key=state.pseudonym_key,
                taxonomy=taxonomy,
                fmt=fmt,
                locale=locale,
                mapping=mapping or [],
                currency=currency,
            )
        except InputFileError as exc:
            raise InputFileError(file.filename or "upload", exc.line, exc.problem) from exc
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
    model: Annotated[str, Query(max_length=50)] = TrainingConfig().model,
    dim: Annotated[int, Query(ge=2, le=1024)] = TrainingConfig().dim,
    epochs: Annotated[int, Query(ge=1, le=10_000)] = TrainingConfig().epochs,
) -> dict[str, Any]:
    """Starts training in the background; poll `GET /v1/admin/jobs/{id}`."""
    config = TrainingConfig(model=resolve_model(model), dim=dim, epochs=epochs)

    def work() -> dict[str, Any]:
        summary = train_and_publish(
            state.store, state.settings.home, config, state.encoder, pseudonym_key=state.pseudonym_key
        )
        state.reload()
        return summary.as_dict()

    return state.submit("train", work).as_dict()


@router.get("/jobs/{job_id}")
def job(job_id: str, state: State) -> dict[str, Any]:
    found = state.jobs.get(job_id)  # from its file: any worker answers, after restarts too
    if found is None:
        raise NotFoundError(f"no job {job_id!r}")
    return found.as_dict()


@router.post("/reload")
def reload(state: State) -> dict[str, str]:
    """Switches to the newest current artifact; requests keep being served during the switch."""
    return {"artifact": state.reload()}
