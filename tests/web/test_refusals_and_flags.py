"""Issue 17, items 10, 11 and 13, against a real `nnreplay serve` process: a state that does not fold to
its record is flagged or refused, bad numbers are refused naming their field, repeated parameters and
wrong methods get clear answers, and a stopped read-only server leaves no -wal or -shm file."""

import os
import sqlite3

import pytest

from serving import Server
from store.schema import GUARD_TRIGGERS, TRIGGERS_SQL


def edit_digest(db_path: str, name: str, seq: int) -> None:
    """The state digest recorded at `seq` replaced (guards lifted and put back): the log no longer folds to
    its record there."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    for trigger in GUARD_TRIGGERS:
        conn.execute(f"DROP TRIGGER {trigger}")
    conn.execute("UPDATE events SET state_digest = ? WHERE seq = ? AND session_id = "
                 "(SELECT id FROM sessions WHERE name = ?)", ("0" * 64, seq, name))
    conn.executescript(TRIGGERS_SQL)
    conn.close()


def test_a_state_that_does_not_fold_to_its_record_is_flagged_and_not_plotted(recorded, client):
    """Item 10: `?at=N` (what the scrubber draws) answered 200 with no flag; now `ok: false` and the
    problem's seq, as the CLI's show says with exit 1. /metrics and /events (with metrics) refuse 409, as
    replay.gif does."""
    assert client.get("/api/sessions/th", params={"at": 3}).json()["ok"] is True
    edit_digest(recorded, "th", 3)
    answer = client.get("/api/sessions/th", params={"at": 3})
    assert answer.status_code == 200
    assert answer.json()["ok"] is False and answer.json()["problem"]["seq"] == 3
    assert client.get("/api/sessions/th", params={"at": 2}).json()["ok"] is True
    for path in ("/api/sessions/th/metrics", "/api/sessions/th/events"):
        refused = client.get(path)
        assert refused.status_code == 409 and "seq 3" in refused.json()["error"], (path, refused.text)
    assert client.get("/api/sessions/grad/metrics").status_code == 200


@pytest.mark.parametrize("body, field", [
    ({"learner": "gradient", "hidden": "²"}, "hidden"),
    ({"learner": "gradient", "hidden": "８"}, "hidden"),
    ({"learner": "gradient", "hidden": "8,٣"}, "hidden"),
])
def test_settings_in_other_scripts_digits_are_refused_naming_the_field(client, body, field):
    """Item 11: "²" was a 500 (int() raised a ValueError), "８" and "٣" were read as 8 and 3."""
    answer = client.post("/api/sessions", json=body)
    assert answer.status_code == 400 and answer.json()["field"] == field, answer.text
    assert len(client.get("/api/sessions").json()) == 2


def test_a_huge_number_is_refused_without_being_echoed(client):
    """Items 11 and 13: a 4,000-digit count is refused naming `count`, and the answer does not carry it."""
    huge = "9" * 4000
    answer = client.post("/api/sessions/grad/presses", content='{"press": "next", "count": ' + huge + "}",
                         headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json()["field"] == "count", answer.text[:300]
    assert huge[:100] not in answer.text and len(answer.text) < 400
    answer = client.get("/api/sessions/grad", params={"at": huge})
    assert answer.status_code == 400 and answer.json()["field"] == "at" and huge[:100] not in answer.text


def test_replay_gif_takes_the_documented_sizes_and_names_its_fields(client):
    """Item 13: size=160 (docs/api.md allows 160..1440) was refused with the CLI's `--size` wording and
    `field: null`."""
    answer = client.get("/api/sessions/grad/replay.gif", params={"size": 160, "max_frames": 3})
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/gif"
    for params, field in (({"size": 159}, "size"), ({"size": 1441}, "size"), ({"max_frames": 0}, "max_frames")):
        refused = client.get("/api/sessions/grad/replay.gif", params=params)
        assert refused.status_code == 400 and refused.json()["field"] == field, refused.text
        assert "--" not in refused.json()["error"]


def test_repeated_parameters_and_wrong_methods_get_clear_answers(client):
    """Item 13: `?at=1&at=2` used the last value; a 405 had no Allow header."""
    answer = client.get("/api/sessions/grad?at=1&at=2")
    assert answer.status_code == 400 and answer.json()["field"] == "at"
    assert client.get("/api/sessions/grad/events?limit=1&limit=1").status_code == 400
    refused = client.delete("/api/sessions/grad/presses")
    assert refused.status_code == 405 and "POST" in refused.headers["allow"]
    refused = client.put("/api/sessions")
    assert refused.status_code == 405 and {"GET", "POST"} & set(refused.headers["allow"].replace(" ", "").split(","))


def test_a_stopped_read_only_server_leaves_no_wal_or_shm(recorded):
    """Item 13: the workers' connections were never closed, so their -wal and -shm stayed behind."""
    folder = os.path.dirname(recorded)
    before = sorted(os.listdir(folder))
    running = Server(recorded, "--read-only")
    try:
        with running.client() as http:
            for path in ("/api/sessions", "/api/sessions/grad", "/api/sessions/th/events", "/api/sessions/th"):
                assert http.get(path).status_code == 200
            assert any(name.endswith("-wal") for name in os.listdir(folder))
    finally:
        running.stop()
    assert running.process.returncode == 0
    assert sorted(os.listdir(folder)) == before


def test_a_diverging_press_is_a_422_naming_lr_and_writes_nothing(client):
    """Item 12: the page's press on a diverging run was a 409 "other writers kept appending"."""
    made = client.post("/api/sessions", json={"name": "div", "seed": 7, "lr": 100, "activation": "linear",
                                              "hidden": [64, 64], "data": "spiral", "noise": 0.3})
    assert made.status_code == 201, made.text
    answer = client.post("/api/sessions/div/presses", json={"press": "next", "count": 20})
    assert answer.status_code == 422 and answer.json()["field"] == "lr", answer.text
    assert "the run diverged at press" in answer.json()["error"]
    assert client.get("/api/sessions/div").json()["seq"] == 1
