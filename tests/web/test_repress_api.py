"""Issue 15 over HTTP: POST /api/sessions/{ref}/repress, the origin in the state, and a session recorded on
other arithmetic answered as such (409 with its verdict), against a real `nnreplay serve`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cli"))

from serving import Server  # noqa: E402
from test_other_arithmetic import as_if_recorded_elsewhere, record  # noqa: E402


def test_repress_over_http_names_its_origin_and_changes(client):
    """The body of POST /api/sessions (every field optional) gives the new settings; 201 with the origin."""
    answer = client.post("/api/sessions/th/repress", json={"name": "th-again", "discount": 0.5, "step": None})
    assert answer.status_code == 201, answer.text
    made = answer.json()
    assert made["name"] == "th-again" and made["origin"]["name"] == "th"
    state = client.get(f"/api/sessions/{made['id']}").json()
    assert state["origin"]["changed"] == ["discount"] and state["settings"]["discount"] == 0.5
    assert state["seq"] == client.get("/api/sessions/th").json()["seq"] and state["replay"] == "as recorded"


def test_a_refused_repress_names_its_field(client):
    """Buttons cannot go to a gradient learner; a bad value names its field; nothing is made."""
    before = len(client.get("/api/sessions").json())
    client.post("/api/sessions/th/presses", json={"press": "good"})
    answer = client.post("/api/sessions/th/repress", json={"learner": "gradient"})
    assert answer.status_code == 400 and answer.json()["field"] == "learner"
    answer = client.post("/api/sessions/grad/repress", json={"lr": -1})
    assert answer.status_code == 400 and answer.json()["field"] == "lr"
    assert len(client.get("/api/sessions").json()) == before


def test_other_arithmetic_is_said_over_http(db_path):
    """A release-0.1/0.2 record this machine replays differently: the state says so, a press is refused (409)
    with the verdict and the seq, the listing says it, and repress carries it on."""
    info = record(db_path, "machine")
    as_if_recorded_elsewhere(db_path, info.id, 5)
    server = Server(db_path)
    try:
        with server.client() as client:
            state = client.get("/api/sessions/old").json()
            assert state["replay"] == "other arithmetic" and state["problem"]["seq"] == 5
            refused = client.post("/api/sessions/old/presses", json={"press": "next"})
            assert refused.status_code == 409 and refused.json()["verdict"] == "other arithmetic"
            assert "repress" in refused.json()["error"]
            [listed] = client.get("/api/sessions").json()
            assert listed["problem"]["verdict"] == "other arithmetic"
            made = client.post("/api/sessions/old/repress", json={"name": "carried-on"})
            assert made.status_code == 201
            assert client.get("/api/sessions/carried-on").json()["replay"] == "as recorded"
    finally:
        server.stop()
