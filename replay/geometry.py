"""Where a perceptron's boundary and predicted-red region meet the square [-1, 1]² (plain numpy)."""

import numpy as np

CORNERS = np.array([(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)])


def clip_to_square(params: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """(red region, boundary): the polygon of the square where w1·x + w2·y + b > 0 (red is predicted), and
    the segment of the line w1·x + w2·y + b = 0 inside the square. Either can be empty, shape (0, 2).

    One pass of Sutherland–Hodgman: walk the square's edges, keep the corners on the red side and the points
    where an edge crosses the line; those crossings are the boundary's ends.
    """
    w1, w2, b = params
    z = CORNERS @ np.array([w1, w2]) + b
    region, crossings = [], []
    for i in range(4):
        j = (i + 1) % 4
        if z[i] > 0:
            region.append(CORNERS[i])
        if (z[i] > 0) != (z[j] > 0):
            t = z[i] / (z[i] - z[j])
            point = CORNERS[i] + t * (CORNERS[j] - CORNERS[i])
            region.append(point)
            crossings.append(point)
    return np.array(region).reshape(-1, 2), np.array(crossings).reshape(-1, 2)


def predicted_red(params: tuple[float, float, float], points: np.ndarray) -> np.ndarray:
    w1, w2, b = params
    return points[:, 0] * w1 + points[:, 1] * w2 + b > 0
