"""Which arithmetic folds a session: the operations whose bits reach a digest or a decision.

A session records its arithmetic in its first event (`Settings.arithmetic`). Two exist:

    portable-1  nnreplay's own (engine/portable.py on engine/arith.py): IEEE-754 basic operations in an
                order nnreplay fixes, so the same log gives the same bits on every machine. Every new
                session uses it.
    machine     the expressions of releases 0.1 and 0.2 (engine/legacy.py): BLAS products, numpy's
                reductions and its tanh, exp and samplers, whose last bits depend on the CPU's kernels.
                Logs recorded then carry no arithmetic field and keep folding with it, so they stay bit
                for bit wherever the recording machine's kernels match; elsewhere audit says exactly that.

An `Arithmetic` is a bundle of functions: the model's activations and output, the sums over points, the
loss and score, the sin feature (what `evolve` computes), and the draws of `decide` (data sets, initial
parameters, posterior samples). Nothing else in the engine computes a value that is folded or decided.
"""

from typing import Callable

import attrs

PORTABLE_NAME = "portable-1"
MACHINE_NAME = "machine"
NAMES = (PORTABLE_NAME, MACHINE_NAME)


@attrs.frozen
class Arithmetic:
    name: str
    activations: dict  # activation name -> f(a)
    sigmoid: Callable  # σ(z), elementwise
    # the output layer: `output_exp(z)` is what the loss and σ(z) share (portable: e^-|z|; machine: None),
    # `output_sigmoid(z, shared)` is σ(z), `bce_total(z, labels, shared)` Σ over points of log(1 + e^z) - y·z
    output_exp: Callable
    output_sigmoid: Callable
    bce_total: Callable
    sum_points: Callable  # Σ over axis 0 (the points), in this arithmetic's order
    weighted_points: Callable  # (e (n,), h (n, k)) -> Σ_points e·h, shape (k,)
    exp: Callable  # e^x of one float, the score
    sinpi: Callable  # sin(πx), elementwise (the sinx, siny features)
    rules: dict  # data-set kind -> f(n, rng) -> (points, red, separator)
    uniform: Callable  # (rng, low, high, size) -> draws
    perceptron_start: Callable  # rng -> (w1, w2, b) of release 0.1's perceptron
    beta_draws: Callable  # (rng, alphas, betas) -> one Beta draw per arm, a tuple of floats

    def __repr__(self) -> str:
        return f"Arithmetic({self.name!r})"


def arithmetic(name: str) -> Arithmetic:
    """The arithmetic a session names; its modules load on first use."""
    if name == PORTABLE_NAME:
        from engine.portable import PORTABLE
        return PORTABLE
    if name == MACHINE_NAME:
        from engine.legacy import MACHINE
        return MACHINE
    raise ValueError(f"unknown arithmetic {name!r}; this nnreplay knows {', '.join(NAMES)}")
