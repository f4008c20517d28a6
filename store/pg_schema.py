"""Opening a PostgreSQL database for nnreplay: the schema, its guards, and the per-session writer lock.

The PostgreSQL twin of store/schema.py (schema version 2 of this backend: 2 added `heads`). nnreplay's tables live in the
PostgreSQL schema `nnreplay`, so a database shared with other applications stays tidy: `meta` (holds
`schema_version`), `sessions`, `events` (the log), `snapshots` and `heads` (caches). `events.payload` is `json`,
which keeps the text exactly as inserted: the canonical text that was hashed (`jsonb` would re-spell
numbers and re-order keys, and the chain would no longer verify).

plpgsql triggers, enabled ALWAYS (so `session_replication_role = replica` does not switch them off), make
the log append-only whatever client writes: UPDATE, DELETE and TRUNCATE of events are refused with a
message containing "immutable", and an insert must be its session's next seq chained to its head hash.
Connections run with search_path = nnreplay and lock_timeout = 30 s. psycopg 3 is imported only when a
PostgreSQL database is opened (`pip install 'nnreplay[postgres]'`).
"""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from store.chain import GENESIS
from store.errors import Busy, Conflict, NewerSchema, NotADatabase, ReadOnly, StoreError

SCHEMA = "nnreplay"
# 2 added the heads read model (a cache), 3 the sessions guards and press_keys; connect upgrades an older one
SCHEMA_VERSION = 3
TABLES = ("meta", "sessions", "events", "snapshots")
LOCK_TIMEOUT_MS = 30_000  # as SQLite's busy timeout: how long a writer waits for its session's lock
CONNECT_TIMEOUT_S = 10
# pg_advisory_xact_lock(int4, int4) keys: (LOCKS, 0) guards schema creation, (LOCKS + 1, hashtext(id)) one
# session's writers. The two-key form keeps clear of applications that lock with one bigint key.
LOCKS = 0x6E6E7270  # "nnrp"

IMMUTABLE_BODY = """
BEGIN
  RAISE EXCEPTION 'events are immutable: % of the event log is refused', TG_OP;
END
"""
# the head read and the check run in the inserting transaction; two writers that both pass it still
# collide on the primary key, and the loser retries from the new head
APPEND_ONLY_BODY = f"""
DECLARE
  head_seq bigint;
  head_hash text;
BEGIN
  SELECT seq, hash INTO head_seq, head_hash FROM {SCHEMA}.events
   WHERE session_id = NEW.session_id ORDER BY seq DESC LIMIT 1;
  IF NOT FOUND THEN
    head_seq := 0;
    head_hash := '{GENESIS}';
  END IF;
  IF NEW.seq IS DISTINCT FROM head_seq + 1 OR NEW.prev_hash IS DISTINCT FROM head_hash THEN
    RAISE EXCEPTION 'events are append-only: an insert must be the next seq of its session, chained to its head hash'
      USING ERRCODE = 'integrity_constraint_violation',
            DETAIL = format('session %s: head is seq %s, the insert has seq %s', NEW.session_id, head_seq, NEW.seq);
  END IF;
  RETURN NEW;
END
"""
# name -> (pg_trigger.tgtype bits, function): ROW 1, BEFORE 2, INSERT 4, DELETE 8, UPDATE 16, TRUNCATE 32
GUARD_TRIGGERS = {
    "events_refuse_update": (2 | 16, "events_immutable"),
    "events_refuse_delete": (2 | 8, "events_immutable"),
    "events_refuse_truncate": (2 | 32, "events_immutable"),
    "events_append_only": (1 | 2 | 4, "events_append_only"),
}
# schema 3: nothing updates or deletes a session row (no rename; a fork or an import inserts a new one), and
# an INSERT ... ON CONFLICT DO UPDATE is an UPDATE, refused too
SESSIONS_IMMUTABLE_BODY = """
BEGIN
  RAISE EXCEPTION 'sessions are immutable: % of the sessions table is refused', TG_OP;
END
"""
SESSION_GUARD_TRIGGERS = {
    "sessions_refuse_update": (2 | 16, "sessions_immutable"),
    "sessions_refuse_delete": (2 | 8, "sessions_immutable"),
    "sessions_refuse_truncate": (2 | 32, "sessions_immutable"),
}
FUNCTIONS = {"events_immutable": IMMUTABLE_BODY, "events_append_only": APPEND_ONLY_BODY,
             "sessions_immutable": SESSIONS_IMMUTABLE_BODY}
_WHEN = {2 | 16: "BEFORE UPDATE", 2 | 8: "BEFORE DELETE", 2 | 32: "BEFORE TRUNCATE", 1 | 2 | 4: "BEFORE INSERT"}

# each session's head seq, hash, digest and metrics, written in the append's transaction (store.heads)
HEADS_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.heads (
  session_id text PRIMARY KEY, seq bigint NOT NULL, hash text NOT NULL, state_digest text NOT NULL,
  loss double precision NOT NULL, accuracy double precision NOT NULL, score double precision NOT NULL);
"""
DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE {SCHEMA}.meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE {SCHEMA}.sessions (
  id text PRIMARY KEY, name text UNIQUE, learner text NOT NULL, seed bigint NOT NULL, created_at text NOT NULL,
  parent_id text, parent_seq bigint);
CREATE TABLE {SCHEMA}.events (
  session_id text NOT NULL REFERENCES {SCHEMA}.sessions (id), seq bigint NOT NULL, type text NOT NULL,
  schema_version integer NOT NULL, payload json NOT NULL, recorded_at text NOT NULL, prev_hash text NOT NULL,
  hash text NOT NULL, state_digest text NOT NULL, PRIMARY KEY (session_id, seq));
CREATE TABLE {SCHEMA}.snapshots (
  session_id text NOT NULL, engine_version text NOT NULL, seq bigint NOT NULL, state text NOT NULL,
  state_digest text NOT NULL, PRIMARY KEY (session_id, engine_version, seq));
""" + HEADS_DDL + "".join(
    f"CREATE FUNCTION {SCHEMA}.{name}() RETURNS trigger LANGUAGE plpgsql AS $body${body}$body$;\n"
    for name, body in FUNCTIONS.items() if name != "sessions_immutable"
) + "".join(
    f"CREATE TRIGGER {name} {_WHEN[tgtype]} ON {SCHEMA}.events FOR EACH {'ROW' if tgtype & 1 else 'STATEMENT'} "
    f"EXECUTE FUNCTION {SCHEMA}.{function}();\nALTER TABLE {SCHEMA}.events ENABLE ALWAYS TRIGGER {name};\n"
    for name, (tgtype, function) in GUARD_TRIGGERS.items()
)
# which request recorded which seqs (a server's Idempotency-Key), written in the events' transaction; the
# server role may only INSERT and SELECT it (server_grants)
PRESS_KEYS_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.press_keys (
  key text PRIMARY KEY, session_id text NOT NULL, request text NOT NULL, first_seq bigint NOT NULL,
  last_seq bigint NOT NULL, recorded_at text NOT NULL);
"""
SESSION_GUARDS_DDL = PRESS_KEYS_DDL + (
    f"CREATE FUNCTION {SCHEMA}.sessions_immutable() RETURNS trigger LANGUAGE plpgsql AS "
    f"$body${SESSIONS_IMMUTABLE_BODY}$body$;\n" + "".join(
        f"CREATE TRIGGER {name} {_WHEN[tgtype]} ON {SCHEMA}.sessions FOR EACH "
        f"{'ROW' if tgtype & 1 else 'STATEMENT'} EXECUTE FUNCTION {SCHEMA}.{function}();\n"
        f"ALTER TABLE {SCHEMA}.sessions ENABLE ALWAYS TRIGGER {name};\n"
        for name, (tgtype, function) in SESSION_GUARD_TRIGGERS.items()))


def is_url(db: str) -> bool:
    """Whether `--db` names a PostgreSQL database rather than an SQLite file (store.is_url)."""
    from store import is_url as url

    return url(db)


def describe(url: str) -> str:
    """The URL without its password, for messages.

    The user part ends at the last `@` of the URL, not where urlsplit ends the host (at `/`, `?` or `#`): a
    password holding one of those would otherwise be printed, in part or whole."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "the PostgreSQL URL given"
    if "@" in rest:
        user_info, _, rest = rest.rpartition("@")
        rest = f"{user_info.split(':', 1)[0]}@{rest}"
    try:
        parts = urlsplit(f"{scheme}://{rest}")
    except ValueError:  # an unreadable URL: say nothing of it rather than risk echoing its password
        return "the PostgreSQL URL given"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "password"], safe="/")
    return urlunsplit(parts._replace(query=query, fragment=""))


def _driver():
    try:
        import psycopg
    except ImportError:
        raise StoreError("a PostgreSQL --db needs psycopg 3: pip install 'nnreplay[postgres]'") from None
    return psycopg


def connect(url: str, create: bool = True):
    """An autocommit psycopg connection to a checked nnreplay database, its schema created if `create`.

    `json` columns come back as the stored text, never parsed, so that what is read is what was hashed."""
    psycopg = _driver()
    import psycopg.conninfo
    from psycopg.types.string import TextLoader

    where = describe(url)
    try:
        given = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:  # its message quotes the URL, password and all
        raise NotADatabase(f"{where} is not a valid PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE)") from None
    # the URL's own options (say ?options=-c%20statement_timeout%3D5s) are kept, ours come after them
    options = f"{given.get('options') or ''} -c lock_timeout={LOCK_TIMEOUT_MS} -c search_path={SCHEMA}".strip()
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, application_name="nnreplay",
                               client_encoding="UTF8", options=options)
    except psycopg.Error as error:
        raise NotADatabase(f"cannot connect to {where}: {_first_line(error)}") from None
    try:
        conn.adapters.register_loader("json", TextLoader)
        if conn.info.server_version < 110000:  # EXECUTE FUNCTION in CREATE TRIGGER
            raise NotADatabase(f"{where} runs PostgreSQL {conn.info.server_version // 10000}; nnreplay needs 11 "
                               f"or newer")
        encoding = conn.execute("SHOW server_encoding").fetchone()[0]
        if encoding != "UTF8":
            raise NotADatabase(f"{where} uses the {encoding} encoding; nnreplay needs a UTF8 database "
                               f"(CREATE DATABASE ... ENCODING 'UTF8')")
        version = schema_version(conn, where)
        if version is None:
            if not create:
                raise NotADatabase(f"{where} holds no nnreplay data yet")
            _initialise(conn, where)
        elif version < SCHEMA_VERSION:
            _upgrade(conn, where)
        elif version > SCHEMA_VERSION:
            raise NewerSchema(f"{where} was written by a newer nnreplay (PostgreSQL schema {version}; this one "
                              f"reads up to {SCHEMA_VERSION}); upgrade nnreplay to open it")
    except psycopg.Error as error:
        conn.close()
        raise translate(error, where) from None
    except BaseException:
        conn.close()
        raise
    return conn


def schema_version(conn, where: str) -> int | None:
    """The version in nnreplay.meta; None when the database has no nnreplay tables at all."""
    # a plain query of the catalogue, not to_regclass(): that one reads the backend's catalogue cache, which
    # an advisory lock does not refresh, so after waiting for a concurrent creator it could still say "none"
    present = {row[0] for row in conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = ANY(%s)", (SCHEMA, list(TABLES)))}
    if not present:
        return None
    if "meta" not in present or "events" not in present:
        raise NotADatabase(f"{where} has a schema {SCHEMA!r} that is not nnreplay's (it lacks "
                           f"{' and '.join(n for n in ('meta', 'events') if n not in present)})")
    row = conn.execute(f"SELECT value FROM {SCHEMA}.meta WHERE key = 'schema_version'").fetchone()
    if row is None or not str(row[0]).isdigit():
        raise NotADatabase(f"{where} has no nnreplay schema version; it is not an nnreplay database")
    return int(row[0])


def _initialise(conn, where: str) -> None:
    # processes opening one empty database at once queue on this lock; each checks again once it has it,
    # in a new statement, so it sees the schema its predecessor committed
    with conn.transaction():
        conn.execute(f"SELECT pg_advisory_xact_lock({LOCKS}, 0)")
        if schema_version(conn, where) is None:
            conn.execute(DDL)
            conn.execute(SESSION_GUARDS_DDL)
            conn.execute(f"INSERT INTO {SCHEMA}.meta (key, value) VALUES ('schema_version', %s)",
                         (str(SCHEMA_VERSION),))


def _upgrade(conn, where: str) -> None:
    # version 1 lacked the heads cache; readers fold the sessions whose row is missing until an append
    # writes it, so the new table starts empty. Version 2 lacked the sessions guards. The schema is compared
    # with the contract first (store.pg_guards): a foreign object is never upgraded over. A role that may
    # not create the objects (not the owner) works with the older schema, which audit accepts as it is.
    from psycopg import errors

    from store.pg_guards import guard_problems

    try:
        with conn.transaction():
            conn.execute(f"SELECT pg_advisory_xact_lock({LOCKS}, 0)")
            version = schema_version(conn, where)
            if version < SCHEMA_VERSION and not guard_problems(conn, version):
                if version < 2:
                    conn.execute(HEADS_DDL)
                conn.execute(SESSION_GUARDS_DDL)
                conn.execute(f"UPDATE {SCHEMA}.meta SET value = %s WHERE key = 'schema_version'",
                             (str(SCHEMA_VERSION),))
    except errors.InsufficientPrivilege:
        pass


def has_heads(conn) -> bool:
    return conn.execute("SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = %s AND c.relname = 'heads'", (SCHEMA,)).fetchone() is not None


def lock_session(conn, session_id: str) -> None:
    """Serialise the writers of one session until the current transaction ends.

    Its own statement, before the head is read: under READ COMMITTED each statement sees what was committed
    when it began, so the head read by the next statement includes the previous writer's events."""
    conn.execute(f"SELECT pg_advisory_xact_lock({LOCKS + 1}, hashtext(%s))", (session_id,))


def server_grants(role: str) -> str:
    """The privileges of a role that runs nnreplay but does not own its tables (docs/postgres.md).

    It reads everything, inserts sessions and events, and keeps the snapshot cache; it cannot UPDATE,
    DELETE or TRUNCATE the log, nor ALTER or DROP a table or trigger (only the owner can)."""
    role = '"' + role.replace('"', '""') + '"'
    return (f"GRANT USAGE ON SCHEMA {SCHEMA} TO {role};\n"
            f"GRANT SELECT ON {SCHEMA}.meta TO {role};\n"
            f"GRANT SELECT, INSERT ON {SCHEMA}.sessions, {SCHEMA}.events, {SCHEMA}.press_keys TO {role};\n"
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON {SCHEMA}.snapshots TO {role};\n"
            f"GRANT SELECT, INSERT, UPDATE ON {SCHEMA}.heads TO {role};\n")


def _first_line(error) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def translate(error, where: str) -> StoreError:
    """A psycopg error as an nnreplay error with a sentence a person understands."""
    from psycopg import errors

    text = _first_line(error)
    if isinstance(error, errors.InsufficientPrivilege):
        return ReadOnly(f"{where}: this role may not do that ({text})")
    if isinstance(error, errors.ReadOnlySqlTransaction):
        return ReadOnly(f"cannot write to {where}: the server is read-only ({text})")
    if isinstance(error, errors.LockNotAvailable):
        return Busy(f"{where} is busy: another writer held this session's lock for over "
                    f"{LOCK_TIMEOUT_MS // 1000} s; try again")
    if isinstance(error, (errors.SerializationFailure, errors.DeadlockDetected)):
        return Conflict(f"{where}: a concurrent writer got in the way ({text}); try again")
    if isinstance(error, errors.OperationalError):
        from store.errors import Unreachable

        return Unreachable(f"lost the connection to {where}: {text}")
    return StoreError(f"{where}: {text}")
