"""A record made by another machine, on any machine: a session of machine arithmetic whose recorded digests
are not this machine's (as another CPU's kernels would have made them, chain intact) is 'recorded on other
arithmetic' everywhere (audit 3, sessions 3, show 3, next refused naming repress); the same departure in a
portable session is a real failure (audit 1). And `repress` carries a session on, with or without new settings."""

import hashlib
import json
import sqlite3

import pytest

from engine import Next, Rate, Settings
from store import open_log


def record(db, arithmetic, learner="gradient", presses=12, name="old"):
    """A session recorded through the store, in the given arithmetic (machine: as release 0.1/0.2 did)."""
    log = open_log(db, create=True)
    try:
        info = log.new_session(Settings(seed=5, learner=learner, arithmetic=arithmetic), name=name)
        commands = [Rate("good") if learner == "thompson" and i % 2 else Next() for i in range(presses)]
        log.record(info.id, commands)
        return info
    finally:
        log.close()


def as_if_recorded_elsewhere(db, session_id, from_seq):
    """Rewrite the recorded digests from `from_seq` on, as another machine's fold would have made them. The
    digests are not part of the hash chain, so the chain stays intact; the guards are put back exactly."""
    conn = sqlite3.connect(db)
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    with conn:
        for name, _ in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
        for (seq, digest) in conn.execute("SELECT seq, state_digest FROM events WHERE session_id = ? AND seq >= ?",
                                          (session_id, from_seq)).fetchall():
            conn.execute("UPDATE events SET state_digest = ? WHERE session_id = ? AND seq = ?",
                         (hashlib.sha256(digest.encode()).hexdigest(), session_id, seq))
        for _, sql in triggers:
            conn.execute(sql)
    conn.execute("DELETE FROM snapshots") if conn.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'snapshots'").fetchone() else None
    conn.commit()
    conn.close()


@pytest.mark.parametrize("learner", ["gradient", "thompson"])
def test_a_machine_arithmetic_record_from_elsewhere_gets_its_own_verdict(nnreplay, db_path, learner):
    """Audit says 'other arithmetic', names the seq, the intact chain and --expect-head, and exits 3."""
    info = record(db_path, "machine", learner)
    as_if_recorded_elsewhere(db_path, info.id, 6)
    result = nnreplay("audit", "--json", ok=False)
    assert result.exit_code == 3
    [item] = json.loads(result.stdout)["sessions"]
    assert item["verdict"] == "other arithmetic" and item["arithmetic"] == "machine"
    digests = next(c for c in item["checks"] if c["check"] == "digests")
    assert digests["seq"] == 6 and "--expect-head" in digests["reason"] and "repress" in digests["reason"]
    text = nnreplay("audit", ok=False)
    assert text.exit_code == 3 and "OTHER ARITHMETIC" in text.stdout and "FAILED" not in text.stdout
    head = item["head_hash"]
    checked = nnreplay("audit", "old", "--expect-head", head, "--json", ok=False)
    assert checked.exit_code == 3 and json.loads(checked.stdout)["sessions"][0]["checks"][-1] == {
        **json.loads(checked.stdout)["sessions"][0]["checks"][-1], "check": "head", "ok": True}


def test_every_command_says_other_arithmetic_and_next_names_repress(nnreplay, db_path):
    """sessions and show exit 3 with the honest words; next is refused (exit 1) naming repress, nothing written."""
    info = record(db_path, "machine")
    as_if_recorded_elsewhere(db_path, info.id, 4)
    listing = nnreplay("sessions", ok=False)
    assert listing.exit_code == 3 and "recorded on other arithmetic" in listing.stdout and "BROKEN" not in listing.stdout
    shown = nnreplay("show", "old", "--json", ok=False)
    assert shown.exit_code == 3 and json.loads(shown.stdout)["replay"] == "other arithmetic"
    with open(db_path, "rb") as f:
        before = f.read()
    refused = nnreplay("next", "old", ok=False)
    assert refused.exit_code == 1 and "nnreplay repress old" in refused.stderr and "seq 4" in refused.stderr
    with open(db_path, "rb") as f:
        assert f.read() == before


def test_a_portable_session_that_departs_is_a_real_failure(nnreplay, db_path):
    """The same rewrite of a portable session's digests: replay differs, exit 1, show says the log changed."""
    info = record(db_path, "portable-1")
    as_if_recorded_elsewhere(db_path, info.id, 4)
    result = nnreplay("audit", "--json", ok=False)
    assert result.exit_code == 1 and json.loads(result.stdout)["sessions"][0]["verdict"] == "replay differs"
    shown = nnreplay("show", "old", ok=False)
    assert shown.exit_code == 1 and "changed after it was recorded" in shown.stderr
    assert "BROKEN" in nnreplay("sessions", ok=False).stdout


def test_repress_presses_the_same_presses_with_new_settings(nnreplay, db_path):
    """A button stream re-pressed under another discount: same presses in order, origin and changes recorded."""
    info = record(db_path, "machine", "thompson", presses=20)
    new_id = nnreplay("repress", "old", "--discount", "0.5", "--name", "what-if").stdout.strip()
    old_log, new_log = nnreplay.json("log", "old", "--json"), nnreplay.json("log", new_id, "--json")
    press = lambda e: (e["type"], e["payload"].get("button"))  # noqa: E731
    assert [press(e) for e in new_log[1:]] == [press(e) for e in old_log[1:]]
    first = new_log[0]["payload"]
    assert first["settings"]["discount"] == 0.5 and first["settings"]["arithmetic"] == "portable-1"
    assert first["origin"] == {"session_id": info.id, "head_hash": old_log[-1]["hash"], "seq": 21,
                               "changed": ["discount"]}
    assert "re-press  of session" in nnreplay("show", "what-if").stdout
    assert nnreplay.json("audit", "what-if", "--json")["ok"]


@pytest.mark.parametrize("args, field", [(["--learner", "gradient"], "--learner"), (["--lr", "0"], "--lr"),
                                         (["--name", "old"], "--name")])
def test_a_refused_repress_writes_nothing(nnreplay, db_path, args, field):
    """Buttons onto a gradient learner, a bad value, a taken name: one line naming the option, file unchanged."""
    record(db_path, "machine", "thompson")
    with open(db_path, "rb") as f:
        before = f.read()
    result = nnreplay("repress", "old", *args, ok=False)
    assert result.exit_code in (1, 2) and result.stderr.count("\n") == 1 and field.lstrip("-") in result.stderr
    with open(db_path, "rb") as f:
        assert f.read() == before


def test_an_other_arithmetic_record_moves_by_export_and_fork_with_its_record(nnreplay, db_path, tmp_path):
    """Export, import elsewhere and fork keep the recorded digests (a warning, not a refusal), make no cache
    from this machine's fold, and audit there says 'other arithmetic' too."""
    info = record(db_path, "machine", presses=12)
    as_if_recorded_elsewhere(db_path, info.id, 5)
    out = tmp_path / "old.jsonl"
    nnreplay("export", "old", "-o", str(out))
    other = str(tmp_path / "other.db")
    import cli
    from typer.testing import CliRunner

    result = CliRunner().invoke(cli.app, ["--db", other, "import", str(out)])
    assert result.exit_code == 0 and "other arithmetic" in result.stderr
    audit = CliRunner().invoke(cli.app, ["--db", other, "audit", "--json"])
    assert audit.exit_code == 3 and json.loads(audit.stdout)["sessions"][0]["verdict"] == "other arithmetic"
    assert sqlite3.connect(other).execute("SELECT COUNT(*) FROM heads").fetchone()[0] == 0
    nnreplay("fork", "old", "--at", "8", "--name", "branch")
    forked = nnreplay("audit", "branch", "--json", ok=False)
    assert forked.exit_code == 3 and json.loads(forked.stdout)["sessions"][0]["verdict"] == "other arithmetic"
