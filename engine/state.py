"""The state of a session after some prefix of its events, its metrics, and its digest."""

import functools
import hashlib
import json
import struct

import attrs
import numpy as np

from engine.dataset import DataSet
from engine.membership import ClassMember
from engine.metrics import Metrics, metrics
from engine.settings import Settings
from engine.thompson import Learner, frozen_params

DIGEST_VERSION = b"nnreplay-state-1"


@attrs.frozen
class State:
    """Everything `evolve` knows after event `seq`.

    `learner` is None for gradient sessions. `last_button` is the button of the last feedback press, kept so
    that a picture of the state can say what the person pressed. `data_digest` fingerprints the settings and
    data set, computed once at the session start so that every later digest stays cheap.
    """

    settings: Settings
    data: DataSet
    data_digest: bytes
    seq: int
    params: np.ndarray = attrs.field(converter=frozen_params, eq=attrs.cmp_using(eq=np.array_equal))
    learner: Learner | None = None
    last_button: str | None = None
    # the session's class membership (seq 1's `class` member) and, for a class record, whether it is paused
    member: ClassMember | None = None
    paused: bool = False
    # derived from params and data when first asked for, never passed in: a fold that only digests
    # (audit, replay of a gradient session) never computes a loss it does not need

    @functools.cached_property
    def forward(self) -> tuple | None:
        """The model's output over the training points (model.output), shared by the metrics and the next
        gradient step."""
        if not self.data.n_train:
            return None
        return self.settings.model.output(self.params, self.data.part(held_out=False)[0])

    @functools.cached_property
    def metrics(self) -> Metrics:
        return metrics(self.settings.model, self.params, self.data, self.forward)


def data_digest(settings: Settings, data: DataSet) -> bytes:
    hasher = hashlib.sha256(json.dumps(settings.to_dict(), sort_keys=True).encode())
    hasher.update(struct.pack("<3d", *data.separator))
    hasher.update(data.points.astype("<f8").tobytes())
    hasher.update(data.labels.astype("<f8").tobytes())
    return hasher.digest()


def _optional(values) -> bytes:
    # a presence byte keeps "absent" apart from any float value
    if values is None:
        return b"\x00"
    return b"\x01" + struct.pack(f"<{len(values)}d", *values)


def state_digest(state: State) -> str:
    """sha256 (hex) of a canonical byte encoding of the state: float64 and int64 little-endian, fixed order.

    Equal digests mean bit-identical states, in any process on any platform.
    """
    # the parameters flat, in storage order (release 0.1's perceptron: w1, w2, b)
    parts = [DIGEST_VERSION, state.data_digest, struct.pack("<q", state.seq), state.params.astype("<f8").tobytes(),
             (state.last_button or "").encode().ljust(8, b"\x00")]
    learner = state.learner
    if learner is not None:
        p = learner.posteriors
        parts += [struct.pack(f"<{len(p.alpha)}d{len(p.beta)}dq", *p.alpha, *p.beta,
                              -1 if learner.pending is None else learner.pending),
                  _optional(learner.before),
                  _optional(None if learner.rating is None else (learner.rating,))]
    if state.member is not None and state.member.is_record:  # only a class record can pause: others keep their digests
        parts.append(b"\x01" if state.paused else b"\x00")
    return hashlib.sha256(b"".join(parts)).hexdigest()
