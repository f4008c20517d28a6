"""The model: input features, hidden layers of one activation, one sigmoid output; forward pass and exact
backpropagation on a flat parameter vector.

Parameters are named arrays, stored flat in this order: W1 (inputs × units), b1, W2, b2, ..., WL
(units × 1), bL, each W row-major. Forward pass, with F the feature columns in order:

    h0 = F,  h_l = act(h_{l-1}·W_l + b_l) for l < L,  logit = h_{L-1}·W_L + b_L,  p = sigmoid(logit)

The loss is the mean binary cross-entropy over the training points. The perceptron (no hidden layers) on
x, y is the release-0.1 model: its flat vector is (w1, w2, b), and its arithmetic is the same expression
for expression, so its logs replay bit for bit.

Why sums are written out: a product h·W is accumulated input by input (`_affine`), elementwise, not left
to a BLAS kernel whose blocking and fused multiply-adds differ between machines. Everything else whose bits
reach a digest (activations, the output's sigmoid, the sums over points in the gradient) is the session's
arithmetic's (engine/arithmetic.py): nnreplay's portable operations for new sessions, release 0.1/0.2's
machine expressions (a BLAS product for the output layer, numpy's sums and tanh) for the logs they recorded.
"""

import functools
import math

import attrs
import numpy as np

from engine.arithmetic import PORTABLE_NAME, Arithmetic, arithmetic

ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
# the derivative of act at a, given a and h = act(a)
_SLOPE = {"tanh": lambda a, h: 1.0 - h * h, "relu": lambda a, h: (a > 0.0).astype(np.float64),
          "sigmoid": lambda a, h: h * (1.0 - h), "linear": lambda a, h: np.ones_like(a)}


def _affine(h: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """h·W + b for h (n, i), W (i, o), b (o,): summed input by input, in order, then the bias added."""
    a = h[:, 0:1] * w[0]
    product = np.empty_like(a)
    for i in range(1, w.shape[0]):
        np.multiply(h[:, i:i + 1], w[i], out=product)
        a += product
    return a + b


def _count(shape: tuple[int, ...]) -> int:
    """How many numbers an array of `shape` holds."""
    count = 1
    for size in shape:
        count *= size
    return count


@attrs.frozen
class Model:
    features: tuple[str, ...]
    hidden: tuple[int, ...]
    activation: str
    arithmetic: str = PORTABLE_NAME

    @functools.cached_property
    def ops(self) -> Arithmetic:
        """The operations that fold this model (engine/arithmetic.py)."""
        return arithmetic(self.arithmetic)

    @functools.cached_property
    def shapes(self) -> tuple[tuple[str, tuple[int, ...]], ...]:
        """(name, shape) of every parameter array, in storage order."""
        sizes = (len(self.features), *self.hidden, 1)
        out = []
        for layer, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:]), 1):
            out += [(f"W{layer}", (fan_in, fan_out)), (f"b{layer}", (fan_out,))]
        return tuple(out)

    @functools.cached_property
    def size(self) -> int:
        return sum(_count(shape) for _, shape in self.shapes)

    @property
    def legacy(self) -> bool:
        """The release-0.1 perceptron on (x, y): initial weights drawn as that release drew them."""
        return not self.hidden and self.features == ("x", "y")

    @functools.cached_property
    def _spans(self) -> tuple[tuple[str, int, int, tuple[int, ...]], ...]:
        """(name, start, end, shape) of every array in the flat vector."""
        spans, start = [], 0
        for name, shape in self.shapes:
            spans.append((name, start, start + _count(shape), shape))
            start += _count(shape)
        return tuple(spans)

    def arrays(self, params: np.ndarray) -> dict[str, np.ndarray]:
        """The named arrays of a flat vector (views, no copies)."""
        params = np.asarray(params, dtype=np.float64)
        return {name: params[start:end].reshape(shape) for name, start, end, shape in self._spans}

    def flatten(self, arrays: dict) -> np.ndarray:
        return np.concatenate([np.asarray(arrays[name], dtype=np.float64).reshape(-1) for name, _ in self.shapes])

    @functools.cached_property
    def arms(self) -> tuple[str, ...]:
        """Thompson's actions: every parameter nudged up, then down. Without hidden layers the parameters
        are named as release 0.1 named them (w1, w2, ..., b); with hidden layers by array and index."""
        if not self.hidden:
            names = [f"w{j}" for j in range(1, len(self.features) + 1)] + ["b"]
        else:
            names = []
            for name, shape in self.shapes:
                names += [f"{name}[{','.join(map(str, index))}]" for index in np.ndindex(*shape)]
        return tuple(f"{name}{sign}" for name in names for sign in "+-")

    def layers(self, params: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """[(W_l, b_l)] in order: views of the flat vector."""
        views = [params[start:end].reshape(shape) for _, start, end, shape in self._spans]
        return list(zip(views[::2], views[1::2]))

    def output(self, params: np.ndarray, inputs: np.ndarray) -> tuple:
        """`forward`, and what the loss and the gradient share of the output (the arithmetic's
        `output_exp`): (logits, trace, shared). A state keeps it for its metrics and its next step."""
        z, trace = self.forward(params, inputs)
        return z, trace, self.ops.output_exp(z)

    def forward(self, params: np.ndarray, inputs: np.ndarray) -> tuple[np.ndarray, list]:
        """(logits (n,), [(a_l, h_l) per hidden layer]) for feature rows `inputs` (n, features)."""
        act = self.ops.activations[self.activation]
        h, trace = inputs, []
        layers = self.layers(np.asarray(params, dtype=np.float64))
        for w, b in layers[:-1]:
            a = _affine(h, w, b)
            h = act(a)
            trace.append((a, h))
        w, b = layers[-1]
        return _affine(h, w, b)[:, 0], trace

    def logits(self, params: np.ndarray, inputs: np.ndarray) -> np.ndarray:
        return self.forward(params, inputs)[0]

    def gradient(self, params: np.ndarray, inputs: np.ndarray, labels: np.ndarray, forward=None) -> np.ndarray:
        """∂loss/∂params, flat, for the mean BCE over the rows of `inputs`: exact backpropagation. `forward`
        is `output(params, inputs)`, when already made.

        With e = σ(logit) - y: ∂L/∂W_L = h_{L-1}ᵀe/n, ∂L/∂b_L = mean(e); going down, δ_{L-1} = e·W_Lᵀ ⊙ act'(a),
        ∂L/∂W_l = h_{l-1}ᵀδ_l/n, ∂L/∂b_l = mean over points of δ_l, δ_{l-1} = δ_l·W_lᵀ ⊙ act'(a_{l-1}).
        """
        z, trace, shared = forward or self.output(params, inputs)
        ops = self.ops
        error = ops.output_sigmoid(z, shared) - labels
        n = len(error)
        layers = self.layers(params)
        below = [inputs] + [h for _, h in trace]
        grads = [None] * (2 * len(layers))
        w_out, _ = layers[-1]
        grads[-2] = (ops.weighted_points(error, below[-1]) / n).reshape(w_out.shape)
        grads[-1] = np.array([float(ops.sum_points(error)) / n])
        if trace:
            slope = _SLOPE[self.activation]
            delta = error[:, None] * w_out[:, 0] * slope(*trace[-1])
            for k in range(len(layers) - 2, -1, -1):
                grads[2 * k] = ops.sum_points(below[k][:, :, None] * delta[:, None, :]) / n
                grads[2 * k + 1] = ops.sum_points(delta) / n
                if k:
                    w = layers[k][0]
                    delta = _affine(delta, w.T, np.zeros(w.shape[0])) * slope(*trace[k - 1])
        return np.concatenate([g.reshape(-1) for g in grads])

    def initial(self, rng: np.random.Generator) -> np.ndarray:
        """Glorot-uniform weights, W_l ~ U(-a, a) with a = sqrt(6 / (fan_in + fan_out)), and zero biases:
        keeps the variance of activations and gradients about equal across layers for tanh units."""
        arrays = {}
        for name, shape in self.shapes:
            if name.startswith("W"):
                limit = math.sqrt(6.0 / (shape[0] + shape[1]))
                arrays[name] = self.ops.uniform(rng, -limit, limit, shape)
            else:
                arrays[name] = np.zeros(shape)
        return self.flatten(arrays)


@functools.cache
def model_for(features: tuple[str, ...], hidden: tuple[int, ...], activation: str,
              arithmetic_name: str = PORTABLE_NAME) -> Model:
    return Model(tuple(features), tuple(hidden), activation, arithmetic_name)
