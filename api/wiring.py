"""Builds the long-lived objects (driver, store, launcher) from settings, in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlparse

from neo4j import Driver, GraphDatabase

from kgrec.api.settings import Settings
from kgrec.embeddings.encoder_artifacts import current_choice
from kgrec.graph.neo4j_launcher import LocalNeo4j
from kgrec.graph.neo4j_store import Neo4jGraphStore

if TYPE_CHECKING:
    from kgrec.embeddings.text_encoder import TextEncoder


def open_driver(settings: Settings) -> Driver:
    return GraphDatabase.driver(
        settings.neo4j_uri,
        auth=(settings.neo4j_user, settings.neo4j_password_value()),
        connection_timeout=5.0,
        connection_acquisition_timeout=10.0,
        max_transaction_retry_time=5.0,
        notifications_min_severity="OFF",
    )


def open_store(settings: Settings, driver: Driver) -> Neo4jGraphStore:
    return Neo4jGraphStore(driver, database=settings.neo4j_database)


def limit_blas_threads() -> None:
    """Serving does many small matrix products: one BLAS thread each, so that OpenBLAS's spinning
    threads do not fight torch's for the 2 cores (p99 of a recommendation halves)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def text_encoder(settings: Settings, threads: int | None = None) -> TextEncoder:
    """KGREC_TEXT_MODEL if set, else the encoder `kgrec models use` / `kgrec finetune` chose, else MiniLM;
    BERT-family encoders run by torch or, with KGREC_ENCODER_RUNTIME=onnx, by ONNX Runtime (same
    vectors), on `threads` threads (default KGREC_TORCH_THREADS). Imported here, not at the top:
    commands that never encode text start without torch."""
    from kgrec.embeddings.encoders import open_encoder

    return open_encoder(
        settings.text_model or current_choice(settings.home),
        threads=threads or settings.torch_threads,
        quantize=settings.text_quantize,
        runtime=settings.encoder_runtime,
        onnx_cache=settings.home / "onnx",
    )


def local_server(
    settings: Settings, bolt_port: int | None = None, http_port: int | None = None
) -> LocalNeo4j:
    uri_port = urlparse(settings.neo4j_uri).port or 7687
    return LocalNeo4j(
        home=settings.server_home,
        lib_dir=settings.lib_dir,
        password=settings.neo4j_password_value(),
        bolt_port=bolt_port or uri_port,
        http_port=http_port or 7474,
        heap=settings.neo4j_heap,
        pagecache=settings.neo4j_pagecache,
    )
