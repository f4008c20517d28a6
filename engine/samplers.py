"""Random draws built on the bit generator's raw uniform doubles and engine.arith, portable bit for bit.

`rng.random(n)` gives (next_uint64 >> 11)·2^-53 on every machine; everything after it is engine.arith.
The order in which uniforms are consumed defines the recorded draws forever:

- uniform(rng, low, high, size): one uniform u per value, in C order; low + (high − low)·u.
- normal(rng, size): n values in C order from ceil(n/2) Box–Muller pairs. Pair i takes uniforms
  u[2i], u[2i+1] (all 2·ceil(n/2) drawn in one call): ρ = √(−2·log(1 − u[2i])), value 2i is
  ρ·cospi(2·u[2i+1]) and value 2i+1 is ρ·sinpi(2·u[2i+1]); an odd n draws the last pair in full.
- gamma(rng, shape): Marsaglia–Tsang on the shapes s (C order), with a = s + 1 where s < 1, d = a − 1/3,
  c = 1/√(9d). Rounds: every shape not yet accepted, in index order, takes three uniforms of one call
  (j-th pending shape: u[3j], u[3j+1], u[3j+2]); z = √(−2·log(1 − u[3j]))·cospi(2·u[3j+1]), t = 1 + c·z,
  v = t³; accepted when t > 0 and (u[3j+2] < 1 − 0.0331·z⁴ or log(u[3j+2]) < z²/2 + d·((1 − v) + log v)),
  giving G = d·v; the rejected shapes, in index order, make the next round. After the last round one more
  call draws one uniform w per shape with s < 1, in index order, and G becomes G·exp(log(1 − w)/s).
- beta(rng, a, b): one gamma draw over the concatenated shapes (a in C order, then b), hence the same
  consumption, and X/(X + Y) = sigmoid(log X − log Y), computed from log G + log(1 − w)/s so that tiny
  shapes do not underflow to 0/0. A draw is exactly 0 or 1 only when X/(X + Y) rounds there (shapes far
  below 1 against a large one). Shapes below 1e-300 are raised to 1e-300; a shape that is not a positive
  finite number is a ValueError.
"""

import numpy as np

from engine.arith import _cospi, _exp, _log, _sigmoid, _sinpi

THIRD = 1.0 / 3.0
SQUEEZE = 0.0331
TINY_SHAPE = 1e-300


def uniform(rng, low, high, size=None):
    """low + (high − low)·u for raw uniforms u (no library-side fused multiply-add)."""
    return low + (high - low) * rng.random(size)


def normal(rng, size=None):
    """Standard normal draws by Box–Muller in the order of the module docstring."""
    out = np.empty(() if size is None else size)
    n = out.size
    u = rng.random(2 * ((n + 1) // 2))
    radius = np.sqrt(-2.0 * _log(1.0 - u[0::2]))
    turn = 2.0 * u[1::2]
    flat = out.reshape(-1)
    flat[0::2] = radius * _cospi(turn)
    flat[1::2] = (radius * _sinpi(turn))[: n // 2]
    return float(out) if size is None else out


def _shapes(values):
    s = np.asarray(values, dtype=np.float64).reshape(-1)
    if not ((s > 0.0) & (s < np.inf)).all():
        raise ValueError(f"gamma and beta shapes must be positive and finite, got {values!r}")
    return np.where(s < TINY_SHAPE, TINY_SHAPE, s)


def _gamma_log(rng, s):
    """(G, L) with Gamma(s) = G·exp(L): Marsaglia–Tsang rounds, then the boost for s < 1."""
    boost = s < 1.0
    d = np.where(boost, s + 1.0, s) - THIRD
    c = 1.0 / np.sqrt(9.0 * d)
    g = np.empty_like(s)
    pending = np.arange(s.size)
    while pending.size:
        u = rng.random(3 * pending.size)
        z = np.sqrt(-2.0 * _log(1.0 - u[0::3])) * _cospi(2.0 * u[1::3])
        dp, u3 = d[pending], u[2::3]
        t = 1.0 + c[pending] * z
        v = t * t * t
        z2 = z * z
        positive = t > 0.0
        accept = positive & (u3 < 1.0 - SQUEEZE * (z2 * z2))
        unsure = positive & ~accept
        if unsure.any():
            # the squeeze decides most proposals; the logarithms only the rest
            du, vu = dp[unsure], v[unsure]
            accept[unsure] = _log(u3[unsure]) < 0.5 * z2[unsure] + du * ((1.0 - vu) + _log(vu))
        g[pending[accept]] = dp[accept] * v[accept]
        pending = pending[~accept]
    lb = np.zeros_like(s)
    if boost.any():
        lb[boost] = _log(1.0 - rng.random(int(np.count_nonzero(boost)))) / s[boost]
    return g, lb


def gamma(rng, shape):
    """Gamma(shape, 1) draws, one per shape (array or float), consuming uniforms as documented above."""
    s = _shapes(shape)
    g, lb = _gamma_log(rng, s)
    x = g * _exp(lb)
    return float(x[0]) if np.ndim(shape) == 0 else x.reshape(np.shape(shape))


def beta(rng, a, b):
    """Beta(a, b) draws, one per arm (a and b broadcast), as sigmoid(log X − log Y)."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    g, lb = _gamma_log(rng, _shapes(np.concatenate((a.reshape(-1), b.reshape(-1)))))
    lg = _log(g) + lb
    n = a.size
    y = _sigmoid(lg[:n] - lg[n:])
    return float(y[0]) if a.ndim == 0 else y.reshape(a.shape)
