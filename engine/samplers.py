"""Random draws built on the bit generator's raw uniform doubles and engine.arith, portable bit for bit.

`rng.random(n)` gives (next_uint64 >> 11)·2^-53 on every machine; everything after it is engine.arith.
The order in which uniforms are consumed defines the recorded draws forever:

- uniform(rng, low, high, size): one uniform u per value, in C order; low + (high − low)·u.
- normal(rng, size): n values in C order from ceil(n/2) Box–Muller pairs. Pair i takes uniforms
  u[2i], u[2i+1] (all 2·ceil(n/2) drawn in one call): ρ = √(−2·log(1 − u[2i])), value 2i is
  ρ·cospi(2·u[2i+1]) and value 2i+1 is ρ·sinpi(2·u[2i+1]); an odd n (size None: n = 1) draws the last
  pair in full. 1 − u is in (0, 1], so the logarithm is finite.
- gamma(rng, shape): Marsaglia–Tsang on the shapes s (C order), with a = s + 1 where s < 1, d = a − 1/3,
  c = 1/√(9d). A proposal (u1, u2, u3) gives z = √(−2·log(1 − u1))·cospi(2·u2), t = 1 + c·z, v = t³,
  and is accepted when t > 0 and (u3 < 1 − 0.0331·(z²)² or log(u3) < z²/2 + d·((1 − v) + log v)), as
  G = d·v (the squeeze first, so that a scalar implementation may skip the logarithms 92% of the time).
  The first call draws 7 uniforms per shape, in index order: shape j takes u[7j … 7j+6] as proposal A
  (u[7j], u[7j+1], u[7j+2]), proposal B (u[7j+3], u[7j+4], u[7j+5]) and w = u[7j+6]. A shape takes A's
  G if A is accepted, else B's if B is accepted, else it is still pending. While shapes are pending, one
  more call draws 6 uniforms per pending shape, in index order, as A and B again. Where s < 1 the draw
  is G·exp(log(1 − w)/s) (w is drawn, and unused, for every other shape).
- beta(rng, a, b): the gamma draws of the shapes a (C order) then b, with the same consumption, give
  X = G·exp(L) and Y likewise, and the draw is 1/(1 + (G_Y/G_X)·exp(L_Y − L_X)) (the exponential only
  when some shape is below 1), so tiny shapes whose X or Y underflows give no 0/0. A draw is exactly 1
  only when Y/X < 2^-53 or so (X/(X + Y) rounds to 1) and exactly 0 only when X/(X + Y) is below the
  smallest subnormal: with shapes far below 1 that is common and right (Beta(0.001, 3) lies below 1e-308
  about half the time). Shapes below 1e-300 are raised to 1e-300 (a posterior shrunk to a prior of 0);
  a shape that is not a positive finite number is a ValueError.
"""

import numpy as np

from engine.arith import _HALF, _ONE, _TWO, _cospi, _cospi_finite, _exp, _log, _log_kernel, _sinpi

THIRD = 1.0 / 3.0
TINY_SHAPE = 1e-300
SQUEEZE = 0.0331
_ZERO, _MINUS_TWO, _SQUEEZE = np.array(0.0), np.array(-2.0), np.array(SQUEEZE)


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
    low = s.min()
    if not (low > 0.0 and s.max() < np.inf):
        raise ValueError(f"gamma and beta shapes must be positive and finite, got {values!r}")
    return s if low >= TINY_SHAPE else np.where(s < TINY_SHAPE, TINY_SHAPE, s)


def _proposals(u, log1m, logu3, d, c):
    """G of the first accepted of proposals A and B on each row of u, NaN where both are rejected.

    Both tests are computed for every proposal: what is accepted is the same as with the logarithms
    evaluated only where the squeeze fails, which a scalar implementation may do.
    """
    d, c, u3 = d[:, None], c[:, None], u[:, 2:6:3]
    z = np.sqrt(_MINUS_TWO * log1m) * _cospi_finite(_TWO * u[:, 1:6:3])
    t = _ONE + c * z
    v = t * t * t
    z2 = z * z
    positive = t > _ZERO
    squeeze = u3 < _ONE - _SQUEEZE * (z2 * z2)
    # v is normal where t > 0 (t ≥ 2^-53 there), so the kernel needs no special cases
    log_v = _log_kernel(np.where(positive, v, _ONE))
    accept = positive & (squeeze | (logu3 < _HALF * z2 + d * ((_ONE - v) + log_v)))
    g = d * v
    return np.where(accept[:, 0], g[:, 0], np.where(accept[:, 1], g[:, 1], np.nan))


def _gamma_log(rng, s, boost):
    """(G, L) with Gamma(s) = G·exp(L), consuming uniforms as the module docstring says."""
    d = np.where(boost, s + 1.0, s) - THIRD
    c = 1.0 / np.sqrt(9.0 * d)
    u = rng.random((s.size, 7))
    # one call for log(1 − u1) of A and B, log(1 − w) and log(u3) of A and B
    logs = _log(np.concatenate((_ONE - u[:, 0:7:3], u[:, 2:6:3]), axis=1))
    lb = np.where(boost, logs[:, 2] / s, 0.0)
    g = _proposals(u, logs[:, 0:2], logs[:, 3:5], d, c)
    pending = np.flatnonzero(g != g)
    while pending.size:
        u = rng.random((pending.size, 6))
        logs = _log(np.concatenate((_ONE - u[:, 0:6:3], u[:, 2:6:3]), axis=1))
        g[pending] = redo = _proposals(u, logs[:, 0:2], logs[:, 2:4], d[pending], c[pending])
        pending = pending[redo != redo]
    return g, lb


def gamma(rng, shape):
    """Gamma(shape, 1) draws, one per shape (array or float), consuming uniforms as documented above."""
    s = _shapes(shape)
    boost = s < 1.0
    g, lb = _gamma_log(rng, s, boost)
    x = g * _exp(lb) if boost.any() else g
    return float(x[0]) if np.ndim(shape) == 0 else x.reshape(np.shape(shape))


def beta(rng, a, b):
    """Beta(a, b) draws, one per arm (a and b broadcast), as X/(X + Y) from two gamma draws."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        a, b = np.broadcast_arrays(a, b)
    s = _shapes(np.concatenate((a.reshape(-1), b.reshape(-1))))
    boost = s < 1.0
    g, lb = _gamma_log(rng, s, boost)
    n = a.size
    ratio = g[n:] / g[:n]
    if boost.any():
        with np.errstate(over="ignore"):  # Y/X beyond the largest double: the draw is 0, as it should be
            ratio = ratio * _exp(lb[n:] - lb[:n])
    y = _ONE / (_ONE + ratio)
    return float(y[0]) if a.ndim == 0 else y.reshape(a.shape)
