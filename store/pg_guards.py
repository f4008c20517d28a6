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
"""

from store.pg_schema import FUNCTIONS, GUARD_TRIGGERS, SCHEMA, TABLES
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


def guard_problems(conn) -> list[str]:
    """Every way the log's guards differ from what nnreplay creates, one sentence each; empty when intact."""
    return _trigger_problems(conn) + _table_problems(conn)


def _trigger_problems(conn) -> list[str]:
    problems, found = [], {}
    for table, trigger, *rest in conn.execute(_TRIGGERS, {"schema": SCHEMA}):
        if table == "events" and trigger in GUARD_TRIGGERS:
            found[trigger] = rest
        else:
            problems.append(f"the foreign trigger {trigger} on {SCHEMA}.{table} can change what a write does")
    for trigger, (tgtype, function) in GUARD_TRIGGERS.items():
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


def check_guards(conn) -> Check:
    """Check 7 of audit on PostgreSQL: the first problem `guard_problems` finds, if any."""
    problems = guard_problems(conn)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return Check("guards", False, None, problems[0] + more)
    return Check("guards", True)
