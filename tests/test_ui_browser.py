"""The page and Neo4j Browser as a person uses them: real Chromium, real API, real Neo4j."""

from __future__ import annotations

import html
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
import uvicorn
from neo4j import Driver
from pydantic import SecretStr

from kgrec.api.app import create_app
from kgrec.api.routes_ui import static_text
from kgrec.api.settings import Settings
from kgrec.graph.neo4j_launcher import LocalNeo4j
from kgrec.graph.neo4j_store import Neo4jGraphStore
from tests.conftest import TEST_PASSWORD
from tests.toys_catalogue import ENCODER, TrainedToys

pytest.importorskip("selenium")
# Selenium is a dev extra: without it the module skips above instead of failing to import.
from selenium.common.exceptions import InvalidSessionIdException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests import browser_driving as ui

pytestmark = [
    pytest.mark.browser,
    pytest.mark.neo4j,
    pytest.mark.slow,
    pytest.mark.skipif(ui.chromium_missing() is not None, reason=str(ui.chromium_missing())),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def page(
    neo4j_server: LocalNeo4j,
    neo4j_driver: Driver,
    trained_toys: TrainedToys,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """The API on a real port (Chromium cannot reach a TestClient), over a small toys catalogue
    with its regions on the graph (as `kgrec train` leaves them), for the guide's region slide."""
    store = Neo4jGraphStore(neo4j_driver)
    home = trained_toys.checkout(store, tmp_path_factory.mktemp("ui") / "home")
    settings = Settings(
        home=home,
        neo4j_uri=neo4j_server.bolt_uri,
        neo4j_password=SecretStr(TEST_PASSWORD),
        pseudonym_key=SecretStr("ui-test-key"),
        api_key=SecretStr("ui-test-admin"),
        browser_url=f"http://127.0.0.1:{neo4j_server.http_port}/browser/",
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, encoder=ENCODER), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API did not start")
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/ui/"
    server.should_exit = True
    thread.join(timeout=10)
    store.clear()


@pytest.fixture
def chromium() -> Iterator[WebDriver]:
    driver = ui.chromium()
    yield driver
    driver.quit()


def test_slider_spreads_the_list_over_more_regions(page: str, chromium: WebDriver) -> None:
    ui.ask(chromium, page, "train", 0.0)
    assert ui.regions_covered(chromium, "chosen") == ui.regions_covered(chromium, "base")
    ui.set_slider(chromium, 1.0)
    assert ui.regions_covered(chromium, "chosen") > ui.regions_covered(chromium, "base")
    badges = chromium.find_elements(By.CSS_SELECTOR, "#col-chosen .item .badge")
    assert all(b.text.strip() for b in badges)


def test_explanation_link_opens_the_path_in_neo4j_browser(page: str, chromium: WebDriver) -> None:
    ui.ask(chromium, page, "train", 0.8)
    href, labels = ui.first_browser_link(chromium)
    assert href.startswith(page.replace("/ui/", "").rsplit(":", 1)[0])
    chromium.get(href)
    ui.browser_login(chromium, "neo4j", TEST_PASSWORD)
    sent = unquote(href.split("&arg=", 1)[1])
    assert ui.editor_text(chromium) == " ".join(sent.split())
    assert sent.startswith("MATCH p = ") and sent.endswith("RETURN p LIMIT 1")
    shown = ui.run_editor(chromium)
    assert not ui.errors_shown(chromium)
    assert ui.rendered_nodes(chromium) == len(labels)
    assert set(labels) <= set(shown)


def test_category_filter_limits_both_lists(page: str, chromium: WebDriver) -> None:
    ui.ask(chromium, page, "train", 0.6)
    step = chromium.find_element(By.CSS_SELECTOR, "#col-base .item .trail button")
    name = step.text
    step.click()
    assert chromium.find_element(By.ID, "filter-name").text == name
    for which in ("base", "chosen"):
        ui.wait_for(
            chromium, lambda d, w=which: d.find_element(By.ID, f"col-{w}").get_attribute("data-category")
        )
        trails = chromium.find_elements(By.CSS_SELECTOR, f"#col-{which} .item .trail")
        assert trails and all(name in t.text for t in trails)


def test_page_fits_a_phone(page: str) -> None:
    driver = ui.chromium(390, 900)
    try:
        ui.ask(driver, page, "train", 0.6)
        wide = driver.execute_script(
            "return [...document.querySelectorAll('body *')]"
            ".filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)"
            ".map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
        )
        assert wide == []
        base = driver.find_element(By.ID, "col-base").rect
        chosen = driver.find_element(By.ID, "col-chosen").rect
        assert chosen["y"] > base["y"]
    finally:
        driver.quit()


def test_screenshots_can_be_taken(page: str, tmp_path: Path) -> None:
    """KGREC_SCREENSHOT_DIR=docs keeps them (the demo's are taken with `python -m tests.browser_driving`)."""
    out = Path(os.environ.get("KGREC_SCREENSHOT_DIR", tmp_path))
    try:
        ui.take_screenshots(page, "train", TEST_PASSWORD, out)
    except InvalidSessionIdException:
        # Chromium itself once closed its connection under a loaded test run (session 13's CI
        # rehearsals); a fresh browser gets one more go, a second crash fails the test.
        ui.take_screenshots(page, "train", TEST_PASSWORD, out)
    expected = {"browser-path.png", "ui-diversity-0.8.png", "ui-diversity-0.png", "ui-phone.png"}
    assert expected <= {p.name for p in out.glob("*.png")}
    assert all((out / name).stat().st_size > 10_000 for name in expected)


def test_guide_cypher_runs(page: str, neo4j_driver: Driver) -> None:
    """Every runnable block of the Browser guide, against the loaded catalogue."""
    guide = html.unescape(static_text("guide.html"))
    blocks = re.findall(r'<pre mode="cypher"[^>]*>(.*?)</pre>', guide, re.S)
    queries = [b for b in blocks if not b.startswith(":")]
    assert len(queries) >= 5
    for query in queries:
        records, _, _ = neo4j_driver.execute_query(query)
        assert records, query
