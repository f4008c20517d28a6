"""Make the README's pictures of the page: each of the three demos at desktop (1280x800) and phone
(390x844) size, docs/page-{supervised,feedback,auto-scored}-{desktop,phone}.png, and a hidden-layer
network on xor, docs/page-network-desktop.png (the whole page: the network diagram is under the board).

    python docs/make_page_png.py

Records its own database in a temporary folder (the three demos on one data seed, and the network), serves
it with `nnreplay serve`, screenshots each session at its latest step in Chromium, and stores each picture
with a palette of at most 256 colours (each stays well under 150 KB).
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

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def record(db: str) -> dict[str, int]:
    """The sessions, and the seq each is at."""
    with EventLog(db) as log:
        service.new_session(log, name="supervised", learner="gradient", seed=11, lr=0.5)
        service.record(log, "supervised", "next", 12, source="web")
        service.new_session(log, name="auto-scored", learner="thompson", seed=11)
        service.record(log, "auto-scored", "next", 40, source="web")
        service.new_session(log, name="feedback", learner="thompson", seed=11)
        for button in ("meh", "bad", "good", "good", "great", "meh", "good", "great"):
            service.record(log, "feedback", button, source="web")
        service.new_session(log, name="network", learner="gradient", seed=5, data="xor", hidden=(6,), points=100,
                            test_share=0.2)
        service.record(log, "network", "next", 200, source="web")
    return {"supervised": 13, "auto-scored": 41, "feedback": 9, "network": 201}


def save(page, out: str, full: bool = False) -> None:
    from PIL import Image

    page.screenshot(path=out, full_page=full)
    Image.open(out).convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    print(out, os.path.getsize(out))


def main() -> None:
    from playwright.sync_api import expect, sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        db = os.path.join(folder, "page.db")
        seqs = record(db)
        server = Server(db)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
                for size, viewport in SIZES.items():
                    page = browser.new_page(viewport=viewport)
                    for name, seq in seqs.items():
                        if name == "network" and size == "phone":
                            continue
                        page.goto(f"{server.url}/sessions/{name}")
                        expect(page.locator("#r-seq")).to_have_text(str(seq))
                        expect(page.locator("#curve-text")).to_contain_text("Over steps")
                        save(page, os.path.join(ROOT, "docs", f"page-{name}-{size}.png"), full=name == "network")
                    page.close()
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
