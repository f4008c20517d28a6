"""Audit: prove that sessions are intact and that replaying them reproduces what was recorded.

Checks 1-6 run in one verifying fold per session (store.verify); check 7 reads the guard triggers. A long
session is split at cached snapshots into segments verified in parallel processes: a segment may start
from a snapshot only once that snapshot's state has the digest recorded in the events at its seq, and the
segment before it must reproduce that same digest from the events, so by induction every segment replays
exactly what one sequential fold would (sha256 collisions aside). After a failure, later segments still
check their own rows, so every check still reports its first failing seq.
"""

import multiprocessing
import os
import pathlib
import sqlite3
from concurrent.futures import ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

import attrs

from engine import ENGINE_VERSION, evolve, parse, state_digest
from store import snapshots
from store.unhashed import check_guards, check_heads, check_session_row
from store.verify import CHECKS, Check, Verifier, decode_payload

ROW_COLUMNS = "seq, type, schema_version, payload, recorded_at, prev_hash, hash, state_digest"
PARALLEL_FROM = 20_000  # events of one session before its audit is worth forking processes for
SEGMENT = 8_000  # least events per parallel task: enough to dwarf a task's start-up
PROGRESS_STEP = 2_000
OTHER_ARITHMETIC = "other arithmetic"  # a verdict of its own: see store/departure.py


@attrs.frozen
class SessionReport:
    session_id: str
    name: str | None
    learner: str
    events: int
    head_hash: str
    checks: tuple[Check, ...]
    # every failure is this machine's replay departing from a machine-arithmetic log with an intact chain
    other_arithmetic: bool = False
    arithmetic: str | None = None

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def verdict(self) -> str:
        failed = {check.name for check in self.checks if not check.ok}
        if self.other_arithmetic and failed <= {"digests", "decisions", "snapshots"}:
            return OTHER_ARITHMETIC
        for verdict, names in (("tampered", ("sequence", "chain", "parse")), ("replay differs", ("digests",)),
                               ("drift", ("decisions",)), ("unexpected head", ("head",)),
                               ("class mismatch", ("class",)), ("stale snapshot", ("snapshots",)),
                               ("unguarded", ("guards",))):
            if failed & set(names):
                return verdict
        return "ok"

    def to_json(self) -> dict:
        return {"id": self.session_id, "name": self.name, "learner": self.learner, "events": self.events,
                "head_hash": self.head_hash, "ok": self.ok, "verdict": self.verdict, "arithmetic": self.arithmetic,
                "checks": [check.to_json() for check in self.checks]}


def _feed_range(conn, verifier: Verifier, start: int | None, end: int | None, on_rows=None) -> None:
    sql, params = f"SELECT {ROW_COLUMNS} FROM events WHERE session_id = ?", [verifier.session_id]
    if start is not None:
        sql, params = sql + " AND seq >= ?", params + [start]
    if end is not None:
        sql, params = sql + " AND seq <= ?", params + [end]
    feed, fed = verifier.feed, 0
    for seq, type_, version, payload, recorded_at, prev_hash, hash_, digest in conn.execute(sql + " ORDER BY seq",
                                                                                         params):
        feed(seq, type_, version, decode_payload(payload), recorded_at, prev_hash, hash_, digest, payload)
        fed += 1
        if on_rows is not None and fed % PROGRESS_STEP == 0:
            on_rows(PROGRESS_STEP)
    if on_rows is not None:
        on_rows(fed % PROGRESS_STEP)


def _first_state(conn, session_id: str):
    row = conn.execute("SELECT type, schema_version, payload FROM events WHERE session_id = ? AND seq = 1",
                       (session_id,)).fetchone()
    try:
        return None if row is None else evolve(None, parse(row[0], row[1], decode_payload(row[2])))
    except Exception:  # a damaged first event: the sequential fold will say what is wrong with it
        return None


def _boundaries(conn, session_id: str, snaps: dict, first, segment: int) -> list[int]:
    """Snapshot seqs to split at, spaced `segment` apart, whose state has the digest the events record."""
    count, low, high, odd = conn.execute(
        "SELECT COUNT(*), MIN(seq), MAX(seq), SUM(typeof(seq) != 'integer') FROM events WHERE session_id = ?",
        (session_id,)).fetchone()
    if first is None or odd or low != 1 or high != count:
        return []  # a damaged numbering is judged sequentially, where the sequence check sees it in order
    bounds, last = [], 0
    for seq in sorted(seq for seq in snaps if isinstance(seq, int)):
        if seq - last < segment or count - seq < segment // 2:
            continue
        recorded = conn.execute("SELECT state_digest FROM events WHERE session_id = ? AND seq = ?",
                                (session_id, seq)).fetchone()
        state = snapshots.decode(snaps[seq][0], first)
        if state is not None and state.seq == seq and state_digest(state) == recorded[0]:
            bounds.append(seq)
            last = seq
    return bounds


def _verify_segment(path: str, session_id: str, snaps: dict, start: int, end: int | None,
                    expect_head: str | None) -> Verifier:
    """One parallel task: verify seqs start..end, from the snapshot at start - 1, in its own connection."""
    conn = sqlite3.connect(pathlib.Path(path).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        verifier = Verifier(session_id, {s: v for s, v in snaps.items() if s >= start and (end is None or s <= end)},
                            expect_head=expect_head)
        if start > 1:
            first = _first_state(conn, session_id)
            before = conn.execute("SELECT hash FROM events WHERE session_id = ? AND seq = ?",
                                  (session_id, start - 1)).fetchone()[0]
            verifier.resume(start - 1, before, snapshots.decode(snaps[start - 1][0], first), first)
        _feed_range(conn, verifier, start, end, _count_rows if _rows_done is not None else None)
    finally:
        conn.close()
    verifier.state = verifier.first = None  # sent back to the parent: keep it small
    return verifier


_rows_done = None  # in a worker: a counter shared with the parent, which reads it for the progress bar


def _share_counter(counter) -> None:
    global _rows_done
    _rows_done = counter


def _count_rows(n: int) -> None:
    with _rows_done.get_lock():
        _rows_done.value += n


def _parallel(log, info, snaps: dict, bounds: list[int], expect_head, on_rows) -> Verifier:
    starts, ends = [1] + [b + 1 for b in bounds], bounds + [None]
    workers = min(len(starts), os.cpu_count() or 1)
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    counter = context.Value("q", 0)
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_share_counter, initargs=(counter,)) as pool:
        futures = [pool.submit(_verify_segment, log.path, info.id, snaps, start, end, expect_head)
                   for start, end in zip(starts, ends)]
        reported, pending = 0, set(futures)
        while pending:
            _, pending = wait(pending, timeout=0.25)
            if on_rows is not None and counter.value > reported:  # the workers' rows, as they verify them
                on_rows(counter.value - reported)
                reported = counter.value
        verifier = None
        for future in futures:
            segment = future.result()
            if verifier is None:
                verifier = segment
            else:
                verifier.merge(segment)
    if on_rows is not None and verifier.count > reported:
        on_rows(verifier.count - reported)
    return verifier


def audit_session(log, info, guards: Check, expect_head: str | None = None, on_rows=None,
                  segment: int = SEGMENT, parallel_from: int = PARALLEL_FROM) -> SessionReport:
    """Run every check on one session of an open log of either backend; `on_rows(n)` hears about progress
    as rows are verified. Only an SQLite file is split among worker processes (they open it themselves)."""
    conn = log  # Recorder.execute: the backend's connection with `?` placeholders
    snaps = {seq: (text, digest) for seq, text, digest in conn.execute(
        "SELECT seq, state, state_digest FROM snapshots WHERE session_id = ? AND engine_version = ?",
        (info.id, ENGINE_VERSION))}
    first = _first_state(conn, info.id)
    bounds, workers, events = [], os.cpu_count() or 1, count_events(log, [info])
    if log.parallel_audit and workers > 1 and events >= parallel_from:
        # one segment per worker: more segments than workers leave a core idle while the last one runs
        bounds = _boundaries(conn, info.id, snaps, first, max(segment, -(-events // workers)))
    verifier = None
    if bounds:
        try:
            verifier = _parallel(log, info, snaps, bounds, expect_head, on_rows)
        except (OSError, sqlite3.Error, BrokenProcessPool):
            verifier = None  # no processes, or a worker could not open the file: one pass gets there too
    if verifier is None:
        verifier = Verifier(info.id, snaps, expect_head=expect_head)
        _feed_range(conn, verifier, None, None, on_rows)
    if first is not None and (first.settings.learner, first.settings.seed) != (info.learner, info.seed):
        verifier.fail("parse", 1, f"session_started says learner {first.settings.learner}, seed "
                                  f"{first.settings.seed}; the sessions table says {info.learner}, {info.seed}")
    check_session_row(verifier, info)
    if not verifier.failures.keys() & {"sequence", "chain", "parse", "digests"}:
        check_heads(log, verifier, info)
    checks = verifier.finish()
    arithmetic = None if first is None else first.settings.arithmetic
    membership = () if first is None or first.member is None else (check_class(log, info, first.member),)
    return SessionReport(info.id, info.name, info.learner, verifier.count, verifier.head_hash,
                         (*checks[:6], guards, *checks[6:], *membership), verifier.other_arithmetic, arithmetic)


def check_class(log, info, member) -> Check:
    """The class check: a class record is named after its class; a student's session names a class record
    that this database holds, under the class name the student's session records."""
    if member.is_record:
        if info.name != member.name:
            return Check("class", False, 1, f"this class record of class {member.name!r} is named {info.name!r}: "
                                            f"a class is found by its record's name, so this one is no class's")
        return Check("class", True)
    record = _first_state(log, member.class_id)
    found = None if record is None else record.member
    if found is None or not found.is_record:
        return Check("class", False, 1, f"this student's session names class record {member.class_id[:12]}, which "
                                        f"is not a class record in this database")
    if found.name != member.name:
        return Check("class", False, 1, f"this student's session says its class is {member.name!r}, but the class "
                                        f"record it names ({member.class_id[:12]}) is class {found.name!r}")
    return Check("class", True)


@attrs.frozen
class AuditReport:
    """Every audited session, and the database's guards (check 7, reported even with no session)."""

    database: str
    guards: Check
    sessions: tuple[SessionReport, ...]

    @property
    def ok(self) -> bool:
        return self.guards.ok and all(report.ok for report in self.sessions)

    @property
    def exit_code(self) -> int:
        """0 when everything holds, 3 when the worst finding is a session recorded on other arithmetic
        (intact, but not reproducible on this machine), 1 for any failure."""
        if self.ok:
            return 0
        if self.guards.ok and all(r.ok or r.verdict == OTHER_ARITHMETIC for r in self.sessions):
            return 3
        return 1

    @property
    def events(self) -> int:
        return sum(report.events for report in self.sessions)

    def to_json(self) -> dict:
        return {"ok": self.ok, "exit_code": self.exit_code, "database": self.database, "events": self.events,
                "guards": self.guards.to_json(), "sessions": [report.to_json() for report in self.sessions]}


def audit_database(log, sessions, expect_head: str | None = None, on_rows=None, **tuning) -> AuditReport:
    """Audit each of `sessions` (SessionInfo) of the open log `log` (either backend), and its guards. `tuning` passes
    `segment` and `parallel_from` on to audit_session."""
    try:
        guards = log.check_guards()
        reports = tuple(audit_session(log, info, guards, expect_head, on_rows, **tuning) for info in sessions)
    except log._driver_error as error:
        raise log._translate(error) from None
    return AuditReport(log.path, guards, reports)


def audit(log, sessions, expect_head: str | None = None, on_rows=None, **tuning) -> list[SessionReport]:
    """The session reports of `audit_database` (each carries the guards check too)."""
    return list(audit_database(log, sessions, expect_head, on_rows, **tuning).sessions)


def count_events(log, sessions) -> int:
    ids = [info.id for info in sessions]
    total = 0
    for start in range(0, len(ids), 500):  # SQLite caps the number of parameters of one statement
        chunk = ids[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        total += log._read(f"SELECT COUNT(*) FROM events WHERE session_id IN ({marks})", tuple(chunk))[0][0]
    return total


__all__ = ["CHECKS", "AuditReport", "Check", "SessionReport", "audit", "audit_database", "audit_session", "check_guards", "count_events"]
