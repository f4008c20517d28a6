"""The lesson's thresholds (issue 11), over seeds 0..99 with 100 points and no noise, engine only."""

import statistics

from engine.lesson import accuracies

SEEDS = range(100)


def test_a_perceptron_cannot_learn_xor():
    """Median accuracy of the perceptron on xor after 1000 presses is at most 0.75."""
    final = [accuracies(seed, (1000,), data="xor")[0] for seed in SEEDS]
    assert statistics.median(final) <= 0.75


def test_one_hidden_layer_of_8_learns_xor():
    """--hidden 8 with the gradient learner reaches 0.95 within 300 presses on at least 90 seeds."""
    final = [accuracies(seed, (300,), data="xor", hidden=(8,))[0] for seed in SEEDS]
    assert sum(a >= 0.95 for a in final) >= 90


def test_squared_features_let_a_perceptron_learn_a_circle():
    """The perceptron on x2, y2 reaches 0.95 on circle within 300 presses on at least 90 seeds."""
    final = [accuracies(seed, (300,), data="circle", features=("x2", "y2"))[0] for seed in SEEDS]
    assert sum(a >= 0.95 for a in final) >= 90
