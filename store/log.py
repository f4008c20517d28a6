"""The event log over one SQLite file: the SQLite backend of store.recorder.Recorder.

Writers take the write lock first (BEGIN IMMEDIATE), read the head inside the transaction, and append
seq = head + 1: two nnreplay processes on one session queue instead of racing. A client that does not
queue still cannot write a gap or a duplicate: the primary key and the append-only trigger refuse it, and
the append retries from the new head.
"""

import sqlite3
from typing import Iterator

from store import progress, snapshots
# re-exported: other modules import these from here
from store.names import MIN_PREFIX, check_name, could_be_id, is_session_id  # noqa: F401
from store.recorder import (BATCH, EVENT_COLUMNS, RETRIES, SESSION_COLUMNS, EventRow, Recorder,  # noqa: F401
                            SessionInfo, utc_now)
from store.schema import (SCHEMA_VERSION, check_path, has_heads, open_reader, open_writer, refuse_foreign_schema,
                          schema_cookie, translate)
from store.transaction import Transaction


class EventLog(Recorder):
    """One open database. Use as a context manager, or call close()."""

    _retry = sqlite3.IntegrityError
    _driver_error = sqlite3.Error
    _upsert_snapshot = "INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?, ?, ?)"
    _upsert_head = "INSERT OR REPLACE INTO heads VALUES (?, ?, ?, ?, ?, ?, ?)"
    parallel_audit = True  # audit may open the file again from worker processes

    def __init__(self, path: str, create: bool = True, snapshot_every: int = snapshots.SNAPSHOT_EVERY,
                 any_thread: bool = False):
        """`any_thread`: the log may be closed from another thread than the one using it (a server closes its
        workers' logs when it stops, so that a reader leaves no -wal or -shm file behind)."""
        self.path = path
        self.snapshot_every = snapshot_every
        self._any_thread = any_thread
        # read-only until the first write; a file that does not exist yet is created by that write only
        self._conn = open_reader(path, any_thread) if check_path(path, create) else None
        self._writer = False
        self._cookie = None  # the schema cookie last found to be the contract's

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._become_writer()
        return self._conn

    def _connection(self):
        return self._conn  # not `conn`: that would create the file, and a read must not

    @property
    def exists(self) -> bool:
        """Whether there is a store to read (an SQLite file is created by its first write only)."""
        return self._conn is not None

    def materialise(self) -> None:
        """Create the database file and its schema now, without recording anything (a store is otherwise
        created by its first write, so that a refused request leaves no file)."""
        self._become_writer()

    def _become_writer(self) -> None:
        if self._writer:
            return
        conn, fresh_heads = open_writer(self.path, self._any_thread)
        if self._conn is not None:
            self._conn.close()
        self._conn, self._writer = conn, True
        if fresh_heads:
            from store.heads import fill_heads

            fill_heads(self)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()

    # -- the backend's primitives (store.recorder) -----------------------------------------------------
    def _write(self):
        self._become_writer()
        return Transaction(self.conn, self.path, self._check_schema)

    def _check_schema(self) -> None:
        """Under the write lock, before a write: the schema is still the contract's. SQLite's schema cookie
        changes with any schema change by any client, so the full comparison runs only when it moved."""
        cookie = schema_cookie(self._conn)
        if cookie != self._cookie:
            refuse_foreign_schema(self._conn, self.path, SCHEMA_VERSION)
            self._cookie = cookie

    def _lock(self, session_id: str) -> None:
        pass  # BEGIN IMMEDIATE already holds the database's one write lock

    def _sql(self, sql: str, params=()):
        return self.conn.execute(sql, params)

    def _sql_many(self, sql: str, rows) -> None:
        self.conn.executemany(sql, rows)

    def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        if self._conn is None:  # no file yet: nothing to read, and reading must not create it
            return []
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.Error as error:
            raise translate(error, self.path) from None

    def _listing(self, sql: str, params: tuple = ()) -> list[tuple]:
        # the file decides what reading `sessions` costs (a view over an endless recursive CTE): bounded
        if self._conn is None:
            return []
        try:
            steps = progress.listing_steps(self._conn)
        except sqlite3.Error as error:
            raise translate(error, self.path) from None
        with progress.budget(steps, "the list of sessions"):
            return self._read(sql, params)

    def _stream(self, sql: str, params: tuple = ()) -> Iterator[tuple]:
        if self._conn is None:
            return
        try:
            # a plain loop, not `yield from`: closing this generator would close the cursor, which fails
            # once the connection is closed (a reader that went away, the log closed before the generator)
            for row in self.conn.execute(sql, params):
                yield row
        except sqlite3.Error as error:
            raise translate(error, self.path) from None

    def _translate(self, error):
        return translate(error, self.path)

    @staticmethod
    def _prefix(prefix: str) -> tuple[str, str]:
        return "id GLOB ?", prefix + "*"  # GLOB is case-sensitive, and uses the primary key's index

    def has_heads(self) -> bool:
        return self._conn is not None and has_heads(self._conn)

    def _has_press_keys(self) -> bool:
        # a schema 1 file gains the table at its first write; reading one must not fail on its absence
        return self._conn is not None and self._conn.execute(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'press_keys'").fetchone() is not None

    def check_guards(self):
        from store.unhashed import check_guards

        return check_guards(self.conn)

    def change_token(self):
        """SQLite's counter of commits made by other connections: a cheap "did anything change?"."""
        if self._conn is None:
            return None
        return self._read("PRAGMA data_version")[0][0]
