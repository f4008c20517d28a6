"""The decider: `decide` turns a press into events, `evolve` folds an event into the state.

`decide` alone draws random numbers, from the generator `rng_for(seed, seq)` of the event it produces, and
writes every draw into that event. `evolve` never draws: replaying a log needs no random numbers.
"""

import attrs
import numpy as np

from engine import ENGINE_VERSION
from engine.dataset import DataSet, draw_dataset
from engine.errors import InvalidCommand, InvalidEvent
from engine.events import ClassPaused, ClassResumed, Event, FeedbackGiven, Iterated, Origin, SessionStarted
from engine.membership import ClassMember
from engine.metrics import gradient_step
from engine.settings import Settings
from engine.state import State, data_digest
from engine.thompson import BUTTONS, Learner, Posteriors, evolve_learner, select_next_action


@attrs.frozen
class Start:
    settings: Settings
    origin: Origin | None = None  # for `repress`: the session whose presses this one presses again
    member: ClassMember | None = None  # the class the session belongs to, and as what


@attrs.frozen
class Next:
    source: str = "cli"


@attrs.frozen
class Rate:
    button: str
    source: str = "cli"


@attrs.frozen
class PauseClass:
    """The teacher's Pause (paused=True) or Resume (paused=False), on the class record."""

    paused: bool


Command = Start | Next | Rate | PauseClass


class _LazyGenerator:
    """Builds numpy's generator on first use: seeding costs ~10 µs, and most presses draw nothing."""

    __slots__ = ("_key", "_generator")

    def __init__(self, key: list[int]):
        self._key, self._generator = key, None

    def __getattr__(self, name):
        if self._generator is None:
            self._generator = np.random.default_rng(self._key)
        return getattr(self._generator, name)


def rng_for(seed: int, seq: int) -> np.random.Generator:
    """The generator for the event at `seq` of a session with `seed`: default_rng([seed, seq]), an
    independent stream per event, so any press can be re-decided alone."""
    return _LazyGenerator([seed, seq])


def decide(state: State | None, command: Command, rng: np.random.Generator) -> list[Event]:
    """The events a press records, given the state before it. Raises InvalidCommand for a refused press."""
    if isinstance(command, Start):
        if state is not None:
            raise InvalidCommand("this session has already started")
        settings = command.settings
        data = draw_dataset(settings.points, settings.noise, rng, settings.data, arithmetic_name=settings.arithmetic)
        rows = tuple(tuple(row) for row in data.rows())
        return [SessionStarted(settings, ENGINE_VERSION, rows, tuple(data.separator), initial_params(settings, rng),
                               command.origin, command.member)]
    if state is None:
        raise InvalidCommand("a session must start before anything else is pressed")
    settings = state.settings
    if isinstance(command, PauseClass):
        return [_pause_event(state, command.paused)]
    if isinstance(command, Next):
        if state.learner is None:
            return [Iterated(command.source)]
        decision = select_next_action(state.learner, state.metrics.score, state.learner.before_score, "score",
                                      settings.discount, settings.prior, rng, settings.model.arms,
                                      settings.model.ops.beta_draws)
        return [Iterated(command.source, decision)]
    if isinstance(command, Rate):
        if command.button not in BUTTONS:
            raise InvalidCommand(f"unknown button {command.button!r}; press one of: {', '.join(BUTTONS)}")
        if state.learner is None:
            raise InvalidCommand(f"feedback buttons train thompson sessions; this session's learner is "
                                 f"{settings.learner}, which learns from Next iteration only")
        decision = select_next_action(state.learner, BUTTONS[command.button], state.learner.rating, "rating",
                                      settings.discount, settings.prior, rng, settings.model.arms,
                                      settings.model.ops.beta_draws)
        return [FeedbackGiven(command.button, command.source, decision)]
    raise InvalidCommand(f"unknown command {command!r}")


def _pause_event(state: State, paused: bool) -> Event:
    if state.member is None or not state.member.is_record:
        raise InvalidCommand("only a class record can be paused or resumed; this session is not one", field="class")
    if state.paused == paused:
        raise InvalidCommand(f"the class is already {'paused' if paused else 'running'}", field="paused")
    return ClassPaused() if paused else ClassResumed()


def initial_params(settings: Settings, rng: np.random.Generator) -> tuple[float, ...]:
    """The parameters a session starts from, drawn after the data set, in the session's arithmetic. Release
    0.1's perceptron on (x, y) draws as that release did: weights of length 0.5 at a uniform angle, bias
    uniform in [-0.3, 0.3]; every other model is initialised Glorot-uniform with zero biases (`Model.initial`)."""
    model = settings.model
    if model.legacy:
        return tuple(float(v) for v in model.ops.perceptron_start(rng))
    return tuple(float(v) for v in model.initial(rng))


def evolve(state: State | None, event: Event) -> State:
    """The state after `event`. Pure: no random numbers, no clock, no I/O."""
    if isinstance(event, SessionStarted):
        if state is not None:
            raise InvalidEvent("session_started can only be the first event")
        settings = event.settings
        data = DataSet.from_rows(event.points, event.separator, settings.data, settings.features, settings.n_test,
                                 settings.arithmetic)
        arms = len(settings.model.arms)
        learner = Learner(Posteriors.prior(settings.prior, arms)) if settings.learner == "thompson" else None
        return State(settings, data, data_digest(settings, data), 1, event.initial, learner, None, event.member)
    if state is None:
        raise InvalidEvent(f"{event.type} before session_started")
    settings = state.settings
    seq = state.seq + 1
    if isinstance(event, Iterated):
        if state.learner is None:
            if event.decision is not None:
                raise InvalidEvent("a gradient session's iteration carries no thompson decision")
            params = gradient_step(settings.model, state.params, state.data, settings.lr, state.forward)
            return State(settings, state.data, state.data_digest, seq, params, None, state.last_button,
                         state.member, state.paused)
        if event.decision is None:
            raise InvalidEvent("a thompson session's iteration must record its decision")
        learner, params = _evolve_learner(state, event.decision, None)
        return State(settings, state.data, state.data_digest, seq, params, learner, state.last_button,
                     state.member, state.paused)
    if isinstance(event, FeedbackGiven):
        if state.learner is None:
            raise InvalidEvent("feedback_given in a session whose learner is not thompson")
        learner, params = _evolve_learner(state, event.decision, BUTTONS[event.button])
        return State(settings, state.data, state.data_digest, seq, params, learner, event.button,
                     state.member, state.paused)
    if isinstance(event, (ClassPaused, ClassResumed)):
        if state.member is None or not state.member.is_record:
            raise InvalidEvent(f"{event.type} in a session that is not a class record")
        paused = isinstance(event, ClassPaused)
        if state.paused == paused:
            raise InvalidEvent(f"{event.type} in a class that is already {'paused' if paused else 'running'}")
        # the model, the learner and the last button stay as they were: a pause is no press
        return attrs.evolve(state, seq=seq, paused=paused)
    raise InvalidEvent(f"unknown event {event!r}")


def _evolve_learner(state: State, decision, rating: float | None):
    settings = state.settings
    try:
        return evolve_learner(state.learner, state.params, state.metrics.score, decision, rating, settings.step,
                              settings.discount, settings.prior, settings.model.arms)
    except ValueError as error:
        raise InvalidEvent(str(error)) from None


def apply(state: State | None, command: Command) -> State:
    """Decide and evolve in memory: the state after one press, drawn as the store would draw it."""
    seed = command.settings.seed if isinstance(command, Start) else state.settings.seed
    for event in decide(state, command, rng_for(seed, 1 if state is None else state.seq + 1)):
        state = evolve(state, event)
    return state


def fold(events, state: State | None = None) -> State | None:
    """Replay: the state after applying `events` in order to `state`."""
    for event in events:
        state = evolve(state, event)
    return state
