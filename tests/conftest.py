"""One real Neo4j per test session, on ports other than 7687/7474, in a temp home.

Under pytest-xdist (`make test` runs three workers) each worker is a session of its own with its
own Neo4j: worker n listens on the KGREC_TEST_* ports + 5n (the bulk-import tests take + 2 of
those), and the trained toys catalogue is trained by the first worker that asks for it and
reused by the others."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from neo4j import Driver, GraphDatabase
from threadpoolctl import threadpool_limits

from kgrec.graph.memory_store import MemoryGraphStore
from kgrec.graph.neo4j_launcher import LocalNeo4j
from kgrec.graph.neo4j_store import Neo4jGraphStore
from kgrec.graph.samples import sample_data_dir

if TYPE_CHECKING:
    from tests.toys_catalogue import TrainedToys

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DATA = sample_data_dir()
SHARED_DATA = Path(os.environ.get("KGREC_SHARED_DATA", REPO.parent / "shared" / "data"))
# pytest-xdist names its workers gw0, gw1, ... and says how many there are; a run without it is
# worker 0 of 1.
WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
# Each xdist worker's share of the cores for PyTorch, OpenMP (LightGBM), BLAS and ONNX Runtime:
# with more threads than free cores their pools spin-wait while the other worker holds the
# cores, which doubled MiniLM's CPU seconds for the same vectors (docs/testing.md, session 11).
# Set in the workers (not in xdist's controller, whose environment they inherit) before anything
# imports torch; numpy's BLAS is already loaded, so it is limited in place. Subprocesses
# (`kgrec serve` workers) inherit the variables.
TEST_THREADS = max(1, (os.cpu_count() or 1) // WORKERS)
if "PYTEST_XDIST_WORKER" in os.environ:
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "KGREC_TORCH_THREADS"):
        os.environ.setdefault(variable, str(TEST_THREADS))
    threadpool_limits(TEST_THREADS)
PORTS_PER_WORKER = 5
TEST_BOLT_PORT = int(os.environ.get("KGREC_TEST_BOLT_PORT", "17687")) + PORTS_PER_WORKER * WORKER
TEST_HTTP_PORT = int(os.environ.get("KGREC_TEST_HTTP_PORT", "17474")) + PORTS_PER_WORKER * WORKER
TEST_PASSWORD = "kgrec-test-password"
# The suite starts ~7 servers and ~5 neo4j-admin runs, each for seconds to a minute: the C1
# compiler alone and the serial collector halve a server start's CPU (23 s to 12 s, measured in
# docs/testing.md), which is what the workers on two cores are short of.
TEST_JVM_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData")


def make_test_server(
    home: Path, *, port_offset: int = 0, heap: str = "768m", pagecache: str = "256m"
) -> LocalNeo4j:
    """A Neo4j on the KGREC_TEST_* ports (plus `port_offset`), from the jars `make neo4j-jars` fetched."""
    return LocalNeo4j(
        home=home,
        lib_dir=Path(os.environ.get("KGREC_NEO4J_LIB_DIR", REPO / "var" / "neo4j" / "lib")),
        password=TEST_PASSWORD,
        bolt_port=TEST_BOLT_PORT + port_offset,
        http_port=TEST_HTTP_PORT + port_offset,
        heap=heap,
        pagecache=pagecache,
        jvm_options=TEST_JVM_OPTIONS,
    )


# The longest modules (20 s or more of wall time each in `make test`; docs/testing.md has the
# profile, session 12), longest first. `make test` hands whole files to its workers in
# collection order (--dist loadfile --no-loadscope-reorder), so these start first and the short
# ones fill in around them, rather than one of them starting last while another worker sits
# idle. The two modules that share the trained toys (test_api.py, test_ui_browser.py) are apart,
# so two workers do not both start by waiting on one training lock.
LONGEST_FIRST = (
    "test_bulk_import.py",
    "test_workers.py",
    "test_api.py",
    "test_recommender_demo.py",
    "test_evaluation.py",
    "test_ui_browser.py",
    "test_finetune.py",
    "test_cli.py",
    "test_onnx_encoder.py",
    "test_homedepot_protocol.py",
    "test_embeddings_neo4j.py",
    "test_startup.py",
    "test_explanation_locales.py",
    "test_real_data.py",
    "test_training.py",
    "test_atomic_loads.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest modules first; the others keep their order, and so do tests within a module."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what collection imported (torch, transformers, PyKEEN: ~540,000 objects) out of the
    garbage collector's reach: PyKEEN calls `gc.collect()` after every epoch, and each full pass
    over them cost 0.35 s of CPU, more than a toy epoch's training (docs/testing.md)."""
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session")
def neo4j_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNeo4j]:
    server = make_test_server(tmp_path_factory.mktemp("neo4j-home"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def neo4j_driver(neo4j_server: LocalNeo4j) -> Iterator[Driver]:
    driver = GraphDatabase.driver(
        neo4j_server.bolt_uri, auth=("neo4j", TEST_PASSWORD), notifications_min_severity="OFF"
    )
    yield driver
    driver.close()


@pytest.fixture(scope="session")
def trained_toys(neo4j_driver: Driver, tmp_path_factory: pytest.TempPathFactory) -> TrainedToys:
    """The API and page tests' catalogue, trained once per run (tests/toys_catalogue.py): under
    xdist the workers share pytest's base folder, and a lock lets one of them train it."""
    from tests.toys_catalogue import shared_toys  # training imports stay out of the fast tier

    run_folder = tmp_path_factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:
        run_folder = run_folder.parent  # the workers' folders sit side by side in the run's
    return shared_toys(Neo4jGraphStore(neo4j_driver), run_folder / "toys")


@pytest.fixture
def neo4j_store(neo4j_driver: Driver) -> Iterator[Neo4jGraphStore]:
    """A clean database for each test; whatever the test wrote is removed afterwards."""
    store = Neo4jGraphStore(neo4j_driver)
    store.clear()
    yield store
    store.clear()


@pytest.fixture
def memory_store() -> MemoryGraphStore:
    return MemoryGraphStore()


@pytest.fixture(params=["memory", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def any_store(request: pytest.FixtureRequest) -> Iterator[object]:
    """Runs a contract test once per GraphStore implementation."""
    if request.param == "memory":
        yield MemoryGraphStore()
    else:
        yield request.getfixturevalue("neo4j_store")


def shared_data(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not present (public data kept outside the repo)")
    return path
