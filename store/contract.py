"""The schema is the contract: every object of an SQLite file compared with what nnreplay creates.

A schema object decides what a write does and what a read sees: a trigger named `sqlite_keep` that deletes a
session after each insert, a UNIQUE ... ON CONFLICT REPLACE that makes SQLite delete a row without firing
any DELETE trigger, a generated column, a view standing in for a table. So nothing is skipped by name: every
row of `sqlite_schema` (SQLite's own `sqlite_autoindex_*`, `sqlite_sequence`, `sqlite_stat1` included) must
be one that a layout below holds, with the same table, the same SQL text byte for byte, its own storage
(a root page no other object shares, which `PRAGMA writable_schema` could otherwise arrange), and the
columns (`PRAGMA table_xinfo`: hidden and generated ones too) and index keys (`PRAGMA index_xinfo`) that
SQL gives in a fresh database.

Layouts accepted: schema version 1 as release 0.1.0 created it, with or without the `heads` cache that later
releases of version 1 added; schema version 2 (this release) adds the `sessions` guards (`heads` is a cache
here too: a file whose `heads` table was dropped is accepted, and the next writer creates it again). A writer upgrades a
version 1 file under the write lock (store.schema); a reader and an audit accept either exactly.
"""

import functools
import sqlite3

from store.chain import GENESIS

META_SQL = 'CREATE TABLE "meta" (\n   "key" TEXT PRIMARY KEY,\n   "value" TEXT NOT NULL\n)'
SESSIONS_SQL = ('CREATE TABLE "sessions" (\n   "id" TEXT PRIMARY KEY,\n   "name" TEXT,\n   "learner" TEXT NOT NULL,\n'
                '   "seed" INTEGER NOT NULL,\n   "created_at" TEXT NOT NULL,\n   "parent_id" TEXT,\n   "parent_seq" INTEGER\n)')
EVENTS_SQL = ('CREATE TABLE "events" (\n   "session_id" TEXT,\n   "seq" INTEGER,\n   "type" TEXT NOT NULL,\n'
              '   "schema_version" INTEGER NOT NULL,\n   "payload" TEXT NOT NULL,\n   "recorded_at" TEXT NOT NULL,\n'
              '   "prev_hash" TEXT NOT NULL,\n   "hash" TEXT NOT NULL,\n   "state_digest" TEXT NOT NULL,\n'
              '   PRIMARY KEY ("session_id", "seq")\n)')
SNAPSHOTS_SQL = ('CREATE TABLE "snapshots" (\n   "session_id" TEXT,\n   "engine_version" TEXT,\n   "seq" INTEGER,\n'
                 '   "state" TEXT NOT NULL,\n   "state_digest" TEXT NOT NULL,\n'
                 '   PRIMARY KEY ("session_id", "engine_version", "seq")\n)')
NAME_INDEX_SQL = "CREATE UNIQUE INDEX idx_sessions_name ON sessions (name)"
HEADS_SQL = """CREATE TABLE IF NOT EXISTS heads (session_id TEXT PRIMARY KEY, seq INTEGER NOT NULL,
hash TEXT NOT NULL, state_digest TEXT NOT NULL, loss REAL NOT NULL, accuracy REAL NOT NULL, score REAL NOT NULL)"""

EVENT_TRIGGERS_SQL = f"""
CREATE TRIGGER IF NOT EXISTS events_refuse_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are immutable: UPDATE of the event log is refused'); END;
CREATE TRIGGER IF NOT EXISTS events_refuse_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are immutable: DELETE from the event log is refused'); END;
CREATE TRIGGER IF NOT EXISTS events_append_only BEFORE INSERT ON events
WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE session_id = NEW.session_id)
  OR NEW.prev_hash IS NOT COALESCE(
       (SELECT hash FROM events WHERE session_id = NEW.session_id ORDER BY seq DESC LIMIT 1), '{GENESIS}')
BEGIN SELECT RAISE(ABORT, 'events are append-only: an insert must be the next seq of its session, chained to its head hash'); END;
"""
# schema version 2: nothing ever updates or deletes a session row (a fork or an import inserts a new one, and
# there is no rename), so the guards refuse both; and an insert may not replace a row (INSERT OR REPLACE deletes
# the row it collides with without firing the DELETE trigger)
SESSION_TRIGGERS_SQL = """
CREATE TRIGGER IF NOT EXISTS sessions_refuse_update BEFORE UPDATE ON sessions
BEGIN SELECT RAISE(ABORT, 'sessions are immutable: UPDATE of the sessions table is refused'); END;
CREATE TRIGGER IF NOT EXISTS sessions_refuse_delete BEFORE DELETE ON sessions
BEGIN SELECT RAISE(ABORT, 'sessions are immutable: DELETE from the sessions table is refused'); END;
CREATE TRIGGER IF NOT EXISTS sessions_insert_only BEFORE INSERT ON sessions
WHEN EXISTS (SELECT 1 FROM sessions WHERE id = NEW.id)
  OR (NEW.name IS NOT NULL AND EXISTS (SELECT 1 FROM sessions WHERE name = NEW.name))
BEGIN SELECT RAISE(ABORT, 'sessions are insert-only: an insert may not replace a session'); END;
"""
# schema version 2 also keeps the idempotency keys of presses (a server's `Idempotency-Key`): which request
# recorded which seqs, so that a retry is answered with the first result. Not hashed (see README, "The log on
# disk"); written in the same transaction as the events; never updated or deleted.
PRESS_KEYS_SQL = ("CREATE TABLE IF NOT EXISTS press_keys (key TEXT PRIMARY KEY, session_id TEXT NOT NULL, "
                  "request TEXT NOT NULL, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, "
                  "recorded_at TEXT NOT NULL)")
PRESS_KEY_TRIGGERS_SQL = """
CREATE TRIGGER IF NOT EXISTS press_keys_refuse_update BEFORE UPDATE ON press_keys
BEGIN SELECT RAISE(ABORT, 'press keys are immutable: UPDATE of press_keys is refused'); END;
CREATE TRIGGER IF NOT EXISTS press_keys_refuse_delete BEFORE DELETE ON press_keys
BEGIN SELECT RAISE(ABORT, 'press keys are immutable: DELETE from press_keys is refused'); END;
"""
TRIGGERS_SQL = EVENT_TRIGGERS_SQL + SESSION_TRIGGERS_SQL + PRESS_KEY_TRIGGERS_SQL
EVENT_TRIGGERS = ("events_refuse_update", "events_refuse_delete", "events_append_only")
SESSION_TRIGGERS = ("sessions_refuse_update", "sessions_refuse_delete", "sessions_insert_only")
PRESS_KEY_TRIGGERS = ("press_keys_refuse_update", "press_keys_refuse_delete")
GUARD_TRIGGERS = EVENT_TRIGGERS + SESSION_TRIGGERS + PRESS_KEY_TRIGGERS


def statements(script: str) -> list[str]:
    """The trigger script as single statements (each trigger body holds a `;` of its own)."""
    return [part.strip() + " END;" for part in script.split("END;") if part.strip()]


def version_1_statements(heads: bool) -> list[str]:
    return ([META_SQL, SESSIONS_SQL, EVENTS_SQL, SNAPSHOTS_SQL, NAME_INDEX_SQL] + statements(EVENT_TRIGGERS_SQL)
            + ([HEADS_SQL] if heads else []))


def version_2_statements(heads: bool = True) -> list[str]:
    return version_1_statements(heads) + _version_2_additions()


def _version_2_additions() -> list[str]:
    return statements(SESSION_TRIGGERS_SQL) + [PRESS_KEYS_SQL] + statements(PRESS_KEY_TRIGGERS_SQL)


def upgrade_statements(heads: bool) -> list[str]:
    """What turns a version 1 layout into version 2 (the `heads` cache only when it is missing)."""
    return ([] if heads else [HEADS_SQL]) + _version_2_additions()


@functools.cache
def _layout(script: tuple[str, ...]) -> dict:
    """The objects, columns and index keys that `script` gives in a fresh database."""
    conn = sqlite3.connect(":memory:")
    try:
        for sql in script:
            conn.execute(sql)
        return describe(conn)
    finally:
        conn.close()


def layouts(version: int) -> list[tuple[str, dict]]:
    """The layouts a file of schema `version` may have, each with a label for messages."""
    if version == 1:
        return [("schema 1", _layout(tuple(version_1_statements(heads=False)))),
                ("schema 1 with heads", _layout(tuple(version_1_statements(heads=True))))]
    if version == 2:
        return [("schema 2", _layout(tuple(version_2_statements()))),
                ("schema 2 without heads", _layout(tuple(version_2_statements(heads=False))))]
    return []


def describe(conn: sqlite3.Connection) -> dict:
    """Every object of the file's schema: (type, name) -> (table, sql), plus each table's columns and each
    index's keys, and the root pages shared by more than one object."""
    objects, roots = {}, {}
    for kind, name, table, root, sql in conn.execute("SELECT type, name, tbl_name, rootpage, sql FROM sqlite_schema"):
        objects[(kind, name)] = (table, sql)
        if kind in ("table", "index") and root:
            roots.setdefault(root, []).append(name)
    shape = {}
    for (kind, name), _ in objects.items():
        pragma = {"table": "table_xinfo", "index": "index_xinfo"}.get(kind)
        if pragma is not None and isinstance(name, str):
            try:
                shape[(kind, name)] = [tuple(row) for row in conn.execute(f'PRAGMA {pragma}("{_quote(name)}")')]
            except sqlite3.Error:
                shape[(kind, name)] = None
    shared = sorted(names for names in roots.values() if len(names) > 1)
    return {"objects": objects, "shape": shape, "shared": shared}


def _quote(name: str) -> str:
    return name.replace('"', '""')


def differences(conn: sqlite3.Connection, version: int) -> list[str]:
    """Every way the file's schema differs from the layout of `version` it is closest to, one sentence each;
    empty when it is exactly one of them."""
    found = describe(conn)
    best = None
    for label, expected in layouts(version):
        problems = _compare(found, expected, label)
        if best is None or len(problems) < len(best):
            best = problems
    return best if best is not None else [f"schema version {version} is not one this release knows"]


def _compare(found: dict, expected: dict, label: str) -> list[str]:
    problems = []
    have, want = found["objects"], expected["objects"]
    for key in sorted(want.keys() - have.keys()):
        guarded = {"events": "the event log", "sessions": "the sessions table"}.get(want[key][0])
        problems.append(f"the {key[0]} {key[1]} is missing" + (
            f": the database no longer refuses every rewrite of {guarded}" if key[0] == "trigger" and guarded else ""))
    foreign = [f"{kind} {printable_name(name)}" + (f" on {printable_name(have[(kind, name)][0])}"
                                                    if kind in ("trigger", "index") else "")
               for kind, name in sorted(have.keys() - want.keys(), key=str)]
    if foreign:
        problems.append(f"{len(foreign)} schema object(s) that nnreplay did not create: {', '.join(foreign)}")
    for key in sorted(have.keys() & want.keys()):
        if have[key] != want[key]:
            problems.append(f"the {key[0]} {key[1]} was altered: it is not the one nnreplay creates "
                            f"({_where(have[key], want[key])})")
        elif found["shape"].get(key) != expected["shape"].get(key):
            problems.append(f"the {key[0]} {key[1]} does not have the columns nnreplay creates (names, types, "
                            f"NOT NULL, defaults, keys, hidden and generated columns)")
    for names in found["shared"]:
        problems.append(f"{', '.join(printable_name(n) for n in names)} share one root page: sqlite_schema was "
                        f"edited by hand (PRAGMA writable_schema)")
    return problems


def _where(have: tuple, want: tuple) -> str:
    if have[0] != want[0]:
        return f"it is on {printable_name(have[0])}, not {want[0]}"
    found, expected = str(have[1]), str(want[1])
    at = next((i for i, (a, b) in enumerate(zip(found, expected)) if a != b), min(len(found), len(expected)))
    return f"its SQL differs from character {at + 1}: {found[at:at + 60]!r}"


def printable_name(name) -> str:
    # a schema object's name is data from the file like any other: never let it drive a terminal
    return repr(str(name)) if not str(name).isprintable() else str(name)
