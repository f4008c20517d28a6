"""The page in a real browser (Debian's Chromium through Playwright) against a real server process."""

import subprocess
import sys

from playwright.sync_api import expect

from browsing import about, open_session, rows, show, step_is
from serving import ROOT

NAMES = ("Next iteration", "bad", "meh", "good", "great")


def test_ten_clicks_on_next_iteration_are_ten_web_events(page, server, recorded):
    """Ten clicks on the button named "Next iteration" record ten `iterated` events with source web."""
    open_session(page, server, "grad")
    button = page.get_by_role("button", name="Next iteration", exact=True)
    for _ in range(10):
        button.click()
    step_is(page, 16)
    new = rows(recorded, "grad")[6:]
    assert [(e["type"], e["payload"]["source"]) for e in new] == [("iterated", "web")] * 10


def test_the_four_buttons_rate_a_thompson_session_in_order(page, server, recorded):
    """bad, meh, good, great (by accessible name) are recorded as those buttons, in the order pressed;
    keys 1-4 and n press too."""
    open_session(page, server, "th")
    for name in ("bad", "meh", "good", "great"):
        page.get_by_role("button", name=name, exact=True).click()
    step_is(page, 8)
    page.keyboard.press("4")
    page.keyboard.press("n")
    step_is(page, 10)
    new = rows(recorded, "th")[4:]
    assert [e["payload"].get("button") for e in new] == ["bad", "meh", "good", "great", "great", None]
    assert all(e["payload"]["source"] == "web" for e in new)


def test_scrubbing_to_step_3_shows_the_numbers_of_show_at_3(page, server, recorded):
    """The labelled slider moved to 3 (keyboard) shows step, loss, accuracy and score as `show --at 3`."""
    open_session(page, server, "th")
    slider = page.get_by_role("slider", name="Step")
    slider.focus()
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    step_is(page, 3)
    expected = show("th", recorded, "--at", "3")
    readouts = {key: page.locator(f"#r-{key}").text_content() for key in ("loss", "accuracy", "score")}
    assert readouts == {"loss": f"{expected['loss']:.4f}", "accuracy": f"{expected['accuracy']:.3f}",
                        "score": f"{expected['score']:.4f}"}
    assert page.locator("#head-hash").text_content() == show("th", recorded)["head_hash"]


def test_a_pixel_inside_a_red_points_fill_is_red(page, server, recorded):
    """The centre of a point whose true label is red is painted the GIFs' red on the canvas."""
    open_session(page, server, "grad")
    points = show("grad", recorded)["points"]

    def room(k):  # distance to the nearest other point: pick one nothing overlaps
        x, y, _ = points[k]
        return min((x - a) ** 2 + (y - b) ** 2 for j, (a, b, _) in enumerate(points) if j != k)

    x, y, _ = points[max((k for k, p in enumerate(points) if p[2] == 1), key=room)]
    pixel = page.evaluate("""([x, y]) => {
        const canvas = document.getElementById('board'), size = canvas.width;
        const margin = Math.round(size * 0.03), span = size - 2 * margin;
        const px = Math.round(margin + (x + 1) / 2 * span), py = Math.round(margin + (1 - y) / 2 * span);
        return Array.from(canvas.getContext('2d').getImageData(px, py, 1, 1).data);
    }""", [x, y])
    assert pixel[:3] == [214, 39, 40]


def test_two_browsers_pressing_at_once_lose_nothing(browser, server, recorded):
    """Two browser contexts clicking Next on one session, interleaved: every click is one event, no gap."""
    pages = []
    for _ in range(2):
        context = browser.new_context()
        pages.append(context.new_page())
        open_session(pages[-1], server, "grad")
    buttons = [p.get_by_role("button", name="Next iteration", exact=True) for p in pages]
    for _ in range(6):
        for button in buttons:
            button.click()
    for p in pages:
        step_is(p, 18)
    events = rows(recorded, "grad")
    assert [e["seq"] for e in events] == list(range(1, 19))
    assert sum(e["payload"].get("source") == "web" for e in events) == 12
    for p in pages:
        p.context.close()


def test_a_terminal_press_appears_without_a_reload(page, server, recorded):
    """`nnreplay next` in another process shows on the open page (step and numbers) without a reload."""
    open_session(page, server, "th")
    page.evaluate("window.__sameDocument = true")
    subprocess.run([sys.executable, "-c", "import cli; cli.main()", "--db", recorded, "next", "th", "-n", "2"],
                   check=True, cwd=ROOT, capture_output=True)
    step_is(page, 6, timeout=3000)
    assert page.evaluate("window.__sameDocument") is True
    assert page.locator("#r-accuracy").text_content() == f"{show('th', recorded)['accuracy']:.3f}"


def test_pressing_in_the_past_offers_a_fork_and_presses_there(page, server, recorded):
    """Scrubbed back to step 2, a press offers to fork; accepting makes a fork of 1..2 plus the press,
    opens it at its own address, and leaves the original session alone."""
    open_session(page, server, "th")
    page.get_by_role("slider", name="Step").fill("2")
    step_is(page, 2)
    page.get_by_role("button", name="good", exact=True).click()
    page.get_by_role("button", name="Fork here and press").click()
    page.wait_for_url(lambda url: "/sessions/" in url and not url.endswith("/th"))
    step_is(page, 3)
    fork_id = page.url.rsplit("/", 1)[1]
    forked = rows(recorded, fork_id)
    assert len(forked) == 3 and forked[-1]["payload"]["button"] == "good"
    assert len(rows(recorded, "th")) == 4


def test_every_control_has_its_name_and_the_addresses_open_their_views(page, server):
    """The five press buttons and the slider have exactly their accessible names; /compare shows two panels."""
    open_session(page, server, "th")
    for name in NAMES:
        assert page.get_by_role("button", name=name, exact=True).count() == 1
    assert page.get_by_role("slider", name="Step").count() == 1
    page.goto(f"{server.url}/compare?s=th&s=grad")
    expect(page.locator("#panels canvas")).to_have_count(2)
    expect(page.locator("#panels figcaption").first).to_contain_text("step 3 (seq 4)")
    assert page.get_by_role("slider", name="Step").count() == 1


def test_a_new_session_from_the_form_opens_at_its_own_address(page, server, recorded):
    """New session, the interactive-feedback preset, a seed and a name: the session exists with those
    settings (and the defaults of settings the form builds from the server), and the page shows it."""
    page.goto(server.url + "/")
    page.get_by_role("button", name="New session").click()
    page.get_by_role("button", name="Interactive feedback", exact=True).click()
    page.get_by_label("Seed").fill("5")
    page.get_by_label("Name").fill("made-in-page")
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.locator("#title")).to_have_text("made-in-page")
    made = show("made-in-page", recorded)
    assert made["learner"] == "thompson" and made["settings"]["seed"] == 5 and made["settings"]["discount"] == 0.9
    assert page.url.endswith("/sessions/" + made["session_id"] + "?demo=feedback")
    expect(page.locator("#demo-line")).to_contain_text("Interactive-feedback demo")


def test_thompson_readouts_show_the_arms_the_action_and_its_reward(page, server, recorded):
    """A thompson session shows six arms with mean and band, and the last action with the reward it credited."""
    open_session(page, server, "th")
    page.get_by_role("button", name="great", exact=True).click()
    step_is(page, 5)
    last = rows(recorded, "th")[-1]["payload"]
    expect(page.locator("#posteriors tbody tr")).to_have_count(6)
    up = "up" if last["action"].endswith("+") else "down"
    expect(page.locator("#r-action")).to_contain_text(f"the learner nudged {last['action'][:-1]} {up}")
    expect(page.locator("#r-action")).to_contain_text(f"You said great, so the last nudge was credited {last['reward']:.2f}")
    expect(page.locator("#r-score")).to_have_text(f"{show('th', recorded)['score']:.4f}")


def test_keys_scrub_play_runs_to_the_head_and_audit_and_export_work(page, server, recorded, tmp_path):
    """Arrow keys scrub from anywhere on the page, Play animates back to the head, Audit shows the verdict,
    and the export download is the CLI's export."""
    open_session(page, server, "grad")
    page.locator("#title").click()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    step_is(page, 4)
    page.keyboard.press("Home")
    step_is(page, 1)
    page.get_by_role("button", name="Play").click()
    step_is(page, 6)
    expect(page.get_by_role("button", name="Play")).to_be_visible()  # "Pause" while it plays
    about(page)
    page.get_by_role("button", name="Audit").click()
    expect(page.locator("#audit-verdict")).to_have_text("audit: every check holds (6 events)")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export (JSON Lines)").click()
    saved = tmp_path / "page.jsonl"
    download.value.save_as(saved)
    exported = subprocess.run([sys.executable, "-c", "import cli; cli.main()", "--db", recorded, "export", "grad"],
                              capture_output=True, cwd=ROOT, check=True).stdout
    assert saved.read_bytes() == exported


def test_the_sessions_list_follows_presses_made_elsewhere(page, server, recorded):
    """The session picker's event counts follow a terminal's presses, without a reload."""
    open_session(page, server, "grad")
    subprocess.run([sys.executable, "-c", "import cli; cli.main()", "--db", recorded, "next", "th", "-n", "3"],
                   check=True, cwd=ROOT, capture_output=True)
    expect(page.locator("#session-picker")).to_contain_text("th · thompson · 7 events", timeout=3000)


def test_the_page_loads_nothing_from_elsewhere(client):
    """No file of the page names a remote address: it works without internet."""
    for name in ("", "static/app.js", "static/common.js", "static/session.js", "static/compare.js",
                 "static/draw.js", "static/form.js", "static/inside.js", "static/readouts.js", "static/style.css"):
        text = client.get("/" + name).text
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, name
