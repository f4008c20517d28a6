"""The HTTP API against a real `nnreplay serve` process: answers match the CLI's JSON, refusals name their
field and write nothing, and the guard keeps other sites and other host names out."""

import json

import pytest

import service
from store import EventLog


def cli_json(nnreplay, *args):
    return nnreplay.json(*args, "--json")


def holds(bigger, smaller) -> bool:
    """Every key of `smaller` is in `bigger` with an equal value (the API may add keys, never change them)."""
    if isinstance(smaller, dict):
        return isinstance(bigger, dict) and all(k in bigger and holds(bigger[k], v) for k, v in smaller.items())
    if isinstance(smaller, list):
        return isinstance(bigger, list) and len(bigger) == len(smaller) and all(map(holds, bigger, smaller))
    return bigger == smaller


def heads(db_path) -> dict:
    with EventLog(db_path) as log:
        return service.heads(log)


def test_sessions_are_the_objects_of_sessions_json(client, nnreplay):
    """GET /api/sessions answers exactly what `nnreplay sessions --json` prints."""
    answer = client.get("/api/sessions")
    assert answer.status_code == 200 and answer.json() == cli_json(nnreplay, "sessions")


@pytest.mark.parametrize("at", [None, 3])
def test_a_session_holds_the_show_object_and_its_picture(client, nnreplay, at):
    """GET /api/sessions/{ref}[?at=] holds every key of `show --json` with the same values, plus a grid."""
    answer = client.get("/api/sessions/th", params={} if at is None else {"at": at}).json()
    shown = cli_json(nnreplay, "show", "th", *([] if at is None else ["--at", at]))
    assert holds(answer, shown)
    assert answer["head"] == 4 and len(answer["grid"]) == 32 and len(answer["predicted"]) == len(shown["points"])
    assert answer["event"]["type"] == "iterated" and len(answer["posteriors"]) == 6
    assert all(arm["low"] <= arm["mean"] <= arm["high"] for arm in answer["posteriors"])


def test_a_web_press_is_recorded_with_source_web_and_answers_the_new_state(client, nnreplay):
    """POST presses appends COUNT events with source "web" and answers the state at the new head."""
    answer = client.post("/api/sessions/th/presses", json={"press": "good", "count": 2})
    assert answer.status_code == 200 and answer.json()["seq"] == 6 and answer.json()["head"] == 6
    answer = client.post("/api/sessions/grad/presses", json={"press": "next"})
    assert answer.json()["seq"] == 7
    events = cli_json(nnreplay, "log", "th")
    assert [(e["type"], e["payload"]["source"]) for e in events[-2:]] == [("feedback_given", "web")] * 2


def test_a_new_session_takes_every_setting_and_answers_201(client, nnreplay):
    """POST /api/sessions with settings answers 201 with the id; the session has those settings."""
    answer = client.post("/api/sessions", json={"learner": "thompson", "seed": 9, "points": 12, "noise": 0.1,
                                                "step": 0.3, "discount": 0.8, "name": "made-here"})
    assert answer.status_code == 201 and answer.headers["location"] == f"/api/sessions/{answer.json()['id']}"
    shown = cli_json(nnreplay, "show", "made-here")
    assert shown["session_id"] == answer.json()["id"]
    assert {k: shown["settings"][k] for k in ("seed", "points", "noise", "step", "discount")} == \
        {"seed": 9, "points": 12, "noise": 0.1, "step": 0.3, "discount": 0.8}
    assert client.post("/api/sessions", json={}).json()["learner"] == "gradient"  # defaults, a drawn seed


@pytest.mark.parametrize("path, body, status, field", [
    ("/api/sessions", {"points": 0}, 400, "points"),
    ("/api/sessions", {"points": "many"}, 400, "points"),
    ("/api/sessions", {"points": 4.5}, 400, "points"),
    ("/api/sessions", {"noise": True}, 400, "noise"),
    ("/api/sessions", {"learner": "sgd"}, 400, "learner"),
    ("/api/sessions", {"colour": "red"}, 400, "colour"),
    ("/api/sessions", {"name": "grad"}, 409, "name"),
    ("/api/sessions", {"name": ""}, 400, "name"),
    ("/api/sessions", [1, 2], 400, "body"),
    ("/api/sessions/th/presses", {"press": "superb"}, 400, "press"),
    ("/api/sessions/th/presses", {}, 400, "press"),
    ("/api/sessions/th/presses", {"press": "next", "count": 0}, 400, "count"),
    ("/api/sessions/th/presses", {"press": "next", "count": 5000}, 400, "count"),
    ("/api/sessions/th/presses", {"press": "next", "count": "3"}, 400, "count"),
    ("/api/sessions/th/presses", {"press": "next", "when": "now"}, 400, "when"),
    ("/api/sessions/grad/presses", {"press": "good"}, 409, None),
    ("/api/sessions/nobody/presses", {"press": "next"}, 404, "ref"),
    ("/api/sessions/th/fork", {"at": 99}, 400, "at"),
    ("/api/sessions/th/fork", {"at": "2"}, 400, "at"),
    ("/api/sessions/th/fork", {"name": "x"}, 400, "at"),
])
def test_a_refused_body_is_one_json_line_naming_the_field_and_writes_nothing(shared, path, body, status, field):
    """Type, range, unknown keys, unknown sessions, conflicts: the status, the field, and no new event."""
    server, recorded = shared
    before = heads(recorded)
    with server.client() as client:
        answer = client.post(path, json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["field"] == field and answer.json()["error"]
    assert "\n" not in answer.text and "Traceback" not in answer.text
    assert heads(recorded) == before


def test_bodies_that_are_not_json_or_too_big_are_refused(client, recorded):
    """415 without a JSON content type, 400 for broken JSON, NaN, a repeated key or brackets nested 8,000
    deep (not a 500), 413 above 16 KiB; nothing written."""
    before = heads(recorded)
    url = "/api/sessions/th/presses"
    assert client.post(url, content=b"press=next").status_code == 415
    for text in (b"{", b'{"press": NaN}', b"\xff\xfe"):
        answer = client.post(url, content=text, headers={"content-type": "application/json"})
        assert answer.status_code == 400 and answer.json()["field"] == "body"
    deep = b'{"press": "next", "x": ' + b"[" * 8_000 + b"]" * 8_000 + b"}"  # within 16 KiB
    repeated = b'{"press": "next", "count": 1, "count": 900}'
    for text, says in ((deep, "nests too deeply"), (repeated, "'count' appears more than once")):
        answer = client.post(url, content=text, headers={"content-type": "application/json"})
        assert answer.status_code == 400 and answer.json()["field"] == "body" and says in answer.json()["error"]
    huge = json.dumps({"press": "next", "pad": "x" * 20_000})
    answer = client.post(url, content=huge, headers={"content-type": "application/json"})
    assert answer.status_code == 413 and answer.json()["field"] == "body"
    assert heads(recorded) == before


@pytest.mark.parametrize("path, status, field", [
    ("/api/sessions/nobody", 404, "ref"), pytest.param("/api/sessions/" + "a" * 20_000, 404, "ref", id="ref-of-20000-characters"), ("/api/sessions/th?at=0", 400, "at"), ("/api/sessions/th?at=x", 400, "at"),
    ("/api/sessions/th?at=99", 400, "at"), ("/api/sessions/th?grid=1000", 400, "grid"),
    ("/api/sessions/th?at=%E0%A5%A9", 400, "at"), ("/api/sessions/th?at=1_0", 400, "at"),
    ("/api/sessions/th?at=+3", 400, "at"), ("/api/sessions/th?points=maybe", 400, "points"),
    ("/api/sessions/th/events?limit=0", 400, "limit"), ("/api/sessions/th/events?after=-1", 400, "after"),
    ("/api/nothing", 404, "path"),
    ("/static/../cli.py", 404, "path"), ("/static/%2e%2e%2fcli.py", 404, "path"), ("/static/secret.txt", 404, "path"),
])
def test_bad_reads_are_json_errors(shared, path, status, field):
    """Unknown sessions 404, bad query values 400 naming them, nothing outside the page's files served."""
    with shared[0].client() as client:
        answer = client.get(path)
    assert answer.status_code == status and answer.json()["field"] == field
    assert len(answer.text) < 500  # a long path is not echoed back whole


def test_events_are_log_json_with_metrics_paged_by_after_and_limit(client, nnreplay):
    """GET events?after&limit is the matching window of `log --json --metrics`."""
    everything = nnreplay.json("log", "th", "--json", "--metrics")
    assert client.get("/api/sessions/th/events").json() == everything
    assert client.get("/api/sessions/th/events", params={"after": 1, "limit": 2}).json() == everything[1:3]


def test_export_audit_and_fork(client, nnreplay, tmp_path):
    """The export is the CLI's, byte for byte; the audit holds; a fork answers 201 and shares the prefix."""
    nnreplay("export", "th", "-o", tmp_path / "th.jsonl")
    answer = client.get("/api/sessions/th/export")
    assert answer.status_code == 200 and answer.content == (tmp_path / "th.jsonl").read_bytes()
    assert 'filename="th.jsonl"' in answer.headers["content-disposition"]
    report = client.get("/api/sessions/th/audit").json()
    assert report["ok"] and report["sessions"][0]["events"] == 4
    fork = client.post("/api/sessions/th/fork", json={"at": 2, "name": "branch"})
    assert fork.status_code == 201 and fork.json()["parent_seq"] == 2
    assert cli_json(nnreplay, "show", "branch")["digest"] == cli_json(nnreplay, "show", "th", "--at", "2")["digest"]


def test_the_gif_download_is_a_gif(client):
    """GET replay.gif answers an animated GIF drawn by replay/."""
    answer = client.get("/api/sessions/grad/replay.gif", params={"max_frames": 4, "size": 200})
    assert answer.status_code == 200 and answer.content[:6] == b"GIF89a"


def test_other_host_names_and_other_sites_are_refused(server, client, recorded):
    """A foreign Host (DNS rebinding) gets 403 on every path; a foreign Origin cannot press; our own can."""
    before = heads(recorded)
    assert client.get("/", headers={"host": "evil.example:80"}).status_code == 403
    answer = client.post("/api/sessions/th/presses", json={"press": "next"}, headers={"origin": "http://evil.example"})
    assert answer.status_code == 403 and answer.json()["field"] == "Origin"
    answer = client.post("/api/sessions/th/presses", json={"press": "next"},
                         headers={"origin": server.url, "sec-fetch-site": "cross-site"})
    assert answer.status_code == 403
    assert heads(recorded) == before
    answer = client.post("/api/sessions/th/presses", json={"press": "next"},
                         headers={"origin": server.url, "sec-fetch-site": "same-origin"})
    assert answer.status_code == 200
    assert client.get("/", headers={"host": f"localhost:{server.url.rsplit(':', 1)[1]}"}).status_code == 200


def test_every_answer_carries_a_policy_allowing_only_own_scripts(client):
    """The page, its scripts and the API all carry a CSP whose script-src is 'self' alone."""
    for path in ("/", "/sessions/th", "/compare?s=th&s=grad", "/static/app.js", "/api/sessions"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "default-src 'none'" in policy
    page = client.get("/").text
    assert "http://" not in page and "https://" not in page  # no remote resource


def test_read_only_refuses_every_press_and_still_reads(read_only_server, recorded):
    """--read-only: presses, new sessions and forks are 403; reading works; nothing is written."""
    before = heads(recorded)
    with read_only_server.client() as http:
        for path, body in (("/api/sessions/th/presses", {"press": "next"}), ("/api/sessions", {}),
                           ("/api/sessions/th/fork", {"at": 2})):
            assert http.post(path, json=body).status_code == 403
        assert http.get("/api/sessions/th").status_code == 200
        assert http.get("/api/server").json()["read_only"] is True
    assert heads(recorded) == before


def test_the_server_names_the_choices_a_setting_takes(client):
    """/api/server lists the learners, data sets, activations and features the engine accepts, so that a
    form offers them instead of a blank field; each default is one of its choices."""
    info = client.get("/api/server").json()
    assert {"xor", "spiral"} <= set(info["choices"]["data"]) and "relu" in info["choices"]["activation"]
    assert set(info["choices"]["learner"]) == {"gradient", "thompson"} and "x2" in info["choices"]["features"]
    assert all(info["settings"][key] in values for key, values in info["choices"].items() if key != "features")


def test_a_state_carries_its_seed_as_text_and_a_frame_leaves_the_points_out(client, nnreplay):
    """`seed_text` is the seed digit for digit (a 63-bit seed does not survive a JavaScript number);
    `?points=false` drops the held-out points too, which never change within a session."""
    nnreplay("new", "--seed", 2**62 + 1, "--test-share", "0.25", "--name", "held")
    full = client.get("/api/sessions/held").json()
    assert full["seed_text"] == str(2**62 + 1) and len(full["test_points"]) == 10
    frame = client.get("/api/sessions/held", params={"points": "false"}).json()
    assert not {"points", "test_points", "separator", "settings"} & set(frame) and frame["test_accuracy"] is not None


def test_answers_name_the_database_by_its_file_name_only(client, recorded):
    """An unknown session's 404 and the audit report say `log.db`, not the folders of the server's disk
    (which /api/server does not tell either)."""
    folder = recorded.rsplit("/", 1)[0]
    missing = client.get("/api/sessions/nobody").json()
    assert "log.db" in missing["error"] and folder not in missing["error"]
    assert client.get("/api/sessions/th/audit").json()["database"] == "log.db"


def test_a_download_keeps_a_unicode_name(client, nnreplay):
    """The export of a session named in another script downloads under that name (RFC 6266 filename*),
    with an ASCII fallback for old clients."""
    from urllib.parse import quote

    nnreplay("new", "--seed", "1", "--name", "ünïcødé ☃/x")
    by_name = client.get("/api/sessions/" + quote("ünïcødé ☃/x", safe=""))
    assert by_name.status_code == 404  # a name with "/" cannot be a path segment: it is reached by id (docs/api.md)
    sid = nnreplay.json("show", "ünïcødé ☃/x", "--json")["session_id"]
    header = client.get(f"/api/sessions/{sid}/export").headers["content-disposition"]
    assert 'filename="n-c-d-x.jsonl"' in header and "filename*=UTF-8''" + quote("ünïcødé ☃-x.jsonl", safe="") in header


def test_gifs_asked_for_at_once_take_turns_and_presses_go_on(server, recorded):
    """Several GIF downloads at once (drawn one at a time by the server) all arrive whole, and presses made
    meanwhile are answered and recorded."""
    from concurrent.futures import ThreadPoolExecutor

    def gif(_):
        with server.client() as http:
            return http.get("/api/sessions/grad/replay.gif", params={"max_frames": 4, "size": 200})

    before = heads(recorded)
    with ThreadPoolExecutor(5) as pool:
        gifs = [pool.submit(gif, k) for k in range(4)]
        with server.client() as http:
            presses = [http.post("/api/sessions/th/presses", json={"press": "next"}) for _ in range(3)]
        answers = [future.result() for future in gifs]
    assert [(a.status_code, a.content[:6]) for a in answers] == [(200, b"GIF89a")] * 4
    assert len({a.content for a in answers}) == 1
    assert [p.status_code for p in presses] == [200] * 3
    after = heads(recorded)
    assert sorted(after[k] - before[k] for k in before) == [0, 3]  # th pressed three times, grad untouched


def test_the_page_asks_for_the_network_and_leaves_out_the_rule_on_a_get_and_a_press(client, recorded):
    """?units=N adds the network, ?truth=false drops the data set's rule, on a GET and on a press alike; a
    bad units is refused (400 naming it) before the press is written; a fork without a name is th-fork-2."""
    shown = client.get("/api/sessions/th", params={"units": 4, "truth": "false", "points": "false"}).json()
    assert "truth" not in shown and len(shown["network"]["inputs"]) == 2 and shown["step"] == shown["seq"] - 1
    pressed = client.post("/api/sessions/th/presses", params={"units": 4, "truth": "false", "grid": 8},
                          json={"press": "next"}).json()
    assert pressed["seq"] == 5 and "truth" not in pressed and len(pressed["grid"]) == 8 and "network" in pressed
    before = heads(recorded)
    refused = client.post("/api/sessions/th/presses", params={"units": 99}, json={"press": "next"})
    assert refused.status_code == 400 and refused.json()["field"] == "units" and heads(recorded) == before
    fork = client.post("/api/sessions/th/fork", json={"at": 2})
    assert fork.status_code == 201 and fork.json()["name"] == "th-fork-2"
    assert client.get("/api/sessions/th-fork-2").json()["parent_seq"] == 2
