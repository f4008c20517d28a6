"""What every backend's event log does, written once: resolve, start, record, read and fold.

`Recorder` holds the mechanisms (the record loop: decide, evolve, verify the head digest, append, confirm
the rows, update the caches, retry from a new head); a backend (store.log.EventLog for SQLite,
store.pg_log.PgEventLog for PostgreSQL) supplies its connection, its transaction and a few SQL spellings.
SQL here is written with `?` placeholders and unqualified table names; the PostgreSQL backend turns `?`
into `%s` and finds its tables through the search_path it sets.

A backend provides: `path` (what messages name), `_sql(sql, params)` (a cursor, inside a transaction, errors
raw), `_read(sql, params)` (all rows, errors translated; [] when there is no store yet), `_stream(sql,
params)` (rows one by one, errors translated), `_write()` (a write transaction that lets `_retry` errors
through untouched), `_lock(session_id)`, `_retry` (the driver's integrity error: someone else appended),
`_translate(error)`, `_driver_error`, `_prefix(ref)` ((where clause, parameter) for an id prefix),
`_upsert_snapshot`, `_upsert_head`.
"""

import math
import secrets
import time
from typing import Callable, Iterable, Iterator

import attrs
import numpy as np

from engine import Settings, Start, State, decide, evolve, rng_for, state_digest
from engine.events import Event
from store import head_states, progress, snapshots
from store.chain import GENESIS, encode_payload, event_hash
from store.errors import (Abandoned, AmbiguousSession, Conflict, Diverged, NameTaken, SessionExists, SessionNotFound, StoreError,
                          UnsoundLog)
from store.names import check_name, could_be_id
from store.rows import (EVENT_COLUMNS, INSERT_EVENT, INSERT_SESSION, SESSION_COLUMNS, EventRow, SessionInfo,
                        UnlistedSession, utc_now)

BATCH = 500
RETRIES = 5
# a batch is computed outside the write lock; one of slow presses (a big network) is appended after this much
# work (at least one press), so that it lands before other writers move the head (cheap presses reach BATCH
# long before)
CHUNK_SECONDS = 2.0
RECOMPUTE_SECONDS = 0.05  # a batch this cheap is computed again under the lock when the head moved
_END = object()


class _Moved(Exception):
    """The head moved while a batch was computed outside the write lock: compute it again."""


class KeyRecorded(Exception):
    """The press key was recorded already (by an earlier request, or a twin racing this one)."""


def refuse_non_finite(state: State, press: int) -> None:
    """A state with NaN or infinite parameters or loss is no state to record (the heads cache could not even
    hold it, and every later press would fold it): the press is refused, its batch is not written."""
    m = state.metrics
    if np.all(np.isfinite(state.params)) and all(math.isfinite(v) for v in (m.loss, m.accuracy, m.score)):
        return
    lr = state.settings.lr if state.settings.learner == "gradient" else None
    hint = (f"lower the learning rate lr (it is {lr:g})" if lr is not None else "lower the step") + \
        " or choose another activation, in a new session (or a fork of this one)"
    raise Diverged(f"the run diverged at press {press + 1} of this request (it would be seq {state.seq}): its "
                   f"loss or parameters are no longer finite numbers, so nothing of this batch was recorded; "
                   f"{hint}", field="lr" if lr is not None else "step")


SEEN_SESSIONS = 4096  # session rows kept per connection (store.recorder.Recorder._sessions_seen)


class Recorder:
    """The backend-neutral half of an event log (see the module's docstring for what a backend adds)."""

    snapshot_every = snapshots.SNAPSHOT_EVERY

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- sessions --------------------------------------------------------------------------------------
    def sessions(self) -> list[SessionInfo]:
        rows = self._listing(f"SELECT {SESSION_COLUMNS} FROM sessions ORDER BY created_at, id")
        return [SessionInfo(*row) for row in rows]

    def _listing(self, sql: str, params: tuple = ()) -> list[tuple]:
        """A read of the sessions table: what a backend bounds (SQLite: a step budget, store.progress)."""
        return self._read(sql, params)

    def unlisted_sessions(self) -> list[SessionInfo]:
        """Sessions that hold events but have no row in `sessions`: what a deleted row would hide."""
        # a skip scan over the primary key, one index seek per session, instead of a DISTINCT over every event
        rows = self._read("WITH RECURSIVE ids(id) AS (SELECT MIN(session_id) FROM events UNION ALL "
                          "SELECT (SELECT MIN(session_id) FROM events WHERE session_id > ids.id) FROM ids "
                          "WHERE ids.id IS NOT NULL) "
                          "SELECT id FROM ids WHERE id IS NOT NULL AND id NOT IN (SELECT id FROM sessions)")
        unlisted = []
        for (session_id,) in rows:
            try:
                settings = self._first_state(session_id).settings
                learner, seed = settings.learner, settings.seed
            except Exception:  # a damaged first event: audit's checks say what is wrong with it
                learner, seed = None, None
            unlisted.append(UnlistedSession(session_id, None, learner, seed, None, None, None))
        return unlisted

    def recorded_by(self, key: str) -> tuple[str, str, int, int] | None:
        """(session_id, request, first_seq, last_seq) of the presses recorded under idempotency `key`."""
        if not self._has_press_keys():
            return None
        rows = self._read("SELECT session_id, request, first_seq, last_seq FROM press_keys WHERE key = ?", (key,))
        return tuple(rows[0]) if rows else None

    def _has_press_keys(self) -> bool:
        return True

    def resolve(self, ref: str) -> SessionInfo:
        """A session by id, unambiguous id prefix (4+ hex digits), or name, in that order: ids win.

        A name can never capture a reference that reads as an id: `check_name` refuses names of 4 to 32
        hex digits, and a hex reference that matches an id is settled before names are looked at."""
        seen = self._sessions_seen()
        if ref in seen:
            return seen[ref]
        if could_be_id(ref):
            prefix = ref.lower()
            where, pattern = self._prefix(prefix)  # hex digits are neither GLOB nor LIKE wildcards
            rows = self._listing(f"SELECT {SESSION_COLUMNS} FROM sessions WHERE {where} ORDER BY id LIMIT 6",
                                 (pattern,))
            exact = [row for row in rows if row[0] == prefix]
            if exact and prefix == ref and len(seen) < SEEN_SESSIONS:
                seen[ref] = SessionInfo(*exact[0])
            if exact or len(rows) == 1:
                return SessionInfo(*(exact or rows)[0])
            if rows:
                ids = ", ".join(row[0][:12] for row in rows[:5])
                raise AmbiguousSession(f"{ref!r} matches several sessions ({ids}); give more of the id")
        row = self._listing(f"SELECT {SESSION_COLUMNS} FROM sessions WHERE name = ?", (ref,))
        if row:
            return SessionInfo(*row[0])
        raise SessionNotFound(f"no session with id, id prefix or name {ref!r} in {self.path}")

    def _sessions_seen(self) -> dict:
        """Session rows this connection has read, by exact id. The guards refuse every UPDATE and DELETE of
        the sessions table, and a connection reads the file it opened for as long as it lives, so a row read
        once is the row for the rest of the connection: a press through a server resolves its session id
        three or four times (its check, its settings, its press, its answer), each a query that gave up the
        GIL to a hundred other presses' threads."""
        current = self._connection()
        kept = self.__dict__.get("_seen")
        if kept is None or kept[0] is not current:
            kept = self._seen = (current, {})
        return kept[1]

    def _connection(self):
        """The backend's open connection, or None (an SQLite file not made yet); EventLog says its own."""
        return self.conn

    def new_session(self, settings: Settings, name: str | None = None, origin=None, member=None) -> SessionInfo:
        """Start a session: draw its data set and record `session_started` (seq 1); `origin` names the
        session it re-presses, if any (engine.events.Origin), `member` the class it belongs to
        (engine.membership.ClassMember)."""
        if name is not None:
            check_name(name)
        [event] = decide(None, Start(settings, origin, member), rng_for(settings.seed, 1))
        info = SessionInfo(secrets.token_hex(16), name, settings.learner, settings.seed, utc_now(), None, None)
        state = evolve(None, event)
        rows, snaps = [], []
        head = self._row(rows, snaps, info.id, event, GENESIS, state)
        self.write_session(info, rows, snaps, state)
        # the first press starts from it, as a press starts from the state the one before it left
        head_states.keep(self.path, info.id, 1, head, state)
        return info

    def write_session(self, info: SessionInfo, rows: list, snaps: list, state: State) -> None:
        """The session row and its first events (a new session, a fork, an import) in one transaction."""
        try:
            with self._write():
                self._insert_session(info)
                self._flush(rows, snaps, state)
        except self._retry as error:  # a racing writer took the id or the name between check and insert
            raise self._translate(error) from None

    def _insert_session(self, info: SessionInfo) -> None:
        if self._sql("SELECT 1 FROM sessions WHERE id = ?", (info.id,)).fetchone():
            raise SessionExists(f"session {info.id} is already in {self.path}")
        if info.name is not None and self._sql("SELECT 1 FROM sessions WHERE name = ?", (info.name,)).fetchone():
            raise NameTaken(f"the name {info.name!r} is taken by another session; choose another")
        row = attrs.astuple(info)
        self._sql(INSERT_SESSION, row)
        kept = self._sql(f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?", (info.id,)).fetchall()
        if [tuple(r) for r in kept] != [row]:
            raise UnsoundLog(f"{self.path} did not keep the new session's row (a trigger or other schema object "
                             f"that nnreplay did not create interferes); nothing was recorded: run `nnreplay audit`")

    def _row(self, rows: list, snaps: list, session_id: str, event: Event, prev_hash: str, state: State) -> str:
        """Append the table row for `event` (and a snapshot row when due) to the lists; return its hash."""
        payload_text = encode_payload(event.to_payload())
        recorded_at = utc_now()
        digest = state_digest(state)
        hash_ = event_hash(session_id, state.seq, event.type, event.schema_version, payload_text, recorded_at,
                           prev_hash)
        rows.append((session_id, state.seq, event.type, event.schema_version, payload_text, recorded_at,
                     prev_hash, hash_, digest))
        if state.seq % snapshots.every(state.settings, self.snapshot_every) == 0:
            snaps.append(snapshots.row(session_id, state, digest))
        return hash_

    def _flush(self, rows: list, snaps: list, state: State) -> None:
        """Insert event rows (one session's, in seq order), confirm they are there, and update the caches.

        Called inside a write transaction, so the caches move with the events or not at all. A foreign
        trigger that silently drops or alters a row fails the confirmation: the transaction rolls back
        and the press is refused instead of reported."""
        if not rows:
            return
        session_id, first = rows[0][0], rows[0][1]
        self._sql_many(INSERT_EVENT, rows)
        kept = self._sql("SELECT seq, hash FROM events WHERE session_id = ? AND seq >= ? ORDER BY seq",
                         (session_id, first)).fetchall()
        if [tuple(row) for row in kept] != [(row[1], row[7]) for row in rows]:
            raise UnsoundLog(f"{self.path} did not keep the {len(rows)} event(s) just written to session "
                             f"{session_id[:12]} (a trigger or other schema object that nnreplay did not create "
                             f"interferes); nothing was recorded: run `nnreplay audit`")
        if snaps:
            self._sql_many(self._upsert_snapshot, snaps)
        if state is None:  # a copy this machine does not fold to its record: no head summary to vouch for
            return
        m = state.metrics
        self._sql(self._upsert_head, (session_id, rows[-1][1], rows[-1][7], rows[-1][8], m.loss, m.accuracy, m.score))

    # -- recording -------------------------------------------------------------------------------------
    def record(self, session_id: str, commands: Iterable, batch: int = BATCH,
               on_commit: Callable[[int], None] | None = None, key: str | None = None,
               request: str | None = None) -> State:
        """Decide, evolve and append one event per command, committing every `batch` presses.

        A command may also be a function of the state it is pressed on (a scripted rater looking at the
        picture); it is called with the state just before its press. A refused command (InvalidCommand)
        rolls back the batch it is in; earlier batches stay committed. `on_commit(n)` is told how many
        presses each commit made durable.

        The presses are computed before the write lock is taken, from the head read just before, and
        appended only if the head has not moved meanwhile (a batch that took under RECOMPUTE_SECONDS is
        computed again under the lock instead, as cheap presses always were); a batch ends early once its
        presses took CHUNK_SECONDS, so no write lock is held longer than an append of short work.

        `key` (with `request`, what was asked): the presses are one batch, committed together with a row of
        `press_keys`; a key already recorded raises KeyRecorded and presses nothing.
        """
        iterator = iter(commands)
        cached: tuple[int, str, State] | None = self._fold_head_by_reading(session_id)
        state, pressed = None, 0
        atomic = key is not None
        while True:
            chunk: list = []
            for attempt in range(RETRIES + 1):
                if attempt == RETRIES:
                    raise Conflict(f"gave up after {RETRIES} attempts: other writers kept appending to session "
                                   f"{session_id[:12]} at the same time")
                if cached is None:
                    if not self.exists:  # opened before another connection created the file: open it now
                        self.materialise()
                    cached = self._fold_head_by_reading(session_id)
                started = time.monotonic()
                base = cached
                state, head, rows, snaps = self._compute(session_id, base, chunk, iterator, batch,
                                                         None if atomic else CHUNK_SECONDS, pressed)
                took = time.monotonic() - started
                if not chunk:
                    break
                try:
                    with self._write():
                        self._lock(session_id)
                        seq, head_hash, digest = self._head_row(session_id)
                        if key is not None and self._sql("SELECT 1 FROM press_keys WHERE key = ?",
                                                         (key,)).fetchone():
                            raise KeyRecorded(key)
                        if (seq, head_hash) != base[:2]:
                            if took >= RECOMPUTE_SECONDS:
                                raise _Moved
                            moved = self._advanced(session_id, base[2], seq)
                            self._refuse_diverged(session_id, moved, digest)
                            state, head, rows, snaps = self._compute(session_id, (seq, head_hash, moved), chunk,
                                                                     None, batch, None, pressed)
                        self._flush(rows, snaps, state)
                        if key is not None:
                            self._sql("INSERT INTO press_keys VALUES (?, ?, ?, ?, ?, ?)",
                                      (key, session_id, request or "", rows[0][1], rows[-1][1], utc_now()))
                    cached = (state.seq, head, state)
                    head_states.keep(self.path, session_id, state.seq, head, state)
                    break
                except (self._retry, _Moved):
                    cached = None  # someone else appended: start again from the new head
            if not chunk:
                break
            pressed += len(chunk)
            if on_commit is not None:
                on_commit(len(chunk))
        return state if state is not None else self.state(session_id)

    def _advanced(self, session_id: str, known: State, seq: int) -> State:
        """The state at `seq`, from `known` (an earlier state of the session) when only a few presses came in
        between: under the write lock, folding the other writers' few new events costs far less than
        folding from the last snapshot (up to a hundred events), which kept the lock long under contention."""
        if known.seq > seq or seq - known.seq > snapshots.SNAPSHOT_EVERY:
            return self._state(session_id, seq)
        state = known
        for row in self.rows(session_id, known.seq + 1, seq):
            state = evolve(state, row.event())
        return state

    def _compute(self, session_id: str, base: tuple, chunk: list, iterator, batch: int, seconds: float | None,
                 pressed: int) -> tuple:
        """The rows of the presses of `chunk` from `base` (seq, hash, state). With an `iterator`, the chunk is
        first filled from it, up to `batch` presses or, with `seconds`, as many as take that long (at least
        one); without, the chunk's commands are pressed again (on a new head)."""
        _, head, state = base
        rows, snaps, done = [], [], 0
        started = time.monotonic()
        while True:
            if done < len(chunk):
                command = chunk[done]
            elif iterator is not None and len(chunk) < batch and (
                    seconds is None or not chunk or time.monotonic() - started < seconds):
                command = next(iterator, _END)
                if command is _END:
                    break
                chunk.append(command)
            else:
                break
            done += 1
            if callable(command):
                command = command(state)
            for event in decide(state, command, rng_for(state.settings.seed, state.seq + 1)):
                state = evolve(state, event)
                refuse_non_finite(state, pressed + done - 1)
                head = self._row(rows, snaps, session_id, event, head, state)
        return state, head, rows, snaps

    def _fold_head_by_reading(self, session_id: str) -> tuple[int, str, State] | None:
        """The head's (seq, hash, state), folded and checked before anything is opened for writing: a log
        that no longer folds to its recorded head is refused without a byte written (an older release's file
        is not even migrated). The first batch starts from this state when the head has not moved meanwhile,
        so the check costs no second fold. A log opened before its file existed has nothing to read yet: the
        write checks the same inside its transaction."""
        if not self.exists:
            return None
        seq, head, digest = self._head_row(session_id)
        state = head_states.kept(self.path, session_id, seq, head) or self._state(session_id, seq)
        self._refuse_diverged(session_id, state, digest)
        from store.departure import whole_fold_departs

        departed = whole_fold_departs(self, session_id, f"session {session_id[:12]}", state.settings)
        if departed is not None:
            raise departed
        return seq, head, state

    def _refuse_diverged(self, session_id: str, state: State, recorded: str) -> None:
        """A press is decided only on a state that the log itself records at its head."""
        if state_digest(state) != recorded:
            from store.departure import refuse

            refuse(self, session_id, f"session {session_id[:12]}", state,
                   UnsoundLog(f"session {session_id[:12]}: folding its log does not give the state recorded at "
                              f"its head (seq {state.seq}), so nothing was appended; run `nnreplay audit` for "
                              f"the details"))

    # -- reading ---------------------------------------------------------------------------------------
    def _head_row(self, session_id: str) -> tuple[int, str, str]:
        rows = self._read("SELECT seq, hash, state_digest FROM events WHERE session_id = ? ORDER BY seq DESC "
                          "LIMIT 1", (session_id,))
        if not rows:
            raise SessionNotFound(f"session {session_id} has no events")
        return tuple(rows[0])

    def _head(self, session_id: str) -> tuple[int, str]:
        return self._head_row(session_id)[:2]

    def head(self, session_id: str) -> tuple[int, str]:
        """(seq, hash) of the session's last event."""
        return self._head(session_id)

    def head_seqs(self) -> dict[str, int]:
        """The last seq of every session: what the live channel compares to notice presses made elsewhere."""
        # one index seek per session; a GROUP BY over events would walk every event of the database
        return dict(self._listing("SELECT id, (SELECT MAX(seq) FROM events WHERE session_id = sessions.id) "
                                  "FROM sessions"))

    def count(self, session_id: str) -> int:
        """How many events the session holds (export writes it in its header before streaming the rows)."""
        rows = self._read("SELECT COUNT(*) FROM events WHERE session_id = ?", (session_id,))
        return rows[0][0] if rows else 0

    def has_session(self, session_id: str) -> bool:
        return bool(self._read("SELECT 1 FROM sessions WHERE id = ?", (session_id,)))

    def rows(self, session_id: str, start: int = 1, end: int | None = None) -> Iterator[EventRow]:
        sql = f"SELECT {EVENT_COLUMNS} FROM events WHERE session_id = ? AND seq >= ?"
        params: tuple = (session_id, start)
        if end is not None:
            sql += " AND seq <= ?"
            params += (end,)
        for row in self._stream(sql + " ORDER BY seq", params):
            if progress.abandoned():  # a server's request whose client left, or a server stopping: a fold
                raise Abandoned("the work was abandoned (its client left, or the server is stopping): nothing of it "
                                "was recorded; try again")
            yield EventRow(*row)

    def _first_state(self, session_id: str) -> State:
        first = next(self.rows(session_id, 1, 1), None)
        if first is None:
            raise SessionNotFound(f"session {session_id} has no events")
        return evolve(None, first.event())

    def _state(self, session_id: str, seq: int) -> State:
        start = self._first_state(session_id)
        state = snapshots.load(self, session_id, seq, start) or start
        for row in self.rows(session_id, state.seq + 1, seq):
            state = evolve(state, row.event())
        return state

    def execute(self, sql: str, params=()):
        """A read for the store's own modules (snapshots.load): `?` placeholders, errors raw."""
        return self._sql(sql, params)

    def state(self, session_id: str, seq: int | None = None, use_snapshots: bool = True) -> State:
        """The folded state at `seq` (default: the head), from the nearest snapshot when allowed."""
        head, _ = self.head(session_id)
        if seq is None:
            seq = head
        if not 1 <= seq <= head:
            raise StoreError(f"seq {seq} is outside this session's history (1..{head})")
        try:
            if use_snapshots:
                return self._state(session_id, seq)
            state = None
            for row in self.rows(session_id, 1, seq):
                state = evolve(state, row.event())
            return state
        except self._driver_error as error:
            raise self._translate(error) from None

    def states(self, session_id: str, start: int = 1, end: int | None = None) -> Iterator[tuple[EventRow, State]]:
        """Each event in [start, end] with the state after it, folding from the nearest snapshot."""
        head, _ = self.head(session_id)
        end = head if end is None else min(end, head)
        state = self._state(session_id, start - 1) if start > 1 else None
        for row in self.rows(session_id, start, end):
            state = evolve(state, row.event())
            yield row, state

    def delete_snapshots(self, session_id: str | None = None) -> int:
        with self._write():
            if session_id is None:
                cursor = self._sql("DELETE FROM snapshots")
            else:
                cursor = self._sql("DELETE FROM snapshots WHERE session_id = ?", (session_id,))
        return cursor.rowcount
