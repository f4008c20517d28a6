"""The database as the server's handlers see it: an open log per worker, on either backend.

Starlette runs blocking work in a pool of threads (40 by default). sqlite3 connections belong to the thread
that opened them, so on SQLite each pool thread opens its own `EventLog` on first use and keeps it. A
PostgreSQL connection costs a server process, so there handlers borrow one of at most POOL open logs: 40
threads per server times several servers would exhaust the server's max_connections, and more than a few
writers at once only queue on the database. Writers still queue in the store (BEGIN IMMEDIATE, or the
session's advisory lock), as two terminals do; on SQLite the threads of one server first queue in order
(store/write_queue.py), so that none of them loses the race for the file's lock again and again.

Work that service.budget reckons costly (web/jobs.py) does not stay in these threads: `compute` hands it to
worker processes (web/processes.py), so that it does not hold this process's GIL while others wait.
"""

import asyncio
import queue
import threading

import store
from store import progress
from web.answers import Refused

POOL = 8  # PostgreSQL connections per server process
WORKERS = 40  # threads, as Starlette's pool has


def abandoned() -> Refused:
    """The answer to a call abandoned before it was done."""
    return Refused(503, "the server is stopping (or the request was left): nothing of it was recorded; try again",
                   None)


def reusable(log) -> bool:
    """Whether a log may serve the next call after this one failed: not a PostgreSQL connection that broke
    or is still inside a transaction."""
    conn = log.conn
    return not hasattr(conn, "broken") or not (conn.closed or conn.broken or conn.info.transaction_status != 0)


def _settle(future, result, exc) -> None:
    if not future.done():
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)


class Call:
    """One request's work in a worker thread, which the handler may abandon except while it commits."""

    def __init__(self):
        self._lock = threading.Lock()
        self._left = self._committing = False

    def abandoned(self) -> bool:
        return self._left

    def begin_commit(self) -> bool:
        """Called by the worker right before COMMIT: False once abandoned (then it rolls back)."""
        with self._lock:
            self._committing = not self._left
            return self._committing

    def end_commit(self) -> None:
        with self._lock:
            self._committing = False

    def abandon(self) -> bool:
        """Abandon the work; False while a commit is under way (the caller waits and asks again)."""
        with self._lock:
            if not self._committing:
                self._left = True
            return self._left


class Workers:
    """Daemon worker threads: a worker still folding when the server stops does not hold the process open
    (concurrent.futures' threads are joined at exit, and asyncio's default pool waits for them)."""

    def __init__(self, size: int):
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._size, self._started, self._idle = size, 0, 0
        self._lock = threading.Lock()

    def submit(self, job) -> None:
        with self._lock:
            if self._idle == 0 and self._started < self._size:
                self._started += 1
                threading.Thread(target=self._loop, name=f"nnreplay-worker-{self._started}", daemon=True).start()
            elif self._idle > 0:
                self._idle -= 1
        self._jobs.put(job)

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job()
            finally:
                with self._lock:
                    self._idle += 1


class Database:
    def __init__(self, path: str):
        self.path = path
        self._workers = Workers(WORKERS)
        self._stopped = asyncio.Event()
        self._local = threading.local()
        self._pooled = store.is_url(path)
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(POOL)
        self._lock = threading.Lock()
        self._opened: list = []
        from web.processes import Processes  # web.processes imports this module's helpers

        self.processes = Processes(path, self._stopped)
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
        self.processes.close()
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
                if reusable(log):
                    self._idle.put(log)
                else:
                    log.close()
                raise
            self._idle.put(log)
            return result

    async def run(self, operation, *args, **kwargs):
        """`operation(log, *args, **kwargs)` in a worker thread with a log of its own for the call.

        When the server stops (`stop`) or the client leaves (`leaving`, an awaitable the handler passes)
        before the work is done, the call is abandoned: its answer is a 503 at once, its SQLite queries end,
        and its transaction rolls back instead of committing (store.progress), so a client that got a
        failure never finds its presses recorded after all. A call already committing is waited for."""
        leaving = kwargs.pop("leaving", None)
        call = Call()
        loop = asyncio.get_running_loop()
        future = loop.create_future()

        def work():
            with progress.abandonable(call):
                try:
                    if self._pooled:
                        result = self._with_pooled(operation, args, kwargs)
                    else:
                        result = operation(self.log(), *args, **kwargs)
                except BaseException as exc:  # noqa: BLE001  (handed to the waiting handler)
                    loop.call_soon_threadsafe(_settle, future, None, exc)
                else:
                    loop.call_soon_threadsafe(_settle, future, result, None)

        self._workers.submit(work)
        waiters = {future, asyncio.ensure_future(self._stopped.wait())}
        if leaving is not None:
            waiters.add(asyncio.ensure_future(leaving))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters - {future}:
                waiter.cancel()
        while not future.done():
            if call.abandon():
                raise abandoned()
            await asyncio.sleep(0.005)  # a commit under way: it takes milliseconds
        return await future

    async def compute(self, job, *args, leaving=None):
        """`job(log, True, *args)` in a worker thread, as `run`; a job too costly for this process raises
        web.jobs.Elsewhere before any work, and then runs as `job(log, False, *args)` in a worker process.
        `leaving` (the client went away) abandons either."""
        from web.jobs import Elsewhere

        left = asyncio.ensure_future(leaving) if leaving is not None else None
        try:
            try:
                return await self.run(job, True, *args, leaving=_shielded(left))
            except Elsewhere:
                return await self.processes.run(job, *args, leaving=_shielded(left))
        finally:
            if left is not None:
                left.cancel()

    def stop(self) -> None:
        """The server is stopping: abandon every call in flight (called from the event loop's thread)."""
        progress.end_all()
        self._stopped.set()


def _shielded(task):
    # each step cancels what it waited on when it ends; the client's leaving is watched by both steps
    return None if task is None else asyncio.shield(task)
