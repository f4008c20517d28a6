"""Logs recorded by release 0.1.0 (machine arithmetic) replay, audit and continue bit for bit under this
release wherever this machine's arithmetic matches the recording machine's; where it does not, every
command says so in its own words (recorded on other arithmetic, exit 3), never BROKEN or "changed".
Both branches assert: which one a session takes depends on this machine's BLAS and SIMD kernels."""

import hashlib
import json
import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "data"
RECORDED = json.loads((DATA / "release-0.1.0.json").read_text())["sessions"]


@pytest.fixture
def old_db(tmp_path):
    """A copy of the release-0.1.0 database: the committed file is never written."""
    path = tmp_path / "old.db"
    shutil.copy(DATA / "release-0.1.0.db", path)
    return str(path)


def run(runner, db, *args, codes=(0,)):
    import cli

    result = runner.invoke(cli.app, ["--db", db, *map(str, args)], catch_exceptions=False)
    assert result.exit_code in codes, f"exit {result.exit_code}: {result.stderr}"
    return result


def replays_here(runner, db, session) -> bool:
    """Whether this machine folds `session` to the head its log records (show's own word for it)."""
    return json.loads(run(runner, db, "show", session, "--json", codes=(0, 3)).stdout)["replay"] == "as recorded"


def files(db) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in Path(db).parent.iterdir()}


def test_the_old_database_audits_clean_or_says_other_arithmetic(runner, old_db):
    """Every session verifies, or is 'recorded on other arithmetic' with an intact chain; exit 0 or 3 accordingly."""
    result = run(runner, old_db, "audit", "--json", codes=(0, 3))
    report = json.loads(result.stdout)
    assert len(report["sessions"]) == len(RECORDED)
    verdicts = {item["name"]: item["verdict"] for item in report["sessions"]}
    assert set(verdicts.values()) <= {"ok", "other arithmetic"}, verdicts
    assert result.exit_code == (0 if set(verdicts.values()) == {"ok"} else 3)
    for item in report["sessions"]:
        assert item["arithmetic"] == "machine"
        checks = {check["check"]: check for check in item["checks"]}
        assert all(checks[name]["ok"] for name in ("sequence", "chain", "parse", "guards"))
        if item["verdict"] == "other arithmetic":
            assert "not tampered" in checks["digests"]["reason"] and "--expect-head" in checks["digests"]["reason"]
            assert "changed after it was recorded" not in result.stdout


@pytest.mark.parametrize("recorded", RECORDED, ids=[s["name"] for s in RECORDED])
def test_old_sessions_rebuild_to_the_recorded_heads_or_say_where_they_depart(runner, old_db, recorded):
    """Head hash, digest, weights and loss are exactly release 0.1.0's; or show labels this machine's fold
    and the recorded digest apart and exits 3."""
    result = run(runner, old_db, "show", recorded["session_id"], "--json", codes=(0, 3))
    shown = json.loads(result.stdout)
    assert shown["head_hash"] == recorded["head_hash"] and shown["recorded_digest"] == recorded["digest"]
    assert shown["arithmetic"] == "machine" and shown["settings"] == recorded["settings"]
    if shown["replay"] == "as recorded":
        assert result.exit_code == 0
        for key in ("seq", "digest", "weights", "bias", "loss", "accuracy", "score"):
            assert shown[key] == recorded[key], key
        assert shown["params"] == {"W1": [[recorded["weights"][0]], [recorded["weights"][1]]],
                                   "b1": [recorded["bias"]]}
    else:
        # departed on the way: this machine's head differs, or it met the record again after departing
        assert shown["replay"] == "other arithmetic" and result.exit_code == 3
        assert shown["problem"]["seq"] <= shown["seq"]
        text = run(runner, old_db, "show", recorded["session_id"], codes=(3,))
        assert recorded["digest"] in text.stdout and "what this machine folds" in text.stdout
        assert "machine-dependent arithmetic" in text.stderr and "changed after it was recorded" not in text.stderr


def test_sessions_marks_other_arithmetic_not_broken(runner, old_db):
    """The listing never says BROKEN for an intact old log; exit 3 exactly when one replays differently here."""
    result = run(runner, old_db, "sessions", codes=(0, 3))
    listing = json.loads(run(runner, old_db, "sessions", "--json", codes=(0, 3)).stdout)
    assert "BROKEN" not in result.stdout
    other = [item for item in listing if not item["ok"]]
    assert all(item["problem"]["verdict"] == "other arithmetic" for item in other)
    assert result.exit_code == (3 if other else 0)


@pytest.mark.parametrize("name", ["gradient-lr1", "thompson-next", "thompson-buttons"])
def test_old_sessions_continue_where_they_replay_and_are_re_pressed_where_not(runner, old_db, name):
    """Where this machine folds the old head, presses append and the log audits clean; where it does not,
    next is refused naming repress with nothing written, and repress carries the session on, auditing clean."""
    recorded = next(s for s in RECORDED if s["name"] == name)
    if replays_here(runner, old_db, name):
        run(runner, old_db, "next", name, "-n", "3")
        if name == "thompson-buttons":
            run(runner, old_db, "rate", name, "good")
        shown = json.loads(run(runner, old_db, "show", name, "--json").stdout)
        assert shown["seq"] == recorded["seq"] + (4 if name == "thompson-buttons" else 3)
        report = json.loads(run(runner, old_db, "audit", name, "--json").stdout)
        assert report["ok"]
        return
    before = files(old_db)
    import cli

    refused = runner.invoke(cli.app, ["--db", old_db, "next", name])
    assert refused.exit_code == 1 and f"nnreplay repress {name}" in refused.stderr
    assert files(old_db) == before
    new_id = run(runner, old_db, "repress", name, "--name", f"{name}-portable").stdout.strip()
    shown = json.loads(run(runner, old_db, "show", new_id, "--json").stdout)
    assert shown["seq"] == recorded["seq"] and shown["arithmetic"] == "portable-1"
    assert shown["origin"] == {"session_id": recorded["session_id"], "head_hash": recorded["head_hash"],
                               "seq": recorded["seq"], "changed": []}
    run(runner, old_db, "next", new_id, "-n", "2")
    assert json.loads(run(runner, old_db, "audit", new_id, "--json").stdout)["ok"]


def test_old_sessions_audit_clean_against_their_recorded_head(runner, old_db):
    """--expect-head verifies each old record whatever this machine's arithmetic: exit 0 or 3, never 1."""
    for recorded in RECORDED:
        result = run(runner, old_db, "audit", recorded["session_id"], "--expect-head", recorded["head_hash"],
                     "--json", codes=(0, 3))
        [item] = json.loads(result.stdout)["sessions"]
        assert {c["check"]: c["ok"] for c in item["checks"]}["head"]
