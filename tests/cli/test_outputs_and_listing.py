"""No output lands on a database, data never drives the terminal, one broken session hides no other, and
the small things (issue 9, classes 1, 6, 9 and 13). Through the CLI, on real files."""

import hashlib
import json
import os
import shlex
import sqlite3
import subprocess
import sys

import pytest

from store.schema import TRIGGERS_SQL


def sha(path) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def one_error(result, *words) -> str:
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)
    return result.stderr


@pytest.fixture
def recorded(nnreplay):
    """Two short sessions, `a` (gradient) and `b` (thompson)."""
    nnreplay("new", "--seed", "1", "--name", "a")
    nnreplay("next", "a", "-n", "4")
    nnreplay("new", "--learner", "thompson", "--seed", "2", "--name", "b")
    nnreplay("next", "b", "-n", "4")


def targets(tmp_path, db_path) -> dict:
    """Ways to name the database (or a database) as an output file."""
    os.symlink(db_path, tmp_path / "link.gif")
    os.link(db_path, tmp_path / "hard.png")
    with sqlite3.connect(tmp_path / "other.jsonl") as conn:
        conn.execute("CREATE TABLE t (x)")
    sub = tmp_path / "sub"
    sub.mkdir()
    return {"itself": db_path, "dot": os.path.join(os.path.dirname(db_path), ".", os.path.basename(db_path)),
            "dotdot": str(sub / ".." / os.path.basename(db_path)), "wal": db_path + "-wal",
            "shm": db_path + "-shm", "journal": db_path + "-journal", "symlink": str(tmp_path / "link.gif"),
            "hardlink": str(tmp_path / "hard.png"), "other-sqlite": str(tmp_path / "other.jsonl")}


@pytest.mark.parametrize("kind", ["itself", "dot", "dotdot", "wal", "shm", "journal", "symlink", "hardlink",
                                  "other-sqlite"])
def test_no_export_lands_on_a_database(nnreplay, recorded, db_path, tmp_path, kind):
    """Class 1: `export -o` naming the open database (by any path: ./, .., a symlink, a hard link), its
    -wal, -shm or -journal, or any SQLite file is refused in one line, and nothing changes."""
    target = targets(tmp_path, db_path)[kind]
    before, listing = sha(db_path), sorted(os.listdir(tmp_path))
    one_error(nnreplay("export", "a", "-o", target, ok=False), "choose another file name")
    assert sha(db_path) == before and sorted(os.listdir(tmp_path)) == listing


@pytest.mark.parametrize("command", [["replay", "a", "-o"], ["frame", "a", "-o"], ["plot", "a", "-o"]])
def test_no_image_lands_on_a_database(nnreplay, recorded, db_path, tmp_path, command):
    """Class 1: replay, frame and plot refuse a symlink or a hard link to the database."""
    found = targets(tmp_path, db_path)
    target = found["symlink"] if command[0] == "replay" else found["hardlink"]
    before = sha(db_path)
    one_error(nnreplay(*command, target, ok=False), "choose another file name")
    assert sha(db_path) == before


def test_demo_refuses_a_folder_named_like_the_database_files(runner, tmp_path):
    """Class 1: the demo's new folder may not be a database's -wal (SQLite would then fail to open it)."""
    import cli

    db = tmp_path / "log.db"
    runner.invoke(cli.app, ["--db", str(db), "new", "--name", "x"])
    result = runner.invoke(cli.app, ["--db", str(db), "demo", "--quick", "--out", str(db) + "-wal"])
    one_error(result, "-wal")
    assert not os.path.exists(str(db) + "-wal")


def test_an_export_gets_the_users_umask(nnreplay, recorded, tmp_path):
    """Class 1: an export file is created like any file the user makes (umask 022 gives 0644), as GIFs are."""
    old = os.umask(0o022)
    try:
        nnreplay("export", "a", "-o", tmp_path / "a.jsonl")
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "a.jsonl").st_mode & 0o777 == 0o644


def test_stored_text_never_drives_the_terminal(nnreplay, db_path):
    """Class 6: a name ending in ESC[8m (hide the rest of the line) is printed escaped by every command
    that shows it, on a terminal or not; JSON stays exact."""
    name = "first-try\x1b[8m"
    sid = nnreplay("new", "--name", name).stdout.strip()
    nnreplay("next", sid, "-n", "2")
    for args in (["sessions"], ["show", sid], ["audit"], ["audit", sid], ["log", sid]):
        out = nnreplay(*args)
        assert "\x1b" not in out.stdout + out.stderr, args
    assert "first-try\\x1b[8m" in nnreplay("sessions").stdout
    one_error(nnreplay("next", "nope\x1b[2J", ok=False), "\\x1b[2J")
    assert nnreplay.json("sessions", "--json")[0]["name"] == name


def break_sessions(db_path: str) -> tuple[str, str]:
    """A session row without events, and a session whose seq 3 payload is not JSON; returns their ids."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("INSERT INTO sessions VALUES (?, 'empty', 'gradient', 1, '2026-11-30T00:00:00+00:00', NULL, NULL)",
                 ("e" * 32,))
    [(damaged,)] = conn.execute("SELECT id FROM sessions WHERE name = 'b'").fetchall()
    conn.execute("DROP TRIGGER events_refuse_update")
    conn.execute("UPDATE events SET payload = '{not json' WHERE session_id = ? AND seq = 3", (damaged,))
    conn.executescript(TRIGGERS_SQL)
    conn.close()
    return "e" * 32, damaged


def test_one_broken_session_does_not_hide_the_others(nnreplay, recorded, db_path, tmp_path):
    """Class 9: `sessions` lists every readable session, marks each broken one with its seq and reason,
    and exits 1; `--json` says the same; `plot --all` plots the readable ones and names the others.

    The heads cache is emptied first, as in a database written by release 0.1.0: `sessions` then folds
    every session (with an agreeing heads row it reads only the head, and a damaged event before it is
    audit's to find)."""
    empty, damaged = break_sessions(db_path)
    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM heads")
    result = nnreplay("sessions", ok=False)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith(empty[:12]) and "seq 1" in line and "no events" in line for line in lines)
    assert any(line.startswith(damaged[:12]) and "seq 3" in line and "JSON" in line for line in lines)
    assert any(line.split()[1:3] == ["a", "gradient"] and line.split()[3] == "5" for line in lines)
    listing = json.loads(nnreplay("sessions", "--json", ok=False).stdout)
    by_name = {item["name"]: item for item in listing}
    assert by_name["a"]["ok"] and by_name["a"]["events"] == 5
    assert by_name["b"]["problem"]["seq"] == 3 and not by_name["empty"]["ok"]
    plotted = nnreplay("plot", "--all", "-o", tmp_path / "c.png", ok=False)
    assert plotted.exit_code == 1 and os.path.exists(tmp_path / "c.png")
    assert damaged[:12] in plotted.stderr and "Traceback" not in plotted.stderr


def test_replay_with_one_frame_and_from_zero(nnreplay, recorded, tmp_path):
    """Class 13: --max-frames 1 renders the last state; --from 0 is refused as a bad value, not a range."""
    assert "1 frames" in nnreplay("replay", "a", "-o", tmp_path / "one.gif", "--max-frames", "1").stdout
    message = one_error(nnreplay("replay", "a", "-o", tmp_path / "z.gif", "--from", "0", ok=False), "--from")
    assert "between" not in message and "at least 1" in message


def test_export_to_an_empty_path_names_no_temporary_file(nnreplay, recorded, tmp_path):
    """Class 13: `export -o ""` says the path is empty; no temporary name appears, no file is left."""
    message = one_error(nnreplay("export", "a", "-o", "", ok=False), "empty")
    assert ".part" not in message and ".tmp" not in message and "nnreplay-" not in message


def run_cli(*args, **kwargs):
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    return subprocess.run([sys.executable, "-m", "cli", *map(str, args)], capture_output=True, text=True, env=env,
                          timeout=120, **kwargs)


def test_a_clean_audit_cut_by_head_exits_0(nnreplay, recorded, db_path):
    """Class 13: `audit | head -1` exits 0 when every check holds (the exit code is the verdict)."""
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    process = subprocess.Popen([sys.executable, "-m", "cli", "--db", db_path, "audit", "a", "b"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    process.stdout.readline()
    process.stdout.close()
    assert process.wait(timeout=60) == 0 and b"Traceback" not in process.stderr.read()


def test_the_global_option_may_follow_the_command(nnreplay, recorded, db_path):
    """Class 13: `nnreplay show a --db PATH` works like `nnreplay --db PATH show a`."""
    done = run_cli("show", "a", "--db", db_path, cwd="/")
    assert done.returncode == 0, done.stderr
    assert "session" in done.stdout


def test_the_demos_next_lines_survive_a_folder_with_spaces(runner, tmp_path):
    """Class 13: the demo's "next, try" commands quote an --out with spaces, so they can be pasted."""
    import cli

    out = tmp_path / "my tour"
    result = runner.invoke(cli.app, ["demo", "--quick", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    tries = [line.split("   ")[0].strip() for line in result.stdout.splitlines() if line.startswith("  nnreplay")]
    assert tries
    for line in tries:
        words = shlex.split(line)
        assert words[words.index("--db") + 1] == str(out / "demo.db")


def test_audit_reports_progress_while_a_parallel_audit_runs(tmp_path):
    """Class 13: the rows an audit has verified are reported while its worker processes run, not once per
    worker when it ends (the progress bar no longer sits at 0 % for the whole run)."""
    from engine import Next, Settings
    from store import EventLog
    from store.audit import audit_database

    if (os.cpu_count() or 1) < 2:
        pytest.skip("a parallel audit needs two cores")
    with EventLog(str(tmp_path / "p.db")) as log:
        log.conn.execute("PRAGMA synchronous = OFF")
        info = log.new_session(Settings(learner="thompson", seed=1))
        log.record(info.id, [Next()] * 39_999, batch=40_000)
        calls = []
        report = audit_database(log, [info], on_rows=calls.append, segment=8_000, parallel_from=20_000)
    assert report.ok and sum(calls) == 40_000
    assert len(calls) > 2, calls  # two workers: more reports than workers means progress while they ran


def test_a_damaged_payload_is_one_line_naming_the_seq(nnreplay, recorded, db_path):
    """Class 9: reading a session whose stored payload is not JSON ends in one line naming the session and
    the seq (and pointing to audit), not in `unexpected JSONDecodeError`."""
    _, damaged = break_sessions(db_path)
    for args in (["log", damaged], ["log", damaged, "--json"], ["show", damaged], ["export", damaged]):
        one_error(nnreplay(*args, ok=False), "seq 3", "nnreplay audit")
