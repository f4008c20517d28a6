"""Issue 15 on the page, in Chromium: a session recorded on other arithmetic says so in words (never
"broken") and offers Re-press; Re-press makes the new session and its page names where it came from; the
notice passes axe-core; compare re-presses a panel beside the original."""

import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cli"))

from browsing import about, open_session  # noqa: E402
from serving import Server  # noqa: E402
from test_other_arithmetic import as_if_recorded_elsewhere, record  # noqa: E402
from test_page_teaches import axe_problems  # noqa: E402


@pytest.fixture
def old_server(db_path):
    """A server on a release-0.1/0.2 session ("old") whose record this machine's fold departs from at seq 5."""
    info = record(db_path, "machine", "thompson")
    as_if_recorded_elsewhere(db_path, info.id, 5)
    running = Server(db_path)
    yield running
    running.stop()


def test_the_page_says_other_arithmetic_and_re_presses(browser, old_server):
    """The notice names the step where this machine departs and Re-press; Re-press opens the new session,
    which names its origin with a link back."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    open_session(page, old_server, "old")
    notice = page.locator("#other-arithmetic")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Recorded on other arithmetic")
    expect(notice).to_contain_text("step 4 (seq 5)")
    assert "broken" not in notice.inner_text().lower()
    expect(page.locator("#next")).to_be_disabled()  # this machine cannot continue it: the server would refuse
    assert axe_problems(page) == []
    notice.get_by_role("button", name="Re-press it").click()
    origin = page.locator("#repressed-from")
    expect(origin).to_be_visible()
    expect(origin).to_contain_text("Re-pressed from old")
    expect(page.locator("#other-arithmetic")).to_be_hidden()
    expect(page.locator("#next")).to_be_enabled()
    expect(page.locator("#title")).to_contain_text("old-repress")
    about(page)
    page.locator("#repress").click()  # the same action under "About this run", on any session
    expect(page.locator("#title")).to_contain_text("old-repress-repress")
    origin.get_by_role("link", name="old-repress", exact=True).click()
    expect(page.locator("#title")).to_have_text("old-repress")
    origin.get_by_role("link", name="old", exact=True).click()
    expect(page.locator("#other-arithmetic")).to_be_visible()
    assert errors == []
    context.close()


def test_compare_re_presses_a_panel_beside_the_original(browser, old_server):
    """Re-press on a compare panel adds the new session to the same comparison."""
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(f"{old_server.url}/compare?s=old")
    page.get_by_role("button", name="Re-press old: a new session pressing its presses again, added here").click()
    expect(page.locator("#panels figure")).to_have_count(2)
    page.context.close()


def test_a_portable_log_changed_after_recording_is_said_and_takes_no_press(browser, db_path):
    """A portable session whose record was rewritten: the page says the log does not fold to its record
    (not 'other arithmetic'), and its presses are disabled."""
    info = record(db_path, "portable-1")
    as_if_recorded_elsewhere(db_path, info.id, 3)
    server = Server(db_path)
    try:
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        open_session(page, server, "old")
        notice = page.locator("#other-arithmetic")
        expect(notice).to_contain_text("does not fold to the state it records")
        assert "other arithmetic" not in notice.inner_text()
        expect(page.locator("#next")).to_be_disabled()
        page.context.close()
    finally:
        server.stop()
