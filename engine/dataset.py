"""The red (1) and blue (0) points in [-1, 1]², drawn by one of nine rules, and the held-out share.

The data set is drawn once, in `decide` for the start command, and its points are written into the
`session_started` event: replay reads them back and never draws, so a log stays valid when numpy changes
its random streams. Rules (each label then flipped with probability `noise`):

    linear  uniform points; red on the positive side of a random line a·x + b·y + c = 0 (release 0.1's),
            (a, b) = (cos πt, sin πt) for t uniform in [0, 2), c uniform in [-0.3, 0.3]
    xor     uniform points; red where x·y > 0 (top-right and bottom-left quadrants)
    circle  uniform points; red inside the circle of radius sqrt(2/π) about the centre (half the square)
    gauss   two round clusters, sd 0.25, red about (0.4, 0.4) and blue about (-0.4, -0.4), clipped to the square
    spiral  two interleaved spirals of 1.75 turns, radius 0.05..0.95, red one half a turn from the blue one

    pg-circle, pg-xor, pg-gauss, pg-spiral  TensorFlow Playground's four, drawn as Playground draws them
            (engine/playground.py): gaps, even spiral spacing, noise that moves points, half per class

`separator` holds the three numbers of the true boundary: (a, b, c) of a line for linear and gauss (whose
Bayes boundary is x + y = 0), (cx, cy, r) of the circle, (cx, cy, 0) of xor's cross; spiral has none and
records (0, 0, 0). The last `n_test` points are held out: points are drawn in random order, so that is a
random split, and held-out points never reach the loss, the gradient or the score.

The rules below draw with the portable arithmetic (engine/arith.py: raw uniform doubles, nnreplay's own
sin(πx), cos(πx) and normal sampler), so a session decided on one machine is decided the same on any
other. Sessions of releases 0.1 and 0.2 drew with engine/legacy.py's copies of the same rules.
"""

import math

import attrs
import numpy as np

from engine import arith, samplers
from engine.arithmetic import PORTABLE_NAME, arithmetic
from engine.playground import RULES as PLAYGROUND, TRUTH as PLAYGROUND_TRUTH
from engine.features import feature_matrix

MAX_POINTS = 10_000
KINDS = ("linear", "xor", "circle", "gauss", "spiral", *PLAYGROUND)
RADIUS = math.sqrt(2.0 / math.pi)
_frozen = attrs.cmp_using(eq=np.array_equal)


@attrs.frozen
class DataSet:
    """Points (n, 2), labels (n,) of 0.0 (blue) or 1.0 (red), the true boundary's numbers, and what the
    model sees of them: `inputs`, the feature columns of every point; the first n - n_test train."""

    points: np.ndarray = attrs.field(eq=_frozen)
    labels: np.ndarray = attrs.field(eq=_frozen)
    separator: tuple[float, float, float]
    kind: str = "linear"
    features: tuple[str, ...] = ("x", "y")
    n_test: int = 0
    arithmetic: str = PORTABLE_NAME  # which arithmetic computes the feature columns (sin(πx))

    positive: np.ndarray = attrs.field(init=False, eq=False, repr=False)
    inputs: np.ndarray = attrs.field(init=False, eq=False, repr=False)
    n_train: int = attrs.field(init=False, eq=False, repr=False)
    _parts: tuple = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self):
        # the boolean labels, kept because every metric compares predictions with them
        object.__setattr__(self, "positive", self.labels > 0.5)
        object.__setattr__(self, "inputs", feature_matrix(self.features, self.points,
                                                                   arithmetic(self.arithmetic).sinpi))
        for array in (self.points, self.labels, self.positive, self.inputs):
            array.flags.writeable = False
        n_train = len(self.labels) - self.n_test
        object.__setattr__(self, "n_train", n_train)
        object.__setattr__(self, "_parts", tuple(
            (self.inputs[cut], self.labels[cut], self.positive[cut]) for cut in (slice(0, n_train), slice(n_train, None))))

    def part(self, held_out: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(inputs, labels, positive) of the training points, or of the held-out ones."""
        return self._parts[held_out]

    @classmethod
    def from_rows(cls, rows, separator, kind: str = "linear", features=("x", "y"), n_test: int = 0,
                  arithmetic: str = PORTABLE_NAME) -> "DataSet":
        """Build from [[x, y, label], ...] as stored in an event."""
        table = np.array(rows, dtype=np.float64).reshape(-1, 3)
        return cls(table[:, :2].copy(), table[:, 2].copy(), tuple(float(v) for v in separator), kind,
                   tuple(features), n_test, arithmetic)

    def rows(self) -> list[list[float]]:
        return [[float(x), float(y), float(label)] for (x, y), label in zip(self.points, self.labels)]


def _square(n: int, rng):
    return samplers.uniform(rng, -1.0, 1.0, (n, 2))


def _linear(n: int, rng):
    turn = samplers.uniform(rng, 0.0, 2.0)
    offset = samplers.uniform(rng, -0.3, 0.3)
    a, b = arith.cospi(turn), arith.sinpi(turn)
    points = _square(n, rng)
    return points, points[:, 0] * a + points[:, 1] * b + offset > 0, (a, b, offset)


def _xor(n: int, rng):
    points = _square(n, rng)
    return points, points[:, 0] * points[:, 1] > 0, (0.0, 0.0, 0.0)


def _circle(n: int, rng):
    points = _square(n, rng)
    x, y = points[:, 0], points[:, 1]
    return points, x * x + y * y < RADIUS * RADIUS, (0.0, 0.0, RADIUS)


def _gauss(n: int, rng):
    red = samplers.uniform(rng, 0.0, 1.0, n) < 0.5
    centres = np.where(red[:, None], 0.4, -0.4)
    points = np.clip(centres + 0.25 * samplers.gaussian(rng, (n, 2)), -1.0, 1.0)
    return points, red, (math.sqrt(0.5), math.sqrt(0.5), 0.0)


def _spiral(n: int, rng):
    red = samplers.uniform(rng, 0.0, 1.0, n) < 0.5
    t = samplers.uniform(rng, 0.0, 1.0, n)
    radius = 0.05 + 0.9 * t
    turns = 3.5 * t + np.where(red, 1.0, 0.0)  # the angle in units of π: 1.75 turns, red half a turn on
    points = np.column_stack([radius * arith.cospi(turns), radius * arith.sinpi(turns)])
    return points, red, (0.0, 0.0, 0.0)


PORTABLE_RULES = {"linear": _linear, "xor": _xor, "circle": _circle, "gauss": _gauss, "spiral": _spiral}


def draw_dataset(n: int, noise: float, rng: np.random.Generator, kind: str = "linear", features=("x", "y"),
                 n_test: int = 0, arithmetic_name: str = PORTABLE_NAME) -> DataSet:
    """n points drawn by the rule `kind` in the session's arithmetic; each label flipped with probability
    `noise`, except on Playground's data sets (engine/playground.py), whose noise moves points as
    Playground's does."""
    ops = arithmetic(arithmetic_name)
    if kind in PLAYGROUND:
        points, red, separator = PLAYGROUND[kind](n, rng, noise)
        labels = red.astype(np.float64)
    else:
        points, red, separator = ops.rules[kind](n, rng)
        labels = red.astype(np.float64)
        flips = ops.uniform(rng, 0.0, 1.0, n) < noise
        labels = np.where(flips, 1.0 - labels, labels)
    return DataSet(points, labels, tuple(float(v) for v in separator), kind, tuple(features), n_test, arithmetic_name)


def truth(kind: str, separator, xy: np.ndarray) -> np.ndarray | None:
    """A field that is positive where the rule says red and zero on its true boundary; None for spiral."""
    kind = PLAYGROUND_TRUTH.get(kind, kind)
    x, y = xy[:, 0], xy[:, 1]
    a, b, c = separator
    if kind in ("linear", "gauss"):
        return a * x + b * y + c
    if kind == "circle":
        return c * c - (x - a) ** 2 - (y - b) ** 2
    if kind == "xor":
        return (x - a) * (y - b)
    return None
