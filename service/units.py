"""Inside the model, for the page's network diagram: what each input feature and each hidden unit computes
over the square, and the weights that join them.

Display only, like engine.view's grids: the numbers come from the engine's own forward pass
(`Model.forward`) on its own feature columns (`feature_matrix`), so a model the engine gains is drawn
without page changes, and nothing here reaches a digest.
"""

import numpy as np

from engine.features import feature_matrix
from engine.view import grid_centres

UNIT_GRID = 16
MAX_UNIT_GRID = 48


def _cells(n: int) -> np.ndarray:
    c = grid_centres(n)
    xs, ys = np.meshgrid(c, c)
    return np.column_stack([xs.ravel(), ys.ravel()])


def _rows(values: np.ndarray, n: int) -> list:
    """Column k of `values` (n*n, k) as n rows of n, bottom row first, three decimals."""
    return [np.round(values[:, k].reshape(n, n), 3).tolist() for k in range(values.shape[1])]


def network(state, n: int = UNIT_GRID) -> dict:
    """`{features, inputs, hidden, layers}`: `inputs` one n x n grid per feature column, `hidden` per hidden
    layer one grid per unit (its activation's output), rows bottom to top as in `grid`; `layers` the
    weights of every layer in order, each `{"weights": [[...]], "bias": [...]}` (inputs x units), the last
    one into the output unit."""
    model = state.settings.model
    xy = _cells(n)
    inputs = feature_matrix(model.features, xy, model.ops.sinpi)
    _, trace = model.forward(state.params, inputs)
    return {"features": list(model.features), "inputs": _rows(inputs, n),
            "hidden": [_rows(h, n) for _, h in trace],
            "layers": [{"weights": w.tolist(), "bias": b.tolist()} for w, b in model.layers(state.params)]}
