"""Portable arithmetic: the same bits from the same inputs on every machine.

Why it is portable: every value here is built from IEEE-754 basic operations (+ − × ÷ √), which the
standard requires to be correctly rounded, plus exact ones (comparison, select, negation, abs, copysign,
rint, min/max, integer operations on the bits, and ldexp, which rounds once only when the result is
subnormal, as the standard's scaleB does). Each operation is a separate numpy ufunc call, so nothing can
fuse a multiply and an add into an FMA, and an elementwise ufunc gives every element the same correctly
rounded result at any SIMD width numpy dispatches to. The order of operations is the order written
here; nothing calls BLAS, a library-ordered reduction or a libm transcendental function. The pure-Python
twin engine/scalar.py performs the same operations on CPython floats, and the tests
require bit identity with it, and the same digests with numpy's SIMD dispatch switched off.

Each function has a path for ordinary inputs (no selects, checked with one min/max) and one for the rest
(±inf, NaN, the ends of the range); both give the same bits where they overlap.

Algorithms, with the largest errors measured against 50-digit references (tests/engine/test_arith.py,
~3,000 grid and random points each, plus 10^5 points against mpmath while developing) and the bound the
tests assert:
- exp: fdlibm's e_exp: x = k·ln2 + r with k = rint(x/ln2), ln2 split in hi (32 bits) and lo, |r| ≲ ln2/2,
  e^r = 1 − ((lo − r·c/(2 − c)) − hi) with c = r − r²·P(r²) (P of degree 4), then ldexp(·, k).
  0.84 ulp (asserted 1). +inf above 709.782712893384, 0 below -745.1332191019411, subnormals between.
- log, log1p: fdlibm's e_log kernel: x = 2^k·z with √2/2 ≤ z < √2 (musl's bit reduction), f = z − 1,
  s = f/(2 + f), Lg1..Lg7 in s². log1p passes the exact rounding error of u = 1 + x (Knuth's two-sum),
  divided by u, into the kernel's low-order term, as fdlibm's s_log1p does. log 0.79, log1p 0.79 ulp
  (asserted 1). log(0) = −inf, log(x < 0) = NaN, log1p(−1) = −inf, log1p(x < −1) = NaN.
- tanh: |x| < 0.55: x + x·(x²·P(x²)) with an 11-term least-squares fit of (tanh x − x)/x³; else
  ±(1 − 2/(exp(2|x|) + 1)) with |x| clamped at 20 (tanh 20 rounds to 1). 1.41 ulp (asserted 2), worst
  just above 0.55. tanh(±0) = ±0.
- sigmoid(z) = 1/(1 + e) for z ≥ 0 and e/(1 + e) for z < 0, with e = exp(−|z|): 2.01 ulp (asserted 2.5).
  softplus(z) = (z if z > 0 else 0) + log1p(exp(−|z|)): 1.30 ulp (asserted 2). No overflow for any z.
- sinpi, cospi: r = x − 2·rint(x/2) ∈ [−1, 1] and y = r − q/2 ∈ [−1/4, 1/4] with q = rint(2r), both
  exact; 7-term fits of sin(πy)/y and (1 − cos(πy))/y² in y², chosen and signed by q. sinpi 1.52,
  cospi 1.49 ulp (asserted 2). sinpi(±n) = ±0 as C23's sinpi, cospi(n + 1/2) = +0, ±inf give NaN.
- A NaN in gives that NaN out; a NaN made here is numpy.nan (total() too: the sign of inf − inf's NaN is
  the CPU's and numpy's operand order's choice).
The polynomial coefficients were fitted at 60 digits (mpmath, Chebyshev nodes) and rounded to double.

total(a, axis=0): a pairwise tree over the rows along `axis`. One level turns rows r0 … r(n−1) into
(r0 + r1), (r2 + r3), …, and when n is odd the last row r(n−1) moves up unchanged as the level's last row.
Levels repeat until one row is left. Five rows: ((r0 + r1) + (r2 + r3)) + r4; three: (r0 + r1) + r2.
"""

import functools

import numpy as np

INF = float("inf")
NAN = float("nan")

# fdlibm e_exp.c
O_THRESHOLD = 7.09782712893383973096e02
U_THRESHOLD = -7.45133219101941108420e02
INVLN2 = 1.44269504088896338700e00
LN2_HI = 6.93147180369123816490e-01  # 32 significant bits: k·LN2_HI is exact for |k| < 2^21
LN2_LO = 1.90821492927058770002e-10
P1, P2, P3 = 1.66666666666666019037e-01, -2.77777777770155933842e-03, 6.61375632143793436117e-05
P4, P5 = -1.65339022054652515390e-06, 4.13813679705723846039e-08

# fdlibm e_log.c
LG1, LG2, LG3 = 6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01
LG4, LG5, LG6 = 2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01
LG7 = 1.479819860511658591e-01
SQRT2 = 1.4142135623730951  # the twin reduces with m ≥ SQRT2; arith with the bits of SQRT2/2 (same z, k)
TWO54 = 18014398509481984.0
TINY = 2.2250738585072014e-308  # the smallest normal double

# least-squares fits on Chebyshev nodes at 60 digits (mpmath), rounded to double; lowest degree first
TANH_P = (-0.3333333333333333, 0.133333333333327, -0.05396825396741867, 0.021869488493022306,
          -0.008863234384051209, 0.003592110209757036, -0.0014556605668791223, 0.0005889302023617857,
          -0.00023461836372119536, 8.50877412456385e-05, -2.058602321591917e-05)
TANH_SMALL = 0.55
TANH_CLAMP = 20.0
SINPI_S = (3.141592653589793, -5.167712780049954, 2.550164039873265, -0.5992645289320658,
           0.08214586894676051, -0.007370018276824269, 0.0004615142326338041)
COSPI_C = (4.934802200544679, -4.058712126416765, 1.3352627688537988, -0.23533063028326773,
           0.025806887942379897, -0.001929493557809388, 0.00010369914026041432)

_F64 = np.float64
# Operands as 0-d arrays: a ufunc converts a Python float operand on every call, a third of a small call.
_ONE, _TWO, _HALF = np.array(1.0), np.array(2.0), np.array(0.5)
_INVLN2, _LN2_HI, _LN2_LO = np.array(INVLN2), np.array(LN2_HI), np.array(LN2_LO)
_P1, _P2, _P3, _P4, _P5 = map(np.array, (P1, P2, P3, P4, P5))
_LG1, _LG2, _LG3, _LG4, _LG5, _LG6, _LG7 = map(np.array, (LG1, LG2, LG3, LG4, LG5, LG6, LG7))
_TANH_P, _SINPI_S, _COSPI_C = (tuple(map(np.array, p)) for p in (TANH_P, SINPI_S, COSPI_C))
_TANH_CLAMP = np.array(TANH_CLAMP)
_OFF = np.array(0x3FE6A09E667F3BCD, dtype=np.int64)  # the bits of √2/2
_EXP_MASK = np.array(-1 << 52, dtype=np.int64)


def _elementwise(fn):
    """Accept a float or an array of any shape; a Python float (or int) in gives a Python float out, from
    engine/scalar.py's twin of `fn` (the same operations, bit for bit, without numpy's cost per call)."""
    name = fn.__name__.lstrip("_")

    @functools.wraps(fn)
    def wrapper(x):
        if isinstance(x, (float, int)):
            from engine import scalar  # scalar imports this module's constants: imported when first used

            return getattr(scalar, name)(float(x))
        a = np.asarray(x, dtype=_F64)
        if a.size == 0:
            return a.copy()
        return fn(a.reshape(1)).reshape(()) if a.ndim == 0 else fn(a)

    return wrapper


def _horner(w, coefficients):
    p = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        p = c + w * p
    return p


def _exp_core(x):
    """e^x for finite x in [U_THRESHOLD, O_THRESHOLD]."""
    k = np.rint(x * _INVLN2)
    hi = x - k * _LN2_HI
    lo = k * _LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
    y = _ONE - ((lo - (r * c) / (_TWO - c)) - hi)
    return np.ldexp(y, k.astype(np.intc))  # y·2^k rounded once (exact unless the result is subnormal)


def _exp(x):
    if np.abs(x).max() <= 708.0:  # False for NaN; every result normal
        return _exp_core(x)
    xc = np.where(x > O_THRESHOLD, O_THRESHOLD, np.where(x < U_THRESHOLD, U_THRESHOLD, x))
    y = _exp_core(np.where(xc == xc, xc, 0.0))
    y = np.where(x > O_THRESHOLD, INF, np.where(x < U_THRESHOLD, 0.0, y))
    return np.where(x == x, y, x)


def _log_kernel(u, c=None, scaled=None):
    """log(u) + c for normal finite u > 0; `scaled` marks lanes that were multiplied by 2^54."""
    ix = u.view(np.int64)
    tmp = ix - _OFF
    z = (ix - (tmp & _EXP_MASK)).view(_F64)  # u = z·2^k with √2/2 ≤ z < √2, exactly
    dk = (tmp >> 52).astype(_F64)
    if scaled is not None:
        dk = dk - np.where(scaled, 54.0, 0.0)
    f = z - _ONE
    s = f / (_TWO + f)
    z2 = s * s
    w = z2 * z2
    r = z2 * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7))) + w * (_LG2 + w * (_LG4 + w * _LG6))
    hfsq = _HALF * f * f
    low = dk * _LN2_LO if c is None else dk * _LN2_LO + c
    return dk * _LN2_HI - ((hfsq - (s * (hfsq + r) + low)) - f)


def _log(x):
    if x.min() >= TINY and x.max() < INF:
        return _log_kernel(x)
    ok = (x > 0.0) & (x < INF)
    sub = x < TINY
    y = _log_kernel(np.where(ok, x, 1.0) * np.where(sub, TWO54, 1.0), scaled=sub)
    return np.where(ok, y, np.where(x == 0.0, -INF, np.where(x < 0.0, NAN, x)))


def _log1p(x):
    fast = x.min() > -1.0 and x.max() < INF
    xs = x if fast else np.where((x > -1.0) & (x < INF), x, 0.0)
    u = _ONE + xs
    bv = u - _ONE
    av = u - bv
    err = (_ONE - av) + (xs - bv)  # two-sum: 1 + x = u + err exactly
    y = np.copysign(_log_kernel(u, err / u), xs)  # log1p has the sign of x, zeros included
    if fast:
        return y
    return np.where(x == xs, y, np.where(x == -1.0, -INF, np.where(x < -1.0, NAN, x)))


def _tanh_small(xs):
    w = xs * xs
    return np.copysign(xs + xs * (w * _horner(w, _TANH_P)), xs)  # tanh(-0) = -0


def _tanh_large(x, a):
    e = _exp(_TWO * np.minimum(a, _TANH_CLAMP))
    return np.copysign(_ONE - _TWO / (e + _ONE), x)


def _tanh(x):
    a = np.abs(x)
    top = a.max()
    if top < TANH_SMALL:
        return _tanh_small(x)
    small = a < TANH_SMALL
    if not small.any():
        y = _tanh_large(x, a)
    else:  # each lane computes only its own branch: the same operations on it, half the work
        y = np.empty_like(x)
        y[small] = _tanh_small(x[small])
        large = ~small
        y[large] = _tanh_large(x[large], a[large])
    return y if top == top else np.where(x == x, y, x)


def _sigmoid(z):
    return sigmoid_given(z, _exp(-np.abs(z)))


def sigmoid_given(z, e):
    """sigmoid(z) for arrays, given e = exp(−|z|) already made (the loss needs it too)."""
    d = _ONE + e
    y = np.where(z >= 0.0, _ONE / d, e / d)
    return y if d.max() == d.max() else np.where(z == z, y, z)


LN2 = 0.6931471805599453  # the double nearest ln 2


def log1p_total(e) -> float:
    """Σ log(1 + e_i) for a 1-D array of e_i in [0, 1]: the log of the product of the factors 1 + e_i.

    The factors are written m·2^k with m in [0.5, 1) (exact), multiplied in `total`'s pairwise-tree order,
    and each product is brought back to [0.5, 1) with its power of two kept aside (exact), so nothing
    overflows for any n; then log(m) + k·LN2, once. Each product rounds once: the result is within about
    n ulps of the true sum, far inside what a loss needs, and the same bits on every machine."""
    n = e.shape[0]
    if n == 0:
        return 0.0
    if n <= SMALL_PRODUCT:
        from engine import scalar

        return scalar.log1p_total(e.tolist())
    m, k = np.frexp(_ONE + e)
    k = k.astype(_F64)
    while n > 1:
        half, odd = n >> 1, n & 1
        m2, k2 = np.frexp(m[0 : 2 * half : 2] * m[1 : 2 * half : 2])
        k2 = k2 + (k[0 : 2 * half : 2] + k[1 : 2 * half : 2])
        if odd:
            m2, k2 = np.concatenate((m2, m[n - 1 : n])), np.concatenate((k2, k[n - 1 : n]))
        m, k, n = m2, k2, half + odd
    return float(log(float(m[0]))) + float(k[0]) * LN2


def _softplus(z):
    y = np.where(z > 0.0, z, 0.0) + _log1p(_exp(-np.abs(z)))
    return y if y.max() == y.max() else np.where(z == z, y, z)


def _quadrant(x):
    """(q, sin(πy), cos(πy)) with x ≡ q/2 + y (mod 2) for finite x; exact up to the polynomials."""
    r = x - _TWO * np.rint(x * _HALF)
    q = np.rint(_TWO * r)
    y = r - _HALF * q
    w = y * y
    return q, y * _horner(w, _SINPI_S), _ONE - w * _horner(w, _COSPI_C)


def _pi_function(x, pick):
    finite = np.abs(x).max() < INF
    xs = x if finite else np.where(np.abs(x) < INF, x, 0.0)
    y = pick(xs, *_quadrant(xs))
    return y if finite else np.where(x == xs, y, np.where(x == x, NAN, x))


def _sinpi_pick(x, q, s, c):
    v = np.where(np.abs(q) == 1.0, c, s)
    v = np.where((q < 0.0) | (q == 2.0), -v, v)
    return np.where(v == 0.0, np.copysign(0.0, x), v)  # sinpi(±n) = ±0


def _cospi_pick(x, q, s, c):
    v = np.where(np.abs(q) == 1.0, s, c)
    return np.where((q == 1.0) | (np.abs(q) == 2.0), -v, v) + 0.0  # + 0.0 turns -0 into +0


def _sinpi(x):
    return _pi_function(x, _sinpi_pick)


def _cospi_finite(x):
    return _cospi_pick(x, *_quadrant(x))


def _cospi(x):
    return _pi_function(x, _cospi_pick)


exp = _elementwise(_exp)
log = _elementwise(_log)
log1p = _elementwise(_log1p)
tanh = _elementwise(_tanh)
sigmoid = _elementwise(_sigmoid)
softplus = _elementwise(_softplus)
sinpi = _elementwise(_sinpi)
cospi = _elementwise(_cospi)


# up to these many values, Python's own float operations (engine/scalar.py, the same operations in the same
# order) beat numpy's cost per call: measured with bench/bench_models.py and bench/bench_core.py
SMALL_TOTAL = 48
SMALL_PRODUCT = 128


def total(a, axis=0):
    """The sum along `axis` in the fixed pairwise-tree order of the module docstring."""
    a = np.asarray(a, dtype=_F64)
    if axis != 0:
        a = np.moveaxis(a, axis, 0)
    n = a.shape[0]
    if n == 0:
        return np.zeros(a.shape[1:])[()]
    if a.ndim == 1 and n <= SMALL_TOTAL:
        from engine import scalar  # the same additions in the same order, on Python floats

        return _F64(scalar.total(a.tolist()))
    while n > 1:
        half, odd = n >> 1, n & 1
        level = np.add(a[0 : 2 * half : 2], a[1 : 2 * half : 2])
        if odd:
            level = np.concatenate((level, a[n - 1 : n]))
        a, n = level, half + odd
    y = a[0] if a.ndim == 1 else a[0].copy()
    # inf − inf makes a NaN whose sign bit depends on the CPU and on numpy's operand order: make it one NaN
    return y if (y == y).all() else np.where(y == y, y, NAN)[()]


def dot_rows(a, b, axis=0):
    """total(a · b, axis): a dot product in the fixed order, elementwise products first."""
    return total(np.multiply(a, b), axis)
