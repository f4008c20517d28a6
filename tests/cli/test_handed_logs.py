"""A database or export you are handed, edited where the hash chain does not look (found in review, issue 9
classes 3, 4 and 10): `show` never presents a state the log does not record, a hand-edited heads row never
puts Infinity into `sessions --json`, and parent fields must describe a fork that can exist."""

import hashlib
import json
import math
import os
import shutil
import sqlite3

import pytest

from store.schema import GUARD_TRIGGERS, TRIGGERS_SQL


@pytest.fixture
def recorded(nnreplay):
    nnreplay("new", "--learner", "thompson", "--seed", "2", "--name", "t")
    nnreplay("next", "t", "-n", "6")


def edit(db_path, sql: str, *params) -> None:
    """Run one statement through plain sqlite3 with nnreplay's guards lifted, then put them back."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    for name in GUARD_TRIGGERS:
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute(sql, params)
    conn.executescript(TRIGGERS_SQL)
    conn.close()


def test_show_of_a_log_that_no_longer_folds_to_its_record_says_so(nnreplay, recorded, db_path):
    """The state digest recorded at seq 4 is replaced: `show --at 4` still prints what the events fold to
    (for whoever investigates), then one error pointing to audit, exit 1, with --json too. It used to exit
    0 as if the log were sound, while `sessions` called the same session BROKEN."""
    edit(db_path, "UPDATE events SET state_digest = ? WHERE seq = 4", "0" * 64)
    result = nnreplay("show", "t", "--at", "4", ok=False)
    assert result.exit_code == 1 and "seq       4" in result.stdout
    assert result.stderr.startswith("Error: seq 4: folding this log gives another state than the one recorded "
                                    "there") and result.stderr.endswith("run `nnreplay audit`\n")
    as_json = nnreplay("show", "t", "--at", "4", "--json", ok=False)
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["seq"] == 4 and "recorded 000000000000" in as_json.stderr
    assert nnreplay("show", "t", "--at", "3").exit_code == 0  # the seqs before it are as recorded
    assert nnreplay("show", "t").exit_code == 0


@pytest.mark.parametrize("column, value", [("accuracy", math.inf), ("loss", -1.0), ("score", 0.5),
                                           ("accuracy", 7.0), ("loss", "0.1")])
def test_a_heads_row_with_impossible_metrics_is_not_believed(nnreplay, recorded, db_path, column, value):
    """A heads row that claims the head's hash with metrics the engine cannot produce is folded past:
    `sessions --json` stays strict JSON with the replayed metrics (it printed `Infinity`)."""
    truth = nnreplay.json("show", "t", "--json")
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"UPDATE heads SET {column} = ?", (value,))
    text = nnreplay("sessions", "--json").stdout
    [listed] = json.loads(text, parse_constant=lambda constant: pytest.fail(f"{constant} in sessions --json"))
    assert (listed["accuracy"], listed["loss"], listed["score"]) == (truth["accuracy"], truth["loss"], truth["score"])


def export_lines(nnreplay, tmp_path) -> list[dict]:
    path = tmp_path / "t.jsonl"
    nnreplay("export", "t", "-o", path)
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("parent", ["itself", "past-the-end"])
def test_parent_fields_must_describe_a_possible_fork(nnreplay, recorded, db_path, tmp_path, runner, parent):
    """A fork shares events 1..parent_seq of another session: an import whose parent is itself, or whose
    parent_seq lies past its own events, is refused naming the fields; audit fails the same sessions row."""
    import cli

    header, *events = export_lines(nnreplay, tmp_path)
    own = header["session"]["id"]
    header["session"].update(parent_id=own if parent == "itself" else "a" * 32,
                             parent_seq=3 if parent == "itself" else len(events) + 1)
    path = tmp_path / "forged.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in [header, *events]))
    result = runner.invoke(cli.app, ["--db", str(tmp_path / "other.db"), "import", str(path)])
    assert result.exit_code == 1 and "line 1: fields session.parent_id and session.parent_seq" in result.stderr
    assert not (tmp_path / "other.db").exists()

    edit(db_path, "UPDATE sessions SET parent_id = ?, parent_seq = ?",
         header["session"]["parent_id"], header["session"]["parent_seq"])
    audited = nnreplay("audit", "t", ok=False)
    assert audited.exit_code == 1 and "FAIL  3 parse      parent_id and parent_seq name no fork" in audited.stdout


def test_replay_frame_and_plot_do_not_draw_a_log_that_does_not_fold_to_its_record(nnreplay, recorded, db_path,
                                                                                  tmp_path):
    """After an edit the chain does not see (the digest recorded at seq 5), replay and frame up to it are
    refused with a pointer to audit and write no file; plot leaves the session out and says where it breaks.
    Events before the edit still draw. They used to draw the edited log as if it were sound."""
    edit(db_path, "UPDATE events SET state_digest = ? WHERE seq = 5", "0" * 64)
    for command in (["replay", "t", "-o", tmp_path / "t.gif"], ["frame", "t", "--at", "5", "-o", tmp_path / "t.png"]):
        result = nnreplay(*command, ok=False)
        assert result.exit_code == 1 and result.stderr == (
            "Error: t: folding its log does not give the state recorded at seq 5, so it is not drawn; run "
            "`nnreplay audit`\n")
    assert not (tmp_path / "t.gif").exists() and not (tmp_path / "t.png").exists()
    plotted = nnreplay("plot", "t", "-o", tmp_path / "p.png", ok=False)
    assert plotted.exit_code == 1 and "cannot be read at seq 5" in plotted.stderr
    nnreplay("replay", "t", "--to", "4", "-o", tmp_path / "early.gif")
    nnreplay("frame", "t", "--at", "4", "-o", tmp_path / "early.png")


RELEASE_DB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "release-0.1.0.db")


@pytest.mark.parametrize("args", [("rate", "gradient-lr1", "good"), ("new", "--name", "person-2"),
                                  ("fork", "person-1", "--at", "3", "--name", "person-2")],
                         ids=["button-on-gradient", "new-name-taken", "fork-name-taken"])
def test_a_refused_request_leaves_an_older_database_byte_for_byte(runner, tmp_path, args):
    """On a database recorded by release 0.1.0, a request refused for its press or its name changes not a
    byte: it used to open the file for writing first (WAL, the heads cache added and filled) and only then
    find the refusal. Refused by reading, before any write."""
    import cli

    db = tmp_path / "release.db"
    shutil.copyfile(RELEASE_DB, db)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    result = runner.invoke(cli.app, ["--db", str(db), *args])
    assert result.exit_code == 1 and result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert sorted(os.listdir(tmp_path)) == ["release.db"]


def test_an_import_under_a_taken_name_leaves_an_older_database_byte_for_byte(runner, tmp_path):
    import cli

    db = tmp_path / "release.db"
    shutil.copyfile(RELEASE_DB, db)
    export = tmp_path / "p.jsonl"
    assert runner.invoke(cli.app, ["--db", str(db), "export", "person-1", "-o", str(export)]).exit_code == 0
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    result = runner.invoke(cli.app, ["--db", str(db), "import", str(export), "--name", "person-2"])
    assert result.exit_code == 1 and "the name 'person-2' is taken" in result.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_show_takes_the_learner_from_the_log_not_the_sessions_table(nnreplay, recorded, db_path):
    """The sessions table is not hashed: a learner edited there is what audit reports, never what show
    presents (it printed the table's word beside the log's thompson settings)."""
    edit(db_path, "UPDATE sessions SET learner = 'gradient'")
    assert "learner   thompson   seed 2" in nnreplay("show", "t").stdout
    assert nnreplay.json("show", "t", "--json")["learner"] == "thompson"
    assert "sessions table says gradient" in nnreplay("audit", "t", ok=False).stdout


def test_plot_groups_by_the_learner_the_log_records(nnreplay, recorded, db_path, tmp_path):
    """A learner edited in the sessions table does not move a session to another group of the plot."""
    edit(db_path, "UPDATE sessions SET learner = 'gradient'")
    rows = nnreplay("plot", "t", "-o", tmp_path / "p.png").stdout.splitlines()
    assert rows[1].startswith("thompson by Next ")


def test_a_session_with_an_old_hex_name_can_be_imported_under_a_new_one(runner, tmp_path):
    """Release 0.1.0 allowed a name like `cafe`; its export is refused as is (the message says --name helps),
    and imports under --name, keeping its id and head hash."""
    import cli

    db = tmp_path / "release.db"
    shutil.copyfile(RELEASE_DB, db)
    with sqlite3.connect(db) as conn:  # what 0.1.0 let a user do: `new --name cafe`
        conn.execute("UPDATE sessions SET name = 'cafe' WHERE name = 'person-1'")
    export = tmp_path / "cafe.jsonl"
    assert runner.invoke(cli.app, ["--db", str(db), "export", "person-1", "-o", str(export)]).exit_code == 1
    assert runner.invoke(cli.app, ["--db", str(db), "export", "b5f8", "-o", str(export)]).exit_code == 0
    other = str(tmp_path / "other.db")
    refused = runner.invoke(cli.app, ["--db", other, "import", str(export)])
    assert refused.exit_code == 1 and refused.stderr.endswith("(or import it under another with --name)\n")
    done = runner.invoke(cli.app, ["--db", other, "import", str(export), "--name", "person-1"])
    assert done.exit_code == 0 and done.stdout.startswith("b5f8")
    assert runner.invoke(cli.app, ["--db", other, "audit", "person-1"]).exit_code == 0


@pytest.mark.parametrize("table, ddl", [
    ("heads", "CREATE TABLE heads (session_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, hash TEXT NOT NULL, "
              "state_digest TEXT NOT NULL, loss REAL, accuracy REAL, score REAL, extra)"),
    ("snapshots", "CREATE TABLE snapshots (session_id TEXT, engine_version TEXT, seq TEXT, state TEXT NOT NULL, "
                  "state_digest TEXT NOT NULL, PRIMARY KEY (session_id, engine_version, seq))")])
def test_audit_names_a_table_of_nnreplays_recreated_with_other_columns(nnreplay, recorded, db_path, table, ddl):
    """A table with nnreplay's name but other columns (an extra one, another type) is as foreign as a table
    nnreplay never made: check 7 names it. It used to pass, since only names were compared."""
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"DROP TABLE {table}")
        conn.execute(ddl)
    audited = nnreplay("audit", "t", ok=False)
    assert audited.exit_code == 1
    assert f"FAIL  7 guards     the table {table} was altered: it is not the one nnreplay creates" in audited.stdout


def test_a_press_on_an_older_database_that_no_longer_folds_to_its_head_changes_no_byte(runner, tmp_path):
    """A release-0.1.0 file whose log was edited after recording (a thompson action swapped behind dropped
    guards, after the last snapshot) refuses a press by reading, before the file is opened for writing: it
    is neither switched to WAL nor given the heads cache by a press that records nothing."""
    import cli
    from store.chain import encode_payload

    db = tmp_path / "release.db"
    shutil.copyfile(RELEASE_DB, db)
    with sqlite3.connect(db) as conn:
        [(sid,)] = conn.execute("SELECT id FROM sessions WHERE name = 'thompson-next'").fetchall()
        [(text,)] = conn.execute("SELECT payload FROM events WHERE session_id = ? AND seq = 240", (sid,)).fetchall()
        payload = json.loads(text)
        payload["action"] = "b-" if payload["action"] != "b-" else "b+"
        conn.execute("DROP TRIGGER events_refuse_update")
        conn.execute("UPDATE events SET payload = ? WHERE session_id = ? AND seq = 240", (encode_payload(payload), sid))
    conn.close()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    result = runner.invoke(cli.app, ["--db", str(db), "next", "thompson-next"])
    assert result.exit_code == 1 and "nnreplay audit" in result.stderr and result.stderr.count("\n") == 1
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert sorted(os.listdir(tmp_path)) == ["release.db"]
