"""The machine arithmetic of releases 0.1 and 0.2, kept expression for expression and never changed.

Logs recorded by those releases carry no arithmetic field and fold with these functions, so they replay
bit for bit wherever the recording machine's kernels match this one's. Their bits are the machine's:
`@` is a BLAS product, `.sum()` a numpy reduction whose order follows its SIMD paths, np.tanh, np.exp,
np.sin and the Beta sampler come from numpy's and the C library's code for this CPU. New sessions use
engine/portable.py; this module exists only so that old logs keep their meaning.
"""

import math

import numpy as np

from engine.arithmetic import MACHINE_NAME, Arithmetic

RADIUS = math.sqrt(2.0 / math.pi)


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # without overflow for large |z|


def _bce_total(z, labels, shared=None) -> float:
    # log(1 + e^z) - y·z summed over the points
    return float(np.logaddexp(0.0, z).sum() - labels @ z)


def _sum_points(a):
    return a.sum(axis=0)


def _weighted_points(error, h):
    return error @ h


def _sinpi(x):
    return np.sin(np.pi * x)


def _linear(n: int, rng):
    angle = rng.uniform(0.0, 2.0 * math.pi)
    offset = rng.uniform(-0.3, 0.3)
    separator = (math.cos(angle), math.sin(angle), offset)
    points = rng.uniform(-1.0, 1.0, size=(n, 2))
    return points, points @ np.array(separator[:2]) + offset > 0, separator


def _xor(n: int, rng):
    points = rng.uniform(-1.0, 1.0, size=(n, 2))
    return points, points[:, 0] * points[:, 1] > 0, (0.0, 0.0, 0.0)


def _circle(n: int, rng):
    points = rng.uniform(-1.0, 1.0, size=(n, 2))
    return points, (points * points).sum(axis=1) < RADIUS * RADIUS, (0.0, 0.0, RADIUS)


def _gauss(n: int, rng):
    red = rng.uniform(size=n) < 0.5
    centres = np.where(red[:, None], 0.4, -0.4)
    points = np.clip(centres + rng.normal(0.0, 0.25, size=(n, 2)), -1.0, 1.0)
    return points, red, (math.sqrt(0.5), math.sqrt(0.5), 0.0)


def _spiral(n: int, rng):
    red = rng.uniform(size=n) < 0.5
    t = rng.uniform(size=n)
    radius = 0.05 + 0.9 * t
    angle = 1.75 * 2.0 * math.pi * t + np.where(red, math.pi, 0.0)
    points = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return points, red, (0.0, 0.0, 0.0)


def _uniform(rng, low, high, size=None):
    return rng.uniform(low, high, size=size)


def _perceptron_start(rng) -> tuple[float, float, float]:
    # weights of length 0.5 at a uniform angle, bias uniform in [-0.3, 0.3]
    angle = rng.uniform(0.0, 2.0 * np.pi)
    return (0.5 * float(np.cos(angle)), 0.5 * float(np.sin(angle)), float(rng.uniform(-0.3, 0.3)))


def _beta_draws(rng, alphas, betas) -> tuple[float, ...]:
    # one scalar call per arm: numpy checks array arguments in Python, which costs more than the draws
    beta = rng.beta
    return tuple(float(beta(a, b)) for a, b in zip(alphas, betas))


MACHINE = Arithmetic(
    name=MACHINE_NAME,
    activations={"tanh": np.tanh, "relu": lambda a: np.maximum(a, 0.0), "sigmoid": _sigmoid, "linear": lambda a: a},
    sigmoid=_sigmoid, output_exp=lambda z: None, output_sigmoid=lambda z, shared: _sigmoid(z),
    sum_points=_sum_points, weighted_points=_weighted_points, bce_total=_bce_total,
    exp=math.exp, sinpi=_sinpi,
    rules={"linear": _linear, "xor": _xor, "circle": _circle, "gauss": _gauss, "spiral": _spiral},
    uniform=_uniform, perceptron_start=_perceptron_start, beta_draws=_beta_draws,
)
