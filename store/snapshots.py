"""Snapshots: a cache of folded states every SNAPSHOT_EVERY events, keyed by engine version.

A snapshot holds what `evolve` changes (weights, learner, last button) and the state's digest; the
settings and data set come from the session's first event. A snapshot whose restored state does not have
the digest the log records at its seq is ignored, so a stale, damaged or forged cache costs time, never
correctness.
"""

import functools
import json

import attrs

from engine import ENGINE_VERSION, State, state_digest
from engine.metrics import metrics
from engine.thompson import Learner, Posteriors

SNAPSHOT_EVERY = 100
# a costly session (a big network on many points) is snapshotted closer, so that folding a state from the
# nearest snapshot (the server's `?at=`) costs at most about this many parameter x point units (~1 s here)
FOLD_UNITS = 120_000_000


@functools.lru_cache(maxsize=256)
def every(settings, most: int = SNAPSHOT_EVERY) -> int:
    """The snapshot cadence of a session with these settings: `most`, or closer for a costly model."""
    return max(1, min(most, FOLD_UNITS // max(1, settings.model.size * settings.points)))


def encode(state: State) -> str:
    learner = state.learner
    body = {"seq": state.seq, "params": state.params.tolist(), "last_button": state.last_button}
    if learner is not None:
        body["learner"] = {"alpha": list(learner.posteriors.alpha), "beta": list(learner.posteriors.beta),
                           "pending": learner.pending,
                           "before": None if learner.before is None else learner.before.tolist(),
                           "rating": learner.rating}
    if state.paused:  # only a class record pauses
        body["paused"] = True
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
                            learner=learner, last_button=body["last_button"], paused=body.get("paused", False) is True)
    except (ValueError, KeyError, TypeError):
        return None


def row(session_id: str, state: State, digest: str) -> tuple:
    return (session_id, ENGINE_VERSION, state.seq, encode(state), digest)


def load(conn, session_id: str, seq: int, start: State) -> State | None:
    """The newest snapshot at or before `seq` for this engine version that agrees with the log, if any.

    Agreeing means: the state restored from it has the digest that the *event* at its seq records. The
    snapshot's own digest column is not trusted: someone who rewrites a snapshot can rewrite it too."""
    found = conn.execute(
        "SELECT s.seq, s.state, e.state_digest FROM snapshots s JOIN events e "
        "ON e.session_id = s.session_id AND e.seq = s.seq "
        "WHERE s.session_id = ? AND s.engine_version = ? AND s.seq <= ? ORDER BY s.seq DESC LIMIT 3",
        (session_id, ENGINE_VERSION, seq)).fetchall()
    for at, text, recorded in found:
        state = decode(text, start)
        if state is not None and state.seq == at and state_digest(state) == recorded:
            return state
    return None
