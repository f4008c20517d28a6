"""The portable arithmetic (`portable-1`): what every new session is folded, digested and decided with.

Built from engine/arith.py alone: IEEE-754 basic operations (+ − × ÷ √, correctly rounded on every
conforming machine) applied elementwise by numpy in an order nnreplay fixes, nnreplay's own exp, log1p,
tanh, sin(πx), and samplers on the bit generator's raw uniform doubles. No BLAS, no library-ordered sum,
no library transcendental function: the same log gives the same bits on any CPU, SIMD level or BLAS.
`tests/engine/reference_fold.py` folds the same sessions in plain Python floats and must agree bit for bit.
"""

import numpy as np

from engine import arith, samplers
from engine.arithmetic import PORTABLE_NAME, Arithmetic
from engine.dataset import PORTABLE_RULES


def _output_exp(z):
    return arith.exp(-np.abs(z))


def _bce_total(z, labels, e=None) -> float:
    # Σ log(1 + e^z) - y·z = Σ (max(z, 0) - y·z) + Σ log(1 + e^-|z|), the second sum as one log of a
    # product (arith.log1p_total): one log for the whole loss instead of one per point
    e = _output_exp(z) if e is None else e
    return float(arith.total(np.where(z > 0.0, z, 0.0) - labels * z)) + arith.log1p_total(e)


def _weighted_points(error, h):
    return arith.total(error[:, None] * h)


def _relu(a):
    # not np.maximum: which zero max(-0.0, 0.0) returns differs between its SIMD paths
    return np.where(a > 0.0, a, 0.0)


def _perceptron_start(rng) -> tuple[float, float, float]:
    # weights of length 0.5 at a uniform angle (drawn as a fraction of a turn), bias uniform in [-0.3, 0.3]
    turn = samplers.uniform(rng, 0.0, 2.0)
    return (0.5 * arith.cospi(turn), 0.5 * arith.sinpi(turn), samplers.uniform(rng, -0.3, 0.3))


def _beta_draws(rng, alphas, betas) -> tuple[float, ...]:
    return tuple(samplers.beta_draws(rng, alphas, betas))


PORTABLE = Arithmetic(
    name=PORTABLE_NAME,
    activations={"tanh": arith.tanh, "relu": _relu, "sigmoid": arith.sigmoid, "linear": lambda a: a},
    sigmoid=arith.sigmoid, output_exp=_output_exp, output_sigmoid=arith.sigmoid_given,
    sum_points=arith.total, weighted_points=_weighted_points, bce_total=_bce_total,
    exp=arith.exp, sinpi=arith.sinpi, rules=PORTABLE_RULES, uniform=samplers.uniform,
    perceptron_start=_perceptron_start, beta_draws=_beta_draws,
)
