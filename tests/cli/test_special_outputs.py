"""An export to a device, a pipe or a FIFO writes into it, never over it: renaming a finished temporary file
onto `/dev/null` as root replaced the device node with a plain file (found in review, issue 9 class 1)."""

import json
import os
import stat

import pytest


@pytest.fixture
def recorded(nnreplay):
    nnreplay("new", "--seed", "1", "--name", "a")
    nnreplay("next", "a", "-n", "4")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_an_export_into_a_fifo_is_written_through_it(nnreplay, recorded, tmp_path):
    """`export -o FIFO` streams the export into the FIFO, which is still a FIFO afterwards (a rename would
    have replaced it, as it replaced /dev/null). A FIFO stands in for /dev/null and /dev/stdout, which a
    regression would destroy for the whole machine when the suite runs as root."""
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    # a reader first, so that the writer's open returns; five events fit in the pipe's buffer
    read_end = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        result = nnreplay("export", "a", "-o", fifo)
        written = os.read(read_end, 1 << 20)
    finally:
        os.close(read_end)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    lines = written.decode().splitlines()
    assert len(lines) == 6 and json.loads(lines[0])["events"] == 5
    assert result.stderr.startswith(f"{fifo}: 5 events")
    assert sorted(os.listdir(tmp_path)) == ["log.db", "pipe.jsonl"]  # no temporary file left beside it



@pytest.mark.parametrize("command", [["frame", "a", "-o"], ["replay", "a", "--max-frames", "2", "-o"],
                                     ["export", "a", "-o"]])
def test_the_line_naming_what_was_written_escapes_the_path(nnreplay, recorded, tmp_path, command):
    """A path with a newline or ESC is written as given, and named in one line with them escaped."""
    suffix = {"frame": ".png", "replay": ".gif", "export": ".jsonl"}[command[0]]
    path = tmp_path / f"odd\nname\x1b[8m{suffix}"
    result = nnreplay(*command, path)
    assert path.exists()
    said = result.stdout + result.stderr
    assert said.count("\n") == 1 and "odd\\nname\\x1b[8m" in said


def test_an_import_of_a_file_without_line_ends_is_refused_at_a_bound(runner, tmp_path):
    """A file of 17 MB with no line end is refused naming line 1 and the bound, without reading it whole
    (/dev/zero used to be read until memory ran out); nothing is written."""
    import cli

    path = tmp_path / "endless.jsonl"
    with open(path, "wb") as handle:
        handle.write(b"[" * (17 * 2**20))
    result = runner.invoke(cli.app, ["--db", str(tmp_path / "x.db"), "import", str(path)])
    assert (result.exit_code, result.stderr) == (1, f"Error: {path}, line 1: longer than 16 MB without a line end; "
                                                    f"no line of an export is that long\n")
    assert sorted(os.listdir(tmp_path)) == ["endless.jsonl"]


@pytest.mark.parametrize("suffix", ["-wal", "-journal", "-shm"])
def test_no_output_lands_on_another_databases_companion_file(nnreplay, recorded, tmp_path, suffix):
    """Beside the open database's own files, the -wal, -journal or -shm of any other SQLite database is
    refused too: another database's -wal can hold its only copy of committed transactions."""
    import sqlite3

    with sqlite3.connect(tmp_path / "other.db") as conn:
        conn.execute("CREATE TABLE t (x)")
    result = nnreplay("export", "a", "-o", tmp_path / f"other.db{suffix}", ok=False)
    assert result.exit_code == 1 and f"is the {suffix} file of the SQLite database" in result.stderr
    assert not (tmp_path / f"other.db{suffix}").exists()
