"""The states at sessions' heads, kept per process, so that a press or a page's poll does not fold again.

A press used to fold its session from the last snapshot (up to a hundred events) before deciding: with a
class of 200 students pressing, that fold was most of a press's time. A kept state is used only for the
head it was folded or recorded at, named by its seq and its hash: the hash chains the whole history, so no
other history can have it. A caller still checks the state's digest against the head row's (the recorder's
`_refuse_diverged`, the page's record fields), as it did with a fresh fold.
"""

import threading

KEPT = 256  # sessions per process: a class of 200, and the page's other sessions
_kept: dict = {}  # (database, session id) -> (seq, head hash, state), the most recently used last
_lock = threading.Lock()


def kept(database: str, session_id: str, seq: int, head_hash: str):
    """The state kept for this session's head (seq, head_hash), or None."""
    with _lock:
        found = _kept.pop((database, session_id), None)
        if found is None:
            return None
        _kept[(database, session_id)] = found
    return found[2] if found[:2] == (seq, head_hash) else None


def settings(database: str, session_id: str):
    """The settings of any state kept for this session, or None: a session's settings never change (seq 1
    holds them), so a request that needs only them reads no event."""
    with _lock:
        found = _kept.get((database, session_id))
    return None if found is None else found[2].settings


def keep(database: str, session_id: str, seq: int, head_hash: str, state) -> None:
    with _lock:
        _kept.pop((database, session_id), None)
        _kept[(database, session_id)] = (seq, head_hash, state)
        while len(_kept) > KEPT:
            _kept.pop(next(iter(_kept)))  # the one used longest ago


def head_state(log, session_id: str, seq: int, head_hash: str):
    """The state at the head (seq, head_hash) of `session_id`: the kept one, else folded and kept."""
    state = kept(log.path, session_id, seq, head_hash)
    if state is None:
        state = log.state(session_id, seq)
        keep(log.path, session_id, seq, head_hash, state)
    return state
