"""Rate limits kept in the serving process: presses per student, wrong join codes per client address.

Both are small in-memory tables keyed by a hash or an address; time is `time.monotonic`, so a clock change
does not open or shut them. Several servers on one PostgreSQL database each keep their own: a student's
presses are bounded per server, which is what protects that server.
"""

import collections
import math
import time

MAX_KEYS = 10_000  # addresses or students remembered: the oldest are forgotten first beyond this


class Bucket:
    """A token bucket per key: `rate` actions a second, up to `rate` at once after a pause."""

    def __init__(self, rate: float, clock=time.monotonic):
        self.rate, self.clock = rate, clock
        self._keys: collections.OrderedDict[str, tuple[float, float]] = collections.OrderedDict()

    def take(self, key: str) -> float | None:
        """None when `key` may act now (one token taken); else the seconds until it may."""
        now = self.clock()
        tokens, then = self._keys.pop(key, (self.rate, now))
        tokens = min(self.rate, tokens + (now - then) * self.rate)
        if tokens >= 1:
            self._keys[key] = (tokens - 1, now)
            _forget_oldest(self._keys)
            return None
        self._keys[key] = (tokens, now)
        return (1 - tokens) / self.rate


class Misses:
    """Wrong guesses per key in a sliding window: more than `most` in `window` seconds shuts the key out
    until the oldest of them leaves the window."""

    def __init__(self, most: int, window: float, clock=time.monotonic):
        self.most, self.window, self.clock = most, window, clock
        self._keys: collections.OrderedDict[str, collections.deque] = collections.OrderedDict()

    def wait(self, key: str) -> float | None:
        """None when `key` may guess; else the seconds until it may again."""
        times = self._recent(key)
        if len(times) < self.most:
            return None
        return times[0] + self.window - self.clock()

    def miss(self, key: str) -> None:
        times = self._recent(key)
        times.append(self.clock())
        self._keys[key] = times
        self._keys.move_to_end(key)
        _forget_oldest(self._keys)

    def _recent(self, key: str) -> collections.deque:
        times = self._keys.get(key, collections.deque())
        while times and times[0] <= self.clock() - self.window:
            times.popleft()
        if not times:
            self._keys.pop(key, None)
        return times


def retry_after(seconds: float) -> int:
    """A Retry-After value: whole seconds, at least 1 (RFC 9110 takes no fractions)."""
    return max(1, math.ceil(seconds))


def too_many(message: str, field: str, wait: float):
    """The 429 answer: the message, the field, and when to try again."""
    from web.answers import error

    answer = error(429, message, field)
    answer.headers["Retry-After"] = str(retry_after(wait))
    return answer


def _forget_oldest(keys: collections.OrderedDict) -> None:
    while len(keys) > MAX_KEYS:
        keys.popitem(last=False)
