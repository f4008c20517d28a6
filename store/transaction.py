"""A write transaction: BEGIN IMMEDIATE ... COMMIT, rolled back on any exception, sqlite3 errors translated."""

import os
import random
import sqlite3
import threading
import time

from store.schema import BUSY_TIMEOUT_MS, translate


class _TicketLock:
    """A first-come, first-served lock: waiters are let in in the order they arrived. A waiter that gives
    up (timeout) leaves its ticket behind, and the holder's release skips it."""

    def __init__(self):
        self._turn = threading.Condition()
        self._next = self._serving = 0
        self._abandoned: set[int] = set()

    def acquire(self, timeout: float) -> bool:
        with self._turn:
            ticket = self._next
            self._next += 1
            if self._turn.wait_for(lambda: self._serving == ticket, max(timeout, 0)):
                return True
            self._abandoned.add(ticket)
            return False

    def release(self) -> None:
        with self._turn:
            self._serving += 1
            while self._serving in self._abandoned:
                self._abandoned.discard(self._serving)
                self._serving += 1
            self._turn.notify_all()


# SQLite has no queue for its write lock: every waiter polls, and who gets in after a commit is luck. The
# threads of one process (serve's workers) racing that way starved some presses past the busy timeout under
# a class pressing flat out. So writers of one process first queue here, in order, per database file, and
# only the head of the queue polls SQLite; other processes (terminals, other servers) still get their turn
# through that polling.
_queues: dict[str, _TicketLock] = {}
_queues_guard = threading.Lock()


def _queue_for(path: str) -> _TicketLock:
    key = os.path.realpath(path)
    with _queues_guard:
        return _queues.setdefault(key, _TicketLock())


class Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception, with sqlite3 errors translated."""

    def __init__(self, conn: sqlite3.Connection, path: str):
        self.conn, self.path = conn, path

    def __enter__(self):
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000  # the whole wait, in this process's queue and on SQLite
        self._queue = _queue_for(self.path)
        if not self._queue.acquire(deadline - time.monotonic()):
            raise translate(sqlite3.OperationalError("database is locked"), self.path)
        try:
            self._begin(deadline)
        except BaseException:
            self._queue.release()
            raise

    def _begin(self, deadline: float) -> None:
        # SQLite's own busy handler polls for the write lock at most every 100 ms, so a waiter can starve
        # behind a writer that commits in a tight loop. Polling every millisecond or so ourselves lets
        # waiters in within milliseconds; the busy timeout still bounds the whole wait.
        self.conn.execute("PRAGMA busy_timeout = 1")
        try:
            while True:
                try:
                    self.conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as error:
                    if "locked" not in str(error) and "busy" not in str(error) or time.monotonic() > deadline:
                        raise translate(error, self.path) from None
                    time.sleep(random.uniform(0.00005, 0.0005))
                except sqlite3.Error as error:
                    raise translate(error, self.path) from None
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            return self._finish(exc_type, exc)
        finally:
            self._queue.release()

    def _finish(self, exc_type, exc) -> bool:
        if exc_type is None:
            try:
                self.conn.execute("COMMIT")
                return False
            except sqlite3.Error as error:
                self._rollback()
                raise translate(error, self.path) from None
        self._rollback()
        if isinstance(exc, sqlite3.IntegrityError):
            return False  # the caller retries from the new head
        if isinstance(exc, sqlite3.Error):
            raise translate(exc, self.path) from None
        return False

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
