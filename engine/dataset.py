"""The red and blue points in [-1, 1]² and the true line that separates them.

The data set is drawn once, in `decide` for the start command, and its points are written into the
`session_started` event: replay reads them back and never draws, so a log stays valid when numpy changes
its random streams.
"""

import math

import attrs
import numpy as np

MAX_POINTS = 10_000


@attrs.frozen
class DataSet:
    """Points (n, 2), labels (n,) of 0.0 (blue) or 1.0 (red), and the true separator a·x + b·y + c = 0."""

    points: np.ndarray = attrs.field(eq=attrs.cmp_using(eq=np.array_equal))
    labels: np.ndarray = attrs.field(eq=attrs.cmp_using(eq=np.array_equal))
    separator: tuple[float, float, float]

    positive: np.ndarray = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self):
        # the boolean labels, kept because every metric compares predictions with them
        object.__setattr__(self, "positive", self.labels > 0.5)
        for array in (self.points, self.labels, self.positive):
            array.flags.writeable = False

    @classmethod
    def from_rows(cls, rows, separator) -> "DataSet":
        """Build from [[x, y, label], ...] as stored in an event."""
        table = np.array(rows, dtype=np.float64).reshape(-1, 3)
        return cls(table[:, :2].copy(), table[:, 2].copy(), tuple(float(v) for v in separator))

    def rows(self) -> list[list[float]]:
        return [[float(x), float(y), float(label)] for (x, y), label in zip(self.points, self.labels)]


def draw_dataset(n: int, noise: float, rng: np.random.Generator) -> DataSet:
    """n points uniform in the square, labelled red (1) on the positive side of a random line through the
    middle of the square; each label flipped with probability `noise`."""
    angle = rng.uniform(0.0, 2.0 * math.pi)
    offset = rng.uniform(-0.3, 0.3)
    separator = (math.cos(angle), math.sin(angle), offset)
    points = rng.uniform(-1.0, 1.0, size=(n, 2))
    labels = (points @ np.array(separator[:2]) + offset > 0).astype(np.float64)
    flips = rng.uniform(size=n) < noise
    labels = np.where(flips, 1.0 - labels, labels)
    return DataSet(points, labels, separator)
