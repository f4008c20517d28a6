"""The pure core: data set, perceptron, learners, events and the decider, tested with plain values."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from engine import (ACTIONS, apply, BUTTONS, FeedbackGiven, InvalidCommand, InvalidEvent, InvalidSetting, Iterated, Next,
                    Rate, SessionStarted, Settings, Start, decide, evolve, fold, parse, rng_for)
from engine.dataset import draw_dataset
from engine.metrics import gradient_step, metrics
from engine.thompson import Learner, Posteriors, select_next_action


def start(learner="gradient", seed=0, **kw):
    return apply(None, Start(Settings(learner=learner, seed=seed, **kw)))


def press(state, command):
    [event] = decide(state, command, rng_for(state.settings.seed, state.seq + 1))
    return evolve(state, event), event


def test_dataset_labels_follow_the_true_separator():
    """Without noise every point is red exactly when it lies on the positive side of the true line."""
    data = draw_dataset(500, 0.0, np.random.default_rng(3))
    a, b, c = data.separator
    side = data.points @ np.array([a, b]) + c > 0
    assert np.array_equal(side, data.labels == 1.0)
    assert data.points.min() >= -1 and data.points.max() <= 1


def test_noise_flips_about_that_share_of_labels():
    """Label noise p flips roughly a share p of the labels."""
    data = draw_dataset(4000, 0.2, np.random.default_rng(4))
    a, b, c = data.separator
    clean = (data.points @ np.array([a, b]) + c > 0).astype(float)
    assert 0.17 < np.mean(clean != data.labels) < 0.23


def test_dataset_arrays_are_read_only():
    """A frozen state cannot be changed through its arrays."""
    state = start()
    with pytest.raises(ValueError):
        state.data.points[0, 0] = 5.0


def test_metrics_match_a_direct_computation():
    """Loss is the mean binary cross-entropy of σ(w·x + b); accuracy counts w·x + b > 0 against the labels;
    score is exp(-loss)."""
    state = start(seed=5)
    w1, w2, b = 0.7, -1.3, 0.2
    z = state.data.points @ np.array([w1, w2]) + b
    p = 1 / (1 + np.exp(-z))
    y = state.data.labels
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    m = metrics(state.settings.model, np.array([w1, w2, b]), state.data)
    assert m.loss == pytest.approx(loss, rel=1e-12)
    assert m.accuracy == np.mean((z > 0) == (y == 1))
    assert m.score == pytest.approx(math.exp(-loss))


def test_gradient_step_follows_the_numerical_gradient():
    """One step moves each parameter by -lr times the finite-difference derivative of the loss."""
    state = start(seed=6)
    params = (0.3, -0.2, 0.1)
    lr, h = 0.5, 1e-6
    model = state.settings.model
    stepped = gradient_step(model, np.array(params), state.data, lr)
    for i in range(3):
        up = list(params); up[i] += h
        down = list(params); down[i] -= h
        derivative = (metrics(model, np.array(up), state.data).loss - metrics(model, np.array(down), state.data).loss) / (2 * h)
        assert stepped[i] == pytest.approx(params[i] - lr * derivative, abs=1e-7)


def test_gradient_steps_lower_the_loss():
    """Next iterations of the gradient learner lower the loss."""
    state = start(seed=7)
    losses = [state.metrics.loss]
    for _ in range(10):
        state, _ = press(state, Next())
        losses.append(state.metrics.loss)
    assert losses == sorted(losses, reverse=True)


def test_posterior_credit_is_fractional_and_discounted():
    """A reward r adds r to alpha and 1 - r to beta of its arm, after every arm decays towards the prior."""
    p = Posteriors((3.0,) * 6, (2.0,) * 6).credit(2, 0.25, 0.5, 1.0)
    assert p.alpha[2] == 1 + 0.5 * 2 + 0.25 and p.beta[2] == 1 + 0.5 * 1 + 0.75
    assert p.alpha[0] == 2.0 and p.beta[0] == 1.5


def test_a_worse_score_undoes_the_change_and_credits_zero():
    """When the score fell since the last modification, the learner credits 0 and goes back."""
    learner = Learner(Posteriors.prior(1.0), pending=0, before=(0.0, 0.0, 0.0), before_score=0.6)
    decision = select_next_action(learner, 0.5, 0.6, "score", 0.9, 1.0, np.random.default_rng(1))
    assert decision.reward == 0.0 and decision.undone
    better = select_next_action(learner, 0.7, 0.6, "score", 0.9, 1.0, np.random.default_rng(1))
    assert better.reward == 1.0 and not better.undone


def test_thompson_undo_returns_to_the_weights_before_the_move():
    """After an undone move, the next move starts from the weights the undone one started from."""
    state = start("thompson", seed=8)
    for _ in range(60):
        before = state.learner.before
        state, event = press(state, Next())
        if event.decision.undone:
            step = state.settings.step
            moved = [abs(a - b) for a, b in zip(state.params, before)]
            assert sorted(moved)[-1] == pytest.approx(step) and sorted(moved)[:2] == [0.0, 0.0]
            return
    pytest.fail("no move was undone in 60 presses")


def test_button_rewards_are_the_documented_values():
    """bad 0, meh 1/3, good 2/3, great 1 — and the credited reward of a rating is the button's value."""
    assert BUTTONS == {"bad": 0.0, "meh": 1 / 3, "good": 2 / 3, "great": 1.0}
    state = start("thompson", seed=9)
    state, _ = press(state, Next())
    state, event = press(state, Rate("meh"))
    assert event.decision.reward == pytest.approx(1 / 3)
    assert state.last_button == "meh"


def test_decide_refuses_feedback_on_a_gradient_session():
    """Feedback buttons belong to thompson sessions."""
    with pytest.raises(InvalidCommand, match="thompson"):
        decide(start(), Rate("good"), rng_for(0, 2))


def test_decide_refuses_an_unknown_button():
    """Only the four buttons exist."""
    with pytest.raises(InvalidCommand, match="unknown button"):
        decide(start("thompson"), Rate("superb"), rng_for(0, 2))


@pytest.mark.parametrize("bad", [dict(points=0), dict(points=10**9), dict(noise=0.6), dict(noise=-0.1),
                                 dict(lr=0), dict(lr=-1), dict(lr=float("nan")), dict(lr=float("inf")),
                                 dict(learner="adam"), dict(seed=-1)])
def test_settings_refuse_values_out_of_range(bad):
    """Settings check their ranges and say which value is wrong."""
    with pytest.raises(InvalidSetting):
        Settings(**bad)


def test_evolve_draws_no_random_numbers(monkeypatch):
    """Folding a recorded log works with numpy's generators disabled: only decide draws."""
    state = start("thompson", seed=10)
    events = []
    for _ in range(30):
        state, event = press(state, Next())
        events.append(event)
    first = decide(None, Start(state.settings), rng_for(10, 1))

    def refuse(*args, **kwargs):
        raise AssertionError("evolve drew a random number")

    monkeypatch.setattr(np.random, "default_rng", refuse)
    monkeypatch.setattr(np.random, "Generator", refuse)
    assert fold(first + events) == state


@pytest.mark.parametrize("learner", ["gradient", "thompson"])
def test_events_round_trip_through_json(learner):
    """Every event survives to_payload -> JSON text -> parse unchanged."""
    state = start(learner, seed=11, noise=0.1)
    events = decide(None, Start(state.settings), rng_for(11, 1))
    for command in [Next(), Next()] + ([Rate("good"), Rate("bad")] if learner == "thompson" else []):
        state, event = press(state, command)
        events.append(event)
    for event in events:
        again = parse(event.type, event.schema_version, json.loads(json.dumps(event.to_payload())))
        assert again == event


def test_a_version_0_event_is_read_through_its_upcaster():
    """A version-0 press (before `source` existed) reads as a version-1 press typed at the CLI."""
    state = start("thompson", seed=12)
    _, event = press(state, Rate("great"))
    payload = event.to_payload()
    del payload["source"]
    old = parse("feedback_given", 0, payload)
    assert isinstance(old, FeedbackGiven) and old.source == "cli" and old.decision == event.decision
    assert parse("iterated", 0, {}) == Iterated("cli")


@pytest.mark.parametrize("type_, version, payload, message", [
    ("renamed", 1, {}, "unknown event type"),
    ("iterated", 7, {"source": "cli"}, "schema version 7"),
    ("iterated", 1, {"source": "cli", "action": "q9+", "reward": 1, "undone": False, "draws": [0] * 6}, "action"),
    ("feedback_given", 1, {"button": "nice", "source": "cli", "action": "b+"}, "button"),
    ("iterated", 1, [], "JSON object"),
])
def test_parse_refuses_events_that_break_their_schema(type_, version, payload, message):
    """An unknown type, a future version or a malformed payload is an InvalidEvent naming the problem."""
    with pytest.raises(InvalidEvent, match=message):
        parse(type_, version, payload)


def test_session_started_records_the_data_set_and_settings():
    """The first event carries every setting and the drawn points, so replay needs no random numbers."""
    settings = Settings(learner="thompson", seed=13, points=25, noise=0.1)
    [event] = decide(None, Start(settings), rng_for(13, 1))
    assert isinstance(event, SessionStarted)
    payload = event.to_payload()
    assert payload["settings"]["seed"] == 13 and len(payload["data"]["points"]) == 25
    assert payload["engine_version"]


def test_the_action_space_is_six_nudges():
    """The thompson action space is the six documented nudges."""
    assert ACTIONS == ("w1+", "w1-", "w2+", "w2-", "b+", "b-")


def test_digest_is_stable_across_processes():
    """The same presses give the same digest in a fresh interpreter (no hash randomisation, no dict order)."""
    code = ("from engine import *\n"
            "s = evolve(None, decide(None, Start(Settings(learner='thompson', seed=21)), rng_for(21, 1))[0])\n"
            "for c in [Next(), Rate('good'), Next(), Rate('bad')]:\n"
            "    s = evolve(s, decide(s, c, rng_for(21, s.seq + 1))[0])\n"
            "print(state_digest(s))\n")
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={"PYTHONHASHSEED": str(seed), "PATH": ""}, cwd=str(__import__("pathlib").Path(__file__).parent.parent)).stdout
               for seed in (1, 2)}
    assert len(outputs) == 1 and len(outputs.pop().strip()) == 64
