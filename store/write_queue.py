"""The queue in which writers of one process wait for an SQLite file's write lock, first come first served."""

import collections
import os
import threading


class TicketLock:
    """A first-come, first-served lock: release hands it straight to the longest waiter, and wakes only
    that one (a crowd woken on every commit would spend the GIL on checking whose turn it is)."""

    def __init__(self):
        self._guard = threading.Lock()
        self._held = False
        self._waiters: collections.deque[threading.Event] = collections.deque()

    def acquire(self, timeout: float) -> bool:
        with self._guard:
            if not self._held:
                self._held = True
                return True
            turn = threading.Event()
            self._waiters.append(turn)
        if turn.wait(max(timeout, 0)):
            return True
        with self._guard:
            if turn.is_set():
                return True  # handed over just as the wait ran out
            self._waiters.remove(turn)
            return False

    def release(self) -> None:
        with self._guard:
            if self._waiters:
                self._waiters.popleft().set()  # still held: now by that waiter
            else:
                self._held = False


# SQLite has no queue for its write lock: every waiter polls, and who gets in after a commit is luck. The
# threads of one process (serve's workers) racing that way starved some presses past the busy timeout under
# a class pressing flat out. So writers of one process first queue here, in order, per database file, and
# only the head of the queue polls SQLite; other processes (terminals, other servers) still get their turn
# through that polling.
_queues: dict[str, TicketLock] = {}
_queues_guard = threading.Lock()


_keys: dict[str, str] = {}  # a path as given -> its real path: resolving it took a system call per write


def queue_for(path: str) -> TicketLock:
    key = _keys.get(path)
    if key is None:
        key = _keys[path] = os.path.realpath(path)
    with _queues_guard:
        return _queues.setdefault(key, TicketLock())
