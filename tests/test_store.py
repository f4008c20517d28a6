"""The event store over a real SQLite file: schema, guards, chain, snapshots, refusing foreign files."""

import hashlib
import json
import sqlite3

import pytest

from engine import Next, Rate, Settings, state_digest
from store import GENESIS, EventLog, NewerSchema, NotADatabase, verify_hash
from store.chain import canonical_bytes, encode_payload, event_hash


@pytest.fixture
def store(db_path):
    with EventLog(db_path) as log:
        yield log


@pytest.fixture
def session(store):
    info = store.new_session(Settings(learner="thompson", seed=4))
    store.record(info.id, [Next(), Rate("good"), Next(), Rate("bad")])
    return info


def test_events_table_has_exactly_the_contract_columns(session, db_path):
    """events: session_id, seq, type, schema_version, payload, recorded_at, prev_hash, hash, state_digest."""
    conn = sqlite3.connect(db_path)
    columns = [row[1] for row in conn.execute("PRAGMA table_info(events)")]
    assert columns == ["session_id", "seq", "type", "schema_version", "payload", "recorded_at", "prev_hash",
                       "hash", "state_digest"]
    pk = sorted((row[5], row[1]) for row in conn.execute("PRAGMA table_info(events)") if row[5])
    assert [name for _, name in pk] == ["session_id", "seq"]
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("2",)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


@pytest.mark.parametrize("sql", ["UPDATE events SET payload = '{}' WHERE seq = 2",
                                 "DELETE FROM events WHERE seq = 5",
                                 "DELETE FROM events"])
def test_plain_sqlite3_cannot_change_or_delete_events(session, db_path, sql):
    """UPDATE and DELETE on events fail in the database itself, whatever the client."""
    conn = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        conn.execute(sql)
    conn.rollback()
    assert conn.execute("SELECT COUNT(*) FROM events").fetchone() == (5,)


def test_insert_or_replace_over_an_event_is_refused(session, db_path):
    """INSERT OR REPLACE cannot slip past the DELETE guard: the append-only trigger refuses it first."""
    conn = sqlite3.connect(db_path)
    row = conn.execute("SELECT * FROM events WHERE seq = 3").fetchone()
    forged = row[:4] + ('{"source":"forged"}',) + row[5:]
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("INSERT OR REPLACE INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", forged)
    assert conn.execute("SELECT payload FROM events WHERE seq = 3").fetchone()[0] == row[4]


def test_hash_chain_matches_the_documented_definition(session, store):
    """Every hash is sha256 of the documented canonical JSON, chained from 64 zeros."""
    prev = GENESIS
    for row in store.rows(session.id):
        record = {"session_id": row.session_id, "seq": row.seq, "type": row.type,
                  "schema_version": row.schema_version, "payload": json.loads(row.payload),
                  "recorded_at": row.recorded_at, "prev_hash": prev}
        text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert row.prev_hash == prev
        assert row.hash == hashlib.sha256(text.encode("utf-8")).hexdigest()
        prev = row.hash


@pytest.mark.parametrize("session_id", ["plain", 'quo"te', "back\\slash", "new\nline", "émoji 🙂"])
def test_fast_hash_equals_the_definition_for_any_strings(session_id):
    """The fast path that reuses the encoded payload gives the same hash as the definition."""
    payload = {"source": "cli", "draws": [0.1, 1e-300, 2.5], "button": "good", "reward": None}
    fast = event_hash(session_id, 7, "feedback_given", 1, encode_payload(payload), "2026-01-01T00:00:00+00:00", GENESIS)
    assert fast == verify_hash(session_id, 7, "feedback_given", 1, payload, "2026-01-01T00:00:00+00:00", GENESIS)
    assert fast == hashlib.sha256(canonical_bytes(session_id, 7, "feedback_given", 1, payload,
                                                  "2026-01-01T00:00:00+00:00", GENESIS)).hexdigest()


def test_recorded_at_is_utc_iso8601(session, store):
    """recorded_at is an ISO-8601 UTC timestamp with microseconds."""
    from datetime import datetime, timezone

    for row in store.rows(session.id):
        stamp = datetime.fromisoformat(row.recorded_at)
        assert stamp.tzinfo is not None and stamp.utcoffset() == timezone.utc.utcoffset(None)


def test_snapshots_are_written_every_k_events_and_are_only_a_cache(db_path):
    """Snapshots appear every K events; deleting them all changes no state."""
    with EventLog(db_path, snapshot_every=10) as log:
        info = log.new_session(Settings(learner="thompson", seed=8))
        log.record(info.id, [Next()] * 34)
        seqs = [row[0] for row in log.conn.execute("SELECT seq FROM snapshots ORDER BY seq")]
        assert seqs == [10, 20, 30]
        before = [state_digest(log.state(info.id, seq)) for seq in range(1, 36)]
        log.delete_snapshots()
        assert [state_digest(log.state(info.id, seq)) for seq in range(1, 36)] == before


def test_a_damaged_snapshot_is_ignored(db_path):
    """A snapshot whose contents do not match its digest is passed over; the state is folded instead."""
    with EventLog(db_path, snapshot_every=10) as log:
        info = log.new_session(Settings(learner="gradient", seed=8))
        log.record(info.id, [Next()] * 25)
        truth = state_digest(log.state(info.id, use_snapshots=False))
        log.conn.execute("UPDATE snapshots SET state = replace(state, '\"params\":[', '\"params\":[1')")
        assert state_digest(log.state(info.id)) == truth


def test_racing_appends_never_duplicate_a_seq(db_path):
    """Two connections appending to one session in turn each continue from the other's head."""
    with EventLog(db_path) as one, EventLog(db_path) as two:
        info = one.new_session(Settings(learner="thompson", seed=1))
        for _ in range(5):
            one.record(info.id, [Next()])
            two.record(info.id, [Next()])
        seqs = [row.seq for row in one.rows(info.id)]
    assert seqs == list(range(1, 12))


def test_a_refused_press_writes_nothing(session, store):
    """A batch containing a refused press is rolled back whole."""
    before = store.head(session.id)
    with pytest.raises(Exception, match="unknown button"):
        store.record(session.id, [Next(), Rate("excellent")])
    assert store.head(session.id) == before


def test_a_text_file_is_refused_and_left_unchanged(tmp_path):
    """Opening a file that is not SQLite fails clearly and changes nothing."""
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    with pytest.raises(NotADatabase, match="not an nnreplay database"):
        EventLog(str(path))
    assert path.read_text() == "hello\n"


def test_a_foreign_sqlite_database_is_refused_and_left_unchanged(tmp_path):
    """An SQLite file of another application is not taken over."""
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE people (name TEXT)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(NotADatabase, match="not an nnreplay one"):
        EventLog(str(path))
    assert path.read_bytes() == before


def test_a_newer_schema_is_refused(session, db_path):
    """A database written by a newer nnreplay is refused with a message saying so."""
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(NewerSchema, match="newer nnreplay"):
        EventLog(db_path)
