"""What the page says when something goes wrong: never a silent failure."""

import re

from playwright.sync_api import expect

from browsing import open_session


def test_a_stopped_server_is_said_on_the_page_for_presses_steps_and_live_updates(page, server):
    """With the server gone, a press, a step never fetched before and the live channel each say so."""
    open_session(page, server, "grad")
    server.stop()
    expect(page.locator("#server-note")).to_contain_text("live updates lost", timeout=10_000)
    page.get_by_role("button", name="Next iteration", exact=True).click()
    expect(page.locator("#press-error")).to_contain_text("the server did not answer")
    page.get_by_role("slider", name="Step").fill("2")
    expect(page.locator("#step-error")).to_contain_text("step 2 could not be shown: the server did not answer")


def test_an_unknown_session_address_says_so(page, server):
    """/sessions/nobody opens the list and says which session was not found, in the header's status."""
    page.goto(f"{server.url}/sessions/nobody")
    expect(page.get_by_role("status").filter(has_text="nobody")).to_contain_text("no session")


def test_a_refused_new_session_says_why_and_puts_the_focus_on_the_field(page, server):
    """Hidden layers "8,x" in the form: the server's reason is shown, the focus goes to that field, and no
    session is made."""
    page.goto(server.url + "/")
    page.get_by_role("button", name="New session").click()
    page.get_by_label("Hidden layers").fill("8,x")
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="hidden")).to_contain_text("hidden layers are up to")
    expect(page.get_by_label("Hidden layers")).to_be_focused()
    with server.client() as http:
        assert [s["name"] for s in http.get("/api/sessions").json()] == ["grad", "th"]


def test_train_stops_on_a_refused_press_and_says_why(page, server):
    """Training when the server goes away: the press that fails is said on the page and Train stops
    (its button says Train again, not Pause)."""
    open_session(page, server, "grad")
    page.get_by_label("presses/s").fill("20")
    page.get_by_role("button", name="Train").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    expect(page.locator("#r-seq")).not_to_have_text("6", timeout=10_000)
    server.stop()
    # the press in flight is answered 503 by the stopping server, or finds no server at all
    said = re.compile("the server did not answer|the work was abandoned|the server is stopping")
    expect(page.locator("#press-error")).to_have_text(said, timeout=10_000)
    expect(page.get_by_role("button", name="Train")).to_be_visible()
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)
