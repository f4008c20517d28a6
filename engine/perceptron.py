"""One perceptron: prediction w·x + b > 0, sigmoid output, binary cross-entropy loss.

The score maps the loss into (0, 1]: score = exp(-loss), the geometric mean of the probability the
perceptron gives each point's true label. A perfect, confident separator scores near 1; the untrained
w = 0 scores exp(-ln 2) = 0.5; a confidently wrong one scores near 0. Unlike accuracy it moves with every
change of the weights, which is what a hill-climbing learner needs to tell better from worse.
"""

import math

import attrs
import numpy as np

from engine.dataset import DataSet


@attrs.frozen
class Metrics:
    loss: float
    accuracy: float
    score: float


def logits(params: tuple[float, float, float], data: DataSet) -> np.ndarray:
    w1, w2, b = params
    return data.points[:, 0] * w1 + data.points[:, 1] * w2 + b


def metrics(params: tuple[float, float, float], data: DataSet) -> Metrics:
    if len(data.labels) == 0:
        return Metrics(0.0, 1.0, 1.0)
    z = logits(params, data)
    n = len(z)
    # mean BCE with logits, stable for large |z|: log(1 + e^z) - y·z
    loss = float(np.logaddexp(0.0, z).sum() - data.labels @ z) / n
    accuracy = np.count_nonzero((z > 0) == data.positive) / n
    return Metrics(loss, accuracy, math.exp(-loss))


def gradient_step(params: tuple[float, float, float], data: DataSet, lr: float) -> tuple[float, float, float]:
    """One full-batch gradient step on the mean BCE: ∂L/∂w = mean((σ(z) - y)·x), ∂L/∂b = mean(σ(z) - y)."""
    if len(data.labels) == 0:
        return params
    z = logits(params, data)
    error = 0.5 * (1.0 + np.tanh(0.5 * z)) - data.labels  # σ(z) - y, without overflow
    g1, g2 = error @ data.points / len(error)
    gb = float(np.mean(error))
    w1, w2, b = params
    return (w1 - lr * float(g1), w2 - lr * float(g2), b - lr * gb)
