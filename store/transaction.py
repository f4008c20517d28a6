"""A write transaction: BEGIN IMMEDIATE ... COMMIT, rolled back on any exception, sqlite3 errors translated."""

import random
import sqlite3
import time

from store import progress
from store.errors import Abandoned
from store.schema import BUSY_TIMEOUT_MS, translate
from store.write_queue import queue_for


class Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception, with sqlite3 errors translated."""

    def __init__(self, conn: sqlite3.Connection, path: str, on_begin=None):
        # on_begin: called once the write lock is held, before anything is written (the schema check)
        self.conn, self.path, self.on_begin = conn, path, on_begin

    def __enter__(self):
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000  # the whole wait, in this process's queue and on SQLite
        self._queue = queue_for(self.path)
        if not self._queue.acquire(deadline - time.monotonic()):
            raise translate(sqlite3.OperationalError("database is locked"), self.path)
        try:
            self._begin(deadline)
            if self.on_begin is not None:
                try:
                    self.on_begin()
                except BaseException:
                    self._rollback()
                    raise
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
                with progress.committing():  # a server's request abandoned meanwhile: its client was told so
                    self.conn.execute("COMMIT")
                return False
            except Abandoned:
                self._rollback()
                raise
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
