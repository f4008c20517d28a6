"""The portable arithmetic in plain Python floats: the twin of engine/arith.py and engine/samplers.py, the
oracle for portability, and the engine's own path for single values (the score) and short lists.

CPython floats are IEEE-754 doubles on every platform and each Python operator is one correctly rounded
operation, so these functions give the portable result by construction; tests/engine/test_arith.py holds
the numpy functions to them bit for bit, and tests/engine/reference_fold.py folds whole sessions with them. No numpy and no math module: the
square root is computed exactly from integers and rounded once. The samplers take an iterator of raw
uniform doubles and consume them in the order documented in engine/samplers.py.
"""

from engine.arith import (COSPI_C, INVLN2, LG1, LG2, LG3, LG4, LG5, LG6, LG7, LN2_HI, LN2_LO, O_THRESHOLD,
                          P1, P2, P3, P4, P5, SINPI_S, SQRT2, TANH_CLAMP, TANH_P, TANH_SMALL, U_THRESHOLD)
from engine.samplers import SQUEEZE, THIRD, TINY_SHAPE

INF = float("inf")
NAN = float("nan")


def _rint(v):
    """Round half to even, keeping the sign of a zero result as C's rint does."""
    r = float(round(v))
    return r if r != 0.0 else v * 0.0


def _pow2(k):
    return float(1 << k) if k >= 0 else 1.0 / float(1 << -k)


def _isqrt(n):
    x = 1 << ((n.bit_length() + 1) >> 1)
    while True:
        y = (x + n // x) >> 1
        if y >= x:
            return x
        x = y


def sqrt(x):
    """Correctly rounded square root: an integer root of ≥ 56 bits with a sticky bit, rounded once."""
    if x != x or x == 0.0 or x == INF:
        return x
    if x < 0.0:
        return NAN
    n, d = x.as_integer_ratio()
    j = d.bit_length() - 1
    if j & 1:
        n, j = n << 1, j + 1
    shift = max(0, 112 - n.bit_length())
    shift += shift & 1
    big = n << shift
    r = _isqrt(big)
    r |= r * r != big
    return float(r) * _pow2(-((shift + j) >> 1))


def _horner(w, coefficients):
    p = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        p = c + w * p
    return p


def exp(x):
    if x != x:
        return x
    if x > O_THRESHOLD:
        return INF
    if x < U_THRESHOLD:
        return 0.0
    k = _rint(x * INVLN2)
    hi = x - k * LN2_HI
    lo = k * LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))))
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    ki = int(k)
    half = ki >> 1
    return y * _pow2(half) * _pow2(ki - half)


def _log_kernel(u, c):
    n, d = u.as_integer_ratio()  # d is a power of two: u = m·2^k with 1 ≤ m < 2, exactly
    top = n.bit_length() - 1
    k = top - (d.bit_length() - 1)
    m = float(n) / float(1 << top)
    if m >= SQRT2:
        m, k = m * 0.5, k + 1
    dk = float(k)
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    r = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7))) + w * (LG2 + w * (LG4 + w * LG6))
    hfsq = 0.5 * f * f
    return dk * LN2_HI - ((hfsq - (s * (hfsq + r) + (dk * LN2_LO + c))) - f)


def log(x):
    if x != x or x == INF:
        return x
    if x == 0.0:
        return -INF
    if x < 0.0:
        return NAN
    return _log_kernel(x, 0.0)


def log1p(x):
    if x != x or x == INF or x == 0.0:
        return x
    if x == -1.0:
        return -INF
    if x < -1.0:
        return NAN
    u = 1.0 + x
    bv = u - 1.0
    av = u - bv
    err = (1.0 - av) + (x - bv)
    v = abs(_log_kernel(u, err / u))
    return v if x > 0.0 else -v


def tanh(x):
    if x != x:
        return x
    a = abs(x)
    if x == 0.0:
        return x
    if a < TANH_SMALL:
        w = x * x
        v = abs(x + x * (w * _horner(w, TANH_P)))
        return v if x > 0.0 else -v
    e = exp(2.0 * (a if a < TANH_CLAMP else TANH_CLAMP))
    v = 1.0 - 2.0 / (e + 1.0)
    return v if x > 0.0 else -v


def sigmoid(z):
    if z != z:
        return z
    e = exp(-abs(z))
    d = 1.0 + e
    return 1.0 / d if z >= 0.0 else e / d


def softplus(z):
    if z != z:
        return z
    return (z if z > 0.0 else 0.0) + log1p(exp(-abs(z)))


def _quadrant(x):
    r = x - 2.0 * _rint(x * 0.5)
    q = _rint(2.0 * r)
    y = r - 0.5 * q
    w = y * y
    return q, y * _horner(w, SINPI_S), 1.0 - w * _horner(w, COSPI_C)


def sinpi(x):
    if x != x:
        return x
    if abs(x) == INF:
        return NAN
    q, s, c = _quadrant(x)
    v = c if abs(q) == 1.0 else s
    if q < 0.0 or q == 2.0:
        v = -v
    if v == 0.0:
        v = x if x == 0.0 else (0.0 if x > 0.0 else -0.0)
    return v


def cospi(x):
    if x != x:
        return x
    if abs(x) == INF:
        return NAN
    q, s, c = _quadrant(x)
    v = s if abs(q) == 1.0 else c
    if q == 1.0 or abs(q) == 2.0:
        v = -v
    return v + 0.0


def total(values):
    """Pairwise tree: each level adds neighbours (r0 + r1), (r2 + r3), …; an odd last row moves up as is."""
    rows = list(values)
    if not rows:
        return 0.0
    while len(rows) > 1:
        level = [a + b for a, b in zip(rows[0::2], rows[1::2])]
        if len(rows) & 1:
            level.append(rows[-1])
        rows = level
    return rows[0] if rows[0] == rows[0] else NAN


def log1p_total(values):
    """Σ log(1 + e_i) for e_i in [0, 1] as engine.arith.log1p_total computes it: factors 1 + e_i as m·2^k
    with m in [0.5, 1), multiplied in total's tree order, each product brought back to [0.5, 1) exactly
    (a product of two such m lies in [0.25, 1)); then log(m) + k·ln 2."""
    ms, ks = [], []
    for v in values:
        x = 1.0 + v  # in (1, 2]
        ms.append(x * 0.5 if x < 2.0 else 0.5)
        ks.append(1 if x < 2.0 else 2)
    if not ms:
        return 0.0
    while len(ms) > 1:
        level_m, level_k = [], []
        for m1, m2, k1, k2 in zip(ms[0::2], ms[1::2], ks[0::2], ks[1::2]):
            p = m1 * m2
            if p < 0.5:
                level_m.append(p * 2.0)
                level_k.append(k1 + k2 - 1)
            else:
                level_m.append(p)
                level_k.append(k1 + k2)
        if len(ms) & 1:
            level_m.append(ms[-1])
            level_k.append(ks[-1])
        ms, ks = level_m, level_k
    return log(ms[0]) + float(ks[0]) * LN2


LN2 = 0.6931471805599453  # the double nearest ln 2 (engine.arith.LN2)


def uniform(us, low, high):
    return low + (high - low) * next(us)


def normal(us, n):
    out = []
    while len(out) < n:
        u1, u2 = next(us), next(us)
        radius = sqrt(-2.0 * log(1.0 - u1))
        out.append(radius * cospi(2.0 * u2))
        if len(out) < n:
            out.append(radius * sinpi(2.0 * u2))
    return out


def _proposal(u1, u2, u3, d, c):
    """Marsaglia–Tsang: G = d·v when the proposal is accepted, else None."""
    z = sqrt(-2.0 * log(1.0 - u1)) * cospi(2.0 * u2)
    t = 1.0 + c * z
    v = t * t * t
    z2 = z * z
    if t > 0.0 and (u3 < 1.0 - SQUEEZE * (z2 * z2) or log(u3) < 0.5 * z2 + d * ((1.0 - v) + log(v))):
        return d * v
    return None


def _gamma_log(us, shapes):
    s = [x if x >= TINY_SHAPE else TINY_SHAPE for x in shapes]
    d = [(x + 1.0 if x < 1.0 else x) - THIRD for x in s]
    c = [1.0 / sqrt(9.0 * di) for di in d]
    g = [0.0] * len(s)
    lb = [0.0] * len(s)
    pending = list(range(len(s)))
    first_round = True
    while pending:
        draws = [[next(us) for _ in range(7 if first_round else 6)] for _ in pending]
        rejected = []
        for i, u in zip(pending, draws):
            if first_round and s[i] < 1.0:
                lb[i] = log(1.0 - u[6]) / s[i]
            value = _proposal(u[0], u[1], u[2], d[i], c[i])
            if value is None:
                value = _proposal(u[3], u[4], u[5], d[i], c[i])
            if value is None:
                rejected.append(i)
            else:
                g[i] = value
        pending, first_round = rejected, False
    return g, lb


def gamma(us, shapes):
    g, lb = _gamma_log(us, shapes)
    return [gi * exp(li) for gi, li in zip(g, lb)]


def beta(us, a, b):
    g, lb = _gamma_log(us, list(a) + list(b))
    n = len(a)
    return [1.0 / (1.0 + (g[n + i] / g[i]) * exp(lb[n + i] - lb[i])) for i in range(n)]
