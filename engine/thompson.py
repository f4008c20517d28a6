"""The feedback learner: Thompson sampling over parameter modifications, for any model.

Action space: nudge one parameter by ±step, so 2P arms for P parameters. For release 0.1's perceptron
these are "w1+", "w1-", "w2+", "w2-", "b+", "b-"; a model's arm names are `Model.arms`. Each arm has a
Beta(alpha, beta) posterior of "this modification improves the outcome". A reward r in [0, 1] is a
fractional observation: alpha += r, beta += 1 - r. Before each credit every posterior is discounted towards
its prior (alpha <- prior + discount·(alpha - prior)), because the target moves: the arm that helped far
from the solution is not the one that helps near it.

Outcome and reward: on Next iteration the outcome is the score (exp(-loss)); the previous modification is
credited 1 if the score rose and 0 otherwise. On a feedback button the outcome is the button's value
(bad 0, meh 1/3, good 2/3, great 1) and is credited as it is.

A worse change is undone: when the outcome fell below that of the state before the modification (a lower
score, or a lower rating than the person gave last time), the learner goes back to the weights it had and
then makes its next move from there. Keeping bad moves turns the learner into a random walk that drifts
away as often as it approaches; undoing them makes it a stochastic hill climber whose moves are chosen by
what has worked lately.
"""

import functools

import attrs
import numpy as np

ACTIONS = ("w1+", "w1-", "w2+", "w2-", "b+", "b-")  # the arms of the default perceptron on (x, y)
BUTTONS = {"bad": 0.0, "meh": 1.0 / 3.0, "good": 2.0 / 3.0, "great": 1.0}

Params = np.ndarray


def frozen_params(values) -> np.ndarray:
    """A flat float64 parameter vector that nobody can change in place (a frozen state holds it)."""
    if isinstance(values, np.ndarray) and not values.flags.writeable and values.dtype == np.float64:
        return values
    array = np.array(values, dtype=np.float64).reshape(-1)
    array.flags.writeable = False
    return array


def _optional_params(values):
    return None if values is None else frozen_params(values)


def _same_params(a, b) -> bool:
    return a is b or (a is not None and b is not None and np.array_equal(a, b))


@attrs.frozen
class Posteriors:
    alpha: tuple[float, ...]
    beta: tuple[float, ...]

    @classmethod
    def prior(cls, value: float, arms: int = len(ACTIONS)) -> "Posteriors":
        return cls((value,) * arms, (value,) * arms)

    def credit(self, action: int, reward: float, discount: float, prior: float) -> "Posteriors":
        alpha = [prior + discount * (a - prior) for a in self.alpha]
        beta = [prior + discount * (b - prior) for b in self.beta]
        alpha[action] += reward
        beta[action] += 1.0 - reward
        return Posteriors(tuple(alpha), tuple(beta))


@attrs.frozen
class Learner:
    """What the thompson learner remembers between presses.

    `pending` is the modification it made last (None before the first), `before` the weights it modified
    and `before_score` their score (derived, kept so that a press computes one score, not two), `rating`
    the button value of the state it is in now (None until a person has rated one).
    """

    posteriors: Posteriors
    pending: int | None = None
    before: Params | None = attrs.field(default=None, converter=_optional_params, eq=attrs.cmp_using(eq=_same_params))
    rating: float | None = None
    before_score: float | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Decision:
    """What `select_next_action` decided: the reward credited to the pending action (None if there was
    none), whether that action was undone, one posterior draw per arm, and the arm that won."""

    reward: float | None
    undone: bool
    draws: tuple[float, ...]
    action: str


def apply_action(params: Params, action: int, step: float) -> Params:
    index, sign = divmod(action, 2)
    delta = step if sign == 0 else -step
    moved = params.copy()
    moved[index] += delta
    return frozen_params(moved)


def credited(learner: Learner, reward: float | None, discount: float, prior: float) -> Posteriors:
    """The posteriors once `reward` is credited to the pending action (unchanged when there is none)."""
    if reward is None or learner.pending is None:
        return learner.posteriors
    return learner.posteriors.credit(learner.pending, reward, discount, prior)


def select_next_action(learner: Learner, outcome: float, before_outcome: float | None, kind: str,
                       discount: float, prior: float, rng: np.random.Generator, arms=ACTIONS,
                       beta_draws=None) -> Decision:
    """Credit the pending action with what `outcome` says about it, sample every posterior, pick the best.

    `kind` is "score" (Next iteration: reward 1 if the score rose) or "rating" (a button: the reward is its
    value). `before_outcome` is the outcome of the state the pending action started from, if known.
    `beta_draws(rng, alphas, betas)` samples every posterior in the session's arithmetic (the portable one
    by default). Ties between draws go to the first arm, so the choice is a pure function of the draws.
    """
    reward = None
    undone = False
    if learner.pending is not None:
        if kind == "score":
            reward = 1.0 if before_outcome is not None and outcome > before_outcome else 0.0
        else:
            reward = outcome
        undone = before_outcome is not None and outcome < before_outcome
    posteriors = credited(learner, reward, discount, prior)
    if beta_draws is None:
        from engine.portable import PORTABLE
        beta_draws = PORTABLE.beta_draws
    draws = beta_draws(rng, posteriors.alpha, posteriors.beta)
    return Decision(reward, undone, draws, arms[draws.index(max(draws))])


def evolve_learner(learner: Learner, params: Params, score: float, decision: Decision, rating: float | None,
                   step: float, discount: float, prior: float, arms=ACTIONS) -> tuple[Learner, Params]:
    """Apply a recorded decision: undo if it says so, credit, make the chosen move. Draws nothing.

    `score` is the score of `params`, the weights before this press. Raises ValueError for a decision that
    does not fit the model's arms (the caller turns that into InvalidEvent)."""
    if len(decision.draws) != len(arms) or decision.action not in arms:
        raise ValueError(f"a decision must draw once for each of the {len(arms)} arms and choose one of them")
    action = _index(arms)[decision.action]
    undo = decision.undone and learner.before is not None
    start, start_score = (learner.before, learner.before_score) if undo else (params, score)
    kept_rating = learner.rating if decision.undone else (rating if rating is not None else learner.rating)
    posteriors = credited(learner, decision.reward, discount, prior)
    moved = apply_action(start, action, step)
    return Learner(posteriors, action, start, kept_rating, start_score), moved


@functools.cache
def _index(arms: tuple[str, ...]) -> dict[str, int]:
    """Arm name -> position, built once per model."""
    return {name: i for i, name in enumerate(arms)}
