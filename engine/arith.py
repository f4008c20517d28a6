"""PROVISIONAL stub (replaced by the portable implementation): same API, numpy's own functions."""
import numpy as np


def _ret(x, out):
    return float(out) if isinstance(x, float) else out


def exp(x): return _ret(x, np.exp(x))
def log(x): return _ret(x, np.log(x))
def log1p(x): return _ret(x, np.log1p(x))
def tanh(x): return _ret(x, np.tanh(x))
def sigmoid(z): return _ret(z, 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z))))
def softplus(z): return _ret(z, np.logaddexp(0.0, z))
def sinpi(x): return _ret(x, np.sin(np.pi * np.asarray(x)))
def cospi(x): return _ret(x, np.cos(np.pi * np.asarray(x)))
def total(a, axis=0): return np.asarray(a).sum(axis=0)
def uniform(rng, low, high, size=None):
    u = rng.random(size)
    return low + (high - low) * u
def normal(rng, size=None): return rng.standard_normal(size)
def beta(rng, a, b): return np.array([rng.beta(x, y) for x, y in zip(a, b)])
