"""Opening a database file: checks that it is nnreplay's, creates or migrates the schema, sets pragmas.

Schema version 1. The tables are `meta` (key/value, holds `schema_version`), `sessions`, `events` (the
log), `snapshots` and `heads` (caches). Triggers make the log append-only whatever client writes to the file.
`heads` (each session's head seq, hash, digest and metrics) came after release 0.1.0: it is added the first
time a database is written to, and a reader that finds it missing or stale folds the log instead. So the
schema version stays 1 and release 0.1.0 still opens the file (its appends leave `heads` stale, never wrong).

Readers open the file read-only (`open_reader`) and never change its bytes; `open_writer` is used only
once a write is about to happen, so a refused request never creates or converts a file.
"""

import os
import pathlib
import sqlite3

from store.chain import GENESIS
from store.errors import NewerSchema, NotADatabase, ReadOnly, StoreError
from store.write_queue import queue_for

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
HEADS_SQL = """CREATE TABLE IF NOT EXISTS heads (session_id TEXT PRIMARY KEY, seq INTEGER NOT NULL,
hash TEXT NOT NULL, state_digest TEXT NOT NULL, loss REAL NOT NULL, accuracy REAL NOT NULL, score REAL NOT NULL)"""
# every schema object nnreplay creates (SQLite's own autoindexes aside); audit reports any other as foreign
OWN_OBJECTS = {("table", "meta"), ("table", "sessions"), ("table", "events"), ("table", "snapshots"),
               ("table", "heads"), ("index", "idx_sessions_name"), *(("trigger", name) for name in GUARD_TRIGGERS)}


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


def check_path(path: str, create: bool) -> bool:
    """Returns whether the file exists with content; raises for paths that cannot be an nnreplay database.

    Nothing is created here: a database file appears only when a write is made (see `open_writer`)."""
    # for both, sqlite3 would open a private temporary database: a session recorded there vanishes on exit
    if not isinstance(path, str) or not path:
        raise NotADatabase("the database path is empty; give --db (or NNREPLAY_DB) a file name")
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
    if not os.path.isfile(path):  # /dev/null, a FIFO: SQLite would write a -journal beside it
        raise NotADatabase(f"{path} is not a regular file, so it cannot hold a database")
    # Only stat the file: opening and closing it here would drop the POSIX locks that SQLite holds on it
    # for any other connection in this process. SQLite itself tells a foreign file apart below.
    return os.path.getsize(path) > 0


def _uri(path: str, **options: str) -> str:
    return pathlib.Path(path).resolve().as_uri() + "?" + "&".join(f"{k}={v}" for k, v in options.items())


def _connect(target: str, path: str, uri: bool = False) -> sqlite3.Connection:
    # uri only for the URIs built here: a file the person named "file:x.db" is a file name, not a URI
    try:
        return sqlite3.connect(target, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, uri=uri)
    except sqlite3.Error as error:
        raise NotADatabase(f"cannot open {path}: {error}") from None


def open_reader(path: str) -> sqlite3.Connection:
    """A read-only connection to an existing nnreplay database: it never changes the file's bytes.

    No journal switch, no migration, no pragma that persists. When the file and folder are writable and
    no -wal file is pending, a plain connection is used that only reads: closing it then removes the
    -wal and -shm files it made and leaves the database's bytes as they were (a read-only connection
    would leave them behind). Otherwise the connection is read-only; in a folder we cannot write, a WAL
    database cannot get its -shm file, and when no -wal file exists either nothing is pending, so the
    file is read as immutable."""
    folder = os.path.dirname(os.path.abspath(path))
    plain = os.access(path, os.W_OK) and os.access(folder, os.W_OK) and not os.path.exists(path + "-wal")
    conn = _connect(path if plain else _uri(path, mode="ro"), path, uri=not plain)
    try:
        try:
            version = _schema_version(conn, path)
        except NotADatabase as error:
            if "unable to open" not in str(error) or os.access(folder, os.W_OK) or os.path.exists(path + "-wal"):
                raise
            conn.close()
            conn = _connect(_uri(path, mode="ro", immutable="1"), path, uri=True)
            version = _schema_version(conn, path)
        if version is None:
            raise NotADatabase(f"{path} holds no nnreplay data yet")
        _refuse_newer(version, path)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    except BaseException:
        conn.close()
        raise
    return conn


def open_writer(path: str) -> tuple[sqlite3.Connection, bool]:
    """A connection for appends: creates the file and schema if absent, adds the `heads` read model to an
    older database, then switches to WAL. Returns (connection, whether `heads` was just added and needs
    filling). All under the write lock in one transaction: two processes opening one new or old database
    at once cannot interleave."""
    conn = _connect(path, path)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        fresh_heads = _initialise(conn, path)
        _set_journal(conn, path)
        # FULL: a press that nnreplay reported as recorded survives a power cut, not only a crash
        conn.execute("PRAGMA synchronous = FULL")
    except BaseException:
        conn.close()
        raise
    return conn, fresh_heads


def _refuse_newer(version: int, path: str) -> None:
    if version > SCHEMA_VERSION:
        raise NewerSchema(f"{path} was written by a newer nnreplay (database schema {version}; this one "
                          f"reads up to {SCHEMA_VERSION}); upgrade nnreplay to open it")


def has_heads(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'heads'").fetchone() is not None


def _initialise(conn: sqlite3.Connection, path: str) -> bool:
    # in this process's queue too: a worker thread opening its writer must not wait behind a stream of
    # presses that SQLite's slow busy handler never gets between
    queue = queue_for(path)
    if not queue.acquire(BUSY_TIMEOUT_MS / 1000):
        raise translate(sqlite3.OperationalError("database is locked"), path)
    try:
        return _create_or_check(conn, path)
    finally:
        queue.release()


def _create_or_check(conn: sqlite3.Connection, path: str) -> bool:
    try:
        conn.execute("BEGIN IMMEDIATE")
        version = _schema_version(conn, path)  # read under the lock: another process may have created it
        if version is None:
            _create_schema(conn)
        else:
            _refuse_newer(version, path)
        fresh_heads = not has_heads(conn)
        if fresh_heads:
            conn.execute(HEADS_SQL)
        conn.execute("COMMIT")
        return fresh_heads
    except BaseException as error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(error, sqlite3.Error):
            raise translate(error, path) from None
        raise


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
        if "unable to open" in str(error):
            raise NotADatabase(f"cannot open {path}: unable to open database file") from None
        raise NotADatabase(f"{path} cannot be read as an nnreplay database: {error}") from None
    if row is None or not str(row[0]).isdigit():
        raise NotADatabase(f"{path} has no nnreplay schema version; it is not an nnreplay database")
    return int(row[0])


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
