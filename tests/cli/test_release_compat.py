"""Logs recorded by release 0.1.0 replay, audit and continue bit for bit under this release."""

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


def run(runner, db, *args):
    import cli

    result = runner.invoke(cli.app, ["--db", db, *map(str, args)], catch_exceptions=False)
    assert result.exit_code == 0, f"exit {result.exit_code}: {result.stderr}"
    return result


def test_the_old_database_audits_clean(runner, old_db):
    """Every session of the old database verifies: chain, digests, re-decided draws."""
    result = run(runner, old_db, "audit", "--json")
    report = json.loads(result.stdout)
    assert report["ok"] and len(report["sessions"]) == len(RECORDED)
    assert all(item["ok"] for item in report["sessions"])


@pytest.mark.parametrize("recorded", RECORDED, ids=[s["name"] for s in RECORDED])
def test_old_sessions_rebuild_to_the_recorded_heads(runner, old_db, recorded):
    """Head hash, state digest, weights, bias and loss are exactly those release 0.1.0 printed."""
    shown = json.loads(run(runner, old_db, "show", recorded["session_id"], "--json").stdout)
    for key in ("seq", "head_hash", "digest", "weights", "bias", "loss", "accuracy", "score", "settings"):
        assert shown[key] == recorded[key], key
    assert shown["model"] == {"features": ["x", "y"], "hidden": [], "activation": None}
    assert shown["params"] == {"W1": [[recorded["weights"][0]], [recorded["weights"][1]]],
                               "b1": [recorded["bias"]]}


@pytest.mark.parametrize("name", ["gradient-lr1", "thompson-next", "thompson-buttons"])
def test_old_sessions_continue_and_still_audit_clean(runner, old_db, name):
    """A few new presses on an old session append to its chain, and the whole log audits clean."""
    run(runner, old_db, "next", name, "-n", "3")
    if name == "thompson-buttons":
        run(runner, old_db, "rate", name, "good")
    shown = json.loads(run(runner, old_db, "show", name, "--json").stdout)
    recorded = next(s for s in RECORDED if s["name"] == name)
    assert shown["seq"] == recorded["seq"] + (4 if name == "thompson-buttons" else 3)
    report = json.loads(run(runner, old_db, "audit", name, "--json").stdout)
    assert report["ok"] and all(item["ok"] for item in report["sessions"])
