"""Real-browser fixtures: the system Chromium (no `playwright install` here), a phone viewport,
and the app served from the test process on 127.0.0.1 (a secure context)."""
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run scripts/test.sh, which installs it")
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--disable-gpu", "--no-sandbox", "--disable-background-networking",
                     "--disable-component-update", "--no-first-run"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 360, "height": 780}, "device_scale_factor": 2,
            "is_mobile": True, "has_touch": True, "locale": "zh-CN", "service_workers": "allow"}


class _Counted:
    """The app, counting the requests it is serving (a page closed mid-sync leaves one going)."""

    def __init__(self, app):
        self.app, self.busy, self.lock = app, 0, threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            self.busy += 1
        try:
            body = self.app(environ, start_response)
            try:
                return list(body)  # served whole inside the count
            finally:
                if hasattr(body, "close"):
                    body.close()  # as a WSGI server must (files served are closed)
        finally:
            with self.lock:
                self.busy -= 1

    def wait_idle(self, quiet=0.3, timeout=15.0):
        end, idle_since = time.monotonic() + timeout, None
        while time.monotonic() < end:
            if self.busy:
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= quiet:
                return
            time.sleep(0.05)


_counted = None


@pytest.fixture(scope="session")
def live_server(app):
    global _counted
    _counted = _Counted(app)
    server = make_server("127.0.0.1", 0, _counted, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(autouse=True)
def _server_quiet():
    """After a browser test (its pages closed), wait for the requests they left going: a sync that lands
    while the tables are wiped for the next test would break the wipe."""
    yield
    if _counted is not None:
        _counted.wait_idle()


@pytest.fixture
def shot():
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str):
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    return take


@pytest.fixture
def demo(ctx, app):
    """The demo county (300 enterprises) without its plan: each test draws its own."""
    from flask import g

    from webapp.demo.seed import seed

    g.audit_actor = "seed-demo"
    seed(app.config["CHECKLIST_FOLDER"], n_enterprises=300)


def sign_in(page, base, username):
    from playwright.sync_api import expect

    from webapp.demo.seed import DEMO_PASSWORD

    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_contain_text("欢迎")


def until(page, script: str, timeout: float = 20.0):
    """Poll ``script`` (an async function) in the page until it returns true. page.wait_for_function does
    not wait for a returned Promise: a Promise is truthy at once, so it would wait for nothing."""
    end = time.monotonic() + timeout
    while not page.evaluate(script):
        assert time.monotonic() < end, f"never true: {script}"
        page.wait_for_timeout(100)


def draw(page, selector: str):
    """A signature drawn with the finger on the pad at ``selector``."""
    pad = page.locator(selector)
    pad.scroll_into_view_if_needed()
    # A person draws on a pad that has stopped moving: wait until the layout above it has settled (a card
    # above may still be growing after the last tap), or the strokes land beside the pad.
    box, deadline = pad.bounding_box(), time.monotonic() + 5
    while time.monotonic() < deadline:
        page.wait_for_timeout(100)
        pad.scroll_into_view_if_needed()
        again = pad.bounding_box()
        if again == box:
            break
        box = again
    page.mouse.move(box["x"] + 20, box["y"] + 60)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 20, box["y"] + 60 + (-1) ** step * 25)
    page.mouse.up()


def phone_on_task(browser, context_args, base, username, task, background_sync=True):
    """A second phone (its own browser storage), signed in to the app and on the task's page."""
    from playwright.sync_api import expect

    from tests.factories import PASSWORD
    page = browser.new_context(**context_args).new_page()
    if not background_sync:
        page.add_init_script("delete window.SyncManager")
    page.goto(f"{base}/app/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("ul.tasks")).to_contain_text(task.enterprise["name"])
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.get_by_role("link", name=task.enterprise["name"]).click()
    expect(page.locator("article.question").first).to_be_visible()
    return page
