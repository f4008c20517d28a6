"""The lesson that follows the perceptron, as runs that anyone can repeat: what each model reaches on each
data set after a number of Next presses. Used by the README's lesson table (bench/lesson_table.py) and by
the tests that hold its thresholds.
"""

from engine.decider import Next, Start, apply
from engine.settings import Settings

CHECKPOINTS = (50, 100, 300, 1000)
POINTS = 100

# (label, settings besides seed and points): the README's rows, in order
ROWS = (
    ("perceptron on linear", {}),
    ("perceptron on xor", {"data": "xor"}),
    ("perceptron, features x,y,xy, on xor", {"data": "xor", "features": ("x", "y", "xy")}),
    ("--hidden 8 on xor", {"data": "xor", "hidden": (8,)}),
    ("perceptron on circle", {"data": "circle"}),
    ("perceptron, features x2,y2, on circle", {"data": "circle", "features": ("x2", "y2")}),
    ("--hidden 8 on circle", {"data": "circle", "hidden": (8,)}),
    ("perceptron on gauss", {"data": "gauss"}),
    ("--hidden 8,8 on spiral", {"data": "spiral", "hidden": (8, 8)}),
    ("thompson, --hidden 8 on xor", {"data": "xor", "hidden": (8,), "learner": "thompson"}),
)


def accuracies(seed: int, checkpoints=CHECKPOINTS, **settings) -> list[float]:
    """Training accuracy of a fresh session (POINTS points, no noise) after each checkpoint's Next presses."""
    state = apply(None, Start(Settings(seed=seed, points=POINTS, **settings)))
    out, done = [], 0
    for checkpoint in checkpoints:
        for _ in range(checkpoint - done):
            state = apply(state, Next())
        done = checkpoint
        out.append(state.metrics.accuracy)
    return out
