"""What the CLI and the HTTP routes both do, written once: each interface only parses its input
and prints or serialises the result. Training imports torch and PyKEEN inside the function, so
that loading files (`kgrec load`) starts in a fraction of a second."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kgrec.graph.errors import InvalidArgumentError
from kgrec.graph.loaders import LoadSummary, load_interactions, load_products, load_taxonomy
from kgrec.graph.product_parsing import parse_mapping
from kgrec.graph.store import GraphStore, LoadTarget
from kgrec.recommender.request import Filters, RecommendationRequest

if TYPE_CHECKING:
    from kgrec.embeddings.build import TrainSummary
    from kgrec.embeddings.text_encoder import TextEncoder
    from kgrec.embeddings.training import TrainingConfig

LOAD_KINDS = ("taxonomy", "products", "interactions")


def load_file(
    store: LoadTarget,
    kind: str,
    path: Path,
    *,
    pseudonym_key: bytes,
    taxonomy: str | None = None,
    fmt: str | None = None,
    locale: str | None = None,
    mapping: Sequence[str] = (),
    currency: str | None = None,
    extract_from_title: bool = False,
    progress: bool = False,
) -> LoadSummary:
    """One catalogue file of `kind` through its loader (`kgrec load KIND`, `POST /v1/admin/load/KIND`)."""
    if kind == "taxonomy":
        return load_taxonomy(store, path, fmt=fmt, taxonomy=taxonomy, locale=locale, progress=progress)
    if kind == "products":
        return load_products(
            store,
            path,
            taxonomy=taxonomy,
            mapping=parse_mapping(list(mapping)),
            currency=currency,
            extract_from_title=extract_from_title,
            progress=progress,
        )
    if kind == "interactions":
        return load_interactions(store, path, pseudonym_key=pseudonym_key, progress=progress)
    raise InvalidArgumentError("kind", f"unknown file kind {kind!r}; use one of {', '.join(LOAD_KINDS)}")


def train_and_publish(
    store: GraphStore,
    home: Path,
    config: TrainingConfig,
    encoder: TextEncoder,
    *,
    pseudonym_key: bytes,
    progress: bool = False,
) -> TrainSummary:
    """Train, give products outside every triple cold-start vectors, then publish the regions
    into the artifact and onto the products in the graph."""
    from kgrec.embeddings.artifacts import Artifact
    from kgrec.embeddings.build import build_embeddings
    from kgrec.embeddings.cold_start import embed_new_products
    from kgrec.recommender.region_publishing import publish_regions
    from kgrec.recommender.service import Recommender

    summary = build_embeddings(store, home, config, encoder, progress=progress)
    embed_new_products(store, Artifact.open_current(home), encoder)
    recommender = Recommender.load(store, home, encoder, pseudonym_key=pseudonym_key)
    publish_regions(store, recommender.catalog)
    return summary


def build_request(
    *,
    query: str | None = None,
    user_id: str | None = None,
    history: Sequence[str] = (),
    k: int = 10,
    diversity: float | None = None,
    strategy: str | None = None,
    region_kind: str = "taxonomy",
    filters: Filters | None = None,
    explain: bool = True,
    locale: str | None = None,
) -> RecommendationRequest:
    """A checked request: blank history ids dropped, every field validated (errors name the field)."""
    request = RecommendationRequest(
        query=query,
        user_id=user_id,
        history=[h.strip() for h in history if h.strip()],
        k=k,
        diversity=diversity,
        strategy=strategy,
        region_kind=region_kind,
        filters=filters or Filters(),
        explain=explain,
        locale=locale,
    )
    request.validate()
    return request
