"""The database as the server's handlers see it: one connection per worker thread.

sqlite3 connections belong to the thread that opened them, and Starlette runs blocking work in a pool of
threads; each pool thread opens its own `EventLog` on first use and keeps it. Writers still queue in
the store (BEGIN IMMEDIATE with retries), exactly as two terminals do.
"""

import threading

from starlette.concurrency import run_in_threadpool

from store import EventLog


class Database:
    def __init__(self, path: str):
        self.path = path
        self._local = threading.local()

    def log(self) -> EventLog:
        log = getattr(self._local, "log", None)
        if log is None:
            log = self._local.log = EventLog(self.path, create=False)
        return log

    async def run(self, operation, *args, **kwargs):
        """`operation(log, *args, **kwargs)` in a worker thread with that thread's connection."""
        return await run_in_threadpool(lambda: operation(self.log(), *args, **kwargs))
