"""The database as the server's handlers see it: an open log per worker, on either backend.

Starlette runs blocking work in a pool of threads (40 by default). sqlite3 connections belong to the thread
that opened them, so on SQLite each pool thread opens its own `EventLog` on first use and keeps it. A
PostgreSQL connection costs a server process, so there handlers borrow one of at most POOL open logs: 40
threads per server times several servers would exhaust the server's max_connections, and more than a few
writers at once only queue on the database. Writers still queue in the store (BEGIN IMMEDIATE, or the
session's advisory lock), as two terminals do; on SQLite the threads of one server first queue in order
(store/write_queue.py), so that none of them loses the race for the file's lock again and again.
"""

import queue
import threading

from starlette.concurrency import run_in_threadpool

import store

POOL = 8  # PostgreSQL connections per server process


class Database:
    def __init__(self, path: str):
        self.path = path
        self._local = threading.local()
        self._pooled = store.is_url(path)
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(POOL)
        self._lock = threading.Lock()
        self._opened: list = []
        if self._pooled:
            self._warm()

    def _warm(self) -> None:
        # opened now, not by the first presses: a connection costs the server a process, and a class that
        # starts pressing at once would otherwise wait behind POOL connection set-ups
        from store.errors import StoreError

        try:
            for _ in range(POOL):
                self._idle.put(store.open_log(self.path))
        except StoreError:
            pass  # opened on demand later; serve's start already checked that the database opens

    def log(self):
        """This thread's SQLite log (tests and single calls; handlers go through `run`)."""
        log = getattr(self._local, "log", None)
        if log is None:
            log = self._local.log = store.open_log(self.path, any_thread=True)
            with self._lock:
                self._opened.append(log)
        return log

    def close(self) -> None:
        """Close every log the workers opened (the server is stopping): the last connection to close
        removes the -wal and -shm files, so a stopped `serve --read-only` leaves the folder as it was."""
        with self._lock:
            opened, self._opened = self._opened, []
        for log in reversed(opened):  # the first opened last (see web/app.py)
            try:
                log.close()
            except Exception:  # a worker still inside a query: the process ends anyway
                pass
        while not self._idle.empty():
            self._idle.get_nowait().close()

    def _with_pooled(self, operation, args, kwargs):
        with self._slots:  # at most POOL logs exist, each used by one thread at a time
            try:
                log = self._idle.get_nowait()
            except queue.Empty:
                log = store.open_log(self.path)
            try:
                result = operation(log, *args, **kwargs)
            except BaseException:
                if log.conn.closed or log.conn.broken or log.conn.info.transaction_status != 0:  # broken, mid-transaction
                    log.close()
                else:
                    self._idle.put(log)
                raise
            self._idle.put(log)
            return result

    async def run(self, operation, *args, **kwargs):
        """`operation(log, *args, **kwargs)` in a worker thread with a log of its own for the call."""
        if self._pooled:
            return await run_in_threadpool(self._with_pooled, operation, args, kwargs)
        return await run_in_threadpool(lambda: operation(self.log(), *args, **kwargs))
