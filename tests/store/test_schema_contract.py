"""The schema is the contract (issue 17, items 1-4): the sessions table is guarded like events, audit accounts
for every event, every schema object (sqlite_* ones too) is compared before a write and by audit, and a -wal
file of another database is refused before anything is read or written."""

import json
import os
import shutil
import sqlite3

import pytest

from store.schema import GUARD_TRIGGERS, TRIGGERS_SQL
from test_caches_and_appends import one_error, sha  # noqa: E402 - the same checks of a refusal and a file

RELEASE_DB = os.path.join(os.path.dirname(__file__), "..", "data", "release-0.1.0.db")


@pytest.fixture
def first(nnreplay):
    """A gradient session of 151 events named `first` (with a snapshot at seq 100), and a second one."""
    sid = nnreplay("new", "--seed", "3", "--name", "first").stdout.strip()
    nnreplay("next", "first", "-n", "150")
    nnreplay("new", "--seed", "4", "--name", "second")
    return sid


def guards_reason(nnreplay) -> str:
    report = json.loads(nnreplay("audit", "--json", ok=False).stdout)
    assert not report["ok"] and not report["guards"]["ok"]
    return report["guards"]["reason"]


def refused_before_writing(nnreplay, db_path, *words, session="first") -> None:
    """A press and a new session are refused naming `words`, and the file keeps every byte."""
    before = sha(db_path)
    one_error(nnreplay("next", session, "-n", "20", ok=False), "does not have the schema", "nothing was written",
              *words)
    one_error(nnreplay("new", "--name", "FIRST", ok=False), "does not have the schema", *words)
    assert sha(db_path) == before


@pytest.mark.parametrize("sql, words", [
    ("DELETE FROM sessions WHERE name = 'first'", "DELETE from the sessions table is refused"),
    ("UPDATE sessions SET name = 'renamed' WHERE name = 'first'", "UPDATE of the sessions table is refused"),
    ("INSERT OR REPLACE INTO sessions SELECT id, 'x', learner, seed, created_at, NULL, NULL FROM sessions "
     "WHERE name = 'first'", "an insert may not replace a session"),
    ("REPLACE INTO sessions SELECT 'a' || substr(id, 2), name, learner, seed, created_at, NULL, NULL FROM sessions "
     "WHERE name = 'first'", "an insert may not replace a session"),
])
def test_the_database_refuses_every_rewrite_of_the_sessions_table(first, db_path, sql, words):
    """Item 1: DELETE, UPDATE and a replacing INSERT of a session row are refused by the file itself, for any
    client (a plain stdlib connection), and the table is exactly as it was."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    before = conn.execute("SELECT * FROM sessions ORDER BY id").fetchall()
    with pytest.raises(sqlite3.IntegrityError, match=words):
        conn.execute(sql)
    assert conn.execute("SELECT * FROM sessions ORDER BY id").fetchall() == before
    conn.close()


def test_audit_reports_events_whose_session_row_was_deleted(nnreplay, first, db_path):
    """Item 1: with its row deleted (guards lifted and put back), `first`'s 151 events are still audited and
    reported: audit used to say "every check holds" over the one listed session."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("DROP TRIGGER sessions_refuse_delete")
    conn.execute("DELETE FROM sessions WHERE name = 'first'")
    conn.executescript(TRIGGERS_SQL)
    conn.close()
    audited = nnreplay("audit", ok=False)
    assert audited.exit_code == 1
    assert "151 events" in audited.stdout and "TAMPERED" in audited.stdout
    assert "the sessions table has no row for this session: its 151 event(s) are hidden" in audited.stdout
    report = json.loads(nnreplay("audit", "--json", ok=False).stdout)
    assert report["events"] == 152 and report["guards"]["ok"]
    assert [s["id"] for s in report["sessions"] if not s["ok"]] == [first]


def _writable_schema(db_path, *statements) -> None:
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA writable_schema = ON")
    cookie = conn.execute("PRAGMA schema_version").fetchone()[0]
    for sql in statements:
        conn.execute(sql)
    conn.execute(f"PRAGMA schema_version = {cookie + 1}")
    conn.close()


def test_a_trigger_named_sqlite_is_seen_and_no_press_runs_beside_it(nnreplay, first, db_path):
    """Item 2: a trigger named `sqlite_keep`, slipped into sqlite_schema with writable_schema, used to pass
    check 7 (names starting with sqlite_ were skipped) and delete sessions behind a press reported as done."""
    _writable_schema(db_path, "INSERT INTO sqlite_schema (type, name, tbl_name, rootpage, sql) VALUES ('trigger', "
                              "'sqlite_keep', 'events', 0, 'CREATE TRIGGER sqlite_keep AFTER INSERT ON events "
                              "BEGIN DELETE FROM snapshots; END')")
    refused_before_writing(nnreplay, db_path, "trigger sqlite_keep on events")
    assert "trigger sqlite_keep on events" in guards_reason(nnreplay)
    assert nnreplay.json("show", "first", "--json")["seq"] == 151


def _rebuild(db_path, table: str, columns: str, extra: str) -> None:
    """Recreate `table` with its columns plus `extra` (a constraint), rows, index and guards kept."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    for name in GUARD_TRIGGERS:
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute(f"CREATE TABLE rebuilt ({columns}, {extra})")
    conn.execute(f"INSERT INTO rebuilt SELECT * FROM {table}")
    conn.execute(f"DROP TABLE {table}")
    conn.execute(f"ALTER TABLE rebuilt RENAME TO {table}")
    conn.execute("CREATE UNIQUE INDEX IF NOT EXISTS idx_sessions_name ON sessions (name)")
    conn.executescript(TRIGGERS_SQL)
    conn.close()


SESSION_COLUMNS = ("id TEXT PRIMARY KEY, name TEXT, learner TEXT NOT NULL, seed INTEGER NOT NULL, "
                   "created_at TEXT NOT NULL, parent_id TEXT, parent_seq INTEGER")
EVENT_COLUMNS = ("session_id TEXT, seq INTEGER, type TEXT NOT NULL, schema_version INTEGER NOT NULL, payload TEXT "
                 "NOT NULL, recorded_at TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, state_digest "
                 "TEXT NOT NULL, PRIMARY KEY (session_id, seq)")


@pytest.mark.parametrize("table, columns, extra, autoindex", [
    ("sessions", SESSION_COLUMNS, "UNIQUE (name COLLATE NOCASE) ON CONFLICT REPLACE", "sqlite_autoindex_sessions_2"),
    ("events", EVENT_COLUMNS, "UNIQUE (session_id, type) ON CONFLICT REPLACE", "sqlite_autoindex_events_2")])
def test_a_table_rebuilt_with_a_replacing_constraint_is_refused(nnreplay, first, db_path, table, columns, extra,
                                                                autoindex):
    """Item 3: a UNIQUE ... ON CONFLICT REPLACE makes SQLite delete rows without firing DELETE triggers
    (`new --name FIRST` deleted `first`; one `next` deleted the previous event). Its index is named
    sqlite_autoindex_*, so check 7 used to pass: now the table's SQL and the extra index are named, and no
    write runs on the file."""
    _rebuild(db_path, table, columns, extra)  # (on events, the copy itself keeps one event per type)
    refused_before_writing(nnreplay, db_path, f"the table {table} was altered", autoindex, session="second")
    reason = guards_reason(nnreplay)
    assert f"the table {table} was altered" in reason and f"index {autoindex} on {table}" in reason
    assert [s["name"] for s in nnreplay.json("sessions", "--json")] == ["first", "second"]


def test_a_generated_column_is_refused(nnreplay, first, db_path):
    """Item 3: a generated column added with ALTER TABLE used to pass check 7."""
    with sqlite3.connect(db_path) as conn:
        conn.execute("ALTER TABLE sessions ADD COLUMN shadow GENERATED ALWAYS AS (upper(name)) VIRTUAL")
    refused_before_writing(nnreplay, db_path, "the table sessions was altered", "shadow")
    assert "the table sessions was altered" in guards_reason(nnreplay)


def test_a_schema_changed_while_a_writer_is_open_is_refused_at_its_next_write(first, db_path):
    """Item 3: a long-lived writer (the server's) compares the schema again whenever SQLite's schema cookie
    moved, before its next write."""
    from engine import Next
    from store import EventLog
    from store.errors import ForeignSchema

    with EventLog(db_path) as log:
        log.record(first, [Next()])
        with sqlite3.connect(db_path) as conn:
            conn.execute("CREATE TRIGGER sneaky AFTER INSERT ON events BEGIN DELETE FROM heads; END")
        with pytest.raises(ForeignSchema, match="trigger sneaky on events"):
            log.record(first, [Next()])
        assert log.head(first)[0] == 152


def test_a_wal_of_another_database_is_refused_before_anything_is_read_or_written(nnreplay, runner, first, db_path,
                                                                                 tmp_path):
    """Item 4: another database's -wal beside the file (a restored file next to a stale WAL) used to make
    `sessions` list the other database's sessions with exit 0, and the next press checkpointed it into the
    file, which then failed integrity_check and had lost its session. Now both are refused, the file keeps
    its bytes and the WAL stays for whoever owns it; moved aside, the file is whole."""
    import cli

    other = str(tmp_path / "other.db")
    run = lambda *args: runner.invoke(cli.app, ["--db", other, *args])  # noqa: E731
    assert run("new", "--name", "elsewhere").exit_code == 0
    keeper = sqlite3.connect(other)  # holds the WAL open, so that nnreplay's close does not checkpoint it
    keeper.execute("SELECT 1 FROM meta").fetchall()
    assert run("next", "elsewhere", "-n", "60").exit_code == 0
    shutil.copyfile(other + "-wal", db_path + "-wal")
    keeper.close()
    before = sha(db_path)
    one_error(nnreplay("sessions", ok=False), "-wal does not belong to", "Move", "aside")
    one_error(nnreplay("next", "first", ok=False), "-wal does not belong to")
    one_error(nnreplay("audit", ok=False), "-wal does not belong to")
    assert sha(db_path) == before and os.path.exists(db_path + "-wal")
    os.rename(db_path + "-wal", str(tmp_path / "aside-wal"))
    if os.path.exists(db_path + "-shm"):
        os.rename(db_path + "-shm", str(tmp_path / "aside-shm"))
    assert [s["name"] for s in nnreplay.json("sessions", "--json")] == ["first", "second"]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_an_older_database_is_upgraded_once_under_the_write_lock(runner, tmp_path):
    """Item 1: a file of release 0.1.0 (schema 1, no sessions guards) reads as before and its schema is
    accepted by audit; the first press upgrades it to schema 2 (guards, database id) and audit's check 7
    still holds; afterwards the file refuses a DELETE of a session."""
    import cli

    db = str(tmp_path / "release.db")
    shutil.copyfile(RELEASE_DB, db)
    run = lambda *args: runner.invoke(cli.app, ["--db", db, *args])  # noqa: E731
    guards = json.loads(run("audit", "--json").stdout)["guards"]
    assert guards["ok"], guards
    assert run("next", "person-2").exit_code == 0
    with sqlite3.connect(db) as conn:
        meta = dict(conn.execute("SELECT key, value FROM meta"))
        assert meta["schema_version"] == "2"
        assert meta["database_id"] == str(conn.execute("PRAGMA user_version").fetchone()[0]) != "0"
        with pytest.raises(sqlite3.IntegrityError, match="sessions are immutable"):
            conn.execute("DELETE FROM sessions WHERE name = 'person-2'")
    report = json.loads(run("audit", "--json").stdout)
    assert report["guards"]["ok"], report["guards"]
    assert next(s for s in report["sessions"] if s["name"] == "person-2")["ok"]


def test_an_upgrade_not_yet_checkpointed_is_not_taken_for_a_foreign_wal(runner, tmp_path):
    """Item 4: the upgrade writes the database id into the header through the WAL; until a checkpoint the
    file alone still says 0. That WAL is the file's own (meta holds the same id) and is read and written."""
    import cli

    db = str(tmp_path / "release.db")
    shutil.copyfile(RELEASE_DB, db)
    keeper = sqlite3.connect(db)  # another connection open: no checkpoint when nnreplay's writer closes
    keeper.execute("SELECT 1 FROM meta").fetchall()
    try:
        assert runner.invoke(cli.app, ["--db", db, "next", "person-2"]).exit_code == 0
        alone = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)
        assert alone.execute("PRAGMA user_version").fetchone() == (0,)  # the header in the file itself
        alone.close()
        listed = runner.invoke(cli.app, ["--db", db, "sessions", "--json"])
        # 3: sessions of release 0.1.0 that this machine's arithmetic replays differently (test_release_compat.py)
        assert listed.exit_code in (0, 1, 3) and "does not belong" not in listed.stderr, listed.stderr
        assert len(json.loads(listed.stdout)) == 8
        assert runner.invoke(cli.app, ["--db", db, "next", "person-2"]).exit_code == 0
    finally:
        keeper.close()
