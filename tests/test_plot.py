"""`nnreplay plot`: learning curves grouped by learner and rater, median and interquartile band."""

import numpy as np
from PIL import Image

from replay.curves import band, median_at


def _simulate(nnreplay, *args) -> list[str]:
    return nnreplay("simulate", "--presses", "12", "--seed", "0", *args).stdout.split()


def test_plot_groups_sessions_by_learner_and_rater_and_writes_a_png(nnreplay, tmp_path):
    """Gradient, thompson by Next and thompson by the simulated person become three groups in one PNG."""
    ids = (_simulate(nnreplay, "--learner", "gradient", "--sessions", "3")
           + _simulate(nnreplay, "--learner", "thompson", "--sessions", "2")
           + _simulate(nnreplay, "--learner", "thompson", "--rater", "person", "--sessions", "4"))
    out = tmp_path / "curves.png"
    result = nnreplay.json("plot", *ids, "-o", out, "--json")
    assert [(g["group"], g["sessions"]) for g in result["groups"]] == [
        ("gradient", 3), ("thompson by Next", 2), ("thompson by simulated person", 4)]
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size == (800, 480)


def test_typed_and_mixed_ratings_are_their_own_groups(nnreplay, tmp_path):
    """Ratings typed at `rate` make "thompson by person"; Next and ratings mixed make "thompson by Next + person"."""
    typed = nnreplay("new", "--learner", "thompson", "--seed", "1").stdout.strip()
    mixed = nnreplay("new", "--learner", "thompson", "--seed", "2").stdout.strip()
    nnreplay("rate", typed, "good")
    nnreplay("rate", mixed, "bad")
    nnreplay("next", mixed)
    result = nnreplay.json("plot", typed, mixed, "-o", tmp_path / "c.png", "--json")
    assert [g["group"] for g in result["groups"]] == ["thompson by person", "thompson by Next + person"]


def test_medians_at_steps_match_the_states_in_the_log(nnreplay, tmp_path):
    """The table's median after k presses is the median of `show --at k+1` over the group's sessions."""
    ids = _simulate(nnreplay, "--learner", "thompson", "--rater", "person", "--sessions", "3")
    expected = np.median([nnreplay.json("show", sid, "--at", "6", "--json")["accuracy"] for sid in ids])
    [group] = nnreplay.json("plot", *ids, "-o", tmp_path / "c.png", "--at", "5,12,99", "--json")["groups"]
    assert group["at"]["5"] == expected
    assert group["at"]["12"] == group["final"] and group["at"]["99"] is None
    text = nnreplay("plot", *ids, "-o", tmp_path / "c.png", "--at", "5,99").stdout
    assert f"{expected:7.3f}" in text and "      -" in text


def test_plot_all_takes_every_session_and_other_metrics(nnreplay, tmp_path):
    """--all plots every session in the database; --metric loss reports losses."""
    [sid] = _simulate(nnreplay, "--learner", "gradient")
    loss = nnreplay.json("show", sid, "--json")["loss"]
    [group] = nnreplay.json("plot", "--all", "--metric", "loss", "-o", tmp_path / "l.png", "--json")["groups"]
    assert group["final"] == loss and (tmp_path / "l.png").exists()


def test_refused_plots_write_no_file(nnreplay, tmp_path):
    """Bad metric, bad path, unknown session and bad --at exit 1 with one Error line and write nothing."""
    [sid] = _simulate(nnreplay, "--learner", "gradient")
    out = tmp_path / "c.png"
    cases = [(["--metric", "speed", "-o", out, sid], "unknown metric 'speed'"),
             (["-o", tmp_path / "c.gif", sid], "ending in .png"),
             (["-o", tmp_path / "missing" / "c.png", sid], "does not exist"),
             (["-o", out, "nobody"], "no session with id, id prefix or name 'nobody'"),
             (["-o", out, "--at", "ten", sid], "--at takes press counts")]
    for args, message in cases:
        result = nnreplay("plot", *args, ok=False)
        assert result.exit_code == 1 and message in result.stderr, args
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == [tmp_path / "log.db"]


def test_plot_without_sessions_is_a_usage_error(nnreplay, tmp_path):
    """Neither SESSION nor --all exits 2; no -o exits 2."""
    assert nnreplay("plot", "-o", tmp_path / "c.png", ok=False).exit_code == 2
    assert nnreplay("plot", "--all", ok=False).exit_code == 2


def test_band_uses_only_sessions_that_reached_each_step():
    """Quartiles per step ignore sessions that ended earlier; the median at a step nobody reached is None."""
    low, mid, high = band([np.array([0.0, 1.0, 2.0]), np.array([2.0, 3.0]), np.array([4.0])])
    assert list(mid) == [2.0, 2.0, 2.0] and list(low) == [1.0, 1.5, 2.0] and list(high) == [3.0, 2.5, 2.0]
    assert median_at([np.array([1.0, 5.0])], 1) == 5.0 and median_at([np.array([1.0])], 3) is None
