"""Models at their edges through the CLI, as a new user meets them (found in review): a held-out metric
plotted over sessions that hold nothing out, a perceptron on another data set in `show`, the options'
messages naming the option typed."""

import os

import pytest


@pytest.fixture
def mixed(nnreplay):
    """`held` holds a fifth of its points out; `plain` holds none."""
    nnreplay("new", "--data", "circle", "--features", "x2,y2", "--test-share", "0.2", "--seed", "1", "--name", "held")
    nnreplay("next", "held", "-n", "5")
    nnreplay("new", "--seed", "2", "--name", "plain")
    nnreplay("next", "plain", "-n", "5")


def test_a_held_out_metric_leaves_out_sessions_without_held_out_points(nnreplay, mixed, tmp_path):
    """plot --metric test_accuracy plots the sessions that hold points out and says how many it left out;
    it used to fail with `unexpected TypeError` on the table's final column."""
    result = nnreplay("plot", "held", "plain", "-o", tmp_path / "t.png", "--metric", "test_accuracy", "--at", "3")
    assert (tmp_path / "t.png").stat().st_size > 0
    rows = result.stdout.splitlines()
    assert len(rows) == 2 and rows[1].startswith("gradient · circle, features x2,y2, 20% held out")
    assert "left out 1 session(s) that hold no points out" in result.stderr


def test_a_held_out_metric_over_sessions_without_any_is_one_clear_error(nnreplay, mixed, tmp_path):
    result = nnreplay("plot", "plain", "-o", tmp_path / "t.png", "--metric", "test_loss", ok=False)
    assert result.exit_code == 1 and not (tmp_path / "t.png").exists()
    assert result.stderr == ("Error: --metric test_loss is measured on held-out points, and none of these sessions "
                             "holds any out; start sessions with --test-share (e.g. 0.2)\n")


def test_show_names_the_data_set_of_a_perceptron_on_other_data(nnreplay):
    """A perceptron on x, y trained on spiral said nothing of spiral: its text looked like release 0.1's."""
    nnreplay("new", "--data", "spiral", "--points", "3", "--test-share", "0.3", "--seed", "4", "--name", "sp")
    text = nnreplay("show", "sp").stdout
    assert "\ndata      spiral\n" in text and "held out  1 point   accuracy" in text
    nnreplay("new", "--seed", "4", "--name", "lin")
    assert "data " not in nnreplay("show", "lin").stdout  # release 0.1's text is unchanged


@pytest.mark.parametrize("args, message", [
    (["--points", "2", "--test-share", "0.9"], "Error: --test-share leaves no training point; lower it or add points\n"),
    (["--lr", "nan"], "Error: --lr (the learning rate) must be a number above 0 and at most 100, got nan\n"),
])
def test_a_refused_setting_names_its_option(nnreplay, db_path, args, message):
    result = nnreplay("new", *args, ok=False)
    assert (result.exit_code, result.stderr) == (1, message)


def test_the_demo_refuses_a_seed_whose_followers_do_not_fit(runner, tmp_path):
    """demo --seed -1 passed the check of its last seed (18) and failed inside as 'seed must be ...'; the
    largest seed failed naming a number nobody typed. Both are refused up front, naming --seed."""
    import cli

    for seed, last in (("-1", "9,223,372,036,854,775,805"), ("9223372036854775807", "9,223,372,036,854,775,805")):
        result = runner.invoke(cli.app, ["--db", str(tmp_path / "x.db"), "demo", "--quick", "--seed", seed,
                                         "--out", str(tmp_path / "tour")])
        assert (result.exit_code, result.stderr) == (1, f"Error: --seed must be a whole number from 0 to {last} (the "
                                                        f"demo also records the 2 seeds after it), got {seed}\n")
    assert sorted(os.listdir(tmp_path)) == []


def test_the_plot_table_keeps_its_columns_for_long_group_names(nnreplay, mixed, tmp_path):
    """A model's group name is longer than the table's first column was: the counts and medians stay in
    their columns under their headings."""
    rows = nnreplay("plot", "held", "plain", "-o", tmp_path / "t.png", "--at", "3").stdout.splitlines()
    end = rows[0].index("sessions") + len("sessions")
    assert all(row[end - 1] == "1" and row[end] == " " for row in rows[1:])
    assert len({len(row) for row in rows}) == 1
