"""Drawing any model: the shaded probability field, the logit's zero contour, the true boundary, held-out
points, in the GIF/PNG renderer and on the terminal."""

import math

import numpy as np
import pytest

from engine import Settings, State
from engine.dataset import DataSet
from engine.state import data_digest
from engine.view import probability
from replay import collect
from replay.geometry import contour_segments
from replay.palette import INK, RAMP, RAMP_EDGES
from replay.scene import Scene
from replay.terminal import BOUNDARY, HELD_RED, RED_SIDE, square

# the perceptron on x2, y2 with W1 = (-1, -1), b1 = 0.5: red inside the circle of radius sqrt(1/2)
RADIUS = math.sqrt(0.5)
POINTS = np.array([[0.1, 0.1], [0.9, 0.9], [-0.2, 0.1], [0.85, -0.85]])
LABELS = np.array([1.0, 0.0, 1.0, 0.0])


def circle_state(test_share=0.0) -> State:
    settings = Settings(points=len(LABELS), data="circle", features=("x2", "y2"), test_share=test_share)
    data = DataSet(POINTS.copy(), LABELS.copy(), (0.0, 0.0, math.sqrt(2 / math.pi)), "circle", ("x2", "y2"),
                   settings.n_test)
    return State(settings=settings, data=data, data_digest=data_digest(settings, data), seq=1,
                 params=(-1.0, -1.0, 0.5))


@pytest.fixture
def scene():
    made = Scene([collect("circle", "gradient", [(circle_state(0.5), None)], [0])], 400)
    yield made
    made.close()


def rgb_at(pixels, where):
    column, row = where
    return tuple(int(v) for v in pixels[row, column, :3])


def test_contour_segments_trace_a_line_exactly_and_a_circle_closely():
    c = np.linspace(-1, 1, 21)
    x, y = np.meshgrid(c, c)
    line = contour_segments(2 * x - 0.6, c, c)
    assert len(line) == 20 and np.allclose(line[..., 0], 0.3)
    ring = contour_segments(0.5 - x ** 2 - y ** 2, c, c)
    assert np.abs(np.hypot(ring[..., 0], ring[..., 1]) - RADIUS).max() < 0.01


def test_the_field_is_shaded_by_the_models_probability(scene):
    """Away from points and lines each pixel shows the ramp shade of p(red) there."""
    state = circle_state(0.5)
    pixels = scene.draw(0)
    for x, y in [(0.0, -0.4), (0.5, 0.0), (-0.9, 0.3), (0.0, 0.95), (-0.95, -0.95)]:
        p = probability(state, np.array([[x, y]]))[0]
        assert rgb_at(pixels, scene.pixel(0, x, y)) == RAMP[int(np.searchsorted(RAMP_EDGES, p))]


def test_the_boundary_is_the_zero_contour_of_the_logit(scene):
    """A dark line where x² + y² = 1/2, for a model whose boundary is not a line."""
    pixels = scene.draw(0)
    for angle in (0.3, 2.0, 4.0):
        column, row = scene.pixel(0, RADIUS * math.cos(angle), RADIUS * math.sin(angle))
        assert any(max(abs(a - b) for a, b in zip(rgb_at(pixels, (column + dx, row + dy)), INK)) < 40
                   for dx in (-1, 0, 1) for dy in (-1, 0, 1))


def test_held_out_points_are_drawn_as_squares(scene):
    """A held-out marker fills its box (a square), a training marker about π/4 of it (a disc)."""
    pixels = scene.draw(0)

    def filled(x, y):
        column, row = scene.pixel(0, x, y)
        box = pixels[row - 8:row + 9, column - 8:column + 9, :3].astype(int)
        red = (box[..., 0] > 150) & (box[..., 1] < 110)
        rows, columns = np.nonzero(red)
        return red.sum() / ((np.ptp(rows) + 1) * (np.ptp(columns) + 1))

    assert filled(-0.2, 0.1) > 0.95 and filled(0.1, 0.1) < 0.9


def test_the_terminal_draws_a_round_boundary_and_held_out_glyphs():
    """play's square: red side inside the circle, boundary cells on it, blank corners, ◆ for a held-out red."""
    cells = square(circle_state(0.5), 41, 21)
    assert cells[10][20] in (RED_SIDE, "▲") and cells[0][0] != RED_SIDE
    assert BOUNDARY in cells[10] and BOUNDARY in [row[20] for row in cells]
    assert any(HELD_RED in row for row in cells)
