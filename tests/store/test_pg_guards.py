"""Audit's guard check on PostgreSQL reads the catalogue and reports every way the guards were weakened."""

import pytest

from pgserver import import_psycopg

psycopg = import_psycopg()

from store import pg_guards, pg_schema  # noqa: E402

FOREIGN_FUNCTION = "CREATE FUNCTION public.keep() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$"


@pytest.fixture
def db(pg_url):
    conn = pg_schema.connect(pg_url)
    yield conn
    conn.close()


def test_a_fresh_schema_is_guarded(db):
    """Straight after creation nothing is reported and check 7 passes."""
    assert pg_guards.guard_problems(db) == []
    assert pg_guards.check_guards(db).ok


@pytest.mark.parametrize("trigger", sorted(pg_schema.GUARD_TRIGGERS))
def test_a_disabled_trigger_is_reported(db, trigger):
    """ALTER TABLE ... DISABLE TRIGGER leaves the trigger in the catalogue with tgenabled 'D': reported."""
    db.execute(f"ALTER TABLE nnreplay.events DISABLE TRIGGER {trigger}")
    check = pg_guards.check_guards(db)
    assert not check.ok and check.name == "guards"
    assert check.reason.startswith(f"the trigger {trigger} is disabled")


@pytest.mark.parametrize("mode, words", [("ENABLE", "not enabled ALWAYS"),
                                         ("ENABLE REPLICA", "enabled only for replication")])
def test_a_trigger_no_longer_enabled_always_is_reported(db, mode, words):
    """Only ALWAYS holds under every session_replication_role; the weaker modes are reported."""
    db.execute(f"ALTER TABLE nnreplay.events {mode} TRIGGER events_refuse_delete")
    assert pg_guards.guard_problems(db) == [f"the trigger events_refuse_delete is {words}"
                                            + ("" if "replication" in words else
                                               " (session_replication_role = replica switches it off)")]


def test_a_missing_trigger_is_reported(db):
    db.execute("DROP TRIGGER events_append_only ON nnreplay.events")
    assert pg_guards.check_guards(db).reason.startswith("the trigger events_append_only is missing")


def test_a_foreign_trigger_is_reported(db):
    """A trigger nnreplay did not create, here one that could rewrite rows after the append-only check."""
    db.execute(FOREIGN_FUNCTION)
    db.execute("CREATE TRIGGER zz_rewrite BEFORE INSERT ON nnreplay.events FOR EACH ROW EXECUTE FUNCTION public.keep()")
    assert pg_guards.guard_problems(db) == ["the foreign trigger zz_rewrite on nnreplay.events can change what a "
                                            "write does"]


def test_a_foreign_trigger_on_another_log_table_is_reported(db):
    db.execute(FOREIGN_FUNCTION)
    db.execute("CREATE TRIGGER t AFTER INSERT ON nnreplay.sessions FOR EACH ROW EXECUTE FUNCTION public.keep()")
    assert pg_guards.guard_problems(db) == ["the foreign trigger t on nnreplay.sessions can change what a write does"]


@pytest.mark.parametrize("sql", [
    # the function behind three guards, replaced by one that lets everything through
    "CREATE OR REPLACE FUNCTION nnreplay.events_immutable() RETURNS trigger LANGUAGE plpgsql AS "
    "$$BEGIN RETURN NULL; END$$",
    # the same name, now pointing at another function
    f"{FOREIGN_FUNCTION}; DROP TRIGGER events_refuse_update ON nnreplay.events; CREATE TRIGGER events_refuse_update "
    "BEFORE UPDATE ON nnreplay.events FOR EACH STATEMENT EXECUTE FUNCTION public.keep(); ALTER TABLE nnreplay.events "
    "ENABLE ALWAYS TRIGGER events_refuse_update",
    # the right function, but only when a condition holds
    "DROP TRIGGER events_append_only ON nnreplay.events; CREATE TRIGGER events_append_only BEFORE INSERT ON "
    "nnreplay.events FOR EACH ROW WHEN (NEW.seq < 0) EXECUTE FUNCTION nnreplay.events_append_only(); "
    "ALTER TABLE nnreplay.events ENABLE ALWAYS TRIGGER events_append_only",
    # the right function, but only for updates of one column
    "DROP TRIGGER events_refuse_update ON nnreplay.events; CREATE TRIGGER events_refuse_update BEFORE UPDATE OF seq "
    "ON nnreplay.events FOR EACH STATEMENT EXECUTE FUNCTION nnreplay.events_immutable(); "
    "ALTER TABLE nnreplay.events ENABLE ALWAYS TRIGGER events_refuse_update",
], ids=["body", "function", "when", "columns"])
def test_an_altered_trigger_is_reported(db, sql):
    db.execute(sql)
    problems = pg_guards.guard_problems(db)
    assert problems and all("was altered" in problem for problem in problems)


@pytest.mark.parametrize("sql, words", [
    ("CREATE RULE hide AS ON DELETE TO nnreplay.events DO INSTEAD NOTHING", "has a foreign rule"),
    ("CREATE POLICY partial ON nnreplay.events USING (seq < 3)", "row-level security or a policy"),
    ("ALTER TABLE nnreplay.events ENABLE ROW LEVEL SECURITY", "row-level security or a policy"),
    ("CREATE TABLE public.extra () INHERITS (nnreplay.events)", "a table inherits from nnreplay.events"),
    ("ALTER TABLE nnreplay.events ALTER payload TYPE jsonb", "payload is jsonb, not json"),
])
def test_rules_policies_children_and_column_types_are_reported(db, sql, words):
    db.execute(sql)
    [problem] = pg_guards.guard_problems(db)
    assert words in problem


def test_the_guard_check_only_reads(pg_url, db):
    """A role that may only read the log can run the check: it reads the catalogue, never writes."""
    db.execute("CREATE ROLE auditor")
    db.execute("GRANT USAGE ON SCHEMA nnreplay TO auditor; GRANT SELECT ON ALL TABLES IN SCHEMA nnreplay TO auditor")
    with db.transaction():
        db.execute("SET LOCAL ROLE auditor")
        db.execute("SET LOCAL transaction_read_only = on")
        assert pg_guards.guard_problems(db) == []


@pytest.mark.parametrize("sql", [
    "DELETE FROM nnreplay.sessions",
    "UPDATE nnreplay.sessions SET name = 'renamed'",
    "INSERT INTO nnreplay.sessions SELECT * FROM nnreplay.sessions ON CONFLICT (id) DO UPDATE SET name = 'x'",
    "TRUNCATE nnreplay.sessions CASCADE",
])
def test_the_sessions_table_is_guarded_like_events(pg_url, sql):
    """Issue 17, item 1: the sessions table refuses UPDATE, DELETE and TRUNCATE (schema 3), for a plain
    superuser connection, and keeps its rows."""
    from engine import Settings
    from store.pg_log import PgEventLog

    with PgEventLog(pg_url) as log:
        log.new_session(Settings(seed=1), name="kept")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        with pytest.raises(psycopg.DatabaseError, match="immutable"):
            conn.execute(sql)
        assert conn.execute("SELECT name FROM nnreplay.sessions").fetchall() == [("kept",)]


@pytest.mark.parametrize("sql, words", [
    ("ALTER TABLE nnreplay.sessions ADD COLUMN shadow text GENERATED ALWAYS AS (upper(name)) STORED",
     "nnreplay.sessions does not have the columns"),
    ("ALTER TABLE nnreplay.events DROP CONSTRAINT events_session_id_fkey, ADD CONSTRAINT events_session_id_fkey "
     "FOREIGN KEY (session_id) REFERENCES nnreplay.sessions (id) ON DELETE CASCADE", "ON DELETE CASCADE"),
    ("CREATE UNIQUE INDEX one_per_type ON nnreplay.events (session_id, type)", "one_per_type"),
    ("CREATE VIEW nnreplay.shadow AS SELECT * FROM nnreplay.events", "shadow (v)"),
    ("CREATE SEQUENCE nnreplay.counter", "counter (S)"),
    ("ALTER TABLE nnreplay.sessions ALTER name TYPE text COLLATE \"C\"", "nnreplay.sessions does not have the columns"),
])
def test_the_whole_schema_is_compared_and_a_write_is_refused(pg_url, sql, words):
    """Issue 17, items 2-3: on PostgreSQL the catalogue is compared with the contract (columns, constraints,
    indexes, relations, functions); audit's check 7 names the difference and a write is refused before
    anything is written."""
    from engine import Next, Settings
    from store.audit import audit_database
    from store.errors import ForeignSchema
    from store.pg_log import PgEventLog

    with PgEventLog(pg_url) as log:
        info = log.new_session(Settings(seed=1), name="first")
        log.conn.execute(sql)
        report = audit_database(log, log.sessions())
        assert not report.guards.ok and words in report.guards.reason
        with pytest.raises(ForeignSchema, match="nothing was written"):
            log.record(info.id, [Next()])
        with pytest.raises(ForeignSchema):
            log.new_session(Settings(seed=2), name="second")
        assert log.head(info.id)[0] == 1 and [s.name for s in log.sessions()] == ["first"]


def test_a_schema_2_database_is_upgraded_and_a_foreign_one_is_not(pg_url):
    """Issue 17, item 1: a database of schema 2 (no sessions guards) is upgraded to 3 when opened; one that
    also holds a foreign object is left as it is (and refused at its first write)."""
    from engine import Next, Settings
    from store.errors import ForeignSchema
    from store.pg_log import PgEventLog

    def downgrade(extra: str = "") -> None:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("DROP FUNCTION nnreplay.sessions_immutable() CASCADE")
            conn.execute("UPDATE nnreplay.meta SET value = '2' WHERE key = 'schema_version'")
            if extra:
                conn.execute(extra)

    with PgEventLog(pg_url) as log:
        info = log.new_session(Settings(seed=1), name="first")
    downgrade()
    with PgEventLog(pg_url) as log:
        assert pg_guards.guard_problems(log.conn) == []
        assert log.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("3",)
        with pytest.raises(psycopg.DatabaseError, match="immutable"):
            log.conn.execute("DELETE FROM nnreplay.sessions")
    downgrade("CREATE VIEW nnreplay.shadow AS SELECT 1")
    with PgEventLog(pg_url) as log:
        assert log.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("2",)
        with pytest.raises(ForeignSchema, match="shadow"):
            log.record(info.id, [Next()])
