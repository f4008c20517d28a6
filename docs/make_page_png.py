"""Make docs/page.png: the page in Chromium on an auto-scored thompson session, scrubbed to its head.

    python docs/make_page_png.py

Records its own database in a temporary folder (the three demos on one data seed), serves it with
`nnreplay serve`, and screenshots /sessions/auto-scored.
"""

import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests", "web"))

import service  # noqa: E402
from serving import Server  # noqa: E402
from store import EventLog  # noqa: E402


def record(db: str) -> None:
    with EventLog(db) as log:
        service.new_session(log, name="supervised", learner="gradient", seed=11, lr=0.5)
        service.record(log, "supervised", "next", 12, source="web")
        service.new_session(log, name="auto-scored", learner="thompson", seed=11)
        service.record(log, "auto-scored", "next", 40, source="web")
        service.new_session(log, name="feedback", learner="thompson", seed=11)
        for button in ("meh", "bad", "good", "good", "great", "meh", "good", "great"):
            service.record(log, "feedback", button, source="web")


def main() -> None:
    from playwright.sync_api import expect, sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        db = os.path.join(folder, "page.db")
        record(db)
        server = Server(db)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1100, "height": 700})
                page.goto(f"{server.url}/sessions/auto-scored")
                expect(page.locator("#r-step")).to_have_text("41")
                out = os.path.join(ROOT, "docs", "page.png")
                page.screenshot(path=out)
                browser.close()
        finally:
            server.stop()
    print(out)


if __name__ == "__main__":
    main()
