"""`nnreplay fork`: a new session sharing its parent's history up to a seq, then living on its own."""

import json
import sqlite3

import pytest

from engine import Next, Rate, Settings
from store import EventLog
from store.schema import TRIGGERS_SQL


@pytest.fixture
def parent(db_path):
    """A thompson session of 150 events named "parent" (a snapshot at seq 100); returns its id."""
    with EventLog(db_path) as log:
        info = log.new_session(Settings(learner="thompson", seed=21), name="parent")
        log.record(info.id, ([Next()] * 9 + [Rate("great")]) * 14 + [Next()] * 9)
    return info.id


def session_count(db_path: str) -> int:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]


def test_a_fork_shares_history_and_state_up_to_its_seq(nnreplay, parent):
    """Events 1..SEQ keep payload, recorded_at and digest; hashes differ; the state at SEQ is bit-identical."""
    child = nnreplay("fork", "parent", "--at", 120, "--name", "child").stdout.strip()
    mine, theirs = nnreplay.json("log", child, "--json"), nnreplay.json("log", parent, "--json")[:120]
    assert len(mine) == 120
    keep = ("seq", "type", "schema_version", "payload", "recorded_at", "state_digest")
    assert [{k: e[k] for k in keep} for e in mine] == [{k: e[k] for k in keep} for e in theirs]
    assert all(a["hash"] != b["hash"] for a, b in zip(mine, theirs))
    assert nnreplay.json("show", child, "--json")["digest"] == nnreplay.json("show", parent, "--at", 120,
                                                                           "--json")["digest"]


def test_a_fork_records_where_it_came_from(nnreplay, parent):
    """The sessions listing gives the fork's parent id and parent seq."""
    child = nnreplay("fork", parent[:8], "--at", 30).stdout.strip()
    [listed] = [s for s in nnreplay.json("sessions", "--json") if s["id"] == child]
    assert (listed["parent_id"], listed["parent_seq"], listed["events"]) == (parent, 30, 30)


def test_parent_and_fork_continue_independently_and_audit_clean(nnreplay, parent, db_path):
    """Presses after the fork go to one session only, and both sessions audit clean afterwards."""
    child = nnreplay("fork", "parent", "--at", 120).stdout.strip()
    nnreplay("next", child, "-n", 7)
    nnreplay("rate", "parent", "bad")
    assert nnreplay.json("show", child, "--json")["seq"] == 127
    assert nnreplay.json("show", "parent", "--json")["seq"] == 151
    report = nnreplay.json("audit", "--json")
    assert report["ok"] and len(report["sessions"]) == 2


def test_a_fork_past_a_hundred_events_gets_its_own_snapshots(nnreplay, parent, db_path):
    """The copied rows bring the snapshot cache with them, keyed by the fork's id, and it checks clean."""
    child = nnreplay("fork", "parent", "--at", 140).stdout.strip()
    with sqlite3.connect(db_path) as conn:
        seqs = [row[0] for row in conn.execute("SELECT seq FROM snapshots WHERE session_id = ?", (child,))]
    assert seqs == [100]
    assert nnreplay.json("audit", child, "--json")["ok"]


@pytest.mark.parametrize("at", [0, 151, -3])
def test_a_fork_outside_the_history_is_refused(nnreplay, parent, db_path, at):
    """--at outside 1..head is one error line, exit 1, and no new session."""
    result = nnreplay("fork", "parent", "--at", at, ok=False)
    assert result.exit_code == 1 and "1..150" in result.stderr
    assert session_count(db_path) == 1


def test_a_fork_under_a_taken_name_writes_nothing(nnreplay, parent, db_path):
    """A name that another session has is refused before any row is written."""
    result = nnreplay("fork", "parent", "--at", 5, "--name", "parent", ok=False)
    assert result.exit_code == 1 and "taken" in result.stderr
    assert session_count(db_path) == 1


def test_a_tampered_history_is_not_forked(nnreplay, parent, db_path):
    """A parent whose events up to SEQ fail their audit is refused, naming the failing seq."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("DROP TRIGGER events_refuse_update")
    payload = json.loads(conn.execute("SELECT payload FROM events WHERE seq = 40").fetchone()[0])
    payload["source"] = "someone else"
    conn.execute("UPDATE events SET payload = ? WHERE seq = 40", (json.dumps(payload),))
    conn.executescript(TRIGGERS_SQL)
    conn.close()
    refused = nnreplay("fork", "parent", "--at", 50, ok=False)
    assert refused.exit_code == 1 and "fails its audit at seq 40 (chain" in refused.stderr
    assert session_count(db_path) == 1
    assert nnreplay("fork", "parent", "--at", 39).exit_code == 0
