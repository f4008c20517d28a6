"""Portable between backends: a session exported from SQLite and imported into PostgreSQL keeps its head
hash, and back; audit with the expected head agrees on both; the two exports are the same bytes."""

import io

import pytest

from pgserver import import_psycopg

psycopg = import_psycopg()

from engine import Next, Rate, Settings  # noqa: E402
from store import EventLog  # noqa: E402
from store.audit import audit_database as audit_sqlite  # noqa: E402
from store.errors import NameTaken, SessionExists  # noqa: E402
from store.log import SessionInfo  # noqa: E402
from store.pg_log import PgEventLog  # noqa: E402
from store.fork import write_copy  # noqa: E402
from store.portable import export, import_session, read_export  # noqa: E402


def exported(log, info) -> str:
    out = io.StringIO()
    export(log, info, out)
    return out.getvalue()


def session_of(header: dict) -> SessionInfo:
    s = header["session"]
    return SessionInfo(s["id"], s["name"], s["learner"], s["seed"], s["created_at"], s["parent_id"], s["parent_seq"])


@pytest.fixture
def recorded(db_path):
    """A thompson session of 241 events (two snapshots) in SQLite; yields (log, info)."""
    with EventLog(db_path) as log:
        info = log.new_session(Settings(learner="thompson", seed=21), name="travels")
        log.record(info.id, [Next(), Rate("good"), Next(), Rate("meh")] * 60)
        yield log, info


def test_sqlite_to_postgres_and_back_keeps_the_head_hash(recorded, pg_url, tmp_path):
    sqlite_log, info = recorded
    _, head = sqlite_log.head(info.id)
    text = exported(sqlite_log, info)
    header, copy = read_export(text.splitlines(keepends=True), "travels.jsonl")
    with PgEventLog(pg_url) as pg_log:
        assert write_copy(pg_log, session_of(header), copy) == head
        assert pg_log.head(info.id) == (241, head)
        assert audit_sqlite(pg_log, pg_log.sessions(), expect_head=head).ok
        assert exported(pg_log, info) == text  # the same bytes from either backend
        back_header, back_copy = read_export(exported(pg_log, info).splitlines(), "from-postgres.jsonl")
    with EventLog(str(tmp_path / "back.db")) as back:
        imported, back_head = import_session(back, back_header, back_copy)
        assert (imported, back_head) == (info, head)
        assert audit_sqlite(back, back.sessions(), expect_head=head).ok


def test_a_second_import_into_postgres_is_refused(recorded, pg_url):
    sqlite_log, info = recorded
    header, copy = read_export(exported(sqlite_log, info).splitlines(), "travels.jsonl")
    with PgEventLog(pg_url) as pg_log:
        write_copy(pg_log, session_of(header), copy)
        with pytest.raises(SessionExists):
            write_copy(pg_log, session_of(header), copy)
        renamed = SessionInfo("f" * 32, "travels", info.learner, info.seed, info.created_at, None, None)
        with pytest.raises(NameTaken):
            write_copy(pg_log, renamed, copy)
        assert len(pg_log.sessions()) == 1
