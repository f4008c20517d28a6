"""engine.arith and engine.samplers: bit identity with the pure-Python twin, accuracy, order, portability."""

import decimal
import hashlib
import math
import os
import struct
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import arith, samplers
from engine import scalar as twin

FUNCTIONS = ["exp", "log", "log1p", "tanh", "sigmoid", "softplus", "sinpi", "cospi"]
EDGES = [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, -2.2250738585072014e-308, 1e-300, -1e-300,
         1e-17, -1e-17, 0.25, -0.25, 0.5, -0.5, 0.55, -0.55, 1.0, -1.0, 1.5, 2.0, -2.0, 2.5, 20.0, -20.0, 708.0,
         709.782712893384, 709.7827128933841, -745.1332191019411, -745.1332191019412, -708.5, 1e16, -1e16,
         2.0**52 + 1, 4503599627370495.5, 1.7976931348623157e308, -1.7976931348623157e308, math.inf, -math.inf,
         math.nan, -0.9999999999999999, -1.0000000000000002]
LENGTHS = [1, 2, 3, 7, 8, 9, 1000, 10001]
ULP_BOUND = {"exp": 1.0, "log": 1.0, "log1p": 1.0, "tanh": 2.0, "sinpi": 2.0, "cospi": 2.0, "sigmoid": 2.5,
             "softplus": 2.0}

floats = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)


def packed(values):
    return struct.pack(f"<{len(values)}d", *values)


def twin_bytes(name, xs):
    return packed([getattr(twin, name)(float(x)) for x in xs])


def mixed(n, seed=0):
    """n doubles over many scales and signs, with the edge values spread through them."""
    rng = np.random.default_rng([seed, n])
    x = rng.standard_normal(n) * np.exp2(rng.integers(-60, 11, n).astype(np.float64))
    spots = np.arange(0, n, max(1, n // len(EDGES)))[: len(EDGES)]
    x[spots] = EDGES[: spots.size]
    return x


@pytest.mark.parametrize("name", FUNCTIONS)
@given(xs=st.lists(floats, min_size=1, max_size=40))
def test_elementwise_functions_match_the_twin_bit_for_bit(name, xs):
    """Each function gives the twin's bits for any doubles, NaN, infinities and subnormals included."""
    values = np.array(xs, dtype=np.float64)
    assert getattr(arith, name)(values).tobytes() == twin_bytes(name, xs)


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("n", LENGTHS)
def test_every_array_length_matches_the_twin(name, n):
    """Arrays of every length (SIMD bodies and tails) give the twin's bits, edge values included."""
    x = mixed(n)
    assert getattr(arith, name)(x).tobytes() == twin_bytes(name, x)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_floats_in_give_floats_out_and_shapes_are_kept(name):
    """A Python float gives a Python float with the array path's bits; an array keeps its shape."""
    fn = getattr(arith, name)
    for x in EDGES:
        y = fn(x)
        assert type(y) is float and struct.pack("<d", y) == fn(np.array([x])).tobytes()
    assert fn(np.ones((2, 3, 4)) * 0.3).shape == (2, 3, 4)
    assert fn(np.array(0.3)).shape == ()
    assert fn(np.empty((0, 3))).shape == (0, 3)
    strided = mixed(30)[::3]
    assert fn(strided).tobytes() == fn(strided.copy()).tobytes()


def test_the_range_boundaries_are_those_of_the_c_library():
    """exp overflows just above 709.782712893384 and underflows to 0 below -745.13321910194; logs mark their poles."""
    assert arith.exp(709.782712893384) < math.inf and arith.exp(709.7827128933841) == math.inf
    assert arith.exp(-745.1332191019411) == 5e-324 and arith.exp(-745.1332191019412) == 0.0
    assert arith.log(0.0) == -math.inf and math.isnan(arith.log(-1.0)) and arith.log(math.inf) == math.inf
    assert arith.log1p(-1.0) == -math.inf and math.isnan(arith.log1p(-2.0))
    assert math.copysign(1.0, arith.log1p(-0.0)) == -1.0 and math.copysign(1.0, arith.tanh(-0.0)) == -1.0
    assert arith.tanh(1e300) == 1.0 and arith.tanh(-math.inf) == -1.0
    assert arith.sigmoid(-1e300) == 0.0 and arith.sigmoid(1e300) == 1.0 and arith.softplus(1e300) == 1e300
    assert arith.sinpi(0.5) == 1.0 and arith.cospi(1.0) == -1.0 and arith.cospi(0.5) == 0.0
    assert math.copysign(1.0, arith.sinpi(-3.0)) == -1.0 and math.copysign(1.0, arith.cospi(-1.5)) == 1.0


# 50-digit references from the decimal module; they run inside decimal.localcontext(D)
D = decimal.Context(prec=50, Emin=-999999, Emax=999999)
PI = decimal.Decimal("3.14159265358979323846264338327950288419716939937510582097494459")


def _series(terms):
    total = decimal.Decimal(0)
    for term in terms:
        total += term
        if term == 0 or abs(term) < abs(total) * decimal.Decimal("1e-55"):
            return total


def _sin_dec(t):
    """sin(t) by its Taylor series, for |t| ≤ π."""
    def terms():
        term, k = t, 1
        while True:
            yield term
            term = -term * t * t / ((k + 1) * (k + 2))
            k += 2
    return _series(terms())


def _log1p_dec(x):
    if abs(x) > decimal.Decimal("1e-6"):
        return (1 + x).ln()

    def terms():
        power, k = x, 1
        while True:
            yield power / k if k % 2 else -power / k
            power, k = power * x, k + 1
    return _series(terms())


def _tanh_dec(x):
    if abs(x) < decimal.Decimal("1e-6"):
        return x - x**3 / 3 + 2 * x**5 / 15
    e = (2 * x).exp()
    return (e - 1) / (e + 1)


def _sinpi_dec(x):
    r = x - 2 * (x / 2).to_integral_value(rounding=decimal.ROUND_HALF_EVEN)
    return decimal.Decimal(0) if r == r.to_integral_value() else _sin_dec(PI * r)


REFERENCES = {
    "exp": lambda x: x.exp(),
    "log": lambda x: x.ln(),
    "log1p": _log1p_dec,
    "tanh": _tanh_dec,
    "sinpi": _sinpi_dec,
    "cospi": lambda x: _sinpi_dec(x + decimal.Decimal("0.5")),
    "sigmoid": lambda x: 1 / (1 + (-x).exp()),
    "softplus": lambda x: _log1p_dec(x.exp()),
}


def _points(name, rng):
    grids = {
        "exp": [np.linspace(-745, 709.78, 1500), np.linspace(-2, 2, 1500), rng.uniform(-30, 30, 1500)],
        "log": [np.exp2(rng.uniform(-1074, 1023, 1500)), np.linspace(0.5, 2, 1500), 1 + rng.uniform(-1e-5, 1e-5, 500)],
        "log1p": [np.linspace(-0.999, 3, 1500), np.exp2(rng.uniform(-80, 0, 1500)) * rng.choice([-1, 1], 1500),
                  np.exp2(rng.uniform(0, 1000, 500))],
        "tanh": [np.linspace(-3, 3, 1500), rng.uniform(0.5, 0.7, 1000), np.exp2(rng.uniform(-60, 4, 1000))],
        "sinpi": [np.linspace(-1, 1, 1501), rng.uniform(-1000, 1000, 1000), np.exp2(rng.uniform(-60, 0, 500))],
        "cospi": [np.linspace(-1, 1, 1501), rng.uniform(-1000, 1000, 1000)],
        "sigmoid": [np.linspace(-40, 40, 1500), rng.uniform(-700, -40, 500)],
        "softplus": [np.linspace(-40, 40, 1500), rng.uniform(-700, 700, 500)],
    }
    return np.concatenate(grids[name])


def ulps(y, exact):
    """|y − exact| in units in the last place of the exact value's binade (subnormal spacing below)."""
    if exact == 0:
        return 0.0 if y == 0 else math.inf
    mantissa, exponent = math.frexp(float(exact))
    if abs(exact) < decimal.Decimal(2) ** (exponent - 1):  # float() rounded up into the next binade
        exponent -= 1
    ulp = decimal.Decimal(2) ** max(exponent - 53, -1074)
    return float(abs(decimal.Decimal(float(y)) - exact) / ulp)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_error_bounds_against_50_digit_references(name):
    """Every function stays within its documented ulp bound on dense grids and random points."""
    x = _points(name, np.random.default_rng([7, FUNCTIONS.index(name)]))
    y = getattr(arith, name)(x)
    with decimal.localcontext(D):
        errors = [ulps(yi, REFERENCES[name](decimal.Decimal(float(xi)))) for xi, yi in zip(x, y)]
    worst = int(np.argmax(errors))
    assert errors[worst] <= ULP_BOUND[name], (name, x[worst], errors[worst])


@pytest.mark.filterwarnings("ignore:invalid value encountered in add")
@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 1000, 10001])
def test_total_matches_the_twin_for_vectors_and_columns(n):
    """total() gives the twin's bits along axis 0 for vectors and for each column of 2-D and 3-D arrays."""
    a = mixed(n * 6, seed=3).reshape(n, 2, 3) if n else np.empty((0, 2, 3))
    cube = arith.total(a)
    assert cube.shape == (2, 3)
    columns = a.reshape(n, 6)
    assert cube.tobytes() == packed([twin.total(columns[:, j].tolist()) for j in range(6)])
    vector = arith.total(columns[:, 0])
    assert type(vector) is np.float64 and struct.pack("<d", vector) == struct.pack("<d", twin.total(columns[:, 0]))
    assert arith.total(a, axis=2).tobytes() == np.stack([arith.total(a[:, i, :], axis=1) for i in range(2)], 1).tobytes()


def test_total_adds_in_the_documented_tree_order():
    """Five rows add as ((r0 + r1) + (r2 + r3)) + r4, not left to right."""
    r = [1e16, 1.0, -1e16, 1.0, 1.0]
    assert arith.total(np.array(r)) == ((r[0] + r[1]) + (r[2] + r[3])) + r[4] == 1.0
    assert (((r[0] + r[1]) + r[2]) + r[3]) + r[4] == 2.0
    assert arith.total(np.array([1.0, 2.0, 3.0])) == (1.0 + 2.0) + 3.0
    assert arith.dot_rows(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])) == 32.0


@given(st.lists(st.integers(-2**40, 2**40), max_size=300))
def test_total_of_integers_is_exact(values):
    """Sums that are exactly representable come out exact (and equal to the twin's)."""
    a = np.array(values, dtype=np.float64)
    assert arith.total(a) == sum(values) == twin.total(a.tolist())


def _twin_uniforms(rng):
    return iter(rng.random, None)


SHAPES = [0.001, 0.05, 0.3, 0.999, 1.0, 1.5, 4.0, 30.0, 999.0, 1500.0]
# (SCALAR_ARMS, SCALAR_LANES): the twin's code for every beta; numpy with the rare lanes finished by the
# twin's code; numpy with every rare lane elementwise. All three must give the same bits.
PATHS = {"scalar": (10**9, 10**9), "numpy+twin-lanes": (0, 10**9), "numpy": (0, 0)}


@pytest.fixture(params=sorted(PATHS))
def path(request, monkeypatch):
    arms, lanes = PATHS[request.param]
    monkeypatch.setattr(samplers, "SCALAR_ARMS", arms)
    monkeypatch.setattr(samplers, "SCALAR_LANES", lanes)
    return request.param


@pytest.mark.parametrize("seed", range(8))
def test_samplers_match_the_twin_and_consume_the_same_uniforms(seed, path):
    """normal, gamma, beta and uniform give the twin's bits and leave both generators in the same state."""
    ours, theirs = np.random.default_rng([seed, 1]), np.random.default_rng([seed, 1])
    uniforms = _twin_uniforms(theirs)
    a = np.array(SHAPES)
    b = a[::-1].copy()
    assert samplers.beta(ours, a, b).tobytes() == packed(twin.beta(uniforms, a.tolist(), b.tolist()))
    assert samplers.beta_draws(ours, a.tolist(), b.tolist()) == twin.beta(uniforms, a.tolist(), b.tolist())
    assert samplers.gamma(ours, a).tobytes() == packed(twin.gamma(uniforms, a.tolist()))
    for n in (1, 2, 7, 1000):
        assert samplers.gaussian(ours, n).tobytes() == packed(twin.gaussian(uniforms, n))
    assert samplers.gaussian(ours) == twin.gaussian(uniforms, 1)[0]
    assert samplers.gaussian(ours, (3, 2)).tobytes() == packed(twin.gaussian(uniforms, 6))
    assert samplers.uniform(ours, -1.0, 3.0, 2).tobytes() == packed([twin.uniform(uniforms, -1.0, 3.0) for _ in "ab"])
    assert samplers.beta(ours, 2.0, 0.5) == twin.beta(uniforms, [2.0], [0.5])[0]
    assert ours.random() == next(uniforms)


shape_values = st.one_of(st.floats(1e-300, 5000), st.floats(1.0, 30.0), st.sampled_from(SHAPES))


@given(seed=st.integers(0, 2**32), arms=st.lists(st.tuples(shape_values, shape_values), min_size=1, max_size=300),
       which=st.sampled_from(sorted(PATHS)))
def test_beta_matches_the_twin_for_any_posteriors(seed, arms, which):
    """Any positive shapes (tiny ones included), 1 to 300 arms, on every path: the twin's bits, in [0, 1], silently."""
    a, b = (np.array(v) for v in zip(*arms))
    ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
    saved = samplers.SCALAR_ARMS, samplers.SCALAR_LANES
    samplers.SCALAR_ARMS, samplers.SCALAR_LANES = PATHS[which]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            draws = samplers.beta(ours, a, b)
    finally:
        samplers.SCALAR_ARMS, samplers.SCALAR_LANES = saved
    assert draws.tobytes() == packed(twin.beta(_twin_uniforms(theirs), a.tolist(), b.tolist()))
    assert ((draws >= 0.0) & (draws <= 1.0)).all()
    assert ours.random() == theirs.random()


@given(seed=st.integers(0, 2**32), shapes=st.lists(shape_values, min_size=1, max_size=300),
       n=st.integers(1, 300), which=st.sampled_from(sorted(PATHS)))
def test_gamma_and_normal_match_the_twin(seed, shapes, n, which):
    """gamma of 1 to 300 shapes and normal of 1 to 300 values give the twin's bits on every path."""
    ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
    uniforms = _twin_uniforms(theirs)
    saved = samplers.SCALAR_LANES
    samplers.SCALAR_LANES = PATHS[which][1]
    try:
        assert samplers.gamma(ours, np.array(shapes)).tobytes() == packed(twin.gamma(uniforms, shapes))
        assert samplers.gaussian(ours, n).tobytes() == packed(twin.gaussian(uniforms, n))
    finally:
        samplers.SCALAR_LANES = saved
    assert ours.random() == next(uniforms)


class RareStream:
    """A stand-in for the generator whose 'raw uniforms' (multiples of 2^-53 in [0, 1)) land on the rare
    paths far more often than numpy's: Z in the base strip (the tail), in the top strips (all wedge), U
    and B next to 1 (both squeezes fail), exact 0s."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def _one(self):
        kind = int(self.rng.integers(6))
        top = 2**53
        if kind == 0:  # the base strip, mostly past the inner rectangle: the tail
            return int(self.rng.integers(0, top // 256)) / top
        if kind == 1:
            return int(self.rng.integers(top - top // 64, top)) / top
        if kind == 2:
            return 0.0 if self.rng.random() < 0.1 else 1.0 - 2.0**-53
        return int(self.rng.integers(0, top)) / top

    def random(self, size=None):
        if size is None:
            return self._one()
        return np.array([self._one() for _ in range(size)])

    def uniforms(self):
        while True:
            yield self._one()


@pytest.mark.parametrize("seed", range(4))
def test_the_rare_paths_match_the_twin(seed, path):
    """Tails, wedges, failed squeezes, rejections and U = 0 (forced by a skewed stream) give the twin's bits."""
    shapes = SHAPES + [1.0] * 20 + [2.0] * 20
    a, b = np.array(shapes), np.array(shapes[::-1])
    ours, theirs = RareStream([seed, 4]), RareStream([seed, 4]).uniforms()
    z = samplers.gaussian(ours, 3000)
    assert z.tobytes() == packed(twin.gaussian(theirs, 3000))
    assert (np.abs(z) > twin.ZIG_R).sum() > 20  # the tail was taken
    for _ in range(5):
        assert samplers.beta(ours, a, b).tobytes() == packed(twin.beta(theirs, a.tolist(), b.tolist()))
        assert samplers.gamma(ours, a).tobytes() == packed(twin.gamma(theirs, a.tolist()))
    assert ours.random() == next(theirs)


def test_the_documented_consumption_order():
    """One arm, both shapes ≥ 1, every test on its fast path: the six uniforms go as the docstring says."""
    u = [0.30, 0.70, 0.11, 0.13, 0.20, 0.40]  # Z_a, Z_b, W_a, W_b, U_a, U_b
    stream = iter(u)
    draw = twin.beta(stream, [3.0], [5.0])[0]
    g = []
    for s, z_uniform, u3 in ((3.0, u[0], u[4]), (5.0, u[1], u[5])):
        k = int(512.0 * z_uniform)
        f = 512.0 * z_uniform - k
        assert f < twin.ZIG_Q[k]  # inside the strip's inner rectangle
        z = f * twin.ZIG_W[k]
        d = s - 1.0 / 3.0
        t = 1.0 + (1.0 / math.sqrt(9.0 * d)) * z
        zz = z * z
        assert u3 < 1.0 - 0.0331 * (zz * zz)  # the squeeze
        g.append(d * (t * t * t))
    assert draw == g[0] / (g[0] + g[1])
    assert next(stream, None) is None
    assert samplers.beta_draws(RareStreamList(u), [3.0], [5.0]) == [draw]


def _fast_gamma(s, z_uniform, u3):
    """G of an attempt that stays on every fast path, from the docstring's formulas."""
    k = int(512.0 * z_uniform)
    f = 512.0 * z_uniform - k
    assert f < twin.ZIG_Q[k]
    z = f * twin.ZIG_W[k]
    d = s - 1.0 / 3.0
    t = 1.0 + (1.0 / math.sqrt(9.0 * d)) * z
    assert u3 < 1.0 - 0.0331 * ((z * z) * (z * z))
    return d * (t * t * t)


@pytest.mark.parametrize("which", sorted(PATHS))
def test_the_documented_order_with_a_boost_and_a_second_round(which, monkeypatch):
    """Beta(0.5, 2): round 1 takes (Z_a, Z_b, W_a, W_b, U_a, U_b, B_a); a's attempt is rejected in the top
    strip's wedge, so round 2 takes (Z, W, U) for a alone; the draw is 1/(1 + (G_b/G_a)·exp(0 − L_a))."""
    monkeypatch.setattr(samplers, "SCALAR_ARMS", PATHS[which][0])
    monkeypatch.setattr(samplers, "SCALAR_LANES", PATHS[which][1])
    top = 1.0 - 2.0**-53
    u = [511.5 / 512.0, 0.40, top, 0.3, 0.2, 0.25, 0.6,  # round 1
         0.35, 0.5, 0.45]  # round 2, shape a
    g_a = _fast_gamma(1.5, u[7], u[9])
    g_b = _fast_gamma(2.0, u[1], u[5])
    l_a = twin.log(1.0 - u[6]) / 0.5
    expected = 1.0 / (1.0 + (g_b / g_a) * twin.exp(0.0 - l_a))
    assert twin.beta(iter(u), [0.5], [2.0]) == [expected]
    assert samplers.beta(RareStreamList(u), np.array([0.5]), np.array([2.0])).tolist() == [expected]
    assert samplers.beta_draws(RareStreamList(u), [0.5], [2.0]) == [expected]
    assert twin.gamma(iter(u[:7] + u[7:]), [0.5, 2.0]) == [g_a * twin.exp(l_a), g_b]


class RareStreamList:
    """A generator stand-in that hands out a fixed list of uniforms."""

    def __init__(self, values):
        self.values = list(values)

    def random(self, size):
        taken, self.values = self.values[:size], self.values[size:]
        assert len(taken) == size
        return np.array(taken)


def test_the_squeezes_imply_the_exact_test_and_r_its_failure():
    """On 600,000 attempts (shapes 2/3 … 1000 as d, z up to ±8, U uniform and next to 1), S1 and S2 never
    accept what the exact test rejects, and R never rejects what it accepts: they only spare logarithms."""
    rng = np.random.default_rng(19)
    n = 600000
    d = np.concatenate((2.0 / 3.0 + rng.random(n // 2) * 3.0, np.exp(rng.uniform(-0.4, 6.9, n // 2))))
    z = np.concatenate((rng.standard_normal(n // 2), rng.uniform(-8.0, 8.0, n // 2)))
    u = np.where(rng.random(n) < 0.5, rng.random(n), 1.0 - rng.random(n) * 1e-3)
    c = 1.0 / np.sqrt(9.0 * d)
    x = c * z
    t = 1.0 + x
    v = t * t * t
    q = (z * x) * (z * x)
    exact = (t > 0.0) & (arith.log(u) < 0.5 * (z * z) + d * ((1.0 - v) + arith.log(np.where(t > 0.0, v, 1.0))))
    s1 = u < 1.0 - samplers.SQUEEZE * ((z * z) * (z * z))
    s2 = 12.0 * ((1.0 - u) * (1.0 - np.abs(x))) > q
    r = (np.abs(x) <= 1.0) & (u - 1.0 >= u * (q * (x * twin.FIFTEENTH - twin.TWELFTH)))
    assert not (s1 & ~exact).any() and not (s2 & ~exact).any() and not (r & exact).any()
    assert (s1 | s2 | r).mean() > 0.85 and r.sum() > 1000


def test_the_ziggurat_tables_are_the_same_with_numpy_arithmetic():
    """The tables (computed at import by the twin) come out bit for bit the same from engine.arith and
    np.sqrt, and describe 256 strips of one area under e^(-x²/2)."""
    r = np.array([twin.ZIG_R])
    fr = arith.exp(-0.5 * (r * r))
    v = fr * (r + 1.0 / r)
    x, fx = [r + 1.0 / r, r], [None, fr]
    for i in range(1, 255):
        x.append(np.sqrt(-2.0 * arith.log(fx[i] + v / x[i])))
        fx.append(arith.exp(-0.5 * (x[i + 1] * x[i + 1])))
    x.append(np.zeros(1))
    widths = np.concatenate([np.concatenate((w, -w)) for w in x[:256]])
    assert widths.tobytes() == packed(twin.ZIG_W)
    inner = np.concatenate([np.repeat(x[i + 1] / x[i], 2) for i in range(256)])
    assert inner.tobytes() == packed(twin.ZIG_Q)
    assert np.concatenate([np.repeat(f, 2) for f in fx[1:]]).tobytes() == packed(twin.ZIG_F[2:])
    w, f = np.array(twin.ZIG_W[0::2]), np.array(twin.ZIG_F[0::2] + [1.0])
    areas = w[1:] * (f[2:] - f[1:-1])
    assert np.abs(areas / v[0] - 1.0).max() < 1e-12 and abs(w[0] * fr[0] / v[0] - 1.0) < 1e-15
    assert (np.diff(w[1:]) < 0).all() and ((0.0 <= inner) & (inner < 1.0)).all()


def test_math_sqrt_is_the_exactly_rounded_square_root():
    """The engine's scalar path uses math.sqrt: it equals the twin's exact integer square root (and np.sqrt)
    on 100,000 doubles over the whole range, subnormals and the shapes' d = s − 1/3 included."""
    rng = np.random.default_rng(17)
    x = np.concatenate((np.exp2(rng.uniform(-1074, 1024, 40000)), rng.uniform(0.0, 10.0, 30000),
                        rng.uniform(2.0 / 3.0, 3000.0, 30000) * 9.0))
    x = x[np.isfinite(x)]
    ours = [math.sqrt(v) for v in x.tolist()]
    assert packed(ours) == packed([twin.sqrt(v) for v in x.tolist()]) == np.sqrt(x).tobytes()


def test_the_same_seed_gives_the_same_draws():
    """Two generators seeded alike give identical bytes, and another seed gives others."""
    def draws(seed):
        rng = np.random.default_rng([seed, 3])
        return b"".join(x.tobytes() for x in (samplers.beta(rng, np.full(6, 2.0), np.full(6, 3.0)),
                                              samplers.beta(rng, np.full(60, 2.0), np.full(60, 3.0)),
                                              samplers.gaussian(rng, 5), samplers.gamma(rng, np.array(SHAPES))))
    assert draws(1) == draws(1) != draws(2)


BETA_CASES = [(0.2, 0.7), (0.3, 1.7), (1.0, 1.0), (1.7, 10.0), (2.0, 5.0), (40.0, 3.0), (10.0, 1000.0),
              (1000.0, 1200.0), (0.3, 1000.0)]


def _assert_beta_moments(x, a, b):
    n = x.size
    assert ((x >= 0.0) & (x <= 1.0)).all()
    mean, var = a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1))
    assert abs(x.mean() - mean) < 5 * math.sqrt(var / n), (a, b, x.mean(), mean)
    assert abs(x.var() / var - 1.0) < 0.06, (a, b, x.var(), var)


@pytest.mark.parametrize("a, b", BETA_CASES)
def test_beta_has_the_right_mean_and_variance(a, b):
    """20,000 Beta(a, b) draws have mean a/(a+b) within 5 standard errors and variance ab/((a+b)²(a+b+1)) within 6%."""
    n = 20000
    x = samplers.beta(np.random.default_rng([11, int(a * 10), int(b)]), np.full(n, a), np.full(n, b))
    _assert_beta_moments(x, a, b)


def test_beta_of_mixed_arms_has_the_right_moments_on_both_paths():
    """Mixed shapes in one array, drawn 6 arms at a time (the twin's path) and 2,000 at a time (numpy's):
    each arm's 20,000 draws have its mean and variance."""
    a = np.array([0.3, 1.0, 1.7, 10.0, 1000.0, 2.5])
    b = np.array([1.7, 1.0, 0.3, 1000.0, 10.0, 2.5])
    rng = np.random.default_rng(21)
    small = np.array([samplers.beta_draws(rng, a.tolist(), b.tolist()) for _ in range(20000)])
    big = samplers.beta(rng, np.tile(a, 20000), np.tile(b, 20000)).reshape(20000, 6)
    for draws in (small, big):
        for j in range(6):
            _assert_beta_moments(draws[:, j], a[j], b[j])


@pytest.mark.parametrize("shape", [0.05, 0.3, 1.0, 1.7, 2.5, 10.0, 1000.0])
def test_gamma_has_the_right_mean_and_variance(shape):
    """20,000 Gamma(shape) draws have mean and variance near shape (within 5 standard errors)."""
    n = 20000
    x = samplers.gamma(np.random.default_rng([12, int(shape * 100)]), np.full(n, shape))
    assert (x >= 0.0).all()
    assert abs(x.mean() - shape) < 5 * math.sqrt(shape / n)
    kurtosis_term = math.sqrt((6.0 / shape + 2.0) / n)  # sd of the sample variance / variance
    assert abs(x.var() / shape - 1.0) < 5 * kurtosis_term


def test_normal_has_mean_0_and_variance_1():
    """20,000 normal draws have mean 0 and variance 1 within 5 standard errors, and a symmetric tail."""
    x = samplers.gaussian(np.random.default_rng(13), 20000)
    assert abs(x.mean()) < 5 / math.sqrt(20000) and abs(x.var() - 1.0) < 5 * math.sqrt(2 / 20000)
    assert abs((x > 1.96).mean() - 0.025) < 0.006 and abs((x < -1.96).mean() - 0.025) < 0.006


def test_normal_follows_the_normal_distribution_into_the_tail():
    """10^6 draws: the share below each of 41 points (−5 … 5, both sides of the tail boundary R) is Φ's
    within 5 standard errors (and 3 counts), and the shares beyond ±R are the tail's."""
    n = 10**6
    x = np.sort(samplers.gaussian(np.random.default_rng(14), n))
    points = np.concatenate((np.linspace(-5.0, 5.0, 37), [-twin.ZIG_R - 0.1, -twin.ZIG_R, twin.ZIG_R, twin.ZIG_R + 0.1]))
    for q in points:
        p = 0.5 * (1.0 + math.erf(q / math.sqrt(2.0)))
        share = np.searchsorted(x, q) / n
        assert abs(share - p) < 5 * math.sqrt(p * (1 - p) / n) + 3.0 / n, (q, share, p)
    tail = math.erfc(twin.ZIG_R / math.sqrt(2.0))
    assert abs((np.abs(x) > twin.ZIG_R).mean() - tail) < 5 * math.sqrt(tail / n)


def test_shapes_that_are_not_positive_are_refused(path):
    """A zero, negative, infinite or NaN shape is a ValueError, not a NaN draw, on every path."""
    for bad in (0.0, -1.0, math.inf, math.nan, -math.inf):
        for arms in ([1.0, bad], [bad, 2.0, 3.0]):
            with pytest.raises(ValueError):
                samplers.beta(np.random.default_rng(0), np.array(arms), np.ones(len(arms)))
            with pytest.raises(ValueError):
                samplers.beta_draws(np.random.default_rng(0), [2.0] * len(arms), arms)
            with pytest.raises(ValueError):
                twin.beta(iter([0.5] * 100), arms, [1.0] * len(arms))


DIGEST_SCRIPT = textwrap.dedent("""
    import hashlib, json, sys
    import numpy as np
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:
        from numpy.core._multiarray_umath import __cpu_features__ as features
    sys.path.insert(0, sys.argv[1])
    from engine import arith, samplers
    x = np.random.default_rng(2026).standard_normal(10001) * 30.0
    tiny = np.linspace(-745.2, -700.0, 1001)
    outputs = {name: getattr(arith, name)(x) for name in ("exp", "log", "log1p", "tanh", "sigmoid", "softplus",
                                                          "sinpi", "cospi")}
    outputs["exp_subnormal"] = arith.exp(tiny)
    outputs["total"] = arith.total(x[:9996].reshape(-1, 7))
    rng = np.random.default_rng([5, 7])
    outputs["beta"] = np.concatenate([samplers.beta(rng, np.abs(x[:200]) + 1e-3, np.abs(x[200:400]) / 10 + 0.01)
                                      for _ in range(20)])
    outputs["normal"] = samplers.gaussian(rng, 999)
    digests = {k: hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest() for k, v in outputs.items()}
    print(json.dumps({"digests": digests, "features": sorted(k for k, v in features.items() if v)}))
""")


def _dispatchable():
    """The SIMD families numpy dispatches to at run time and this CPU has (numpy refuses baseline ones)."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:
        from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    return [name for name in __cpu_dispatch__ if __cpu_features__.get(name)]


def _digests(tmp_path, disabled):
    import json

    env = {k: v for k, v in os.environ.items() if k != "NPY_DISABLE_CPU_FEATURES"}
    if disabled:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(disabled)
    script = tmp_path / "digests.py"
    script.write_text(DIGEST_SCRIPT)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run([sys.executable, str(script), root], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_restricted_numpy_dispatch_gives_the_same_digests(tmp_path):
    """Outputs under NPY_DISABLE_CPU_FEATURES (every dispatchable SIMD family off) hash like the default run's."""
    disabled = _dispatchable()
    full = _digests(tmp_path, [])
    restricted = _digests(tmp_path, disabled)
    assert not set(disabled) & set(restricted["features"]), "numpy ignored NPY_DISABLE_CPU_FEATURES"
    assert restricted["digests"] == full["digests"]
    this_process = hashlib.sha256(arith.exp(np.linspace(-745.2, -700.0, 1001)).tobytes()).hexdigest()
    assert this_process == full["digests"]["exp_subnormal"]
