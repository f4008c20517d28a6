"""Fork: a new session whose history is a copy of its parent's up to a seq, continued independently.

The copy keeps every payload, recorded_at and state digest; only the hashes change, because the canonical
form includes the session id. Rows go in through the plain INSERT the store uses, so the append-only
trigger vets each one (next seq, chained to the head), all in one transaction. `write_copy` is shared with
import, which re-chains a renamed session the same way.
"""

import secrets

from store import snapshots
from store.chain import GENESIS, encode_payload, event_hash
from store.errors import StoreError, UnsoundLog
from store.log import EventLog, SessionInfo, check_name, utc_now
from store.verify import TAMPER_CHECKS, Verifier, decode_payload


class Copy:
    """Rows to write under a new session id: (seq, type, schema_version, payload, recorded_at, digest), with
    payloads decoded, plus the snapshot states collected while they were verified."""

    def __init__(self):
        self.rows: list[tuple] = []
        self.states: list[tuple] = []
        self.last = None  # the state after the last row: its metrics go into the heads read model
        self.warnings: list[str] = []  # checks that failed without making the copy untrustworthy (drift)
        # a release-0.1/0.2 session whose replay departs here (intact chain): copied with its recorded
        # digests, but with no cache made from this machine's fold (store/departure.py)
        self.other_arithmetic = False

    def caches(self) -> tuple[list, object]:
        """(snapshot states, head state) to write with the copy: none for an other-arithmetic copy."""
        return ([], None) if self.other_arithmetic else (self.states, self.last)

    def collect_state(self, seq, state, digest) -> None:
        self.last = state
        if seq % snapshots.every(state.settings) == 0:  # the cadence the recorder keeps (closer when costly)
            # kept encoded, not as the state: a state holds its forward pass over every point (megabytes for
            # a big network on many points), and a costly session is snapshotted every few events
            self.states.append((state.seq, snapshots.encode(state), digest))


def write_copy(log, info: SessionInfo, copy: Copy) -> str:
    """Insert the session row, its chained events and its snapshots in one transaction; return the head hash."""
    prev, rows = GENESIS, []
    for seq, type_, version, payload, recorded_at, digest in copy.rows:
        # re-encoded: the stored text must be the canonical one that the fast hash path assumes
        text = encode_payload(payload)
        hash_ = event_hash(info.id, seq, type_, version, text, recorded_at, prev)
        rows.append((info.id, seq, type_, version, text, recorded_at, prev, hash_, digest))
        prev = hash_
    states, last = copy.caches()
    snaps = [(info.id, snapshots.ENGINE_VERSION, seq, text, digest) for seq, text, digest in states]
    log.write_session(info, rows, snaps, last)
    return prev


def refuse_unsound(label: str, checks, other_arithmetic: bool = False) -> None:
    for check in checks:
        if other_arithmetic and check.name in ("digests", "decisions"):
            continue  # recorded on other arithmetic: an intact record, not a tampered one
        if not check.ok and check.name in TAMPER_CHECKS:
            raise UnsoundLog(f"session {label} fails its audit at seq {check.seq} ({check.name}: "
                             f"{check.reason}); run `nnreplay audit` for the details")


def fork(log: EventLog, parent: SessionInfo, at: int, name: str | None = None) -> SessionInfo:
    """A new session sharing `parent`'s events 1..at; refused if that prefix does not audit clean."""
    if name is not None:
        check_name(name)
    head, _ = log.head(parent.id)
    if not 1 <= at <= head:
        raise StoreError(f"--at must be a seq of session {parent.label} (1..{head}), got {at}")
    copy = Copy()
    verifier = Verifier(parent.id, on_state=copy.collect_state)
    for row in log.rows(parent.id, 1, at):
        payload = decode_payload(row.payload)
        verifier.feed(row.seq, row.type, row.schema_version, payload, row.recorded_at, row.prev_hash,
                      row.hash, row.state_digest, row.payload)
        copy.rows.append((row.seq, row.type, row.schema_version, payload, row.recorded_at, row.state_digest))
    refuse_unsound(parent.label, verifier.finish(), verifier.other_arithmetic)
    copy.other_arithmetic = verifier.other_arithmetic
    info = SessionInfo(secrets.token_hex(16), name, parent.learner, parent.seed, utc_now(), parent.id, at)
    write_copy(log, info, copy)
    return info
