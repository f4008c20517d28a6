"""Shared fixtures: a database path in tmp_path, a CLI runner, and hypothesis profiles."""

import json
import os

import pytest
from hypothesis import settings
from typer.testing import CliRunner

import cli

# the throwaway PostgreSQL server and its fixtures (pg_server, pg_url); they start it only when used
pytest_plugins = ("pgserver",)

settings.register_profile("default", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture
def db_path(tmp_path):
    """A path for a fresh database file (not created yet)."""
    return str(tmp_path / "log.db")


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def nnreplay(runner, db_path):
    """Run the CLI against `db_path`: nnreplay("next", sid, "-n", "3") -> click Result (stdout/stderr apart)."""

    def run(*args, ok=True, input=None):
        result = runner.invoke(cli.app, ["--db", db_path, *map(str, args)], input=input, catch_exceptions=not ok)
        if ok:
            assert result.exit_code == 0, f"exit {result.exit_code}: {result.stderr}"
        return result

    run.json = lambda *args: json.loads(run(*args).stdout)
    run.db = db_path
    return run
