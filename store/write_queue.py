"""The queue in which writers of one process wait for an SQLite file's write lock, first come first served."""

import os
import threading


class TicketLock:
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
_queues: dict[str, TicketLock] = {}
_queues_guard = threading.Lock()


def queue_for(path: str) -> TicketLock:
    key = os.path.realpath(path)
    with _queues_guard:
        return _queues.setdefault(key, TicketLock())
