"""`nnreplay export` and `nnreplay import`: a portable JSON Lines file, verified completely before import."""

import json
import os
import sqlite3

import pytest

from engine import Next, Rate, Settings
from store import EventLog

EVENTS = 25


@pytest.fixture
def exported(db_path, tmp_path, nnreplay):
    """A thompson session of 25 events exported to a file; returns (session id, file path, its lines)."""
    with EventLog(db_path) as log:
        info = log.new_session(Settings(learner="thompson", seed=8), name="travels")
        log.record(info.id, [Next()] * 12 + [Rate("meh")] + [Next()] * 11)
    path = tmp_path / "travels.jsonl"
    nnreplay("export", "travels", "-o", path)
    return info.id, path, path.read_text(encoding="utf-8").splitlines(keepends=True)


@pytest.fixture
def elsewhere(runner, tmp_path):
    """Run the CLI against a second, not yet created database."""
    import cli

    path = str(tmp_path / "elsewhere.db")

    def run(*args):
        return runner.invoke(cli.app, ["--db", path, *map(str, args)])

    run.path = path
    return run


def write(tmp_path, lines: list[str]) -> str:
    path = tmp_path / "changed.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    return str(path)


def test_the_file_is_a_header_then_one_event_a_line(exported):
    """Line 1 is the header (format, versions, session, settings, count, head); then every column per event."""
    session_id, _, lines = exported
    header = json.loads(lines[0])
    assert header["format"] == "nnreplay-export" and header["format_version"] == 1
    assert header["session"]["id"] == session_id and header["session"]["name"] == "travels"
    assert header["settings"]["learner"] == "thompson" and header["events"] == EVENTS == len(lines) - 1
    first = json.loads(lines[1])
    assert set(first) == {"session_id", "seq", "type", "schema_version", "payload", "recorded_at",
                          "prev_hash", "hash", "state_digest"}
    assert json.loads(lines[-1])["hash"] == header["head_hash"]


def test_export_to_stdout_equals_the_file(nnreplay, exported):
    """Without -o the same lines go to stdout."""
    _, _, lines = exported
    assert nnreplay("export", "travels").stdout == "".join(lines)


def test_a_round_trip_keeps_the_head_hash(nnreplay, exported, elsewhere):
    """Importing into a fresh database keeps the id and gives an identical head hash, and it audits clean."""
    session_id, path, _ = exported
    result = elsewhere("import", path)
    assert result.exit_code == 0 and result.stdout.strip() == session_id
    head = nnreplay.json("show", session_id, "--json")
    copy = json.loads(elsewhere("show", session_id, "--json").stdout)
    assert (copy["head_hash"], copy["digest"], copy["name"]) == (head["head_hash"], head["digest"], "travels")
    assert elsewhere("audit", "--expect-head", head["head_hash"], session_id).exit_code == 0


def test_an_existing_session_needs_a_new_name(nnreplay, exported, db_path):
    """Importing a session already present is refused; with --name it becomes a copy with a new id."""
    session_id, path, _ = exported
    refused = nnreplay("import", path, ok=False)
    assert refused.exit_code == 1 and "already in" in refused.stderr and "--name" in refused.stderr
    copy = nnreplay("import", path, "--name", "travels-again").stdout.strip()
    assert copy != session_id
    assert nnreplay.json("show", copy, "--json")["digest"] == nnreplay.json("show", session_id, "--json")["digest"]
    assert nnreplay.json("audit", "--json")["ok"]


@pytest.mark.parametrize("change, line, words", [
    (lambda lines: lines[:-1], 26, "truncated"),
    (lambda lines: lines[:10] + [lines[10][:40]], 11, "line 11: "),
    (lambda lines: lines[:5] + [lines[6], lines[5]] + lines[7:], 6, "expected seq 5, found seq 6"),
    (lambda lines: lines[:8] + [lines[8].replace('+00:00"', 'Z"', 1)] + lines[9:], 9, "fails the chain check"),
    (lambda lines: lines[:8] + [lines[8].replace('"recorded_at":"', '"recorded_at":"1')] + lines[9:], 9,
     "field recorded_at"),
    (lambda lines: lines[:14] + lines[15:], 15, "expected seq 14, found seq 15"),
    (lambda lines: ["{}\n"] + lines[1:], 1, "not an nnreplay export"),
    (lambda lines: lines + [lines[-1]], 27, "one line too many"),
])
def test_a_damaged_export_is_refused_naming_the_line(exported, elsewhere, tmp_path, change, line, words):
    """A truncated, cut, reordered, edited, headless or overlong file imports nothing; the error names the line."""
    _, _, lines = exported
    result = elsewhere("import", write(tmp_path, change(lines)))
    assert result.exit_code == 1
    assert f"line {line}: " in result.stderr and words in result.stderr
    assert not os.path.exists(elsewhere.path)


def test_an_edited_decision_with_rehashed_chain_is_refused(exported, elsewhere, tmp_path):
    """A forged file (payload changed, hashes recomputed) fails on the digest check at its line."""
    from store.chain import verify_hash

    _, _, lines = exported
    rows = [json.loads(line) for line in lines[1:]]
    rows[19]["payload"]["action"] = "b+" if rows[19]["payload"]["action"] != "b+" else "b-"
    prev = "0" * 64
    for row in rows:
        row["prev_hash"] = prev
        row["hash"] = prev = verify_hash(row["session_id"], row["seq"], row["type"], row["schema_version"],
                                         row["payload"], row["recorded_at"], prev)
    header = {**json.loads(lines[0]), "head_hash": prev}
    result = elsewhere("import", write(tmp_path, [json.dumps(v) + "\n" for v in [header, *rows]]))
    assert result.exit_code == 1 and "line 21: seq 20 fails the digests check" in result.stderr
    assert not os.path.exists(elsewhere.path)


def test_a_refused_import_leaves_an_existing_database_untouched(nnreplay, exported, db_path, tmp_path):
    """A bad last line refuses the whole file: not one event of it reaches the database."""
    _, _, lines = exported
    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM snapshots")
    result = nnreplay("import", write(tmp_path, lines[:-1] + ["not json\n"]), "--name", "x", ok=False)
    assert result.exit_code == 1 and f"line {EVENTS + 1}: " in result.stderr
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == EVENTS
        assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 1


def test_a_failed_export_leaves_no_file(nnreplay, exported, tmp_path):
    """Exporting an unknown session is refused and writes no output file."""
    target = tmp_path / "nothing.jsonl"
    result = nnreplay("export", "no-such-session", "-o", target, ok=False)
    assert result.exit_code == 1 and not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".nnreplay-export")] == []


def test_import_reads_stdin_and_a_free_id_keeps_its_hashes_under_a_new_name(exported, elsewhere, runner):
    """`import -` reads stdin; --name on an id not yet present names it and keeps the id and head hash."""
    import cli

    session_id, path, lines = exported
    result = runner.invoke(cli.app, ["--db", elsewhere.path, "import", "-", "--name", "renamed"],
                           input="".join(lines).encode())
    assert result.exit_code == 0 and result.stdout.strip() == session_id
    shown = json.loads(elsewhere("show", "renamed", "--json").stdout)
    assert shown["head_hash"] == json.loads(lines[0])["head_hash"]


def test_a_newer_export_format_is_refused(exported, elsewhere, tmp_path):
    """A header with a format version above this nnreplay's asks for an upgrade, on line 1."""
    _, _, lines = exported
    header = {**json.loads(lines[0]), "format_version": 2}
    result = elsewhere("import", write(tmp_path, [json.dumps(header) + "\n"] + lines[1:]))
    assert result.exit_code == 1 and "line 1: " in result.stderr and "upgrade nnreplay" in result.stderr


def test_a_payload_that_is_not_json_is_not_exported(nnreplay, exported, db_path, tmp_path):
    """Export refuses, naming the seq, when a stored payload is not JSON, and leaves no file."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("DROP TRIGGER events_refuse_update")
    conn.execute("UPDATE events SET payload = '{broken' WHERE seq = 4")
    conn.close()
    target = tmp_path / "broken.jsonl"
    result = nnreplay("export", "travels", "-o", target, ok=False)
    assert result.exit_code == 1 and "seq 4" in result.stderr and not target.exists()
