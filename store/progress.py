"""SQLite work that a stop signal can end, and a step budget for reading what a handed file describes.

Python runs its signal handlers only between bytecodes, so a query that SQLite runs for minutes in C (a
`sessions` view over an endless recursive CTE in a handed file) would ignore Ctrl-C and SIGTERM. Every
connection nnreplay opens gets a progress handler, called every `EVERY` SQLite VM steps (well under a
millisecond of work). Calling it runs Python, so a pending signal's handler runs right at its entry; the
command line's handlers (console.py) see that frame and, instead of raising there (the sqlite3 module would
swallow the exception), call `request_stop`; the handler's body then returns 1, SQLite abandons the query
("interrupted"), and `interruption` turns that error back into the KeyboardInterrupt the signal meant.

`budget(calls, what)` ends the queries of a block after `calls` x EVERY steps with an error naming `what`:
it bounds reads whose cost the file decides, such as the listing of sessions.
"""

import contextlib
import sqlite3
import threading

from store.errors import Abandoned, StoreError

EVERY = 20_000  # VM steps between two calls of the handler
# a listing reads about 70 VM steps per page of the file (2,000 sessions, 2,232 pages: 154,000 steps); its
# budget allows 1,000 per page, and at least 2e7 steps (SQLite runs some 5e7 a second)
LISTING_STEPS_PER_PAGE = 1_000
LISTING_FLOOR_STEPS = 20_000_000

_stop: list[int] = []  # signals that arrived while SQLite was working
_ending = threading.Event()  # the process is stopping for good (a server): every query ends, in every thread
_local = threading.local()


def _handler() -> int:
    # a pending signal's handler runs at this function's entry (console defers it to request_stop)
    if _stop or _ending.is_set() or getattr(_local, "call", None) is not None and _local.call.abandoned():
        return 1
    limit = getattr(_local, "limit", None)
    if limit is not None:
        _local.calls += 1
        if _local.calls > limit:
            _local.exceeded = True
            return 1
    return 0


HANDLER_CODE = _handler.__code__  # the frame a signal handler recognises


def request_stop(signum: int) -> None:
    """A stop signal arrived while SQLite was working: end the query at once (the caller then raises)."""
    _stop.append(signum)


def end_all() -> None:
    """The process is stopping (a server): from now on every SQLite query, in every thread, is ended."""
    _ending.set()


@contextlib.contextmanager
def abandonable(call):
    """This thread's work, which a server may abandon (its client got an answer already): while
    `call.abandoned()` holds, queries end at once, and a transaction commits only after
    `call.begin_commit()` said yes (then `call.end_commit()`), so that abandoning and committing exclude
    each other (store.transaction)."""
    saved = getattr(_local, "call", None)
    _local.call = call
    try:
        yield
    finally:
        _local.call = saved


def abandoned() -> bool:
    """Whether this thread's work was abandoned, or the process ends."""
    call = getattr(_local, "call", None)
    return _ending.is_set() or (call is not None and call.abandoned())


def begin_commit() -> None:
    """Right before a COMMIT: raises Abandoned when the work was abandoned (the caller rolls back);
    otherwise the work cannot be abandoned until `end_commit`."""
    call = getattr(_local, "call", None)
    if _ending.is_set() or (call is not None and not call.begin_commit()):
        raise Abandoned("the server is stopping, or this request's client already has its answer; nothing of it "
                        "was recorded")


def end_commit() -> None:
    call = getattr(_local, "call", None)
    if call is not None:
        call.end_commit()


@contextlib.contextmanager
def committing():
    """Around a COMMIT (see begin_commit)."""
    begin_commit()
    try:
        yield
    finally:
        end_commit()


def reset() -> None:
    """A new command starts unstopped (CliRunner runs many commands in one process)."""
    _stop.clear()


def watch(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Give `conn` the progress handler (every SQLite connection nnreplay opens gets it)."""
    conn.set_progress_handler(_handler, EVERY)
    return conn


@contextlib.contextmanager
def budget(steps: int, what: str):
    """Queries of this block (this thread) end with an error naming `what` after about `steps` VM steps."""
    saved = getattr(_local, "limit", None), getattr(_local, "calls", 0), getattr(_local, "what", None)
    _local.limit, _local.calls, _local.what, _local.exceeded = max(1, steps // EVERY), 0, what, False
    try:
        yield
    finally:
        _local.limit, _local.calls, _local.what = saved
        _local.exceeded = False


def interrupted(error: BaseException) -> bool:
    return isinstance(error, sqlite3.OperationalError) and str(error) == "interrupted"


def interruption(error: sqlite3.Error, path: str) -> BaseException | None:
    """What an "interrupted" sqlite3 error stands for (the progress handler ends a query only for a stop
    signal or an exceeded budget): the KeyboardInterrupt of the signal, or the budget's error. None for any
    other error."""
    if not interrupted(error):
        return None
    if getattr(_local, "exceeded", False):
        _local.exceeded = False
        return StoreError(f"{path}: reading {_local.what} took over {_local.limit * EVERY:,} SQLite steps, far more "
                          f"than a file of nnreplay's needs (a view or other object that nnreplay did not "
                          f"create?); gave up. Run `nnreplay audit` to see what the file holds")
    if abandoned():
        return Abandoned(f"{path}: the server is stopping, or this request's client already has its answer; "
                         f"nothing of it was recorded")
    _stop.clear()  # the interruption now travels as an exception; cleanup may query again
    return KeyboardInterrupt("interrupted")


def listing_steps(conn: sqlite3.Connection) -> int:
    """VM steps a listing of this file may take: proportional to its pages, with a floor."""
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    return max(LISTING_FLOOR_STEPS, pages * LISTING_STEPS_PER_PAGE)
