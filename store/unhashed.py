"""Audit checks of what the hash chain does not cover: the database's schema objects (check 7, guards), the
session's row in `sessions`, and the `heads` cache (reported under check 6 with the snapshots)."""

import re
import sqlite3

from store.chain import is_utc_timestamp
from store.names import is_session_id, parent_fits
from store.contract import differences, printable_name  # noqa: F401  (printable_name: re-exported)
from store.verify import Check, Verifier


def check_guards(conn: sqlite3.Connection) -> Check:
    """Check 7: the file's whole schema is exactly one that nnreplay creates for its schema version
    (store.contract): the guard triggers on `events` and `sessions` with their exact SQL, and no other
    object, `sqlite_*` ones included; every table with its exact definition (constraints, conflict clauses,
    generated columns). Every difference is named, not only the first.

    Read from sqlite_schema and PRAGMAs rather than tried out, so that an audit never writes to the file it
    judges."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    version = int(row[0]) if row is not None and re.fullmatch(r"[0-9]{1,9}", str(row[0])) else 0
    problems = differences(conn, version)
    if problems:
        return Check("guards", False, None, "; ".join(problems))
    return Check("guards", True)


def check_session_row(verifier: Verifier, info) -> None:
    """The sessions table is not hashed; what is in it must at least have the form nnreplay writes, and
    every session that holds events must have its row (a deleted row hides the events from every listing)."""
    from store.rows import UnlistedSession

    if isinstance(info, UnlistedSession):
        verifier.fail("parse", None, f"the sessions table has no row for this session: its {verifier.count} "
                                     f"event(s) are hidden from every listing (the row was deleted)")
        return
    if not is_session_id(info.id):
        verifier.fail("parse", None, f"the session id {info.id!r:.60} is not 32 lowercase hex digits")
    if not is_utc_timestamp(info.created_at):
        verifier.fail("parse", None, f"created_at {str(info.created_at)!r:.60} is not a UTC ISO-8601 time")
    if (info.parent_id is None) != (info.parent_seq is None) or (info.parent_id is not None and not (
            is_session_id(info.parent_id) and type(info.parent_seq) is int and info.parent_seq >= 1)):
        verifier.fail("parse", None, "parent_id and parent_seq must both be empty, or a session id and a seq")
    elif info.parent_id is not None and not parent_fits(info.id, info.parent_id, info.parent_seq, verifier.count):
        verifier.fail("parse", None, f"parent_id and parent_seq name no fork this session can be: a fork shares "
                                     f"events 1..parent_seq ({info.parent_seq}) with another session, and this "
                                     f"one has {verifier.count}")


def check_heads(log, verifier: Verifier, info) -> None:
    """The heads row, if there is one, against the replay (reported under the snapshots check: both are
    caches). A row with another hash is only outdated (readers skip it); one that claims the head's hash
    must be right in every field, since readers believe it."""
    if not log.has_heads():
        return
    [row] = log._read("SELECT seq, hash, state_digest, loss, accuracy, score FROM heads WHERE session_id = ?",
                      (info.id,)) or [None]
    if row is None or row[1] != verifier.head_hash:
        return  # no row, or an outdated one: readers use a row only when its hash is the head's
    [recorded] = log._read("SELECT state_digest FROM events WHERE session_id = ? AND seq = ?",
                           (info.id, verifier.count)) or [None]
    state = verifier.state if verifier.state is not None and verifier.state.seq == verifier.count else None
    if state is None:
        state = log.state(info.id)
    m = state.metrics
    if tuple(row) != (verifier.count, verifier.head_hash, recorded[0] if recorded else None, m.loss, m.accuracy,
                      m.score):
        verifier.fail("snapshots", verifier.count, "the head summary in the heads table differs from the replayed "
                                                   "head; it is a cache, so deleting its row loses nothing")
