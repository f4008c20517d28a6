"""What the command line needs around its printing: text that cannot drive a terminal, JSON arrays written
as they are produced, and stop signals turned into the interruption that Ctrl-C already is.

Kept out of cli.py so that every command uses the same three mechanisms. Standard library only: `import
cli` must stay light.
"""

import json
import signal
import sys
from typing import Iterable, TextIO

# C0 and C1 controls, DEL, and the format characters that reorder or hide text (bidi overrides, zero-width)
_SPECIAL = {0x7F, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2028, 0x2029, 0x2060, 0xFEFF,
            *range(0x00, 0x20), *range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
_ESCAPES = {code: (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}") for code in _SPECIAL}
_ESCAPES.update({ord("\n"): "\\n", ord("\t"): "\\t", ord("\r"): "\\r"})


def printable(text) -> str:
    """`text` with every control or invisible formatting character written as an escape (ESC as \\x1b, a
    newline as \\n): stored data shown on a terminal can neither move the cursor, recolour, hide text,
    nor start a new line that looks like nnreplay's own output."""
    text = str(text)
    if text.isprintable():  # the common case, checked in C
        return text
    return text.translate(_ESCAPES)


_encode_item = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


def write_json_array(items: Iterable, out: TextIO) -> int:
    """Write `items` as one JSON array, one item a line, as they come: memory does not grow with the array,
    and a million items take seconds (json's C encoder; the indented layout goes through its pure-Python
    one, several times slower). Returns the number of items."""
    count = 0
    for item in items:
        out.write(("[\n" if count == 0 else ",\n") + _encode_item(item))
        count += 1
    out.write("[]\n" if count == 0 else "\n]\n")
    return count


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where the program is, so that every cleanup Ctrl-C runs runs too."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_received: list[int] = []
# code objects where a signal must not raise but call back instead: SQLite's progress handler, where the
# sqlite3 module would swallow the exception (store.progress ends the query, then raises it again)
_deferred: dict = {}


def defer_in(code, callback) -> None:
    """A signal that arrives while `code` runs calls `callback(signum)` instead of raising there."""
    _deferred[code] = callback


def _deferred_to(signum, frame) -> bool:
    callback = _deferred.get(frame.f_code) if frame is not None else None
    if callback is not None:
        callback(signum)
    return callback is not None


def _raise_stopped(signum, frame) -> None:
    # a second signal while cleaning up must not cut the cleanup short
    for name in ("SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    _received.append(signum)
    if not _deferred_to(signum, frame):
        raise Stopped(signum)


def _raise_interrupt(signum, frame) -> None:
    if not _deferred_to(signum, frame):
        raise KeyboardInterrupt


def stop_received() -> Stopped | None:
    """The stop a signal asked for, if one came. A Stopped raised inside a library's callback can reach us
    as that library's own error (matplotlib turns it into "ValueError: Invalid affine transformation
    matrix"); the signal still decides what the command reports."""
    return Stopped(_received[0]) if _received else None


def stop_on_signals() -> None:
    """Make SIGTERM (`kill`, `timeout`) and SIGHUP (a closed terminal) interrupt like Ctrl-C, and all three
    end SQLite work too (see `defer_in`)."""
    _received.clear()  # a new command (CliRunner runs many in one process) starts unstopped
    for name, handler in (("SIGTERM", _raise_stopped), ("SIGHUP", _raise_stopped), ("SIGINT", _raise_interrupt)):
        if hasattr(signal, name):
            try:
                signal.signal(getattr(signal, name), handler)
            except ValueError:  # not the main thread: signals are not ours to set
                return


def exit_code(interruption: BaseException) -> int:
    """What a shell reports for the interruption: 128 + the signal (130 for Ctrl-C)."""
    return 128 + getattr(interruption, "signum", signal.SIGINT)


def interrupted_by(interruption: BaseException) -> str:
    return f"stopped by {interruption.args[0]}" if isinstance(interruption, Stopped) else "interrupted"


def say(message: str) -> None:
    """One line on stderr that must not fail: after SIGHUP the terminal may be gone."""
    try:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
