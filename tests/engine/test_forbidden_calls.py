"""The portable modules call nothing whose result depends on the machine: an AST scan.

`forbidden_calls(path)` is pointed at every module on the folding path: what evolve folds, what a digest
covers and what decide draws. engine/legacy.py (the machine arithmetic that release 0.1/0.2 logs keep
folding with) and engine/view.py (drawing only: nothing drawn enters a digest) are the two modules left out.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PORTABLE_MODULES = ["engine/arith.py", "engine/samplers.py", "engine/scalar.py", "engine/portable.py",
                    "engine/arithmetic.py", "engine/model.py", "engine/metrics.py", "engine/dataset.py",
                    "engine/features.py", "engine/thompson.py", "engine/decider.py", "engine/state.py",
                    "engine/events.py", "engine/settings.py", "engine/person.py", "engine/lesson.py",
                    "engine/playground.py"]

TRANSCENDENTAL = {"exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "logaddexp", "logaddexp2", "tanh",
                  "sinh", "cosh", "sin", "cos", "tan", "arctan", "arctan2", "atan", "atan2", "power",
                  "float_power", "pow", "hypot", "erf"}
LIBRARY_ORDER = {"sum", "nansum", "mean", "nanmean", "average", "prod", "nanprod", "cumsum", "cumprod", "fsum",
                 "dot", "vdot", "matmul", "einsum", "tensordot", "inner", "polyval", "polynomial", "linalg",
                 "std", "var", "trapz", "trapezoid"}
SAMPLERS = {"beta", "gamma", "normal", "standard_normal", "standard_gamma", "uniform", "exponential",
            "standard_exponential", "lognormal", "binomial", "dirichlet", "multivariate_normal"}
FORBIDDEN = TRANSCENDENTAL | LIBRARY_ORDER | SAMPLERS
# our own portable modules may be called by these names (arith.exp, samplers.beta), and so may a session's
# arithmetic (`model.ops.exp`, engine/arithmetic.py): portable for new sessions, engine/legacy.py for old logs
ALLOWED_RECEIVERS = {"arith", "samplers", "scalar", "ops"}
LIBRARIES = {"numpy", "math", "cmath", "scipy"}


def _root_name(node):
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _scan(source, name):
    found = []
    imported = set()
    for node in ast.walk(ast.parse(source, name)):
        where = f"{name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in LIBRARIES:
            imported |= {alias.asname or alias.name for alias in node.names if alias.name in FORBIDDEN}
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            found.append(f"{where}: the @ operator (BLAS)")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            exponent = node.right
            if not (isinstance(exponent, ast.Constant) and isinstance(exponent.value, int)):
                found.append(f"{where}: ** with an exponent that is not an integer literal")
        elif isinstance(node, ast.Attribute) and node.attr in {"reduce", "accumulate", "reduceat"}:
            if isinstance(node.value, ast.Attribute) and node.value.attr in {"add", "multiply", "subtract"}:
                found.append(f"{where}: {node.value.attr}.{node.attr} (library-ordered reduction)")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in FORBIDDEN:
                receiver = func.value.attr if isinstance(func.value, ast.Attribute) else _root_name(func.value)
                if receiver not in ALLOWED_RECEIVERS:
                    found.append(f"{where}: .{func.attr}(...)")
            elif isinstance(func, ast.Name) and (func.id in imported or func.id == "pow"):
                found.append(f"{where}: {func.id}(...)")
    return found


def forbidden_calls(path) -> list[str]:
    """Every call in the module at `path` that the portable arithmetic forbids, as 'file:line: what'."""
    path = pathlib.Path(path)
    return _scan(path.read_text(), str(path))


@pytest.mark.parametrize("module", PORTABLE_MODULES)
def test_portable_modules_call_nothing_forbidden(module):
    """No module on the folding path calls BLAS, a library reduction, a libm function or a numpy sampler."""
    assert forbidden_calls(ROOT / module) == []


@pytest.mark.parametrize("snippet", [
    "import numpy as np\nnp.exp(x)", "import numpy as np\nnp.log1p(x)", "math.tanh(x)", "np.power(x, y)",
    "x ** 0.5", "x ** y", "a @ b", "np.dot(a, b)", "a.dot(b)", "a.sum()", "a.mean(axis=0)", "np.add.reduce(a)",
    "np.einsum('i,i', a, b)", "rng.beta(1.0, 2.0)", "self.rng.normal(size=3)", "rng.uniform(0, 1)",
    "from numpy import exp\nexp(x)", "from math import log as ln\nln(x)", "np.polyval(p, x)", "pow(x, 0.5)",
])
def test_the_scan_catches_each_forbidden_form(snippet):
    """Each forbidden form (transcendental, BLAS, reduction, sampler, non-integer power) is reported."""
    assert _scan(snippet, "snippet"), snippet


@pytest.mark.parametrize("snippet", [
    "arith.exp(x)", "samplers.beta(rng, a, b)", "self.ops.uniform(rng, 0, 1)", "model.ops.exp(x)", "x ** 2", "rng.random(3)", "np.sqrt(x)", "a.max()",
    "np.where(c, a, b)", "np.ldexp(y, k)",
])
def test_the_scan_lets_portable_forms_pass(snippet):
    """Portable calls (our own modules, integer powers, raw uniforms, sqrt, exact selects) are not reported."""
    assert _scan(snippet, "snippet") == []
