"""The recording and reading commands, through the CLI: new, next, rate, show, log, sessions."""

import csv
import io
import json
import os
import sqlite3

import pytest


def rows(db_path):
    if not os.path.exists(db_path):
        return None
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def thompson(nnreplay):
    return nnreplay("new", "--learner", "thompson", "--seed", "3", "--name", "tom").stdout.strip()


def test_new_prints_the_id_alone(nnreplay):
    """`new` prints the session id and nothing else on stdout, so scripts can capture it."""
    out = nnreplay("new", "--seed", "1").stdout
    assert out.endswith("\n") and len(out.strip()) == 32 and int(out.strip(), 16) >= 0


def test_new_without_seed_records_a_seed_from_the_os(nnreplay):
    """Two sessions without --seed get different recorded seeds."""
    seeds = set()
    for _ in range(2):
        sid = nnreplay("new").stdout.strip()
        seeds.add(nnreplay.json("show", sid, "--json")["settings"]["seed"])
    assert len(seeds) == 2


def test_show_json_has_the_contract_keys(nnreplay, thompson):
    """show --json gives the documented keys, posteriors for thompson, and points with labels."""
    nnreplay("next", thompson, "-n", "3")
    state = nnreplay.json("show", thompson, "--json")
    for key in ("session_id", "seq", "learner", "weights", "bias", "loss", "accuracy", "score", "head_hash",
                "digest", "points", "posteriors"):
        assert key in state
    assert state["seq"] == 4 and state["learner"] == "thompson" and len(state["weights"]) == 2
    assert len(state["points"]) == 40 and all(p[2] in (0, 1) for p in state["points"])
    assert [p["action"] for p in state["posteriors"]] == ["w1+", "w1-", "w2+", "w2-", "b+", "b-"]
    log = nnreplay.json("log", thompson, "--json")
    assert state["head_hash"] == log[-1]["hash"]


def test_show_at_an_earlier_seq(nnreplay, thompson):
    """show --at SEQ gives the state after that event, the same as it was when it was the head."""
    nnreplay("next", thompson, "-n", "2")
    then = nnreplay.json("show", thompson, "--json")
    nnreplay("next", thompson, "-n", "5")
    assert nnreplay.json("show", thompson, "--at", "3", "--json") == then


def test_show_at_a_seq_outside_the_history_is_refused(nnreplay, thompson):
    """--at beyond the head is a refused request."""
    result = nnreplay("show", thompson, "--at", "9", ok=False)
    assert result.exit_code == 1 and "outside" in result.stderr


def test_log_json_has_the_contract_keys(nnreplay, thompson):
    """log --json lists events with seq, type, payload, recorded_at and hash; thompson presses record draws."""
    nnreplay("next", thompson)
    nnreplay("rate", thompson, "great")
    events = nnreplay.json("log", thompson, "--json")
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert [e["type"] for e in events] == ["session_started", "iterated", "feedback_given"]
    assert all({"payload", "recorded_at", "hash"} <= set(e) for e in events)
    assert len(events[2]["payload"]["draws"]) == 6 and events[2]["payload"]["button"] == "great"


def test_log_metrics_as_csv(nnreplay):
    """log --metrics --csv gives one row per event with its resulting loss, accuracy and score."""
    sid = nnreplay("new", "--seed", "2").stdout.strip()
    nnreplay("next", sid, "-n", "4")
    table = list(csv.DictReader(io.StringIO(nnreplay("log", sid, "--metrics", "--csv").stdout)))
    assert [int(r["seq"]) for r in table] == [1, 2, 3, 4, 5]
    losses = [float(r["loss"]) for r in table]
    assert losses == sorted(losses, reverse=True)
    shown = nnreplay.json("show", sid, "--json")
    assert float(table[-1]["accuracy"]) == shown["accuracy"]


def test_sessions_lists_every_session(nnreplay, thompson):
    """sessions --json gives id, name, learner, events and accuracy of each session."""
    other = nnreplay("new", "--seed", "5").stdout.strip()
    nnreplay("next", other, "-n", "2")
    listing = {s["id"]: s for s in nnreplay.json("sessions", "--json")}
    assert listing[thompson]["name"] == "tom" and listing[thompson]["events"] == 1
    assert listing[other]["learner"] == "gradient" and listing[other]["events"] == 3
    assert 0 <= listing[other]["accuracy"] <= 1


def test_sessions_resolve_by_name_and_prefix(nnreplay, thompson):
    """A session is named by its id, an unambiguous prefix, or its name."""
    for ref in (thompson, thompson[:6], "tom"):
        assert nnreplay.json("show", ref, "--json")["session_id"] == thompson


@pytest.mark.parametrize("args, message", [
    (["rate", "{g}", "good"], "thompson"),
    (["rate", "{t}", "superb"], "unknown button"),
    (["next", "nosuchsession"], "no session"),
    (["rate", "nosuchsession", "good"], "no session"),
    (["next", "{t}", "-n", "0"], "count"),
    (["next", "{t}", "-n", "-3"], "count"),
    (["next", "{t}", "-n", "99999999999"], "count"),
    (["new", "--name", "tom"], "taken"),
    (["new", "--points", "0"], "points"),
    (["new", "--lr", "nan"], "learning rate"),
])
def test_refused_requests_exit_1_with_one_line_and_write_nothing(nnreplay, db_path, thompson, args, message):
    """Refused requests exit 1 with one line on stderr naming the problem, and write no event."""
    gradient = nnreplay("new", "--seed", "1").stdout.strip()
    before = rows(db_path)
    result = nnreplay(*[a.format(g=gradient, t=thompson) for a in args], ok=False)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]
    assert "Traceback" not in result.output
    assert rows(db_path) == before


def test_reading_a_missing_database_creates_nothing(nnreplay, db_path):
    """show/next on a database that does not exist fail without creating the file."""
    result = nnreplay("next", "abc", ok=False)
    assert result.exit_code == 1 and "no nnreplay database" in result.stderr
    assert not os.path.exists(db_path)


def test_same_commands_into_two_databases_give_identical_states(runner, tmp_path):
    """The same commands into two fresh databases give bit-identical digests and show --json states."""
    import cli

    shown = []
    for name in ("one.db", "two.db"):
        db = str(tmp_path / name)
        sid = runner.invoke(cli.app, ["--db", db, "new", "--learner", "thompson", "--seed", "42"]).stdout.strip()
        for args in (["next", sid, "-n", "7"], ["rate", sid, "good"], ["rate", sid, "bad"], ["next", sid]):
            assert runner.invoke(cli.app, ["--db", db, *args]).exit_code == 0
        state = json.loads(runner.invoke(cli.app, ["--db", db, "show", sid, "--json"]).stdout)
        digests = [e["state_digest"] for e in json.loads(runner.invoke(cli.app, ["--db", db, "log", sid, "--json"]).stdout)]
        for key in ("session_id", "head_hash"):
            state.pop(key)
        shown.append((state, digests))
    assert shown[0] == shown[1]


def test_every_command_has_help_with_an_example(runner):
    """Help is documentation: every command explains itself and shows an example."""
    import cli

    for command in cli.app.registered_commands:
        name = command.name or command.callback.__name__
        result = runner.invoke(cli.app, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Example" in result.stdout, f"{name} --help has no example"


@pytest.mark.parametrize("args, words", [(["new", "--points", "abc"], "--points"),
                                         (["next"], "Missing argument"),
                                         (["frobnicate"], "No such command")])
def test_usage_errors_are_one_line_with_exit_2(tmp_path, args, words):
    """The console script reports a usage error in one line on stderr, exit code 2, no traceback."""
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run([sys.executable, "-c", "import cli; cli.main()", "--db", str(tmp_path / "x.db"), *args],
                            capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and words in lines[0]
    assert result.stdout == ""


def test_a_reader_that_goes_away_is_not_an_error(tmp_path):
    """`nnreplay log ... | head -1`: when the reader closes the pipe, nnreplay stops quietly, no traceback."""
    import subprocess
    import sys
    from pathlib import Path

    from engine import Next, Settings
    from store import EventLog

    db = str(tmp_path / "long.db")
    with EventLog(db) as log:
        log.record(log.new_session(Settings(seed=3), name="long").id, [Next()] * 3000)
    process = subprocess.Popen([sys.executable, "-c", "import cli; cli.main()", "--db", db, "log", "long"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               cwd=Path(__file__).resolve().parent.parent)
    assert process.stdout.readline().split()[0] == b"1"
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) in (0, 1)
    assert stderr == ""
