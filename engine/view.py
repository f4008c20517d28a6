"""What a front end draws of a state, computed by the engine so that no front end re-implements a model.

`probability` is the model's probability of red at any points; `probability_grid` samples it over the
square for a heatmap and a 0.5 contour; `truth_grid` samples the data set's true rule the same way (its
zero contour is the true boundary: a line, a circle, xor's cross), None where the data set has none.
Every model the engine has answers through these functions.
"""

import functools

import numpy as np

from engine.dataset import truth
from engine.features import feature_matrix
from engine.state import State


def logit(state: State, xy: np.ndarray) -> np.ndarray:
    """The model's logit at each row (x, y) of `xy`: positive where it predicts red."""
    model = state.settings.model
    return model.logits(state.params, feature_matrix(model.features, xy, model.ops.sinpi))


def probability(state: State, xy: np.ndarray) -> np.ndarray:
    """p(red) at each row (x, y) of `xy`: sigmoid of the model's logit."""
    return 0.5 * (1.0 + np.tanh(0.5 * logit(state, xy)))  # sigmoid without overflow


def grid_centres(n: int) -> np.ndarray:
    """The n cell centres along one side of [-1, 1]: -1 + (2k + 1) / n."""
    return -1.0 + (2.0 * np.arange(n) + 1.0) / n


@functools.lru_cache(maxsize=16)
def _grid(n: int) -> np.ndarray:
    # the same cells for every state drawn at n: made once, and read-only so that no caller changes them
    c = grid_centres(n)
    xs, ys = np.meshgrid(c, c)
    cells = np.column_stack([xs.ravel(), ys.ravel()])
    cells.flags.writeable = False
    return cells


def probability_grid(state: State, n: int) -> np.ndarray:
    """(n, n) array of p(red) at cell centres: row i is y = grid_centres(n)[i] (bottom row first), column j
    is x = grid_centres(n)[j]."""
    return probability(state, _grid(n)).reshape(n, n)


def logit_grid(state: State, n: int) -> np.ndarray:
    """The logit on the same cells: its zero contour is the boundary, exact for a linear model."""
    return logit(state, _grid(n)).reshape(n, n)


def truth_grid(state: State, n: int) -> np.ndarray | None:
    """(n, n) field of the data set's rule on the same cells, positive where it says red; None for spiral."""
    field = truth(state.data.kind, state.data.separator, _grid(n))
    return None if field is None else field.reshape(n, n)


def model_fields(state: State) -> dict:
    """The model part of `show --json`: `model` (features, hidden sizes, activation or None without hidden
    layers), `params` (each named array as nested lists of the recorded float64 values), and the held-out
    part: `test_points` ([x, y, label] rows), `test_loss` and `test_accuracy` (None when none are held out)."""
    model = state.settings.model
    data = state.data
    m = state.metrics
    return {
        "model": {"features": list(model.features), "hidden": list(model.hidden),
                  "activation": model.activation if model.hidden else None},
        "params": {name: array.tolist() for name, array in model.arrays(state.params).items()},
        "test_points": [[float(x), float(y), int(label)]
                        for (x, y), label in zip(data.points[data.n_train:], data.labels[data.n_train:])],
        "test_loss": m.test_loss, "test_accuracy": m.test_accuracy,
    }
