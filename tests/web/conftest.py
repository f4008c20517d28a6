"""Fixtures for the server: a real `nnreplay serve` process on 127.0.0.1 (a free port), and a browser."""

import os
import shutil

import pytest

from serving import CHROMIUM, Server
from store import EventLog

def record_two(db_path: str) -> str:
    import service

    with EventLog(db_path) as log:
        service.new_session(log, name="grad", learner="gradient", seed=3)
        service.record(log, "grad", "next", 5)
        service.new_session(log, name="th", learner="thompson", seed=4)
        service.record(log, "th", "next", 3)
    return db_path


@pytest.fixture
def recorded(db_path):
    """A database with a gradient session "grad" (6 events) and a thompson session "th" (4 events)."""
    return record_two(db_path)


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One server per test module on its own copy of `recorded`, for tests that write nothing:
    (server, database path)."""
    path = record_two(str(tmp_path_factory.mktemp("shared") / "log.db"))
    running = Server(path)
    yield running, path
    running.stop()


@pytest.fixture
def server(recorded):
    running = Server(recorded)
    yield running
    running.stop()


@pytest.fixture
def read_only_server(recorded):
    running = Server(recorded, "--read-only")
    yield running
    running.stop()


@pytest.fixture
def client(server):
    with server.client() as http:
        yield http


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright; skipped where it is missing, except in CI."""
    if not os.path.exists(CHROMIUM) or shutil.which(CHROMIUM) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing, and CI=true requires the browser tests")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server):
    """A page of a fresh browser context on `server`; the test fails if a script error happened on it."""
    context = browser.new_context(viewport={"width": 1100, "height": 820})
    opened = context.new_page()
    errors = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == []
