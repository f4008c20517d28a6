"""A panel's heading and caption stay within its own column, however long the name and the model label:
side by side, a long one used to run into its neighbour's text (found in review: a thompson network on
gauss with five features and 30 % held out)."""

import numpy as np

from engine import Next, Rate, Settings, Start, apply
from replay import collect
from replay.palette import WHITE
from replay.scene import Scene

LONG = Settings(learner="thompson", seed=5, points=60, data="gauss", features=("x", "y", "xy", "sinx", "siny"),
                hidden=(4, 4), activation="relu", test_share=0.3)


def history(settings: Settings, presses) -> list:
    state = apply(None, Start(settings))
    pairs = [(state, None)]
    for press in presses:
        state = apply(state, press)
        pairs.append((state, getattr(press, "button", None)))
    return pairs


def test_headings_and_captions_stay_in_their_column():
    """Every pixel of the gap between two panels, from the top of the picture down to the squares, is the
    background: no heading or caption of the left panel crosses into it."""
    left = history(LONG, [Next(), Rate("great")])
    right = history(Settings(data="xor", hidden=(8,), learner="thompson"), [Next(), Next()])
    tracks = [collect("a-session-with-a-rather-long-name", "thompson", left, range(3)),
              collect("x8", "thompson", right, range(3))]
    scene = Scene(tracks, 960)
    try:
        pixels = scene.draw(2).copy()  # step 2: the left caption ends "· pressed great", the longest it gets
        height = pixels.shape[0]
        (_, _), (right_edge, top) = scene.panels[0].ax.transData.transform([(-1.06, -1.06), (1.06, 1.06)])
        (next_left, _), _ = scene.panels[1].ax.transData.transform([(-1.06, -1.06), (1.06, 1.06)])
        gap = pixels[:int(height - top), int(np.ceil(right_edge)) + 1:int(next_left) - 1, :3]
        assert gap.size and (gap == np.array(WHITE, dtype=np.uint8)).all()
    finally:
        scene.close()


def test_a_long_model_label_gives_way_to_the_sessions_name():
    """The session's name keeps up to half the heading's room; the model label after the learner is what
    gets cut (the demo's lesson.gif said "xor-hidd…  ·  gradient, xor, hidden 8 tanh")."""
    from replay.panel import heading

    line = heading("xor-hidden-8", "gradient, xor, hidden 8 tanh", width_px=340, font_px=12.5)
    assert line.startswith("xor-hidden-8  ·  gradient")


def test_the_play_screen_fits_80_columns_without_cutting_words():
    """On an 80-column terminal the status line keeps the head hash whole (it read "… last button great
    he"), the legend keeps "held out" whole, and the title names the model."""
    from replay.terminal import render

    state = history(LONG, [Next(), Rate("great")])[-1][0]
    lines = render(state, "g", "93ef7551f6cae3148fdd99706d6bc113", "press a key", 80, 24)
    assert all(len(line) <= 80 for line in lines)
    assert lines[0].startswith("nnreplay play · g · thompson, gauss, features x,y,xy,sinx,siny")
    status, legend = lines[-4], lines[-3]
    assert "held out " in status and status.split("  ")[-1].strip() in ("head 93ef7551f6ca", "last button great")
    assert "head 93ef7551f6ca" in status and "◆■ held out" in legend
