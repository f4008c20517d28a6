"""The event log over PostgreSQL: the PostgreSQL backend of store.recorder.Recorder.

Everything a log does (resolve, start, record, read, fold) is store.recorder's, shared with the SQLite
backend; this module supplies the connection (store.pg_schema.connect), the transaction, the per-session
writer lock and PostgreSQL's spellings. tests/store/test_store_contract.py runs one suite against both.

Writers serialise per session (pg_schema.lock_session, its own statement) and read the head after the
lock, so two nnreplay processes on one session queue; a client that does not queue still cannot write a
gap or a duplicate (primary key, append-only trigger), and the append retries from the new head.
"""

import contextlib
from typing import Iterator

from store import pg_schema, progress, snapshots
from store.errors import NameTaken, SessionExists
from store.recorder import Recorder


def _placeholders(sql: str) -> str:
    return sql.replace("?", "%s")  # the shared SQL never holds a literal '?'


class PgEventLog(Recorder):
    """One open PostgreSQL database (a libpq URL). Use as a context manager, or call close()."""

    _upsert_snapshot = ("INSERT INTO snapshots VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_id, engine_version, seq) "
                        "DO UPDATE SET state = excluded.state, state_digest = excluded.state_digest")
    _upsert_head = ("INSERT INTO heads VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET "
                    "seq = excluded.seq, hash = excluded.hash, state_digest = excluded.state_digest, "
                    "loss = excluded.loss, accuracy = excluded.accuracy, score = excluded.score")
    parallel_audit = False  # audit's worker processes open SQLite files; here one pass per session
    exists = True

    def __init__(self, url: str, create: bool = True, snapshot_every: int = snapshots.SNAPSHOT_EVERY):
        self.path = pg_schema.describe(url)  # what messages name; never the password
        self.snapshot_every = snapshot_every
        self.conn = pg_schema.connect(url, create=create)
        import psycopg  # loaded by connect already

        self._psycopg = psycopg
        self._retry = psycopg.IntegrityError
        self._driver_error = psycopg.Error
        self._heads = pg_schema.has_heads(self.conn)
        self._schema_token = None  # the catalogue fingerprint last found to be the contract's

    def close(self) -> None:
        self.conn.close()

    def materialise(self) -> None:
        """The schema exists once connected (pg_schema.connect creates it)."""

    # -- the backend's primitives (store.recorder) -----------------------------------------------------
    @contextlib.contextmanager
    def _write(self):
        try:
            try:
                with self.conn.transaction():
                    self._check_schema()
                    yield
                    # psycopg commits as this block closes: a server's request abandoned by now rolls back
                    # instead, and from here until the commit ends it cannot be abandoned
                    progress.begin_commit()
            finally:
                progress.end_commit()
        except self._psycopg.IntegrityError:
            raise  # the caller retries from the new head, or names the taken id or name
        except self._psycopg.Error as error:
            raise self._translate(error) from None

    def _check_schema(self) -> None:
        """Before a write, in its transaction: the schema is the contract's (store.pg_guards reads the
        catalogue, 2-3 ms; PostgreSQL has no schema cookie, so a fingerprint of the catalogue rows, 1 query,
        tells when it must read it again)."""
        from store.errors import ForeignSchema
        from store.pg_guards import catalogue_token, guard_problems

        token = catalogue_token(self.conn)
        if token == self._schema_token:
            return
        problems = guard_problems(self.conn)
        if not problems:
            self._schema_token = token
        if problems:
            raise ForeignSchema(f"{self.path} does not have the schema nnreplay creates, so nothing was written: "
                                f"{'; '.join(problems)}. Run `nnreplay audit`; copy the sessions you trust into a "
                                f"new database with `nnreplay export` and `nnreplay import`")

    def _lock(self, session_id: str) -> None:
        pg_schema.lock_session(self.conn, session_id)

    def _sql(self, sql: str, params=()):
        return self.conn.execute(_placeholders(sql), params)

    def _sql_many(self, sql: str, rows) -> None:
        with self.conn.cursor() as cursor:
            cursor.executemany(_placeholders(sql), rows)

    def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        try:
            return self.conn.execute(_placeholders(sql), params).fetchall()
        except self._psycopg.Error as error:
            raise self._translate(error) from None

    def _stream(self, sql: str, params: tuple = ()) -> Iterator[tuple]:
        # fetched whole: a server-side cursor would hold the connection for as long as a reader iterates
        yield from self._read(sql, params)

    def _translate(self, error):
        if isinstance(error, self._psycopg.errors.UniqueViolation) and error.diag.table_name == "sessions":
            if error.diag.constraint_name == "sessions_pkey":
                return SessionExists(f"a session with that id is already in {self.path}")
            return NameTaken("the name is taken by another session; choose another")
        return pg_schema.translate(error, self.path)

    @staticmethod
    def _prefix(prefix: str) -> tuple[str, str]:
        return "id LIKE ?", prefix + "%"  # hex digits hold no LIKE wildcard

    def has_heads(self) -> bool:
        return self._heads  # pg_schema.connect creates or adds the table, unless the role may not

    def _has_press_keys(self) -> bool:
        return bool(self._read("SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                               "WHERE n.nspname = ? AND c.relname = 'press_keys'", (pg_schema.SCHEMA,)))

    def check_guards(self):
        from store.pg_guards import check_guards

        return check_guards(self.conn)

    def change_token(self):
        """(sessions, sum of head seqs) from the heads cache, which every append updates in its own
        transaction: it moves with every press and every new session, on whichever server made them."""
        return tuple(self._read("SELECT count(*), coalesce(sum(seq), 0) FROM heads")[0])
