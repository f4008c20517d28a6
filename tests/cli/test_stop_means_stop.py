"""Stop means stop (issue 17, item 5): SQLite work ends within a second of SIGINT or SIGTERM, and reading the
list of sessions of a handed file has a step budget. Real processes, real signals, real files."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from engine import Next, Settings
from store import EventLog

ENDLESS = "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r)"


def start(db, *args) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    return subprocess.Popen([sys.executable, "-m", "cli", "--db", db, *map(str, args)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env, text=True)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def recorded(path: str) -> str:
    with EventLog(path) as log:
        info = log.new_session(Settings(seed=3), name="first")
        log.record(info.id, [Next()] * 120)
    return info.id


@pytest.fixture
def endless_snapshots(tmp_path) -> str:
    """A file whose `snapshots` is a view over an endless recursive CTE: folding from a snapshot spins in
    SQLite's C code, where Python's signal handlers never ran."""
    path = str(tmp_path / "handed.db")
    recorded(path)
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE snapshots RENAME TO kept")
        conn.execute(f"CREATE VIEW snapshots AS {ENDLESS} SELECT kept.* FROM kept, r")
    return path


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_ends_sqlite_work_within_a_second(endless_snapshots, signum):
    """`show --at 110` spins inside one SQLite query; the signal ends it within a second, with the exit
    code and the one line of any stopped command (it used to spin until SIGKILL)."""
    process = start(endless_snapshots, "show", "first", "--at", "110")
    deadline = time.monotonic() + 60
    while cpu_seconds(process.pid) < 1.0:  # well inside the query: imports take a third of that
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    sent = time.monotonic()
    process.send_signal(signum)
    code = process.wait(timeout=30)
    took = time.monotonic() - sent
    stderr = process.stderr.read()
    assert code == 128 + signum, (code, stderr)
    assert stderr.count("\n") == 1 and stderr.startswith("Error: ") and "Traceback" not in stderr
    assert took < 1.0, took


def test_the_list_of_sessions_of_a_handed_file_has_a_step_budget(tmp_path):
    """A `sessions` view over an endless recursive CTE made `sessions`, `show` and `audit` spin forever;
    now each ends with one clear line naming what it was reading, exit 1."""
    path = str(tmp_path / "handed.db")
    recorded(path)
    with sqlite3.connect(path) as conn:
        for trigger in ("sessions_refuse_update", "sessions_refuse_delete", "sessions_insert_only"):
            conn.execute(f"DROP TRIGGER {trigger}")
        conn.execute("ALTER TABLE sessions RENAME TO kept")
        conn.execute(f"CREATE VIEW sessions AS {ENDLESS} SELECT kept.* FROM kept, r")
    for args in (["sessions"], ["show", "first"], ["audit"]):
        process = start(path, *args)
        code, stderr = process.wait(timeout=120), process.stderr.read()
        assert code == 1, (args, code, stderr)
        assert stderr.startswith("Error: ") and stderr.count("\n") == 1, (args, stderr)
        assert "reading the list of sessions took over" in stderr, (args, stderr)
