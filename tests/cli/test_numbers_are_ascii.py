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


@pytest.mark.parametrize("hidden", ["²", "８", "8,٣", " 8", "1_0"])
def test_hidden_sizes_are_ascii_digits(nnreplay, hidden):
    result = nnreplay("new", "--hidden", hidden, ok=False)
    assert result.exit_code == 1 and result.stderr.startswith("Error: --hidden takes layer sizes in ASCII digits")
    assert result.stderr.count("\n") == 1


def test_a_schema_version_in_other_digits_is_not_an_unexpected_error(nnreplay, db_path):
    """meta.schema_version '²' was "unexpected ValueError"."""
    nnreplay("new", "--name", "first")
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE meta SET value = '²' WHERE key = 'schema_version'")
    result = nnreplay("sessions", ok=False)
    assert result.exit_code == 1 and "has no nnreplay schema version" in result.stderr
