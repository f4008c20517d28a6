"""The golden corpus: sessions recorded by this release in portable arithmetic (tests/data/make_golden.py:
every data set, model, activation, both learners, the buttons, held-out points, a fork, an import and a
re-press) re-derive, on whatever machine runs the suite, to the digests and head hashes committed with them."""

import json
import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "data"
GOLDEN = json.loads((DATA / "golden-portable.json").read_text())["sessions"]


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    """A copy of the committed corpus: the file itself is never written."""
    path = tmp_path_factory.mktemp("golden") / "golden.db"
    shutil.copy(DATA / "golden-portable.db", path)
    return str(path)


def run(db, *args):
    import cli
    from typer.testing import CliRunner

    return CliRunner().invoke(cli.app, ["--db", db, *args])


def test_the_corpus_audits_clean_here(golden):
    """Every check of every session holds on this machine: chain, schemas, each digest, each decision."""
    result = run(golden, "audit", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["ok"], [s for s in report["sessions"] if not s["ok"]]
    assert {s["name"] for s in report["sessions"]} == {s["name"] for s in GOLDEN}
    assert all(s["arithmetic"] == "portable-1" for s in report["sessions"])


@pytest.mark.parametrize("recorded", GOLDEN, ids=[s["name"] for s in GOLDEN])
def test_each_session_folds_to_its_committed_digests(golden, recorded):
    """The head hash and the digest this machine folds at the head and at sampled seqs are the committed ones."""
    shown = json.loads(run(golden, "show", recorded["session_id"], "--json").stdout)
    assert (shown["seq"], shown["head_hash"], shown["digest"], shown["replay"]) == \
        (recorded["seq"], recorded["head_hash"], recorded["digest"], "as recorded")
    for seq, digest in recorded["digests"].items():
        assert json.loads(run(golden, "show", recorded["session_id"], "--at", seq, "--json").stdout)["digest"] == digest


def test_the_repressed_session_names_its_origin(golden):
    """The re-press in the corpus records the original's id, head hash and the changed setting."""
    by_name = {s["name"]: s for s in GOLDEN}
    shown = json.loads(run(golden, "show", "thompson-buttons-repressed", "--json").stdout)
    original = by_name["thompson-buttons"]
    assert shown["origin"] == {"session_id": original["session_id"], "head_hash": original["head_hash"],
                               "seq": original["seq"], "changed": ["discount"]}
