"""Make the README's pictures of a class: the join page, a student's page and the teacher's overview with 30
students who pressed different amounts, each at desktop (1280x800) and phone (390x844) size:
docs/class-join.png, docs/class-student.png, docs/class-overview.png (desktop) and their -phone twins.

    python docs/make_class_screenshots.py

Everything goes through the real thing: `nnreplay serve --class` on a database in a temporary folder, 30
students joining through `POST /api/join` (each with its own cookie) and pressing through the API, the
teacher's link opened in Chromium. Each picture is stored with a palette of at most 256 colours.
"""

import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests", "web"))

from serving import Server  # noqa: E402

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
SUFFIX = {"desktop": "", "phone": "-phone"}
NAMES = ["Amara", "Ben", "Chloé", "Dmitri", "Esi", "Farah", "Gustavo", "Hana", "Ivan", "Jia Hui", "Kofi", "Lena",
         "Mateo", "Nia", "Oskar", "Priya", "Quinn", "Rosa", "Sami", "Tomás", "Uma", "Viktor", "Wen", "Ximena",
         "Yusuf", "Zoë", "Aleksandra Wiśniewska-Kowalczyk", "Bao", "Cyrus", "Dalia"]


def save(page, out: str, full: bool = False) -> None:
    from PIL import Image

    page.screenshot(path=out, full_page=full)
    Image.open(out).convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    print(out, os.path.getsize(out))


def class_server(db: str) -> Server:
    """A class served on `db` (the server reads its join code and teacher's link off `serve`'s lines)."""
    return Server(db, "--class", "Physics 3B", "--lesson", "supervised", "--lr", "0.15", "--points", "40")


def fill(server: Server, code: str) -> str:
    """30 students join and press 0 to 29 Next each; the id of the one who pressed most."""
    most = None
    for k, name in enumerate(NAMES):
        with server.client() as http:
            joined = http.post("/api/join", json={"code": code, "name": name})
            joined.raise_for_status()
            presses = (k * 7) % 30
            if presses:
                http.post(f"/api/sessions/{joined.json()['session']}/presses",
                          json={"press": "next", "count": presses}).raise_for_status()
            if presses == 29:
                most = joined.json()["session"]
    return most


def main() -> None:
    from playwright.sync_api import expect, sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        server = class_server(os.path.join(folder, "class.db"))
        code, teacher = server.code, server.teacher_link
        try:
            fill(server, code)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
                for size, viewport in SIZES.items():   # the overview first: 30 boards, before anyone else joins
                    context = browser.new_context(viewport=viewport)
                    page = context.new_page()
                    page.goto(teacher)
                    expect(page.locator("#boards .card canvas")).to_have_count(len(NAMES))
                    expect(page.locator("#boards .card[data-seq]")).to_have_count(len(NAMES))   # every board drawn
                    page.get_by_role("button", name="Progress", exact=True).click()
                    save(page, os.path.join(ROOT, "docs", f"class-overview{SUFFIX[size]}.png"))
                    context.close()
                for size, viewport in SIZES.items():
                    context = browser.new_context(viewport=viewport)
                    page = context.new_page()
                    page.goto(server.url + "/join")
                    page.get_by_label("Join code").fill(code.lower().replace("-", " "))
                    page.get_by_label("Your name").fill("Farid" if size == "desktop" else "Gita")
                    save(page, os.path.join(ROOT, "docs", f"class-join{SUFFIX[size]}.png"))
                    page.get_by_role("button", name="Join", exact=True).click()
                    expect(page.locator("#r-seq")).to_have_text("1")
                    next_button = page.get_by_role("button", name="Next iteration", exact=True)
                    for seq in range(2, 14):
                        next_button.click()
                        expect(page.locator("#r-seq")).to_have_text(str(seq))
                    page.evaluate("window.scrollTo(0, 0)")   # the banner and the board, not where the button is
                    save(page, os.path.join(ROOT, "docs", f"class-student{SUFFIX[size]}.png"))
                    context.close()
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
