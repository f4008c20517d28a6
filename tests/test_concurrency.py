"""Concurrency: real processes pressing Next on one database file at the same time.

Four writer processes press Next 200 times each on one shared thompson session, four more press 200 times
on their own sessions, a few `nnreplay next` CLI processes race on the shared session too, and a reader
process folds the shared session throughout. Each writer commits one press per transaction, as a person at
a terminal would. Every press must be recorded exactly once, seq must run 1..N without gaps, the hash
chain must link, `nnreplay audit` must pass, and no process may see an error.
"""

import collections
import json
import subprocess
import sys
import time

import pytest

from engine import Settings, evolve, state_digest
from store import EventLog, GENESIS, verify_hash

PRESSES = 200
WRITERS = 4
CLI_RACERS = 4
CLI_PRESSES = 5

# each press is tagged with its source "<writer>:<i>" so that a lost or doubled press can be named
WRITER = """
import os, sys, time
from engine import Next
from store import EventLog
db, session_id, tag, presses, go = sys.argv[1:]
while not os.path.exists(go):
    time.sleep(0.005)
with EventLog(db, create=False) as log:
    for i in range(int(presses)):
        log.record(session_id, [Next(source=f"{tag}:{i}")])
"""

# the reader checks what a reader may see mid-race: a head that never moves back, a chain with no gap
READER = """
import json, os, sys, time
from store import EventLog
db, session_id, go, stop = sys.argv[1:]
while not os.path.exists(go):
    time.sleep(0.005)
seen, reads = 0, 0
with EventLog(db, create=False) as log:
    while not os.path.exists(stop):
        state = log.state(session_id)
        seqs = [row.seq for row in log.rows(session_id)]
        assert state.seq >= seen, (state.seq, seen)
        assert seqs == list(range(1, len(seqs) + 1)), "gap seen by a reader"
        seen, reads = state.seq, reads + 1
print(json.dumps({"reads": reads, "last": seen}))
"""


def spawn(code_or_argv, *args):
    """A Python snippet (str) with its arguments, or a full argv (list), as a process with captured output."""
    argv = [sys.executable, "-c", code_or_argv, *args] if isinstance(code_or_argv, str) else code_or_argv
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def cli(db, *args):
    return [sys.executable, "-m", "cli", "--db", db, *args]


def check_chain(log: EventLog, session_id: str) -> list:
    """The session's rows after checking seq 1..N, every hash, every link and every stored state digest."""
    rows = list(log.rows(session_id))
    assert [row.seq for row in rows] == list(range(1, len(rows) + 1))
    prev, state = GENESIS, None
    for row in rows:
        assert row.prev_hash == prev, f"chain broken at seq {row.seq}"
        assert row.hash == verify_hash(row.session_id, row.seq, row.type, row.schema_version,
                                       json.loads(row.payload), row.recorded_at, row.prev_hash)
        state = evolve(state, row.event())
        assert row.state_digest == state_digest(state), f"replay differs from the record at seq {row.seq}"
        prev = row.hash
    return rows


@pytest.fixture(scope="module")
def race(tmp_path_factory):
    """Runs the whole race once; returns (db, shared id, own ids, finished processes, reader report)."""
    folder = tmp_path_factory.mktemp("race")
    db, go, stop = str(folder / "race.db"), str(folder / "go"), str(folder / "stop")
    with EventLog(db) as log:
        shared = log.new_session(Settings(learner="thompson", seed=11), name="shared").id
        own = [log.new_session(Settings(learner="thompson", seed=20 + k)).id for k in range(WRITERS)]
    writers = [spawn(WRITER, db, shared, f"shared{k}", str(PRESSES), go) for k in range(WRITERS)]
    writers += [spawn(WRITER, db, sid, f"own{k}", str(PRESSES), go) for k, sid in enumerate(own)]
    reader = spawn(READER, db, shared, go, stop)
    open(go, "w").close()
    time.sleep(0.3)  # let the writers get going before the CLI processes join the race
    racers = [spawn(cli(db, "next", "shared", "-n", str(CLI_PRESSES))) for _ in range(CLI_RACERS)]
    racers.append(spawn(cli(db, "show", "shared", "--json")))
    finished = [(p, *p.communicate(timeout=120)) for p in writers + racers]
    open(stop, "w").close()
    report = reader.communicate(timeout=60)
    finished.append((reader, *report))
    return db, shared, own, finished, json.loads(report[0] or "{}")


def test_no_process_sees_an_error(race):
    """Every writer, CLI racer and reader exits 0 with nothing on stderr: writers queue, they do not fail."""
    *_, finished, _ = race
    for process, _, err in finished:
        assert (process.returncode, err) == (0, ""), process.args


def test_every_press_on_the_shared_session_is_recorded_exactly_once(race):
    """Each of the 4 x 200 tagged presses appears once, plus every CLI press, and nothing else."""
    db, shared, *_ = race
    with EventLog(db, create=False) as log:
        sources = collections.Counter(json.loads(row.payload).get("source") for row in log.rows(shared))
    expected = {f"shared{k}:{i}" for k in range(WRITERS) for i in range(PRESSES)}
    assert {tag for tag in sources if tag in expected} == expected
    assert max(sources[tag] for tag in expected) == 1
    assert sources["cli"] == CLI_RACERS * CLI_PRESSES
    assert sum(sources.values()) == 1 + WRITERS * PRESSES + CLI_RACERS * CLI_PRESSES


def test_shared_session_is_contiguous_and_its_chain_links(race):
    """The shared session runs seq 1..N with no gap, every hash links and replay reproduces every digest."""
    db, shared, *_ = race
    with EventLog(db, create=False) as log:
        rows = check_chain(log, shared)
    assert len(rows) == 1 + WRITERS * PRESSES + CLI_RACERS * CLI_PRESSES


def test_own_sessions_are_complete_and_in_press_order(race):
    """A session with a single writer holds its 200 presses in the order they were made."""
    db, _, own, *_ = race
    with EventLog(db, create=False) as log:
        for k, sid in enumerate(own):
            rows = check_chain(log, sid)
            tags = [json.loads(row.payload)["source"] for row in rows[1:]]
            assert tags == [f"own{k}:{i}" for i in range(PRESSES)]


def test_the_reader_kept_reading_during_the_race(race):
    """A reader folding the shared session mid-race was never blocked out and saw the head only move forward."""
    *_, report = race
    assert report["reads"] >= 1
    assert 1 <= report["last"] <= 1 + WRITERS * PRESSES + CLI_RACERS * CLI_PRESSES


def test_audit_passes_after_the_race(race):
    """`nnreplay audit` on the raced database (every session, every check) exits 0 and reports every event."""
    db, *_ = race
    result = subprocess.run(cli(db, "audit", "--json"), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and len(report["sessions"]) == 1 + WRITERS
    assert report["events"] == (1 + WRITERS * PRESSES + CLI_RACERS * CLI_PRESSES) + WRITERS * (1 + PRESSES)


def test_cli_show_reads_the_head_after_the_race(race, runner):
    """`nnreplay show --json` after the race reports the head seq and the head hash that the log holds."""
    import cli

    db, shared, *_ = race
    result = runner.invoke(cli.app, ["--db", db, "show", "shared", "--json"])
    assert result.exit_code == 0, result.stderr
    with EventLog(db, create=False) as log:
        seq, hash_ = log.head(shared)
    assert (json.loads(result.stdout)["seq"], json.loads(result.stdout)["head_hash"]) == (seq, hash_)
