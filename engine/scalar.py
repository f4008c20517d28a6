"""The portable arithmetic in plain Python floats: the twin of engine/arith.py and engine/samplers.py, the
oracle for portability, and the engine's own path for single values (the score) and short lists.

CPython floats are IEEE-754 doubles on every platform and each Python operator is one correctly rounded
operation, so these functions give the portable result by construction; tests/engine/test_arith.py holds
the numpy functions to them bit for bit, and tests/engine/reference_fold.py folds whole sessions with them. No numpy and no math module: the
square root is computed exactly from integers and rounded once. The samplers take an iterator of raw
uniform doubles and consume them in the order documented in engine/samplers.py. Their cores (_normal,
_gamma_round, _beta, …) take `draw(k)`, a function returning the next k uniforms as a list, and `root`, a
correctly rounded square root: the twin passes its iterator and exact sqrt; engine/samplers.py, for a few
arms, passes `rng.random(k).tolist()` and math.sqrt (C's sqrt, IEEE-754's correctly rounded square root;
tests/engine/test_arith.py checks it against the exact one), and so draws the same bits faster.
"""

from engine.arith import (COSPI_C, INVLN2, LG1, LG2, LG3, LG4, LG5, LG6, LG7, LN2_HI, LN2_LO, O_THRESHOLD,
                          P1, P2, P3, P4, P5, SINPI_S, SQRT2, TANH_CLAMP, TANH_P, TANH_SMALL, U_THRESHOLD)

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
    """Σ log(1 + e_i) for e_i in [0, 1] as engine.arith.log1p_total computes it: the factors 1 + e_i
    multiplied in total's tree order, then log(m) + k·ln 2 for the product m·2^k (m in [0.5, 1)).

    arith renormalises every product to [0.5, 1) by an exact power of two, so that no n overflows; scaling
    by 2^k changes no rounding of a product in the normal range, so up to 1,023 factors (each at most 2: no
    overflow, and all above 1: no underflow) the plain tree product here has the same bits."""
    if len(values) > 1023:
        return _log1p_total_renormalised(values)
    rows = [1.0 + v for v in values]
    if not rows:
        return 0.0
    while len(rows) > 1:
        level = [a * b for a, b in zip(rows[0::2], rows[1::2])]
        if len(rows) & 1:
            level.append(rows[-1])
        rows = level
    product = rows[0]
    if product != product:
        return NAN
    exponent = int(product.hex().split("p")[1]) + 1  # product = m·2^exponent with m in [0.5, 1), exactly
    return log(product * _pow2(-exponent)) + float(exponent) * LN2


def _log1p_total_renormalised(values):
    ms, ks = [], []
    for v in values:
        x = 1.0 + v  # in (1, 2]
        ms.append(x * 0.5 if x < 2.0 else 0.5)
        ks.append(1 if x < 2.0 else 2)
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


# -- the samplers (engine/samplers.py documents the algorithms and the order of the uniforms) -------------
THIRD = 1.0 / 3.0
TINY_SHAPE = 1e-300
SQUEEZE = 0.0331
FIFTEENTH, TWELFTH = 1.0 / 15.0, 1.0 / 12.0  # the rejection bound R (engine/samplers.py)
# The ziggurat: 256 strips of equal area V under e^(-x²/2) (plus, on the base strip, the envelope
# f(R)·e^(-R(x-R)) beyond R, so that a rejected point anywhere restarts the whole attempt). R is the root
# (60 digits, mpmath) of the recurrence below landing on x_256 = 0; the tables are computed here once,
# with this module's exp, log and exact sqrt, so they are the same bits everywhere.
ZIG_R = 3.6554204190269415
ZIG_STRIPS = 256


def _ziggurat_tables():
    """(W, Q, F, D), each indexed by k = 0 … 511 (strip k >> 1, negative values for odd k).

    x_1 = R, x_(i+1) = √(−2·log(f(x_i) + V/x_i)) for i = 1 … 254, x_256 = 0, with f(x) = exp(−0.5·(x·x))
    and V = f(R)·(R + 1/R). Strip 0 has width W = R + 1/R (its rectangle [0, R] and the tail envelope,
    stretched to one width), strip i ≥ 1 width x_i. Q = (inner width)/W: x_1/W for strip 0, x_(i+1)/x_i
    above. F = f(x_i) and D = f(x_(i+1)) − f(x_i) (f(x_256) = 1) bound strip i's wedge; 0 for strip 0.
    """
    r = ZIG_R
    fr = exp(-0.5 * (r * r))
    v = fr * (r + 1.0 / r)
    x = [r + 1.0 / r, r]
    fx = [0.0, fr]
    for i in range(1, ZIG_STRIPS - 1):
        x.append(sqrt(-2.0 * log(fx[i] + v / x[i])))
        fx.append(exp(-0.5 * (x[i + 1] * x[i + 1])))
    x.append(0.0)
    fx.append(1.0)
    widths, inner, low, step = [], [], [], []
    for i in range(ZIG_STRIPS):
        widths += [x[i], -x[i]]
        inner += [x[i + 1] / x[i]] * 2
        low += [0.0 if i == 0 else fx[i]] * 2
        step += [0.0 if i == 0 else fx[i + 1] - fx[i]] * 2
    return widths, inner, low, step


ZIG_W, ZIG_Q, ZIG_F, ZIG_D = _ziggurat_tables()


def _edge(z, w, k):
    """A normal attempt whose point is outside its strip's inner rectangle: its value, or None (rejected)."""
    if k < 2:  # the base strip's tail: the envelope's exponential, then f/envelope = exp(−e²/2)
        e = -log(1.0 - (abs(z) - ZIG_R) * ZIG_R) / ZIG_R
        if w < exp(-0.5 * (e * e)):
            return ZIG_R + e if z > 0.0 else -(ZIG_R + e)
        return None
    return z if ZIG_F[k] + w * ZIG_D[k] < exp(-0.5 * (z * z)) else None


def _normal(draw, n):
    out = [0.0] * n
    pending = range(n)
    while pending:
        p = len(pending)
        u = draw(2 * p)
        rejected = []
        for j, i in enumerate(pending):
            v9 = u[j] * 512.0
            k = int(v9)
            f = v9 - k
            z = f * ZIG_W[k]
            if f >= ZIG_Q[k]:
                z = _edge(z, u[p + j], k)
                if z is None:
                    rejected.append(i)
                    continue
            out[i] = z
        pending = rejected
    return out


def _gamma_round(u, pending, shapes, g, root):
    """One Marsaglia–Tsang attempt per pending shape on the round's uniforms u; sets g[i] = d·v where
    accepted and returns the rest. shapes[i] is s, or s + 1 when boosted; d and c are computed here."""
    widths, inner, squeeze, third = ZIG_W, ZIG_Q, SQUEEZE, THIRD
    p = len(pending)
    p2 = p + p
    rejected = []
    for i, uz, uw, u3 in zip(pending, u[:p], u[p:p2], u[p2 : p2 + p]):
        v9 = uz * 512.0
        k = int(v9)
        f = v9 - k
        z = f * widths[k]
        if f >= inner[k]:
            z = _edge(z, uw, k)
            if z is None:
                rejected.append(i)
                continue
        d = shapes[i] - third
        x = (1.0 / root(9.0 * d)) * z
        t = 1.0 + x
        z2 = z * z
        if u3 < 1.0 - squeeze * (z2 * z2):
            g[i] = d * (t * t * t)
            continue
        v = t * t * t
        zx = z * x
        q = zx * zx
        if 12.0 * ((1.0 - u3) * (1.0 - abs(x))) > q:  # S2
            g[i] = d * v
        elif abs(x) <= 1.0 and u3 - 1.0 >= u3 * (q * (x * FIFTEENTH - TWELFTH)):  # R: surely rejected
            rejected.append(i)
        elif t > 0.0 and log(u3) < 0.5 * z2 + d * ((1.0 - v) + log(v)):
            g[i] = d * v
        else:
            rejected.append(i)
    return rejected


def _gamma_parts(draw, shapes, root):
    """(G, L) with Gamma(s) = G·exp(L) per shape, L None where s ≥ 1; `root` is a correctly rounded √."""
    m = len(shapes)
    # no shape boosted; the sum (only a check) is NaN or ±inf when a shape is NaN or infinite
    if m and min(shapes) >= 1.0 and sum(shapes) < INF:
        g = [0.0] * m
        pending = _gamma_round(draw(3 * m), range(m), shapes, g, root)
        while pending:
            pending = _gamma_round(draw(3 * len(pending)), pending, shapes, g, root)
        return g, None
    s, lifted, boosted = [], [], []
    for j, x in enumerate(shapes):
        if not (x > 0.0 and x < INF):
            raise ValueError(f"gamma and beta shapes must be positive and finite, got {x!r}")
        if x < 1.0:
            if x < TINY_SHAPE:
                x = TINY_SHAPE
            boosted.append(j)
            lifted.append(x + 1.0)
        else:
            lifted.append(x)
        s.append(x)
    g = [0.0] * m
    u = draw(3 * m + len(boosted))
    pending = _gamma_round(u, range(m), lifted, g, root)
    lb = None
    if boosted:
        lb = [None] * m
        for q, j in enumerate(boosted, 3 * m):
            lb[j] = log(1.0 - u[q]) / s[j]
    while pending:
        pending = _gamma_round(draw(3 * len(pending)), pending, lifted, g, root)
    return g, lb


def _gamma(draw, shapes, root):
    g, lb = _gamma_parts(draw, shapes, root)
    if lb is None:
        return g
    return [gi if li is None else gi * exp(li) for gi, li in zip(g, lb)]


def _beta(draw, a, b, root):
    n = len(a)
    g, lb = _gamma_parts(draw, list(a) + list(b), root)
    if lb is None:
        return [x / (x + y) for x, y in zip(g[:n], g[n:])]
    out = []
    for i in range(n):
        x, y, lx, ly = g[i], g[n + i], lb[i], lb[n + i]
        if lx is None and ly is None:
            out.append(x / (x + y))
        else:
            out.append(1.0 / (1.0 + (y / x) * exp((0.0 if ly is None else ly) - (0.0 if lx is None else lx))))
    return out


def _drawer(us):
    return lambda k: [next(us) for _ in range(k)]


def gaussian(us, n):
    """n standard normal draws from the iterator `us` of raw uniform doubles."""
    return _normal(_drawer(us), n)


def gamma(us, shapes):
    """Gamma(s, 1) draws, one per shape."""
    return _gamma(_drawer(us), shapes, sqrt)


def beta(us, a, b):
    """Beta(a_i, b_i) draws, one per arm."""
    return _beta(_drawer(us), a, b, sqrt)
