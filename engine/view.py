"""What a front end draws of a state, computed by the engine so that no front end re-implements a model.

`probability` is the model's probability of red at any points; `probability_grid` samples it over the
square for a heatmap and a 0.5 contour. Every model the engine has answers through these two functions.
"""

import numpy as np

from engine.state import State


def probability(state: State, xy: np.ndarray) -> np.ndarray:
    """p(red) at each row (x, y) of `xy`: sigmoid of the model's logit."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    w1, w2, b = state.params
    z = xy[:, 0] * w1 + xy[:, 1] * w2 + b
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # sigmoid without overflow


def grid_centres(n: int) -> np.ndarray:
    """The n cell centres along one side of [-1, 1]: -1 + (2k + 1) / n."""
    return -1.0 + (2.0 * np.arange(n) + 1.0) / n


def probability_grid(state: State, n: int) -> np.ndarray:
    """(n, n) array of p(red) at cell centres: row i is y = grid_centres(n)[i] (bottom row first), column j
    is x = grid_centres(n)[j]."""
    c = grid_centres(n)
    xs, ys = np.meshgrid(c, c)
    return probability(state, np.column_stack([xs.ravel(), ys.ravel()])).reshape(n, n)
