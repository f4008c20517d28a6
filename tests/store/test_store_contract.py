"""The store contract, run against every backend: SQLite (store.log.EventLog over a file) and PostgreSQL
(store.pg_log.PgEventLog over a fresh database of the throwaway server).

Each test speaks only the contract (new_session, resolve, record, head, rows, state, states,
delete_snapshots, the errors), so a backend passes by behaving as the other does. The PostgreSQL half skips
where no server can be started (fails with CI=true); the SQLite half always runs.
"""

import json
import os
import subprocess
import sys
import time

import pytest

from engine import InvalidCommand, Next, Rate, Settings, evolve, state_digest
from store import EventLog, GENESIS, NameTaken, SessionNotFound, StoreError, verify_hash

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request, tmp_path):
    """A function that opens (or reopens) this backend's store: open_store(create=..., snapshot_every=...)."""
    if request.param == "sqlite":
        path = str(tmp_path / "log.db")
        return lambda **options: EventLog(path, **options)
    url = request.getfixturevalue("pg_url")
    from store.pg_log import PgEventLog

    return lambda **options: PgEventLog(url, **options)


@pytest.fixture
def store(open_store):
    with open_store() as log:
        yield log


def chain_ok(rows) -> bool:
    prev = GENESIS
    for seq, row in enumerate(rows, start=1):
        payload = json.loads(row.payload)
        if (row.seq, row.prev_hash) != (seq, prev) or row.hash != verify_hash(
                row.session_id, row.seq, row.type, row.schema_version, payload, row.recorded_at, row.prev_hash):
            return False
        prev = row.hash
    return True


def test_a_new_session_is_session_started_at_seq_one(store):
    info = store.new_session(Settings(learner="thompson", seed=3), name="first")
    [row] = store.rows(info.id)
    assert (row.seq, row.type, row.prev_hash) == (1, "session_started", GENESIS)
    assert store.head(info.id) == (1, row.hash)
    assert store.sessions() == [info]


def test_sessions_resolve_by_id_name_and_prefix(store):
    info = store.new_session(Settings(seed=1), name="named")
    assert store.resolve(info.id) == store.resolve("named") == store.resolve(info.id[:6]) == info
    for ref in ("nobody", info.id[:3], "%", "_" * 8):
        with pytest.raises(SessionNotFound):
            store.resolve(ref)


def test_a_taken_name_is_refused_and_nothing_is_written(store):
    store.new_session(Settings(seed=1), name="taken")
    with pytest.raises(NameTaken):
        store.new_session(Settings(seed=2), name="taken")
    assert len(store.sessions()) == 1


def test_record_appends_a_hash_chain_that_replays_to_the_recorded_digests(store):
    """Every appended row links to the one before, its hash recomputes, and folding reproduces each digest."""
    info = store.new_session(Settings(learner="thompson", seed=4))
    head = store.record(info.id, [Next(), Rate("good"), Next(), Rate("bad")] * 5)
    rows = list(store.rows(info.id))
    assert [row.seq for row in rows] == list(range(1, 22)) and chain_ok(rows)
    state = None
    for row in rows:
        state = evolve(state, row.event())
        assert state_digest(state) == row.state_digest
    assert state_digest(head) == rows[-1].state_digest == state_digest(store.state(info.id))


def test_state_at_a_seq_and_states_follow_the_log(store):
    info = store.new_session(Settings(seed=5))
    store.record(info.id, [Next()] * 9)
    rows = list(store.rows(info.id))
    assert [state_digest(store.state(info.id, seq)) for seq in (1, 5, 10)] == [rows[i].state_digest for i in (0, 4, 9)]
    assert [(row.seq, state_digest(state)) for row, state in store.states(info.id, 4, 7)] == \
        [(row.seq, row.state_digest) for row in rows[3:7]]
    with pytest.raises(StoreError, match="outside this session's history"):
        store.state(info.id, 11)


def test_snapshots_are_a_cache_that_agrees_with_the_log(open_store):
    with open_store(snapshot_every=4) as store:
        info = store.new_session(Settings(learner="thompson", seed=6))
        store.record(info.id, [Next()] * 13, batch=5)
        with_cache = [state_digest(store.state(info.id, seq)) for seq in range(1, 15)]
        assert with_cache == [state_digest(store.state(info.id, seq, use_snapshots=False)) for seq in range(1, 15)]
        assert store.delete_snapshots(info.id) == 3
        assert [state_digest(store.state(info.id, seq)) for seq in range(1, 15)] == with_cache


def test_a_refused_press_rolls_back_its_batch_and_keeps_the_earlier_ones(store):
    """A feedback button on a gradient session is refused; the batch it is in writes nothing."""
    info = store.new_session(Settings(learner="gradient", seed=7))
    committed = []
    with pytest.raises(InvalidCommand):
        store.record(info.id, [Next(), Next(), Next(), Rate("good")], batch=2, on_commit=committed.append)
    assert committed == [2] and store.head(info.id)[0] == 3


def test_reopening_finds_everything(open_store):
    with open_store() as store:
        info = store.new_session(Settings(seed=8), name="kept")
        store.record(info.id, [Next()] * 3)
        head = store.head(info.id)
    with open_store(create=False) as store:
        assert store.resolve("kept") == info and store.head(info.id) == head


def test_an_unknown_session_has_no_head(store):
    with pytest.raises(SessionNotFound):
        store.head("0" * 32)


# what every child process starts with: argv[1] names the store, a file path or a PostgreSQL URL
CHILD = """
import sys, time
from engine import Next, Settings
from store import EventLog, NameTaken
from store.pg_schema import is_url
if is_url(sys.argv[1]):
    from store.pg_log import PgEventLog as EventLog
"""
WRITER = CHILD + """
session, presses, start = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
with EventLog(sys.argv[1]) as log:
    while time.time() < start:
        time.sleep(0.001)
    for _ in range(presses):
        log.record(session, [Next("writer")])
"""


def backend_db(open_store, request) -> str:
    """What a child process passes to open the same store: the SQLite path or the PostgreSQL URL."""
    if request.node.callspec.params["open_store"] == "sqlite":
        with open_store() as store:
            return store.path
    return request.getfixturevalue("pg_url")


def child(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *args], env={**os.environ, "PYTHONPATH": ROOT},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_writer_processes_on_one_session_queue_without_gaps_or_duplicates(open_store, request):
    """Four processes press Next 15 times each on one session, one commit per press: 61 events, seq 1..61,
    one unbroken chain that replays to every recorded digest."""
    with open_store() as store:
        info = store.new_session(Settings(learner="thompson", seed=9))
    db, start = backend_db(open_store, request), str(time.time() + 2.0)
    procs = [child(WRITER, db, info.id, "15", start) for _ in range(4)]
    assert [(p.wait(timeout=120), p.communicate()[1]) for p in procs] == [(0, "")] * 4
    with open_store() as store:
        rows = list(store.rows(info.id))
        assert [row.seq for row in rows] == list(range(1, 62)) and chain_ok(rows)
        assert state_digest(store.state(info.id, use_snapshots=False)) == rows[-1].state_digest


def test_both_backends_record_the_same_decisions(db_path, pg_url):
    """The same settings and presses give the same events and digests on either backend (only ids, times
    and so hashes differ)."""
    from store.pg_log import PgEventLog

    recorded = []
    for log in (EventLog(db_path), PgEventLog(pg_url)):
        with log:
            info = log.new_session(Settings(learner="thompson", seed=12))
            log.record(info.id, [Next(), Rate("meh"), Next(), Rate("great")] * 4)
            recorded.append([(r.seq, r.type, r.schema_version, r.payload, r.state_digest) for r in log.rows(info.id)])
    assert recorded[0] == recorded[1]


RECORDER = CHILD + """
done = 0
def tell(n):
    global done
    done += n
    print(done, flush=True)
with EventLog(sys.argv[1]) as log:
    log.record(sys.argv[2], [Next("crash")] * 1_000_000, batch=25, on_commit=tell)
"""


@pytest.mark.parametrize("commits", [1, 4])
def test_a_writer_killed_mid_batch_loses_only_its_batch_in_flight(open_store, request, commits):
    """SIGKILL after `commits` reported commits of 25 presses: every reported press is there, the log holds
    seq 1 plus whole batches only, the chain and the replay hold, and the session continues."""
    with open_store() as store:
        info = store.new_session(Settings(learner="thompson", seed=13))
    recorder = child(RECORDER, backend_db(open_store, request), info.id)
    reported = [int(recorder.stdout.readline()) for _ in range(commits)][-1]
    recorder.kill()
    recorder.wait(timeout=30)
    with open_store() as store:
        head, _ = store.head(info.id)
        assert head - 1 >= reported and (head - 1) % 25 == 0
        rows = list(store.rows(info.id))
        assert chain_ok(rows)
        assert state_digest(store.state(info.id, use_snapshots=False)) == rows[-1].state_digest
        store.record(info.id, [Next()] * 3)
        assert store.head(info.id)[0] == head + 3


NAMER = CHILD + """
with EventLog(sys.argv[1]) as log:
    while time.time() < float(sys.argv[2]):
        time.sleep(0.001)
    try:
        log.new_session(Settings(seed=1), name="only-one")
        print("made")
    except NameTaken:
        print("taken")
"""


def test_processes_racing_for_one_name_get_one_session(open_store, request):
    """Six processes start a session with the same name at the same instant: one gets it, five are told
    the name is taken, and nothing else is written."""
    db, start = backend_db(open_store, request), str(time.time() + 2.0)
    procs = [child(NAMER, db, start) for _ in range(6)]
    outcomes = sorted((p.communicate(timeout=120)[0].strip(), p.returncode) for p in procs)
    assert outcomes == [("made", 0)] + [("taken", 0)] * 5
    with open_store() as store:
        [info] = store.sessions()
        assert [row.seq for row in store.rows(info.id)] == [1]


# -- issue 9 on every backend: ids win, appends prove themselves, the head must agree with the log ---------
def _is_pg(store) -> bool:
    return type(store).__name__ == "PgEventLog"


def test_ids_win_over_names(store):
    """A name that reads as an id prefix is refused, and a reference in either case resolves to the id."""
    from store.errors import InvalidName

    victim = store.new_session(Settings(seed=1))
    with pytest.raises(InvalidName, match="id prefix"):
        store.new_session(Settings(seed=2), name=victim.id[:12])
    assert store.resolve(victim.id[:12].upper()) == victim


def test_a_foreign_trigger_that_swallows_appends_makes_the_press_fail(store):
    """A trigger that drops inserts is an error, and the session is as it was: since issue 17 the schema is
    compared with the contract before the write (ForeignSchema, an UnsoundLog); an append still confirms
    its rows before it reports success, behind that."""
    from store.errors import UnsoundLog

    info = store.new_session(Settings(seed=3))
    if _is_pg(store):
        store.conn.execute("CREATE FUNCTION sneaky() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$")
        store.conn.execute("CREATE TRIGGER sneaky BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION sneaky()")
    else:
        store.conn.execute("CREATE TRIGGER sneaky BEFORE INSERT ON events BEGIN SELECT RAISE(IGNORE); END")
    head = store.head(info.id)
    # one press: with several, PostgreSQL's own append-only guard (which fires before this trigger) refuses
    # the second row, since the first vanished, and the writer gives up after its retries (Conflict)
    with pytest.raises(UnsoundLog, match="does not have the schema.*sneaky"):
        store.record(info.id, [Next()])
    assert store.head(info.id) == head


def test_a_press_on_a_head_the_log_does_not_give_is_refused(store):
    """The folded head must have the digest its head event records before anything is appended."""
    from store.errors import UnsoundLog

    info = store.new_session(Settings(seed=4))
    store.record(info.id, [Next()] * 2)
    if _is_pg(store):
        store.conn.execute("ALTER TABLE events DISABLE TRIGGER events_refuse_update")
        store.conn.execute("UPDATE events SET state_digest = %s WHERE session_id = %s AND seq = 3", ("0" * 64, info.id))
        store.conn.execute("ALTER TABLE events ENABLE ALWAYS TRIGGER events_refuse_update")
    else:
        store.conn.execute("DROP TRIGGER events_refuse_update")
        store.conn.execute("UPDATE events SET state_digest = ? WHERE session_id = ? AND seq = 3", ("0" * 64, info.id))
    with pytest.raises(UnsoundLog, match="nnreplay audit"):
        store.record(info.id, [Next()])
    assert store.head(info.id)[0] == 3
