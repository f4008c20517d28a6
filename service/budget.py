"""What one request or press may cost, refused up front (docs/api.md, "Budgets").

The cost of a press, and of folding one event, grows with the model's parameters times the data set's
points: a full-batch gradient step (or a thompson evaluation) runs the forward and backward pass over every
point. One unit is one parameter x one point; on the 2-core development VM a press costs about 8 ns per
unit (a 64,64 network on 3,000 points: 13 million units, 0.107 s). A request may buy WORK_UNITS, about two
seconds of work: a press of `count` presses, or a fold of that many events (`?at=` folds at most a
snapshot's distance, and snapshots of a costly session are taken closer: store.recorder). The bytes a press
writes are bounded too: thompson records one draw per arm, two arms per parameter.

Work over COSTLY_UNITS (about 8 ms) is what a server computes in separate worker processes rather than in
its own threads (web/jobs.py): there it would hold the GIL that every other answer needs, and handing it
over costs about a millisecond, an eighth of the work.
"""

from engine import InvalidCommand, InvalidSetting

WORK_UNITS = 240_000_000  # parameters x points x presses (or folded events) per request
EVENT_BYTES = 64 * 1024  # an event, at most (thompson: 2 arms per parameter, ~22 bytes a draw)
REQUEST_BYTES = 8 * 1024 * 1024  # what one request may write
COSTLY_UNITS = 1_000_000  # parameters x points x presses (or folded events) worth a worker process


class OverBudget(InvalidCommand):
    """A request that would cost more than its budget; the front end answers 413 naming the field."""


def units(settings) -> int:
    """The cost of one press, or of folding one event, of a session with these settings."""
    return max(1, settings.model.size * settings.points)


def costly(settings, presses: int) -> bool:
    """Whether `presses` presses (or folded events) of a session with these settings are over COSTLY_UNITS."""
    return units(settings) * presses > COSTLY_UNITS


def event_bytes(settings) -> int:
    """About what one press's event takes: thompson writes every arm's draw."""
    return 300 + (2 * settings.model.size * 22 if settings.learner == "thompson" else 0)


def check_settings(settings) -> None:
    """A new session whose every event would exceed EVENT_BYTES is refused naming `hidden`."""
    size = event_bytes(settings)
    if size > EVENT_BYTES:
        raise InvalidSetting(f"hidden layers of that size make {settings.model.size:,} parameters, and a thompson "
                             f"press records a draw for each of their {2 * settings.model.size:,} arms (about "
                             f"{size // 1024:,} KiB an event); at most {EVENT_BYTES // 1024} KiB an event is "
                             f"allowed: use smaller layers, or the gradient learner", field="hidden")


def check_presses(settings, count: int) -> None:
    """`count` presses on one request: within WORK_UNITS and REQUEST_BYTES, else OverBudget naming count."""
    cost, written = units(settings) * count, event_bytes(settings) * count
    most = max(1, min(WORK_UNITS // units(settings), REQUEST_BYTES // event_bytes(settings)))
    if cost > WORK_UNITS or written > REQUEST_BYTES:
        raise OverBudget(f"count {count} is over a request's budget for this session: a press of its model costs "
                         f"{units(settings):,} units (parameters x points) and writes about "
                         f"{event_bytes(settings):,} bytes, and a request may cost {WORK_UNITS:,} units and "
                         f"write {REQUEST_BYTES // (1024 * 1024)} MiB; press at most {most:,} at a time",
                         field="count")


def check_fold(settings, events: int, field: str | None, what: str) -> None:
    """Folding `events` events (metrics, a GIF's history, an audit) within WORK_UNITS, else OverBudget."""
    if units(settings) * events > WORK_UNITS:
        raise OverBudget(f"{what} of this session folds {events:,} events of {units(settings):,} units each "
                         f"(parameters x points), over a request's budget of {WORK_UNITS:,}; on the command "
                         f"line there is no such budget (nnreplay plot, log --metrics, replay, audit)",
                         field=field)
