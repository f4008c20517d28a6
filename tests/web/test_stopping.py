"""Stop means stop, for the server too (issue 17, item 6): Ctrl-C or SIGTERM on a busy `serve` ends it
within 2 s, answers the requests in flight with a JSON 503, and commits nothing of them afterwards; a GET
or press whose client leaves is abandoned. A real server process (and its worker processes, which compute the
costly work: web/processes.py), real signals, a real database."""

import os
import signal
import threading
import time

import httpx
import pytest

from serving import Server, busy_until, children, cpu_seconds, press_and_leave, quiet, stat
from store import EventLog
import service


@pytest.fixture
def heavy(db_path):
    """A gradient session `big` on a 64,64 network over 3,000 points: a press costs about 0.1 s here, and a
    request may buy 18 of them (service.budget)."""
    with EventLog(db_path) as log:
        service.new_session(log, name="big", hidden=(64, 64), points=3000, seed=5)
        service.record(log, "big", "next", 2)
    return db_path


def events(db_path) -> int:
    with EventLog(db_path) as log:
        return log.head(log.resolve("big").id)[0]


@pytest.mark.parametrize("signum, group", [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)],
                         ids=["SIGINT", "SIGTERM", "Ctrl-C to the process group"])
def test_a_busy_server_stops_within_two_seconds_and_commits_nothing_after_its_503(heavy, signum, group):
    """A press of 18 heavy Next steps (about 2 s of work) is in flight: the signal ends the server within
    2 s (it took 19.6 s, printed a uvicorn traceback, answered a plain-text 500, and then committed the
    batch: 11 -> 111). A terminal's Ctrl-C reaches the worker processes too: they ignore it (one still
    importing printed a KeyboardInterrupt traceback), and the server stops them."""
    running = Server(heavy, group=group)
    answers = []

    def press():
        with httpx.Client(base_url=running.url, timeout=60) as client:
            answers.append(client.post("/api/sessions/big/presses", json={"press": "next", "count": 18}))

    presser = threading.Thread(target=press)
    presser.start()
    busy_until(running.process, 0.4)
    workers = children(running.process.pid)
    assert workers  # the presses are computed in a worker process
    sent = time.monotonic()
    if group:
        os.killpg(running.process.pid, signum)
    else:
        running.process.send_signal(signum)
    code = running.process.wait(timeout=30)
    took = time.monotonic() - sent
    presser.join(30)
    stderr = running.process.stderr.read()
    assert took < 2.0, took
    assert code == 0 and stderr == "stopped\n", (code, stderr)  # no traceback, no asyncio warning
    [answer] = answers
    assert answer.status_code == 503 and "nothing of it was recorded" in answer.json()["error"]
    assert events(heavy) == 3
    for pid in workers:  # none left behind: each ended with the server (a zombie would be reaped by init)
        deadline = time.monotonic() + 10
        while os.path.exists(f"/proc/{pid}") and stat(pid)[0] != "Z":
            assert time.monotonic() < deadline, f"worker process {pid} outlived the server"
            time.sleep(0.05)


def test_a_press_whose_client_leaves_is_not_recorded(heavy):
    """A press of 18 heavy Next steps whose client goes away while it is computed is abandoned, as a GET
    is: nothing of it is committed afterwards (only a stopping server cancelled presses before), and the
    server goes on pressing for others."""
    running = Server(heavy)
    try:
        press_and_leave(running, "big", 18)
        quiet(running.process.pid)
        assert events(heavy) == 3
        with httpx.Client(base_url=running.url, timeout=60) as client:
            assert client.post("/api/sessions/big/presses", json={"press": "next"}).status_code == 200
        assert events(heavy) == 4
    finally:
        running.stop()


def test_a_get_whose_client_leaves_is_abandoned(heavy):
    """`GET /metrics` of a costly session (folding all 17 states, about 3 s here, within a request's budget;
    snapshots deleted) keeps a worker busy; when its client goes away the fold stops (the server's CPU goes
    quiet within a second) instead of running to the end for nobody."""
    with EventLog(heavy) as log:
        service.record(log, "big", "next", 14)
        log.delete_snapshots()
    running = Server(heavy)
    try:
        with httpx.Client(base_url=running.url, timeout=0.3) as client:
            with pytest.raises(httpx.TimeoutException):  # the client leaves: its connection closes
                client.get("/api/sessions/big/metrics")
        left = time.monotonic()
        last = cpu_seconds(running.process.pid)
        while True:
            time.sleep(0.2)
            now = cpu_seconds(running.process.pid)
            if now - last < 0.04:
                break
            last = now
            assert time.monotonic() - left < 1.0, "the abandoned fold kept running"
        with httpx.Client(base_url=running.url, timeout=30) as client:  # and the server still answers
            assert client.get("/api/sessions").status_code == 200
    finally:
        running.stop()


def test_a_retried_press_with_an_idempotency_key_is_answered_with_the_first_result(recorded, client):
    """Item 6: a client that got no answer (a 503, a dropped connection) retries with the same key: the
    presses are recorded once, and the retry is answered with the first result, flagged; the key is kept in
    press_keys in the events' transaction. The body's "key" works as the header does; a key reused for
    another request is refused naming `key`."""
    first = client.post("/api/sessions/grad/presses", json={"press": "next", "count": 3},
                        headers={"Idempotency-Key": "retry-1"})
    assert first.status_code == 200 and first.json()["seq"] == 9 and "idempotent-replayed" not in first.headers
    again = client.post("/api/sessions/grad/presses", json={"press": "next", "count": 3, "key": "retry-1"})
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["seq"] == 9 and again.json()["digest"] == first.json()["digest"]
    assert client.get("/api/sessions/grad").json()["seq"] == 9
    other = client.post("/api/sessions/grad/presses", json={"press": "next", "count": 2},
                        headers={"Idempotency-Key": "retry-1"})
    assert other.status_code == 400 and other.json()["field"] == "key"
    assert client.post("/api/sessions/grad/presses", json={"press": "next", "key": "x" * 201}).status_code == 400
    assert client.get("/api/sessions/grad").json()["seq"] == 9
    audit = client.get("/api/sessions/grad/audit").json()
    assert audit["ok"], audit
