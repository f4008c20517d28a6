"""Crashes: a long `nnreplay simulate` killed at random moments loses nothing that was committed.

SIGKILL gives the process no chance to clean up: whatever it had not committed must vanish whole, and
whatever a reader had already seen committed must still be there with the same hash. SIGINT (Ctrl-C) must end
cleanly, with exit 130 and one line saying how much was kept. Kill moments come from a fixed seed, so a
failure can be replayed.
"""

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from engine import evolve, state_digest
from store import EventLog, GENESIS, verify_hash
from store.log import BATCH

KILLS = 24
INTERRUPTS = 4


def simulate(db: str, seed: int) -> subprocess.Popen:
    """A simulate run far longer than the test waits: it only ever ends by a signal."""
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "--db", db, "simulate", "--learner", "thompson", "--presses", "1000000",
         "--seed", str(seed), "--name", f"run{seed}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)


def default_sigint() -> None:
    # a child of a shell's background job starts with SIGINT ignored, and Python would keep ignoring it
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def committed(db: str) -> dict[tuple[str, int], str]:
    """(session, seq) -> hash of every event a fresh reader sees committed right now."""
    if not os.path.exists(db):
        return {}
    with sqlite3.connect(db) as conn:
        try:
            return {(sid, seq): hash_ for sid, seq, hash_ in conn.execute("SELECT session_id, seq, hash FROM events")}
        except sqlite3.DatabaseError:  # not created yet (or a transient read error: see `length`)
            return {}


def length(db: str, name: str) -> int:
    """How many events the session named `name` has committed (0 if it does not exist yet)."""
    if not os.path.exists(db):
        return 0
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute("SELECT COUNT(*) FROM events JOIN sessions ON id = session_id WHERE name = ?",
                                (name,)).fetchone()[0]
        except sqlite3.DatabaseError:
            # not created yet; or, rarely seen under heavy load, a transient read error while the writer
            # checkpoints: polled again, and any lasting damage fails integrity_check after the run
            return 0


def integrity(db: str) -> str:
    with sqlite3.connect(db) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def verify_session(log: EventLog, session_id: str, replay: bool = True) -> int:
    """Checks seq 1..N, every hash and link, and (if `replay`) every stored state digest; returns N."""
    prev, state, seq = GENESIS, None, 0
    for seq, row in enumerate(log.rows(session_id), start=1):
        assert row.seq == seq and row.prev_hash == prev, f"gap or broken link at seq {seq}"
        assert row.hash == verify_hash(row.session_id, row.seq, row.type, row.schema_version,
                                       json.loads(row.payload), row.recorded_at, row.prev_hash)
        if replay:
            state = evolve(state, row.event())
            assert row.state_digest == state_digest(state)
        prev = row.hash
    return seq


def kill_at_random_moments(db: str, rng: random.Random) -> list[dict]:
    """Starts and SIGKILLs `simulate` KILLS times; after each kill, checks what a reader saw before it."""
    runs = []
    for run in range(KILLS):
        process = simulate(db, run)
        # 0.05 s kills it while importing, 1.2 s after several batches; in between, anywhere
        time.sleep(rng.choice([0.05, rng.uniform(0.3, 1.2)]))
        seen = committed(db)
        time.sleep(rng.uniform(0.0, 0.1))
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
        after = committed(db)
        lost = {key for key in seen if after.get(key) != seen[key]}
        runs.append({"returncode": process.returncode, "lost": lost, "seen": len(seen), "after": len(after)})
    return runs


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    """A database after KILLS SIGKILLed simulate runs; returns (path, per-run reports)."""
    db = str(tmp_path_factory.mktemp("crash") / "crash.db")
    return db, kill_at_random_moments(db, random.Random(20240601))


def test_every_run_was_killed_by_sigkill(killed):
    """Each simulate run was still running when it was killed: it ended by SIGKILL, not by finishing."""
    _, runs = killed
    assert len(runs) >= 20
    assert {run["returncode"] for run in runs} == {-signal.SIGKILL}


def test_nothing_a_reader_saw_committed_is_lost_by_a_kill(killed):
    """Every event visible to a reader just before a kill is there afterwards with the same hash."""
    _, runs = killed
    assert [run["lost"] for run in runs] == [set()] * len(runs)
    assert sum(run["seen"] > 0 for run in runs) >= KILLS // 2  # most kills hit a run that had committed


def test_killed_sessions_hold_only_whole_batches_and_their_chains_verify(killed):
    """Each killed session has seq 1 plus whole batches of BATCH presses; chains verify, and replay of the last."""
    db, _ = killed
    with EventLog(db, create=False) as log:
        infos = log.sessions()
        # replaying every event is the audit's job; the chain alone shows nothing was half-written
        lengths = {info.name: verify_session(log, info.id, replay=info == infos[-1]) for info in infos}
    assert integrity(db) == "ok"
    assert lengths, "no kill landed after a session started"
    assert {(n - 1) % BATCH for n in lengths.values()} == {0}
    assert any(n > BATCH for n in lengths.values())


def test_killed_sessions_can_be_continued(killed):
    """After the kills, `nnreplay next` appends to a killed session and its chain still verifies."""
    db, _ = killed
    with EventLog(db, create=False) as log:
        info = max(log.sessions(), key=lambda i: log.head(i.id)[0])
        before = log.head(info.id)[0]
    result = subprocess.run([sys.executable, "-m", "cli", "--db", db, "next", info.name, "-n", "3"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"seq {before + 3} ")
    with EventLog(db, create=False) as log:
        assert verify_session(log, info.id) == before + 3


def test_audit_passes_on_killed_sessions(killed):
    """`nnreplay audit` of the shortest, the longest and the last killed session exits 0: every check holds."""
    db, _ = killed
    with EventLog(db, create=False) as log:
        infos = sorted(log.sessions(), key=lambda i: log.head(i.id)[0])
        # auditing every event of every run would take the suite's whole time budget; these span the cases
        names = sorted({infos[0].name, infos[-1].name, log.sessions()[-1].name})
    result = subprocess.run([sys.executable, "-m", "cli", "--db", db, "audit", *names, "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert [s["verdict"] for s in json.loads(result.stdout)["sessions"]] == ["ok"] * len(names)


def test_sigint_ends_cleanly_and_says_exactly_how_much_was_kept(tmp_path):
    """Ctrl-C at random moments mid-recording: exit 130, no traceback, one line whose count matches the log."""
    rng = random.Random(77)
    db = str(tmp_path / "interrupted.db")
    for run in range(INTERRUPTS):
        process = simulate(db, run)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and length(db, f"run{run}-1") <= 1:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.3))
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 130, stderr
        assert "Traceback" not in stderr and stderr.count("\n") == 1, stderr
        kept = int(re.search(r"interrupted: kept ([\d,]+) presses in 1 session", stderr).group(1).replace(",", ""))
        assert integrity(db) == "ok"
        with EventLog(db, create=False) as log:
            info = log.resolve(f"run{run}-1")
            assert stdout.split() == [info.id]
            assert verify_session(log, info.id) == kept + 1
