"""Learning curves of many sessions: per group, the median and the interquartile band against presses.

A group is a learner and what drove it, read from the log itself, and the data set and model where they are not
release 0.1's (`Settings.model_label`, e.g. "gradient · xor, hidden 8 tanh"): `gradient`; `thompson by Next`
(auto-scored); `thompson by simulated person` (every rating's source is "simulate"); `thompson by person`
(ratings typed at `rate` or `play`); `thompson by Next + person` when a session mixes both.

At step s (presses made), the band is taken over the sessions of the group that reached s: a group whose
sessions differ in length is summarised by fewer sessions towards its end, never by padded values.
"""

import os

import attrs
import numpy as np

from engine import FeedbackGiven, Iterated, NnreplayError

METRICS = ("accuracy", "loss", "score", "test_accuracy", "test_loss")  # test_*: on held-out points, NaN without


class PlotError(NnreplayError):
    """A plot that cannot be drawn as asked: unknown metric, output path that will not do."""


@attrs.frozen
class Curve:
    """One session's metric after each press (index 0: before the first press)."""

    group: str
    values: np.ndarray = attrs.field(eq=attrs.cmp_using(eq=np.array_equal))


def rater_of(events) -> str:
    """What pressed the buttons of a session: "Next", "simulated person", "person" or "Next + person"."""
    iterated = any(isinstance(event, Iterated) for event in events)
    sources = {event.source for event in events if isinstance(event, FeedbackGiven)}
    if not sources:
        return "Next"
    who = "simulated person" if sources == {"simulate"} else "person"
    return f"Next + {who}" if iterated else who


def curve(learner: str, history, metric: str) -> Curve:
    """The curve of one session from its (event, state after it) pairs, oldest first."""
    if metric not in METRICS:
        raise PlotError(f"unknown metric {metric!r}; choose one of: {', '.join(METRICS)}")
    events, values, label = [], [], ""
    for event, state in history:
        events.append(event)
        value = getattr(state.metrics, metric)
        values.append(np.nan if value is None else value)
        label = state.settings.model_label
        learner = state.settings.learner  # the log's word; the caller's may come from an unhashed table
    group = "gradient" if learner == "gradient" else f"{learner} by {rater_of(events[1:])}"
    group += f" · {label}" if label else ""
    return Curve(group, np.array(values, dtype=np.float64))


def grouped(curves: list[Curve]) -> dict[str, list[np.ndarray]]:
    """Curves by group, groups in order of first appearance."""
    groups: dict[str, list[np.ndarray]] = {}
    for item in curves:
        groups.setdefault(item.group, []).append(item.values)
    return groups


def band(values: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per step: the 25th, 50th and 75th percentile over the sessions that reached that step."""
    table = np.full((len(values), max(len(v) for v in values)), np.nan)
    for row, v in zip(table, values):
        row[:len(v)] = v
    low, mid, high = np.nanpercentile(table, [25, 50, 75], axis=0)
    return low, mid, high


def median_at(values: list[np.ndarray], step: int) -> float | None:
    """The group's median at `step` presses, over the sessions that reached it (None if none did)."""
    reached = [v[step] for v in values if len(v) > step and not np.isnan(v[step])]
    return float(np.median(reached)) if reached else None


def check_png(path: str) -> None:
    if not path.lower().endswith(".png"):
        raise PlotError(f"plot writes PNG images; give -o a path ending in .png, got {path!r}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise PlotError(f"the folder {folder} does not exist")


def draw(curves: list[Curve], metric: str, path: str) -> None:
    """Write the median and interquartile band of every group to the PNG at `path` (atomically)."""
    check_png(path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 4.8), dpi=100)
    for index, (group, values) in enumerate(grouped(curves).items()):
        low, mid, high = band(values)
        steps = np.arange(len(mid))
        colour = f"C{index}"
        axes.fill_between(steps, low, high, color=colour, alpha=0.2, linewidth=0)
        axes.plot(steps, mid, color=colour, linewidth=2, label=f"{group} ({len(values)} sessions)")
    axes.set_xlabel("presses")
    axes.set_ylabel(metric)
    axes.set_title(f"{metric}: median and interquartile band per group")
    if "loss" not in metric:
        axes.set_ylim(-0.02, 1.02)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right" if "loss" not in metric else "upper right")
    figure.tight_layout()
    _save_atomically(figure, path)
    plt.close(figure)


def _save_atomically(figure, path: str) -> None:
    from replay.gif import AtomicFile  # a refused or interrupted plot leaves no half-written file behind

    with AtomicFile(path) as out:
        figure.savefig(out, format="png")
