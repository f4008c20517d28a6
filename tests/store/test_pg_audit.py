"""Audit over PostgreSQL: a log recorded by release 0.1.0 (SQLite) copied row for row into PostgreSQL keeps
its head hashes, audits clean and continues; tampering behind the triggers' back is found."""

import json
import os
import sqlite3

import pytest

from pgserver import import_psycopg

psycopg = import_psycopg()

from engine import Next, Rate, Settings, state_digest  # noqa: E402
from store.log import EVENT_COLUMNS, SESSION_COLUMNS  # noqa: E402
from store.audit import audit_database  # noqa: E402
from store.pg_log import PgEventLog  # noqa: E402
from store.pg_schema import GUARD_TRIGGERS  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")
RELEASE_DB, RELEASE_JSON = (os.path.join(DATA, f"release-0.1.0.{ext}") for ext in ("db", "json"))


def copy_release(url: str) -> None:
    """Every session, event and snapshot of the 0.1.0 file, inserted in seq order through the guards."""
    if not os.path.exists(RELEASE_DB):
        reason = "tests/data/release-0.1.0.db is not in this checkout (.gitignore's *.db keeps it out of git)"
        pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)
    source = sqlite3.connect(f"file:{RELEASE_DB}?mode=ro&immutable=1", uri=True)
    with PgEventLog(url) as log, log.conn.transaction(), log.conn.cursor() as cursor:
        cursor.executemany(f"INSERT INTO nnreplay.sessions ({SESSION_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                           source.execute(f"SELECT {SESSION_COLUMNS} FROM sessions").fetchall())
        cursor.executemany(f"INSERT INTO nnreplay.events ({EVENT_COLUMNS}) VALUES ({', '.join(['%s'] * 9)})",
                           source.execute(f"SELECT {EVENT_COLUMNS} FROM events ORDER BY session_id, seq").fetchall())
        cursor.executemany("INSERT INTO nnreplay.snapshots VALUES (%s, %s, %s, %s, %s)",
                           source.execute("SELECT * FROM snapshots").fetchall())
    source.close()


@pytest.fixture
def release(pg_url):
    copy_release(pg_url)
    with open(RELEASE_JSON) as heads:
        expected = {entry["session_id"]: entry for entry in json.load(heads)["sessions"]}
    with PgEventLog(pg_url) as log:
        yield log, expected


def test_a_release_0_1_0_log_keeps_its_heads_and_audits_clean_on_postgres(release):
    log, expected = release
    assert {info.id for info in log.sessions()} == set(expected)
    report = audit_database(log, log.sessions())
    verdicts = {r.session_id: r.verdict for r in report.sessions}
    # where this machine's arithmetic differs from the recording machine's: its own verdict, never tampered
    assert set(verdicts.values()) <= {"ok", "other arithmetic"} and report.exit_code in (0, 3), verdicts
    for info in log.sessions():
        entry = expected[info.id]
        assert log.head(info.id) == (entry["seq"], entry["head_hash"])
        if verdicts[info.id] == "ok":
            assert state_digest(log.state(info.id)) == entry["digest"]


def test_a_release_0_1_0_session_continues_on_postgres(release):
    log, expected = release
    info = log.resolve("thompson-buttons")
    log.record(info.id, [Next(), Rate("good"), Next()])
    assert log.head(info.id)[0] == expected[info.id]["seq"] + 3
    [report] = audit_database(log, [info]).sessions
    assert report.ok


@pytest.fixture
def recorded(pg_url):
    """A thompson session of 16 events on PostgreSQL; yields (log, info)."""
    with PgEventLog(pg_url) as log:
        info = log.new_session(Settings(learner="thompson", seed=3), name="t")
        log.record(info.id, [Next(), Rate("meh"), Next()] * 5)
        yield log, info


def behind_the_guards(log, sql: str) -> None:
    """What only a superuser or the owner can do: switch the guards off, write, switch them on again."""
    log.conn.execute("ALTER TABLE nnreplay.events DISABLE TRIGGER USER")
    log.conn.execute(sql)
    for trigger in GUARD_TRIGGERS:
        log.conn.execute(f"ALTER TABLE nnreplay.events ENABLE ALWAYS TRIGGER {trigger}")


@pytest.mark.parametrize("sql, check, seq", [
    ("UPDATE nnreplay.events SET payload = replace(payload::text, '\"meh\"', '\"great\"')::json WHERE seq = 3",
     "chain", 3),
    ("DELETE FROM nnreplay.events WHERE seq = 7", "sequence", 7),
    ("UPDATE nnreplay.events SET recorded_at = '2020-01-01T00:00:00.000000+00:00' WHERE seq = 5", "chain", 5),
    ("INSERT INTO nnreplay.events SELECT session_id, 17, type, schema_version, payload, recorded_at, hash, hash, "
     "state_digest FROM nnreplay.events WHERE seq = 16", "chain", 17),
])
def test_tampering_behind_the_triggers_is_found(recorded, sql, check, seq):
    log, info = recorded
    behind_the_guards(log, sql)
    report = audit_database(log, [info])
    [session] = report.sessions
    failed = {c.name: c.seq for c in session.checks if not c.ok}
    assert session.verdict == "tampered" and failed[check] == seq
    assert report.guards.ok  # switched on again, exactly as created


def test_a_guard_left_disabled_makes_the_audit_fail(recorded):
    log, info = recorded
    log.conn.execute("ALTER TABLE nnreplay.events DISABLE TRIGGER events_refuse_update")
    report = audit_database(log, [info])
    assert not report.ok and report.sessions[0].verdict == "unguarded"
    assert report.guards.reason == "the trigger events_refuse_update is disabled"


def test_an_unexpected_head_is_reported(recorded):
    log, info = recorded
    _, head = log.head(info.id)
    assert audit_database(log, [info], expect_head=head).ok
    assert not audit_database(log, [info], expect_head="0" * 64).ok

