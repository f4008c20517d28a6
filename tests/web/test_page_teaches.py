"""The page as a student, a teacher and a screen reader meet it (issue 16): a layout that holds at every
width, no serious accessibility violation (axe-core), the three demos as three experiences, Train, the
curve and the network following the scrubber, one step vocabulary with `frame` and `show`, fork names."""

import os
import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from browsing import open_session, rows, show, step_is
from serving import ROOT, Server
from store import EventLog

AXE = os.path.join(os.path.dirname(__file__), "vendor", "axe.min.js")
DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}


def record_lesson(db_path: str) -> str:
    """grad (gradient, 12 presses), feedback (thompson by buttons), auto (thompson by Next), net (2-8-1 on
    xor with held-out points)."""
    import service

    with EventLog(db_path) as log:
        service.new_session(log, name="grad", learner="gradient", seed=3)
        service.record(log, "grad", "next", 12)
        service.new_session(log, name="feedback", learner="thompson", seed=4)
        for button in ("meh", "good", "great"):
            service.record(log, "feedback", button, 1)
        service.new_session(log, name="auto", learner="thompson", seed=4)
        service.record(log, "auto", "next", 20)
        service.new_session(log, name="net", learner="gradient", seed=5, data="xor", hidden=(8,), test_share=0.2,
                            points=60)
        service.record(log, "net", "next", 30)
    return db_path


@pytest.fixture(scope="module")
def lesson(tmp_path_factory, browser):
    """One server for the module on a recorded lesson: (server, database path)."""
    path = record_lesson(str(tmp_path_factory.mktemp("lesson") / "log.db"))
    running = Server(path)
    yield running, path
    running.stop()


@pytest.fixture
def at(browser, lesson):
    """A factory of pages at a viewport size on the lesson's server; each fails its test on a script error."""
    made = []

    def open_page(viewport=DESKTOP, bypass_csp=False):
        context = browser.new_context(viewport=viewport, bypass_csp=bypass_csp)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        made.append(page)
        return page

    yield open_page
    for page in made:
        errors = page.errors
        page.context.close()
        assert errors == []


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def inside_viewport(page, selector: str) -> bool:
    box, size = page.locator(selector).bounding_box(), page.viewport_size
    return box is not None and box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= size["width"] \
        and box["y"] + box["height"] <= size["height"]


@pytest.mark.parametrize("width", [360, 390, 768])
def test_on_a_phone_the_board_is_square_and_nothing_overflows(at, lesson, width):
    """At 360 and 390 px (and a tablet's 768) every view keeps to the window, the board and the compare panels are squares,
    and the compare chart's text is drawn at least 11 px high (a canvas as wide as it is shown)."""
    server, _ = lesson
    page = at({"width": width, "height": 800})
    page.goto(server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("nnreplay")
    assert fits(page)
    for ref in ("grad", "feedback", "auto", "net"):
        open_session(page, server, ref)
        box = page.locator("#board").bounding_box()
        assert abs(box["width"] - box["height"]) <= 1 and box["width"] <= width
        assert fits(page), ref
    page.goto(f"{server.url}/compare?s=grad&s=auto&s=net")
    expect(page.locator("#panels canvas")).to_have_count(3)
    panels = [page.locator("#panels canvas").nth(k).bounding_box() for k in range(3)]
    assert all(abs(b["width"] - b["height"]) <= 1 for b in panels)
    if width < 400:
        assert panels[1]["y"] > panels[0]["y"] + panels[0]["height"]  # stacked, one under the other
    assert fits(page) and inside_viewport(page, "#compare-add-go")
    # the chart's buffer is as wide as it is shown, so that its 12 px text is 12 CSS px
    assert page.locator("#chart").evaluate("c => c.width === Math.round(c.clientWidth * devicePixelRatio)")


def test_at_1280x800_next_and_the_readouts_stay_in_view_with_the_fork_offer_open(at, lesson):
    """Scrubbed back and pressed: the fork offer opens beside the board, and Next, its buttons and every
    readout are still inside the window, as is the board's title."""
    server, _ = lesson
    page = at()
    open_session(page, server, "feedback")
    page.get_by_role("slider", name="Step").fill("2")
    step_is(page, 2)
    page.get_by_role("button", name="good", exact=True).click()
    expect(page.get_by_role("alertdialog")).to_be_visible()
    for selector in ("#next", "#train", "#buttons", "#fork-here", "#title", ".readouts", "#r-score"):
        assert inside_viewport(page, selector), selector
    # a long error (a refusal naming a 200-character session, say) wraps in its column, widening nothing
    page.evaluate("document.getElementById('press-error').textContent = 'x'.repeat(400) + ' refused'")
    for selector in ("#next", "#board", ".readouts", "#r-score", "#press-error"):
        assert inside_viewport(page, selector), selector
    page.keyboard.press("Escape")


def axe_problems(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each."""
    page.add_script_tag(path=AXE)
    found = page.evaluate("""async () => {
        for (const d of document.querySelectorAll('details')) d.open = true;   // check what they hold too
        const result = await axe.run(document, { resultTypes: ['violations'] });
        return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
            .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
    }""")
    return found


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_finds_no_serious_violation_on_any_view(at, lesson, viewport):
    """Home, each demo, a hidden-layer session, compare and the fork offer, with the new-session form open
    on home: no serious or critical axe-core violation (contrast, names, one h1, ...)."""
    server, _ = lesson
    page = at(viewport, bypass_csp=True)  # axe is injected as a script; the page's own CSP forbids that
    problems = {}
    page.goto(server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("nnreplay")
    page.get_by_role("button", name="New session").click()
    expect(page.get_by_role("radio", name="xor", exact=True)).to_be_visible()
    problems["home"] = axe_problems(page)
    for ref in ("grad", "feedback", "auto", "net"):
        open_session(page, server, ref)
        problems[ref] = axe_problems(page)
    page.get_by_role("slider", name="Step").fill("3")
    step_is(page, 3)
    page.get_by_role("button", name="Next iteration", exact=True).click()
    expect(page.get_by_role("alertdialog")).to_be_visible()
    problems["fork offer"] = axe_problems(page)
    page.goto(f"{server.url}/compare?s=grad&s=auto&s=feedback&s=net")
    expect(page.locator("#panels figcaption")).to_have_count(4)
    problems["compare"] = axe_problems(page)
    assert {view: found for view, found in problems.items() if found} == {}


def test_every_view_has_one_h1_and_a_malformed_address_says_not_found(at, lesson):
    """Home, a session and compare each have exactly one visible h1; /sessions/%E0%A4%A (not UTF-8), an
    empty reference and a path below a session open the page's own list with a not-found message instead
    of a blank page or the server's JSON."""
    server, _ = lesson
    page = at()
    for path in ("/", "/sessions/grad", "/compare?s=grad&s=auto"):
        page.goto(server.url + path)
        expect(page.locator("h1:visible")).to_have_count(1)
    for path in ("/sessions/%E0%A4%A", "/sessions/", "/sessions/a/b%2"):
        page.goto(server.url + path)
        expect(page.get_by_role("status").filter(has_text="not found")).to_contain_text("not found")
        expect(page.get_by_role("heading", level=1)).to_have_text("nnreplay")


def test_lists_act_on_a_confirm_and_shift_arrow_moves_ten(at, lesson):
    """Arrowing through the session picker and the compare list navigates nowhere (Open and Add do);
    Shift+ArrowLeft on the focused slider moves ten steps back."""
    server, _ = lesson
    page = at()
    open_session(page, server, "auto")
    picker = page.get_by_role("combobox", name="Session")
    picker.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.url.endswith("/sessions/auto")
    page.get_by_role("slider", name="Step").focus()
    page.keyboard.press("Shift+ArrowLeft")
    step_is(page, 11)
    page.goto(f"{server.url}/compare?s=grad")
    expect(page.locator("#panels canvas")).to_have_count(1)
    page.get_by_role("combobox", name="Add a session").focus()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#panels canvas")).to_have_count(1)
    assert page.url.endswith("/compare?s=grad")
    page.keyboard.press("Enter")
    expect(page.locator("#panels canvas")).to_have_count(2)


def test_the_diagram_and_the_curve_follow_the_scrubber(at, lesson):
    """On the 2-8-1 network scrubbed to seq 4: the diagram's text gives `show --at 4`'s weights, the curve's
    text its loss and accuracy at step 3; a click at the curve's left end goes to step 0."""
    server, db = lesson
    page = at()
    open_session(page, server, "net")
    expect(page.locator("#network-text")).to_contain_text("At step 30")
    page.get_by_role("slider", name="Step").fill("4")
    step_is(page, 4)
    shown = show("net", db, "--at", "4")
    first = "  ".join(("+" if v >= 0 else "") + f"{v:.2f}" for v in shown["params"]["W1"][0])
    expect(page.locator("#network-text")).to_contain_text(f"At step 3: inputs x, y, then layer 1 (8 tanh units)")
    expect(page.locator("#network-text")).to_contain_text(f"x: {first}")
    expect(page.locator("#network")).to_have_attribute("aria-label", re.compile("^The network at step 3: "))
    expect(page.locator("#curve")).to_have_attribute(
        "aria-label", re.compile(f"At step 3: loss {shown['loss']:.4f}, accuracy {shown['accuracy']:.3f}, held-out"))
    box = page.locator("#curve").bounding_box()
    page.mouse.click(box["x"] + 44, box["y"] + box["height"] / 2)
    step_is(page, 1)
    expect(page.locator("#r-step")).to_have_text("0")


def test_one_step_vocabulary_across_the_page_frame_and_show(at, lesson):
    """The state after event 4 is "step 3" on the page (seq 4 beside it), in `show` (seq 4, step 3) and in
    the caption `frame` and `replay` draw ("step 3/12")."""
    from replay.panel import caption

    server, db = lesson
    page = at()
    open_session(page, server, "grad")
    page.get_by_role("slider", name="Step").fill("4")
    step_is(page, 4)
    expect(page.locator("#r-step")).to_have_text("3")
    expect(page.locator("#step-of")).to_have_text("step 3 of 12 · seq 4")
    text = subprocess.run([sys.executable, "-c", "import cli; cli.main()", "--db", db, "show", "grad", "--at", "4"],
                          capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert "seq       4   (step 3: 3 presses since the start)" in text
    with EventLog(db) as log:
        state = log.state(log.resolve("grad").id, 4)
    assert caption(state, 13, None, False).startswith("step 3/12 ")


def test_each_demo_says_which_it_is_and_leads_with_its_own_presses(at, lesson):
    """Supervised leads with Next and has no buttons or learner panel; interactive feedback leads with the
    four buttons; auto-scored leads with Next and explains the applied reinforcement score in plain words
    (no function names), which the others do not show."""
    server, _ = lesson
    page = at()
    order = lambda: page.locator(".presses > *:visible").evaluate_all("els => els.map((e) => e.id)")  # noqa: E731
    open_session(page, server, "grad")
    expect(page.locator("#demo-line")).to_contain_text("Supervised demo")
    assert order() == ["press-lead", "nexts"]
    expect(page.locator("#auto-explain")).to_be_hidden()
    expect(page.locator("#thompson")).to_be_hidden()
    open_session(page, server, "feedback")
    expect(page.locator("#demo-line")).to_contain_text("Interactive-feedback demo")
    assert order() == ["press-lead", "buttons", "other-note", "nexts"]
    expect(page.locator("#auto-explain")).to_be_hidden()
    open_session(page, server, "auto")
    expect(page.locator("#demo-line")).to_contain_text("Auto-scored demo")
    assert order() == ["press-lead", "nexts", "other-note", "buttons"]
    expect(page.locator("#auto-explain")).to_be_visible()
    expect(page.locator("#score-name")).to_have_text("applied reinforcement score")
    assert "select_next_action" not in page.locator("#auto-explain").text_content()
    expect(page.locator("#r-action")).to_contain_text(re.compile(r"The score (rose|did not rise), so the last nudge"))


# -- presses: these write, each to its own sessions ------------------------------------------------------

def test_presets_reset_every_field_and_pick_a_free_name(at, lesson):
    """After a spiral 8,8 relu form, "Supervised" puts every field back to its default with the name
    "supervised"; once that is taken, "supervised-2"; "Interactive feedback" then starts a thompson session
    named "feedback-2" (the lesson has a "feedback")."""
    server, db = lesson
    page = at()
    page.goto(server.url + "/")
    page.get_by_role("button", name="New session").click()
    page.get_by_role("radio", name="spiral", exact=True).check()
    page.get_by_label("Hidden layers").fill("8,8")
    page.get_by_role("combobox", name="Activation").select_option("relu")
    page.get_by_label("Points").fill("300")
    page.get_by_label("Seed", exact=True).fill("9")
    page.get_by_role("button", name="Supervised", exact=True).click()
    expect(page.get_by_role("radio", name="linear", exact=True)).to_be_checked()
    expect(page.get_by_label("Hidden layers")).to_have_value("")
    expect(page.get_by_label("Points")).to_have_value("40")
    expect(page.get_by_label("Seed", exact=True)).to_have_value("")
    expect(page.get_by_role("combobox", name="Activation")).to_have_value("tanh")
    expect(page.get_by_role("combobox", name="Learner")).to_have_value("gradient")
    expect(page.get_by_label("Name")).to_have_value("supervised")
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.locator("#title")).to_have_text("supervised")
    made = show("supervised", db)["settings"]
    assert (made.get("data", "linear"), made.get("hidden", []), made["points"], made["learner"]) == \
        ("linear", [], 40, "gradient")
    page.get_by_role("button", name="New session").click()
    page.get_by_role("button", name="Supervised", exact=True).click()
    expect(page.get_by_label("Name")).to_have_value("supervised-2")
    page.get_by_role("button", name="Interactive feedback", exact=True).click()
    expect(page.get_by_label("Name")).to_have_value("feedback-2")
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.locator("#title")).to_have_text("feedback-2")
    expect(page.locator("#demo-line")).to_contain_text("Interactive-feedback demo")
    assert show("feedback-2", db)["learner"] == "thompson"


def test_train_records_one_event_per_press_and_stops_on_pause(at, lesson):
    """Train at 25 presses/s records Next presses, each its own web event, until Pause; after Pause the
    log grows only by the presses made by hand; Next x10 records ten events in one go."""
    server, db = lesson
    with EventLog(db) as log:
        import service

        service.new_session(log, name="trained", learner="gradient", seed=8)
    page = at()
    open_session(page, server, "trained")
    page.get_by_label("presses/s").fill("25")
    page.get_by_role("button", name="Train").click()
    expect(page.locator("#r-seq")).to_have_text(re.compile(r"^([6-9]|\d\d+)$"), timeout=10_000)
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Train")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="paused at step")).to_be_visible()
    stopped = len(rows(db, "trained"))
    step_is(page, stopped)
    page.get_by_role("button", name="Next ×10").click()
    step_is(page, stopped + 10)
    page.get_by_role("button", name="Next iteration", exact=True).click()
    step_is(page, stopped + 11)
    events = rows(db, "trained")
    assert len(events) == stopped + 11
    assert [(e["type"], e["payload"]["source"]) for e in events[1:]] == [("iterated", "web")] * (stopped + 10)


def test_train_stops_when_the_student_leaves_the_session(at, lesson):
    """Training, then opening the list: the presses stop (one already sent may land); back on the session,
    one press by hand is the only new event."""
    server, db = lesson
    with EventLog(db) as log:
        import service

        service.new_session(log, name="left", learner="gradient", seed=8)
    page = at()
    open_session(page, server, "left")
    page.get_by_role("button", name="Train").click()
    expect(page.locator("#r-seq")).not_to_have_text("1", timeout=10_000)
    page.evaluate("window.__sameDocument = true")
    picker = page.get_by_role("combobox", name="Session")
    picker.select_option(value=show("grad", db)["session_id"])
    page.get_by_role("button", name="Open", exact=True).click()     # another session, in the same page
    expect(page.locator("#title")).to_have_text("grad")
    picker.select_option(value=show("left", db)["session_id"])
    page.get_by_role("button", name="Open", exact=True).click()     # back: a press sent before leaving has landed
    expect(page.locator("#title")).to_have_text("left")
    expect(page.locator("#r-seq")).not_to_have_text("-")
    assert page.evaluate("window.__sameDocument") is True
    settled = int(page.locator("#r-seq").text_content())
    page.get_by_role("button", name="Next iteration", exact=True).click()
    step_is(page, settled + 1)
    assert len(rows(db, "left")) == settled + 1


def test_a_fork_made_on_the_page_is_named_and_links_to_its_origin(at, lesson):
    """A press at step 2 of `feedback` forks it as `feedback-fork-3`, whose page names its parent and fork
    step with a link back, as `show` does."""
    server, db = lesson
    page = at()
    open_session(page, server, "feedback")
    page.get_by_role("slider", name="Step").fill("3")
    step_is(page, 3)
    page.get_by_role("button", name="great", exact=True).click()
    page.get_by_role("button", name="Fork here and press").click()
    expect(page.locator("#title")).to_have_text("feedback-fork-3")
    expect(page.locator("#origin")).to_have_text(re.compile(r"^Forked from feedback at step 2 \(seq 3\)"))
    parent = show("feedback", db)["session_id"]
    assert show("feedback-fork-3", db)["parent_id"] == parent
    text = subprocess.run([sys.executable, "-c", "import cli; cli.main()", "--db", db, "show", "feedback-fork-3"],
                          capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert f"forked    from {parent} at seq 3" in text
    page.locator("#origin").get_by_role("link", name="feedback").click()
    expect(page.locator("#title")).to_have_text("feedback")


def test_an_empty_log_offers_the_three_demos_in_one_click_each(browser, tmp_path):
    """On a new database the page says there are no sessions yet, and "Start auto-scored" starts a
    thompson session named auto-scored whose page is the auto-scored demo."""
    running = Server(str(tmp_path / "empty.db"))
    page = browser.new_page()
    try:
        page.goto(running.url + "/")
        expect(page.get_by_text("None yet")).to_be_visible()
        for name in ("Start supervised", "Start interactive feedback", "Start auto-scored"):
            expect(page.get_by_role("button", name=name)).to_be_visible()
        page.get_by_role("button", name="Start auto-scored").click()
        expect(page.locator("#title")).to_have_text("auto-scored")
        expect(page.locator("#demo-line")).to_contain_text("Auto-scored demo")
        assert show("auto-scored", str(tmp_path / "empty.db"))["learner"] == "thompson"
    finally:
        page.close()
        running.stop()
