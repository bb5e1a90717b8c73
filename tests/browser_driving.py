"""Drives the kgrec page and Neo4j Browser in Debian's headless Chromium (Selenium + chromedriver).

Used by the `browser` tests and, run as a module, to take the screenshots in docs/ against a
running demo: `python -m tests.browser_driving --page http://127.0.0.1:8000/ui/ --out docs`.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from kgrec.api.routes_ui import static_text

CHROMIUM = os.environ.get("KGREC_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("KGREC_CHROMEDRIVER", "/usr/bin/chromedriver")
T = TypeVar("T")
# Browser's editor prompt: "$", or "<database>$" once it knows which database it talks to.
EDITOR_PROMPT = re.compile(r"^\s*[\w.-]*\$\s*")


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).exists() or shutil.which(path)):
            return f"{path} not installed (apt-get install chromium chromium-driver)"
    return None


def chromium(width: int = 1400, height: int = 1000) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def wait_for(driver: WebDriver, check: Callable[[WebDriver], T], seconds: float = 30) -> T:
    result: T = WebDriverWait(driver, seconds, poll_frequency=0.2).until(check)
    return result


def column(driver: WebDriver, which: str) -> WebElement:
    return driver.find_element(By.ID, f"col-{which}")


def regions_covered(driver: WebDriver, which: str) -> int:
    """Read again where the column was re-rendered between finding the count and reading it
    (a CI rehearsal once failed there with a stale element)."""

    def count(d: WebDriver) -> str:
        return str(column(d, which).find_element(By.CSS_SELECTOR, ".regions-covered").text)

    waiting = WebDriverWait(
        driver, 10, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException,)
    )
    return int(waiting.until(count))


def wait_for_column(driver: WebDriver, which: str, diversity: float) -> None:
    """Until the column shows an answer for exactly this diversity and nothing is in flight."""

    def done(d: WebDriver) -> bool:
        col = column(d, which)
        answered = col.get_attribute("data-diversity")
        return (
            answered is not None
            and abs(float(answered) - diversity) < 1e-9
            and col.get_attribute("aria-busy") is None
            and bool(col.find_elements(By.CSS_SELECTOR, ".item"))
        )

    wait_for(driver, done)


def ask(driver: WebDriver, page: str, query: str, diversity: float) -> None:
    """Open the page, type the query, set the slider by keyboard and submit."""
    driver.get(page)
    box = wait_for(driver, lambda d: d.find_element(By.ID, "query"))
    box.clear()
    box.send_keys(query)
    set_slider(driver, 0.0, wait=False)
    box.send_keys(Keys.ENTER)
    wait_for_column(driver, "base", 0.0)
    wait_for_column(driver, "chosen", 0.0)
    if diversity:
        set_slider(driver, diversity)


def set_slider(driver: WebDriver, value: float, *, wait: bool = True) -> None:
    """Keyboard only, as a person without a mouse would: Home, then one step right per 0.05."""
    slider = driver.find_element(By.ID, "diversity")
    slider.send_keys(Keys.HOME)
    slider.send_keys(*([Keys.ARROW_RIGHT] * round(value / 0.05)))
    if wait:
        wait_for_column(driver, "chosen", round(value, 2))


def first_browser_link(driver: WebDriver, which: str = "chosen") -> tuple[str, list[str]]:
    """Opens the first item's explanation; returns its Browser link and the path's node labels."""
    item = column(driver, which).find_element(By.CSS_SELECTOR, ".item")
    details = item.find_element(By.CSS_SELECTOR, "details.explain")
    details.find_element(By.TAG_NAME, "summary").click()
    why = details.find_element(By.CSS_SELECTOR, ".why")
    labels = [
        chip.find_element(By.TAG_NAME, "small").text for chip in why.find_elements(By.CSS_SELECTOR, ".chip")
    ]
    href = why.find_element(By.CSS_SELECTOR, "a.browser-link").get_attribute("href")
    assert href is not None
    return href, labels


def editor_text(driver: WebDriver) -> str:
    """The query in Browser's editor as a person reads it: no prompt ('$' before Browser knows
    the database, 'neo4j$' once it does, which depends on timing), plain spaces."""
    text: Any = driver.execute_script(
        "return document.querySelector('[data-testid=activeEditor]').innerText;"
    )
    return " ".join(EDITOR_PROMPT.sub("", str(text).replace("\xa0", " ")).split())


def browser_login(driver: WebDriver, user: str, password: str) -> None:
    """Fill Browser's connect form (a cold link always opens it) and connect.

    On a loaded machine Browser's first Bolt handshake can be lost while it is still loading, with
    the form left filled in: one second click, then the frames' text as the failure message.
    """
    username = wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=username]"))
    username.send_keys(user)
    driver.find_element(By.CSS_SELECTOR, "[data-testid=password]").send_keys(password)
    for attempt in (1, 2):
        driver.find_element(By.CSS_SELECTOR, "[data-testid=connect]").click()
        try:
            wait_for(driver, connected, seconds=45)
            return
        except TimeoutException:
            if attempt == 2 or not driver.find_elements(By.CSS_SELECTOR, "[data-testid=connect]"):
                frames = [f.text for f in driver.find_elements(By.CSS_SELECTOR, "[data-testid=frame]")]
                raise AssertionError(f"Neo4j Browser did not connect; its frames say: {frames}") from None


NO_CONNECTION = "No connection found"


def connected(driver: WebDriver) -> bool:
    return "You are connected as user" in driver.find_element(By.TAG_NAME, "body").text


def apply_style(driver: WebDriver, grass: str) -> None:
    """Run `:style <GraSS>` in Browser's editor, as `kgrec browser style` tells a person to."""
    editor = driver.find_element(By.CSS_SELECTOR, "[data-testid=activeEditor] textarea")
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys(f":style {' '.join(grass.split())}")
    driver.find_element(By.CSS_SELECTOR, "[data-testid=editor-Run]").click()
    frames = (By.CSS_SELECTOR, "[data-testid=frame]")
    wait_for(driver, lambda d: any(":style" in f.text for f in d.find_elements(*frames)))


def run_editor(driver: WebDriver) -> list[str]:
    """Run what the editor holds; returns the node labels Browser's result overview lists.

    After a page load Browser reconnects by itself; on a loaded machine a query sent before that
    comes back "No connection found". Browser has cleared its editor by then, so the refused
    frame's own re-run button sends it again, every 15 s until it draws, for up to 120 s.
    """
    refused = len(frames_saying(driver, NO_CONNECTION))
    driver.find_element(By.CSS_SELECTOR, "[data-testid=editor-Run]").click()
    try:
        wait_for(driver, functools.partial(drawn_or_refused, refused=refused), seconds=30)
    except TimeoutException as exc:
        raise AssertionError(f"Browser drew no graph; its frames say: {frames_saying(driver, '')}") from exc
    deadline = time.monotonic() + 120
    while not driver.find_elements(By.CSS_SELECTOR, "g.node"):
        if time.monotonic() > deadline:
            raise AssertionError(f"Browser never reconnected; its frames say: {frames_saying(driver, '')}")
        time.sleep(1)
        rerun_refused_frames(driver)
        try:
            wait_for(driver, lambda d: bool(d.find_elements(By.CSS_SELECTOR, "g.node")), seconds=15)
        except TimeoutException:
            continue
    prefix = "property-details-overview-node-label-"
    shown = driver.find_elements(By.CSS_SELECTOR, f"[data-testid^={prefix}]")
    return [str(e.get_attribute("data-testid"))[len(prefix) :] for e in shown]


def rerun_refused_frames(driver: WebDriver) -> None:
    """Press the re-run button of each frame that says it had no connection (a script click:
    Browser shows the button on hover only)."""
    for frame in driver.find_elements(By.CSS_SELECTOR, "[data-testid=frame]"):
        if NO_CONNECTION in frame.text:
            for button in frame.find_elements(By.CSS_SELECTOR, "[data-testid=rerunFrameButton]"):
                driver.execute_script("arguments[0].click();", button)


def drawn_or_refused(driver: WebDriver, *, refused: int) -> bool:
    """Browser drew a graph, or one more frame than `refused` says it has no connection."""
    drawn = bool(driver.find_elements(By.CSS_SELECTOR, "g.node"))
    return drawn or len(frames_saying(driver, NO_CONNECTION)) > refused


def frames_saying(driver: WebDriver, text: str) -> list[str]:
    frames = driver.find_elements(By.CSS_SELECTOR, "[data-testid=frame]")
    return [f.text for f in frames if text in f.text]


def rendered_nodes(driver: WebDriver) -> int:
    return len(driver.find_elements(By.CSS_SELECTOR, "g.node"))


def errors_shown(driver: WebDriver) -> list[str]:
    return [
        e.text
        for e in driver.find_elements(By.CSS_SELECTOR, "[data-testid=frameContents]")
        if "Error" in e.text
    ]


def take_screenshots(page: str, query: str, password: str, out: Path) -> None:
    """The README's pictures: the page at diversity 0 and 0.8, and Browser showing a path."""
    out.mkdir(parents=True, exist_ok=True)
    driver = chromium(1400, 1500)
    try:
        ask(driver, page, query, 0.0)
        driver.save_screenshot(str(out / "ui-diversity-0.png"))
        set_slider(driver, 0.8)
        href, _ = first_browser_link(driver)
        driver.save_screenshot(str(out / "ui-diversity-0.8.png"))
        driver.set_window_size(1400, 900)
        driver.get(href)
        browser_login(driver, "neo4j", password)
        apply_style(driver, static_text("kgrec.grass"))
        driver.get(href)
        wait_for(driver, lambda d: "RETURN p LIMIT 1" in editor_text(d))
        run_editor(driver)
        driver.save_screenshot(str(out / "browser-path.png"))
    finally:
        driver.quit()
    phone = chromium(390, 1600)
    try:
        ask(phone, page, query, 0.8)
        phone.save_screenshot(str(out / "ui-phone.png"))
    finally:
        phone.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--page", default="http://127.0.0.1:8000/ui/")
    parser.add_argument("--query", default="wooden train set")
    parser.add_argument("--password-file", type=Path, default=Path("var/secrets/neo4j_password"))
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args()
    take_screenshots(args.page, args.query, args.password_file.read_text().strip(), args.out)


if __name__ == "__main__":
    main()
