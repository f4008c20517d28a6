"""Every request has a cost bound (issue 17, items 7-8), against a real `nnreplay serve` process: a press
or a fold that would cost more than a request's budget is refused up front with 413 naming the field, a
thompson model whose events would be huge is refused when the session is made, and `?at=` on a costly
session folds from a snapshot a few presses away."""

import time

import pytest

HEAVY = {"name": "heavy", "seed": 3, "hidden": [64, 64], "points": 10000}


@pytest.fixture
def heavy(client):
    made = client.post("/api/sessions", json=HEAVY)
    assert made.status_code == 201, made.text
    return client


def test_a_press_over_the_budget_is_refused_up_front_naming_count(heavy):
    """{"hidden":[64,64],"points":10000} then count 100 cost ~1.5 s a press inside the write lock: minutes.
    Now a request may cost about 2 s of work; the refusal says how many presses fit, and writes nothing."""
    started = time.monotonic()
    refused = heavy.post("/api/sessions/heavy/presses", json={"press": "next", "count": 100})
    assert refused.status_code == 413 and refused.json()["field"] == "count", refused.text
    assert "press at most 5 at a time" in refused.json()["error"]
    assert time.monotonic() - started < 5
    assert heavy.get("/api/sessions/heavy", params={"points": "false"}).json()["seq"] == 1
    assert heavy.post("/api/sessions/heavy/presses", json={"press": "next", "count": 5}).status_code == 200


def test_a_fold_over_the_budget_is_refused_and_at_stays_cheap(heavy):
    """/metrics, replay.gif and audit fold every event: over the budget they answer 413; `?at=` folds from
    the nearest snapshot, which a costly session takes every 2 presses, so it stays short."""
    for _ in range(2):
        assert heavy.post("/api/sessions/heavy/presses", json={"press": "next", "count": 5}).status_code == 200
    for path in ("metrics", "replay.gif", "audit"):
        refused = heavy.get(f"/api/sessions/heavy/{path}")
        assert refused.status_code == 413 and "over a request's budget" in refused.json()["error"], refused.text
    refused = heavy.get("/api/sessions/heavy/events", params={"limit": 1000})
    assert refused.status_code == 413 and refused.json()["field"] == "limit"
    assert heavy.get("/api/sessions/heavy/events", params={"limit": 2}).status_code == 200
    started = time.monotonic()
    for at in (4, 7, 10):
        assert heavy.get("/api/sessions/heavy", params={"at": at, "points": "false"}).json()["seq"] == at
    assert time.monotonic() - started < 6


def test_a_thompson_model_whose_events_would_be_huge_is_refused(client, nnreplay):
    """Thompson on 64,64 with count 1000 wrote 175 MB in one request (a draw per arm per press): a thompson
    session whose every event would pass 64 KiB is refused naming `hidden`, by the server and the CLI."""
    refused = client.post("/api/sessions", json={"learner": "thompson", "hidden": [64, 64]})
    assert refused.status_code == 400 and refused.json()["field"] == "hidden", refused.text
    assert "KiB an event" in refused.json()["error"]
    result = nnreplay("new", "--learner", "thompson", "--hidden", "64,64", ok=False)
    assert result.exit_code == 1 and "KiB an event" in result.stderr
    assert client.post("/api/sessions", json={"learner": "thompson", "hidden": [16, 16]}).status_code == 201
