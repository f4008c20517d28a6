"""Bad input: every refused request exits 1 (2 for usage), says what is wrong in one line on stderr, prints
no traceback, and leaves the database byte for byte as it was.

"Unchanged" is checked twice: a sha256 of the database file, and the row count of every table.
"""

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

import pytest

import cli
from engine import Next, Settings
from store import EventLog

TABLES = ("meta", "sessions", "events", "snapshots")
NOBODY = 65534


@pytest.fixture
def db(db_path):
    """A database with a thompson session `th` (121 events, so with a snapshot) and a gradient session `g`."""
    with EventLog(db_path) as log:
        th = log.new_session(Settings(learner="thompson", seed=1), name="th")
        log.record(th.id, [Next()] * 120)
        log.new_session(Settings(learner="gradient", seed=2), name="g")
    return db_path


def fingerprint(path: str) -> tuple:
    """sha256 of the file's bytes, then the row count of every table (None when unreadable)."""
    with open(path, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            counts = tuple(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in TABLES)
    except sqlite3.DatabaseError:
        counts = None
    return digest, counts


def refused(runner, db_path: str, *args, code: int = 1) -> str:
    """Runs the CLI in-process; asserts the exit code, one Error line, no escaped exception; returns it."""
    result = runner.invoke(cli.app, ["--db", db_path, *map(str, args)])
    assert result.exit_code == code, (args, result.exit_code, result.stdout, result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.stderr + result.stdout
    if code == 1:
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
        assert result.stdout == ""
    return result.stderr


CASES = [
    (("next", "nope"), "no session with id, id prefix or name 'nope'"),
    (("show", "ffff"), "no session with id, id prefix or name 'ffff'"),
    (("next", ""), "no session with id, id prefix or name ''"),
    (("new", "--name", "th"), "the name 'th' is taken"),
    (("rate", "th", "superb"), "unknown button 'superb'"),
    (("rate", "g", "good"), "feedback buttons train thompson sessions"),
    (("next", "th", "-n", "0"), "count must be from 1"),
    (("next", "th", "-n", "-5"), "count must be from 1"),
    (("next", "th", "-n", "1000000000"), "count must be from 1"),
    (("next", "th", "-n", "9" * 40), "count must be from 1"),
    (("new", "--points", "0"), "points must be from 1"),
    (("new", "--points", "1000000000"), "points must be from 1"),
    (("new", "--noise", "-0.01"), "noise"),
    (("new", "--noise", "0.51"), "noise"),
    (("new", "--noise", "nan"), "noise"),
    (("new", "--lr", "0"), "learning rate"),
    (("new", "--lr", "-1"), "learning rate"),
    (("new", "--lr", "nan"), "learning rate"),
    (("new", "--lr", "inf"), "learning rate"),
    (("new", "--lr", "1e999"), "learning rate"),
    (("new", "--name", ""), "name cannot be empty"),
    (("new", "--name", "x" * 201), "at most 200 characters"),
    (("new", "--learner", "adam"), "unknown learner 'adam'"),
    (("show", "th", "--at", "0"), "outside this session's history"),
    (("show", "th", "--at", "122"), "outside this session's history"),
    (("fork", "th", "--at", "500"), "--at must be a seq"),
    (("export", "th", "-o", "/nonexistent-folder/th.jsonl"), "does not exist"),
    (("replay", "th", "-o", "/nonexistent-folder/th.gif"), "does not exist"),
    (("frame", "th", "-o", "/nonexistent-folder/th.png"), "does not exist"),
    (("simulate", "--learner", "thompson", "--presses", "0"), "Error: --presses must be from 1"),
]


@pytest.mark.parametrize("args, message", CASES, ids=[" ".join(a)[:40] for a, _ in CASES])
def test_refused_request_names_the_problem_and_writes_nothing(runner, db, args, message):
    """Each refusal exits 1 with one `Error:` line naming the problem, and the database is unchanged."""
    before = fingerprint(db)
    assert message in refused(runner, db, *args)
    assert fingerprint(db) == before


@pytest.mark.parametrize("args", [("next", "th", "-n", "abc"), ("new", "--points", "many"), ("rate", "th"),
                                  ("new", "--bogus"), ("show",)])
def test_usage_errors_exit_2_and_write_nothing(runner, db, args):
    """A malformed command line is a usage error: exit 2, no traceback, the database unchanged."""
    before = fingerprint(db)
    refused(runner, db, *args, code=2)
    assert fingerprint(db) == before


def test_output_path_that_is_a_directory_is_refused(runner, db, tmp_path):
    """`export -o` naming a directory is refused with the path given, and leaves no stray file behind."""
    before = sorted(os.listdir(tmp_path))
    assert f"{tmp_path} is a directory" in refused(runner, db, "export", "th", "-o", tmp_path)
    assert sorted(os.listdir(tmp_path)) == before


def test_ambiguous_prefix_is_refused(runner, db_path):
    """An id prefix shared by two sessions is refused as ambiguous, listing both, and writes nothing."""
    with EventLog(db_path) as log:
        log.conn.execute("PRAGMA synchronous = OFF")  # only to make the few hundred sessions quick
        seen = {}
        while True:
            info = log.new_session(Settings(seed=len(seen)))
            if info.id[:4] in seen:
                break
            seen[info.id[:4]] = info.id
    before = fingerprint(db_path)
    message = refused(runner, db_path, "next", info.id[:4])
    assert "matches several sessions" in message
    assert seen[info.id[:4]][:12] in message and info.id[:12] in message
    assert fingerprint(db_path) == before


# -- the database file itself ------------------------------------------------------------------------------
def damaged_copies(db: str, folder) -> dict[str, str]:
    """Copies of `db` damaged in the ways a wrong --db or a failing disk produces."""
    size = os.path.getsize(db)
    paths = {kind: str(folder / f"{kind}.db") for kind in ("truncated", "overwritten", "header")}
    for path in paths.values():
        shutil.copy(db, path)
    with open(paths["truncated"], "r+b") as handle:
        handle.truncate(size // 2)
    with open(paths["overwritten"], "r+b") as handle:  # the middle pages: events of `th`
        handle.seek(size // 3)
        handle.write(os.urandom(size // 3))
    with open(paths["header"], "r+b") as handle:  # past the magic string: page 1's b-tree and schema
        handle.seek(100)
        handle.write(b"\x13" * 3000)
    return paths


@pytest.mark.parametrize("kind", ["truncated", "overwritten", "header"])
def test_damaged_database_is_refused_in_one_line(runner, db, tmp_path, kind):
    """A truncated or overwritten database: reading the whole log fails with one line saying it is damaged."""
    path = damaged_copies(db, tmp_path)[kind]
    before = fingerprint(path)
    message = refused(runner, path, "log", "th")
    assert "damaged" in message or "cannot be read" in message
    refused(runner, path, "next", "th")
    assert fingerprint(path) == before


def test_newer_schema_is_refused_and_left_alone(runner, db):
    """A database whose schema_version is newer than this nnreplay's is refused for reading and writing."""
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.close()
    before = fingerprint(db)
    for args in (("sessions",), ("show", "th"), ("next", "th"), ("new",)):
        assert "written by a newer nnreplay (database schema 99" in refused(runner, db, *args)
    assert fingerprint(db) == before


@pytest.mark.parametrize("where, message", [("directory", "is a directory"),
                                            ("missing folder", "does not exist"),
                                            ("text file", "not an SQLite file"),
                                            ("other sqlite", "not an nnreplay one"),
                                            ("empty path", "the database path is empty")])
def test_wrong_db_path_is_refused(runner, tmp_path, where, message):
    """--db naming a directory, a missing folder, a text file, another's database or nothing: one line, no file."""
    path = {"directory": str(tmp_path), "missing folder": str(tmp_path / "no" / "such.db"),
            "text file": str(tmp_path / "notes.txt"), "other sqlite": str(tmp_path / "other.db"),
            "empty path": ""}[where]
    (tmp_path / "notes.txt").write_text("shopping list\n")
    with sqlite3.connect(tmp_path / "other.db") as conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.close()
    before = sorted(os.listdir(tmp_path))
    for args in (("new",), ("next", "th"), ("sessions",)):
        assert message in refused(runner, path, *args)
    assert sorted(os.listdir(tmp_path)) == before


WRITES = (("next", "th"), ("rate", "th", "good"), ("new",), ("fork", "th", "--at", "3"))


@contextlib.contextmanager
def as_nobody():
    """Run the enclosed code with the effective uid of `nobody`, which file permissions bind."""
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)


@pytest.fixture
def read_only(db, runner):
    """(path, identity): a read-only copy of `db`, and the context to run commands in so that it binds.

    Root ignores chmod, and tests often run as root in containers. As root the file is made immutable
    (`chattr +i`), which binds root too; where that capability is missing (a default Docker container),
    commands run under nobody's uid against a chmod 444 file in a folder nobody can reach. Other users
    simply get chmod 444.
    """
    if os.geteuid() != 0:
        os.chmod(db, 0o444)
        yield db, contextlib.nullcontext
        os.chmod(db, 0o644)
    elif subprocess.run(["chattr", "+i", db], capture_output=True).returncode == 0:
        yield db, contextlib.nullcontext
        subprocess.run(["chattr", "-i", db], check=True, capture_output=True)
    else:
        folder = tempfile.mkdtemp(prefix="nnreplay-ro-")
        os.chmod(folder, 0o777)  # nobody may create the WAL's side files, not write the database
        path = shutil.copy(db, folder)
        os.chmod(path, 0o444)
        for args in WRITES:  # as root first, so that every lazily imported module is loaded already
            runner.invoke(cli.app, ["--db", str(tempfile.gettempdir()) + "/no/such/folder.db", *args])
        yield path, as_nobody
        shutil.rmtree(folder)


def test_read_only_database_refuses_writes_and_still_reads(runner, read_only):
    """A read-only database: presses and new sessions exit 1 saying so, the file is unchanged, show still works."""
    path, identity = read_only
    before = fingerprint(path)
    with identity():
        with pytest.raises(OSError):
            open(path, "ab").close()  # the file really is read-only to the commands below
        for args in WRITES:
            assert "read-only" in refused(runner, path, *args)
        shown = runner.invoke(cli.app, ["--db", path, "show", "th", "--json"])
    assert shown.exit_code == 0 and '"seq": 121' in shown.stdout
    assert fingerprint(path) == before


# -- names are data --------------------------------------------------------------------------------------
NAMES = ["it's \"quoted\"", "x'; DROP TABLE events; --", "two\nlines", "tab\there", "🧠 perceptron ✨",
         "%_\\ wild", "名前"]


def test_awkward_names_are_stored_and_shown_as_given(runner, db_path):
    """Quotes, SQL, newlines, tabs, emoji and LIKE wildcards in names are kept verbatim and resolve exactly."""
    ids = {}
    for name in NAMES:
        result = runner.invoke(cli.app, ["--db", db_path, "new", "--name", name, "--seed", "3"])
        assert result.exit_code == 0, result.stderr
        ids[name] = result.stdout.strip()
    listing = json.loads(runner.invoke(cli.app, ["--db", db_path, "sessions", "--json"]).stdout)
    assert {item["name"]: item["id"] for item in listing} == ids
    for name in NAMES:
        shown = runner.invoke(cli.app, ["--db", db_path, "show", name, "--json"])
        assert shown.exit_code == 0, shown.stderr
        state = json.loads(shown.stdout)
        assert (state["name"], state["session_id"]) == (name, ids[name])
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == len(NAMES)


def test_no_traceback_from_a_real_process_on_a_damaged_database(db, tmp_path):
    """The installed entry point, run as a real process on a damaged file, prints one line and no traceback."""
    path = damaged_copies(db, tmp_path)["header"]
    result = subprocess.run([sys.executable, "-m", "cli", "--db", path, "sessions"], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
