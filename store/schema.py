"""Opening a database file: checks that it is nnreplay's, creates or migrates the schema, sets pragmas.

Schema version 1. The tables are `meta` (key/value, holds `schema_version`), `sessions`, `events` (the
log) and `snapshots` (a cache). Triggers make the log append-only whatever client writes to the file.
"""

import os
import sqlite3

from store.chain import GENESIS
from store.errors import NewerSchema, NotADatabase, ReadOnly, StoreError

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000

GUARD_TRIGGERS = ("events_refuse_update", "events_refuse_delete", "events_append_only")

TRIGGERS_SQL = f"""
CREATE TRIGGER IF NOT EXISTS events_refuse_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are immutable: UPDATE of the event log is refused'); END;
CREATE TRIGGER IF NOT EXISTS events_refuse_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are immutable: DELETE from the event log is refused'); END;
CREATE TRIGGER IF NOT EXISTS events_append_only BEFORE INSERT ON events
WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE session_id = NEW.session_id)
  OR NEW.prev_hash IS NOT COALESCE(
       (SELECT hash FROM events WHERE session_id = NEW.session_id ORDER BY seq DESC LIMIT 1), '{GENESIS}')
BEGIN SELECT RAISE(ABORT, 'events are append-only: an insert must be the next seq of its session, chained to its head hash'); END;
"""


def _create_schema(conn: sqlite3.Connection) -> None:
    # sqlite-utils writes the table definitions; we run them inside our own BEGIN IMMEDIATE so that two
    # processes creating one database at once cannot interleave. Imported here only: it costs 0.1-0.2 s.
    import sqlite_utils

    db = sqlite_utils.Database(conn)
    tables = [
        ("meta", {"key": str, "value": str}, "key", {"value"}),
        ("sessions", {"id": str, "name": str, "learner": str, "seed": int, "created_at": str,
                      "parent_id": str, "parent_seq": int}, "id", {"learner", "seed", "created_at"}),
        ("events", {"session_id": str, "seq": int, "type": str, "schema_version": int, "payload": str,
                    "recorded_at": str, "prev_hash": str, "hash": str, "state_digest": str},
         ("session_id", "seq"),
         {"type", "schema_version", "payload", "recorded_at", "prev_hash", "hash", "state_digest"}),
        ("snapshots", {"session_id": str, "engine_version": str, "seq": int, "state": str, "state_digest": str},
         ("session_id", "engine_version", "seq"), {"state", "state_digest"}),
    ]
    for name, columns, pk, not_null in tables:
        conn.execute(db.create_table_sql(name, columns, pk=pk, not_null=not_null))
    conn.execute("CREATE UNIQUE INDEX idx_sessions_name ON sessions (name)")
    for statement in TRIGGERS_SQL.split("END;"):
        if statement.strip():
            conn.execute(statement + "END;")
    conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))


def _check_path(path: str, create: bool) -> bool:
    """Returns whether the file exists with content; raises for paths that cannot be an nnreplay database."""
    # for both, sqlite3 would open a private temporary database: a session recorded there vanishes on exit
    if not path:
        raise NotADatabase("the database path is empty; give --db a file name")
    if path == ":memory:":
        raise NotADatabase("':memory:' is not a file, and a log kept in memory vanishes on exit; give --db a file name")
    if os.path.isdir(path):
        raise NotADatabase(f"{path} is a directory, not a database file")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(path):
        if not os.path.isdir(folder):
            raise NotADatabase(f"cannot create {path}: the folder {folder} does not exist")
        if not create:
            raise NotADatabase(f"no nnreplay database at {path}; record a session with `nnreplay new` first")
        return False
    # Only stat the file: opening and closing it here would drop the POSIX locks that SQLite holds on it
    # for any other connection in this process. SQLite itself tells a foreign file apart below.
    return os.path.getsize(path) > 0


def connect(path: str, create: bool = True) -> sqlite3.Connection:
    """An autocommit connection to a checked nnreplay database, created if `create` and absent."""
    existed = _check_path(path, create)
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.Error as error:
        raise NotADatabase(f"cannot open {path}: {error}") from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version = _schema_version(conn, path) if existed else None
        if version is None:
            if not create:
                raise NotADatabase(f"{path} holds no nnreplay data yet")
            _initialise(conn, path)
        elif version > SCHEMA_VERSION:
            raise NewerSchema(f"{path} was written by a newer nnreplay (database schema {version}; this one "
                              f"reads up to {SCHEMA_VERSION}); upgrade nnreplay to open it")
        _set_journal(conn, path)
        # FULL: a press that nnreplay reported as recorded survives a power cut, not only a crash
        conn.execute("PRAGMA synchronous = FULL")
    except BaseException:
        conn.close()
        raise
    return conn


def _schema_version(conn: sqlite3.Connection, path: str) -> int | None:
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return None
        if "meta" not in tables or "events" not in tables:
            raise NotADatabase(f"{path} is an SQLite database, but not an nnreplay one")
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError as error:
        if "file is not a database" in str(error):
            raise NotADatabase(f"{path} is not an nnreplay database (not an SQLite file)") from None
        raise NotADatabase(f"{path} cannot be read as an nnreplay database: {error}") from None
    if row is None or not str(row[0]).isdigit():
        raise NotADatabase(f"{path} has no nnreplay schema version; it is not an nnreplay database")
    return int(row[0])


def _initialise(conn: sqlite3.Connection, path: str) -> None:
    try:
        conn.execute("BEGIN IMMEDIATE")
        if _schema_version(conn, path) is None:  # another process may have created it meanwhile
            _create_schema(conn)
        conn.execute("COMMIT")
    except sqlite3.Error as error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise translate(error, path) from None


def _set_journal(conn: sqlite3.Connection, path: str) -> None:
    try:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
    except sqlite3.Error as error:
        raise translate(error, path) from None


def translate(error: sqlite3.Error, path: str) -> StoreError:
    """An sqlite3 error as an nnreplay error with a sentence a person understands."""
    text = str(error)
    if "readonly" in text or "read-only" in text:
        return ReadOnly(f"cannot write to {path}: the database is read-only")
    if "locked" in text or "busy" in text:
        from store.errors import Busy

        return Busy(f"{path} is busy: another process held its write lock for over "
                    f"{BUSY_TIMEOUT_MS // 1000} s; try again")
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return NotADatabase(f"{path} is damaged and cannot be read as an nnreplay database ({text})")
    if "unable to open" in text:
        return NotADatabase(f"cannot open {path}: {text}")
    return StoreError(f"{path}: {text}")
