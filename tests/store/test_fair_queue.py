"""Writers of one process take their turns on an SQLite file in order (store/transaction.py's queue), as
`serve`'s worker threads do: many threads pressing flat out on the same and on different sessions, with a
terminal pressing from another process at the same time. Nothing fails, every press is recorded once with
no gap, the audit is clean, and no press waits while many more than one turn of every other thread go by."""

import collections
import json
import os
import subprocess
import sys
import threading

import pytest

from engine import Next, Settings
from store import EventLog
from store.audit import audit_database

THREADS = 8  # half press one shared session, half a session each
PRESSES = 60
CLI_PRESSES = 20
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def race(tmp_path_factory):
    """Runs the race once; returns (db, shared id, own ids, errors, the most presses that overtook one press,
    the terminal's process)."""
    db = str(tmp_path_factory.mktemp("fair") / "fair.db")
    with EventLog(db) as log:
        shared = log.new_session(Settings(learner="thompson", seed=5), name="shared").id
        own = [log.new_session(Settings(learner="thompson", seed=50 + k)).id for k in range(THREADS // 2)]
    targets = [shared] * (THREADS // 2) + own
    done, overtaken, errors = [0], [], []
    count_lock, start = threading.Lock(), threading.Barrier(THREADS + 1)

    def press(k: int, session_id: str) -> None:
        # its own log, as each of serve's worker threads has its own connection
        with EventLog(db, create=False) as log:
            start.wait()
            for i in range(PRESSES):
                before = done[0]
                try:
                    log.record(session_id, [Next(source=f"t{k}:{i}")])
                except Exception as error:  # noqa: BLE001 - any failure is the finding
                    errors.append(repr(error))
                with count_lock:
                    overtaken.append(done[0] - before)  # presses of other threads committed while this one waited
                    done[0] += 1

    threads = [threading.Thread(target=press, args=(k, sid)) for k, sid in enumerate(targets)]
    for thread in threads:
        thread.start()
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    terminal = subprocess.Popen([sys.executable, "-c", "import cli; cli.main()", "--db", db, "next", "shared",
                                 "-n", str(CLI_PRESSES)], cwd=ROOT, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    start.wait()
    for thread in threads:
        thread.join(120)
    _, err = terminal.communicate(timeout=120)
    return db, shared, own, errors, max(overtaken), (terminal.returncode, err)


def test_no_press_fails(race):
    *_, errors, _, terminal = race
    assert errors == []
    assert terminal == (0, "")


def test_every_press_is_recorded_once_with_no_gap(race):
    db, shared, own, *_ = race
    with EventLog(db, create=False) as log:
        rows = {sid: list(log.rows(sid)) for sid in [shared, *own]}
    for sid, session_rows in rows.items():
        assert [row.seq for row in session_rows] == list(range(1, len(session_rows) + 1)), sid
    sources = collections.Counter(json.loads(row.payload).get("source") for row in rows[shared])
    expected = {f"t{k}:{i}" for k in range(THREADS // 2) for i in range(PRESSES)}
    assert {tag for tag in sources if tag and tag.startswith("t")} == expected
    assert max(sources[tag] for tag in expected) == 1
    assert sum(sources.values()) == 1 + len(expected) + CLI_PRESSES  # the first event, the threads', the terminal's
    for k, sid in enumerate(own, start=THREADS // 2):
        tags = [json.loads(row.payload).get("source") for row in rows[sid][1:]]
        assert tags == [f"t{k}:{i}" for i in range(PRESSES)], sid


def test_the_audit_is_clean(race):
    db, *_ = race
    with EventLog(db, create=False) as log:
        report = audit_database(log, log.sessions())
    assert report.ok
    assert report.events == (1 + THREADS // 2 * PRESSES + CLI_PRESSES) + THREADS // 2 * (1 + PRESSES)


def test_writers_of_one_process_take_turns_in_order(race):
    """First come, first served: while one press waits, each other thread commits about once (a press may
    read the counter a little before it queues, so a few turns of slack). Polling in no order let some
    presses wait while hundreds of others went by."""
    *_, most, _ = race
    assert most <= 4 * THREADS
