"""Issue 17, item 11: numbers on the command line are ASCII digits, and a bad one is refused naming its
option, never as "unexpected ValueError" (int() and float() also read "1_0", "٣", "８" and " 3")."""

import sqlite3

import pytest

import cli


@pytest.mark.parametrize("args, option", [
    (["show", "x", "--at", "1_0"], "--at"),
    (["show", "x", "--at", "٣"], "--at"),
    (["new", "--points", "８"], "--points"),
    (["new", "--seed", "²"], "--seed"),
    (["new", "--lr", "١"], "--lr"),
    (["new", "--lr", "1_0"], "--lr"),
    (["new", "--noise", "０.1"], "--noise"),
    (["next", "x", "-n", "9" * 5000], "--count"),
    (["serve", "--port", "٣"], "--port"),
    (["serve", "--port", "70000"], "--port"),
])
def test_a_number_not_in_ascii_digits_is_a_usage_error_naming_its_option(runner, db_path, args, option):
    result = runner.invoke(cli.app, ["--db", db_path, *args])
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert option in result.stderr and "unexpected" not in result.stderr and "9" * 200 not in result.stderr


@pytest.mark.parametrize("hidden", ["²", "８", "8,٣", "\t8", "1_0"])
def test_hidden_sizes_are_ascii_digits(nnreplay, hidden):
    result = nnreplay("new", "--hidden", hidden, ok=False)
    assert result.exit_code == 1 and result.stderr.startswith("Error: --hidden takes layer sizes separated by commas")
    assert result.stderr.count("\n") == 1


def test_a_schema_version_in_other_digits_is_not_an_unexpected_error(nnreplay, db_path):
    """meta.schema_version '²' was "unexpected ValueError"."""
    nnreplay("new", "--name", "first")
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE meta SET value = '²' WHERE key = 'schema_version'")
    result = nnreplay("sessions", ok=False)
    assert result.exit_code == 1 and "has no nnreplay schema version" in result.stderr


def test_a_diverging_run_is_refused_by_name_and_writes_nothing(nnreplay, db_path):
    """Item 12: --lr 100, linear 64,64 on noisy spiral reached NaN at seq 8, then every press said "other
    writers kept appending" (the heads row's NOT NULL) with nobody writing; numpy's warnings reached stderr;
    `next` printed a loss of 190 digits. Now the press that diverges is refused naming the press and lr,
    with exactly one line on stderr, and its batch is not written."""
    nnreplay("new", "--name", "div", "--seed", "7", "--lr", "100", "--activation", "linear", "--hidden", "64,64",
             "--data", "spiral", "--noise", "0.3")
    refused = nnreplay("next", "div", "-n", "20", ok=False)
    assert refused.exit_code == 1 and refused.stderr.count("\n") == 1, refused.stderr
    assert "the run diverged at press" in refused.stderr and "learning rate lr (it is 100)" in refused.stderr
    assert "Warning" not in refused.stderr and "other writers" not in refused.stderr
    assert nnreplay.json("show", "div", "--json")["seq"] == 1
    diverging = int(refused.stderr.split("at press ")[1].split()[0])
    printed = nnreplay("next", "div", "-n", diverging - 1)
    loss = printed.stdout.split("loss ")[1].split()[0]
    assert len(loss) < 12 and printed.stderr == "", (printed.stdout, printed.stderr)
    assert nnreplay("audit", "div").exit_code == 0
