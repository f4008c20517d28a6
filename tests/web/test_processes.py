"""Costly work runs in the server's worker processes (web/processes.py) and answers as it did in a thread:
the same errors (class, message, field, status), the same JSON, and events whose metrics were folded there."""

import pickle

import pytest

import engine
import store.errors
import web.answers
from service.budget import OverBudget
from web.worker import portable, rebuilt

HEAVY = {"name": "heavy", "seed": 3, "hidden": [64, 64], "points": 10000}


def _subclasses(root):
    for kind in root.__subclasses__():
        yield kind
        yield from _subclasses(kind)


def _examples():
    yield web.answers.Refused(429, "wait for them", "count")
    yield store.errors.OtherArithmetic("replays differently at seq 4", 4, "ab" * 32)
    yield OverBudget("count 100 is over a request's budget", field="count")
    for kind in sorted(set(_subclasses(engine.NnreplayError)), key=lambda kind: kind.__qualname__):
        if kind.__init__ is engine.NnreplayError.__init__:
            yield kind(f"a {kind.__name__}", field="at")


@pytest.mark.parametrize("exc", list(_examples()), ids=lambda exc: type(exc).__name__)
def test_every_nnreplay_error_crosses_a_process_unchanged(exc):
    """An error raised in a worker process reaches the handler as the same class with the same message, field
    and other attributes (Refused(status, message, field) and OtherArithmetic do not survive plain pickling)."""
    back = rebuilt(pickle.loads(pickle.dumps(portable(exc))))
    assert type(back) is type(exc) and str(back) == str(exc) and vars(back) == vars(exc)


def test_an_error_that_does_not_pickle_still_says_what_it_was():
    """An exception carrying something that cannot be pickled comes back as its class name and message."""
    exc = ValueError("bad")
    exc.handle = lambda: None
    back = rebuilt(pickle.loads(pickle.dumps(portable(exc))))
    assert str(back) == "ValueError: bad"


@pytest.fixture
def heavy(client):
    made = client.post("/api/sessions", json=HEAVY)
    assert made.status_code == 201, made.text
    assert client.post("/api/sessions/heavy/presses", json={"press": "next", "count": 3}).status_code == 200
    return client


def test_refusals_from_a_worker_process_are_the_threads_refusals(heavy):
    """`?at=` out of range, a button on a gradient session, an unknown key reuse: raised inside the worker
    process that computes the costly session, answered with the status, message and field a cheap session
    gets from a thread."""
    for ref, head in (("heavy", 4), ("grad", 6)):
        outside = heavy.get(f"/api/sessions/{ref}", params={"at": 99, "points": "false"})
        assert outside.status_code == 400, outside.text
        assert outside.json() == {"error": f"at 99 is outside this session's history (1..{head})", "field": "at"}
    button = [heavy.post(f"/api/sessions/{ref}/presses", json={"press": "good"}) for ref in ("heavy", "grad")]
    assert [answer.status_code for answer in button] == [409, 409]
    assert button[0].json() == button[1].json()
    assert heavy.post("/api/sessions/heavy/presses", json={"press": "next", "key": "k1"}).status_code == 200
    reused = heavy.post("/api/sessions/heavy/presses", json={"press": "next", "count": 2, "key": "k1"})
    assert reused.status_code == 400 and reused.json()["field"] == "key", reused.text
    again = heavy.post("/api/sessions/heavy/presses", json={"press": "next", "key": "k1"})
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true" and again.json()["seq"] == 5


def test_costly_events_carry_the_metrics_folded_in_a_worker_process(heavy):
    """/events of a costly session: the metrics come from a worker process, the events from the stream; each
    event's loss is the one its state shows, and /metrics (also folded there) agrees."""
    answered = heavy.get("/api/sessions/heavy/events", params={"after": 1, "limit": 3})
    assert answered.status_code == 200, answered.text
    events = answered.json()
    assert [event["seq"] for event in events] == [2, 3, 4]
    series = heavy.get("/api/sessions/heavy/metrics").json()
    for event in events:
        shown = heavy.get("/api/sessions/heavy", params={"at": event["seq"], "points": "false"}).json()
        assert event["type"] == "iterated" and event["hash"] == shown["head_hash"]
        assert event["loss"] == shown["loss"] == series["loss"][event["seq"] - 1]
        assert event["test_accuracy"] == series["test_accuracy"][event["seq"] - 1]
