"""The PostgreSQL schema's own guards, against a real server (tests/pgserver.py) with real psycopg.

Each forbidden write goes through a plain psycopg connection (no nnreplay code on it, superuser even),
and the database itself must refuse it and leave the log exactly as it was.
"""

import os
import subprocess
import sys
import time

import pytest

from pgserver import import_psycopg

psycopg = import_psycopg()

from engine import Next, Settings, Start, decide, evolve, rng_for, state_digest  # noqa: E402
from store import pg_guards, pg_schema  # noqa: E402
from store.chain import GENESIS, encode_payload, event_hash, verify_hash  # noqa: E402
from store.errors import Busy, NewerSchema, NotADatabase, ReadOnly, StoreError  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLUMNS = "session_id, seq, type, schema_version, payload, recorded_at, prev_hash, hash, state_digest"
INSERT = f"INSERT INTO nnreplay.events ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
SID = "5e55" * 8


@pytest.fixture
def db(pg_url):
    """An nnreplay connection to a fresh database whose schema it just created."""
    conn = pg_schema.connect(pg_url)
    yield conn
    conn.close()


@pytest.fixture
def plain(pg_url, db):
    """A plain psycopg connection to the same database: autocommit, the server's own json loader."""
    conn = psycopg.connect(pg_url, autocommit=True)
    yield conn
    conn.close()


def event_rows(session_id: str, presses: int) -> list[tuple]:
    """The rows of a real thompson session: session_started and `presses` Next presses, hash-chained."""
    settings = Settings(learner="thompson", seed=5)
    state, rows, prev = None, [], GENESIS
    commands = [Start(settings)] + [Next()] * presses
    for command in commands:
        seq = 1 if state is None else state.seq + 1
        for event in decide(state, command, rng_for(settings.seed, seq)):
            state = evolve(state, event)
            payload = encode_payload(event.to_payload())
            recorded_at = f"2026-11-30T12:00:{seq:02d}.000000+00:00"
            hash_ = event_hash(session_id, state.seq, event.type, event.schema_version, payload, recorded_at, prev)
            rows.append((session_id, state.seq, event.type, event.schema_version, payload, recorded_at, prev,
                         hash_, state_digest(state)))
            prev = hash_
    return rows


@pytest.fixture
def recorded(db):
    """A session of 6 events written through the nnreplay connection; returns its rows."""
    rows = event_rows(SID, 5)
    with db.transaction():
        db.execute("INSERT INTO nnreplay.sessions (id, name, learner, seed, created_at) VALUES (%s, %s, %s, %s, %s)",
                   (SID, "guarded", "thompson", 5, rows[0][5]))
        db.cursor().executemany(INSERT, rows)
    return rows


def stored(conn) -> list[tuple]:
    return conn.execute(f"SELECT {COLUMNS.replace('payload', 'payload::text')} FROM nnreplay.events "
                        f"ORDER BY session_id, seq").fetchall()


def refuse(conn, sql: str, params=None) -> str:
    """Run one write on `conn`; assert that the database refused it and that the log is unchanged."""
    before = stored(conn)
    with pytest.raises(psycopg.DatabaseError) as refused:
        conn.execute(sql, params)
    assert stored(conn) == before
    return str(refused.value)


def test_creates_schema_version_one_in_meta(db):
    """A fresh database gets nnreplay's tables and schema version 1 in meta."""
    assert db.execute("SELECT value FROM nnreplay.meta WHERE key = 'schema_version'").fetchone() == ("3",)
    assert pg_schema.schema_version(db, "db") == pg_schema.SCHEMA_VERSION == 3


@pytest.mark.parametrize("sql", [
    "UPDATE nnreplay.events SET payload = '{}' WHERE seq = 3",
    "UPDATE nnreplay.events SET recorded_at = recorded_at",
    "UPDATE nnreplay.events SET seq = seq WHERE false",
    "DELETE FROM nnreplay.events WHERE seq = 6",
    "DELETE FROM nnreplay.events",
    "TRUNCATE nnreplay.events",
    "TRUNCATE nnreplay.sessions CASCADE",
    "INSERT INTO nnreplay.events SELECT * FROM nnreplay.events WHERE seq = 6 "
    "ON CONFLICT (session_id, seq) DO UPDATE SET payload = '{}'",
])
def test_rewrites_of_the_log_are_refused_as_immutable(plain, recorded, sql):
    """UPDATE, DELETE and TRUNCATE (cascaded and upserts too) are refused by the database: 'immutable'."""
    assert "immutable" in refuse(plain, sql)


def test_guards_hold_in_replica_mode(plain, recorded):
    """The triggers are enabled ALWAYS: a superuser's session_replication_role = replica does not skip them."""
    plain.execute("SET session_replication_role = replica")
    assert "immutable" in refuse(plain, "DELETE FROM nnreplay.events")


@pytest.mark.parametrize("change", ["gap", "duplicate", "wrong prev_hash", "first not from genesis"])
def test_an_insert_that_is_not_the_next_chained_seq_is_refused(plain, recorded, change):
    """An insert must be its session's next seq with prev_hash equal to the head's hash."""
    head = recorded[-1]
    row = list(head)
    if change == "gap":
        row[1], row[6] = head[1] + 2, head[7]
    elif change == "duplicate":
        row[1], row[6] = head[1], recorded[-2][7]
    elif change == "wrong prev_hash":
        row[1], row[6] = head[1] + 1, recorded[-2][7]
    else:
        plain.execute("INSERT INTO nnreplay.sessions (id, learner, seed, created_at) VALUES ('other', 'x', 1, 'now')")
        row[0], row[1], row[6] = "other", 1, head[7]
    assert refuse(plain, INSERT, row)


def test_the_next_chained_event_is_accepted(plain, recorded):
    """The guard lets the honest append through: next seq, chained to the head."""
    rows = event_rows(SID, 6)
    plain.execute(INSERT, rows[-1])
    assert stored(plain)[-1][:2] == (SID, 7)


def test_an_event_needs_its_session(plain, db):
    """The foreign key refuses events of a session that is not in the sessions table."""
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        plain.execute(INSERT, event_rows("nobody", 0)[0])


def test_payload_comes_back_as_the_exact_text_that_was_hashed(db, recorded):
    """The json column keeps the inserted text: every stored hash recomputes from the returned payload."""
    for row, back in zip(recorded, db.execute(f"SELECT {COLUMNS} FROM nnreplay.events ORDER BY seq")):
        assert back == row
        session_id, seq, type_, version, payload, recorded_at, prev_hash, hash_, _ = back
        assert isinstance(payload, str)
        assert event_hash(session_id, seq, type_, version, payload, recorded_at, prev_hash) == hash_


@pytest.mark.parametrize("text", [
    '{"z":1,"a":2}',
    '{"x":1.0e5,"y":0.1000,"w":-0.0,"v":1E400,"u":12345678901234567890123}',
    '{"a" :  [1,2 , 3] }',
    '{"name":"é😀\\u00e9\\"\\n","dup":1,"dup":2}',
])
def test_json_column_keeps_key_order_spacing_and_number_spelling(db, text):
    """Unlike jsonb, json returns exactly the text inserted: order, duplicates, spacing, numbers, escapes."""
    db.execute("CREATE TEMP TABLE t (payload json)")
    db.execute("INSERT INTO t VALUES (%s)", (text,))
    assert db.execute("SELECT payload FROM t").fetchone()[0] == text


def test_payload_must_be_json(plain, recorded):
    """Text that is not JSON cannot be stored as a payload."""
    row = list(event_rows(SID, 6)[-1])
    row[4] = "{not json"
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        plain.execute(INSERT, row)


def test_hash_definition_matches_for_payloads_read_back(db, recorded):
    """The documented canonical form (verify_hash over the decoded payload) agrees with the stored text."""
    import json

    for session_id, seq, type_, version, payload, recorded_at, prev_hash, hash_, _ in recorded:
        text = db.execute("SELECT payload FROM nnreplay.events WHERE seq = %s", (seq,)).fetchone()[0]
        assert verify_hash(session_id, seq, type_, version, json.loads(text), recorded_at, prev_hash) == hash_


def test_reopening_keeps_the_schema(pg_url, recorded):
    """A second connect finds the schema and creates nothing."""
    with pg_schema.connect(pg_url, create=False) as conn:
        assert stored(conn) and pg_guards.guard_problems(conn) == []
