"""The page in a real browser: Debian's headless Chromium driven by Selenium through
/usr/bin/chromedriver (nothing downloaded at run time). The server runs in a thread on a
free loopback port over a small fake-embedder index. With SEARCHKIT_SCREENSHOTS=1 it refreshes
docs/screenshot.png and docs/screenshot-context.png (otherwise they go to a temporary folder,
so a test run leaves the checkout as it was)."""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest

from conftest import SPEECH_A, SPEECH_B
from fake_embedder import FakeEmbedder

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         "--lang=zh-CN"]


def _screenshot_dir() -> Path:
    if os.environ.get("SEARCHKIT_SCREENSHOTS") == "1":
        return ROOT / "docs"
    return Path(tempfile.mkdtemp(prefix="searchkit-screenshots-"))


def _missing() -> str | None:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        return "Debian chromium and chromium-driver are not installed (scripts/setup.sh installs them as root)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed"
    return None


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from searchkit.config import Settings
    from searchkit.indexer import build_index
    from searchkit.searcher import Searcher
    from searchkit.server.app import create_app
    from searchkit.server.run import listen, server_for

    base = tmp_path_factory.mktemp("browser")
    corpus = base / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(SPEECH_A, encoding="utf-8")
    (corpus / "b.txt").write_text(SPEECH_B, encoding="utf-8")
    for name in ("002_6c3e1b456d51acac.txt", "003_a4dd9689482457e2.txt"):
        shutil.copy(ROOT / "corpus" / name, corpus / name)
    # who gave the two long speeches and when (the real sidecar format): cards and the context view show it
    (corpus / "metadata.csv").write_text("file,speech,speaker,role,date\n"
                                         "002_6c3e1b456d51acac.txt,,王五,区委书记,2022-04-15\n"
                                         "003_a4dd9689482457e2.txt,,赵六,区长,2022-05\n", encoding="utf-8")
    settings = Settings(corpus_dir=corpus, index_dir=base / "index", model=FakeEmbedder.name)
    build_index(settings, embedder=FakeEmbedder())
    app = create_app(settings, searcher_factory=lambda s: Searcher(s, embedder=FakeEmbedder()), embedder=FakeEmbedder())
    sock = listen("127.0.0.1", 0)
    uvicorn_server = server_for(app, sock)
    thread = threading.Thread(target=uvicorn_server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uvicorn_server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    uvicorn_server.should_exit = True
    thread.join(10)
    app.state.engine.close()
    sock.close()


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="searchkit-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS + [f"--user-data-dir={profile}", "--window-size=1280,800"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _wait(driver, condition, timeout=20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def test_search_switch_mode_and_open_a_result_in_context(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.set_window_size(1280, 800)
    browser.get(server + "/")
    _wait(browser, lambda d: "个文件" in d.find_element(By.ID, "status-text").text)  # status panel filled
    box = browser.find_element(By.ID, "q")
    box.send_keys("招商引资 措施", Keys.ENTER)
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#results .result"))
    marks = {m.text for m in browser.find_elements(By.CSS_SELECTOR, "#results mark")}
    assert marks and marks <= {"招商引资", "措施"}, marks
    filters = browser.find_element(By.ID, "filters")
    if filters.is_displayed():  # speech metadata indexed: apply the first filter offered
        from selenium.webdriver.support.ui import Select

        Select(filters.find_element(By.TAG_NAME, "select")).select_by_index(1)
    else:  # no facets yet: the mode switch is the control to apply
        browser.find_element(By.CSS_SELECTOR, "input[name=mode][value=keyword]").click()
        _wait(browser, lambda d: "关键词" in d.find_element(By.ID, "search-info").text)
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#results mark"))
    browser.save_screenshot(str(_screenshot_dir() / "screenshot.png"))
    if filters.is_displayed():  # back to all speeches, to open one with headings
        from selenium.webdriver.support.ui import Select

        Select(filters.find_element(By.TAG_NAME, "select")).select_by_index(0)

    def with_headings(d):
        from selenium.common.exceptions import StaleElementReferenceException

        try:  # the list is re-rendered when the new results arrive: look again
            return [r for r in d.find_elements(By.CSS_SELECTOR, "#results .result")
                    if r.find_element(By.CLASS_NAME, "heading").text != "（开头）"]
        except StaleElementReferenceException:
            return []

    # open a passage of a long speech (one with headings: its outline is shown)
    result = _wait(browser, with_headings)[0]
    first = result.find_element(By.CSS_SELECTOR, "h3 button")
    title = first.text
    # the card says who spoke when (from the hit's speech object) and where in the speech
    who = result.find_element(By.CSS_SELECTOR, "h3 + .meta").text
    heading = result.find_element(By.CLASS_NAME, "heading").text
    assert who in ("王五（区委书记） · 2022-04-15", "赵六（区长） · 2022-05"), who
    first.click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#context-passages section.current"))
    assert browser.find_element(By.ID, "context").is_displayed()
    assert browser.find_element(By.ID, "context-title").text == title
    assert browser.find_element(By.ID, "context-who").text == who
    assert browser.find_element(By.ID, "context-heading").text == heading
    current = browser.find_element(By.CSS_SELECTOR, "#context-passages section.current")
    assert current.find_elements(By.TAG_NAME, "mark")
    assert browser.find_elements(By.CSS_SELECTOR, "#context-outline button")
    link = browser.find_element(By.CSS_SELECTOR, "#context-source a")
    assert "/api/file?source=" in link.get_attribute("href")
    browser.save_screenshot(str(_screenshot_dir() / "screenshot-context.png"))
    browser.find_element(By.ID, "context-close").click()
    assert not browser.find_element(By.ID, "context").is_displayed()


def test_draft_review_and_a_narrow_window(server, browser):
    from selenium.webdriver.common.by import By

    browser.set_window_size(420, 800)
    browser.get(server + "/")
    browser.find_element(By.ID, "tab-similar").click()
    browser.find_element(By.ID, "draft").send_keys("要坚持以商招商、产业链招商。\n\n农民工的工资要按时发放，不能拖欠。")
    browser.find_element(By.CSS_SELECTOR, "#similar-form button[type=submit]").click()
    _wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#review .pair")) == 2)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#review .pair:first-child .match")) == 3
    overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a 420px window"


def test_update_button_shows_progress_and_finishes(server, browser):
    from selenium.webdriver.common.by import By

    browser.set_window_size(1280, 800)
    browser.get(server + "/")
    _wait(browser, lambda d: "个文件" in d.find_element(By.ID, "status-text").text)
    browser.find_element(By.ID, "update").click()
    _wait(browser, lambda d: "索引已是最新" in d.find_element(By.ID, "update-text").text
          or "已更新" in d.find_element(By.ID, "update-text").text)
