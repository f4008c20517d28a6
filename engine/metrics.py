"""Metrics of any model's state, and the gradient learner's step.

loss is the mean binary cross-entropy of p = sigmoid(logit) over the training points; accuracy the share of
them predicted right (logit > 0 means red); score = exp(-loss), the geometric mean of the probability the
model gives each point's true label: 0.5 for a model that says 0.5 everywhere, near 1 for a confident
perfect one, near 0 for a confidently wrong one. Unlike accuracy it moves with every change of the
parameters, which is what a hill-climbing learner needs to tell better from worse. test_loss and
test_accuracy are the same on the held-out points (None when a session holds none out).
"""

import attrs
import numpy as np

from engine.dataset import DataSet
from engine.model import Model


@attrs.frozen
class Metrics:
    loss: float
    accuracy: float
    score: float
    test_loss: float | None = None
    test_accuracy: float | None = None


def _loss_accuracy(model: Model, z: np.ndarray, labels, positive, shared=None) -> tuple[float, float]:
    n = len(z)
    # mean BCE with logits, stable for large |z|: log(1 + e^z) - y·z, in the session's arithmetic
    loss = model.ops.bce_total(z, labels, shared) / n
    return loss, np.count_nonzero((z > 0) == positive) / n


def metrics(model: Model, params: np.ndarray, data: DataSet, forward: tuple | None = None) -> Metrics:
    """The metrics of `params`; `forward` is model.output over the training points, if already made."""
    if data.n_train == 0:
        return Metrics(0.0, 1.0, 1.0)
    inputs, labels, positive = data.part(held_out=False)
    z, _, shared = forward or model.output(params, inputs)
    loss, accuracy = _loss_accuracy(model, z, labels, positive, shared)
    score = model.ops.exp(-loss)
    if not data.n_test:
        return Metrics(loss, accuracy, score)
    inputs, labels, positive = data.part(held_out=True)
    return Metrics(loss, accuracy, score, *_loss_accuracy(model, model.logits(params, inputs), labels, positive))


def gradient_step(model: Model, params: np.ndarray, data: DataSet, lr: float,
                  forward: tuple | None = None) -> np.ndarray:
    """One full-batch gradient step on the training loss: params - lr·∂loss/∂params."""
    if data.n_train == 0:
        return params
    inputs, labels, _ = data.part(held_out=False)
    return params - lr * model.gradient(params, inputs, labels, forward)
