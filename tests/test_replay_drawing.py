"""The drawing itself: colours at known places of a frame of a hand-made state, and the GIF container."""

import numpy as np
import pytest
from PIL import Image

from engine import Settings, State
from engine.dataset import DataSet
from engine.state import data_digest
from replay import collect, render_gif, render_png
from replay.palette import BLUE, BLUE_SHADE, INK, RED, RED_SHADE, palette_colours
from replay.scene import Scene

POINTS = np.array([[-0.5, 0.5], [0.6, -0.5], [-0.6, -0.6]])
LABELS = np.array([1.0, 0.0, 1.0])  # the third is red but sits where the weights predict blue


def make_state(seq=1, params=(1.0, 0.0, -0.2), button=None) -> State:
    """Boundary x = 0.2 (red predicted where x > 0.2), true separator y = 0."""
    settings = Settings(points=len(LABELS))
    data = DataSet(POINTS.copy(), LABELS.copy(), (0.0, 1.0, 0.0))
    return State(settings=settings, data=data, data_digest=data_digest(settings, data), seq=seq, params=params)


def rgb_at(pixels: np.ndarray, where: tuple[int, int]) -> tuple[int, int, int]:
    column, row = where
    return tuple(int(v) for v in pixels[row, column, :3])


def near(colour, expected, tolerance=12) -> bool:
    return max(abs(a - b) for a, b in zip(colour, expected)) <= tolerance


@pytest.fixture
def scene():
    track = collect("hand-made", "gradient", [(make_state(), None)], [0])
    made = Scene([track], 400)
    yield made
    made.close()


def test_points_are_filled_by_their_true_label(scene):
    """A red-labelled point's centre is red, a blue-labelled point's centre is blue."""
    pixels = scene.draw(0)
    assert near(rgb_at(pixels, scene.pixel(0, -0.5, 0.5)), RED)
    assert near(rgb_at(pixels, scene.pixel(0, 0.6, -0.5)), BLUE)


def test_a_misclassified_point_is_outlined_in_the_predicted_colour(scene):
    """The red point on the blue side has a red centre and a blue ring."""
    pixels = scene.draw(0)
    column, row = scene.pixel(0, -0.6, -0.6)
    assert near(rgb_at(pixels, (column, row)), RED)
    ring = [rgb_at(pixels, (column + dx, row)) for dx in range(3, 8)]
    assert any(near(colour, BLUE) for colour in ring)


def test_the_boundary_is_where_the_weights_say(scene):
    """w = (1, 0), b = -0.2: dark line at x = 0.2, blue shading left of it, red shading right of it."""
    pixels = scene.draw(0)
    column, row = scene.pixel(0, 0.2, 0.1)
    assert any(near(rgb_at(pixels, (column + dx, row)), INK, 30) for dx in (-1, 0, 1))
    assert near(rgb_at(pixels, scene.pixel(0, 0.0, 0.1)), BLUE_SHADE)
    assert near(rgb_at(pixels, scene.pixel(0, 0.4, 0.1)), RED_SHADE)


def test_the_png_still_has_the_pixels_of_the_frame(tmp_path, scene):
    """render_png writes exactly what the scene draws (one drawing code for stills and animations)."""
    track = scene.panels[0].track
    out = tmp_path / "still.png"
    render_png(track, 0, str(out), size=400)
    still = np.asarray(Image.open(out).convert("RGB"))
    assert np.array_equal(still, scene.draw(0)[..., :3])


def gif_of(tmp_path, tracks, steps, **options):
    out = tmp_path / "replay.gif"
    made = render_gif(tracks, steps, str(out), **options)
    return out, made


def test_gif_reads_back_with_its_frames_size_and_loop(tmp_path):
    """The GIF has one frame per distinct step, the scene's size, loops forever, and lingers on the end."""
    states = [(make_state(seq, (1.0, 0.1 * seq, -0.2)), None) for seq in range(1, 8)]
    out, made = gif_of(tmp_path, [collect("t", "gradient", states, range(7))], list(range(7)), fps=10, size=300)
    with Image.open(out) as gif:
        assert gif.n_frames == 7 == made["frames"]
        assert gif.size == made["size"] and gif.size[0] == 300
        assert gif.info["loop"] == 0
        durations = []
        for index in range(gif.n_frames):
            gif.seek(index)
            durations.append(gif.info["duration"])
    assert durations[:-1] == [100] * 6 and durations[-1] > 1000


def test_gif_frames_keep_the_drawn_colours(tmp_path):
    """After palette quantisation a decoded frame still shows the red point red and the blue point blue."""
    track = collect("t", "gradient", [(make_state(), None), (make_state(2, (1.0, 0.2, -0.2)), None)], [0, 1])
    out, _ = gif_of(tmp_path, [track], [0, 1], size=400)
    scene = Scene([track], 400)
    with Image.open(out) as gif:
        gif.seek(1)
        frame = np.asarray(gif.convert("RGB"))
    assert rgb_at(frame, scene.pixel(0, -0.5, 0.5)) == RED
    assert rgb_at(frame, scene.pixel(0, 0.6, -0.5)) == BLUE
    scene.close()


def test_a_panel_that_ran_out_says_finished_and_the_grid_has_a_strip():
    """Two sessions of different lengths: the shorter one's caption says finished; a strip is drawn below."""
    short = collect("short", "gradient", [(make_state(1), None), (make_state(2), None)], range(4))
    long_ = collect("long", "thompson", [(make_state(s), "good" if s > 1 else None) for s in range(1, 5)], range(4))
    scene = Scene([short, long_], 600)
    scene.draw(3)
    assert "finished" in scene.panels[0].caption.text
    assert "pressed good" in scene.panels[1].caption.text
    assert scene.strip is not None and scene.size[1] > 300
    scene.close()


def test_a_failed_render_leaves_no_file(tmp_path):
    """An error in the middle of a render removes the partial file: the directory stays empty."""
    states = [(make_state(seq, (1.0, 0.1 * seq, -0.2)), None) for seq in range(1, 5)]

    def interrupt(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        gif_of(tmp_path, [collect("t", "gradient", states, range(4))], list(range(4)), on_frame=interrupt)
    assert list(tmp_path.iterdir()) == []


def test_a_long_session_name_is_cut_but_the_learner_stays():
    """A title too long for its panel ends in an ellipsis and still names the learner."""
    from replay.panel import heading

    line = heading("x" * 200, "thompson", width_px=300, font_px=12)
    assert line.endswith("…  ·  thompson") and len(line) < 60
    assert heading("short", "gradient", 300, 12) == "short  ·  gradient"


def test_the_gif_stream_merges_repeats_and_stores_only_what_changed(tmp_path):
    """Equal consecutive frames become one longer frame; a changed pixel reads back changed, the rest kept."""
    from replay.gif import GifStream

    first = np.zeros((20, 30), dtype=np.uint8)
    second = first.copy()
    second[5, 7] = 3
    out = tmp_path / "raw.gif"
    with open(out, "wb") as fp:
        stream = GifStream(fp, (30, 20))
        for frame in (first, first, second):
            stream.add(frame, 100)
        stream.close()
    with Image.open(out) as gif:
        assert gif.n_frames == 2 and gif.info["duration"] == 200
        gif.seek(1)
        rgb = np.asarray(gif.convert("RGB"))
    colours = palette_colours()
    assert rgb[5, 7].tolist() == colours[3].tolist()
    assert (rgb[np.arange(20) != 5] == colours[0]).all()
