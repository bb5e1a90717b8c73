"""Several workers, one truth: two API processes on one Neo4j (through a `neo4j://` routing URI)
and one KGREC_HOME, as `kgrec serve --workers N` or replicas behind a load balancer run them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from neo4j import Driver
from neo4j.exceptions import ClientError

from kgrec.api.jobs import STALE_S, Job, JobStore
from kgrec.embeddings.build import build_embeddings
from kgrec.embeddings.text_encoder import HashingTextEncoder
from kgrec.embeddings.training import TrainingConfig
from kgrec.graph.loaders import load_products
from kgrec.graph.neo4j_launcher import LocalNeo4j
from kgrec.graph.neo4j_store import Neo4jGraphStore
from kgrec.graph.samples import AMAZON_TOYS_MAPPING
from tests.conftest import TEST_PASSWORD
from tests.test_embeddings_neo4j import toys_subset

API_KEY = "workers-admin-key"
SYNC_MS = 200
# One worker process: the real app, with the tiny deterministic encoder the demo was trained with.
WORKER = (
    "import sys, uvicorn\n"
    "from kgrec.api.app import create_app\n"
    "from kgrec.embeddings.text_encoder import HashingTextEncoder\n"
    "uvicorn.run(create_app(encoder=HashingTextEncoder(dim=48)), host='127.0.0.1', "
    "port=int(sys.argv[1]), log_level='warning')\n"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"worker exited {process.returncode}"
        try:
            if httpx.get(f"{url}/ready", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} not ready in {timeout}s")


class Workers:
    def __init__(self, env: dict[str, str], home: Path) -> None:
        self.env, self.home = env, home
        self.processes: list[subprocess.Popen[bytes]] = []
        self.urls: list[str] = []

    def start(self, count: int) -> None:
        for _ in range(count):
            port = _free_port()
            process = subprocess.Popen([sys.executable, "-c", WORKER, str(port)], env=self.env)
            self.processes.append(process)
            self.urls.append(f"http://127.0.0.1:{port}")
        for url, process in zip(self.urls, self.processes, strict=True):
            _wait_ready(url, process)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=30)
        self.processes, self.urls = [], []


@pytest.fixture(scope="module")
def workers(
    neo4j_server: LocalNeo4j, neo4j_driver: Driver, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workers]:
    store = Neo4jGraphStore(neo4j_driver)
    store.clear()
    tmp = tmp_path_factory.mktemp("workers")
    load_products(store, toys_subset(tmp, 150), taxonomy="amazon_uk", mapping=AMAZON_TOYS_MAPPING)
    home = tmp / "home"
    config = TrainingConfig(model="DistMult", dim=16, epochs=5, batch_size=1024, frequency=5, eval_sample=100)
    build_embeddings(store, home, config, HashingTextEncoder(dim=48))
    metrics = tmp / "metrics"
    metrics.mkdir()
    env = {
        **os.environ,
        "KGREC_HOME": str(home),
        "KGREC_NEO4J_URI": neo4j_server.bolt_uri.replace("bolt://", "neo4j://"),
        "KGREC_NEO4J_PASSWORD": TEST_PASSWORD,
        "KGREC_PSEUDONYM_KEY": "workers-test-key",
        "KGREC_API_KEY": API_KEY,
        "KGREC_SYNC_INTERVAL_MS": str(SYNC_MS),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
    }
    running = Workers(env, home)
    running.start(2)
    yield running
    running.stop()
    store.clear()


def _notes(url: str, user: str) -> list[str]:
    response = httpx.post(f"{url}/v1/recommendations", json={"user_id": user, "k": 5}, timeout=30)
    assert response.status_code == 200, response.text
    notes: list[str] = response.json()["notes"]
    return notes


def _until(check: object, timeout: float) -> float:
    """Seconds until `check()` is true, polling every 20 ms."""
    started = time.monotonic()
    while not check():  # type: ignore[operator]
        assert time.monotonic() - started < timeout, "not seen in time"
        time.sleep(0.02)
    return time.monotonic() - started


@pytest.mark.neo4j
@pytest.mark.slow
def test_an_event_posted_to_one_worker_changes_the_next_recommendation_on_the_other(
    workers: Workers,
) -> None:
    a, b = workers.urls
    product = httpx.get(f"{a}/v1/search", params={"q": "toy"}, timeout=30).json()["items"][0]["id"]
    assert _notes(b, "shopper-w") == ["unknown user: treated as anonymous"]
    event = {"user_id": "shopper-w", "item_id": product, "kind": "purchase", "timestamp": 1_700_000_000}
    assert httpx.post(f"{a}/v1/events", json=event, timeout=30).status_code == 202
    assert _notes(a, "shopper-w") == []
    # The documented bound is one sync interval plus one pull; 5 s leaves room on a busy machine.
    seconds = _until(lambda: _notes(b, "shopper-w") == [], timeout=5)
    print(f"event visible on the other worker after {seconds * 1000:.0f} ms (interval {SYNC_MS} ms)")


@pytest.mark.neo4j
@pytest.mark.slow
def test_metrics_add_up_over_the_workers(workers: Workers) -> None:
    a, b = workers.urls
    for url in (a, b, a):
        assert httpx.get(f"{url}/health", timeout=10).status_code == 200
    pids = {httpx.get(f"{url}/health", timeout=10).headers["X-Kgrec-Worker"] for url in (a, b)}
    assert len(pids) == 2
    text = httpx.get(f"{b}/metrics", timeout=10).text
    health = sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("kgrec_http_requests_total{")
        and 'route="/health"' in line
        and 'status="200"' in line
    )
    assert health >= 5  # 3 + 2 here, answered by two processes


@pytest.mark.neo4j
@pytest.mark.slow
def test_a_training_job_reloads_every_worker_and_outlives_them(workers: Workers) -> None:
    a, b = workers.urls
    admin = {"X-API-Key": API_KEY}
    serving = httpx.get(f"{b}/ready", timeout=10).json()["artifact"]
    started = httpx.post(f"{a}/v1/admin/train", params={"epochs": 2, "dim": 8}, headers=admin, timeout=30)
    assert started.status_code == 202
    job_id = started.json()["id"]

    def job() -> dict[str, object]:
        # Asked of the other worker: the job's state is in a file both read.
        answer = httpx.get(f"{workers.urls[-1]}/v1/admin/jobs/{job_id}", headers=admin, timeout=10)
        assert answer.status_code == 200, answer.text
        found: dict[str, object] = answer.json()
        return found

    _until(lambda: job()["status"] in ("succeeded", "failed"), timeout=300)
    finished = job()
    assert finished["status"] == "succeeded", finished
    trained = finished["result"]["artifact"]  # type: ignore[index]
    assert trained != serving
    # Worker a reloaded itself; worker b follows the published generation.
    _until(lambda: httpx.get(f"{b}/ready", timeout=10).json()["artifact"] == trained, timeout=30)
    workers.stop()
    workers.start(1)
    assert job() == finished


def test_a_running_job_whose_worker_stopped_reads_interrupted(tmp_path: Path) -> None:
    jobs = JobStore(tmp_path)
    gone = Job(id="a" * 32, kind="train", status="running", heartbeat=time.time() - STALE_S - 1)
    alive = Job(id="b" * 32, kind="train", status="running")
    for job in (gone, alive):
        jobs.save(job)
    found_gone, found_alive = jobs.get(gone.id), jobs.get(alive.id)
    assert found_gone is not None and found_gone.status == "interrupted"
    assert found_alive is not None and found_alive.status == "running"
    assert jobs.get("../secrets") is None and jobs.get("c" * 32) is None


@pytest.mark.neo4j
def test_reads_run_in_read_transactions_that_refuse_writes(neo4j_store: Neo4jGraphStore) -> None:
    with pytest.raises(ClientError, match=r"(?i)read"):
        neo4j_store.run("CREATE (:ReadOnlyProbe)")
    assert neo4j_store.run("MATCH (n:ReadOnlyProbe) RETURN count(n) AS n")[0]["n"] == 0
    assert neo4j_store.server_time_ms() > 1_700_000_000_000


@pytest.mark.slow
def test_kgrec_serve_workers_spreads_requests_and_sums_their_metrics(tmp_path: Path) -> None:
    """`kgrec serve --workers 2` itself (MiniLM in each worker; Neo4j need not be up for /health)."""
    port = _free_port()
    env = {**os.environ, "KGREC_HOME": str(tmp_path), "KGREC_NEO4J_URI": "bolt://127.0.0.1:9"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [sys.executable, "-m", "kgrec.api.cli", "serve", "--workers", "2", "--port", str(port)]
    server = subprocess.Popen(command, env={**env, "KGREC_NEO4J_PASSWORD": "unused"})
    url = f"http://127.0.0.1:{port}"
    try:
        pids: set[str] = set()
        answered = 0
        deadline = time.monotonic() + 300
        while len(pids) < 2 and time.monotonic() < deadline:
            assert server.poll() is None, f"kgrec serve exited {server.returncode}"
            try:
                with httpx.Client() as fresh:  # a new connection: the kernel picks the worker
                    pids.add(fresh.get(f"{url}/health", timeout=5).headers["X-Kgrec-Worker"])
                answered += 1
            except httpx.TransportError:
                time.sleep(0.5)
        assert len(pids) == 2
        served = sum(
            float(line.rsplit(" ", 1)[1])
            for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines()
            if line.startswith("kgrec_http_requests_total{") and 'route="/health"' in line
        )
        assert served == answered  # every answer counted once, whichever worker gave it
        assert (tmp_path / "metrics" / "multiprocess").is_dir()
    finally:
        server.terminate()
        server.wait(timeout=60)
