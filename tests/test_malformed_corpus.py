"""Every file in tests/data/malformed/ is refused with its file, line and message; nothing is written."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from neo4j import Driver

from kgrec.graph.errors import InputFileError
from kgrec.graph.loaders import load_interactions, load_products, load_taxonomy
from kgrec.graph.neo4j_store import Neo4jGraphStore
from tests.conftest import REPO
from tests.helpers import PRODUCT_MAP, PRODUCTS_CSV, TAXONOMY_CSV, write

pytestmark = pytest.mark.neo4j
CORPUS = Path(__file__).resolve().parent / "data" / "malformed"
KEY = b"corpus-key"
with (CORPUS / "cases.csv").open(encoding="utf-8") as _handle:
    CASES = list(csv.DictReader(_handle))


@pytest.fixture(scope="module")
def base_graph(neo4j_driver: Driver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Neo4jGraphStore]:
    store = Neo4jGraphStore(neo4j_driver)
    store.clear()
    tmp = tmp_path_factory.mktemp("corpus")
    load_taxonomy(store, write(tmp / "t.csv", TAXONOMY_CSV), taxonomy="shop")
    load_products(store, write(tmp / "p.csv", PRODUCTS_CSV), taxonomy="shop", mapping=PRODUCT_MAP)
    yield store
    store.clear()


def _load(store: Neo4jGraphStore, kind: str, path: Path) -> None:
    if kind == "taxonomy":
        load_taxonomy(store, path, taxonomy="shop2", batch_size=2)
    elif kind == "products":
        load_products(store, path, taxonomy="shop", batch_size=2)
    else:
        load_interactions(store, path, pseudonym_key=KEY, batch_size=2)


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_malformed_file_is_refused_and_writes_nothing(
    base_graph: Neo4jGraphStore, case: dict[str, str]
) -> None:
    before = base_graph.stats().as_dict()
    path = CORPUS / case["file"]
    with pytest.raises(InputFileError) as err:
        _load(base_graph, case["kind"], path)
    assert err.value.path == str(path)
    if case["line"] != "any":
        assert err.value.line == int(case["line"]), str(err.value)
    assert case["message"] in err.value.problem
    assert base_graph.stats().as_dict() == before


def test_every_corpus_file_is_a_case_and_documented() -> None:
    files = {p.name for p in CORPUS.iterdir()} - {"cases.csv", "generate.py"}
    assert files == {c["file"] for c in CASES}
    doc = (REPO / "docs" / "loading.md").read_text(encoding="utf-8")
    for case in CASES:
        assert f"`{case['file']}`" in doc and case["message"] in doc, case["file"]
