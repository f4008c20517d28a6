"""Audit checks of what the hash chain does not cover: the database's schema objects (check 7, guards), the
session's row in `sessions`, and the `heads` cache (reported under check 6 with the snapshots)."""

import functools
import sqlite3

from store.chain import is_utc_timestamp
from store.names import is_session_id, parent_fits
from store.schema import GUARD_TRIGGERS, HEADS_SQL, OWN_OBJECTS, TRIGGERS_SQL
from store.schema import _create_schema as create_schema
from store.verify import Check, Verifier


def check_guards(conn: sqlite3.Connection) -> Check:
    """Check 7: each guard trigger exists on `events` with exactly the SQL the schema creates, and the file
    holds no trigger, view, table or index that nnreplay did not create (a foreign trigger can make an
    insert vanish, or rewrite what a reader sees). Every problem is named, not only the first.

    Read from sqlite_master rather than tried out, so that an audit never writes to the file it judges."""
    expected = {}
    for statement in TRIGGERS_SQL.split("END;"):
        if statement.strip():
            sql = " ".join(statement.replace("IF NOT EXISTS ", "").split()) + " END"
            expected[sql.split()[2]] = sql
    objects = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    found = {name: (table, sql) for kind, name, table, sql in objects if kind == "trigger"}
    problems = []
    for name in GUARD_TRIGGERS:
        if name not in found:
            problems.append(f"the trigger {name} is missing: the database no longer refuses every rewrite of the "
                            f"event log")
        elif found[name][0] != "events" or " ".join(str(found[name][1]).split()) != expected[name]:
            problems.append(f"the trigger {name} was altered: it is not the one nnreplay creates")
    foreign = [f"{kind} {printable_name(name)} on {printable_name(table)}" if kind in ("trigger", "index")
               else f"{kind} {printable_name(name)}"
               for kind, name, table, _ in objects
               if (kind, name) not in OWN_OBJECTS and not str(name).startswith("sqlite_")]
    if foreign:
        problems.append(f"{len(foreign)} schema object(s) that nnreplay did not create: {', '.join(foreign)}")
    altered = [name for kind, name, _, _ in objects if kind == "table" and (kind, name) in OWN_OBJECTS
               and _columns(conn, name) != _expected_columns()[name]]
    if altered:
        problems.append(f"table(s) {', '.join(altered)} do not have the columns nnreplay creates (names, types, "
                        f"NOT NULL, defaults, primary key)")
    if problems:
        return Check("guards", False, None, "; ".join(problems))
    return Check("guards", True)


def _columns(conn: sqlite3.Connection, table: str) -> list[tuple]:
    return [tuple(row) for row in conn.execute(f'PRAGMA table_info("{table}")')]


@functools.cache
def _expected_columns() -> dict[str, list[tuple]]:
    """Each of nnreplay's tables as a fresh schema has it: a table recreated by hand with another column,
    type, default or key is as foreign as a table nnreplay never made."""
    conn = sqlite3.connect(":memory:")
    try:
        create_schema(conn)
        conn.execute(HEADS_SQL)
        return {table: _columns(conn, table) for kind, table in OWN_OBJECTS if kind == "table"}
    finally:
        conn.close()


def printable_name(name) -> str:
    # a schema object's name is data from the file like any other: never let it drive a terminal
    return repr(str(name)) if not str(name).isprintable() else str(name)


def check_session_row(verifier: Verifier, info) -> None:
    """The sessions table is not hashed; what is in it must at least have the form nnreplay writes."""
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
