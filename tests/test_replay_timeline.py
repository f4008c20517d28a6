"""The replay timeline: sampling, holding a finished session, and skipping repeated frames (plain values)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import Settings, State
from engine.dataset import DataSet
from engine.state import data_digest
from replay import ReplayError, collect, plan_frames, sample_steps


def make_state(seq: int, params=(1.0, 0.0, 0.0)) -> State:
    settings = Settings(points=2)
    data = DataSet(np.array([[-0.5, 0.0], [0.5, 0.0]]), np.array([0.0, 1.0]), (1.0, 0.0, 0.0))
    return State(settings=settings, data=data, data_digest=data_digest(settings, data), seq=seq, params=params)


@given(total=st.integers(1, 5000), max_frames=st.integers(2, 400))
def test_sampling_keeps_first_and_last_and_respects_the_cap(total, max_frames):
    """Sampled steps are increasing, at most max_frames, and always include the first and last step."""
    steps = sample_steps(total, max_frames)
    assert steps[0] == 0 and steps[-1] == total - 1
    assert len(steps) == min(total, max_frames)
    assert all(a < b for a, b in zip(steps, steps[1:]))


def test_sampling_spreads_evenly():
    """A long history is sampled at even gaps (they differ by at most one step)."""
    gaps = np.diff(sample_steps(1000, 101))
    assert gaps.max() - gaps.min() <= 1


@pytest.mark.parametrize("total, max_frames", [(0, 10), (10, 0)])
def test_sampling_refuses_nothing_to_show(total, max_frames):
    """An empty range or a zero frame budget is a ReplayError, not an empty animation."""
    with pytest.raises(ReplayError):
        sample_steps(total, max_frames)


def test_one_frame_is_the_outcome():
    """With --max-frames 1 the single frame is the last step."""
    assert sample_steps(50, 1) == [49]


def test_collect_keeps_only_sampled_states_but_every_metric():
    """collect holds the states at the sampled steps (and the last) and a metric value for every step."""
    states = [(make_state(seq, (1.0, 0.0, 0.1 * seq)), None) for seq in range(1, 11)]
    track = collect("t", "gradient", iter(states), [0, 4])
    assert sorted(track.frames) == [0, 4, 9]
    assert len(track.curves["accuracy"]) == 10 and track.length == 10
    assert track.first_seq == 1 and track.last_seq == 10


def test_a_shorter_session_holds_its_last_frame_and_says_finished():
    """Past its last event a track shows its final state, flagged finished, with no button."""
    states = [(make_state(1), None), (make_state(2, (0.0, 1.0, 0.0)), "good")]
    track = collect("t", "thompson", states, [0, 1, 2, 3])
    assert track.at(1) == (states[1][0], "good", False)
    state, button, finished = track.at(3)
    assert state.seq == 2 and button is None and finished


def test_repeated_frames_are_skipped_but_the_last_is_kept():
    """Steps whose panels would look the same as the previous frame are dropped; the final step survives."""
    same = (1.0, 0.0, 0.0)
    params = [same, same, (0.5, 0.0, 0.0), (0.5, 0.0, 0.0), (0.5, 0.0, 0.0)]
    states = [(make_state(seq, p), None) for seq, p in enumerate(params, 1)]
    track = collect("t", "gradient", states, range(5))
    assert plan_frames([track], list(range(5))) == [0, 2, 4]
