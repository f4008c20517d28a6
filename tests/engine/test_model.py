"""Models beyond the perceptron: exact backpropagation, named arrays, initialisation, held-out points."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

from engine import Next, Rate, Settings, Start, apply, decide, fold, parse, rng_for, state_digest
from engine.dataset import RADIUS, draw_dataset
from engine.errors import InvalidEvent, InvalidSetting
from engine.features import feature_matrix
from engine.metrics import gradient_step, metrics
from engine.model import ACTIVATIONS, model_for


def start(**kw):
    return apply(None, Start(Settings(**kw)))


def numerical_gradient(model, params, inputs, labels, h=1e-6):
    """Central differences of the documented loss, one parameter at a time."""
    def loss(p):
        z = model.logits(p, inputs)
        return float(np.mean(np.logaddexp(0.0, z) - labels * z))
    out = np.empty_like(params)
    for i in range(len(params)):
        up, down = params.copy(), params.copy()
        up[i] += h
        down[i] -= h
        out[i] = (loss(up) - loss(down)) / (2 * h)
    return out


@pytest.mark.parametrize("hidden, activation", [((), "tanh")] + [
    (hidden, activation) for hidden in [(3,), (4, 3)] for activation in ("tanh", "sigmoid", "linear")])
def test_backprop_matches_finite_differences(hidden, activation):
    """The gradient of every parameter agrees with central differences to 1e-6 relative."""
    model = model_for(("x", "y", "xy", "sinx"), hidden, activation)
    rng = np.random.default_rng(3)
    xy = rng.uniform(-1, 1, size=(30, 2))
    inputs, labels = feature_matrix(model.features, xy, model.ops.sinpi), (rng.uniform(size=30) < 0.5).astype(float)
    params = rng.normal(0.0, 0.8, size=model.size)
    exact = model.gradient(params, inputs, labels)
    numeric = numerical_gradient(model, params, inputs, labels)
    assert np.allclose(exact, numeric, rtol=1e-6, atol=1e-9)


def test_backprop_of_relu_matches_finite_differences_away_from_kinks():
    """relu's derivative is 0 or 1; with no unit at its kink the gradient is exact."""
    model = model_for(("x", "y"), (5,), "relu")
    rng = np.random.default_rng(8)
    xy = rng.uniform(-1, 1, size=(25, 2))
    inputs, labels = feature_matrix(model.features, xy, model.ops.sinpi), (xy[:, 0] * xy[:, 1] > 0).astype(float)
    params = rng.normal(0.0, 1.0, size=model.size)
    first = model.forward(params, inputs)[1][0][0]
    assert np.abs(first).min() > 1e-4  # far enough from 0 for h = 1e-6
    assert np.allclose(model.gradient(params, inputs, labels), numerical_gradient(model, params, inputs, labels),
                       rtol=1e-6, atol=1e-9)


def test_closed_form_gradient_of_a_zero_network():
    """With every parameter 0, p = 1/2 everywhere: only the output bias moves, by mean(1/2 - y)."""
    model = model_for(("x", "y"), (4,), "tanh")
    inputs = np.array([[0.5, -0.5], [1.0, 1.0], [-0.2, 0.3]])
    labels = np.array([1.0, 0.0, 1.0])
    grad = model.gradient(np.zeros(model.size), inputs, labels)
    expected = np.zeros(model.size)
    expected[-1] = np.mean(0.5 - labels)
    assert np.array_equal(grad, expected)


def test_closed_form_gradient_of_a_linear_hidden_layer():
    """With linear units the network is the perceptron with weights W1·W2, b1·W2 + b2: its logits agree,
    and ∂L/∂W2 = h1ᵀe/n with h1 = F·W1 + b1."""
    model = model_for(("x", "y"), (2,), "linear")
    w1, b1, w2, b2 = np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([0.1, -0.3]), np.array([[0.7], [-0.4]]), np.array([0.2])
    params = model.flatten({"W1": w1, "b1": b1, "W2": w2, "b2": b2})
    inputs = np.array([[0.3, 0.6], [-0.9, 0.1], [0.5, -0.5]])
    labels = np.array([1.0, 0.0, 0.0])
    z = inputs @ (w1 @ w2)[:, 0] + (b1 @ w2 + b2)[0]
    assert np.allclose(model.logits(params, inputs), z, rtol=1e-14)
    e = 1 / (1 + np.exp(-z)) - labels
    h1 = inputs @ w1 + b1
    grad = model.arrays(model.gradient(params, inputs, labels))
    assert np.allclose(grad["W2"][:, 0], h1.T @ e / 3, rtol=1e-12)
    assert np.allclose(grad["b2"], [e.mean()], rtol=1e-12)
    assert np.allclose(grad["W1"], np.outer(inputs.T @ e, w2[:, 0]) / 3, rtol=1e-12)


def test_named_arrays_have_the_documented_shapes_and_order():
    """W1 is features × units, ..., WL units × 1; the flat vector stores W1, b1, W2, b2 row-major."""
    model = model_for(("x", "y", "x2"), (8, 4), "tanh")
    assert [(n, s) for n, s in model.shapes] == [("W1", (3, 8)), ("b1", (8,)), ("W2", (8, 4)), ("b2", (4,)),
                                               ("W3", (4, 1)), ("b3", (1,))]
    assert model.size == 3 * 8 + 8 + 8 * 4 + 4 + 4 + 1
    params = np.arange(model.size, dtype=float)
    arrays = model.arrays(params)
    assert arrays["W1"][0, 1] == 1.0 and arrays["b1"][0] == 24.0 and arrays["b3"][0] == model.size - 1
    assert np.array_equal(model.flatten(arrays), params)
    assert len(model.arms) == 2 * model.size and model.arms[:2] == ("W1[0,0]+", "W1[0,0]-")


def test_the_default_perceptron_keeps_release_0_1_names_and_draws():
    """The default model is (w1, w2, b) with arms w1+ ... b-; a machine-arithmetic start (an old log's)
    draws exactly what release 0.1 drew, a portable one the same shape of draw in portable arithmetic."""
    from engine import arith

    old = start(seed=5, arithmetic="machine")
    assert old.settings.model.arms == ("w1+", "w1-", "w2+", "w2-", "b+", "b-")
    rng = np.random.default_rng([5, 1])
    draw_dataset(40, 0.0, rng, arithmetic_name="machine")
    angle = rng.uniform(0.0, 2.0 * np.pi)
    assert list(old.params) == [0.5 * math.cos(angle), 0.5 * math.sin(angle), rng.uniform(-0.3, 0.3)]
    assert set(old.settings.to_dict()) == {"learner", "seed", "points", "noise", "lr", "step", "discount", "prior"}
    new = start(seed=5)
    rng = np.random.default_rng([5, 1])
    draw_dataset(40, 0.0, rng)
    turn = 0.0 + 2.0 * rng.random()
    assert list(new.params) == [0.5 * arith.cospi(turn), 0.5 * arith.sinpi(turn), -0.3 + 0.6 * rng.random()]
    assert "data" not in new.settings.to_dict() and new.settings.to_dict()["arithmetic"] == "portable-1"


def test_hidden_networks_start_glorot_uniform_with_zero_biases():
    """Each W_l lies within ±sqrt(6 / (fan_in + fan_out)); biases start at 0."""
    state = start(seed=2, hidden=(8, 8), data="xor")
    arrays = state.settings.model.arrays(state.params)
    for name, shape in state.settings.model.shapes:
        if name.startswith("W"):
            limit = math.sqrt(6 / sum(shape))
            assert np.abs(arrays[name]).max() <= limit and np.abs(arrays[name]).max() > limit / 2
        else:
            assert not arrays[name].any()


@pytest.mark.parametrize("kw", [dict(data="circle", features=("x2", "y2")), dict(data="spiral", hidden=(6, 4)),
                                dict(learner="thompson", data="xor", hidden=(3,), activation="relu", test_share=0.25)])
def test_new_models_round_trip_through_their_payloads_and_replay_bit_for_bit(kw):
    """Every event's payload parses back to the same event, and folding the parsed log gives the same digest."""
    state, events = None, []
    for command in [Start(Settings(seed=9, points=60, **kw))] + [Next()] * 6 + (
            [Rate("good")] if kw.get("learner") == "thompson" else []):
        seed, seq = 9, 1 if state is None else state.seq + 1
        for event in decide(state, command, rng_for(seed, seq)):
            events.append(event)
            state = fold([event], state)
    parsed = [parse(e.type, e.schema_version, e.to_payload()) for e in events]
    assert [p.to_payload() for p in parsed] == [e.to_payload() for e in events]
    assert state_digest(fold(parsed)) == state_digest(state)


def test_a_decision_for_another_model_is_refused_when_folded():
    """An arm the session's model does not have, or the wrong number of draws, is an InvalidEvent."""
    state = start(seed=1, learner="thompson")
    bad = parse("iterated", 1, {"source": "cli", "reward": None, "undone": False, "draws": [0.5] * 6, "action": "w3+"})
    with pytest.raises(InvalidEvent, match="arms"):
        fold([bad], state)


def test_held_out_points_are_the_last_share_and_never_train():
    """test_share keeps the last round(share·n) points out of the loss and the gradient."""
    state = start(seed=4, points=50, test_share=0.2, data="circle", features=("x2", "y2"))
    assert state.data.n_test == 10 and state.data.n_train == 40
    m = state.metrics
    assert m.test_loss is not None and 0 <= m.test_accuracy <= 1
    alone = start(seed=4, points=50, data="circle", features=("x2", "y2"))
    trained = gradient_step(state.settings.model, state.params, state.data, 1.0)
    # changing a held-out label changes nothing in training
    flipped = state.data.labels.copy()
    flipped[-1] = 1 - flipped[-1]
    from engine.dataset import DataSet
    other = DataSet(state.data.points.copy(), flipped, state.data.separator, "circle", ("x2", "y2"), 10)
    assert np.array_equal(gradient_step(state.settings.model, state.params, other, 1.0), trained)
    assert metrics(state.settings.model, state.params, other).loss == m.loss
    assert alone.metrics.test_loss is None


def test_data_sets_follow_their_documented_rules():
    """xor is red where x·y > 0, circle red inside radius sqrt(2/π); all points lie in the square."""
    for kind, rule in (("xor", lambda p: p[:, 0] * p[:, 1] > 0), ("circle", lambda p: (p ** 2).sum(1) < RADIUS ** 2)):
        data = draw_dataset(500, 0.0, np.random.default_rng(1), kind)
        assert np.array_equal(data.labels > 0.5, rule(data.points))
    for kind in ("gauss", "spiral"):
        data = draw_dataset(500, 0.0, np.random.default_rng(1), kind)
        assert np.abs(data.points).max() <= 1.0 and 0.35 < data.labels.mean() < 0.65


@pytest.mark.parametrize("kw, message", [
    (dict(data="moons"), "data must be one of"), (dict(features=("x", "z")), "features"),
    (dict(features=("x", "x")), "once"), (dict(hidden=(0,)), "hidden"), (dict(hidden=(8,) * 5), "hidden"),
    (dict(activation="relu"), "add hidden layers"), (dict(hidden=(4,), activation="gelu"), "activation"),
    (dict(test_share=0.95), "test_share"), (dict(points=1, test_share=0.5), "no training point"),
    (dict(hidden=(64, 64, 64)), "parameters"),
])
def test_bad_model_settings_are_refused(kw, message):
    with pytest.raises(InvalidSetting, match=message):
        Settings(**kw)


@given(st.sampled_from(["linear", "xor", "circle", "gauss", "spiral"]),
       st.lists(st.sampled_from(["x", "y", "x2", "y2", "xy", "sinx", "siny"]), min_size=1, max_size=7, unique=True),
       st.lists(st.integers(1, 6), max_size=2), st.sampled_from(ACTIVATIONS), st.floats(0, 0.5))
def test_settings_round_trip_through_their_dict(data, features, hidden, activation, share):
    """from_dict(to_dict(s)) == s, and default model settings never appear in the dict."""
    settings = Settings(data=data, features=tuple(features), hidden=tuple(hidden),
                        activation=activation if hidden else "tanh", test_share=share)
    as_dict = settings.to_dict()
    assert Settings.from_dict(as_dict) == settings
    assert ("hidden" in as_dict) == bool(hidden) and ("test_share" in as_dict) == (share != 0)


@given(st.sampled_from(["linear", "xor", "circle", "gauss", "spiral"]),
       st.lists(st.sampled_from(["x", "y", "x2", "y2", "xy", "sinx", "siny"]), min_size=1, max_size=4, unique=True),
       st.lists(st.integers(1, 4), max_size=2), st.sampled_from(ACTIVATIONS), st.sampled_from(["gradient", "thompson"]),
       st.lists(st.sampled_from([None, "bad", "meh", "good", "great"]), max_size=8), st.integers(0, 2**32))
def test_any_model_replays_from_its_parsed_log_to_the_same_digest(data, features, hidden, activation, learner,
                                                                   presses, seed):
    """Deciding and folding presses, then parsing every payload back and folding again, gives the same
    digest after every event: the reducer needs nothing but the log, for every model."""
    settings = Settings(seed=seed, points=12, data=data, features=tuple(features), hidden=tuple(hidden),
                        activation=activation if hidden else "tanh", learner=learner, test_share=0.25)
    state, digests, events = None, [], []
    for press in [Start(settings)] + [Next() if p is None or learner == "gradient" else Rate(p) for p in presses]:
        for event in decide(state, press, rng_for(seed, 1 if state is None else state.seq + 1)):
            state = fold([event], state)
            events.append(event)
            digests.append(state_digest(state))
    replayed, again = None, []
    for event in events:
        stored = json.loads(json.dumps(event.to_payload()))  # as the store keeps it
        replayed = fold([parse(event.type, event.schema_version, stored)], replayed)
        again.append(state_digest(replayed))
    assert again == digests


def test_settings_take_model_options_as_typed_or_as_lists():
    """A form's text ("x2,y2", "8,4") and JSON's lists build the same settings; to_dict writes lists."""
    typed = Settings(features="x2, y2", hidden="8,4")
    assert typed == Settings(features=["x2", "y2"], hidden=[8, 4])
    assert typed.to_dict()["features"] == ["x2", "y2"] and typed.to_dict()["hidden"] == [8, 4]
    with pytest.raises(InvalidSetting, match="hidden takes layer sizes"):
        Settings(hidden="8,,4")
