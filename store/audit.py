"""Audit: prove that a session's log is intact and that replaying it reproduces what was recorded.

One pass over the rows, in seq order, runs checks 1-6 side by side (`Verifier`); check 7 (guards) looks at
the database's triggers. Each check reports the first seq at which it fails and why. The same `Verifier`
vets an export file before `import` writes anything, so a file is held to exactly what an audit demands.
"""

import json
import sqlite3

import attrs

from engine import NnreplayError, Next, Rate, SessionStarted, Start, decide, evolve, parse, rng_for, state_digest
from engine import ENGINE_VERSION
from store import snapshots
from store.chain import GENESIS, verify_hash
from store.schema import GUARD_TRIGGERS, TRIGGERS_SQL, translate

CHECKS = {
    "sequence": "seq runs 1..N without gaps and starts with session_started",
    "chain": "every hash recomputes from the canonical form and every prev_hash links",
    "parse": "every event parses against its type's schema and agrees with the sessions table",
    "digests": "folding the events with evolve reproduces every recorded state digest",
    "decisions": "re-running decide reproduces every recorded decision",
    "snapshots": "cached snapshots equal the replayed states",
    "guards": "the database refuses UPDATE and DELETE of events (its guard triggers are in place)",
    "head": "the head hash is the expected one",
}
TAMPER_CHECKS = ("sequence", "chain", "parse", "digests")
# a tampered payload can make numpy or the engine fail in ways that are not NnreplayError
FOLD_ERRORS = (NnreplayError, TypeError, ValueError, KeyError, IndexError, AttributeError, ArithmeticError)
NOT_JSON = object()
ROW_COLUMNS = "seq, type, schema_version, payload, recorded_at, prev_hash, hash, state_digest"


@attrs.frozen
class Check:
    name: str
    ok: bool
    seq: int | None = None
    reason: str | None = None

    def to_json(self) -> dict:
        return {"check": self.name, "ok": self.ok, "seq": self.seq, "reason": self.reason,
                "what": CHECKS[self.name]}


def decode_payload(text):
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return NOT_JSON


def _command(event):
    """The press that produced `event`, to hand to decide again."""
    if isinstance(event, SessionStarted):
        return Start(event.settings)
    if event.type == "feedback_given":
        return Rate(event.button, event.source)
    return Next(event.source)


def _difference(recorded: dict, decided: dict) -> str:
    parts = []
    for key in sorted(set(recorded) | set(decided)):
        mine, theirs = recorded.get(key), decided.get(key)
        if mine != theirs:
            shown = f"recorded {mine!r}, decide gives {theirs!r}"
            parts.append(f"{key} ({shown})" if len(shown) < 90 else f"{key} (recorded and decided values differ)")
    return "; ".join(parts) or "the event type differs"


class Verifier:
    """Checks 1-6 over one session's rows, fed in seq order: one fold, every check as it goes.

    `snapshot_rows` maps seq to (state text, digest) for this engine version; `on_state(seq, state, digest)`
    sees every replayed state (import and fork use it to write snapshots for the rows they copy).
    """

    def __init__(self, session_id: str, snapshot_rows: dict | None = None, on_state=None, expect_head=None):
        self.session_id = session_id
        self.snapshots = dict(snapshot_rows or {})
        self.on_state = on_state
        self.expect_head, self.expected_at = expect_head, None
        self.failures: dict[str, tuple[int | None, str]] = {}
        self.count = 0
        self.head_hash = GENESIS
        self.state = self.first = None
        self.stopped: tuple[int, str] | None = None

    def fail(self, check: str, seq, reason: str) -> None:
        self.failures.setdefault(check, (seq, reason))

    def feed(self, seq, type_, version, payload, recorded_at, prev_hash, hash_, digest) -> None:
        """One row; `payload` already decoded (or NOT_JSON)."""
        self.count += 1
        self._check_sequence(seq, type_)
        self._check_chain(seq, type_, version, payload, recorded_at, prev_hash, hash_)
        self.head_hash = hash_
        if hash_ == self.expect_head:
            self.expected_at = seq
        if self.stopped is not None:
            return
        event = self._parse(seq, type_, version, payload)
        if event is not None:
            self._check_decision(seq, event)
            self._evolve(seq, event, digest)

    def _check_sequence(self, seq, type_) -> None:
        expected = self.count
        if seq != expected:
            what = (f"seq {expected} is missing (the event after seq {expected - 1} has seq {seq})"
                    if isinstance(seq, int) and seq > expected else
                    f"expected seq {expected} here, found seq {seq!r}")
            self.fail("sequence", expected, what)
        elif expected == 1 and type_ != "session_started":
            self.fail("sequence", 1, f"the first event is {type_!r}, not session_started")
        elif expected > 1 and type_ == "session_started":
            self.fail("sequence", seq, "a second session_started: only seq 1 may start the session")

    def _check_chain(self, seq, type_, version, payload, recorded_at, prev_hash, hash_) -> None:
        if prev_hash != self.head_hash:
            before = "64 zeros (the chain's start)" if self.count == 1 else f"the hash of the event before it"
            self.fail("chain", seq, f"prev_hash is not {before}: an event was removed, inserted, reordered "
                                    f"or rewritten before this one")
        elif payload is NOT_JSON:
            self.fail("chain", seq, "the payload is not valid JSON, so its hash cannot be recomputed: the "
                                    "stored bytes were changed")
        else:
            try:
                ok = verify_hash(self.session_id, seq, type_, version, payload, recorded_at, prev_hash) == hash_
            except (TypeError, ValueError):
                ok = False
            if not ok:
                self.fail("chain", seq, "the hash does not recompute from the event's content: the event "
                                        "(payload, recorded_at, type or seq) was changed after it was recorded")

    def _parse(self, seq, type_, version, payload):
        try:
            if payload is NOT_JSON:
                raise ValueError("the payload is not valid JSON")
            return parse(type_, version, payload)
        except FOLD_ERRORS as error:
            self.fail("parse", seq, f"{type_} event does not parse: {error}")
            self._stop(seq, "its event does not parse")
            return None

    def _check_decision(self, seq, event) -> None:
        try:
            seed = (event.settings if self.state is None else self.state.settings).seed
            decided = decide(self.state, _command(event), rng_for(seed, seq))
        except FOLD_ERRORS as error:
            self.fail("decisions", seq, f"decide refuses this press on the replayed state: {error}")
            return
        if len(decided) != 1 or decided[0].type != event.type:
            self.fail("decisions", seq, f"decide produces {[e.type for e in decided]} for this press, "
                                        f"not one {event.type}")
            return
        recorded, again = event.to_payload(), decided[0].to_payload()
        if recorded != again:
            self.fail("decisions", seq, f"decide no longer reproduces the recorded {event.type}: "
                                        f"{_difference(recorded, again)}")

    def _evolve(self, seq, event, digest) -> None:
        try:
            state = evolve(self.state, event)
        except FOLD_ERRORS as error:
            self._stop(seq, f"evolve refuses its event ({error})")
            return
        self.state = state
        if self.first is None:
            self.first = state
        replayed = state_digest(state)
        if replayed != digest:
            self.fail("digests", seq, f"replaying gives a different state than the one recorded (digest "
                                      f"{replayed[:12]}… replayed, {str(digest)[:12]}… recorded)")
        if seq in self.snapshots:
            self._check_snapshot(seq, replayed, *self.snapshots.pop(seq))
        if self.on_state is not None:
            self.on_state(seq, state, replayed)

    def _check_snapshot(self, seq, replayed: str, text: str, digest: str) -> None:
        cached = snapshots.decode(text, self.first)
        if cached is None:
            self.fail("snapshots", seq, f"the snapshot at seq {seq} cannot be decoded; it is a cache, so "
                                        f"deleting it loses nothing")
        elif state_digest(cached) != replayed or digest != replayed:
            diverged = self.failures.get("digests")
            why = ("; replay already diverged from the record at seq {}, see the digests check".format(diverged[0])
                   if diverged else "; it is a cache, so deleting it loses nothing")
            self.fail("snapshots", seq, f"the snapshot at seq {seq} is stale: it differs from the replayed state"
                                        + why)

    def _stop(self, seq, why: str) -> None:
        self.stopped = (seq, why)

    def finish(self) -> list[Check]:
        """Checks 1-5, 6 when snapshots were given, and `head` when an expected head was given."""
        if self.count == 0:
            self.fail("sequence", 1, "the session has no events")
            self._stop(1, "the session has no events")
        if self.stopped is not None:
            seq, why = self.stopped
            for check in ("digests", "decisions"):
                self.fail(check, seq, f"cannot be checked from seq {seq} on: replay stops there, {why}")
            if self.snapshots:
                self.fail("snapshots", min(self.snapshots), f"cannot be checked: replay stops at seq {seq}")
        elif self.snapshots:
            seq = min(self.snapshots)
            self.fail("snapshots", seq, f"the snapshot at seq {seq} lies beyond the head (seq {self.count}): "
                                        f"it is stale")
        self._explain_without_tampering()
        names = ["sequence", "chain", "parse", "digests", "decisions", "snapshots"]
        if self.expect_head is not None:
            self._check_head()
            names.append("head")
        return [Check(name, name not in self.failures, *self.failures.get(name, (None, None)))
                for name in names]

    def _explain_without_tampering(self) -> None:
        intact = not any(check in self.failures for check in ("sequence", "chain", "parse"))
        if intact and "digests" in self.failures:
            seq, reason = self.failures["digests"]
            self.failures["digests"] = (seq, reason + ". The hash chain is intact, so either the log was "
                                        "rewritten with every hash recomputed (check the head hash with "
                                        "--expect-head) or this nnreplay folds events differently from the "
                                        "one that recorded them")
        if intact and "digests" not in self.failures and "decisions" in self.failures:
            seq, reason = self.failures["decisions"]
            self.failures["decisions"] = (seq, "drift, not tampering: " + reason + ". The log itself is "
                                          "intact and replays, so nnreplay's decision code or numpy's random "
                                          "streams changed since the run was recorded (or the log was "
                                          "rewritten with every hash and digest recomputed: check the head "
                                          "hash with --expect-head)")

    def _check_head(self) -> None:
        if self.head_hash == self.expect_head:
            return
        if self.expected_at is not None:
            reason = (f"the expected hash is that of seq {self.expected_at}, not of the head (seq {self.count}): "
                      f"{self.count - self.expected_at} events were recorded after it")
        else:
            reason = f"the head hash is {self.head_hash}, and no event of this session has the expected hash"
        self.fail("head", self.count, reason)


@attrs.frozen
class SessionReport:
    session_id: str
    name: str | None
    learner: str
    events: int
    head_hash: str
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def verdict(self) -> str:
        failed = {check.name for check in self.checks if not check.ok}
        for verdict, names in (("tampered", ("sequence", "chain", "parse")), ("replay differs", ("digests",)),
                               ("drift", ("decisions",)), ("unexpected head", ("head",)),
                               ("stale snapshot", ("snapshots",)), ("unguarded", ("guards",))):
            if failed & set(names):
                return verdict
        return "ok"

    def to_json(self) -> dict:
        return {"id": self.session_id, "name": self.name, "learner": self.learner, "events": self.events,
                "head_hash": self.head_hash, "ok": self.ok, "verdict": self.verdict,
                "checks": [check.to_json() for check in self.checks]}


def check_guards(conn: sqlite3.Connection) -> Check:
    """Check 7: each guard trigger exists on `events` with exactly the SQL the schema creates."""
    expected = {}
    for statement in TRIGGERS_SQL.split("END;"):
        if statement.strip():
            sql = " ".join(statement.replace("IF NOT EXISTS ", "").split()) + " END"
            expected[sql.split()[2]] = sql
    found = dict((name, (table, sql)) for name, table, sql in conn.execute(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'"))
    for name in GUARD_TRIGGERS:
        if name not in found:
            return Check("guards", False, None, f"the trigger {name} is missing: the database no longer refuses "
                                                f"every rewrite of the event log")
        table, sql = found[name]
        if table != "events" or " ".join(str(sql).split()) != expected[name]:
            return Check("guards", False, None, f"the trigger {name} was altered: it is not the one nnreplay "
                                                f"creates")
    return Check("guards", True)


def audit_session(conn: sqlite3.Connection, info, guards: Check, expect_head: str | None = None,
                  on_rows=None) -> SessionReport:
    """Run every check on one session; `on_rows(n)` hears about progress every few thousand rows."""
    snaps = {seq: (text, digest) for seq, text, digest in conn.execute(
        "SELECT seq, state, state_digest FROM snapshots WHERE session_id = ? AND engine_version = ?",
        (info.id, ENGINE_VERSION))}
    verifier = Verifier(info.id, snaps, expect_head=expect_head)
    rows = conn.execute(f"SELECT {ROW_COLUMNS} FROM events WHERE session_id = ? ORDER BY seq", (info.id,))
    feed = verifier.feed
    for seq, type_, version, payload, recorded_at, prev_hash, hash_, digest in rows:
        feed(seq, type_, version, decode_payload(payload), recorded_at, prev_hash, hash_, digest)
        if on_rows is not None and verifier.count % 2000 == 0:
            on_rows(2000)
    if on_rows is not None:
        on_rows(verifier.count % 2000)
    first = verifier.first
    if first is not None and (first.settings.learner, first.settings.seed) != (info.learner, info.seed):
        verifier.fail("parse", 1, f"session_started says learner {first.settings.learner}, seed "
                                  f"{first.settings.seed}; the sessions table says {info.learner}, {info.seed}")
    checks = verifier.finish()
    return SessionReport(info.id, info.name, info.learner, verifier.count, verifier.head_hash,
                         (*checks[:6], guards, *checks[6:]))


def audit(log, sessions, expect_head: str | None = None, on_rows=None) -> list[SessionReport]:
    """Audit each of `sessions` (SessionInfo) of the open EventLog `log`."""
    try:
        guards = check_guards(log.conn)
        return [audit_session(log.conn, info, guards, expect_head, on_rows) for info in sessions]
    except sqlite3.Error as error:
        raise translate(error, log.path) from None


def count_events(log, sessions) -> int:
    ids = [info.id for info in sessions]
    if not ids:
        return 0
    marks = ", ".join("?" * len(ids))
    return log.conn.execute(f"SELECT COUNT(*) FROM events WHERE session_id IN ({marks})", ids).fetchone()[0]
