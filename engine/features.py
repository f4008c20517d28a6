"""Input features: the columns F that a model sees for a point (x, y), in the order a session names them.

    x, y      the coordinates
    x2, y2    x², y²
    xy        x·y
    sinx      sin(πx)   (π, so that one period spans the square; sin(x) on [-1, 1] is nearly linear)
    siny      sin(πy)

sin(πx) is the session's arithmetic's (`sinpi`): nnreplay's own for portable sessions, numpy's
np.sin(np.pi * x) for those of releases 0.1 and 0.2.
"""

import numpy as np

FEATURES = {
    "x": lambda x, y, sinpi: x,
    "y": lambda x, y, sinpi: y,
    "x2": lambda x, y, sinpi: x * x,
    "y2": lambda x, y, sinpi: y * y,
    "xy": lambda x, y, sinpi: x * y,
    "sinx": lambda x, y, sinpi: sinpi(x),
    "siny": lambda x, y, sinpi: sinpi(y),
}
DEFAULT_FEATURES = ("x", "y")


def feature_matrix(names: tuple[str, ...], xy: np.ndarray, sinpi) -> np.ndarray:
    """(n, len(names)) float64, C-contiguous: column j is feature names[j] of each row (x, y) of `xy`,
    with `sinpi` the arithmetic's sin(πx)."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    if tuple(names) == DEFAULT_FEATURES:
        return np.ascontiguousarray(xy)
    x, y = xy[:, 0], xy[:, 1]
    return np.ascontiguousarray(np.column_stack([FEATURES[name](x, y, sinpi) for name in names]))
