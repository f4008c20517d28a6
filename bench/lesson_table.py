"""The README's lesson table: median accuracy over seeds 0..99 (100 points, no noise, default settings
unless named) after 50 / 100 / 300 / 1000 Next presses, and the seeds at 0.95 or better.

    python bench/lesson_table.py
"""

import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from engine.lesson import CHECKPOINTS, ROWS, accuracies  # noqa: E402


def main() -> None:
    print("| model and data | median accuracy after " + " / ".join(map(str, CHECKPOINTS)) +
          " presses | seeds at >= 0.95 after 300 / 1000 |")
    print("| --- | --- | --- |")
    for label, settings in ROWS:
        runs = [accuracies(seed, **settings) for seed in range(100)]
        medians = " / ".join(f"{statistics.median(r[k] for r in runs):.3f}" for k in range(len(CHECKPOINTS)))
        at = [sum(r[k] >= 0.95 for r in runs) for k in (CHECKPOINTS.index(300), CHECKPOINTS.index(1000))]
        print(f"| {label} | {medians} | {at[0]} / {at[1]} |", flush=True)


if __name__ == "__main__":
    main()
