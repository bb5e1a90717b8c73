"""Every route against the real test Neo4j and real artifacts from a small training run."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from neo4j import Driver
from pydantic import SecretStr

from kgrec.api.app import create_app
from kgrec.api.settings import Settings
from kgrec.graph.neo4j_launcher import LocalNeo4j
from kgrec.graph.neo4j_store import Neo4jGraphStore
from tests.conftest import TEST_PASSWORD
from tests.helpers import TAXONOMY_CSV
from tests.toys_catalogue import ENCODER, TrainedToys

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]
API_KEY = "test-admin-key"


@pytest.fixture(scope="module")
def client(
    neo4j_server: LocalNeo4j,
    neo4j_driver: Driver,
    trained_toys: TrainedToys,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[TestClient]:
    store = Neo4jGraphStore(neo4j_driver)
    home = trained_toys.checkout(store, tmp_path_factory.mktemp("api") / "home")
    settings = Settings(
        home=home,
        neo4j_uri=neo4j_server.bolt_uri,
        neo4j_password=SecretStr(TEST_PASSWORD),
        pseudonym_key=SecretStr("api-test-key"),
        api_key=SecretStr(API_KEY),
        max_body_bytes=4096,
        max_upload_bytes=20_000,
    )
    with TestClient(create_app(settings, encoder=ENCODER)) as test_client:
        yield test_client
    store.clear()


def a_product(client: TestClient) -> str:
    hits = client.get("/v1/search", params={"q": "toy"}).json()["items"]
    return str(hits[0]["id"])


def test_health_ready_and_docs(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert client.get("/openapi.json").json()["info"]["title"] == "kgrec"
    assert client.get("/docs").status_code == 200


def test_recommendations(client: TestClient) -> None:
    response = client.post("/v1/recommendations", json={"query": "train", "k": 5, "diversity": 0.7})
    assert response.status_code == 200
    body = response.json()
    assert len(body["items"]) == 5 and body["request_id"]
    item = body["items"][0]
    assert set(item) >= {"id", "title", "brand", "price", "category_path", "score", "relevance", "region"}
    assert item["explanations"][0]["browser_url"].startswith("http://127.0.0.1:7474/browser/?cmd=edit&arg=")
    assert set(body["timings_ms"]) >= {"encode", "retrieve", "fuse", "rerank", "explain", "total"}


def test_explanation_sentences_in_the_requests_locale(client: TestClient) -> None:
    """The same request in English, Chinese and German (Austrian reads the German catalogue);
    a locale without a catalogue gets English; `mapped` regions are a region kind (without
    MAPS_TO edges in this graph, the same as the taxonomy regions)."""
    texts = {}
    for locale in (None, "zh-CN", "de-AT", "fr-FR"):
        body = {"query": "train", "k": 5, "diversity": 0.9, "locale": locale, "region_kind": "mapped"}
        response = client.post("/v1/recommendations", json={k: v for k, v in body.items() if v is not None})
        assert response.status_code == 200, response.text
        assert response.json()["region_kind"] == "mapped"
        texts[locale] = [e["text"] for item in response.json()["items"] for e in item["explanations"]]
    english = " ".join(texts[None])
    assert "Its text is close to 'train'" in english or "a category that matches 'train'" in english
    assert texts["fr-FR"] == texts[None]
    assert any("“train”" in t and ("相近" in t or "相符" in t) for t in texts["zh-CN"])
    assert any("„train“" in t and ("ähnelt" in t or "passt" in t) for t in texts["de-AT"])
    for words in (texts["zh-CN"], texts["de-AT"]):
        assert not any("Its text is close" in t or "Picked for variety" in t for t in words)
    assert "Picked for variety" not in english or any("多样性" in t for t in texts["zh-CN"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"k": 0}, "k"),
        ({"k": 101}, "k"),
        ({"diversity": 2}, "diversity"),
        ({"strategy": "bogus"}, "strategy"),
        ({"history": "p1"}, "history"),
        ({"unknown": 1}, "unknown"),
        ({"filters": {"price_min": -1}}, "filters.price_min"),
        ({"diversity": False}, "diversity"),
        ({"k": "5"}, "k"),
        ({"history": [""]}, "history.0"),
    ],
)
def test_bad_requests_are_422_naming_the_field(
    client: TestClient, body: dict[str, object], field: str
) -> None:
    response = client.post("/v1/recommendations", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in [d["field"] for d in error["details"]]


def test_product_similar_categories_search(client: TestClient) -> None:
    pid = a_product(client)
    product = client.get(f"/v1/products/{pid}").json()
    assert product["id"] == pid and product["title"]
    assert client.get("/v1/products/no-such-id").status_code == 404
    similar = client.get(f"/v1/products/{pid}/similar", params={"k": 4}).json()
    assert len(similar["items"]) == 4 and pid not in [i["id"] for i in similar["items"]]
    assert client.get("/v1/products/no-such-id/similar").status_code == 404
    roots = client.get("/v1/categories", params={"taxonomy": "google", "locale": "zh-CN"}).json()[
        "categories"
    ]
    toys = next(c for c in roots if c["id"] == "google:1239")
    assert toys["name"] != toys["path"] and toys["children"] > 0
    amazon = client.get("/v1/categories", params={"taxonomy": "amazon_uk"}).json()["categories"]
    assert sum(c["products"] for c in amazon) > 0
    children = client.get("/v1/categories", params={"parent": "google:1239"}).json()["categories"]
    assert children and all(c["path"].startswith("Toys & Games > ") for c in children)
    assert client.get("/v1/categories", params={"locale": "not a locale"}).status_code == 422
    assert client.get("/v1/search", params={"q": ""}).status_code == 422


def test_events_personalise_the_next_request(client: TestClient) -> None:
    pid = a_product(client)
    before = client.post("/v1/recommendations", json={"user_id": "shopper-9", "k": 5}).json()
    assert before["notes"] == ["unknown user: treated as anonymous"]
    event = {"user_id": "shopper-9", "item_id": pid, "kind": "purchase", "timestamp": 1_700_000_000}
    assert client.post("/v1/events", json=event).status_code == 202
    after = client.post("/v1/recommendations", json={"user_id": "shopper-9", "k": 5}).json()
    assert after["notes"] == []
    assert pid not in [i["id"] for i in after["items"]]
    assert any(i["relevance"]["history"] > 0 for i in after["items"])
    bad = client.post("/v1/events", json={**event, "item_id": "nope"})
    assert bad.status_code == 404
    assert client.post("/v1/events", json={**event, "kind": "like"}).status_code == 422


def test_admin_needs_a_key(client: TestClient) -> None:
    assert client.post("/v1/admin/reload").status_code == 401
    assert client.post("/v1/admin/reload", headers={"X-API-Key": "wrong"}).status_code == 403
    ok = client.post("/v1/admin/reload", headers={"X-API-Key": API_KEY})
    assert ok.status_code == 200 and ok.json()["artifact"]


def test_admin_upload_runs_the_loader(client: TestClient, tmp_path: Path) -> None:
    headers = {"X-API-Key": API_KEY}
    files = {"file": ("shop.csv", TAXONOMY_CSV.encode(), "text/csv")}
    response = client.post("/v1/admin/load/taxonomy", headers=headers, files=files, data={"taxonomy": "shop"})
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 5
    bad = {"file": ("bad.csv", b"id,parent_id,name\n1,2,A\n2,1,B\n", "text/csv")}
    response = client.post("/v1/admin/load/taxonomy", headers=headers, files=bad, data={"taxonomy": "shop2"})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["line"] == 2
    assert response.json()["error"]["message"].startswith("bad.csv:2: ")
    stamp = {"file": ("events.csv", b"user_id,item_id,kind,timestamp\nu,p1,view,1e400\n", "text/csv")}
    response = client.post("/v1/admin/load/interactions", headers=headers, files=stamp)
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "events.csv:2: timestamp inf is not a finite number"
    products = {"file": ("p.csv", b"id,title,category_id\nnew-a,Brand new wooden train,1\n", "text/csv")}
    response = client.post(
        "/v1/admin/load/products", headers=headers, files=products, data={"taxonomy": "shop"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["cold_start"] == 1
    assert client.get("/v1/products/new-a/similar", params={"k": 2}).status_code == 200
    huge = {"file": ("big.csv", b"x" * 30_000, "text/csv")}
    assert client.post("/v1/admin/load/products", headers=headers, files=huge).status_code == 413


@pytest.mark.parametrize("q", ["NOT", "OR", "a AND", "TO", "&&", "\\"])
def test_lucene_words_are_searched_literally(client: TestClient, q: str) -> None:
    assert client.get("/v1/search", params={"q": q}).status_code == 200
    assert client.post("/v1/recommendations", json={"query": q, "k": 3}).status_code == 200


def test_non_finite_event_values_and_unknown_methods(client: TestClient) -> None:
    event = b'{"user_id": "u", "item_id": "p", "kind": "rating", "timestamp": 1, "value": Infinity}'
    response = client.post("/v1/events", content=event, headers={"content-type": "application/json"})
    assert response.status_code == 422
    trace = client.request("TRACE", "/v1/recommendations")
    assert trace.status_code == 405 and trace.headers["allow"] == "POST"


def test_oversized_json_body_is_413(client: TestClient) -> None:
    response = client.post(
        "/v1/recommendations",
        content=b'{"query": "' + b"a" * 10_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_metrics_are_prometheus_text(client: TestClient) -> None:
    client.post("/v1/recommendations", json={"query": "doll"})
    text = client.get("/metrics").text
    assert 'kgrec_http_requests_total{method="POST",route="/v1/recommendations",status="200"}' in text
    assert "kgrec_recommendation_stage_seconds_bucket" in text


def test_train_job_runs_in_the_background(client: TestClient) -> None:
    headers = {"X-API-Key": API_KEY}
    assert client.post("/v1/admin/train", headers=headers, params={"model": "Nope"}).status_code == 422
    job = client.post("/v1/admin/train", headers=headers, params={"dim": 8, "epochs": 5}).json()
    assert job["status"] in ("queued", "running")
    deadline = time.monotonic() + 300
    status = job
    while time.monotonic() < deadline and status["status"] in ("queued", "running"):
        time.sleep(1)
        status = client.get(f"/v1/admin/jobs/{job['id']}", headers=headers).json()
    assert status["status"] == "succeeded", status
    assert client.get("/ready").json()["artifact"] == status["result"]["artifact"]
    assert client.get("/v1/admin/jobs/nope", headers=headers).status_code == 404


def test_neo4j_down_is_503_then_recovers(client: TestClient, neo4j_server: LocalNeo4j) -> None:
    neo4j_server.stop()
    try:
        # Recommendations keep being served from the loaded projection and in-process indexes;
        # whatever reads the graph answers 503.
        assert client.post("/v1/recommendations", json={"query": "train"}).status_code == 200
        response = client.get("/v1/search", params={"q": "train"})
        assert response.status_code == 503
        assert response.headers["Retry-After"]
        assert response.json()["error"]["code"] == "graph_unavailable"
        assert "Traceback" not in response.text
        assert client.get("/ready").status_code == 503
        assert client.get("/health").status_code == 200
    finally:
        neo4j_server.start()
    assert client.post("/v1/recommendations", json={"query": "train"}).status_code == 200
    assert client.get("/ready").status_code == 200


SCHEMATHESIS_MIN_REQUESTS = 1_000


@pytest.fixture(scope="module")
def live_url(client: TestClient) -> Iterator[str]:
    """The same app over real HTTP, for schemathesis's own runner (all phases and checks)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(client.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _requests_served(url: str) -> float:
    metrics = httpx.get(f"{url}/metrics").text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("kgrec_http_requests_total{")
    )


def test_schemathesis_all_checks_pass(live_url: str, tmp_path: Path) -> None:
    """At least 1,000 generated requests over every operation, every schemathesis check.

    The server must answer what its OpenAPI schema says: documented statuses and bodies,
    schema-valid requests accepted, invalid ones rejected, 405 with Allow, auth enforced.
    """
    before = _requests_served(live_url)
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "st"),
            "--config-file",
            str(Path(__file__).with_name("schemathesis.toml")),
            "run",
            f"{live_url}/openapi.json",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "100",
            "--seed",
            "20261130",
            "--suppress-health-check",
            "all",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    served = _requests_served(live_url) - before
    assert result.returncode == 0, result.stdout[-30000:] + result.stderr[-2000:]
    assert served >= SCHEMATHESIS_MIN_REQUESTS


def test_page_and_browser_files_are_served(client: TestClient) -> None:
    root = client.get("/", follow_redirects=False)
    assert root.status_code == 307 and root.headers["location"] == "/ui/"
    page = client.get("/ui/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assets = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/ui/") for a in assets)  # nothing from a CDN
    assert client.get("/ui/app.js").headers["content-type"].startswith("text/javascript")
    grass = client.get("/ui/kgrec.grass")
    assert "node.Product" in grass.text and grass.headers["access-control-allow-origin"] == "*"
    assert client.get("/ui/guide.html").text.startswith("<article")
    missing = client.get("/ui/secrets.txt")
    assert missing.status_code == 404 and "secrets.txt" in missing.json()["error"]["message"]


def test_items_carry_their_category_trail(client: TestClient) -> None:
    body = client.post("/v1/recommendations", json={"query": "train", "k": 10}).json()
    placed = [item for item in body["items"] if item["category_id"] is not None]
    assert placed
    for item in body["items"]:
        trail = item["category_trail"]
        if item["category_id"] is None:
            assert trail == []
            continue
        assert trail[-1]["id"] == item["category_id"] and len(trail) >= 2
        assert all(step["name"] and step["path"].endswith(step["name"]) for step in trail)
        assert trail[0]["path"] == trail[0]["name"]  # the root
