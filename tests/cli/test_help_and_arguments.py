"""The command line itself: every option's and argument's help text reaches the screen whole (a bracketed
"[default: every session]" was read as markup and vanished from `audit --help`), every model option is
offered where sessions are started, and --db is given once."""

import re

import pytest

import cli


def squeezed(text: str) -> str:
    """Text without the help's box drawing, with runs of white space as one space."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


@pytest.mark.parametrize("command", [c.name or c.callback.__name__ for c in cli.app.registered_commands])
def test_every_help_text_is_shown_whole(runner, command):
    info = next(c for c in cli.app.registered_commands if (c.name or c.callback.__name__) == command)
    shown = squeezed(runner.invoke(cli.app, [command, "--help"], env={"COLUMNS": "200"}).stdout)
    import typer.main

    for param in typer.main.get_command_from_info(info, pretty_exceptions_short=True,
                                                  rich_markup_mode="rich").params:
        if getattr(param, "help", None) and not getattr(param, "hidden", False):
            assert squeezed(param.help) in shown, (command, param.name, param.help)


@pytest.mark.parametrize("command", ["new", "simulate"])
def test_the_model_options_are_offered_where_sessions_start(runner, command):
    shown = runner.invoke(cli.app, [command, "--help"], env={"COLUMNS": "200"}).stdout
    for option in ("--data", "--features", "--hidden", "--activation", "--test-share"):
        assert option in shown, (command, option)


def test_db_given_before_and_after_the_command_is_a_usage_error(tmp_path):
    """`nnreplay --db A show x --db B` silently used A (the moved --db B came first, click kept the last);
    two databases named is a usage error, exit 2, naming --db."""
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run([sys.executable, "-c", "import cli; cli.main()", "--db", str(tmp_path / "a.db"), "show",
                           "x", "--db", str(tmp_path / "b.db")], capture_output=True, text=True, cwd=root,
                          env={**os.environ, "PYTHONPATH": root})
    assert done.returncode == 2 and done.stderr.startswith("Error: No such option: --db")
    assert os.listdir(tmp_path) == []


def test_import_from_a_terminal_says_what_it_expects(tmp_path):
    """`import -` with standard input on a terminal used to wait silently for a paste; it says what it
    reads and exits 1, writing nothing."""
    import os
    import pty
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main, terminal = pty.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "cli", "--db", str(tmp_path / "x.db"), "import", "-"],
                              stdin=terminal, capture_output=True, text=True, cwd=root, timeout=30,
                              env={**os.environ, "PYTHONPATH": root})
    finally:
        os.close(main)
        os.close(terminal)
    assert done.returncode == 1 and done.stderr.startswith("Error: import - reads an export from standard input")
    assert os.listdir(tmp_path) == []


def test_the_help_names_the_page(runner):
    """`nnreplay --help` points a first-time user at `serve` as well as `demo`."""
    result = runner.invoke(cli.app, ["--help"])
    assert result.exit_code == 0 and "nnreplay serve --open" in squeezed(result.stdout)
