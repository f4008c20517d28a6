"""The class commands of the CLI (sessions --class, class list, class show, replay --class, import of a class
export) on SQLite files and on PostgreSQL, with classes made through the service as `serve --class` makes them."""

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

import cli
import service
from service import classes
from store import open_log

DATA = Path(__file__).resolve().parent.parent / "data"


def token(n) -> str:
    return hashlib.sha256(f"t{n}".encode()).hexdigest()


def make_class(db: str, students=("Ana", "Ana", "Bo")) -> list:
    """The class "Year 9" (supervised, 16 points) with `students` who pressed Next 1, 2, 3... times."""
    with open_log(db, create=True) as log:
        classes.open_class(log, "Year 9", lesson="supervised", points=16)
        joined = []
        for i, name in enumerate(students):
            info, shown = classes.join(log, "Year 9", name, token(i))
            service.record(log, info.id, "next", i + 1)
            joined.append((info, shown))
        return joined


@pytest.fixture
def pg(runner, pg_url):
    def run(*args, ok=True):
        result = runner.invoke(cli.app, ["--db", pg_url, *map(str, args)], catch_exceptions=not ok)
        if ok:
            assert result.exit_code == 0, f"exit {result.exit_code}: {result.stderr}"
        return result

    run.db = pg_url
    run.json = lambda *args: json.loads(run(*args).stdout)
    return run


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request, nnreplay):
    """The CLI on an SQLite file, then on a fresh PostgreSQL database."""
    return nnreplay if request.param == "sqlite" else request.getfixturevalue("pg")


def test_class_list_and_show_give_the_students_table(any_db):
    joined = make_class(any_db.db)
    [listed] = any_db.json("class", "list", "--json")
    assert (listed["name"], listed["lesson"], listed["students"], listed["paused"]) == ("Year 9", "supervised", 3, False)
    shown = any_db.json("class", "show", "Year 9", "--json")
    assert [s["name"] for s in shown["students"]] == ["Ana", "Ana 2", "Bo"]
    assert [s["presses"] for s in shown["students"]] == [1, 2, 3]
    assert [s["session"] for s in shown["students"]] == [info.id for info, _ in joined]
    assert all("token_hash" not in s for s in shown["students"])
    table = any_db("class", "show", "Year 9").stdout.splitlines()
    assert table[0] == "class Year 9: supervised lesson (gradient), running, 3 students"
    assert table[1].split() == ["student", "session", "presses", "accuracy", "score", "held-out", "joined"]
    assert table[3].startswith("Ana 2 ") and joined[1][0].id[:12] in table[3]
    assert "Year 9" in any_db("class", "list").stdout


def test_sessions_class_lists_only_that_class(any_db):
    joined = make_class(any_db.db, students=("Ana",))
    any_db("new", "--seed", "1", "--name", "outsider")
    listed = any_db.json("sessions", "--class", "Year 9", "--json")
    assert [(s["name"], s["role"], s["student"]) for s in listed] == \
        [("Year 9", "class", None), ("Year 9/Ana", "student", "Ana")]
    assert listed[1]["id"] == joined[0][0].id
    table = any_db("sessions", "--class", "Year 9").stdout
    assert "Year 9/Ana" in table and "outsider" not in table


def test_an_unknown_class_is_one_line_and_exit_1(any_db):
    make_class(any_db.db, students=())
    for args in (("class", "show", "Nope"), ("sessions", "--class", "Nope")):
        result = any_db(*args, ok=False)
        assert result.exit_code == 1 and result.stdout == ""
        assert result.stderr == "Error: no class named 'Nope'; the classes are: Year 9\n"


def test_usage_errors_exit_2(nnreplay):
    make_class(nnreplay.db, students=("Ana",))
    assert nnreplay("class", ok=False).exit_code == 2
    both = nnreplay("replay", "Year 9", "--class", "Year 9", "-o", "x.gif", ok=False)
    assert both.exit_code == 2 and "one of the two" in both.stderr
    assert nnreplay("replay", "-o", "x.gif", ok=False).exit_code == 2


def test_pause_shows_and_audit_holds_on_a_class(nnreplay):
    make_class(nnreplay.db)
    with open_log(nnreplay.db) as log:
        classes.set_paused(log, "Year 9", True)
    assert nnreplay.json("class", "show", "Year 9", "--json")["class"]["paused"] is True
    assert "paused" in nnreplay("class", "show", "Year 9").stdout.splitlines()[0]
    report = nnreplay.json("audit", "--json")
    assert report["ok"] and all(s["checks"][-1]["check"] == "class" for s in report["sessions"])
    events = nnreplay.json("log", "Year 9", "--json")
    assert [e["type"] for e in events] == ["session_started", "class_paused"]


def test_the_cli_does_not_enforce_a_pause(nnreplay):
    """The teacher at the terminal is trusted: `next` on a student's session of a paused class is recorded."""
    [(ana, _)] = make_class(nnreplay.db, students=("Ana",))
    with open_log(nnreplay.db) as log:
        classes.set_paused(log, "Year 9", True)
    nnreplay("next", ana.id)
    assert nnreplay.json("show", ana.id, "--json")["seq"] == 3


def test_replay_class_puts_every_students_board_side_by_side(nnreplay, tmp_path):
    make_class(nnreplay.db)
    out = tmp_path / "class.gif"
    result = nnreplay("replay", "--class", "Year 9", "-o", str(out), "--max-frames", "4")
    assert "frames" in result.stdout
    with Image.open(out) as gif:
        assert gif.n_frames == 4  # Bo pressed 3 times: steps 0..3, the others held at their last
        assert gif.size[0] == 3 * 480


def test_a_class_export_imported_elsewhere_audits_clean_and_shows_the_same_table(nnreplay, runner, tmp_path):
    make_class(nnreplay.db)
    export = tmp_path / "class.jsonl"
    with open_log(nnreplay.db) as log:
        export.write_text("".join(classes.class_export(log, "Year 9")))
    other = str(tmp_path / "other.db")
    imported = runner.invoke(cli.app, ["--db", other, "import", str(export)])
    assert imported.exit_code == 0, imported.stderr
    assert len(imported.stdout.split()) == 4  # the record and three students, each id on its line
    audited = runner.invoke(cli.app, ["--db", other, "audit"])
    assert audited.exit_code == 0, audited.stdout
    shown = runner.invoke(cli.app, ["--db", other, "class", "show", "Year 9"])
    assert shown.stdout == nnreplay("class", "show", "Year 9").stdout
    again = runner.invoke(cli.app, ["--db", other, "import", str(export)])
    assert again.exit_code == 1 and "nothing of this file was imported" in again.stderr
    renamed = runner.invoke(cli.app, ["--db", other, "import", str(export), "--name", "x-copy"])
    assert renamed.exit_code == 1 and renamed.stderr.startswith("Error: --name renames one session")


def test_read_only_commands_write_nothing_to_an_old_database(runner, tmp_path):
    """class list, class show and sessions --class on release 0.1.0's file leave every byte as it was."""
    path = tmp_path / "old.db"
    shutil.copy(DATA / "release-0.1.0.db", path)
    before = path.read_bytes()
    listed = runner.invoke(cli.app, ["--db", str(path), "class", "list"])
    assert listed.exit_code == 0 and "no classes" in listed.stderr
    assert runner.invoke(cli.app, ["--db", str(path), "class", "list", "--json"]).stdout.strip() == "[]"
    assert runner.invoke(cli.app, ["--db", str(path), "class", "show", "x"]).exit_code == 1
    assert path.read_bytes() == before
    assert not (tmp_path / "old.db-wal").exists() or (tmp_path / "old.db-wal").stat().st_size == 0


def test_every_class_command_has_help_with_an_example(runner):
    for args in (["class", "list"], ["class", "show"], ["sessions"], ["replay"]):
        text = runner.invoke(cli.app, [*args, "--help"]).stdout
        assert "Example: nnreplay" in text and ("--class" in text or args[0] == "class")
