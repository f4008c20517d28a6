"""The page as people use it: long names, keyboard only, a screen reader, the compare view's controls."""

import re

from playwright.sync_api import expect

from browsing import open_session, step_is


def fits(page) -> bool:
    """Nothing on the page is wider than the window (no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_a_200_character_name_does_not_widen_the_page(page, server, nnreplay):
    """The list, the session view and the compare view keep to the window with a name of 200 characters."""
    long = "ü" * 150 + "-session-with-a-long-name-" + "n" * 24
    nnreplay("new", "--seed", "2", "--name", long)
    page.goto(server.url + "/")
    expect(page.get_by_role("link", name=long)).to_be_visible()
    assert fits(page)
    open_session(page, server, "grad")
    page.get_by_role("combobox", name="Session").select_option(label=f"{long[:30]}…{long[-16:]} · gradient · 1 event")
    page.get_by_role("button", name="Open", exact=True).click()
    expect(page.locator("#title")).to_have_text(long)
    assert fits(page)
    page.goto(f"{server.url}/compare?s=grad&s={long}")
    expect(page.locator("#panels figcaption")).to_have_count(2)
    assert fits(page)


def test_the_compare_link_opens_a_view_to_add_and_remove_sessions(page, server):
    """From the list, Compare opens the compare view (it did nothing without sessions in the address);
    sessions are added from its list and removed by their button, each step a shareable address."""
    page.goto(server.url + "/")
    page.get_by_role("link", name="Compare").click()
    expect(page.get_by_text("Compare two to four sessions")).to_be_visible()
    for count, name in enumerate(("grad", "th"), 1):
        page.get_by_role("combobox", name="Add a session").select_option(label=name)
        page.get_by_role("button", name="Add", exact=True).click()
        expect(page.locator("#panels canvas")).to_have_count(count)
    assert page.url.endswith("/compare?s=") is False and page.url.count("s=") == 2
    page.get_by_role("button", name="Remove grad from the comparison").click()
    expect(page.locator("#panels canvas")).to_have_count(1)
    expect(page.locator("#panels figcaption")).to_contain_text("th ·")


def test_keyboard_only_a_press_in_the_past_lands_on_the_fork_offer_and_escape_leaves_it(page, server):
    """Scrubbed back by keys, `n` offers a fork and moves the focus to "Fork here and press"; Escape closes
    the offer, records nothing and puts the focus back on the slider."""
    open_session(page, server, "grad")
    page.get_by_role("slider", name="Step").focus()
    page.keyboard.press("ArrowLeft")
    step_is(page, 5)
    page.keyboard.press("n")
    expect(page.get_by_role("button", name="Fork here and press")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_role("alertdialog")).to_be_hidden()
    expect(page.get_by_role("slider", name="Step")).to_be_focused()
    assert page.locator("#scrubber").get_attribute("max") == "6"


def test_a_press_is_announced_to_a_screen_reader(page, server):
    """After "Next iteration" a status region says the press, the new step and its accuracy."""
    open_session(page, server, "grad")
    page.get_by_role("button", name="Next iteration", exact=True).click()
    step_is(page, 7)
    expect(page.get_by_role("status").filter(has_text="Next iteration:")).to_contain_text("step 6, accuracy ")


def test_a_read_only_server_says_so_for_a_key_press_and_offers_no_fork(browser, read_only_server):
    """On --read-only the buttons are disabled, and a key press (even scrubbed into the past) says the
    server is read-only instead of offering a fork that would be refused."""
    page = browser.new_page()
    try:
        open_session(page, read_only_server, "grad")
        expect(page.get_by_role("button", name="Next iteration", exact=True)).to_be_disabled()
        page.get_by_role("slider", name="Step").focus()
        page.keyboard.press("ArrowLeft")
        step_is(page, 5)
        page.keyboard.press("n")
        expect(page.locator("#press-error")).to_have_text("this server is read-only: presses are refused")
        expect(page.get_by_role("alertdialog")).to_be_hidden()
    finally:
        page.close()


def test_the_sliders_say_the_step_in_words_and_compare_takes_home_and_end(page, server):
    """A screen reader hears "step 2 of 5" (presses, as `frame` counts them) from the slider, not a bare 3; the compare slider moves to
    the first and last step with Home and End."""
    open_session(page, server, "grad")
    page.get_by_role("slider", name="Step").fill("3")
    step_is(page, 3)
    expect(page.get_by_role("slider", name="Step")).to_have_attribute("aria-valuetext", "step 2 of 5")
    page.goto(f"{server.url}/compare?s=grad&s=th")
    expect(page.locator("#panels figcaption")).to_have_count(2)
    page.locator("#chart").click()
    page.keyboard.press("Home")
    expect(page.locator("#compare-step")).to_have_text("step 0 of 5 · seq 1")
    page.keyboard.press("End")
    expect(page.locator("#compare-step")).to_have_text("step 5 of 5 · seq 6")
    expect(page.get_by_role("slider", name="Step")).to_have_attribute("aria-valuetext", "step 5 of 5")


def test_each_arms_credible_band_is_read_out_in_words(page, server, recorded):
    """The posterior table's band column holds its bounds as text for a screen reader, not only a bar."""
    open_session(page, server, "th")
    first = page.get_by_role("row").nth(1)
    expect(first.get_by_role("cell").nth(2)).to_have_text(re.compile(r"^[01]\.\d\d to [01]\.\d\d$"))


def test_keys_in_the_new_session_form_press_nothing(page, server, recorded):
    """With the focus on a button of the open new-session form, `n` and `1` are not presses."""
    from browsing import rows

    open_session(page, server, "th")
    page.get_by_role("button", name="New session").click()
    page.get_by_role("button", name="Supervised", exact=True).focus()
    page.keyboard.press("n")
    page.keyboard.press("1")
    page.get_by_role("button", name="Next iteration", exact=True).click()  # queued behind any press the keys made
    step_is(page, 5)
    assert len(rows(recorded, "th")) == 5


def test_opening_a_session_from_the_picker_moves_the_focus_to_its_heading(page, server):
    """A screen reader hears the new view's name after a session is chosen, as after a page load."""
    open_session(page, server, "grad")
    page.get_by_role("combobox", name="Session").select_option(label="th · thompson · 4 events")
    page.get_by_role("button", name="Open", exact=True).click()
    expect(page.get_by_role("heading", name="th", exact=True)).to_be_focused()
