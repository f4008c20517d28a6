"""The work of the requests that can be costly, as functions of plain values, run where their cost says.

`Database.compute` calls a job in one of the server's threads first (`in_server` true): the job reads the
session's settings, refuses what is over a request's budget (413), and, when service.budget reckons the rest
costly, raises Elsewhere before any of it; the same job then runs in a worker process (web/processes.py,
`in_server` false). Cheap requests stay in the thread, as fast as before. A job returns what its answer
sends: JSON already encoded (off the event loop, in whichever process did the work), a GIF's bytes.
"""

import json

import numpy as np
from starlette.responses import JSONResponse

import service
from service import budget, classes
from store import head_states
from store.snapshots import every


class Elsewhere(Exception):
    """Too costly for the server's own process: the job goes to a worker process."""


_SETTINGS: dict = {}  # (database, session id) -> settings: seq 1 holds them, and no later event changes them


def _settings(log, ref: str):
    """(session, its settings), the settings read off its first event once per process: folding seq 1
    draws the data set and evaluates the model on it (90 ms for a 64,64 network on 10,000 points)."""
    info = log.resolve(ref)
    settings = _SETTINGS.get((log.path, info.id)) or head_states.settings(log.path, info.id)
    if settings is None:
        first = next(log.rows(info.id, 1, 1), None)
        settings = service.session_settings(log, info.id)[1] if first is None else first.event().settings
        _SETTINGS[(log.path, info.id)] = settings
    return info, settings


def _head_state(log, info):
    """The state at the session's head, folded once per head per process (store.head_states): a page polling
    a session asks for the same head again and again; page_state still checks its digest against the record."""
    seq, head_hash = log.head(info.id)
    return head_states.head_state(log, info.id, seq, head_hash)


def _here_unless_costly(in_server: bool, settings, presses: int) -> None:
    if in_server and budget.costly(settings, presses):
        raise Elsewhere


def _json(value) -> bytes:
    """Starlette's own encoding (the answer is the same from either process), but a state's probability
    grid is written from a table: the grid was most of a press's answer (4,096 numbers at the page's grid
    of 64) and encoding it number by number most of the time a class's server spent holding the GIL."""
    grid = value.get("grid") if isinstance(value, dict) else None
    cells = grid_json(grid) if grid is not None else None
    if cells is None:
        return JSONResponse(value).body
    # the keys before and after the grid in two calls, spliced around it (one call per key was some 60 a press)
    keys = list(value)
    at = keys.index("grid")
    before = _dumps({key: value[key] for key in keys[:at]})[:-1]
    after = _dumps({key: value[key] for key in keys[at + 1:]})[1:]
    return (before + ("," if at else "") + '"grid":' + cells + ("," if len(keys) > at + 1 else "") + after).encode()


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))


_STEPS = 10_000  # service.sessions.drawing rounds probabilities to four decimals
_texts = None


def grid_json(grid) -> str | None:
    """The JSON text of a list of rows of probabilities rounded to four decimals, exactly as json.dumps
    writes it (each number k / 10,000 is written as repr(k / 10,000)); None for anything else."""
    global _texts
    try:
        cells = np.asarray(grid, dtype=float)
    except (TypeError, ValueError):
        return None
    if cells.ndim != 2 or not cells.size or not np.all((cells >= 0) & (cells <= 1)) or np.any(np.signbit(cells)):
        return None
    steps = np.rint(cells * _STEPS).astype(np.int64)
    if not np.array_equal(steps / _STEPS, cells):  # not four decimals: json.dumps writes it
        return None
    if _texts is None:
        _texts = np.array([repr(k / _STEPS) for k in range(_STEPS + 1)], dtype=object)
    return "[" + ",".join("[" + ",".join(row) + "]" for row in _texts[steps].tolist()) + "]"


def press(log, in_server: bool, ref: str, press: str, count: int, key: str | None, drawn: dict,
          student: str | None = None) -> tuple[bytes, bool]:
    """(the state after the presses as the page draws it, whether it is an earlier request's result). In a
    class, `student` is the pressing student's token digest: the session must be theirs, and the class not
    paused (service.classes.claim), before anything else is read or refused."""
    if student is not None:
        ref = classes.claim(log, ref, student, writing=True)
    _, settings = _settings(log, ref)
    budget.check_presses(settings, count)
    _here_unless_costly(in_server, settings, count)
    if key is None:
        info, state = service.record(log, ref, press, count, source="web")
        return _json(service.page_state(log, info.id, state=state, **drawn)), False
    info, state, again = service.record_once(log, ref, press, count, key, source="web")
    return _json(service.page_state(log, info.id, state=state if not again else None,
                                    at=state.seq if again else None, **drawn)), again


def state(log, in_server: bool, ref: str, at, grid: int, points: bool, units, truth: bool) -> bytes:
    """The state at `at` (the head by default) with its picture: a fold from the nearest snapshot, at most
    a snapshot's distance (store.snapshots.every), and the drawing."""
    info, settings = _settings(log, ref)
    _here_unless_costly(in_server, settings, every(settings))
    kept = _head_state(log, info) if at is None else None
    return _json(service.page_state(log, info.id, at, grid, points, kept, units, truth))


def _checked_fold(log, ref: str, in_server: bool, what: str):
    info, settings = _settings(log, ref)
    head, _ = log.head(info.id)
    budget.check_fold(settings, head, None, what)
    _here_unless_costly(in_server, settings, head)
    return info


def metrics(log, in_server: bool, ref: str) -> bytes:
    _checked_fold(log, ref, in_server, "the metrics")
    return _json(service.metric_series(log, ref))


def audit(log, in_server: bool, ref: str, database: str) -> bytes:
    """The session's audit report, naming the database as /api/server does (not by the server's path)."""
    _checked_fold(log, ref, in_server, "the audit")
    report = service.audit(log, service.sessions_to_audit(log, [ref]), parallel=False).to_json()
    report["database"] = database
    return _json(report)


METRICS = ("loss", "accuracy", "score", "test_loss", "test_accuracy")  # what service.iter_events adds to an event


def event_metrics(log, in_server: bool, ref: str, after: int, limit: int) -> list[dict] | None:
    """The metrics of the events after `after` (at most `limit`), each state checked against its record; None
    when they are cheap enough for the answer's stream to fold them itself. The events themselves are not
    sent between processes: the stream reads them and adds these."""
    info, settings = _settings(log, ref)
    head, _ = log.head(info.id)
    events = max(0, min(limit, head - after))
    budget.check_fold(settings, events, "limit", "the events asked for")
    if in_server:
        _here_unless_costly(in_server, settings, events)
        return None
    return [{key: event[key] for key in METRICS}
            for event in service.iter_events(log, info.id, True, after, events, checked=True)]


def gif(log, in_server: bool, ref: str, frames: int, size: int) -> tuple[str, bytes]:
    """(session label, the GIF): drawn in a worker process whatever the session (matplotlib's frames are
    costly even for a perceptron), once its budget is checked here."""
    _checked_fold(log, ref, False, "the replay")
    if in_server:
        raise Elsewhere
    return service.replay_gif(log, ref, frames, size)
