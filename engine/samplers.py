"""Random draws built on the bit generator's raw uniform doubles and engine.arith, portable bit for bit.

`rng.random(n)` gives (next_uint64 >> 11)·2^-53 on every machine; everything after it is IEEE-754 basic
operations, exact ones (comparisons, selects, truncation of a float in [0, 512) to an integer, table
look-ups) and engine.arith's exp and log. engine/scalar.py is the same algorithm on CPython floats (the
twin, held to these functions bit for bit by tests/engine/test_arith.py), and for a few arms the engine's
own path (SCALAR_ARMS). The order in which uniforms are consumed defines the recorded draws forever:

- uniform(rng, low, high, size): one uniform u per value, in C order; low + (high − low)·u.

- A normal attempt takes two uniforms (Z, W). k = int(512·Z) ∈ 0 … 511 and f = 512·Z − k ∈ [0, 1) (both
  exact); the point is z = f·ZIG_W[k] in strip k >> 1 of a 256-strip ziggurat (negative for odd k). Tables
  (engine/scalar.py, computed at import from the constant R = 3.6554204190269415 with the twin's exp, log
  and exact √, the same bits everywhere): strip 0 is the rectangle [0, R]×[0, f(R)] with the envelope
  f(R)·e^(−R(x−R)) beyond R, strips 1 … 255 the rectangles [0, x_i]×[f(x_i), f(x_(i+1))], all of area
  V = f(R)·(R + 1/R), f(x) = e^(−x²/2). The attempt
  * takes z if f < ZIG_Q[k] (inside the strip's inner rectangle: 98.5% of attempts, no function call);
  * else, in strip 0 (k < 2), maps the point to the tail: e = −log(1 − (|z| − R)·R)/R, and takes
    ±(R + e) (the sign of z) if W < exp(−0.5·(e·e)); 0.03% of attempts;
  * else takes z if ZIG_F[k] + W·ZIG_D[k] < exp(−0.5·(z·z)) (the wedge);
  * and otherwise is rejected (0.67% of attempts): the value is drawn again, by a whole new attempt.
- gaussian(rng, size): n standard normal values in C order. A round draws 2p uniforms in one call for its p pending values
  (the first round: all n), u[0 … p−1] the Z and u[p … 2p−1] the W of the pending values in index order;
  the values whose attempts are rejected are pending in the next round. size None: one value, n = 1.

- gamma(rng, shape), Marsaglia–Tsang 2000 on the m shapes s (C order): a shape below 1e-300 is raised to
  1e-300, and a shape below 1 is boosted (Gamma(s) = Gamma(s + 1)·B^(1/s)); d = (s + 1 if boosted else s)
  − 1/3, c = 1/√(9·d). An attempt takes three uniforms (Z, W, U): the normal attempt (Z, W) gives z (or is
  rejected, and then so is the gamma attempt); x = c·z, t = 1 + x, v = t·t·t, q = (z·x)·(z·x), and the
  attempt is accepted, as G = d·v, exactly when S1 or S2 or (not R and t > 0 and E):
  * S1: U < 1 − 0.0331·((z·z)·(z·z)) (Marsaglia–Tsang's squeeze, true for ~92% of attempts);
  * S2: 12·((1 − U)·(1 − |x|)) > q;
  * R: |x| ≤ 1 and U − 1 ≥ U·(q·(x·(1/15) − 1/12)) (1/15 and 1/12 rounded to doubles);
  * E: log(U) < 0.5·(z·z) + d·((1 − v) + log v), the exact test (log 0 = −inf).
  S1 and S2 imply the exact test and R its failure: the right side is z²·φ(x) with
  φ(x) = Σ_(k≥4) (−1)^(k+1)·x^(k−2)/(3k), and for |x| ≤ 1, −x²/(12(1 − |x|)) ≤ φ(x) ≤ −x²/12 + x³/15,
  while 1 − 1/U ≤ log U ≤ U − 1; S1 and S2 imply t > 0. The bounds only spare logarithms: with S1
  alone 8% of attempts need them at every shape; after S2 and R, 5.6% at shape 1, 3.6% at 1.5, 1% at 3,
  0.1% at 10.
  The first round draws 3m + b uniforms in one call, b the number of boosted shapes: u[j], u[m + j],
  u[2m + j] are shape j's (Z, W, U), and u[3m + q] is B for the q-th boosted shape (index order), whose
  L = log(1 − B)/s (finite: 1 − B > 0). Each later round draws 3p uniforms in one call for its p pending
  shapes: u[j], u[p + j], u[2p + j] for the j-th in index order. The draw is G, or G·exp(L) if boosted.
- beta(rng, a, b): the gamma parts (G, L) of the 2n shapes a (C order) then b, consumed as above with
  m = 2n. For an arm with neither shape boosted the draw is X/(X + Y), X = G_a, Y = G_b: no underflow, no
  0/0 (G ≥ d·2^-159 > 0). Otherwise it is 1/(1 + (G_b/G_a)·exp(L_b − L_a)) (L = 0 for a shape that is not
  boosted), so that tiny shapes, whose X or Y underflows, give no 0/0: a draw is exactly 0 when the ratio
  overflows (Beta(0.001, 3) lies below 1e-308 about half the time) and exactly 1 when it is below 2^-53 or
  so. A shape that is not a positive finite number is a ValueError.

Which lanes compute a logarithm or an exponential, and whether numpy or the twin's code computes them
(SCALAR_ARMS, SCALAR_LANES), changes no bit: every test is a pure function of the lane's uniforms, and
the tests hold all paths to the twin.
"""

import math

import numpy as np

from engine import scalar
from engine.arith import _HALF, _ONE, _exp, _log
from engine.scalar import SQUEEZE, THIRD, TINY_SHAPE, ZIG_R  # noqa: F401  (re-exported)

SCALAR_ARMS = 40
"""beta() and beta_draws() take engine/scalar.py's path (pure Python, same operations) up to this many arms.

Chosen with `python bench/bench_samplers.py --sweep` (µs of CPU per call; the paths cross between 40 and
50 arms): 6 arms 11 µs on the twin's path against 36 µs on numpy's (numpy's own rng.beta loop: 5 µs).
"""

SCALAR_LANES = 24
"""Attempts off the fast path are finished by the twin's code when at most this many, else elementwise."""

_ZERO, _SQUEEZE, _R, _MINUS_HALF = np.array(0.0), np.array(SQUEEZE), np.array(ZIG_R), np.array(-0.5)
_TWELVE, _FIFTEENTH, _TWELFTH_ = np.array(12.0), np.array(scalar.FIFTEENTH), np.array(scalar.TWELFTH)
_STRIPS2 = np.array(512.0)
_W, _Q, _F, _D = (np.array(t) for t in (scalar.ZIG_W, scalar.ZIG_Q, scalar.ZIG_F, scalar.ZIG_D))


def _draw_list(rng):
    random = rng.random  # once: the engine's generator is built lazily behind __getattr__
    return lambda k: random(k).tolist()


def uniform(rng, low, high, size=None):
    """low + (high − low)·u for raw uniforms u (no library-side fused multiply-add)."""
    return low + (high - low) * rng.random(size)


def _edge(z, w, k):
    """(value, accepted) of normal attempts outside their inner rectangles, elementwise (scalar._edge)."""
    base = k < 2
    if not base.any():  # no tail lane (most calls): the same bits without the logarithm
        ok = _F.take(k) + w * _D.take(k) < _exp(_MINUS_HALF * (z * z))
        return z, ok
    e = -_log(_ONE - (np.abs(z) - _R) * _R) / _R
    arg = np.where(base, e, z)
    bound = _exp(_MINUS_HALF * (arg * arg))
    below = np.where(base, w, _F.take(k) + w * _D.take(k))
    return np.where(base, np.copysign(_R + e, z), z), below < bound


def _normal_attempts(uz, uw):
    """(z, accepted) for normal attempts (Z, W); accepted is None when every attempt is accepted."""
    v9 = uz * _STRIPS2
    k = v9.astype(np.intp)
    f = v9 - k
    z = f * _W.take(k)
    fast = f < _Q.take(k)
    if fast.all():
        return z, None
    slow = np.flatnonzero(~fast)
    if slow.size <= SCALAR_LANES:  # a few lanes: the twin's code, cheaper than a dozen numpy calls
        for j, zj, wj, kj in zip(slow.tolist(), z[slow].tolist(), uw[slow].tolist(), k[slow].tolist()):
            value = scalar._edge(zj, wj, kj)
            if value is not None:
                z[j] = value
                fast[j] = True
        return z, fast
    z[slow], fast[slow] = _edge(z[slow], uw[slow], k[slow])
    return z, fast


def gaussian(rng, size=None):
    """Standard normal draws by the ziggurat, in the order of the module docstring."""
    if size is None:
        return scalar._normal(_draw_list(rng), 1)[0]
    out = np.empty(size)
    flat = out.reshape(-1)
    n = flat.size
    if n == 0:
        return out
    u = rng.random(2 * n)
    z, ok = _normal_attempts(u[:n], u[n:])
    flat[:] = z
    if ok is None:
        return out
    pending = np.flatnonzero(~ok)
    while pending.size > SCALAR_LANES:
        p = pending.size
        u = rng.random(2 * p)
        z, ok = _normal_attempts(u[:p], u[p:])
        if ok is None:
            flat[pending] = z
            return out
        flat[pending[ok]] = z[ok]
        pending = pending[~ok]
    if pending.size:  # the last few values: the twin's rounds
        flat[pending] = scalar._normal(_draw_list(rng), pending.size)
    return out


def _gamma_complete(u, p, d, c):
    """(d·v, accepted) for p whole Marsaglia–Tsang attempts on u[0 … 3p−1], every test elementwise."""
    uz, uw, u3 = u[:p], u[p : 2 * p], u[2 * p : 3 * p]
    v9 = uz * _STRIPS2
    k = v9.astype(np.intp)
    f = v9 - k
    z = f * _W.take(k)
    ok = f < _Q.take(k)
    if not ok.all():
        slow = np.flatnonzero(~ok)
        z[slow], ok[slow] = _edge(z[slow], uw[slow], k[slow])
    x = c * z
    t = _ONE + x
    v = t * t * t
    z2 = z * z
    zx = z * x
    positive = t > _ZERO
    q = zx * zx
    logs = _log(np.concatenate((u3, np.where(positive, v, _ONE))))  # U may be 0: log 0 = −inf
    accept = (u3 < _ONE - _SQUEEZE * (z2 * z2)) | (_TWELVE * ((_ONE - u3) * (_ONE - np.abs(x))) > q)
    surely_rejected = (np.abs(x) <= _ONE) & (u3 - _ONE >= u3 * (q * (x * _FIFTEENTH - _TWELFTH_)))
    accept |= positive & ~surely_rejected & (logs[:p] < _HALF * z2 + d * ((_ONE - v) + logs[p:]))
    return d * v, accept & ok


def _gamma_attempts(u, p, lifted, d, c):
    """(d·v, accepted) for p Marsaglia–Tsang attempts on the uniforms u[0 … 3p−1].

    The squeezes run on every lane; a lane outside its inner rectangle or failing both squeezes (a few
    percent) is decided again in full, by the twin's code when few, else by _gamma_complete.
    """
    uz, u3 = u[:p], u[2 * p : 3 * p]
    v9 = uz * _STRIPS2
    k = v9.astype(np.intp)
    f = v9 - k
    z = f * _W.take(k)
    x = c * z
    t = _ONE + x
    v = t * t * t
    z2 = z * z
    zx = z * x
    accept = (u3 < _ONE - _SQUEEZE * (z2 * z2)) | (_TWELVE * ((_ONE - u3) * (_ONE - np.abs(x))) > zx * zx)
    accept &= f < _Q.take(k)
    g = d * v
    if accept.all():
        return g, accept
    rare = np.flatnonzero(~accept)
    r = rare.size
    if r <= SCALAR_LANES:
        sub = [0.0] * r
        kept = scalar._gamma_round(np.concatenate((uz[rare], u[p : 2 * p][rare], u3[rare])).tolist(), range(r),
                                   lifted[rare].tolist(), sub, math.sqrt)
        for j in set(range(r)).difference(kept):
            g[rare[j]] = sub[j]
            accept[rare[j]] = True
        return g, accept
    g[rare], accept[rare] = _gamma_complete(np.concatenate((uz[rare], u[p : 2 * p][rare], u3[rare])), r,
                                            d[rare], c[rare])
    return g, accept


def _shapes(values):
    s = np.asarray(values, dtype=np.float64).reshape(-1)
    low = s.min()
    if not (low > 0.0 and s.max() < np.inf):
        raise ValueError(f"gamma and beta shapes must be positive and finite, got {values!r}")
    return s, low


def _gamma_parts(rng, values):
    """(G, L, boosted) with Gamma(s) = G·exp(L); L and boosted are None when no shape is below 1."""
    s, low = _shapes(values)
    m = s.size
    boosted = lb = None
    if low < 1.0:
        if low < TINY_SHAPE:
            s = np.where(s < TINY_SHAPE, TINY_SHAPE, s)
        boosted = s < _ONE
        lifted = np.where(boosted, s + _ONE, s)
        b = int(np.count_nonzero(boosted))
    else:
        lifted = s
        b = 0
    d = lifted - THIRD
    c = _ONE / np.sqrt(9.0 * d)
    u = rng.random(3 * m + b)
    g, accept = _gamma_attempts(u, m, lifted, d, c)
    if b:
        lb = np.zeros(m)
        lb[boosted] = _log(_ONE - u[3 * m :]) / s[boosted]
    if not accept.all():
        pending = np.flatnonzero(~accept)
        while pending.size > SCALAR_LANES:
            p = pending.size
            gp, ap = _gamma_attempts(rng.random(3 * p), p, lifted[pending], d[pending], c[pending])
            g[pending[ap]] = gp[ap]
            pending = pending[~ap]
        if pending.size:  # the last few shapes: the twin's rounds, the same uniforms and operations
            p = pending.size
            sub = [0.0] * p
            local = range(p)
            shapes = lifted[pending].tolist()
            while local:
                local = scalar._gamma_round(rng.random(3 * len(local)).tolist(), local, shapes, sub, math.sqrt)
            g[pending] = sub
    return g, lb, boosted


def gamma(rng, shape):
    """Gamma(shape, 1) draws, one per shape (array or float), consuming uniforms as documented above."""
    g, lb, boosted = _gamma_parts(rng, shape)
    x = g if lb is None else np.where(boosted, g * _exp(lb), g)
    return float(x[0]) if np.ndim(shape) == 0 else x.reshape(np.shape(shape))


def _beta_array(rng, a, b):
    n = a.size
    g, lb, boosted = _gamma_parts(rng, np.concatenate((a.reshape(-1), b.reshape(-1))))
    x, y = g[:n], g[n:]
    plain = x / (x + y)
    if lb is None:
        return plain
    with np.errstate(over="ignore"):  # Y/X beyond the largest double: the draw is 0, as it should be
        ratio = (y / x) * _exp(lb[n:] - lb[:n])
    return np.where(boosted[:n] | boosted[n:], _ONE / (_ONE + ratio), plain)


def beta(rng, a, b):
    """Beta(a, b) draws, one per arm (a and b broadcast), as documented above."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        a, b = np.broadcast_arrays(a, b)
    if a.size <= SCALAR_ARMS:
        y = np.array(scalar._beta(_draw_list(rng), a.reshape(-1).tolist(), b.reshape(-1).tolist(), math.sqrt))
    else:
        y = _beta_array(rng, a, b)
    return float(y[0]) if a.ndim == 0 else y.reshape(a.shape)


def beta_draws(rng, alphas, betas) -> list:
    """beta() for sequences of floats, as a list: the engine's thompson draws, without array round trips."""
    if len(alphas) <= SCALAR_ARMS:
        return scalar._beta(_draw_list(rng), alphas, betas, math.sqrt)
    return _beta_array(rng, np.array(alphas, dtype=np.float64), np.array(betas, dtype=np.float64)).tolist()
