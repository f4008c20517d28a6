"""Opening a PostgreSQL database: concurrent creation, the per-session writer lock, roles and clear errors.

Concurrency is tested with real processes on a real server; each must succeed without retrying.
"""

import os
import subprocess
import sys
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

from pgserver import import_psycopg

psycopg = import_psycopg()

from store import pg_guards, pg_schema  # noqa: E402
from store.chain import GENESIS, event_hash  # noqa: E402
from store.errors import Busy, NewerSchema, NotADatabase, ReadOnly, StoreError  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# a writer that follows the store's protocol: lock the session (own statement), read the head, append
WRITER = """
import sys, time
from store import pg_schema
from store.chain import event_hash
url, session, appends, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
conn = pg_schema.connect(url)
while time.time() < start:
    time.sleep(0.001)
for n in range(appends):
    with conn.transaction():
        pg_schema.lock_session(conn, session)
        seq, prev = conn.execute("SELECT seq, hash FROM nnreplay.events WHERE session_id = %s "
                                 "ORDER BY seq DESC LIMIT 1", (session,)).fetchone()
        payload, at = '{"source":"writer"}', f"{time.time():.6f}"
        hash_ = event_hash(session, seq + 1, "iterated", 1, payload, at, prev)
        conn.execute("INSERT INTO nnreplay.events VALUES (%s, %s, 'iterated', 1, %s, %s, %s, %s, 'd')",
                     (session, seq + 1, payload, at, prev, hash_))
"""
OPENER = """
import sys, time
from store import pg_schema
while time.time() < float(sys.argv[2]):
    time.sleep(0.001)
pg_schema.connect(sys.argv[1]).close()
"""


def run_together(script: str, argvs: list[list[str]]) -> list[subprocess.CompletedProcess]:
    """Start one process per argv, all released at the same instant; wait for every one."""
    start = str(time.time() + 2.0)
    env = {**os.environ, "PYTHONPATH": ROOT}
    procs = [subprocess.Popen([sys.executable, "-c", script, *argv, start], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for argv in argvs]
    return [subprocess.CompletedProcess(p.args, p.wait(timeout=120), *p.communicate()) for p in procs]


def test_processes_creating_one_empty_database_at_once_leave_one_schema(pg_url):
    """Eight processes open the same empty database at the same instant: all succeed, one schema results."""
    done = run_together(OPENER, [[pg_url]] * 8)
    assert [(p.returncode, p.stderr) for p in done] == [(0, "")] * 8
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT key, value FROM nnreplay.meta").fetchall() == [("schema_version", "3")]
        assert pg_guards.guard_problems(conn) == []


def test_writers_of_one_session_queue_and_chain_without_gaps(pg_url):
    """Eight processes append 25 events each to one session: 201 events, seq 1..201, one unbroken chain."""
    with pg_schema.connect(pg_url) as conn:
        conn.execute("INSERT INTO nnreplay.sessions (id, learner, seed, created_at) VALUES ('s', 'x', 1, 'now')")
        conn.execute("INSERT INTO nnreplay.events VALUES ('s', 1, 'session_started', 1, '{}', 't', %s, %s, 'd')",
                     (GENESIS, event_hash("s", 1, "session_started", 1, "{}", "t", GENESIS)))
    done = run_together(WRITER, [[pg_url, "s", "25"]] * 8)
    assert [(p.returncode, p.stderr) for p in done] == [(0, "")] * 8
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT seq, type, payload::text, recorded_at, prev_hash, hash FROM nnreplay.events "
                            "WHERE session_id = 's' ORDER BY seq").fetchall()
    assert [row[0] for row in rows] == list(range(1, 202))
    prev = GENESIS
    for seq, type_, payload, at, prev_hash, hash_ in rows:
        assert prev_hash == prev and hash_ == event_hash("s", seq, type_, 1, payload, at, prev_hash)
        prev = hash_


def test_the_session_lock_makes_a_second_writer_wait(pg_url):
    """While one transaction holds a session's lock, another writer of that session waits (here: until its
    lock timeout, reported as Busy); a writer of another session does not wait."""
    with pg_schema.connect(pg_url) as first, pg_schema.connect(pg_url) as second:
        with first.transaction():
            pg_schema.lock_session(first, "a")
            second.execute("SET lock_timeout = 200")
            with pytest.raises(psycopg.errors.LockNotAvailable) as waited:
                with second.transaction():
                    pg_schema.lock_session(second, "a")
            assert isinstance(pg_schema.translate(waited.value, "db"), Busy)
            with second.transaction():
                pg_schema.lock_session(second, "b")
        with second.transaction():
            pg_schema.lock_session(second, "a")  # released at the first one's commit


def test_a_newer_schema_is_refused(pg_url):
    with pg_schema.connect(pg_url) as conn:
        conn.execute("UPDATE nnreplay.meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(NewerSchema, match="newer nnreplay .*schema 99"):
        pg_schema.connect(pg_url)


def test_a_foreign_nnreplay_schema_is_refused(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA nnreplay; CREATE TABLE nnreplay.events (x int)")
    with pytest.raises(NotADatabase, match="not nnreplay's .*lacks meta"):
        pg_schema.connect(pg_url)


def test_opening_without_create_refuses_an_empty_database_and_writes_nothing(pg_url):
    with pytest.raises(NotADatabase, match="holds no nnreplay data yet"):
        pg_schema.connect(pg_url, create=False)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT to_regnamespace('nnreplay')").fetchone() == (None,)


def test_a_database_that_is_not_utf8_is_refused(pg_server):
    name = f"nnreplay_ascii_{uuid.uuid4().hex[:8]}"
    pg_server.admin.execute(f"CREATE DATABASE {name} ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' "
                            f"TEMPLATE template0")
    try:
        with pytest.raises(NotADatabase, match="SQL_ASCII encoding; nnreplay needs a UTF8 database"):
            pg_schema.connect(pg_server.url(name))
    finally:
        pg_server.drop_database(name)


def test_an_unreachable_server_is_one_line_without_the_password(tmp_path):
    url = f"postgresql://teacher:s3cret@/nnreplay?host={tmp_path}&password=s3cret"
    with pytest.raises(NotADatabase) as refused:
        pg_schema.connect(url)
    message = str(refused.value)
    assert message.startswith(f"cannot connect to postgresql://teacher@/nnreplay?host={tmp_path}: ")
    assert "s3cret" not in message and "\n" not in message


@pytest.mark.parametrize("password", ["s3#cret", "s3?cret", "s3/cret", "s3cret#?/", "#", "?x=/"])
def test_a_password_with_url_delimiters_is_never_printed(tmp_path, password):
    """Issue 17, item 9: urlsplit ends the host part at `#`, `?` or `/`, so the masking printed a password
    holding one of them (libpq reads it whole); messages, serve's first line and the page's name of the
    database now mask everything between `://` and the last `@`."""
    import store

    url = f"postgresql://teacher:{password}@/nnreplay?host={tmp_path}"
    assert pg_schema.describe(url) == f"postgresql://teacher@/nnreplay?host={tmp_path}"
    assert password not in store.describe(url) and password not in store.short_name(url)
    with pytest.raises(NotADatabase) as refused:
        pg_schema.connect(url)
    assert password not in str(refused.value) and "teacher@" in str(refused.value)


@pytest.mark.parametrize("url", ["postgresql://teacher:s3cret@[bad/db",
                                 "postgresql://teacher:s3cret@/db?host=/nowhere&sslmode=bogus"])
def test_a_malformed_url_is_refused_without_echoing_its_password(url):
    with pytest.raises(NotADatabase) as refused:
        pg_schema.connect(url)
    message = str(refused.value)
    assert "s3cret" not in message and "\n" not in message
    assert "is not a valid PostgreSQL URL" in message or "invalid sslmode value" in message


def test_the_urls_own_options_are_kept(pg_url):
    """Options given in the URL apply alongside nnreplay's own (search_path, lock_timeout)."""
    with pg_schema.connect(pg_url + "&options=-c%20statement_timeout%3D4321") as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == ("4321ms",)
        assert conn.execute("SHOW lock_timeout").fetchone() == ("30s",)
        assert conn.execute("SHOW search_path").fetchone() == ("nnreplay",)


def test_without_psycopg_the_error_names_the_extra():
    """Where psycopg is not installed, opening a PostgreSQL URL says which extra to install."""
    code = ("import sys; sys.modules['psycopg'] = None\nfrom store import pg_schema\n"
            "pg_schema.connect('postgresql://localhost/x')")
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": ROOT},
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == ("store.errors.StoreError: a PostgreSQL --db needs psycopg 3: "
                                                    "pip install 'nnreplay[postgres]'")


def test_psycopg_loads_only_when_a_postgresql_database_is_opened():
    """Importing the PostgreSQL modules (as a dispatcher on --db would) does not load the driver."""
    code = ("import sys, store.pg_schema, store.pg_guards, store.pg_log, store.audit\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'psycopg'))")
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": ROOT},
                          capture_output=True, text=True)
    assert (done.returncode, done.stdout.strip()) == (0, "[]"), done.stderr


def test_urls_are_told_apart_from_files():
    assert pg_schema.is_url("postgresql://host/db") and pg_schema.is_url("postgres://host/db")
    assert not pg_schema.is_url("postgresql.db") and not pg_schema.is_url("./postgres://x")


@pytest.fixture
def server_role(pg_server, pg_url):
    """A login role with exactly docs/postgres.md's grants on a created schema; yields its URL."""
    role = f"nnreplay_server_{uuid.uuid4().hex[:8]}"
    with pg_schema.connect(pg_url) as owner:
        owner.execute(f"CREATE ROLE {role} LOGIN")
        owner.execute(pg_schema.server_grants(role))
    parts = urlsplit(pg_url)
    yield urlunsplit(parts._replace(netloc=f"{role}@{parts.netloc.rpartition('@')[2]}"))
    with psycopg.connect(pg_url, autocommit=True) as owner:
        owner.execute(f"DROP OWNED BY {role}")
        owner.execute(f"DROP ROLE {role}")


def test_the_server_role_reads_and_appends_and_nothing_else(server_role):
    """The role `serve` runs as can append a session and its events and keep snapshots; it cannot rewrite
    the log, nor touch the guards, nor create tables: refused before any trigger runs."""
    with pg_schema.connect(server_role) as conn:
        conn.execute("INSERT INTO nnreplay.sessions (id, learner, seed, created_at) VALUES ('s', 'x', 1, 'now')")
        conn.execute("INSERT INTO nnreplay.events VALUES ('s', 1, 'session_started', 1, '{}', 't', %s, 'h', 'd')",
                     (GENESIS,))
        conn.execute("INSERT INTO nnreplay.snapshots VALUES ('s', 'v', 1, '{}', 'd') ON CONFLICT "
                     "(session_id, engine_version, seq) DO UPDATE SET state = excluded.state")
        assert conn.execute("SELECT count(*) FROM nnreplay.events").fetchone() == (1,)
        for sql in ("UPDATE nnreplay.events SET type = 'x'", "DELETE FROM nnreplay.events",
                    "TRUNCATE nnreplay.events", "ALTER TABLE nnreplay.events DISABLE TRIGGER events_append_only",
                    "DROP TRIGGER events_refuse_delete ON nnreplay.events", "CREATE TABLE nnreplay.x (y int)",
                    "UPDATE nnreplay.meta SET value = '2'"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
                conn.execute(sql)
            assert isinstance(pg_schema.translate(refused.value, "db"), ReadOnly)
        assert pg_guards.guard_problems(conn) == []


def test_the_server_role_records_sessions_with_only_those_grants(server_role):
    """The whole write path (sessions, events, snapshot upserts, deleting the cache) needs no more."""
    from engine import Next, Settings
    from store.pg_log import PgEventLog

    with PgEventLog(server_role, snapshot_every=2) as log:
        info = log.new_session(Settings(learner="thompson", seed=2), name="as-server")
        log.record(info.id, [Next()] * 6, batch=2)
        assert log.head(info.id)[0] == 7 and log.delete_snapshots() == 3


def test_the_server_role_cannot_create_the_schema(pg_server):
    """A role without CREATE on the database gets a clear refusal, and the database stays empty."""
    name = pg_server.create_database()
    role = f"nnreplay_reader_{uuid.uuid4().hex[:8]}"
    pg_server.admin.execute(f"CREATE ROLE {role} LOGIN")
    try:
        parts = urlsplit(pg_server.url(name))
        url = urlunsplit(parts._replace(netloc=f"{role}@{parts.netloc.rpartition('@')[2]}"))
        with pytest.raises(ReadOnly, match="this role may not do that"):
            pg_schema.connect(url)
        with psycopg.connect(pg_server.url(name)) as conn:
            assert conn.execute("SELECT to_regnamespace('nnreplay')").fetchone() == (None,)
    finally:
        pg_server.drop_database(name)
        pg_server.admin.execute(f"DROP ROLE {role}")


def test_store_errors_stay_in_the_hierarchy():
    """Every translation is a StoreError, so the CLI prints one line for each."""
    for error in (psycopg.errors.InsufficientPrivilege("x"), psycopg.errors.LockNotAvailable("x"),
                  psycopg.errors.SerializationFailure("x"), psycopg.OperationalError("x"), psycopg.DataError("x")):
        assert isinstance(pg_schema.translate(error, "db"), StoreError)


def test_a_connection_cut_by_the_server_is_one_clear_error_and_loses_nothing(pg_server, pg_url):
    """The server ends our connection between presses (a restart, an administrator): the next press fails
    with a StoreError naming the database, and a new connection finds every committed press."""
    from engine import Next, Settings
    from store.pg_log import PgEventLog

    with PgEventLog(pg_url) as log:
        info = log.new_session(Settings(seed=3))
        log.record(info.id, [Next()] * 4)
        pid = log.conn.info.backend_pid
        pg_server.admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(StoreError) as cut:
            log.record(info.id, [Next()])
        assert "\n" not in str(cut.value) and "nnreplay_test_" in str(cut.value)
    with PgEventLog(pg_url) as log:
        assert log.head(info.id)[0] == 5
