"""The verifying fold: checks 1-6 of an audit over one session's rows, in a single pass.

`Verifier.feed` takes the rows in seq order and runs the checks side by side: seq numbering, the hash
chain (recomputed from the documented canonical form, `chain.verify_hash`), the event schemas, the evolve
fold against every recorded state digest, decide re-run for every press, and cached snapshots. Each check
keeps its first failure: the seq and a reason meant for a person. Audit feeds it from the database, import
from an export file, fork from the parent's prefix.
"""

import json

import attrs

from engine import (ClassPaused, ClassResumed, NnreplayError, Next, PauseClass, Rate, SessionStarted, Start, decide,
                    evolve, rng_for, state_digest)
from engine.events import EVENT_TYPES, parse_exact
from store import snapshots
from store.chain import GENESIS, decode_strict, encode_payload, event_hash, is_utc_timestamp, verify_hash

CHECKS = {
    "sequence": "seq runs 1..N without gaps and starts with session_started",
    "chain": "every hash recomputes from the canonical form and every prev_hash links",
    "parse": "every event is exactly what the engine writes for its type (strict JSON, no unknown field, "
             "every value of its type, UTC times) and agrees with the sessions table",
    "digests": "folding the events with evolve reproduces every recorded state digest",
    "decisions": "re-running decide reproduces every recorded decision",
    "snapshots": "the caches (snapshots, each session's head summary) equal the replayed states",
    "guards": "the database's whole schema is the one nnreplay creates: its guard triggers refuse rewrites of "
              "events and sessions, and no other object (sqlite_* ones included), constraint or column is there",
    "head": "the head hash is the expected one",
    "class": "a student's session names a class record that is in the database under its class's name, and a "
             "class record is named after its class (only sessions of a class have this check)",
}
TAMPER_CHECKS = ("sequence", "chain", "parse", "digests")
_HEX = frozenset("0123456789abcdef")
# a tampered payload can make numpy or the engine fail in ways that are not NnreplayError
FOLD_ERRORS = (NnreplayError, TypeError, ValueError, KeyError, IndexError, AttributeError, ArithmeticError)


class NotJson:
    """A stored payload that strict decoding refuses, with the reason; `lenient` is what plain json.loads
    makes of it (NaN, a repeated key...), so that its hash can still be recomputed, or None."""

    def __init__(self, reason: str, lenient=None):
        self.reason, self.lenient = reason, lenient




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
    """A stored payload decoded strictly (`chain.decode_strict`), or a NotJson saying why not."""
    try:
        return decode_strict(text)
    except (TypeError, ValueError) as error:
        try:
            lenient = json.loads(text)
        except (TypeError, ValueError, RecursionError):
            lenient = None
        return NotJson(str(error), lenient)


def _command(event):
    """The press that produced `event`, to hand to decide again."""
    if isinstance(event, SessionStarted):
        return Start(event.settings, event.origin, event.member)
    if isinstance(event, (ClassPaused, ClassResumed)):
        return PauseClass(isinstance(event, ClassPaused))
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


def _encode(payload) -> str | None:
    try:
        return encode_payload(payload)
    except (TypeError, ValueError, RecursionError):
        return None


def _hash(session_id, seq, type_, version, payload, recorded_at, prev_hash, canonical=None) -> str:
    """The documented hash; through the store's fast path (same bytes, tested) when every field has the
    type the store writes, through the definition itself for anything a hand edit could leave there."""
    if (canonical is not None and type(seq) is int and type(version) is int
            and all(type(v) is str for v in (session_id, type_, recorded_at, prev_hash))):
        return event_hash(session_id, seq, type_, version, canonical, recorded_at, prev_hash)
    return verify_hash(session_id, seq, type_, version, payload, recorded_at, prev_hash)


def _earliest(seqs):
    # the snapshots table has no guards: a hand-edited seq may not even be a number
    return min(seqs, key=lambda seq: (0, seq, "") if isinstance(seq, (int, float)) else (1, 0, str(seq)))


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
        self.portable: bool | None = None  # the session's arithmetic, once its first event is folded

    def resume(self, count: int, head_hash: str, state, first) -> None:
        """Start after seq `count`, from a state proven equal to the recorded one there."""
        self.count, self.head_hash, self.state, self.first = count, head_hash, state, first
        self.portable = None if first is None else first.settings.portable

    def merge(self, later: "Verifier") -> None:
        """Take in the verifier of the rows that follow this one's (a parallel audit's next segment)."""
        for check, found in later.failures.items():
            self.fail(check, *found)
        self.portable = self.portable if self.portable is not None else later.portable
        self.count, self.head_hash = later.count, later.head_hash
        self.expected_at = later.expected_at or self.expected_at
        self.stopped = self.stopped or later.stopped
        self.snapshots = {**self.snapshots, **later.snapshots}

    def fail(self, check: str, seq, reason: str) -> None:
        self.failures.setdefault(check, (seq, reason))

    def feed(self, seq, type_, version, payload, recorded_at, prev_hash, hash_, digest, text=None) -> None:
        """One row; `payload` already decoded (by `decode_payload`, so maybe a NotJson). `text` is the
        payload as stored, when it comes from a database: it must be the canonical encoding."""
        self.count += 1
        self._check_sequence(seq, type_)
        canonical = None if isinstance(payload, NotJson) else _encode(payload)
        self._check_chain(seq, type_, version, payload, canonical, recorded_at, prev_hash, hash_)
        self._check_row(seq, type_, payload, canonical, recorded_at, text, digest)
        self.head_hash = hash_
        if hash_ == self.expect_head:
            self.expected_at = seq
        if self.stopped is not None:
            return
        event = self._redecided(seq, type_, version, payload, canonical)
        if event is None:  # the payload differs from what decide gives: check it the long way
            event = self._parse(seq, type_, version, payload)
            if event is not None:
                self._check_decision(seq, event)
        if event is not None:
            self._evolve(seq, event, digest)

    def _check_row(self, seq, type_, payload, canonical, recorded_at, text, digest) -> None:
        """The parse check's rules for what surrounds the payload: strict JSON, stored canonically, a UTC
        time, a digest that is one."""
        if isinstance(payload, NotJson):
            self.fail("parse", seq, f"{type_} payload is not strict JSON: {payload.reason}")
            self._stop(seq, "its payload cannot be read")
        elif text is not None and text != canonical:
            self.fail("parse", seq, f"{type_} payload is not stored as the canonical JSON nnreplay writes "
                                    f"(spacing, key order or number form differ), so SQL's json_extract and "
                                    f"nnreplay could read it differently")
        if not is_utc_timestamp(recorded_at):
            self.fail("parse", seq, f"recorded_at {str(recorded_at)[:40]!r} is not a UTC ISO-8601 time")
        if not (isinstance(digest, str) and len(digest) == 64 and set(digest) <= _HEX):
            self.fail("parse", seq, "state_digest is not 64 hex digits")

    def _redecided(self, seq, type_, version, payload, canonical):
        """The event decide makes for this press, if the stored payload is exactly its payload.

        Most rows of an intact log take this path: it settles the schema check (decide only makes valid
        events) and the decision check at once, without parsing the payload field by field.
        """
        cls = EVENT_TYPES.get(type_)
        if self.state is None or cls is None or cls is SessionStarted or version != cls.schema_version:
            return None
        if type(payload) is not dict or type(payload.get("source")) is not str:
            return None
        try:
            command = Rate(payload["button"], payload["source"]) if type_ == "feedback_given" else Next(payload["source"])
            [event] = decide(self.state, command, rng_for(self.state.settings.seed, seq))
        except (KeyError, ValueError, *FOLD_ERRORS):
            return None
        if event.type != type_ or _encode(event.to_payload()) != canonical:  # type-exact: 1 is not 1.0
            return None
        return event

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

    def _check_chain(self, seq, type_, version, payload, canonical, recorded_at, prev_hash, hash_) -> None:
        if isinstance(payload, NotJson) and payload.lenient is not None:
            payload = payload.lenient  # what a lenient writer hashed: the parse check reports the rest
            canonical = None
        if prev_hash != self.head_hash:
            before = "64 zeros (the chain's start)" if self.count == 1 else "the hash of the event before it"
            self.fail("chain", seq, f"prev_hash is not {before}: an event was removed, inserted, reordered "
                                    f"or rewritten before this one")
        elif isinstance(payload, NotJson):
            self.fail("chain", seq, "the payload is not valid JSON, so its hash cannot be recomputed: the "
                                    "stored bytes were changed")
        else:
            try:
                ok = _hash(self.session_id, seq, type_, version, payload, recorded_at, prev_hash, canonical) == hash_
            except (TypeError, ValueError, RecursionError):
                ok = False
            if not ok:
                self.fail("chain", seq, "the hash does not recompute from the event's content: the event "
                                        "(payload, recorded_at, type or seq) was changed after it was recorded")

    def _parse(self, seq, type_, version, payload):
        if isinstance(payload, NotJson):
            return None  # reported by _check_row
        try:
            return parse_exact(type_, version, payload)
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
        again = decided[0]
        if isinstance(event, SessionStarted):
            # which nnreplay recorded the run is a fact about the recording, not a decision to reproduce
            again = attrs.evolve(again, engine_version=event.engine_version)
        if again != event:  # attrs compares field by field: cheaper than comparing payloads
            self.fail("decisions", seq, f"decide no longer reproduces the recorded {event.type}: "
                                        f"{_difference(event.to_payload(), again.to_payload())}")

    def _evolve(self, seq, event, digest) -> None:
        try:
            state = evolve(self.state, event)
        except FOLD_ERRORS as error:
            self._stop(seq, f"evolve refuses its event ({error})")
            return
        self.state = state
        if self.first is None:
            self.first = state
            self.portable = state.settings.portable
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
                self.fail("snapshots", _earliest(self.snapshots), f"cannot be checked: replay stops at seq {seq}")
        elif self.snapshots:
            seq = _earliest(self.snapshots)
            self.fail("snapshots", seq, f"the snapshot at seq {seq} lies beyond the head (seq {self.count}): "
                                        f"it is stale")
        self._explain_without_tampering()
        names = ["sequence", "chain", "parse", "digests", "decisions", "snapshots"]
        if self.expect_head is not None:
            self._check_head()
            names.append("head")
        return [Check(name, name not in self.failures, *self.failures.get(name, (None, None)))
                for name in names]

    @property
    def other_arithmetic(self) -> bool:
        """Whether every failure is this machine's replay departing from a log recorded in machine
        arithmetic (release 0.1/0.2) whose chain is intact: not tampering (store/departure.py)."""
        intact = not any(check in self.failures for check in ("sequence", "chain", "parse"))
        return (intact and self.portable is False and self.stopped is None
                and bool(self.failures.keys() & {"digests", "decisions"}))

    def _explain_without_tampering(self) -> None:
        intact = not any(check in self.failures for check in ("sequence", "chain", "parse"))
        if self.other_arithmetic:
            for check in ("digests", "decisions"):
                if check in self.failures:
                    seq, reason = self.failures[check]
                    self.failures[check] = (seq, f"recorded on other arithmetic, not tampered: {reason}. This "
                                            f"session was recorded with machine-dependent arithmetic (nnreplay "
                                            f"0.1 or 0.2), and this machine's replay departs from the record at "
                                            f"seq {seq}; the hash chain is intact. --expect-head HASH verifies "
                                            f"the record against a head hash you trust; `nnreplay repress` "
                                            f"carries its presses on in portable arithmetic")
            return
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
