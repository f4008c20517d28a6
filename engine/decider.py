"""The decider: `decide` turns a press into events, `evolve` folds an event into the state.

`decide` alone draws random numbers, from the generator `rng_for(seed, seq)` of the event it produces, and
writes every draw into that event. `evolve` never draws: replaying a log needs no random numbers.
"""

import attrs
import numpy as np

from engine import ENGINE_VERSION
from engine.dataset import DataSet, draw_dataset
from engine.errors import InvalidCommand, InvalidEvent
from engine.events import Event, FeedbackGiven, Iterated, Origin, SessionStarted
from engine.metrics import gradient_step
from engine.settings import Settings
from engine.state import State, data_digest
from engine.thompson import BUTTONS, Learner, Posteriors, evolve_learner, select_next_action


@attrs.frozen
class Start:
    settings: Settings
    origin: Origin | None = None  # for `repress`: the session whose presses this one presses again


@attrs.frozen
class Next:
    source: str = "cli"


@attrs.frozen
class Rate:
    button: str
    source: str = "cli"


Command = Start | Next | Rate


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
                               command.origin)]
    if state is None:
        raise InvalidCommand("a session must start before anything else is pressed")
    settings = state.settings
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
        return State(settings, data, data_digest(settings, data), 1, event.initial, learner)
    if state is None:
        raise InvalidEvent(f"{event.type} before session_started")
    settings = state.settings
    seq = state.seq + 1
    if isinstance(event, Iterated):
        if state.learner is None:
            if event.decision is not None:
                raise InvalidEvent("a gradient session's iteration carries no thompson decision")
            params = gradient_step(settings.model, state.params, state.data, settings.lr, state.forward)
            return State(settings, state.data, state.data_digest, seq, params, None, state.last_button)
        if event.decision is None:
            raise InvalidEvent("a thompson session's iteration must record its decision")
        learner, params = _evolve_learner(state, event.decision, None)
        return State(settings, state.data, state.data_digest, seq, params, learner, state.last_button)
    if isinstance(event, FeedbackGiven):
        if state.learner is None:
            raise InvalidEvent("feedback_given in a session whose learner is not thompson")
        learner, params = _evolve_learner(state, event.decision, BUTTONS[event.button])
        return State(settings, state.data, state.data_digest, seq, params, learner, event.button)
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
