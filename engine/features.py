"""Input features: the columns F that a model sees for a point (x, y), in the order a session names them.

    x, y      the coordinates
    x2, y2    x², y²
    xy        x·y
    sinx      sin(πx)   (π, so that one period spans the square; sin(x) on [-1, 1] is nearly linear)
    siny      sin(πy)
"""

import numpy as np

FEATURES = {
    "x": lambda x, y: x,
    "y": lambda x, y: y,
    "x2": lambda x, y: x * x,
    "y2": lambda x, y: y * y,
    "xy": lambda x, y: x * y,
    "sinx": lambda x, y: np.sin(np.pi * x),
    "siny": lambda x, y: np.sin(np.pi * y),
}
DEFAULT_FEATURES = ("x", "y")


def feature_matrix(names: tuple[str, ...], xy: np.ndarray) -> np.ndarray:
    """(n, len(names)) float64, C-contiguous: column j is feature names[j] of each row (x, y) of `xy`."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    if tuple(names) == DEFAULT_FEATURES:
        return np.ascontiguousarray(xy)
    x, y = xy[:, 0], xy[:, 1]
    return np.ascontiguousarray(np.column_stack([FEATURES[name](x, y) for name in names]))
