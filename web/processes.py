"""Worker processes for the server's costly work (issue 17): a press or a fold of a big model computed in
one of the server's threads held the GIL for most of its seconds, and every other answer waited its turn.

SIZE processes, started at the first costly job (most servers never need one), each keeping an open log per
database. A job is a module-level function of plain values (web/jobs.py) that returns plain values; nnreplay's
errors come back as the same class with the same message and field, so answers stay the same.

Abandoning a job (its client left, the server stops) kills its process: SQLite and PostgreSQL roll back a
dead writer's open transaction, and a replacement starts at the next job. Only a commit must not be cut off
from its answer: right before COMMIT the process asks the server over its pipe (store.progress calls
`begin_commit`), and once the server has said yes it waits for the commit to end before it kills. So, as
with the threads (web/database.py), a client that got a failure never finds its presses recorded after all.

The processes are spawned, not forked (the server has threads), and run web/worker.py's loop. They start
with SIGINT blocked: a Ctrl-C in the terminal reaches the whole process group, and the server, not its
workers, decides what stops and prints.
"""

import asyncio
import contextlib
import multiprocessing
import os
import signal

from web.database import _settle, abandoned
from web.worker import rebuilt, serve

SIZE = 2  # worker processes: the development VM's cores
CLOSE_SECONDS = 1.0  # an idle process gets this long to close its logs when the server stops


class WorkerDied(Exception):
    """The process computing a job ended without an answer (killed from outside, out of memory): a bug's 500."""


@contextlib.contextmanager
def _sigint_blocked():
    # the mask is inherited through fork and exec, so the process never sees a SIGINT at all, not even
    # while it imports; the server's own SIGINT waits (pending) for these few milliseconds. multiprocessing's
    # resource tracker, which the first spawn starts, unblocks SIGINT in this thread as it starts: started first
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    saved = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, saved)


class _Worker:
    """A worker process and the server's end of its pipe; used by one job at a time, on the event loop."""

    def __init__(self, context):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=serve, args=(child, os.getpid()), name="nnreplay-worker",
                                       daemon=True)
        with _sigint_blocked():
            self.process.start()
        child.close()
        self.committing = self.committed = self.abandoned = self.dead = False
        self.answer: asyncio.Future | None = None

    def send(self, job, path: str, args: tuple) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        self.answer = loop.create_future()
        self.committed = False  # whether this job was allowed a COMMIT
        try:
            self.conn.send((job, path, args))
        except OSError:  # it died while idle
            self.end()
            raise WorkerDied(f"worker process {self.process.pid} ended while idle") from None
        loop.add_reader(self.conn.fileno(), self._read)
        return self.answer

    def _read(self) -> None:
        try:
            kind, value = self.conn.recv()
        except (EOFError, OSError):
            self.died()
            return
        if kind == "commit":  # may it commit? not once abandoned; and not abandoned while it commits
            self.committing = not self.abandoned
            self.committed = self.committed or self.committing
            self._reply(self.committing)
        elif kind == "committed":
            self.committing = False
        else:
            asyncio.get_running_loop().remove_reader(self.conn.fileno())
            _settle(self.answer, value if kind == "done" else None, rebuilt(value) if kind == "error" else None)

    def _reply(self, yes: bool) -> None:
        try:
            self.conn.send(yes)
        except OSError:
            self.died()

    def abandon(self) -> bool:
        """Abandon the job and end the process; False while it commits (the caller waits and asks again)."""
        if self.committing:
            return False
        self.abandoned = True
        self.end()
        return True

    def end(self) -> None:
        """Kill the process (it may be mid-transaction: the database rolls that back) and stop reading it."""
        if self.dead:
            return
        self.dead = True
        self.committing = False
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(self.conn.fileno())
        self.process.kill()
        self.conn.close()
        self.process.join(0)  # reaped now if already gone; else by the next start or close

    def died(self) -> None:
        """End the process, and fail the job in hand (whoever waits for it answers 500)."""
        self.end()
        _settle(self.answer, None, WorkerDied(f"worker process {self.process.pid} ended without an answer"))

    def close(self) -> None:
        """An idle process: let it close its logs (the last SQLite connection removes the -wal file)."""
        if not self.dead:
            with contextlib.suppress(OSError):
                self.conn.send(None)
            self.process.join(CLOSE_SECONDS)
            self.end()
        self.process.join(CLOSE_SECONDS)


class Processes:
    """The pool: at most SIZE processes, started when a job needs one; jobs wait their turn on the loop."""

    def __init__(self, path: str, stopped: asyncio.Event, size: int = SIZE):
        self.path, self._stopped, self._size = path, stopped, size
        self._idle: list[_Worker] = []
        self._all: list[_Worker] = []
        self._turns: asyncio.Semaphore | None = None
        self._context = multiprocessing.get_context("spawn")

    async def run(self, job, *args, leaving=None):
        """`job(log, False, *args)` in a worker process, with that process's log of this database.

        As `Database.run`: when the server stops or the client leaves (`leaving`) first, the answer is a 503
        at once, and nothing of the job is committed afterwards."""
        if self._turns is None:
            self._turns = asyncio.Semaphore(self._size)
        waiters = {asyncio.ensure_future(self._stopped.wait())}
        if leaving is not None:
            waiters.add(asyncio.ensure_future(leaving))
        turn = asyncio.ensure_future(self._turns.acquire())
        try:
            await asyncio.wait({turn, *waiters}, return_when=asyncio.FIRST_COMPLETED)
            if not turn.done() or self._stopped.is_set():
                raise abandoned()
            worker, answer = self._worker(), None
            try:
                answer = worker.send(job, self.path, args)
                await asyncio.wait({answer, *waiters}, return_when=asyncio.FIRST_COMPLETED)
                while not answer.done():
                    if worker.abandon():
                        raise abandoned()
                    await asyncio.sleep(0.005)  # a commit under way: it takes milliseconds
                try:
                    return answer.result()
                except WorkerDied:
                    # a SIGTERM to the server's whole process group (a service manager stopping it) reached
                    # the worker first: a stop like any other, if the job had not committed
                    if self._stopped.is_set() and not worker.committed:
                        raise abandoned() from None
                    raise
            finally:
                if answer is not None and not answer.done():  # this task was cancelled (a server shutting down)
                    worker.end()
                if not worker.dead:
                    self._idle.append(worker)
                self._all = [one for one in self._all if not one.dead]
        finally:
            if turn.done() and not turn.cancelled():
                self._turns.release()
            turn.cancel()
            for waiter in waiters:
                waiter.cancel()

    def _worker(self) -> _Worker:
        while self._idle:
            worker = self._idle.pop()
            if worker.process.is_alive():
                return worker
            worker.end()  # killed from outside while idle
        worker = _Worker(self._context)
        self._all.append(worker)
        return worker

    def close(self) -> None:
        """The server is stopping: idle processes close their logs and exit; busy ones are killed (their
        jobs were abandoned already, unless a commit is under way: that is the database's to finish)."""
        workers, self._all, self._idle = self._all, [], []
        for worker in workers:
            if worker.answer is None or worker.answer.done():
                worker.close()
            else:  # a job still waited for: a commit the stop let finish, cut short by the end of the server
                worker.died()
                worker.process.join(CLOSE_SECONDS)
