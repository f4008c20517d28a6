"""The level set of a field sampled on a grid, as line segments (marching squares, plain numpy).

Used for any model's boundary (the zero contour of its logit, so a perceptron's is exactly its line) and for
a data set's true boundary (the zero contour of its rule: a line, a circle, xor's cross).
"""

import numpy as np


def _cut(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Where between 0 and 1 the linear interpolation from a to b crosses zero (only used where it does)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.clip(np.nan_to_num(a / (a - b), nan=0.5), 0.0, 1.0)


def contour_segments(field: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """(m, 2, 2) segments of the zero contour of `field`, where field[i, j] is the value at (xs[j], ys[i]).

    Each grid cell with corners of both signs holds one segment between the two edges the sign changes on,
    two at a saddle (paired by the sign at the cell's centre, the corners' mean).
    """
    f = np.asarray(field, dtype=np.float64)
    v00, v01, v10, v11 = f[:-1, :-1], f[:-1, 1:], f[1:, :-1], f[1:, 1:]
    x0, x1 = np.broadcast_arrays(xs[None, :-1], f[:-1, :-1])[0], np.broadcast_arrays(xs[None, 1:], f[:-1, :-1])[0]
    y0, y1 = np.broadcast_arrays(ys[:-1, None], f[:-1, :-1])[0], np.broadcast_arrays(ys[1:, None], f[:-1, :-1])[0]
    p00, p01, p10, p11 = v00 > 0, v01 > 0, v10 > 0, v11 > 0
    # edges in order bottom, right, top, left: whether the sign changes there, and the crossing point
    crosses = np.stack([p00 != p01, p01 != p11, p10 != p11, p00 != p10], axis=-1)
    t = [_cut(v00, v01), _cut(v01, v11), _cut(v10, v11), _cut(v00, v10)]
    points = np.stack([
        np.stack([x0 + t[0] * (x1 - x0), y0], axis=-1),
        np.stack([x1, y0 + t[1] * (y1 - y0)], axis=-1),
        np.stack([x0 + t[2] * (x1 - x0), y1], axis=-1),
        np.stack([x0, y0 + t[3] * (y1 - y0)], axis=-1),
    ], axis=-2)  # (rows, cols, 4, 2)
    count = crosses.sum(axis=-1)
    segments = []
    two = count == 2
    if two.any():
        order = np.argsort(~crosses[two], axis=-1, kind="stable")[:, :2]
        chosen = np.take_along_axis(points[two], order[:, :, None], axis=1)
        segments.append(chosen)
    four = count == 4
    if four.any():
        pts = points[four]
        centre_like_corner = ((v00 + v01 + v10 + v11)[four] > 0) == p00[four]
        # the centre joins bottom-left to top-right: the contour cuts off the other two corners
        first = np.where(centre_like_corner[:, None], [0, 1], [0, 3])
        second = np.where(centre_like_corner[:, None], [2, 3], [1, 2])
        segments.append(np.take_along_axis(pts, first[:, :, None], axis=1))
        segments.append(np.take_along_axis(pts, second[:, :, None], axis=1))
    return np.concatenate(segments) if segments else np.zeros((0, 2, 2))
