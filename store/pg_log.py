"""The event log over PostgreSQL: the same sessions, appends and reads as store.log.EventLog.

A draft behind the store contract (issue 12, phase 1), not yet reachable from the CLI. Method names,
arguments, return values and errors are EventLog's; tests/store/test_store_contract.py runs one suite
against both. The decide/evolve loop of `record` repeats EventLog's: phase 2 moves it into one
backend-neutral module once store/log.py settles (issue 9), and both logs call it.

Writers serialise per session (pg_schema.lock_session, its own statement) and read the head after the
lock, so two nnreplay processes on one session queue; a client that does not queue still cannot write a
gap or a duplicate (primary key, append-only trigger), and the append retries from the new head.
"""

import secrets
from typing import Callable, Iterable, Iterator

import attrs

from engine import Settings, Start, State, decide, evolve, rng_for, state_digest
from engine.events import Event
from store import pg_schema, snapshots
from store.chain import GENESIS, encode_payload, event_hash
from store.errors import (AmbiguousSession, Conflict, InvalidName, NameTaken, SessionExists, SessionNotFound,
                          StoreError)
from store.log import (BATCH, EVENT_COLUMNS, MIN_PREFIX, RETRIES, SESSION_COLUMNS, EventRow, SessionInfo,
                       check_name, utc_now)

T = pg_schema.SCHEMA
_INSERT_EVENT = f"INSERT INTO {T}.events ({EVENT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
_UPSERT_SNAPSHOT = (f"INSERT INTO {T}.snapshots VALUES (%s, %s, %s, %s, %s) ON CONFLICT (session_id, engine_version,"
                    f" seq) DO UPDATE SET state = excluded.state, state_digest = excluded.state_digest")


class _Qmark:
    """The connection as snapshots.load expects it: DB-API `?` placeholders (psycopg's are `%s`); its
    unqualified table names resolve through the search_path pg_schema.connect sets."""

    def __init__(self, conn):
        self.conn = conn

    def execute(self, sql: str, params=()):
        return self.conn.execute(sql.replace("?", "%s"), params)


class PgEventLog:
    """One open PostgreSQL database (a libpq URL). Use as a context manager, or call close()."""

    def __init__(self, url: str, create: bool = True, snapshot_every: int = snapshots.SNAPSHOT_EVERY):
        self.path = pg_schema.describe(url)  # what messages name; never the password
        self.snapshot_every = snapshot_every
        self.conn = pg_schema.connect(url, create=create)
        import psycopg  # loaded by connect already; its exception classes are caught below

        self._psycopg = psycopg

    def __enter__(self) -> "PgEventLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except self._psycopg.Error as error:
            raise pg_schema.translate(error, self.path) from None

    # -- sessions --------------------------------------------------------------------------------------
    def sessions(self) -> list[SessionInfo]:
        return [SessionInfo(*row) for row in self._read(f"SELECT {SESSION_COLUMNS} FROM {T}.sessions "
                                                          f"ORDER BY created_at, id")]

    def resolve(self, ref: str) -> SessionInfo:
        """A session by exact id, exact name, or unambiguous id prefix (at least 4 characters)."""
        for column in ("id", "name"):
            row = self._read(f"SELECT {SESSION_COLUMNS} FROM {T}.sessions WHERE {column} = %s", (ref,))
            if row:
                return SessionInfo(*row[0])
        if len(ref) >= MIN_PREFIX:
            prefix = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = self._read(f"SELECT {SESSION_COLUMNS} FROM {T}.sessions WHERE id LIKE %s ESCAPE '\\' "
                              f"ORDER BY id LIMIT 6", (prefix,))
            if len(rows) == 1:
                return SessionInfo(*rows[0])
            if rows:
                ids = ", ".join(row[0][:12] for row in rows[:5])
                raise AmbiguousSession(f"{ref!r} matches several sessions ({ids}); give more of the id")
        raise SessionNotFound(f"no session with id, id prefix or name {ref!r} in {self.path}")

    def new_session(self, settings: Settings, name: str | None = None) -> SessionInfo:
        """Start a session: draw its data set and record `session_started` (seq 1)."""
        if name is not None:
            check_name(name)
            if "\x00" in name:  # PostgreSQL text cannot hold U+0000
                raise InvalidName("a session name cannot contain the character U+0000 in a PostgreSQL database")
        [event] = decide(None, Start(settings), rng_for(settings.seed, 1))
        info = SessionInfo(secrets.token_hex(16), name, settings.learner, settings.seed, utc_now(), None, None)
        state = evolve(None, event)
        rows, snaps = [], []
        self._row(rows, snaps, info.id, event, GENESIS, state)
        try:
            with self.conn.transaction():
                self.conn.execute(f"INSERT INTO {T}.sessions ({SESSION_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                                  attrs.astuple(info))
                self._flush(rows, snaps)
        except self._psycopg.errors.UniqueViolation:
            raise NameTaken(f"the name {name!r} is taken by another session; choose another") from None
        except self._psycopg.Error as error:
            raise pg_schema.translate(error, self.path) from None
        return info

    def _row(self, rows: list, snaps: list, session_id: str, event: Event, prev_hash: str, state: State) -> str:
        payload_text = encode_payload(event.to_payload())
        recorded_at, digest = utc_now(), state_digest(state)
        hash_ = event_hash(session_id, state.seq, event.type, event.schema_version, payload_text, recorded_at,
                           prev_hash)
        rows.append((session_id, state.seq, event.type, event.schema_version, payload_text, recorded_at,
                     prev_hash, hash_, digest))
        if state.seq % self.snapshot_every == 0:
            snaps.append(snapshots.row(session_id, state, digest))
        return hash_

    def _flush(self, rows: list, snaps: list) -> None:
        with self.conn.cursor() as cursor:
            cursor.executemany(_INSERT_EVENT, rows)
            if snaps:
                cursor.executemany(_UPSERT_SNAPSHOT, snaps)

    def write_copy(self, info: SessionInfo, copy) -> str:
        """store.fork.write_copy on PostgreSQL (for fork and import): the session row, its events re-chained
        under `info.id` and its snapshots, in one transaction; returns the head hash."""
        rows, prev = [], GENESIS
        for seq, type_, version, payload, recorded_at, digest in copy.rows:
            text = encode_payload(payload)  # the canonical text the fast hash path assumes
            hash_ = event_hash(info.id, seq, type_, version, text, recorded_at, prev)
            rows.append((info.id, seq, type_, version, text, recorded_at, prev, hash_, digest))
            prev = hash_
        try:
            with self.conn.transaction():
                self.conn.execute(f"INSERT INTO {T}.sessions ({SESSION_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                                  attrs.astuple(info))
                self._flush(rows, [snapshots.row(info.id, state, digest) for state, digest in copy.states])
        except self._psycopg.errors.UniqueViolation as error:
            if error.diag.constraint_name == "sessions_pkey":
                raise SessionExists(f"session {info.id} is already in {self.path}") from None
            raise NameTaken(f"the name {info.name!r} is taken by another session; choose another") from None
        except self._psycopg.Error as error:
            raise pg_schema.translate(error, self.path) from None
        return prev

    # -- recording -------------------------------------------------------------------------------------
    def record(self, session_id: str, commands: Iterable, batch: int = BATCH,
               on_commit: Callable[[int], None] | None = None) -> State:
        """Decide, evolve and append one event per command, committing every `batch` presses (as EventLog)."""
        iterator = iter(commands)
        cached: tuple[int, str, State] | None = None
        state = None
        while True:
            chunk = [command for _, command in zip(range(batch), iterator)]
            if not chunk:
                break
            for _attempt in range(RETRIES):
                try:
                    with self.conn.transaction():
                        pg_schema.lock_session(self.conn, session_id)
                        seq, head = self._head(session_id)
                        state = cached[2] if cached is not None and cached[:2] == (seq, head) \
                            else self._state(session_id, seq)
                        rows, snaps = [], []
                        for command in chunk:
                            if callable(command):
                                command = command(state)
                            for event in decide(state, command, rng_for(state.settings.seed, state.seq + 1)):
                                state = evolve(state, event)
                                head = self._row(rows, snaps, session_id, event, head, state)
                        self._flush(rows, snaps)
                    cached = (state.seq, head, state)
                    break
                except self._psycopg.IntegrityError:
                    cached = None  # a writer that does not take the lock appended: start from the new head
                except self._psycopg.Error as error:
                    raise pg_schema.translate(error, self.path) from None
            else:
                raise Conflict(f"gave up after {RETRIES} attempts: other writers kept appending to session "
                               f"{session_id[:12]} at the same time")
            if on_commit is not None:
                on_commit(len(chunk))
        return state if state is not None else self.state(session_id)

    # -- reading ---------------------------------------------------------------------------------------
    def _head(self, session_id: str) -> tuple[int, str]:
        row = self.conn.execute(f"SELECT seq, hash FROM {T}.events WHERE session_id = %s ORDER BY seq DESC LIMIT 1",
                                (session_id,)).fetchone()
        if row is None:
            raise SessionNotFound(f"session {session_id} has no events")
        return row

    def head(self, session_id: str) -> tuple[int, str]:
        """(seq, hash) of the session's last event."""
        try:
            return self._head(session_id)
        except self._psycopg.Error as error:
            raise pg_schema.translate(error, self.path) from None

    def rows(self, session_id: str, start: int = 1, end: int | None = None) -> Iterator[EventRow]:
        sql = f"SELECT {EVENT_COLUMNS} FROM {T}.events WHERE session_id = %s AND seq >= %s"
        params: tuple = (session_id, start)
        if end is not None:
            sql, params = sql + " AND seq <= %s", params + (end,)
        for row in self._read(sql + " ORDER BY seq", params):
            yield EventRow(*row)

    def _state(self, session_id: str, seq: int) -> State:
        first = next(self.rows(session_id, 1, 1), None)
        if first is None:
            raise SessionNotFound(f"session {session_id} has no events")
        start = evolve(None, first.event())
        state = snapshots.load(_Qmark(self.conn), session_id, seq, start) or start
        for row in self.rows(session_id, state.seq + 1, seq):
            state = evolve(state, row.event())
        return state

    def state(self, session_id: str, seq: int | None = None, use_snapshots: bool = True) -> State:
        """The folded state at `seq` (default: the head), from the nearest snapshot when allowed."""
        head, _ = self.head(session_id)
        seq = head if seq is None else seq
        if not 1 <= seq <= head:
            raise StoreError(f"seq {seq} is outside this session's history (1..{head})")
        try:
            if use_snapshots:
                return self._state(session_id, seq)
            state = None
            for row in self.rows(session_id, 1, seq):
                state = evolve(state, row.event())
            return state
        except self._psycopg.Error as error:
            raise pg_schema.translate(error, self.path) from None

    def states(self, session_id: str, start: int = 1, end: int | None = None) -> Iterator[tuple[EventRow, State]]:
        """Each event in [start, end] with the state after it, folding from the nearest snapshot."""
        head, _ = self.head(session_id)
        end = head if end is None else min(end, head)
        state = self._state(session_id, start - 1) if start > 1 else None
        for row in self.rows(session_id, start, end):
            state = evolve(state, row.event())
            yield row, state

    def delete_snapshots(self, session_id: str | None = None) -> int:
        where, params = ("", ()) if session_id is None else (" WHERE session_id = %s", (session_id,))
        try:
            with self.conn.transaction():
                return self.conn.execute(f"DELETE FROM {T}.snapshots" + where, params).rowcount
        except self._psycopg.Error as error:
            raise pg_schema.translate(error, self.path) from None
