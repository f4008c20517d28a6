"""Session settings: fixed when a session starts and written into its first event."""

import math

import attrs

from engine.arithmetic import MACHINE_NAME, NAMES as ARITHMETICS, PORTABLE_NAME
from engine.dataset import KINDS, MAX_POINTS
from engine.errors import InvalidSetting
from engine.features import DEFAULT_FEATURES, FEATURES
from engine.model import ACTIVATIONS, Model, model_for

LEARNERS = ("gradient", "thompson")
MAX_SEED = 2**63 - 1
MAX_LAYERS, MAX_UNITS, MAX_PARAMS = 4, 64, 5_000
MAX_TEST_SHARE = 0.9
# settings added after release 0.1: written into a payload only when they differ from these defaults, so
# that a default session's settings (and every digest made from them) are exactly release 0.1's
MODEL_DEFAULTS = {"data": "linear", "features": DEFAULT_FEATURES, "hidden": (), "activation": "tanh",
                  "test_share": 0.0, "arithmetic": MACHINE_NAME}


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise InvalidSetting(message)


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@attrs.frozen
class Settings:
    """Everything that determines a session besides the presses.

    `lr` is the gradient learner's learning rate; `step`, `discount` and `prior` shape the thompson learner
    (the size of one parameter modification, how much of each posterior survives a step, and the Beta(prior,
    prior) every arm starts from). Both sets are recorded whatever the learner, so a log says everything.
    """

    learner: str = "gradient"
    seed: int = 0
    points: int = 40
    noise: float = 0.0
    lr: float = 1.0
    step: float = 0.2
    discount: float = 0.9
    prior: float = 1.0
    data: str = "linear"
    # a front end may pass text as typed ("x2,y2", "8,4"), or lists as JSON has them
    features: tuple[str, ...] = attrs.field(default=DEFAULT_FEATURES, converter=lambda v: _names(v))
    hidden: tuple[int, ...] = attrs.field(default=(), converter=lambda v: _sizes(v) if isinstance(v, str) else tuple(v))
    activation: str = "tanh"
    test_share: float = 0.0
    # which arithmetic folds the session (engine/arithmetic.py): new sessions are portable; a payload
    # without the field was recorded by release 0.1 or 0.2, in machine arithmetic (see from_dict)
    arithmetic: str = PORTABLE_NAME

    def __attrs_post_init__(self):
        _check(self.learner in LEARNERS, f"unknown learner {self.learner!r}; choose one of: {', '.join(LEARNERS)}")
        _check(isinstance(self.seed, int) and 0 <= self.seed <= MAX_SEED,
               f"seed must be a whole number from 0 to {MAX_SEED}, got {self.seed}")
        _check(isinstance(self.points, int) and not isinstance(self.points, bool) and 1 <= self.points <= MAX_POINTS,
               f"points must be from 1 to {MAX_POINTS:,}, got {self.points}")
        _check(_finite(self.noise) and 0.0 <= self.noise <= 0.5,
               f"noise is a probability of flipping a label, from 0 to 0.5; got {self.noise}")
        _check(_finite(self.lr) and 0.0 < self.lr <= 100.0,
               f"lr (the learning rate) must be a number above 0 and at most 100, got {self.lr}")
        _check(_finite(self.step) and 0.0 < self.step <= 10.0,
               f"step must be a number above 0 and at most 10, got {self.step}")
        _check(_finite(self.discount) and 0.0 < self.discount <= 1.0,
               f"discount must be above 0 and at most 1, got {self.discount}")
        _check(_finite(self.prior) and 0.0 < self.prior <= 1000.0,
               f"prior must be above 0 and at most 1000, got {self.prior}")
        self._check_model()

    def _check_model(self) -> None:
        _check(self.arithmetic in ARITHMETICS,
               f"arithmetic must be one of: {', '.join(ARITHMETICS)}; got {self.arithmetic!r}")
        _check(self.data in KINDS, f"data must be one of: {', '.join(KINDS)}; got {self.data!r}")
        _check(self.portable or not self.data.startswith("pg-"),
               "Playground's data sets came after portable arithmetic: a session of machine arithmetic has none")
        _check(len(self.features) >= 1 and all(isinstance(f, str) and f in FEATURES for f in self.features),
               f"features are a comma-separated list of: {', '.join(FEATURES)}; got {','.join(map(str, self.features))!r}")
        _check(len(set(self.features)) == len(self.features), "features may name each feature once")
        _check(len(self.hidden) <= MAX_LAYERS and all(
            isinstance(u, int) and not isinstance(u, bool) and 1 <= u <= MAX_UNITS for u in self.hidden),
            f"hidden layers are up to {MAX_LAYERS} sizes from 1 to {MAX_UNITS}, e.g. 8 or 8,4; "
            f"got {','.join(map(str, self.hidden))!r}")
        _check(self.activation in ACTIVATIONS,
               f"activation must be one of: {', '.join(ACTIVATIONS)}; got {self.activation!r}")
        _check(bool(self.hidden) or self.activation == MODEL_DEFAULTS["activation"],
               "activation shapes hidden units; add hidden layers (hidden 8) or leave the activation out")
        _check(self.model.size <= MAX_PARAMS,
               f"hidden layers of that size make {self.model.size:,} parameters; at most {MAX_PARAMS:,} are allowed")
        _check(_finite(self.test_share) and 0.0 <= self.test_share <= MAX_TEST_SHARE,
               f"test_share is the share of points held out, from 0 to {MAX_TEST_SHARE}; got {self.test_share}")
        _check(self.n_test < self.points, "test_share leaves no training point; lower it or add points")

    @property
    def model(self) -> Model:
        return model_for(self.features, self.hidden, self.activation, self.arithmetic)

    @property
    def portable(self) -> bool:
        """Whether the session folds in portable arithmetic (the same bits on every machine)."""
        return self.arithmetic != MACHINE_NAME

    @property
    def model_label(self) -> str:
        """What sets this session's data and model apart from release 0.1's, in a few words ("" for none):
        e.g. "xor, hidden 8 tanh" or "circle, features x2,y2, 20% held out"."""
        parts = [] if self.data == "linear" else [self.data]
        if self.features != DEFAULT_FEATURES:
            parts.append("features " + ",".join(self.features))
        if self.hidden:
            parts.append("hidden " + ",".join(map(str, self.hidden)) + " " + self.activation)
        if self.test_share:
            parts.append(f"{self.test_share:.0%} held out")
        return ", ".join(parts)

    @property
    def n_test(self) -> int:
        """The held-out points: the share of `points`, rounded half up."""
        return int(math.floor(self.points * float(self.test_share) + 0.5))

    def to_dict(self) -> dict:
        """Every setting, as JSON values; the model settings only where they differ from their defaults."""
        out = {field.name: getattr(self, field.name) for field in attrs.fields(type(self))}
        for key, default in MODEL_DEFAULTS.items():
            if out[key] == default:
                del out[key]
            elif isinstance(out[key], tuple):
                out[key] = list(out[key])
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "Settings":
        """The inverse of to_dict: an absent model setting reads as its default (an old payload's case), and
        an absent arithmetic as the machine arithmetic that releases 0.1 and 0.2 recorded with."""
        known = {field.name for field in attrs.fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values.setdefault("arithmetic", MACHINE_NAME)
        for key in ("features", "hidden"):
            if key in values and not isinstance(values[key], (list, tuple)):
                raise InvalidSetting(f"{key} must be a list, got {values[key]!r}")
        return cls(**values)


def _names(value) -> tuple:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(","))
    return tuple(value)


def _sizes(text: str) -> tuple[int, ...]:
    parts = [part.strip() for part in text.split(",")] if text.strip() else []
    if not all(part.isdigit() for part in parts):
        raise InvalidSetting(f"hidden takes layer sizes separated by commas, like 8 or 8,4; got {text!r}",
                             field="hidden")
    return tuple(int(part) for part in parts)


def model_options(data: str | None = None, features: str | None = None, hidden: str | None = None,
                  activation: str | None = None, test_share: float | None = None) -> dict:
    """Settings keywords from a front end's text options ("x2,y2", "8,4"); options left out are left out,
    so the defaults stay Settings' own."""
    out: dict = {}
    if data is not None:
        out["data"] = data
    if features is not None:
        out["features"] = _names(features)
    if hidden is not None:
        out["hidden"] = _sizes(hidden)
    if activation is not None:
        out["activation"] = activation
    if test_share is not None:
        out["test_share"] = test_share
    return out
