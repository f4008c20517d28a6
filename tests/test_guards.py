"""The database's own guards: whatever client writes to the file, the event log stays append-only.

Each test opens the file with the standard library's sqlite3 (recursive_triggers explicitly off, no
nnreplay code on the connection) and tries one forbidden write; the triggers must refuse it and leave the
log exactly as it was.
"""

import sqlite3

import pytest

from engine import Next, Settings
from store import EventLog, GENESIS
from store.chain import event_hash

COLUMNS = "session_id, seq, type, schema_version, payload, recorded_at, prev_hash, hash, state_digest"


@pytest.fixture
def recorded(db_path):
    """A database holding one thompson session of 12 events; returns (path, session id)."""
    with EventLog(db_path) as log:
        info = log.new_session(Settings(learner="thompson", seed=5), name="guarded")
        log.record(info.id, [Next()] * 11)
    return db_path, info.id


def plain_connection(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA recursive_triggers = OFF")
    assert conn.execute("PRAGMA recursive_triggers").fetchone()[0] == 0
    return conn


def all_events(path: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT {COLUMNS} FROM events ORDER BY session_id, seq").fetchall()


def head(conn, session_id):
    return conn.execute("SELECT seq, hash FROM events WHERE session_id = ? ORDER BY seq DESC LIMIT 1",
                        (session_id,)).fetchone()


def forged_row(session_id: str, seq: int, prev_hash: str) -> tuple:
    """An otherwise well-formed iterated event with a correct hash for the given seq and prev_hash."""
    payload, recorded_at = '{"source":"forger"}', "2030-01-01T00:00:00.000000Z"
    hash_ = event_hash(session_id, seq, "iterated", 1, payload, recorded_at, prev_hash)
    return (session_id, seq, "iterated", 1, payload, recorded_at, prev_hash, hash_, "0" * 64)


def refuse(path: str, sql: str, params: tuple = ()) -> str:
    """Run one write through a plain connection; return the database's refusal message."""
    before = all_events(path)
    conn = plain_connection(path)
    with pytest.raises(sqlite3.DatabaseError) as refused:
        conn.execute(sql, params)
    conn.close()
    assert all_events(path) == before
    return str(refused.value)


def test_update_of_an_event_is_refused(recorded):
    """UPDATE of any event column is aborted by the events_refuse_update trigger."""
    path, sid = recorded
    message = refuse(path, "UPDATE events SET payload = '{\"source\":\"x\"}' WHERE session_id = ? AND seq = 5", (sid,))
    assert "UPDATE of the event log is refused" in message


def test_update_or_replace_is_refused_too(recorded):
    """UPDATE OR REPLACE, which resolves key conflicts by deleting, is refused like a plain UPDATE."""
    path, sid = recorded
    message = refuse(path, "UPDATE OR REPLACE events SET seq = 3 WHERE session_id = ? AND seq = 4", (sid,))
    assert "refused" in message


def test_delete_of_an_event_is_refused(recorded):
    """DELETE of the newest event (the one a truncation would remove first) is aborted."""
    path, sid = recorded
    message = refuse(path, "DELETE FROM events WHERE session_id = ? AND seq = 12", (sid,))
    assert "DELETE from the event log is refused" in message


def test_delete_of_the_whole_log_is_refused(recorded):
    """An unqualified DELETE FROM events removes nothing (SQLite's truncate shortcut is disabled by triggers)."""
    path, _ = recorded
    assert "refused" in refuse(path, "DELETE FROM events")


def test_insert_or_replace_over_an_existing_event_is_refused(recorded):
    """INSERT OR REPLACE of seq 5 with a valid-looking hash cannot replace the recorded event.

    With recursive_triggers off, the REPLACE's implicit delete fires no DELETE trigger, so the
    BEFORE INSERT trigger is what must stop it.
    """
    path, sid = recorded
    with sqlite3.connect(path) as conn:
        prev = conn.execute("SELECT hash FROM events WHERE session_id = ? AND seq = 4", (sid,)).fetchone()[0]
    message = refuse(path, f"INSERT OR REPLACE INTO events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     forged_row(sid, 5, prev))
    assert "append-only" in message


def test_replace_of_the_head_event_is_refused(recorded):
    """REPLACE INTO the newest seq, chained to the event before it, is refused as well."""
    path, sid = recorded
    with sqlite3.connect(path) as conn:
        prev = conn.execute("SELECT hash FROM events WHERE session_id = ? AND seq = 11", (sid,)).fetchone()[0]
    message = refuse(path, f"REPLACE INTO events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     forged_row(sid, 12, prev))
    assert "append-only" in message


def test_insert_skipping_a_seq_is_refused(recorded):
    """An insert of seq head+2, even chained to the head hash, would leave a gap and is refused."""
    path, sid = recorded
    with sqlite3.connect(path) as conn:
        seq, hash_ = head(conn, sid)
    message = refuse(path, f"INSERT INTO events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     forged_row(sid, seq + 2, hash_))
    assert "append-only" in message


def test_insert_breaking_prev_hash_is_refused(recorded):
    """An insert of seq head+1 whose prev_hash is not the head's hash breaks the chain and is refused."""
    path, sid = recorded
    with sqlite3.connect(path) as conn:
        seq, _ = head(conn, sid)
    message = refuse(path, f"INSERT INTO events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     forged_row(sid, seq + 1, GENESIS))
    assert "append-only" in message


def test_a_second_first_event_is_refused(recorded):
    """A new seq 1 for an existing session, chained to the genesis hash, is refused."""
    path, sid = recorded
    message = refuse(path, f"INSERT OR IGNORE INTO events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     forged_row(sid, 1, GENESIS))
    assert "append-only" in message


def test_a_correct_append_by_a_foreign_client_is_accepted(recorded):
    """The guards are exact, not a blanket lock: the next seq chained to the head hash is accepted."""
    path, sid = recorded
    conn = plain_connection(path)
    seq, hash_ = head(conn, sid)
    conn.execute(f"INSERT INTO events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", forged_row(sid, seq + 1, hash_))
    assert head(conn, sid)[0] == seq + 1
    conn.close()

