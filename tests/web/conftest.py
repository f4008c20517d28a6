"""Fixtures for the server: a real `nnreplay serve` process on 127.0.0.1 (a free port), and a browser."""

import os
import re
import shutil
import subprocess
import sys
import threading

import httpx
import pytest

from store import EventLog

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM = "/usr/bin/chromium"


class Server:
    """`nnreplay --db PATH serve --port 0 [args]` in its own process; `url` once it listens."""

    def __init__(self, db: str, *args: str):
        env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.process = subprocess.Popen([sys.executable, "-c", "import cli; cli.main()", "--db", db, "serve",
                                         "--port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, env=env, cwd=ROOT)
        line = self.process.stdout.readline()
        found = re.search(r"at (http://\S+/)", line)
        if not found:
            self.process.kill()
            raise RuntimeError(f"the server did not start: {line!r} {self.process.stderr.read()!r}")
        self.url = found.group(1).rstrip("/")
        self.host = self.url.removeprefix("http://")
        self.stdout_rest: list[str] = []
        threading.Thread(target=lambda: self.stdout_rest.extend(self.process.stdout), daemon=True).start()

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def recorded(db_path):
    """A database with a gradient session "grad" (6 events) and a thompson session "th" (4 events)."""
    import service

    with EventLog(db_path) as log:
        service.new_session(log, name="grad", learner="gradient", seed=3)
        service.record(log, "grad", "next", 5)
        service.new_session(log, name="th", learner="thompson", seed=4)
        service.record(log, "th", "next", 3)
    return db_path


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
