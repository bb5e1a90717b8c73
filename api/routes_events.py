"""`POST /v1/events`: shopper interactions, reflected on the next request without retraining
(history, co-occurrence and popularity; Recommender.record_event serialises the updates)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from kgrec.api.deps import State
from kgrec.api.schemas import EventBody, error_responses
from kgrec.graph.errors import NotFoundError
from kgrec.graph.pseudonym import pseudonymise
from kgrec.graph.records import InteractionRecord

router = APIRouter(prefix="/v1", tags=["events"], responses=error_responses(404))


@router.post("/events", status_code=202)
def post_event(body: EventBody, state: State) -> dict[str, Any]:
    if not state.store.existing_ids("Product", [body.item_id]):
        raise NotFoundError(f"no product {body.item_id!r}")
    user = pseudonymise(body.user_id, state.pseudonym_key)
    record = InteractionRecord(
        user_id=user, item_id=body.item_id, kind=body.kind, timestamps=(body.timestamp,), value=body.value
    )
    counts = state.store.merge_interactions([record])
    state.recommender().record_event(user, body.item_id, body.kind, body.timestamp)
    return {"accepted": True, "new": counts.created + counts.updated > 0}
