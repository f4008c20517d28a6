"""The level set of a field sampled on a grid, as line segments and polylines (marching squares, numpy).

Used for any model's boundary (the zero contour of its logit, so a perceptron's is exactly its line) and for
a data set's true boundary (the zero contour of its rule: a line, a circle, xor's cross).
"""

import numpy as np


def contour_segments(field: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """(m, 2, 2) segments of the zero contour of `field`, where field[i, j] is the value at (xs[j], ys[i]).

    Each grid cell with corners of both signs holds one segment between the two edges the sign changes on,
    two at a saddle (paired by the sign at the cell's centre, the corners' mean). Only the cells the contour
    crosses are computed.
    """
    f = np.asarray(field, dtype=np.float64)
    positive = f > 0
    p00, p01, p10, p11 = positive[:-1, :-1], positive[:-1, 1:], positive[1:, :-1], positive[1:, 1:]
    rows, cols = np.nonzero((p00 != p01) | (p00 != p10) | (p00 != p11))
    if not len(rows):
        return np.zeros((0, 2, 2))
    v00, v01, v10, v11 = f[rows, cols], f[rows, cols + 1], f[rows + 1, cols], f[rows + 1, cols + 1]
    x0, x1, y0, y1 = xs[cols], xs[cols + 1], ys[rows], ys[rows + 1]
    s00, s01, s10, s11 = v00 > 0, v01 > 0, v10 > 0, v11 > 0
    # edges in order bottom, right, top, left: whether the sign changes there, and where
    crosses = np.stack([s00 != s01, s01 != s11, s10 != s11, s00 != s10], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = [np.clip(np.nan_to_num(a / (a - b), nan=0.5), 0.0, 1.0)
             for a, b in ((v00, v01), (v01, v11), (v10, v11), (v00, v10))]
    points = np.empty((len(rows), 4, 2))
    points[:, 0] = np.column_stack([x0 + t[0] * (x1 - x0), y0])
    points[:, 1] = np.column_stack([x1, y0 + t[1] * (y1 - y0)])
    points[:, 2] = np.column_stack([x0 + t[2] * (x1 - x0), y1])
    points[:, 3] = np.column_stack([x0, y0 + t[3] * (y1 - y0)])
    count = crosses.sum(axis=1)
    two, four = count == 2, count == 4
    order = np.argsort(~crosses[two], axis=1, kind="stable")[:, :2]
    segments = [np.take_along_axis(points[two], order[:, :, None], axis=1)]
    if four.any():
        # the centre like the bottom-left corner joins it to the top-right: the contour cuts off the other two
        joined = ((v00 + v01 + v10 + v11)[four] > 0) == s00[four]
        first = np.where(joined[:, None], [0, 1], [0, 3])
        second = np.where(joined[:, None], [2, 3], [1, 2])
        segments += [np.take_along_axis(points[four], pair[:, :, None], axis=1) for pair in (first, second)]
    return np.concatenate(segments)


def polylines(segments: np.ndarray) -> list[np.ndarray]:
    """Chain segments that share end points (marching squares computes a shared crossing once per side,
    to the same bits) into polylines, so that a dashed line keeps its dashes and a path has few pieces."""
    ends: dict[tuple, list[int]] = {}
    for index, (a, b) in enumerate(segments.tolist()):
        ends.setdefault(tuple(a), []).append(index)
        ends.setdefault(tuple(b), []).append(index)
    used = np.zeros(len(segments), dtype=bool)
    lines = []
    for start in range(len(segments)):
        if used[start]:
            continue
        used[start] = True
        chain = [tuple(p) for p in segments[start].tolist()]
        for forward in (True, False):
            while True:
                tip = chain[-1] if forward else chain[0]
                following = [i for i in ends.get(tip, ()) if not used[i]]
                if not following:
                    break
                used[following[0]] = True
                a, b = (tuple(p) for p in segments[following[0]].tolist())
                nxt = b if a == tip else a
                chain.append(nxt) if forward else chain.insert(0, nxt)
        lines.append(np.array(chain))
    return lines


def nan_joined(segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(xs, ys) of the segments' polylines as one line broken by NaNs: one path for Agg to stroke."""
    if not len(segments):
        return np.zeros(0), np.zeros(0)
    parts = []
    for line in polylines(segments):
        parts += [line, np.full((1, 2), np.nan)]
    joined = np.concatenate(parts)
    return joined[:, 0], joined[:, 1]
