"""Snapshots: a cache of folded states every SNAPSHOT_EVERY events, keyed by engine version.

A snapshot holds what `evolve` changes (weights, learner, last button) and the state's digest; the
settings and data set come from the session's first event. A snapshot whose restored digest differs from
the one it carries is ignored, so a stale or damaged cache costs time, never correctness.
"""

import json

import attrs

from engine import ENGINE_VERSION, State, state_digest
from engine.metrics import metrics
from engine.thompson import Learner, Posteriors

SNAPSHOT_EVERY = 100


def encode(state: State) -> str:
    learner = state.learner
    body = {"seq": state.seq, "params": state.params.tolist(), "last_button": state.last_button}
    if learner is not None:
        body["learner"] = {"alpha": list(learner.posteriors.alpha), "beta": list(learner.posteriors.beta),
                           "pending": learner.pending,
                           "before": None if learner.before is None else learner.before.tolist(),
                           "rating": learner.rating}
    return json.dumps(body, separators=(",", ":"))


def decode(text: str, start: State) -> State | None:
    """The snapshot's state on top of the session's first state, or None if it does not fit."""
    try:
        body = json.loads(text)
        learner = None
        if body.get("learner") is not None:
            lb = body["learner"]
            before = None if lb["before"] is None else tuple(map(float, lb["before"]))
            learner = Learner(Posteriors(tuple(map(float, lb["alpha"])), tuple(map(float, lb["beta"]))),
                              lb["pending"], before, lb["rating"],
                              None if before is None else metrics(start.settings.model, before, start.data).score)
        return attrs.evolve(start, seq=int(body["seq"]), params=tuple(map(float, body["params"])),
                            learner=learner, last_button=body["last_button"])
    except (ValueError, KeyError, TypeError):
        return None


def row(session_id: str, state: State, digest: str) -> tuple:
    return (session_id, ENGINE_VERSION, state.seq, encode(state), digest)


def load(conn, session_id: str, seq: int, start: State) -> State | None:
    """The newest valid snapshot at or before `seq` for this engine version, if any."""
    found = conn.execute(
        "SELECT state, state_digest FROM snapshots WHERE session_id = ? AND engine_version = ? AND seq <= ? "
        "ORDER BY seq DESC LIMIT 3", (session_id, ENGINE_VERSION, seq)).fetchall()
    for text, digest in found:
        state = decode(text, start)
        if state is not None and state_digest(state) == digest:
            return state
    return None
