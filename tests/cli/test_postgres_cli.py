"""Every command on a PostgreSQL URL, through the CLI; the round trip between backends; serve on PostgreSQL.

These tests need the throwaway server (tests/pgserver.py): they skip with the reason where none can be
started, and fail instead with CI=true.
"""

import json
import os
import subprocess
import sys
import threading
import time

import httpx
import pytest

import cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "web"))
from serving import Server, press_and_leave, quiet  # noqa: E402


@pytest.fixture
def pg(runner, pg_url):
    """Run the CLI against a fresh PostgreSQL database: pg("next", ref) -> click Result."""

    def run(*args, ok=True, db=pg_url, env=None):
        result = runner.invoke(cli.app, ["--db", db, *map(str, args)], catch_exceptions=not ok, env=env)
        if ok:
            assert result.exit_code == 0, f"exit {result.exit_code}: {result.stderr}"
        return result

    run.url = pg_url
    run.json = lambda *args: json.loads(run(*args).stdout)
    return run


def test_every_command_works_on_a_postgresql_url(pg, tmp_path):
    """new, next, rate, show, log, sessions, fork, export, import and audit on one PostgreSQL database."""
    grad = pg("new", "--seed", "3", "--name", "grad").stdout.strip()
    th = pg("new", "--learner", "thompson", "--seed", "4", "--name", "th").stdout.strip()
    pg("next", "grad", "-n", "12")
    pg("rate", "th", "good")
    pg("next", "th", "-n", "3")
    shown = pg.json("show", "grad", "--json")
    assert shown["seq"] == 13 and 0 <= shown["accuracy"] <= 1
    assert pg.json("show", "grad", "--at", "1", "--json")["seq"] == 1
    events = pg.json("log", "th", "--json")
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5] and events[1]["type"] == "feedback_given"
    listed = {s["name"]: s for s in pg.json("sessions", "--json")}
    assert (listed["grad"]["events"], listed["th"]["events"], listed["grad"]["id"]) == (13, 5, grad)
    assert listed["grad"]["accuracy"] == shown["accuracy"]
    child = pg("fork", "grad", "--at", "5", "--name", "branch").stdout.strip()
    assert pg.json("show", child, "--json")["seq"] == 5
    exported = tmp_path / "th.jsonl"
    pg("export", "th", "-o", str(exported))
    pg("import", str(exported), "--name", "th-copy")
    assert pg.json("show", "th-copy", "--json")["seq"] == 5
    audit = pg.json("audit", "--json")
    assert audit["ok"] and len(audit["sessions"]) == 4 and audit["guards"]["ok"]
    assert {s["id"] for s in audit["sessions"]} >= {grad, th, child}


def test_simulate_and_the_drawing_commands_read_postgresql(pg, tmp_path):
    """simulate records there; replay, frame and plot draw from it (the renderers never see the backend)."""
    pg("simulate", "--learner", "thompson", "--rater", "person", "--sessions", "2", "--seed", "0",
       "--presses", "20", "--name", "sim")
    assert [s["events"] for s in pg.json("sessions", "--json")] == [21, 21]
    pg("replay", "sim-1", "sim-2", "-o", str(tmp_path / "both.gif"), "--max-frames", "5")
    pg("frame", "sim-1", "--at", "10", "-o", str(tmp_path / "one.png"))
    pg("plot", "--all", "-o", str(tmp_path / "curves.png"))
    for name in ("both.gif", "one.png", "curves.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_refused_requests_are_one_line_and_write_nothing(pg):
    pg("new", "--seed", "1", "--name", "only")
    for args, words in ((("rate", "only", "good"), "thompson"), (("next", "nobody"), "no session"),
                        (("show", "only", "--at", "99"), "99"), (("new", "--name", "only"), "taken")):
        result = pg(*args, ok=False)
        assert result.exit_code in (1, 2) and words in result.stderr, result.stderr
        assert result.stderr.startswith("Error: ") and len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr
    assert [s["events"] for s in pg.json("sessions", "--json")] == [1]


def test_nnreplay_db_may_hold_the_url(pg, runner):
    sid = runner.invoke(cli.app, ["new", "--seed", "2"], env={"NNREPLAY_DB": pg.url}).stdout.strip()
    assert pg.json("show", sid, "--json")["seq"] == 1


def test_a_password_is_never_printed(runner, tmp_path):
    """A server that cannot be reached: the message names the URL without its password."""
    url = f"postgresql://alice:s3cret-pw@/nodb?host={tmp_path}&connect_timeout=2"
    for command in (["sessions"], ["new"], ["audit"], ["serve", "--port", "0"]):
        result = runner.invoke(cli.app, ["--db", url, *command])
        assert result.exit_code == 1 and "s3cret-pw" not in result.stderr + result.stdout
        assert result.stderr.startswith("Error: ") and "alice@" in result.stderr, result.stderr


def test_a_file_database_does_not_load_the_postgresql_driver(db_path):
    code = ("import sys, cli\nsys.argv = ['nnreplay', '--db', sys.argv[1], 'new', '--seed', '1']\n"
            "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'psycopg'), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code, db_path], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": ROOT})
    assert done.returncode == 0 and done.stderr.strip().splitlines()[-1] == "[]", done.stderr


def test_export_from_sqlite_import_into_postgresql_and_back_keeps_the_head_hash(nnreplay, pg, tmp_path):
    """The round trip through the CLI: same head hash on both backends, and audit --expect-head agrees."""
    sid = nnreplay("new", "--learner", "thompson", "--seed", "21", "--name", "travels").stdout.strip()
    nnreplay("next", "travels", "-n", "150")
    nnreplay("rate", "travels", "great")
    head = nnreplay.json("sessions", "--json")[0]["head_hash"]
    there = tmp_path / "there.jsonl"
    nnreplay("export", "travels", "-o", str(there))
    pg("import", str(there))
    assert pg.json("sessions", "--json")[0]["head_hash"] == head
    assert pg.json("audit", sid, "--expect-head", head, "--json")["ok"]
    assert pg("audit", sid, "--expect-head", "0" * 64, ok=False).exit_code == 1
    back = tmp_path / "back.jsonl"
    pg("export", sid, "-o", str(back))
    assert back.read_text() == there.read_text()
    other = str(tmp_path / "other.db")
    pg("import", str(back), db=other)
    reports = [json.loads(pg("audit", sid, "--expect-head", head, "--json", db=db).stdout)["sessions"]
               for db in (pg.url, other, nnreplay.db)]
    assert reports[0] == reports[1] == reports[2] and reports[0][0]["ok"] and reports[0][0]["head_hash"] == head


def test_two_servers_on_one_postgresql_database_see_each_others_presses_live(pg):
    """A press through one server's API reaches the other server's live stream; the log audits clean."""
    sid = pg("new", "--seed", "5", "--name", "shared").stdout.strip()
    one, two = Server(pg.url), Server(pg.url)
    seen, stop = [], threading.Event()

    def listen():
        with httpx.Client(base_url=two.url, timeout=None) as http, http.stream("GET", "/api/live") as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    seen.append(json.loads(line[5:]))
                if stop.is_set():
                    return

    try:
        threading.Thread(target=listen, daemon=True).start()
        deadline = time.monotonic() + 10
        while not seen and time.monotonic() < deadline:
            time.sleep(0.05)
        with one.client() as http:
            answer = http.post("/api/sessions/shared/presses", json={"press": "next", "count": 3})
        assert answer.status_code == 200, answer.text
        while not any(m.get("changed", {}).get(sid) == 4 for m in seen) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(m.get("changed", {}).get(sid) == 4 for m in seen), seen
        with two.client() as http:
            assert http.get("/api/sessions/shared").json()["seq"] == 4
    finally:
        stop.set()
        one.stop()
        two.stop()
    assert pg.json("audit", "--json")["ok"]


def nnreplay_process(url: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import cli; cli.main()", "--db", url, *args], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": ROOT}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_eight_terminals_pressing_one_session_lose_and_duplicate_nothing(pg):
    """8 `nnreplay next` processes x 10 presses on one PostgreSQL session: seq 1..81, audit clean."""
    pg("new", "--learner", "thompson", "--seed", "8", "--name", "crowd")
    procs = [nnreplay_process(pg.url, "next", "crowd", "-n", "10") for _ in range(8)]
    assert [(p.wait(timeout=120), p.communicate()[1]) for p in procs] == [(0, "")] * 8
    assert [e["seq"] for e in pg.json("log", "crowd", "--json")] == list(range(1, 82))
    assert pg.json("audit", "--json")["ok"]


def test_a_sigkilled_press_run_leaves_committed_batches_that_audit_clean_and_continue(pg):
    pg("new", "--seed", "6", "--name", "long")
    process = nnreplay_process(pg.url, "next", "long", "-n", "1000000")
    deadline = time.monotonic() + 60
    while pg.json("sessions", "--json")[0]["events"] < 1002 and time.monotonic() < deadline:
        time.sleep(0.1)
    process.kill()
    process.wait()
    events = pg.json("sessions", "--json")[0]["events"]
    assert events > 1 and (events - 1) % 500 == 0  # whole batches only
    assert pg.json("audit", "--json")["ok"]
    pg("next", "long")
    assert pg.json("sessions", "--json")[0]["events"] == events + 1


def superuser(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


@pytest.mark.parametrize("sql, verdict", [
    ("ALTER TABLE nnreplay.events DISABLE TRIGGER events_refuse_update; UPDATE nnreplay.events SET recorded_at = "
     "'2020-01-01T00:00:00.000000+00:00' WHERE seq = 3; ALTER TABLE nnreplay.events ENABLE ALWAYS TRIGGER "
     "events_refuse_update", "tampered"),
    ("ALTER TABLE nnreplay.events DISABLE TRIGGER events_refuse_delete", "unguarded"),
    ("UPDATE nnreplay.heads SET accuracy = 0.5", "stale snapshot"),
])
def test_audit_through_the_cli_finds_tampering_on_postgresql(pg, sql, verdict):
    """Changes made behind the guards by a superuser: audit exits 1 with the verdict that names them."""
    pg("new", "--seed", "4", "--name", "victim")
    pg("next", "victim", "-n", "5")
    superuser(pg.url, sql)
    result = pg("audit", "--json", ok=False)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["sessions"][0]["verdict"] == verdict


def test_serve_survives_its_connections_being_cut(pg):
    """Every backend of the database terminated under a running server: a press on a cut connection is
    refused with a clear answer, the connection is replaced, presses then succeed, and the log audits clean."""
    pg("new", "--seed", "9", "--name", "cut")
    server = Server(pg.url)
    try:
        superuser(pg.url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        answers = []
        with server.client() as http:
            for _ in range(12):
                answers.append(http.post("/api/sessions/cut/presses", json={"press": "next"}))
        failed = [a for a in answers if a.status_code != 200]
        assert answers[-1].status_code == 200 and len(failed) <= 9
        assert all(a.status_code == 503 and "lost the connection" in a.json()["error"] for a in failed), \
            [a.text for a in failed]
        with server.client() as http:
            assert http.get("/api/sessions/cut").json()["seq"] == 1 + len(answers) - len(failed)
    finally:
        server.stop()
    assert pg.json("audit", "--json")["ok"]


def test_costly_presses_on_postgresql_are_recorded_by_a_worker_process_and_a_left_one_is_not(pg):
    """A press of a 64,64 network on 3,000 points is computed and appended by one of the server's worker
    processes (web/processes.py), through its own connection and the session's advisory lock; one whose client
    leaves is abandoned, its process killed before COMMIT, and the database rolls it back: nothing of it is
    recorded, the lock is free for the next press, and the log audits clean."""
    pg("new", "--hidden", "64,64", "--points", "3000", "--seed", "5", "--name", "big")
    server = Server(pg.url)
    try:
        with server.client() as http:
            answer = http.post("/api/sessions/big/presses", json={"press": "next", "count": 2})
        assert answer.status_code == 200 and answer.json()["seq"] == 3, answer.text
        press_and_leave(server, "big", 18)
        quiet(server.process.pid)
        with server.client() as http:
            assert http.get("/api/sessions/big", params={"points": "false"}).json()["seq"] == 3
            assert http.post("/api/sessions/big/presses", json={"press": "next"}).json()["seq"] == 4
    finally:
        server.stop()
    assert pg.json("audit", "--json")["ok"]
