"""Helpers for the browser tests: the CLI's view of a session, and waiting for the page to show a step."""

import json
import subprocess
import sys

from playwright.sync_api import expect

from serving import ROOT
from store import EventLog


def rows(db_path: str, ref: str) -> list[dict]:
    with EventLog(db_path) as log:
        return [row.to_json() for row in log.rows(log.resolve(ref).id)]


def show(ref: str, db_path: str, *args: str) -> dict:
    """`nnreplay show REF --json [args]` in another process."""
    done = subprocess.run([sys.executable, "-c", "import cli; cli.main()", "--db", db_path, "show", ref, "--json",
                           *args], capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(done.stdout)


def open_session(page, server, ref: str) -> None:
    page.goto(f"{server.url}/sessions/{ref}")
    expect(page.locator("#r-seq")).not_to_have_text("-")


def step_is(page, seq: int, timeout: float = 5000) -> None:
    """The page shows the state after event `seq` (its step, seq - 1, beside it)."""
    # expect() polls without eval, which the page's Content-Security-Policy (rightly) forbids
    expect(page.locator("#r-seq")).to_have_text(str(seq), timeout=timeout)


def about(page) -> None:
    """Open the session's details section (seed, fingerprint, audit, downloads)."""
    summary = page.get_by_text("About this run")
    if page.locator("details.about").get_attribute("open") is None:
        summary.click()
