"""Session settings: fixed when a session starts and written into its first event."""

import math

import attrs

from engine.dataset import MAX_POINTS
from engine.errors import InvalidSetting

LEARNERS = ("gradient", "thompson")
MAX_SEED = 2**63 - 1


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

    def __attrs_post_init__(self):
        _check(self.learner in LEARNERS, f"unknown learner {self.learner!r}; choose one of: {', '.join(LEARNERS)}")
        _check(isinstance(self.seed, int) and 0 <= self.seed <= MAX_SEED,
               f"seed must be a whole number from 0 to {MAX_SEED}, got {self.seed}")
        _check(isinstance(self.points, int) and not isinstance(self.points, bool) and 1 <= self.points <= MAX_POINTS,
               f"points must be from 1 to {MAX_POINTS:,}, got {self.points}")
        _check(_finite(self.noise) and 0.0 <= self.noise <= 0.5,
               f"noise is a probability of flipping a label, from 0 to 0.5; got {self.noise}")
        _check(_finite(self.lr) and 0.0 < self.lr <= 100.0,
               f"learning rate must be a number above 0 and at most 100, got {self.lr}")
        _check(_finite(self.step) and 0.0 < self.step <= 10.0,
               f"step must be a number above 0 and at most 10, got {self.step}")
        _check(_finite(self.discount) and 0.0 < self.discount <= 1.0,
               f"discount must be above 0 and at most 1, got {self.discount}")
        _check(_finite(self.prior) and 0.0 < self.prior <= 1000.0,
               f"prior must be above 0 and at most 1000, got {self.prior}")

    def to_dict(self) -> dict:
        return attrs.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Settings":
        known = {field.name for field in attrs.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})
