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
