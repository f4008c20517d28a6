"""The replay and frame commands through the CLI: what they write, and what they refuse without writing."""

import pytest
from PIL import Image


@pytest.fixture
def recorded(nnreplay):
    """Three sessions on the same data: gradient (30 presses), thompson by Next (12), thompson rated (4)."""
    nnreplay("new", "--seed", "5", "--name", "grad")
    nnreplay("new", "--seed", "5", "--name", "auto", "--learner", "thompson")
    nnreplay("new", "--seed", "5", "--name", "rated", "--learner", "thompson")
    nnreplay("next", "grad", "-n", "30")
    nnreplay("next", "auto", "-n", "12")
    for button in ("good", "bad", "meh", "great"):
        nnreplay("rate", "rated", button)
    return nnreplay


def frames_of(path) -> int:
    with Image.open(path) as gif:
        return gif.n_frames


def test_replay_samples_a_long_history_down_to_max_frames(recorded, tmp_path):
    """31 events with --max-frames 8 make an 8-frame looping GIF of the requested width."""
    out = tmp_path / "grad.gif"
    result = recorded("replay", "grad", "-o", out, "--max-frames", "8", "--size", "320")
    assert frames_of(out) == 8
    with Image.open(out) as gif:
        assert gif.size[0] == 320 and gif.info["loop"] == 0
    assert "8 frames" in result.stdout and result.stderr == ""


def test_replay_of_several_sessions_runs_to_the_longest(recorded, tmp_path):
    """Three sessions of 31, 13 and 5 events: one frame per step of the longest, in one image of three panels."""
    out = tmp_path / "cmp.gif"
    recorded("replay", "grad", "auto", "rated", "-o", out, "--size", "900", "--metric", "score")
    assert frames_of(out) == 31
    with Image.open(out) as gif:
        assert gif.size[0] == 900


def test_replay_range_selects_events(recorded, tmp_path):
    """--from 5 --to 14 replays exactly those ten events."""
    out = tmp_path / "part.gif"
    recorded("replay", "grad", "-o", out, "--from", "5", "--to", "14")
    assert frames_of(out) == 10


def test_frame_writes_a_png_still(recorded, tmp_path):
    """frame --at writes a PNG of the requested width."""
    out = tmp_path / "still.png"
    recorded("frame", "rated", "--at", "3", "-o", out, "--size", "360")
    with Image.open(out) as png:
        assert png.format == "PNG" and png.size[0] == 360


@pytest.mark.parametrize("args, message", [
    (["replay", "nope", "-o", "{dir}/x.gif"], "no session"),
    (["replay", "grad", "-o", "{dir}/x.gif", "--from", "40"], "no events between"),
    (["replay", "grad", "-o", "{dir}/x.gif", "--from", "9", "--to", "3"], "no events between"),
    (["replay", "grad", "-o", "{dir}/x.gif", "--fps", "0"], "--fps"),
    (["replay", "grad", "-o", "{dir}/x.gif", "--max-frames", "0"], "--max-frames"),
    (["replay", "grad", "-o", "{dir}/x.gif", "--size", "50"], "--size"),
    (["replay", "grad", "-o", "{dir}/x.gif", "--metric", "joy"], "--metric"),
    (["replay", "grad", "-o", "{dir}/missing/x.gif"], "does not exist"),
    (["replay", "grad", "-o", "{dir}/x.mp4"], "must end in .gif"),
    (["frame", "grad", "-o", "{dir}/x.gif"], "must end in .png"),
    (["frame", "grad", "--at", "99", "-o", "{dir}/x.png"], "outside"),
])
def test_refused_requests_exit_1_with_one_line_and_write_nothing(recorded, tmp_path, args, message):
    """Each bad request exits 1 with a single `Error:` line naming the problem, and leaves no file behind."""
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = recorded(*[a.format(dir=out_dir) for a in args], ok=False)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]
    assert list(out_dir.iterdir()) == []
