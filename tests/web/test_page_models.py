"""The page on the engine's other models: hidden layers, other data sets, held-out points, big seeds."""

from playwright.sync_api import expect

from browsing import open_session, show, step_is


def test_the_form_starts_a_hidden_layer_session_with_held_out_points(page, server, recorded):
    """New session with data set xor, hidden layers 8, relu and a held-out share chosen in the form: the
    session has exactly those settings, and the page shows its held-out loss and accuracy as `show` does."""
    page.goto(server.url + "/")
    page.get_by_role("button", name="New session").click()
    page.get_by_role("radio", name="xor", exact=True).check()
    page.get_by_role("combobox", name="Activation").select_option("relu")
    page.get_by_label("Hidden layers").fill("8")
    page.get_by_label("Held-out share").fill("0.25")
    page.get_by_label("Seed", exact=True).fill("11")
    page.get_by_label("Name").fill("xor-net")
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.locator("#title")).to_have_text("xor-net")
    made = show("xor-net", recorded)
    assert {k: made["settings"][k] for k in ("data", "hidden", "activation", "test_share", "seed")} == \
        {"data": "xor", "hidden": [8], "activation": "relu", "test_share": 0.25, "seed": 11}
    expect(page.locator("#r-test_accuracy")).to_have_text(f"{made['test_accuracy']:.3f}")
    expect(page.locator("#r-test_loss")).to_have_text(f"{made['test_loss']:.4f}")
    expect(page.get_by_text("held-out accuracy", exact=True)).to_be_visible()


def test_scrubbing_a_network_shows_the_numbers_of_show_at_that_step(page, server, recorded, nnreplay):
    """A 2-8-1 network on xor with held-out points, scrubbed by keys to step 4: every readout is `show --at 4`."""
    nnreplay("new", "--data", "xor", "--hidden", "8", "--test-share", "0.2", "--seed", "5", "--name", "net")
    nnreplay("next", "net", "-n", "9")
    open_session(page, server, "net")
    page.get_by_role("slider", name="Step").focus()
    page.keyboard.press("Home")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    step_is(page, 4)
    at = show("net", recorded, "--at", "4")
    shown = {key: page.locator(f"#r-{key}").text_content() for key in ("loss", "accuracy", "score", "test_loss",
                                                                      "test_accuracy")}
    assert shown == {"loss": f"{at['loss']:.4f}", "accuracy": f"{at['accuracy']:.3f}", "score": f"{at['score']:.4f}",
                     "test_loss": f"{at['test_loss']:.4f}", "test_accuracy": f"{at['test_accuracy']:.3f}"}


def test_a_seed_beyond_javascripts_exact_integers_is_shown_exactly(page, server, recorded, nnreplay):
    """A 63-bit seed (what `new` draws from the OS) is shown digit for digit, so it can be typed back."""
    seed = 2**62 + 1  # as a JavaScript number this would read 4611686018427387904
    nnreplay("new", "--seed", seed, "--name", "big-seed")
    open_session(page, server, "big-seed")
    expect(page.locator("#subtitle")).to_contain_text(f"seed {seed} ")


def test_a_plain_session_shows_no_held_out_readouts(page, server):
    """A session that holds no point out shows no held-out rows (not a row of dashes)."""
    open_session(page, server, "grad")
    expect(page.get_by_text("held-out accuracy", exact=True)).to_be_hidden()


def test_compare_names_the_held_out_accuracy_of_a_session_that_keeps_some(page, server, recorded, nnreplay):
    """In the compare view a panel of a session with held-out points says its held-out accuracy; a panel
    of one without does not."""
    nnreplay("new", "--data", "circle", "--hidden", "4", "--test-share", "0.3", "--seed", "2", "--name", "ring")
    page.goto(f"{server.url}/compare?s=ring&s=grad")
    expected = f"held-out accuracy {show('ring', recorded)['test_accuracy']:.3f}"
    expect(page.locator("#panels figcaption").first).to_contain_text(expected)
    expect(page.locator("#panels figcaption").last).not_to_contain_text("held-out")
