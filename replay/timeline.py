"""Which steps become frames, and the per-session values the drawing needs (plain data, no matplotlib).

A step is the position of an event in the replayed range: step 0 is the first event in range. Sessions of
different lengths share one timeline; a shorter one holds its last state once it has run out of events.
"""

import math
from array import array
from typing import Iterable, Sequence

import attrs
import numpy as np

from engine import State
from replay.errors import ReplayError

METRICS = ("accuracy", "loss", "score")
# the held-out counterparts, NaN for sessions that hold no points out
HELD_OUT = {"accuracy": "test_accuracy", "loss": "test_loss"}


def sample_steps(total: int, max_frames: int) -> list[int]:
    """At most `max_frames` steps out of range(total), evenly spread, always the first and the last.

    With max_frames == 1 the one frame is the last step: the outcome is what a single still should show.
    """
    if total < 1:
        raise ReplayError("nothing to replay: the range holds no events")
    if max_frames < 1:
        raise ReplayError(f"--max-frames must be at least 1, got {max_frames}")
    if max_frames == 1:
        return [total - 1]
    if total <= max_frames:
        return list(range(total))
    return sorted(set(np.linspace(0, total - 1, max_frames).round().astype(int).tolist()))


@attrs.frozen
class Track:
    """One session as the replay sees it.

    `frames` maps each sampled step the session reaches to (state, button pressed at that event or None);
    `curves` holds every metric at every step of the session (floats are cheap; states are not).
    """

    title: str
    learner: str
    length: int
    frames: dict[int, tuple[State, str | None]]
    curves: dict[str, np.ndarray]
    first_seq: int
    last_seq: int

    def at(self, step: int) -> tuple[State, str | None, bool]:
        """(state, button, finished) to draw at `step`; past its end the session holds its last frame."""
        if step < self.length:
            state, button = self.frames[step]
            return state, button, False
        state, _ = self.frames[self.length - 1]
        return state, None, True


def collect(title: str, learner: str, events: Iterable[tuple[State, str | None]], steps: Sequence[int],
            last_seq: int | None = None) -> Track:
    """Read (state, button) pairs in order, keeping the states at `steps` (and the last) and every metric.

    `last_seq` is the seq a caption counts up to (default: the last state read); a still of an early state
    passes the session's head so that it reads "step 9/99" rather than "step 9/9".
    """
    wanted = set(steps)
    frames: dict[int, tuple[State, str | None]] = {}
    # array("d") holds 8 bytes a value where a list of floats holds about 32: long histories stay small
    curves = {name: array("d") for name in METRICS + tuple(HELD_OUT.values())}
    step, last, first_seq = -1, None, None
    for step, (state, button) in enumerate(events):
        if first_seq is None:
            first_seq = state.seq
        m = state.metrics
        curves["accuracy"].append(m.accuracy)
        curves["loss"].append(m.loss)
        curves["score"].append(m.score)
        curves["test_accuracy"].append(math.nan if m.test_accuracy is None else m.test_accuracy)
        curves["test_loss"].append(math.nan if m.test_loss is None else m.test_loss)
        if step in wanted:
            frames[step] = (state, button)
        last = (state, button)
    if last is None:
        raise ReplayError(f"nothing to replay for {title}: the range holds no events")
    frames[step] = last
    return Track(title, learner, step + 1, frames, {k: np.frombuffer(v, dtype=np.float64) for k, v in curves.items()}, first_seq,
                 last[0].seq if last_seq is None else last_seq)


def drawn_key(track: Track, step: int) -> tuple:
    """What the panel shows at `step`, apart from the step counter: equal keys draw equal panels."""
    state, button, finished = track.at(step)
    return (tuple(state.params), button, finished)


def plan_frames(tracks: Sequence[Track], steps: Sequence[int]) -> list[int]:
    """The sampled steps minus those that would repeat the previous frame; first and last always stay."""
    kept: list[int] = []
    previous = None
    for index, step in enumerate(steps):
        key = tuple(drawn_key(track, step) for track in tracks)
        # the final step stays even when it looks the same: its counter says where the run ended
        if key != previous or index == len(steps) - 1:
            kept.append(step)
        previous = key
    return kept
