"""Audit's guard check on PostgreSQL: read the catalogue to see that the log's guards are in place.

The twin of audit.check_guards for SQLite. It only reads pg_catalog, so an audit never writes to the
database it judges. It reports, for the tables in the `nnreplay` schema:
- a guard trigger that is missing, disabled (pg_trigger.tgenabled 'D'), enabled only for replication
  ('R') or only in the default mode ('O', which `session_replication_role = replica` switches off), or
  altered (timing, events, level, a WHEN condition, a column list, arguments, or another function body);
- anything foreign that can change what a write does or what a read sees: another trigger (a BEFORE INSERT
  trigger running after ours could rewrite a row it passed), a rule (DO INSTEAD bypasses triggers), a
  row-level security policy or RLS switched on (hides events from readers), a table inheriting from one of
  ours (its rows show in reads of the parent without passing its triggers), a table that is not a plain
  table, or a payload column that is no longer `json`.
Triggers PostgreSQL itself creates for the foreign key (tgisinternal) are not foreign.

Since schema 3 (issue 17) the whole schema is the contract, as on SQLite: the `sessions` guards, every
column of every table (type, NOT NULL, default, generated, identity, collation), every constraint
(`pg_get_constraintdef`: a foreign key ON DELETE CASCADE, an extra UNIQUE), every index, and no other
relation (table, view, sequence) or function in the `nnreplay` schema. `heads` may be missing (a role that
could not create it works without it).
"""

from store.pg_schema import FUNCTIONS, GUARD_TRIGGERS, SCHEMA, SESSION_GUARD_TRIGGERS, TABLES
from store.verify import Check

_TRIGGERS = """
SELECT c.relname, t.tgname, t.tgenabled, t.tgtype, t.tgqual IS NOT NULL, t.tgnargs, t.tgattr::text <> '',
       fn.nspname, p.proname, p.prosrc
  FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_proc p ON p.oid = t.tgfoid
  JOIN pg_namespace fn ON fn.oid = p.pronamespace
 WHERE n.nspname = %(schema)s AND NOT t.tgisinternal
"""
_TABLES = """
SELECT c.relname, c.relkind, c.relrowsecurity,
       (SELECT count(*) FROM pg_rewrite r WHERE r.ev_class = c.oid),
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid),
       (SELECT count(*) FROM pg_inherits i WHERE i.inhparent = c.oid),
       (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attname = 'payload' AND NOT a.attisdropped)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %(schema)s AND c.relname = ANY(%(tables)s)
"""
_ENABLED = {"D": "disabled", "R": "enabled only for replication", "O": "not enabled ALWAYS (session_replication_role "
            "= replica switches it off)"}


def _same_body(found: str, expected: str) -> bool:
    return " ".join(found.split()) == " ".join(expected.split())


def guard_problems(conn, version: int | None = None) -> list[str]:
    """Every way the log's schema differs from what nnreplay creates for its schema version (read from meta
    unless given), one sentence each; empty when intact."""
    if version is None:
        row = conn.execute(f"SELECT value FROM {SCHEMA}.meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0]) if row is not None and str(row[0]).isascii() and str(row[0]).isdigit() else 0
    return _trigger_problems(conn, version) + _table_problems(conn) + _catalogue_problems(conn)


def _trigger_problems(conn, version: int) -> list[str]:
    guards = {("events", name): spec for name, spec in GUARD_TRIGGERS.items()}
    if version >= 3:
        guards.update({("sessions", name): spec for name, spec in SESSION_GUARD_TRIGGERS.items()})
    problems, found = [], {}
    for table, trigger, *rest in conn.execute(_TRIGGERS, {"schema": SCHEMA}):
        if (table, trigger) in guards:
            found[trigger] = rest
        else:
            problems.append(f"the foreign trigger {trigger} on {SCHEMA}.{table} can change what a write does")
    for (_, trigger), (tgtype, function) in guards.items():
        if trigger not in found:
            problems.insert(0, f"the trigger {trigger} is missing: the database no longer refuses every "
                               f"rewrite of the event log")
            continue
        enabled, found_type, has_when, nargs, columns, fn_schema, fn_name, body = found[trigger]
        if enabled != "A":
            problems.insert(0, f"the trigger {trigger} is {_ENABLED.get(enabled, f'in mode {enabled!r}')}")
        if (found_type, has_when, nargs, columns, fn_schema, fn_name) != (tgtype, False, 0, False, SCHEMA, function) \
                or not _same_body(body, FUNCTIONS[function]):
            problems.append(f"the trigger {trigger} was altered: it is not the one nnreplay creates")
    return problems


def _table_problems(conn) -> list[str]:
    problems = []
    tables = {row[0]: row[1:] for row in conn.execute(_TABLES, {"schema": SCHEMA, "tables": list(TABLES)})}
    for name in TABLES:
        if name not in tables:
            problems.append(f"the table {SCHEMA}.{name} is missing")
            continue
        kind, rls, rules, policies, children, payload_type = tables[name]
        if kind != "r":
            problems.append(f"{SCHEMA}.{name} is not a plain table (relkind {kind!r})")
        if rules:
            problems.append(f"{SCHEMA}.{name} has a foreign rule: a DO INSTEAD rule bypasses the triggers")
        if rls or policies:
            problems.append(f"{SCHEMA}.{name} has row-level security or a policy: readers may not see every row")
        if children:
            problems.append(f"a table inherits from {SCHEMA}.{name}: its rows show in reads without passing "
                            f"the triggers")
        if name == "events" and payload_type != "json":
            problems.append(f"{SCHEMA}.events.payload is {payload_type}, not json: the stored text may differ "
                            f"from the hashed one")
    return problems


# what `pg_schema.DDL` gives, read back from the catalogue (with search_path = nnreplay, as connect sets it)
_TEXT, _BIGINT = ("text", "default"), ("bigint", None)
COLUMNS = {
    "meta": [("key", *_TEXT, True), ("value", *_TEXT, True)],
    "sessions": [("id", *_TEXT, True), ("name", *_TEXT, False), ("learner", *_TEXT, True), ("seed", *_BIGINT, True),
                 ("created_at", *_TEXT, True), ("parent_id", *_TEXT, False), ("parent_seq", *_BIGINT, False)],
    "events": [("session_id", *_TEXT, True), ("seq", *_BIGINT, True), ("type", *_TEXT, True),
               ("schema_version", "integer", None, True), ("payload", "json", None, True),
               ("recorded_at", *_TEXT, True), ("prev_hash", *_TEXT, True), ("hash", *_TEXT, True),
               ("state_digest", *_TEXT, True)],
    "snapshots": [("session_id", *_TEXT, True), ("engine_version", *_TEXT, True), ("seq", *_BIGINT, True),
                  ("state", *_TEXT, True), ("state_digest", *_TEXT, True)],
    "press_keys": [("key", *_TEXT, True), ("session_id", *_TEXT, True), ("request", *_TEXT, True),
                   ("first_seq", *_BIGINT, True), ("last_seq", *_BIGINT, True), ("recorded_at", *_TEXT, True)],
    "heads": [("session_id", *_TEXT, True), ("seq", *_BIGINT, True), ("hash", *_TEXT, True),
              ("state_digest", *_TEXT, True), ("loss", "double precision", None, True),
              ("accuracy", "double precision", None, True), ("score", "double precision", None, True)],
}
CONSTRAINTS = {
    ("events", "events_pkey", "PRIMARY KEY (session_id, seq)"),
    ("events", "events_session_id_fkey", "FOREIGN KEY (session_id) REFERENCES sessions(id)"),
    ("heads", "heads_pkey", "PRIMARY KEY (session_id)"),
    ("meta", "meta_pkey", "PRIMARY KEY (key)"),
    ("press_keys", "press_keys_pkey", "PRIMARY KEY (key)"),
    ("sessions", "sessions_name_key", "UNIQUE (name)"),
    ("sessions", "sessions_pkey", "PRIMARY KEY (id)"),
    ("snapshots", "snapshots_pkey", "PRIMARY KEY (session_id, engine_version, seq)"),
}
INDEXES = {
    ("events_pkey", "events", "btree (session_id, seq)"), ("heads_pkey", "heads", "btree (session_id)"),
    ("meta_pkey", "meta", "btree (key)"), ("sessions_name_key", "sessions", "btree (name)"),
    ("press_keys_pkey", "press_keys", "btree (key)"),
    ("sessions_pkey", "sessions", "btree (id)"),
    ("snapshots_pkey", "snapshots", "btree (session_id, engine_version, seq)"),
}
_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), co.collname, a.attnotnull, a.atthasdef,
       a.attgenerated <> '', a.attidentity <> ''
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_collation co ON co.oid = a.attcollation
 WHERE n.nspname = %(schema)s AND c.relkind NOT IN ('i', 'I', 'c') ORDER BY c.relname, a.attnum
"""
_RELATIONS = """
SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %(schema)s AND c.relkind NOT IN ('c', 't')
"""
_CONSTRAINTS = """
SELECT r.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN pg_class r ON r.oid = k.conrelid
  JOIN pg_namespace n ON n.oid = r.relnamespace WHERE n.nspname = %(schema)s
"""
_INDEXES = """
SELECT ic.relname, tc.relname, pg_get_indexdef(i.indexrelid), i.indisunique, i.indpred IS NOT NULL
  FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class tc ON tc.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = tc.relnamespace WHERE n.nspname = %(schema)s
"""
_FUNCTIONS = """
SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %(schema)s
"""


def _catalogue_problems(conn) -> list[str]:
    """Columns, constraints, indexes, relations and functions of the `nnreplay` schema against DDL's."""
    problems = []
    relations = dict(conn.execute(_RELATIONS, {"schema": SCHEMA}).fetchall())
    own = set(COLUMNS) | {name for name, _, _ in INDEXES}
    foreign = sorted(f"{name} ({kind})" for name, kind in relations.items() if name not in own)
    if foreign:
        problems.append(f"{len(foreign)} relation(s) in {SCHEMA} that nnreplay did not create: {', '.join(foreign)}")
    found: dict[str, list] = {}
    for table, *column in conn.execute(_COLUMNS, {"schema": SCHEMA}):
        found.setdefault(table, []).append(tuple(column))
    for table, columns in COLUMNS.items():
        want = [(name, type_, collation, notnull, False, False, False) for name, type_, collation, notnull in columns]
        have = found.get(table)
        if table == "events" and have:  # a payload of another type has its own sentence (_table_problems)
            have = [("payload", "json", None, *column[3:]) if column[0] == "payload" else column for column in have]
        if have is not None and have != want:
            problems.append(f"{SCHEMA}.{table} does not have the columns nnreplay creates (names, types, collations, "
                            f"NOT NULL, defaults, generated and identity columns)")
    # the definitions name our own schema only where the search_path does not (a plain connection)
    constraints = {(table, name, definition.replace(f"{SCHEMA}.", ""))
                   for table, name, definition in conn.execute(_CONSTRAINTS, {"schema": SCHEMA})}
    present = {table for table in COLUMNS if table in relations}
    expected = {row for row in CONSTRAINTS if row[0] in present}
    for table, name, definition in sorted(constraints - expected):
        problems.append(f"the constraint {name} on {SCHEMA}.{table} is not one nnreplay creates ({definition})")
    for table, name, _ in sorted(expected - constraints):
        if not any(found_name == name for _, found_name, _ in constraints):
            problems.append(f"the constraint {name} on {SCHEMA}.{table} is missing")
    indexes = {(name, table, definition.split(" USING ", 1)[-1]) for name, table, definition, _, _ in
               conn.execute(_INDEXES, {"schema": SCHEMA})}
    for name, table, definition in sorted(indexes - {row for row in INDEXES if row[1] in present}):
        problems.append(f"the index {name} on {SCHEMA}.{table} is not one nnreplay creates ({definition})")
    functions = sorted({row[0] for row in conn.execute(_FUNCTIONS, {"schema": SCHEMA})} - set(FUNCTIONS))
    if functions:
        problems.append(f"function(s) in {SCHEMA} that nnreplay did not create: {', '.join(functions)}")
    return problems


_TOKEN = """
WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = %(schema)s),
     r AS (SELECT c.oid FROM pg_class c WHERE c.relnamespace = (SELECT oid FROM ns))
SELECT md5(concat_ws('|',
  (SELECT string_agg(c.oid || ':' || c.xmin, ',' ORDER BY c.oid) FROM pg_class c WHERE c.oid IN (SELECT oid FROM r)),
  (SELECT string_agg(a.attrelid || '.' || a.attnum || ':' || a.xmin, ',' ORDER BY a.attrelid, a.attnum)
     FROM pg_attribute a WHERE a.attrelid IN (SELECT oid FROM r)),
  (SELECT string_agg(t.oid || ':' || t.xmin, ',' ORDER BY t.oid) FROM pg_trigger t WHERE t.tgrelid IN (SELECT oid FROM r)),
  (SELECT string_agg(k.oid || ':' || k.xmin, ',' ORDER BY k.oid) FROM pg_constraint k
     WHERE k.connamespace = (SELECT oid FROM ns)),
  (SELECT string_agg(p.oid || ':' || p.xmin, ',' ORDER BY p.oid) FROM pg_proc p
     WHERE p.pronamespace = (SELECT oid FROM ns)),
  (SELECT string_agg(w.oid || ':' || w.xmin, ',' ORDER BY w.oid) FROM pg_rewrite w WHERE w.ev_class IN (SELECT oid FROM r)),
  (SELECT string_agg(y.oid || ':' || y.xmin, ',' ORDER BY y.oid) FROM pg_policy y WHERE y.polrelid IN (SELECT oid FROM r)),
  (SELECT string_agg(i.inhrelid || ':' || i.xmin, ',' ORDER BY i.inhrelid) FROM pg_inherits i
     WHERE i.inhparent IN (SELECT oid FROM r))))
"""


def catalogue_token(conn) -> str:
    """A fingerprint of every catalogue row that describes the `nnreplay` schema (each row's oid and xmin:
    any DDL, a trigger switched off, RLS switched on, writes a new row version). Equal tokens: the schema
    `guard_problems` judged is unchanged, so a writer need not read the whole catalogue again."""
    return conn.execute(_TOKEN, {"schema": SCHEMA}).fetchone()[0]


def check_guards(conn) -> Check:
    """Check 7 of audit on PostgreSQL: every problem `guard_problems` finds, if any."""
    problems = guard_problems(conn)
    if problems:
        return Check("guards", False, None, "; ".join(problems))
    return Check("guards", True)
