"""Every way a command can be stopped cleans up, and reading scales (issue 9, classes 11 and 12). Real
processes, real signals; memory is measured as peak RSS from wait4, never time."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from engine import Next, Settings
from store import EventLog

BIG = 60_000


@pytest.fixture(scope="module")
def big_db(tmp_path_factory):
    """A database with a thompson session `big` of 60,000 events and a gradient session `small` of 2,000."""
    path = str(tmp_path_factory.mktemp("big") / "big.db")
    with EventLog(path) as log:
        log.conn.execute("PRAGMA synchronous = OFF")  # a throwaway file: build it quickly
        info = log.new_session(Settings(learner="thompson", seed=5), name="big")
        log.record(info.id, [Next()] * (BIG - 1), batch=BIG)
        info = log.new_session(Settings(learner="thompson", seed=6), name="small")
        log.record(info.id, [Next()] * 1_999, batch=2_000)
    return path


def start(*args, stdout=subprocess.DEVNULL) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    return subprocess.Popen([sys.executable, "-m", "cli", *map(str, args)], stdout=stdout, stderr=subprocess.PIPE,
                            env=env, text=True)


def wait_for_file(folder, suffix: str, process, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not any(name.endswith(suffix) for name in os.listdir(folder)):
        assert process.poll() is None, f"ended before writing: {process.stderr.read()}"
        assert time.monotonic() < deadline, "no partial file appeared"
        time.sleep(0.02)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_stopped_replay_leaves_no_partial_gif(big_db, tmp_path, signum):
    """Class 11: SIGTERM (timeout, kill) and SIGHUP (a closed terminal) remove the partial GIF as Ctrl-C
    does, exit 128 + the signal, and say so in one line."""
    process = start("--db", big_db, "replay", "big", "-o", tmp_path / "big.gif", "--max-frames", "2000")
    wait_for_file(tmp_path, ".part", process)
    process.send_signal(signum)
    code, stderr = process.wait(timeout=60), process.stderr.read()
    assert code == 128 + signum, (code, stderr)
    assert stderr.count("\n") == 1 and stderr.startswith("Error: ") and signal.Signals(signum).name in stderr
    assert os.listdir(tmp_path) == []


def test_a_stopped_export_leaves_no_partial_file(big_db, tmp_path):
    """Class 11: SIGTERM during an export removes its partial file."""
    process = start("--db", big_db, "export", "big", "-o", tmp_path / "big.jsonl")
    wait_for_file(tmp_path, ".part", process)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 128 + signal.SIGTERM
    assert os.listdir(tmp_path) == []


def test_ctrl_c_on_next_says_how_many_presses_were_kept(tmp_path):
    """Class 11: Ctrl-C on `next -n` says how many presses were kept, and that is what the log holds."""
    db = str(tmp_path / "n.db")
    with EventLog(db) as log:
        log.new_session(Settings(learner="gradient", seed=1), name="n")
    process = start("--db", db, "next", "n", "-n", "1000000")
    deadline = time.monotonic() + 120
    while True:  # a condition, not a fixed sleep: under load the imports alone can take seconds
        with EventLog(db, create=False) as log:
            if log.head(log.resolve("n").id)[0] > 1:
                break
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    code, stderr = process.wait(timeout=60), process.stderr.read()
    assert code == 130, stderr
    with EventLog(db, create=False) as log:
        kept = log.head(log.resolve("n").id)[0] - 1
    assert f"kept {kept:,} presses" in stderr and stderr.count("\n") == 1


def test_ctrl_c_on_audit_says_what_was_checked(big_db):
    """Class 11: Ctrl-C on `audit` ends in one line saying that nothing was changed and how far it got."""
    process = start("--db", big_db, "audit")
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    code, stderr = process.wait(timeout=60), process.stderr.read()
    assert code == 130 and stderr.count("\n") == 1 and "interrupted" in stderr and "audited" in stderr, stderr


# A forked child counts its parent's pages until it execs, so the CLI is started by a small probe process
# rather than by pytest (hundreds of MB): the peak it reports is then the command's own.
PROBE = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True); "
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def peak_mb(*args) -> float:
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    done = subprocess.run([sys.executable, "-c", PROBE, sys.executable, "-m", "cli", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, (args, done.stderr)
    return int(done.stdout) / 1024


@pytest.mark.parametrize("args", [["log", "--json"], ["log", "--csv", "--metrics"], ["export"], ["log"]])
def test_reading_streams_with_memory_that_does_not_grow_with_the_session(big_db, args):
    """Class 12: the reading commands stream: reading 60,000 events takes about the memory of reading
    2,000 (a list of 60,000 decoded events alone would take well over 50 MB more)."""
    small = peak_mb("--db", big_db, args[0], "small", *args[1:])
    big = peak_mb("--db", big_db, args[0], "big", *args[1:])
    assert big - small < 20, (small, big)


def test_log_json_stays_one_json_array(big_db):
    """Class 12: the streamed `log --json` is still one JSON array with the contract's keys."""
    process = start("--db", big_db, "log", "small", "--json", stdout=subprocess.PIPE)
    out, _ = process.communicate(timeout=120)
    events = json.loads(out)
    assert len(events) == 2_000 and {"seq", "type", "payload", "recorded_at", "hash"} <= set(events[0])


def test_ctrl_c_on_import_says_whether_the_session_was_kept(big_db, tmp_path):
    """Class 11: Ctrl-C on `import` says in one line whether the session was kept, and the database agrees
    (an import is one transaction: the session is there whole or not at all)."""
    export = tmp_path / "big.jsonl"
    assert start("--db", big_db, "export", "big", "-o", export).wait(timeout=120) == 0
    target = str(tmp_path / "target.db")
    process = start("--db", target, "import", export)
    time.sleep(1.5)
    process.send_signal(signal.SIGINT)
    code, stderr = process.wait(timeout=120), process.stderr.read()
    sessions = []
    if os.path.exists(target):
        with EventLog(target, create=False) as log:
            sessions = log.sessions()
    if code == 0:  # the import finished before the signal arrived: nothing to report
        assert len(sessions) == 1
        return
    assert code == 130 and stderr.count("\n") == 1 and stderr.startswith("Error: interrupted"), stderr
    if "nothing was imported" in stderr:
        assert sessions == []
    else:
        assert "imported whole" in stderr and len(sessions) == 1
