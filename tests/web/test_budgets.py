"""Every request has a cost bound (issue 17, items 7-8), against a real `nnreplay serve` process: a press
or a fold that would cost more than a request's budget is refused up front with 413 naming the field, a
thompson model whose events would be huge is refused when the session is made, and `?at=` on a costly
session folds from a snapshot a few presses away."""


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
    refused = heavy.post("/api/sessions/heavy/presses", json={"press": "next", "count": 100})
    assert refused.status_code == 413 and refused.json()["field"] == "count", refused.text
    assert "press at most 5 at a time" in refused.json()["error"]
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
    for at in (4, 7, 10):  # answered (from the closer snapshots); how fast is bench/bench_costly.py's to say
        assert heavy.get("/api/sessions/heavy", params={"at": at, "points": "false"}).json()["seq"] == at


def test_a_thompson_model_whose_events_would_be_huge_is_refused(client, nnreplay):
    """Thompson on 64,64 with count 1000 wrote 175 MB in one request (a draw per arm per press): a new
    thompson session takes at most 128 parameters (about 6 KB an event), refused naming `hidden`, by the
    server and the CLI; 2-8-8-1 (105 parameters) is fine."""
    refused = client.post("/api/sessions", json={"learner": "thompson", "hidden": [64, 64]})
    assert refused.status_code == 400 and refused.json()["field"] == "hidden", refused.text
    assert "at most 128 parameters" in refused.json()["error"]
    result = nnreplay("new", "--learner", "thompson", "--hidden", "64,64", ok=False)
    assert result.exit_code == 1 and "at most 128 parameters" in result.stderr
    assert client.post("/api/sessions", json={"learner": "thompson", "hidden": [8, 8]}).status_code == 201


@pytest.mark.parametrize("path", ["/api/sessions/grad?at=2", "/api/sessions/grad/metrics",
                                  "/api/sessions/grad/replay.gif", "/api/sessions/grad/export",
                                  "/api/sessions/grad/events"])
def test_a_page_elsewhere_cannot_ask_for_costly_work(client, path):
    """Item 7: GETs carried no Origin check, so any web page could queue folds and GIFs here. A session's
    GETs are checked like POSTs; the list and the server's description stay open to anyone."""
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "http://evil.example"}):
        refused = client.get(path, headers=headers)
        assert refused.status_code == 403 and refused.json()["field"] == "Origin", (path, headers)
    assert client.get(path, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
    assert client.get("/api/sessions", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200


def test_costly_requests_take_turns_per_client(server):
    """Item 7: one costly request at a time per client address; a client that queues more than 16 is
    refused (429) at once, and another client is answered meanwhile."""
    import concurrent.futures

    import httpx

    with server.client() as setup:
        assert setup.post("/api/sessions", json=HEAVY).status_code == 201
        for _ in range(2):
            assert setup.post("/api/sessions/heavy/presses", json={"press": "next", "count": 2}).status_code == 200

    def ask(_):
        try:
            with httpx.Client(base_url=server.url, timeout=3) as one:
                return one.get("/api/sessions/heavy/events", params={"limit": 5}).status_code
        except httpx.TimeoutException:
            return "left"

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        asked = [pool.submit(ask, n) for n in range(20)]
        other = httpx.Client(base_url=server.url, timeout=30,
                             transport=httpx.HTTPTransport(local_address="127.0.0.2"))
        assert other.get("/api/sessions/grad", params={"at": 3}).status_code == 200
        assert not all(future.done() for future in asked)  # answered while the flood still waits its turns
        other.close()
        flood = [future.result() for future in asked]
    assert 429 in flood, flood
