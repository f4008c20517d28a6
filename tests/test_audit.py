"""`nnreplay audit`: a log tampered with through plain sqlite3 fails at the right seq, for the right reason.

Each test records a real session, edits the file with the standard library's sqlite3 (dropping the guard
triggers first and putting them back afterwards, so that only the intended check can fail), and reads the
verdict from `audit --json`.
"""

import json
import os
import sqlite3

import pytest

from engine import ENGINE_VERSION, Next, Rate, Settings, evolve, parse, state_digest
from store import EventLog
from store.chain import verify_hash
from store.schema import TRIGGERS_SQL

EVENTS = 20


@pytest.fixture
def session(db_path):
    """A thompson session of 20 events (Next presses and two feedback buttons); returns its id."""
    with EventLog(db_path) as log:
        info = log.new_session(Settings(learner="thompson", seed=11), name="audited")
        log.record(info.id, [Next()] * 9 + [Rate("good")] + [Next()] * 8 + [Rate("bad")])
    return info.id


def tamper(db_path: str, *statements: tuple) -> None:
    """Run SQL through a plain connection with the guards lifted, then put the guards back."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    for name in ("events_refuse_update", "events_refuse_delete", "events_append_only"):
        conn.execute(f"DROP TRIGGER {name}")
    for sql, *params in statements:
        conn.execute(sql, *params)
    conn.executescript(TRIGGERS_SQL)
    conn.close()


def rows(db_path: str, session_id: str) -> list[tuple]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT seq, type, schema_version, payload, recorded_at, prev_hash, hash, state_digest "
                            "FROM events WHERE session_id = ? ORDER BY seq", (session_id,)).fetchall()


def rechain(db_path: str, session_id: str, edits: dict[int, dict], digests: bool = False) -> None:
    """Replace the payloads of some seqs and recompute every hash (and, if asked, every state digest)."""
    state, statements, prev = None, [], "0" * 64
    for seq, type_, version, payload, recorded_at, _, _, digest in rows(db_path, session_id):
        payload = edits.get(seq, json.loads(payload))
        state = evolve(state, parse(type_, version, payload))
        digest = state_digest(state) if digests else digest
        hash_ = verify_hash(session_id, seq, type_, version, payload, recorded_at, prev)
        statements.append(("UPDATE events SET payload = ?, hash = ?, prev_hash = ?, state_digest = ? "
                           "WHERE session_id = ? AND seq = ?",
                           (json.dumps(payload, sort_keys=True, separators=(",", ":")), hash_, prev, digest,
                            session_id, seq)))
        prev = hash_
    tamper(db_path, *statements)


def payload_at(db_path: str, session_id: str, seq: int) -> dict:
    return json.loads(rows(db_path, session_id)[seq - 1][3])


def other_action(payload: dict) -> dict:
    return {**payload, "action": "b-" if payload["action"] != "b-" else "b+"}


def audit(nnreplay, *args) -> tuple[int, dict]:
    result = nnreplay("audit", "--json", *args, ok=False)
    return result.exit_code, json.loads(result.stdout)


def failures(report: dict) -> dict[str, tuple]:
    """{check: (seq, reason)} of the failed checks of the only session in an audit report."""
    [only] = report["sessions"]
    return {c["check"]: (c["seq"], c["reason"]) for c in only["checks"] if not c["ok"]}


def test_a_clean_log_passes_every_check(nnreplay, session):
    """An untouched session passes all seven checks and audit exits 0."""
    code, report = audit(nnreplay, session)
    assert code == 0 and report["ok"]
    [only] = report["sessions"]
    assert [c["check"] for c in only["checks"]] == ["sequence", "chain", "parse", "digests", "decisions",
                                                     "snapshots", "guards"]
    assert only["events"] == EVENTS and only["verdict"] == "ok"


def test_an_edited_payload_breaks_the_chain_at_its_seq(nnreplay, session, db_path):
    """A payload changed in place fails the chain check at exactly that seq, and audit exits 1."""
    edited = json.dumps(other_action(payload_at(db_path, session, 7)), sort_keys=True, separators=(",", ":"))
    tamper(db_path, ("UPDATE events SET payload = ? WHERE session_id = ? AND seq = 7", (edited, session)))
    code, report = audit(nnreplay, session)
    assert code == 1
    found = failures(report)
    assert found["chain"][0] == 7 and "changed after it was recorded" in found["chain"][1]
    assert found["digests"][0] == 7 and found["decisions"][0] == 7
    assert report["sessions"][0]["verdict"] == "tampered"


def test_an_edited_recorded_at_fails_only_the_chain(nnreplay, session, db_path):
    """recorded_at is inside the hash: editing it fails the chain at that seq and nothing else."""
    tamper(db_path, ("UPDATE events SET recorded_at = '2020-01-01T00:00:00.000000Z' WHERE seq = 5",))
    code, report = audit(nnreplay, session)
    assert code == 1
    assert set(failures(report)) == {"chain"} and failures(report)["chain"][0] == 5


def test_a_deleted_middle_event_is_a_gap(nnreplay, session, db_path):
    """A deleted event fails the sequence check at the missing seq and the chain at the next one."""
    tamper(db_path, ("DELETE FROM events WHERE seq = 8",))
    found = failures(audit(nnreplay, session)[1])
    assert found["sequence"] == (8, "seq 8 is missing (the event after seq 7 has seq 9)")
    assert found["chain"][0] == 9 and "prev_hash" in found["chain"][1]


def test_two_swapped_events_break_the_links(nnreplay, session, db_path):
    """Events 5 and 6 trading places leave seq intact but fail the chain at seq 5."""
    tamper(db_path, ("UPDATE events SET seq = -5 WHERE seq = 5",), ("UPDATE events SET seq = 5 WHERE seq = 6",),
           ("UPDATE events SET seq = 6 WHERE seq = -5",))
    found = failures(audit(nnreplay, session)[1])
    assert "sequence" not in found
    assert found["chain"][0] == 5 and "reordered" in found["chain"][1]


def test_an_inserted_event_breaks_the_link_after_it(nnreplay, session, db_path):
    """A well-hashed event slipped in at seq 6 (later events shifted up) fails the chain at seq 7."""
    original = rows(db_path, session)
    shifts = [("UPDATE events SET seq = seq + 1 WHERE seq = ?", (seq,)) for seq in range(EVENTS, 5, -1)]
    _, type_, version, payload, recorded_at, _, _, digest = original[5]
    prev = original[4][6]
    hash_ = verify_hash(session, 6, type_, version, json.loads(payload), recorded_at, prev)
    insert = ("INSERT INTO events VALUES (?, 6, ?, ?, ?, ?, ?, ?, ?)",
              (session, type_, version, payload, recorded_at, prev, hash_, digest))
    tamper(db_path, *shifts, insert)
    found = failures(audit(nnreplay, session)[1])
    assert "sequence" not in found
    assert found["chain"][0] == 7 and "inserted" in found["chain"][1]


def test_a_forged_chain_is_caught_by_the_digests(nnreplay, session, db_path):
    """A payload edit with every hash recomputed passes the chain but fails the digest check at its seq."""
    rechain(db_path, session, {10: other_action(payload_at(db_path, session, 10))})
    code, report = audit(nnreplay, session)
    found = failures(report)
    assert code == 1 and "chain" not in found
    assert found["digests"][0] == 10 and "--expect-head" in found["digests"][1]


def test_a_forged_chain_with_forged_digests_is_caught_by_expect_head(nnreplay, session, db_path):
    """Recomputing hashes and digests fools the fold, but not --expect-head with the original head hash."""
    head = nnreplay.json("show", session, "--json")["head_hash"]
    assert audit(nnreplay, session, "--expect-head", head)[0] == 0
    rechain(db_path, session, {10: other_action(payload_at(db_path, session, 10))}, digests=True)
    code, report = audit(nnreplay, session, "--expect-head", head)
    found = failures(report)
    assert code == 1
    assert found["head"][0] == EVENTS and "no event of this session has the expected hash" in found["head"][1]
    assert "digests" not in found and found["decisions"][0] == 10


def test_a_changed_decision_in_an_intact_log_is_drift(nnreplay, session, db_path):
    """Draws that decide no longer reproduces, in a log whose chain and digests hold, are reported as drift."""
    payload = payload_at(db_path, session, 12)
    rechain(db_path, session, {12: {**payload, "draws": [d / 2 for d in payload["draws"]]}})
    code, report = audit(nnreplay, session)
    assert code == 1 and set(failures(report)) == {"decisions"}
    seq, reason = failures(report)["decisions"]
    assert seq == 12 and reason.startswith("drift, not tampering") and "draws" in reason
    assert report["sessions"][0]["verdict"] == "drift"


def test_a_dropped_trigger_fails_the_guards(nnreplay, session, db_path):
    """A database whose DELETE guard is gone fails check 7, naming the trigger."""
    with sqlite3.connect(db_path) as conn:
        conn.execute("DROP TRIGGER events_refuse_delete")
    code, report = audit(nnreplay)
    found = failures(report)
    assert code == 1 and set(found) == {"guards"}
    assert "events_refuse_delete is missing" in found["guards"][1]


def test_an_altered_trigger_fails_the_guards(nnreplay, session, db_path):
    """A guard trigger replaced by one that lets writes through is reported as altered."""
    with sqlite3.connect(db_path) as conn:
        conn.execute("DROP TRIGGER events_refuse_update")
        conn.execute("CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events WHEN 0 BEGIN SELECT 1; END")
    found = failures(audit(nnreplay, session)[1])
    assert "events_refuse_update was altered" in found["guards"][1]


def test_a_stale_snapshot_is_reported_with_its_seq(nnreplay, db_path):
    """A snapshot that decodes to a state other than the replayed one fails check 6 at its seq."""
    with EventLog(db_path) as log:
        info = log.new_session(Settings(learner="gradient", seed=2))
        log.record(info.id, [Next()] * 120)
    with sqlite3.connect(db_path) as conn:
        text, = conn.execute("SELECT state FROM snapshots WHERE session_id = ? AND seq = 100", (info.id,)).fetchone()
        body = json.loads(text)
        body["params"][2] += 0.5
        conn.execute("UPDATE snapshots SET state = ? WHERE seq = 100", (json.dumps(body),))
    code, report = audit(nnreplay, info.id)
    found = failures(report)
    assert code == 1 and set(found) == {"snapshots"}
    assert found["snapshots"][0] == 100 and "stale" in found["snapshots"][1]


def test_expect_head_refuses_an_ancestor(nnreplay, session):
    """The hash of an earlier event is not accepted as the head: audit says which seq it belongs to."""
    log_ = nnreplay.json("log", session, "--json")
    code, report = audit(nnreplay, session, "--expect-head", log_[14]["hash"])
    assert code == 1
    assert failures(report)["head"][1].startswith("the expected hash is that of seq 15, not of the head (seq 20)")


def test_expect_head_needs_one_session_and_a_full_hash(nnreplay, session, db_path):
    """--expect-head without exactly one session, or with a short hash, is a usage error (exit 2)."""
    assert nnreplay("audit", "--expect-head", "0" * 64, ok=False).exit_code == 2
    short = nnreplay("audit", session, "--expect-head", "abc123", ok=False)
    assert short.exit_code == 2 and "64 hex digits" in short.stderr


def test_the_text_report_names_the_failing_seq(nnreplay, session, db_path):
    """Without --json, a failing check prints FAIL with its seq and reason, and the summary says FAILED."""
    tamper(db_path, ("DELETE FROM events WHERE seq = 3",))
    result = nnreplay("audit", ok=False)
    assert result.exit_code == 1
    assert "FAIL  1 sequence   seq 3: seq 3 is missing" in result.stdout
    assert "1 of 1 session FAILED" in result.stdout


def test_every_session_is_audited_when_none_is_named(nnreplay, session, db_path):
    """With no session named, audit covers every session in the database."""
    with EventLog(db_path) as log:
        log.new_session(Settings(seed=4))
    code, report = audit(nnreplay)
    assert code == 0 and len(report["sessions"]) == 2 and report["events"] == EVENTS + 1


def test_auditing_a_missing_database_is_refused(nnreplay, db_path):
    """Audit of a path with no database is one error line and exit 1, and creates no file."""
    result = nnreplay("audit", ok=False)
    assert result.exit_code == 1 and result.stderr.startswith("Error: no nnreplay database")
    assert not os.path.exists(db_path)


def both_ways(db_path: str, session_id: str) -> tuple:
    """The audit report of one session, sequential and split into parallel segments of 200 events."""
    from store.audit import audit as run

    with EventLog(db_path, create=False) as log:
        info = log.resolve(session_id)
        one = run(log, [info], parallel_from=10**9)[0].to_json()
        split = run(log, [info], segment=200, parallel_from=0)[0].to_json()
    return one, split


@pytest.mark.parametrize("damage", ["none", "recorded_at", "forged", "stale", "digest", "gap"])
def test_a_parallel_audit_reports_what_a_sequential_one_does(db_path, damage):
    """Split at verified snapshots into parallel segments, the audit finds the same first failures."""
    with EventLog(db_path) as log:
        info = log.new_session(Settings(learner="thompson", seed=3))
        log.record(info.id, ([Next()] * 6 + [Rate("meh")]) * 142)
    if damage == "recorded_at":
        tamper(db_path, ("UPDATE events SET recorded_at = 'x' WHERE seq = 650",))
    elif damage == "forged":
        rechain(db_path, info.id, {300: other_action(payload_at(db_path, info.id, 300))})
    elif damage == "stale":
        with sqlite3.connect(db_path) as conn:
            conn.execute("UPDATE snapshots SET state = (SELECT state FROM snapshots WHERE seq = 500) WHERE seq = 600")
    elif damage == "digest":
        tamper(db_path, ("UPDATE events SET state_digest = ? WHERE seq = 400", ("0" * 64,)))
    elif damage == "gap":
        tamper(db_path, ("DELETE FROM events WHERE seq = 450",))
    one, split = both_ways(db_path, info.id)
    assert one == split
    assert one["ok"] == (damage == "none")


def test_guards_are_checked_even_without_sessions(nnreplay, db_path):
    """A database with no sessions still fails its audit when a guard trigger is gone."""
    with EventLog(db_path) as log:
        log.materialise()  # a database file otherwise appears only at the first write
    assert audit(nnreplay)[0] == 0
    with sqlite3.connect(db_path) as conn:
        conn.execute("DROP TRIGGER events_append_only")
    code, report = audit(nnreplay)
    assert code == 1 and report["sessions"] == [] and not report["guards"]["ok"]


def test_a_newer_engine_version_alone_is_not_drift(nnreplay, session, db_path):
    """session_started recorded by another engine version still re-decides clean: the version is a fact."""
    payload = payload_at(db_path, session, 1)
    rechain(db_path, session, {1: {**payload, "engine_version": "0.9"}})
    code, report = audit(nnreplay, session)
    assert code == 0, failures(report)


def test_a_snapshot_row_with_a_nonsense_seq_is_stale_not_a_crash(nnreplay, session, db_path):
    """A hand-made snapshot row whose seq is not a number is reported as a stale snapshot."""
    with sqlite3.connect(db_path) as conn:
        conn.execute("INSERT INTO snapshots VALUES (?, ?, 'x', '{}', 'y')", (session, ENGINE_VERSION))
    code, report = audit(nnreplay, session)
    assert code == 1 and set(failures(report)) == {"snapshots"}
    assert failures(report)["snapshots"][0] == "x"
