"""The engine's numpy fold agrees bit for bit with the reference fold in plain Python floats, for every data
set, model, activation and learner: CPython floats are IEEE doubles everywhere, so agreement here is
agreement on every machine (any SIMD level, BLAS kernel or CPU family)."""

import pytest
from hypothesis import given, settings as hsettings, strategies as st

import reference_fold
from engine import InvalidCommand, Next, PauseClass, Rate, Settings, Start, decide, evolve, rng_for, state_digest
from engine.dataset import KINDS
from engine.features import FEATURES
from engine.membership import ClassMember
from engine.model import ACTIVATIONS


MEMBERS = {None: None, "class": ClassMember("class", "Maths 2b", lesson="feedback"),
           "student": ClassMember("student", "Maths 2b", class_id="0" * 31 + "a", student="Zoë 🦊", token="f" * 64)}


def recorded(settings: Settings, presses: list, member: ClassMember | None = None) -> tuple[list, list]:
    """(events, digests) as the store records them: decide with rng_for(seed, seq), then evolve. A "pause"
    press toggles a class record's pause; on any other session decide refuses it and nothing is recorded."""
    state, events, digests = None, [], []
    for command in [Start(settings, member=member), *presses]:
        seq = 1 if state is None else state.seq + 1
        if command == "pause":
            if member is None or member.role != "class":
                with pytest.raises(InvalidCommand):
                    decide(state, PauseClass(True), rng_for(settings.seed, seq))
                continue
            command = PauseClass(not state.paused)
        for event in decide(state, command, rng_for(settings.seed, seq)):
            state = evolve(state, event)
            events.append(event)
            digests.append(state_digest(state))
    return events, digests


CORPUS = [
    ("perceptron", {}),
    ("noisy linear, held out", {"noise": 0.2, "test_share": 0.25}),
    ("xor, features", {"data": "xor", "features": ("x", "y", "xy", "sinx", "siny")}),
    ("circle, x2 y2", {"data": "circle", "features": ("x2", "y2")}),
    ("gauss", {"data": "gauss"}),
    ("spiral 5,3 tanh", {"data": "spiral", "hidden": (5, 3)}),
    ("xor 4 relu", {"data": "xor", "hidden": (4,), "activation": "relu", "lr": 2.0}),
    ("circle 4 sigmoid", {"data": "circle", "hidden": (4,), "activation": "sigmoid"}),
    ("linear 3 linear", {"hidden": (3,), "activation": "linear"}),
    ("pg-circle noisy, held out", {"data": "pg-circle", "noise": 0.3, "test_share": 0.25, "hidden": (3,)}),
    ("pg-xor noisy", {"data": "pg-xor", "noise": 0.2, "features": ("x", "y", "xy")}),
    ("pg-gauss noisy", {"data": "pg-gauss", "noise": 0.5}),
    ("pg-spiral", {"data": "pg-spiral", "noise": 0.1, "hidden": (4,)}),
]


@pytest.mark.parametrize("learner", ["gradient", "thompson"])
@pytest.mark.parametrize("label, extra", CORPUS, ids=[c[0] for c in CORPUS])
def test_every_model_folds_to_the_reference(label, extra, learner):
    """Each seq's digest, the drawn data set and initial parameters, and every posterior draw agree."""
    presses = [Next()] * 12 if learner == "gradient" else [Next(), Rate("good"), Next(), Rate("bad"), Rate("great"),
                                                          Next(), Next(), Rate("meh"), Next(), Rate("good")]
    events, digests = recorded(Settings(seed=11, points=24, learner=learner, **extra), presses)
    assert reference_fold.check(events) == digests


@hsettings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), points=st.integers(1, 16), data=st.sampled_from(KINDS),
       features=st.lists(st.sampled_from(sorted(FEATURES)), min_size=1, max_size=3, unique=True),
       hidden=st.lists(st.integers(1, 3), max_size=2), activation=st.sampled_from(ACTIVATIONS),
       learner=st.sampled_from(["gradient", "thompson"]), lr=st.sampled_from([0.1, 1.0, 7.5]),
       noise=st.sampled_from([0.0, 0.3]), test_share=st.sampled_from([0.0, 0.4]),
       buttons=st.lists(st.sampled_from(["next", "bad", "meh", "good", "great", "pause"]), max_size=8),
       role=st.sampled_from(sorted(MEMBERS, key=str)))
def test_generated_sessions_fold_to_the_reference(seed, points, data, features, hidden, activation, learner, lr,
                                                  noise, test_share, buttons, role):
    """Hypothesis-generated settings and presses: the numpy fold and the reference agree at every seq."""
    activation = activation if hidden else "tanh"
    settings = Settings(seed=seed, points=points, data=data, features=tuple(features), hidden=tuple(hidden),
                        activation=activation, learner=learner, lr=lr, noise=noise,
                        test_share=test_share if points > 2 else 0.0)
    presses = [b if b == "pause" else Next() if b == "next" or learner == "gradient" else Rate(b) for b in buttons]
    events, digests = recorded(settings, presses, MEMBERS[role])
    assert reference_fold.check(events) == digests


@pytest.mark.parametrize("role", ["class", "student"])
def test_class_sessions_fold_to_the_reference(role):
    """A class record's pauses and resumes leave the model as it was and fold as the reference folds them;
    a student's session folds as any session does."""
    presses = [Next(), "pause", Rate("good"), "pause", Next(), "pause", Rate("bad")]
    events, digests = recorded(Settings(seed=5, points=16, learner="thompson"), presses, MEMBERS[role])
    assert reference_fold.check(events) == digests
    types = [event.type for event in events]
    if role == "class":
        assert types.count("class_paused") == 2 and types.count("class_resumed") == 1
    else:
        assert "class_paused" not in types
