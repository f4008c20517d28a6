"""`nnreplay play` through a pseudo-terminal (keys in, screen and events out), and its text rendering."""

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

import attrs

from engine import Settings, Start, decide, evolve, rng_for
from replay.terminal import RED, BLUE, WRONG_BLUE, WRONG_RED, render
from store import EventLog


class Screen:
    """A `play` process on a pseudo-terminal of 100 × 30, and everything it has written."""

    def __init__(self, db_path: str, session: str):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        self.process = subprocess.Popen([sys.executable, "-c", "import cli; cli.main()", "--db", db_path, "play",
                                         session], stdin=slave, stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        self.master, self.text = master, ""

    def wait_for(self, pattern: str, timeout: float = 30.0) -> str:
        """Read until `pattern` appears in what came after the last wait; return that stretch."""
        start, deadline = len(self.text), time.monotonic() + timeout
        while not re.search(pattern, self.text[start:]):
            assert time.monotonic() < deadline, f"no {pattern!r} on screen: {self.text[start:][-2000:]!r}"
            if select.select([self.master], [], [], 0.2)[0]:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # EIO: the process closed the terminal
                    chunk = b""
                if not chunk:
                    assert re.search(pattern, self.text[start:]), f"exited without {pattern!r}: {self.text[-2000:]!r}"
                    break
                self.text += chunk.decode(errors="replace")
        return self.text[start:]

    def press(self, keys: str, pattern: str) -> str:
        os.write(self.master, keys.encode())
        return self.wait_for(pattern)

    def close(self) -> int:
        code = self.process.wait(timeout=30)
        os.close(self.master)
        return code


def _new(nnreplay, *args) -> str:
    return nnreplay("new", *args).stdout.strip()


def test_keys_append_events_before_the_screen_shows_them(nnreplay, db_path):
    """n, 3 and space record iterated, feedback_given(good), iterated with source play; the screen follows."""
    sid = _new(nnreplay, "--learner", "thompson", "--seed", "3", "--name", "keys")
    screen = Screen(db_path, "keys")
    first = screen.wait_for(r"press a key")
    assert "step 0 " in first and "1 bad   2 meh   3 good   4 great" in first
    assert screen.press("n", r"recorded Next iteration as event 2")
    shown = screen.press("3", r"recorded good as event 3")
    assert "last button good" in shown
    shown = screen.press(" ", r"recorded Next iteration as event 4")
    with EventLog(db_path) as log:
        head_hash = log.head(sid)[1]
        rows = list(log.rows(sid))
    assert f"head {head_hash[:12]}" in shown and "step 3 " in shown
    assert screen.press("x", r"no key 'x'")
    assert screen.press("q", r"keys: step 3, accuracy")
    assert screen.close() == 0
    assert [row.type for row in rows] == ["session_started", "iterated", "feedback_given", "iterated"]
    assert all('"source":"play"' in row.payload for row in rows[1:]) and '"button":"good"' in rows[2].payload


def test_screen_shows_points_and_both_lines(nnreplay, db_path):
    """The square holds point glyphs, the boundary and the true line, and the status line's accuracy."""
    _new(nnreplay, "--learner", "gradient", "--seed", "8", "--name", "look")
    screen = Screen(db_path, "look")
    shown = screen.wait_for(r"press a key")
    accuracy = nnreplay.json("show", "look", "--json")["accuracy"]
    assert f"accuracy {accuracy:.3f}" in shown
    assert "█" in shown and "░" in shown and (RED in shown or WRONG_RED in shown)
    screen.press("q", r"look: step 0")
    assert screen.close() == 0


def test_a_refused_key_is_reported_on_screen_and_records_nothing(nnreplay, db_path):
    """A feedback key on a gradient session shows why it was refused; Ctrl-C then quits cleanly."""
    sid = _new(nnreplay, "--learner", "gradient", "--seed", "2")
    screen = Screen(db_path, sid)
    screen.wait_for(r"press a key")
    assert screen.press("4", r"feedback buttons train thompson sessions")
    screen.press("\x03", r"step 0, accuracy")
    assert screen.close() == 0
    with EventLog(db_path) as log:
        assert log.head(sid)[0] == 1


def test_killing_the_terminal_loses_nothing_that_was_shown(nnreplay, db_path):
    """After the screen shows event 3, SIGKILL leaves all three events in the log."""
    sid = _new(nnreplay, "--learner", "thompson", "--seed", "4")
    screen = Screen(db_path, sid)
    screen.wait_for(r"press a key")
    screen.press("n", r"as event 2")
    screen.press("2", r"recorded meh as event 3")
    screen.process.send_signal(signal.SIGKILL)
    assert screen.close() == -signal.SIGKILL
    with EventLog(db_path) as log:
        assert [row.type for row in log.rows(sid)] == ["session_started", "iterated", "feedback_given"]


def test_unknown_session_is_refused_before_the_screen_opens(nnreplay, db_path):
    """play on a missing session prints one Error line and exits 1."""
    _new(nnreplay)
    screen = Screen(db_path, "nobody")
    assert screen.wait_for(r"Error: no session with id, id prefix or name 'nobody'")
    assert screen.close() == 1


def test_play_refuses_when_stdin_is_not_a_terminal(nnreplay, db_path):
    """Without a terminal on stdin, play exits 1 with a clear message and records nothing."""
    sid = _new(nnreplay, "--learner", "thompson")
    result = nnreplay("play", sid, ok=False, input="n3q")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: play reads single keys from a terminal")
    assert nnreplay.json("log", sid, "--json")[-1]["seq"] == 1


def _state(params):
    [event] = decide(None, Start(Settings(learner="gradient", seed=1, points=30)), rng_for(1, 1))
    return attrs.evolve(evolve(None, event), params=params)


def _square_text(lines: list[str]) -> str:
    return "".join(line for line in lines if line.startswith("│"))


def test_render_marks_misclassified_points_hollow():
    """A separator that gets every point right draws only filled glyphs; its negation only hollow ones."""
    state = _state((0.0, 0.0, 0.0))
    a, b, c = state.data.separator
    right = _square_text(render(_state((a * 5, b * 5, c * 5)), "s", "0" * 64))
    wrong = _square_text(render(_state((-a * 5, -b * 5, -c * 5)), "s", "0" * 64))
    assert (RED in right or BLUE in right) and WRONG_RED not in right and WRONG_BLUE not in right
    assert (WRONG_RED in wrong or WRONG_BLUE in wrong) and RED not in wrong and BLUE not in wrong


def test_render_fits_the_terminal():
    """Every rendered line fits the given width, and the screen fits the given height."""
    for columns, lines in ((40, 15), (80, 24), (200, 60)):
        screen = render(_state((0.3, -0.2, 0.1)), "session", "f" * 64, "message", columns, lines)
        assert len(screen) <= max(lines, 12)
        assert all(len(line) <= columns for line in screen)


def test_the_closing_line_names_the_hash_of_the_seq_it_reports(nnreplay, db_path):
    """Issue 9, class 13: when another terminal pressed meanwhile, play's closing line still pairs the step
    it reports with that step's own head hash, not with the hash of a later seq."""
    sid = _new(nnreplay, "--learner", "gradient", "--seed", "4", "--name", "pair")
    screen = Screen(db_path, "pair")
    screen.wait_for(r"press a key")
    screen.press("n", r"as event 2")
    nnreplay("next", sid, "-n", "3")  # another terminal presses
    closing = screen.press("q", r"pair: step \d+, accuracy [0-9.]+, head [0-9a-f]{12}")
    assert screen.close() == 0
    step, head = re.search(r"pair: step (\d+), accuracy [0-9.]+, head ([0-9a-f]{12})", closing).groups()
    with EventLog(db_path) as log:
        [row] = list(log.rows(sid, int(step) + 1, int(step) + 1))
    assert row.hash[:12] == head
