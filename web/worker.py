"""Inside a worker process of the server (web/processes.py): its loop, and how an error crosses back.

The process runs one job at a time (a web/jobs.py function of plain values) with its own open log per
database, below the server's scheduling priority, and dies with the server (PR_SET_PDEATHSIG on Linux), so
none is left computing, or committing, for a client that is gone. Abandoning is the server's to do: it kills
the process. Only a COMMIT waits for the server's yes over the pipe (store.progress calls `begin_commit`),
so that a job the server abandoned is never committed after its client got a failure.
"""

import contextlib
import os
import pickle
import signal
import sys

# below the server's: with both cores computing presses, the event loop and the cheap requests (and a
# terminal's `nnreplay next`) still get a core as soon as they wake
NICE = 10


class _Asking:
    """store.progress's call in a worker process: abandoning is the server's (it kills the process); a
    commit waits for the server's yes."""

    def __init__(self, conn):
        self.conn = conn

    def abandoned(self) -> bool:
        return False

    def begin_commit(self) -> bool:
        try:
            self.conn.send(("commit", None))
            return self.conn.recv()
        except (EOFError, OSError):  # the server is gone: nobody will answer for this commit
            return False

    def end_commit(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(("committed", None))


def _die_with(parent: int) -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # as it started (web/processes.py: _sigint_blocked)
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the server ended before the line above
            os._exit(0)


def serve(conn, parent: int) -> None:
    """A worker process's loop: one job at a time until the server sends None or closes the pipe."""
    _die_with(parent)
    os.nice(NICE)
    import store
    from store import progress
    from web.database import reusable

    logs: dict = {}
    call = _Asking(conn)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            break
        if message is None:
            break
        job, path, args = message
        log = logs.get(path)
        try:
            if log is None:
                log = logs[path] = store.open_log(path)
            with progress.abandonable(call):
                answer = ("done", job(log, False, *args))
        except BaseException as exc:  # noqa: BLE001  (the server's handler raises it)
            answer = ("error", portable(exc))
            if log is not None and not reusable(log):
                logs.pop(path).close()
        try:
            conn.send(answer)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            conn.send(("error", portable(exc)))
        except OSError:
            break
    for log in logs.values():
        with contextlib.suppress(Exception):
            log.close()


def portable(exc: BaseException) -> tuple:
    """An exception as (class, args, attributes): rebuilt without calling its __init__, whose parameters
    need not be its args (Refused(status, message, field) keeps only the message in args)."""
    data = (type(exc), exc.args, dict(vars(exc)))
    try:
        pickle.dumps(data)
    except Exception:  # noqa: BLE001  (an attribute that does not pickle: the text is what matters)
        return RuntimeError, (f"{type(exc).__name__}: {exc}",), {}
    return data


def rebuilt(data: tuple) -> BaseException:
    kind, args, attributes = data
    exc = kind.__new__(kind, *args)
    exc.args = args
    exc.__dict__.update(attributes)
    return exc
