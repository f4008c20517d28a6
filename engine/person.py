"""A simulated person at the four feedback buttons: a scripted input, not a learner.

The model. The person looks at the picture and judges the separator by the share of points it puts on
the right side, the accuracy they can see, but by eye: what they perceive is

    perceived = accuracy + N(0, EYE_NOISE²)

which they sort into the four buttons by fixed bands

    perceived < 0.60 -> bad,  < 0.80 -> meh,  < 0.95 -> good,  otherwise great.

People shy away from the extremes: with probability RESTRAINT a `bad` is softened to `meh` and a `great`
to `good` (the bias towards the middle buttons). The person remembers nothing between presses and never
sees the loss, so a change that moves the boundary without moving a point across it looks the same to them.

Reproducibility. Every press draws from its own generator, `person_rng(seed, press)`, seeded from the
session seed, a constant tag and the press index, never from the learner's stream (`rng_for(seed, seq)`):
the person is an input to the log, and the log records only the button they chose. The draws use the
portable samplers, so `simulate` presses the same buttons on every machine.
"""

import functools

import numpy as np

from engine import samplers
from engine.decider import Next, Rate
from engine.state import State

EYE_NOISE = 0.05
RESTRAINT = 0.2
BANDS = ((0.60, "bad"), (0.80, "meh"), (0.95, "good"))
PERSON_TAG = 0x9E250
SOURCE = "simulate"
RATERS = ("next", "person")


def person_rng(seed: int, press: int) -> np.random.Generator:
    """The person's generator for press number `press` (1-based) of a session with `seed`."""
    return np.random.default_rng([seed, PERSON_TAG, press])


def judge(accuracy: float, rng: np.random.Generator) -> str:
    """The button the person presses for a separator with this accuracy."""
    perceived = accuracy + EYE_NOISE * samplers.gaussian(rng)
    button = next((name for limit, name in BANDS if perceived < limit), "great")
    softened = samplers.uniform(rng, 0.0, 1.0) < RESTRAINT
    if softened and button in ("bad", "great"):
        return "meh" if button == "bad" else "good"
    return button


def press(state: State, rater: str) -> Next | Rate:
    """The scripted press for the state on screen: Next iteration, or the simulated person's rating."""
    if rater == "next":
        return Next(source=SOURCE)
    return Rate(judge(state.metrics.accuracy, person_rng(state.settings.seed, state.seq)), source=SOURCE)


def script(rater: str, count: int) -> list:
    """`count` scripted presses. Each is a function of the state it is pressed on (the store calls it just
    before deciding), so every rating judges the picture the previous press produced."""
    if rater == "next":
        return [Next(source=SOURCE)] * count
    return [functools.partial(press, rater=rater)] * count
