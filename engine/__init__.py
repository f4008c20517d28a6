"""The functional core of nnreplay: data sets, features, models (the perceptron and hidden layers), learners,
events and the decider.

Pure: numpy and attrs only, no I/O, no clock, no global random state.
"""

ENGINE_VERSION = "1.0"

from engine.decider import Next, PauseClass, Rate, Start, apply, decide, evolve, fold, rng_for  # noqa: E402
from engine.errors import InvalidCommand, InvalidEvent, InvalidSetting, NnreplayError  # noqa: E402
from engine.events import ClassPaused, ClassResumed, FeedbackGiven, Iterated, SessionStarted, parse  # noqa: E402
from engine.settings import Settings  # noqa: E402
from engine.state import State, state_digest  # noqa: E402
from engine.thompson import ACTIONS, BUTTONS  # noqa: E402

__all__ = ["ENGINE_VERSION", "ACTIONS", "BUTTONS", "ClassPaused", "ClassResumed", "FeedbackGiven", "InvalidCommand",
           "InvalidEvent", "InvalidSetting", "Iterated", "Next", "NnreplayError", "PauseClass", "Rate", "SessionStarted",
           "Settings", "Start", "State", "apply", "decide", "evolve", "fold", "parse", "rng_for", "state_digest"]
