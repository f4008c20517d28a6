"""Where a session recorded in machine arithmetic departs from its record on this machine, and what to say.

Sessions of releases 0.1 and 0.2 fold in machine arithmetic (engine/legacy.py): BLAS products, numpy's
reductions and its transcendental functions, whose last bits differ between CPUs and kernels. Folded on a
machine whose kernels differ from the recording one, such a log gives other states than those it records,
though nobody changed it. nnreplay never calls that tampering: when the session is of machine arithmetic
and its hash chain is intact, it is "recorded on other arithmetic" — its record is verified by its head
hash (`audit --expect-head`), and `repress` carries its presses on in portable arithmetic. A session of
portable arithmetic that does not fold to its record is a real failure, reported as before.
"""

from engine import evolve, state_digest
from store.chain import GENESIS, decode_strict, verify_hash
from store.errors import OtherArithmetic, UnsoundLog

VERDICT = "other arithmetic"


def chain_intact(log, session_id: str) -> tuple[bool, str]:
    """(whether seq runs 1..N and every hash recomputes and links, the head hash)."""
    previous, expected = GENESIS, 1
    for row in log.rows(session_id):
        if row.seq != expected or row.prev_hash != previous:
            return False, previous
        try:
            payload = decode_strict(row.payload)
            ok = verify_hash(session_id, row.seq, row.type, row.schema_version, payload, row.recorded_at,
                             row.prev_hash) == row.hash
        except (TypeError, ValueError, RecursionError):
            ok = False
        if not ok:
            return False, previous
        previous, expected = row.hash, expected + 1
    return expected > 1, previous


def departure(log, session_id: str) -> int | None:
    """The first seq whose replayed state differs from the digest recorded there (folding from the start,
    no snapshot), or None when every state matches."""
    state = None
    for row in log.rows(session_id):
        state = evolve(state, row.event())
        if state_digest(state) != row.state_digest:
            return row.seq
    return None


def message(label: str, seq: int, head_hash: str) -> str:
    return (f"{label} was recorded with machine-dependent arithmetic (nnreplay 0.1 or 0.2), and this machine's "
            f"replay departs from the record at seq {seq}; its hash chain is intact, so nothing says it was "
            f"changed: `nnreplay audit {label} --expect-head {head_hash}` verifies the record against a head "
            f"hash you trust, and `nnreplay repress {label}` carries its presses on in portable arithmetic")


def explain(log, session_id: str, label: str, settings, seq: int | None = None) -> OtherArithmetic | None:
    """The OtherArithmetic error for a session whose fold disagrees with its record, when that is what it
    is (machine arithmetic, chain intact); None when the disagreement is a real failure. `seq` is where the
    fold departs, when the caller already knows."""
    if settings.portable:
        return None
    intact, head_hash = chain_intact(log, session_id)
    if not intact:
        return None
    if seq is None:
        try:
            seq = departure(log, session_id)
        except Exception:  # noqa: BLE001 - an event that does not even fold is a failure, not arithmetic
            return None
    if seq is None:  # the snapshots, not the log, disagreed with the fold: not this case
        return None
    return OtherArithmetic(message(label, seq, head_hash), seq, head_hash)


def whole_fold_departs(log, session_id: str, label: str, settings) -> UnsoundLog | None:
    """For a session of machine arithmetic, whether this machine's fold departs anywhere from the record,
    even where it meets the record again by the head (kernels that differ in one step's last bit can): the
    error to refuse a press with, or None. A portable session's head check is enough (None). This folds
    the whole log: only presses on sessions of release 0.1/0.2 pay for it."""
    if settings.portable:
        return None
    try:
        seq = departure(log, session_id)
    except Exception:  # noqa: BLE001 - an event that does not fold: the press's own fold says more
        return None
    if seq is None:
        return None
    return explain(log, session_id, label, settings, seq) or UnsoundLog(
        f"{label}: folding its log departs from the record at seq {seq}, so nothing was appended; run "
        f"`nnreplay audit` for the details")


def refuse(log, session_id: str, label: str, state, default: UnsoundLog) -> None:
    """Raise the honest error for a state that does not match its record: OtherArithmetic where it
    applies, `default` otherwise."""
    raise explain(log, session_id, label, state.settings) or default
