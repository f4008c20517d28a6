"""The README's learning table: accuracy over seeds 0..99 with default settings (40 points, no noise).

    python bench/learning_table.py
"""

import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from engine import Next, Settings, Start, apply  # noqa: E402

CHECKPOINTS = (1, 5, 10, 20, 50, 100, 300)


def run(learner: str, seed: int, presses: int, **settings) -> list[float]:
    state = apply(None, Start(Settings(learner=learner, seed=seed, **settings)))
    accuracies = []
    for _ in range(presses):
        state = apply(state, Next())
        accuracies.append(state.metrics.accuracy)
    return accuracies


def main() -> None:
    print("| learner | median accuracy after " + " / ".join(map(str, CHECKPOINTS)) +
          " presses | seeds at >= 0.95 after 50 | seeds at 1.0 after 300 | median presses to 0.95 |")
    print("| --- | --- | --- | --- | --- |")
    for label, learner, extra in (("gradient, lr 1 (default)", "gradient", {}),
                                  ("gradient, lr 0.5", "gradient", {"lr": 0.5}),
                                  ("gradient, lr 2", "gradient", {"lr": 2.0}),
                                  ("thompson by Next (default)", "thompson", {})):
        runs = [run(learner, seed, 300, **extra) for seed in range(100)]
        medians = " / ".join(f"{statistics.median(r[c - 1] for r in runs):.3f}" for c in CHECKPOINTS)
        at50 = sum(r[49] >= 0.95 for r in runs)
        at300 = sum(r[299] == 1.0 for r in runs)
        first = statistics.median(next((i + 1 for i, a in enumerate(r) if a >= 0.95), 301) for r in runs)
        print(f"| {label} | {medians} | {at50} | {at300} | {first:g} |")


if __name__ == "__main__":
    main()
