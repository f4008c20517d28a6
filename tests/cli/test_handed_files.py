"""A file you are handed cannot hurt you: import and audit read every field strictly (issue 9, classes 2, 3
and 10). Each test edits a real export (recomputing its hashes, as a careful attacker would) and runs the
real CLI."""

import json
import math

import pytest

from engine import Next, Rate, Settings
from store import EventLog
from store.chain import verify_hash


@pytest.fixture
def lines(db_path, tmp_path, nnreplay):
    """A thompson session of 8 events exported; returns the file's lines, decoded (NaN allowed)."""
    with EventLog(db_path) as log:
        info = log.new_session(Settings(learner="thompson", seed=3), name="first-try")
        log.record(info.id, [Next()] * 4 + [Rate("good")] + [Next()] * 2)
    path = tmp_path / "first-try.jsonl"
    nnreplay("export", "first-try", "-o", path)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def rehashed(lines: list[dict]) -> list[dict]:
    """The lines with every hash, prev_hash and the header's head_hash recomputed (json.dumps allows NaN)."""
    header, *events = [dict(line) for line in lines]
    prev = "0" * 64
    for event in events:
        event["prev_hash"] = prev
        event["hash"] = prev = verify_hash(header["session"]["id"], event["seq"], event["type"],
                                           event["schema_version"], event["payload"], event["recorded_at"], prev)
        event["session_id"] = header["session"]["id"]
    header["head_hash"] = prev
    return [header, *events]


def importing(tmp_path, runner, lines: list, raw: str | None = None, db: str = "other.db"):
    import cli

    path = tmp_path / "handed.jsonl"
    path.write_text(raw if raw is not None else "".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return runner.invoke(cli.app, ["--db", str(tmp_path / db), "import", str(path)])


def refused(result, *words) -> str:
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == ""
    for word in words:
        assert word in result.stderr, (word, result.stderr)
    return result.stderr


def with_session(lines, **fields):
    header = {**lines[0], "session": {**lines[0]["session"], **fields}}
    return [header, *lines[1:]]


@pytest.mark.parametrize("bad_id", ["first-try", "", "ab", "\n", "x" * 100_000, "A" * 32, "0" * 31 + "g"],
                         ids=["a-name", "empty", "short", "newline", "100k-letters", "upper-case", "not-hex"])
def test_import_refuses_a_session_id_that_is_not_32_lowercase_hex_digits(lines, tmp_path, runner, bad_id):
    """Class 2: ids are ids. The header's id must be 32 lowercase hex digits, and nothing is written."""
    result = importing(tmp_path, runner, rehashed(with_session(lines, id=bad_id)))
    refused(result, "line 1", "session.id")
    assert not (tmp_path / "other.db").exists()


@pytest.mark.parametrize("name, words", [("", "empty"), ("   ", "empty"), ("n" * 10_000, "at most 200"),
                                         ("a\0b", "NUL"), ("93a9d0354856", "id prefix"), ("ABCD", "id prefix")],
                         ids=["empty", "blank", "10k", "nul", "id-prefix", "upper-hex"])
def test_import_applies_the_name_rule_of_new(lines, tmp_path, runner, nnreplay, name, words):
    """Class 3: a name `new` refuses is refused by import too, naming line 1 and the field."""
    refused(importing(tmp_path, runner, with_session(lines, name=name)), "line 1", "session.name", words)
    if "\0" not in name:  # argv cannot carry NUL
        refused(nnreplay("new", "--name", name, ok=False), words)
        refused(nnreplay("fork", "first-try", "--at", "2", "--name", name, ok=False), words)


def test_a_name_can_never_capture_an_id_prefix(nnreplay, db_path):
    """Class 2: `new --name <another session's prefix>` is refused, and a reference that reads as an id wins
    over a name even in a database written by something that let such a name in."""
    victim = nnreplay("new", "--seed", "1").stdout.strip()
    refused(nnreplay("new", "--name", victim[:12], ok=False), "id prefix")
    import sqlite3

    impostor = nnreplay("new", "--seed", "2", "--name", "impostor").stdout.strip()
    from store.schema import TRIGGERS_SQL

    with sqlite3.connect(db_path) as conn:  # a name written behind nnreplay's back, its guard lifted
        conn.execute("DROP TRIGGER sessions_refuse_update")
        conn.execute("UPDATE sessions SET name = ? WHERE id = ?", (victim[:12], impostor))
        conn.executescript(TRIGGERS_SQL)
    nnreplay("next", victim[:12])
    assert nnreplay.json("show", victim, "--json")["seq"] == 2
    assert nnreplay.json("show", impostor, "--json")["seq"] == 1


@pytest.mark.parametrize("edit, words", [
    (lambda p: {**p, "extra": math.nan}, "field payload.extra"),
    (lambda p: {**p, "extra": 1}, "not part of its schema: extra"),
    (lambda p: {**p, "draws": [*p["draws"][:5], math.inf]}, "draws[5]"),
    (lambda p: {**p, "undone": 0}, "undone"),
    (lambda p: {**p, "draws": [1 if d == 1.0 else d for d in p["draws"][:5]] + [1]}, "draws[5]"),
    (lambda p: {**p, "source": ["cli"]}, "source"),
])
def test_payloads_must_be_exactly_what_the_engine_writes(lines, tmp_path, runner, edit, words):
    """Class 3: an unknown field, a NaN or infinity anywhere, a value of another type: refused, naming the
    line and the field, even with every hash recomputed."""
    changed = [*lines[:4], {**lines[4], "payload": edit(lines[4]["payload"])}, *lines[5:]]
    refused(importing(tmp_path, runner, rehashed(changed)), "line 5", words)


@pytest.mark.parametrize("raw_edit, words", [
    (lambda text: "\ufeff" + text, "byte-order mark"),
    (lambda text: text.replace('"format_version": 1', '"format_version": 1.0', 1), "format_version"),
    (lambda text: text.replace('"format_version": 1', '"format_version": true', 1), "format_version"),
    (lambda text: text.replace('"events": 8', '"events": 8, "events": 9', 1), "twice"),
    (lambda text: text.replace('{"format"', '{"deep": ' + "[" * 5000 + "]" * 5000 + ', "format"', 1), "nested"),
    (lambda text: text.replace('{"format"', '{"deep": ' + "[" * 40 + "]" * 40 + ', "format"', 1), "field deep[0]"),
])
def test_the_header_line_is_read_strictly(lines, tmp_path, runner, raw_edit, words):
    """Class 3: a BOM, format_version 1.0 or true, a repeated key, deep nesting: one line naming line 1."""
    header = json.dumps(lines[0]) + "\n"
    rest = "".join(json.dumps(line) + "\n" for line in lines[1:])
    refused(importing(tmp_path, runner, [], raw=raw_edit(header) + rest), "line 1", words)


@pytest.mark.parametrize("field, value", [("created_at", "yesterday"), ("created_at", "2026-13-01T00:00:00+00:00"),
                                          ("parent_id", "nobody"), ("parent_seq", 0)])
def test_times_and_parents_in_the_header_are_checked(lines, tmp_path, runner, field, value):
    """Class 3: created_at is UTC ISO-8601; parent fields are an id and a seq, or both null."""
    changed = with_session(lines, **{field: value, **({"parent_id": "a" * 32} if field == "parent_seq" else {})})
    refused(importing(tmp_path, runner, changed), "line 1", f"session.{field}")


def test_recorded_at_is_checked_on_every_line(lines, tmp_path, runner):
    """Class 3: an event's recorded_at must be UTC ISO-8601 (here a local time with an offset)."""
    changed = [*lines[:3], {**lines[3], "recorded_at": "2026-11-30T15:00:00+01:00"}, *lines[4:]]
    refused(importing(tmp_path, runner, rehashed(changed)), "line 4", "recorded_at")


def test_audit_applies_the_same_strictness_to_a_stored_log(nnreplay, db_path):
    """Class 3: an extra payload field holding NaN, rehashed in place, fails audit's parse check; the
    README's json_extract query on that database is what it guards."""
    import sqlite3

    from store.schema import TRIGGERS_SQL

    sid = nnreplay("new", "--learner", "thompson", "--seed", "5").stdout.strip()
    nnreplay("next", sid, "-n", "3")
    conn = sqlite3.connect(db_path, isolation_level=None)
    for trigger in ("events_refuse_update", "events_refuse_delete", "events_append_only"):
        conn.execute(f"DROP TRIGGER {trigger}")
    payload, prev, recorded_at = conn.execute("SELECT payload, prev_hash, recorded_at FROM events "
                                              "WHERE session_id = ? AND seq = 4", (sid,)).fetchone()
    payload = {**json.loads(payload), "extra": math.nan}
    hash_ = verify_hash(sid, 4, "iterated", 1, payload, recorded_at, prev)
    conn.execute("UPDATE events SET payload = ?, hash = ? WHERE session_id = ? AND seq = 4",
                 (json.dumps(payload, sort_keys=True, separators=(",", ":")), hash_, sid))
    conn.executescript(TRIGGERS_SQL)
    conn.close()
    report = json.loads(nnreplay("audit", "--json", ok=False).stdout)
    [session] = report["sessions"]
    failed = {check["check"]: check for check in session["checks"] if not check["ok"]}
    assert session["verdict"] == "tampered" and failed["parse"]["seq"] == 4
    assert "extra" in failed["parse"]["reason"] and "chain" not in failed


def test_a_drifted_run_imports_with_a_warning_naming_the_check(lines, tmp_path, runner):
    """Class 10: a run audit calls DRIFT (a recorded decision decide no longer makes, log intact) imports,
    as it forks, with a warning that names the decisions check; a tampered one stays refused."""
    import cli

    draws = lines[4]["payload"]["draws"]
    drifted = [*lines[:4], {**lines[4], "payload": {**lines[4]["payload"], "draws": [d / 2 for d in draws]}},
               *lines[5:]]
    result = importing(tmp_path, runner, rehashed(drifted))
    assert result.exit_code == 0, result.stderr
    assert "decisions" in result.stderr and "warning" in result.stderr.lower()
    audit = runner.invoke(cli.app, ["--db", str(tmp_path / "other.db"), "audit", "--json"])
    assert json.loads(audit.stdout)["sessions"][0]["verdict"] == "drift"
