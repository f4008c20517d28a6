"""TensorFlow Playground's data sets (`--data pg-*`): Playground's shapes, gaps, spacing and noise that moves
points rather than labels, in [-1, 1]², an exact half per class where Playground has one; the classic names
keep their definitions."""

import numpy as np
import pytest

from engine import InvalidSetting, Settings, Start, apply
from engine.dataset import draw_dataset

SIXTH = 1.0 / 6.0


def drawn(kind, n=400, noise=0.0, seed=3):
    data = draw_dataset(n, noise, np.random.default_rng([seed, 1]), kind)
    return data.points, data.labels


@pytest.mark.parametrize("kind", ["pg-circle", "pg-xor", "pg-gauss", "pg-spiral"])
def test_every_point_lies_in_the_square(kind):
    """Playground's [-6, 6] is divided by 6: every point of every seed and noise lies in [-1, 1]²."""
    for seed in range(5):
        for noise in (0.0, 0.5):
            points, _ = drawn(kind, noise=noise, seed=seed)
            assert np.abs(points).max() <= 1.0


@pytest.mark.parametrize("kind, n", [("pg-circle", 400), ("pg-circle", 401), ("pg-gauss", 400), ("pg-spiral", 401)])
def test_half_the_points_are_red(kind, n):
    """Circle, gauss and spiral give each class half the points (red the odd one), whatever the noise
    does to circle's labels at 0."""
    _, labels = drawn(kind, n)
    assert labels.sum() == n - n // 2


def test_pg_circle_is_an_inner_disc_and_an_outer_ring_with_a_gap():
    """Without noise red lies within radius 2.5 and blue in [3.5, 5]: nothing in between."""
    points, labels = drawn("pg-circle")
    r = np.hypot(points[:, 0], points[:, 1]) / SIXTH
    assert r[labels == 1].max() <= 2.5 + 1e-12 and r[labels == 0].min() >= 3.5 - 1e-12


def test_pg_circle_noise_moves_points_so_only_those_near_the_boundary_change_class():
    """At noise 0.1 a point moves at most 0.5 in x and y: the ring stays blue and the middle of the disc red."""
    points, labels = drawn("pg-circle", noise=0.1, n=2000)
    r = np.hypot(points[:, 0], points[:, 1]) / SIXTH
    assert (labels[r >= 3.5] == 0).all() and (labels[r < 2.5 - 0.75] == 1).all()
    assert ((r > 1.75) & (r <= 2.5) & (labels == 0)).any()  # some near the edge did change


def test_pg_xor_keeps_a_gap_around_the_axes():
    """Points are pushed 0.3 away from each axis; without noise red is where x·y > 0."""
    points, labels = drawn("pg-xor")
    assert np.abs(points).min() >= 0.3 * SIXTH - 1e-12
    assert ((points[:, 0] * points[:, 1] > 0) == (labels == 1)).all()


def test_pg_spiral_spaces_its_points_evenly():
    """Each spiral's radii are 5·i/m: evenly spaced, none drawn at random, without noise."""
    points, labels = drawn("pg-spiral", n=200)
    for colour in (0, 1):
        radii = np.sort(np.hypot(*points[labels == colour].T)) / SIXTH
        assert np.allclose(np.diff(radii), 5.0 / 100, atol=1e-9)


def test_pg_gauss_noise_widens_the_clusters():
    """Variance 0.5 + 7·noise: the clusters spread as Playground's do."""
    quiet, _ = drawn("pg-gauss", n=4000)
    loud, _ = drawn("pg-gauss", n=4000, noise=0.5)
    assert np.std(loud) > np.std(quiet)


def test_held_out_points_take_both_classes():
    """The points are shuffled once drawn, so held-out points are a random share of both classes."""
    state = apply(None, Start(Settings(seed=1, data="pg-spiral", points=100, test_share=0.3)))
    held = state.data.labels[state.data.n_train:]
    assert 0 < held.sum() < len(held)


def test_a_machine_arithmetic_session_has_no_playground_data():
    """Playground's data sets came with portable arithmetic: an old log cannot name one."""
    with pytest.raises(InvalidSetting):
        Settings(data="pg-xor", arithmetic="machine")
