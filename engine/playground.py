"""TensorFlow Playground's four data sets, drawn as Playground draws them (its src/dataset.ts), in [-1, 1]².

Playground draws in [-6, 6]² and its noise (0 to 50 %) moves points, not labels; here every coordinate is
divided by 6, and `--noise` (0 to 0.5) is Playground's noise as a fraction. Red here is Playground's
positive class (Playground colours it blue). The differences from nnreplay's own `xor`, `circle`, `gauss`
and `spiral` are listed in docs/models.md.

    pg-circle  half the points inside radius 2.5 (r uniform in [0, 2.5]), half in the ring [3.5, 5], at a
               uniform angle; each is labelled by where it lies after a jitter of uniform(−5, 5)·noise in x
               and y (so only points near the circle of radius 2.5 can change class); the point keeps its
               unjittered place
    pg-xor     x, y uniform in [−5, 5], pushed 0.3 away from each axis (a gap around the axes); labelled by
               the sign of x·y after the same jitter
    pg-gauss   half the points about (2, 2) (red), half about (−2, −2), normal with variance 0.5 + 7·noise,
               clipped to Playground's square
    pg-spiral  two spirals of 1.75 turns, half the points each, evenly spaced along them (radius 5·i/m),
               each coordinate jittered by uniform(−1, 1)·noise; red starts at angle 0, blue half a turn on

Uniform draws come one row per point (C order), classes in the order named, then one Fisher–Yates shuffle
(j = floor(u·(i + 1)) for i = n − 1 … 1, one uniform each) so that held-out points are a random share of
both classes. Everything is the portable arithmetic (engine/samplers.py, engine/arith.py).
"""

import math

import numpy as np

from engine import arith, samplers

SCALE = 1.0 / 6.0  # Playground's [-6, 6] onto [-1, 1]
RADIUS = 2.5 * SCALE  # pg-circle's true boundary


def _halves(n: int) -> tuple[int, int]:
    return n - n // 2, n // 2  # red gets the odd point


def _jittered(x, y, noise: float, u_x, u_y):
    return x + (-5.0 + 10.0 * u_x) * noise, y + (-5.0 + 10.0 * u_y) * noise


def _circle(n: int, rng, noise: float):
    red_n, _ = _halves(n)
    u = samplers.uniform(rng, 0.0, 1.0, (n, 4))  # r, turn, jitter x, jitter y
    red = np.arange(n) < red_n
    r = np.where(red, 2.5 * u[:, 0], 3.5 + 1.5 * u[:, 0])
    turn = 2.0 * u[:, 1]
    x, y = r * arith.sinpi(turn), r * arith.cospi(turn)
    jx, jy = _jittered(x, y, noise, u[:, 2], u[:, 3])
    return np.column_stack([x, y]), jx * jx + jy * jy < 6.25, (0.0, 0.0, RADIUS)


def _xor(n: int, rng, noise: float):
    u = samplers.uniform(rng, 0.0, 1.0, (n, 4))  # x, y, jitter x, jitter y
    x, y = -5.0 + 10.0 * u[:, 0], -5.0 + 10.0 * u[:, 1]
    x, y = x + np.where(x > 0.0, 0.3, -0.3), y + np.where(y > 0.0, 0.3, -0.3)
    jx, jy = _jittered(x, y, noise, u[:, 2], u[:, 3])
    return np.column_stack([x, y]), jx * jy >= 0.0, (0.0, 0.0, 0.0)


def _gauss(n: int, rng, noise: float):
    red_n, _ = _halves(n)
    sd = math.sqrt(0.5 + 7.0 * noise)  # Playground's variance scale: noise 0 -> 0.5, 0.5 -> 4
    red = np.arange(n) < red_n
    centres = np.where(red[:, None], 2.0, -2.0)
    points = np.clip(centres + sd * samplers.gaussian(rng, (n, 2)), -6.0, 6.0)  # Playground's square
    return points, red, (math.sqrt(0.5), math.sqrt(0.5), 0.0)


def _spiral(n: int, rng, noise: float):
    red_n, blue_n = _halves(n)
    i = np.concatenate([np.arange(red_n), np.arange(blue_n)]).astype(np.float64)
    m = np.concatenate([np.full(red_n, float(red_n)), np.full(blue_n, float(max(blue_n, 1)))])
    red = np.arange(n) < red_n
    r = i / m * 5.0
    turns = 3.5 * (i / m) + np.where(red, 0.0, 1.0)  # the angle in units of π: 1.75 turns
    u = samplers.uniform(rng, -1.0, 1.0, (n, 2))
    x = r * arith.sinpi(turns) + u[:, 0] * noise
    y = r * arith.cospi(turns) + u[:, 1] * noise
    return np.column_stack([x, y]), red, (0.0, 0.0, 0.0)


def _shuffled(points, red, rng):
    order = list(range(len(red)))
    if len(order) > 1:
        u = samplers.uniform(rng, 0.0, 1.0, len(order) - 1).tolist()
        for k, i in enumerate(range(len(order) - 1, 0, -1)):
            j = int(u[k] * (i + 1))
            order[i], order[j] = order[j], order[i]
    return points[order], red[order]


def _scaled(rule):
    def draw(n: int, rng, noise: float):
        points, red, separator = rule(n, rng, noise)
        points, red = _shuffled(points * SCALE, red, rng)
        return points, red, separator

    return draw


RULES = {"pg-circle": _scaled(_circle), "pg-xor": _scaled(_xor), "pg-gauss": _scaled(_gauss),
         "pg-spiral": _scaled(_spiral)}
# the truth field of each (engine.dataset.truth): Playground's circle, cross and line, by the classic rule
TRUTH = {"pg-circle": "circle", "pg-xor": "xor", "pg-gauss": "gauss"}
