"""Learning works with the default settings, over seeds 0..99 (40 points, no noise)."""

from engine import Next, Settings, Start, apply


def accuracies(learner: str, seed: int, presses: int) -> list[float]:
    state = apply(None, Start(Settings(learner=learner, seed=seed)))
    out = []
    for _ in range(presses):
        state = apply(state, Next())
        out.append(state.metrics.accuracy)
    return out


def test_gradient_reaches_095_within_50_presses_on_90_seeds_but_not_in_one_jump():
    """Gradient is at accuracy >= 0.95 after 50 presses for at least 90 of 100 seeds, while the boundary
    approaches over several presses (median of more than two) rather than jumping there."""
    runs = [accuracies("gradient", seed, 50) for seed in range(100)]
    assert sum(run[-1] >= 0.95 for run in runs) >= 90
    first = sorted(next((i + 1 for i, a in enumerate(run) if a >= 0.95), 99) for run in runs)
    assert first[50] > 2


def test_thompson_by_next_reaches_accuracy_1_within_300_presses_on_90_seeds():
    """Thompson sampling driven by Next alone separates the points perfectly within 300 presses on >= 90 seeds."""
    assert sum(accuracies("thompson", seed, 300)[-1] == 1.0 for seed in range(100)) >= 90
