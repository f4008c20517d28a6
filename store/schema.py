"""Opening a database file: checks that it is nnreplay's, creates or migrates the schema, sets pragmas.

Schema version 2. The tables are `meta` (key/value: `schema_version`, `database_id`), `sessions`, `events`
(the log), `snapshots` and `heads` (caches). Triggers make the log append-only and the sessions table
insert-only whatever client writes to the file. Version 1 (release 0.1.0, and later releases that added the
`heads` cache at the first write) lacked the sessions guards and the database id: the first writer to open
such a file upgrades it under the write lock, once its schema has been found to be exactly version 1's
(store.contract); release 0.1.0 then refuses the file as newer. Before any write, the whole schema is
compared with the contract (here, and again whenever SQLite's schema cookie moved), and a -wal file beside
the database is checked to be its own.

Readers open the file read-only (`open_reader`) and never change its bytes; `open_writer` is used only
once a write is about to happen, so a refused request never creates or converts a file.
"""

import os
import pathlib
import re
import secrets
import sqlite3
import time

from store import contract, progress
from store.contract import GUARD_TRIGGERS, HEADS_SQL, TRIGGERS_SQL  # noqa: F401  (tests lift and restore the guards)
from store.errors import ForeignSchema, ForeignWal, NewerSchema, NotADatabase, ReadOnly, StoreError
from store.write_queue import queue_for

SCHEMA_VERSION = 2  # 2 added the sessions guards and the database id (store.contract)
BUSY_TIMEOUT_MS = 30_000


def _create_schema(conn: sqlite3.Connection) -> None:
    # the exact statements the contract compares with (store.contract), in our own BEGIN IMMEDIATE so that
    # two processes creating one database at once cannot interleave
    for sql in contract.version_2_statements():
        conn.execute(sql)
    conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    _set_database_id(conn)


def _set_database_id(conn: sqlite3.Connection) -> None:
    """A random id in the file header (user_version) and in `meta`: a -wal file beside the database whose
    page 1 carries another id is another database's (see `refuse_foreign_wal`)."""
    database_id = secrets.randbelow(2**31 - 2) + 1
    conn.execute(f"PRAGMA user_version = {database_id}")
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('database_id', ?)", (str(database_id),))


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


def _connect(target: str, path: str, uri: bool = False, any_thread: bool = False) -> sqlite3.Connection:
    # uri only for the URIs built here: a file the person named "file:x.db" is a file name, not a URI.
    # any_thread: a server's worker keeps its connection, and the server closes them all when it stops
    try:
        return progress.watch(sqlite3.connect(target, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, uri=uri,
                                              check_same_thread=not any_thread))
    except sqlite3.Error as error:
        raise NotADatabase(f"cannot open {path}: {error}") from None


def open_reader(path: str, any_thread: bool = False) -> sqlite3.Connection:
    """A read-only connection to an existing nnreplay database: it never changes the file's bytes.

    No journal switch, no migration, no pragma that persists. When the file and folder are writable and
    no -wal file is pending, a plain connection is used that only reads: closing it then removes the
    -wal and -shm files it made and leaves the database's bytes as they were (a read-only connection
    would leave them behind). Otherwise the connection is read-only; in a folder we cannot write, a WAL
    database cannot get its -shm file, and when no -wal file exists either nothing is pending, so the
    file is read as immutable."""
    folder = os.path.dirname(os.path.abspath(path))
    plain = os.access(path, os.W_OK) and os.access(folder, os.W_OK) and not os.path.exists(path + "-wal")
    conn = _connect(path if plain else _uri(path, mode="ro"), path, uri=not plain, any_thread=any_thread)
    try:
        try:
            version = _schema_version(conn, path)
        except NotADatabase as error:
            if "unable to open" not in str(error) or os.access(folder, os.W_OK) or os.path.exists(path + "-wal"):
                raise
            conn.close()
            conn = _connect(_uri(path, mode="ro", immutable="1"), path, uri=True, any_thread=any_thread)
            version = _schema_version(conn, path)
        if version is None:
            raise NotADatabase(f"{path} holds no nnreplay data yet")
        _refuse_newer(version, path)
        if not plain:
            refuse_foreign_wal(conn, path)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    except BaseException:
        conn.close()
        raise
    return conn


def open_writer(path: str, any_thread: bool = False) -> tuple[sqlite3.Connection, bool]:
    """A connection for appends: creates the file and schema if absent, adds the `heads` read model to an
    older database, then switches to WAL. Returns (connection, whether `heads` was just added and needs
    filling). All under the write lock in one transaction: two processes opening one new or old database
    at once cannot interleave. A -wal file beside it is checked first, through a read-only connection: a
    writing connection that closed on a foreign WAL would checkpoint it into the file."""
    if os.path.exists(path) and os.path.exists(path + "-wal"):
        probe = _connect(_uri(path, mode="ro"), path, uri=True)
        try:
            refuse_foreign_wal(probe, path)
        finally:
            probe.close()
    conn = _connect(path, path, any_thread=any_thread)
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
        fresh_heads = False
        if version is None:
            _create_schema(conn)
        else:
            _refuse_newer(version, path)
            refuse_foreign_schema(conn, path, version)
            if version < SCHEMA_VERSION:
                fresh_heads = _upgrade(conn)
            elif not has_heads(conn):  # a cache: dropping it loses nothing, and it is made again here
                conn.execute(HEADS_SQL)
                fresh_heads = True
        conn.execute("COMMIT")
        return fresh_heads
    except BaseException as error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(error, sqlite3.Error):
            raise translate(error, path) from None
        raise


def _upgrade(conn: sqlite3.Connection) -> bool:
    """Schema 1 (exactly as an earlier release made it, checked before) to 2: the `heads` cache if it is
    missing, the sessions guards, the database id. Returns whether `heads` was just added (to be filled)."""
    fresh_heads = not has_heads(conn)
    for sql in contract.upgrade_statements(heads=not fresh_heads):
        conn.execute(sql)
    _set_database_id(conn)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
    return fresh_heads


def refuse_foreign_schema(conn: sqlite3.Connection, path: str, version: int) -> None:
    """Raise ForeignSchema, naming every difference, unless the file's schema is exactly one nnreplay makes."""
    problems = contract.differences(conn, version)
    if problems:
        raise ForeignSchema(f"{path} does not have the schema nnreplay creates, so nothing was written: "
                            f"{'; '.join(problems)}. Run `nnreplay audit`; copy the sessions you trust into a new "
                            f"file with `nnreplay export` and `nnreplay import`")


def schema_cookie(conn: sqlite3.Connection) -> int:
    """SQLite's schema cookie: it changes with every change of the schema, by any connection."""
    return conn.execute("PRAGMA schema_version").fetchone()[0]


def refuse_foreign_wal(conn: sqlite3.Connection, path: str) -> None:
    """Refuse a -wal file that belongs to another database (a file restored or copied beside a stale -wal).

    `conn` reads through the WAL; a second connection opened `immutable` reads the file alone (SQLite then
    ignores the WAL, and its unix VFS keeps this process's locks when it closes). The database id in the
    header (user_version) must agree, or the file alone must have none yet while the WAL's header id is the
    one `meta` holds (an upgrade not yet checkpointed). A foreign WAL that never rewrote page 1 (which any
    transaction that grows the file or changes the schema does), or one of another database with no id
    (schema 1, or not nnreplay's), cannot be told apart this way: docs/guarantees.md says what to do."""
    wal = path + "-wal"
    if not os.path.exists(wal) or os.path.getsize(wal) == 0:
        return
    alone = _connect(_uri(path, mode="ro", immutable="1"), path, uri=True)
    try:
        own = alone.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error:
        return  # the file alone cannot be read: the checks that follow say what is wrong with it
    finally:
        alone.close()
    try:
        through = conn.execute("PRAGMA user_version").fetchone()[0]
        if own == through:
            return
        row = conn.execute("SELECT value FROM meta WHERE key = 'database_id'").fetchone()
    except sqlite3.Error:
        return  # not readable now (busy, damaged): only two ids read and found different say "foreign"
    if own == 0 and row is not None and row[0] == str(through):
        return
    raise ForeignWal(f"{wal} does not belong to {path}: it holds another database's changes (a file restored or "
                     f"copied beside a stale -wal), so nothing was read or written. Move {wal} and {path}-shm "
                     f"aside (keep them: they may be another database's only copy of its last transactions), "
                     f"then run the command again")


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
    if row is None or not re.fullmatch(r"[0-9]{1,9}", str(row[0])):
        raise NotADatabase(f"{path} has no nnreplay schema version; it is not an nnreplay database")
    return int(row[0])


def _set_journal(conn: sqlite3.Connection, path: str) -> None:
    # switching a new file to WAL needs it exclusively, and SQLite answers BUSY at once, without its busy
    # handler, while another process that opened it at the same moment still holds a read lock: retry
    # within the busy timeout (six processes creating one file at once under load saw it)
    waited, pause = 0.0, 0.005
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if mode != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or waited >= BUSY_TIMEOUT_MS / 1000:
                raise translate(error, path) from None
        except sqlite3.Error as error:
            raise translate(error, path) from None
        time.sleep(pause)
        waited, pause = waited + pause, min(pause * 2, 0.1)


def translate(error: sqlite3.Error, path: str) -> StoreError:
    """An sqlite3 error as an nnreplay error with a sentence a person understands (a query that a stop
    signal ended as the KeyboardInterrupt it stands for: store.progress)."""
    stopped = progress.interruption(error, path)
    if stopped is not None:
        return stopped
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
