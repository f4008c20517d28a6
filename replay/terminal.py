"""The `play` screen as plain text: the square with its points, both lines, and a status line.

Pure: a state in, lines of text out; the caller owns the terminal. A terminal cell is about twice as tall
as it is wide, so the square is drawn twice as many columns wide as it is rows high.

    ▲ red point   ● blue point   (hollow △ ○: the perceptron predicts the other colour)
    █ current boundary   ░ true separator   · the side the perceptron calls red
"""

import numpy as np

from engine import BUTTONS, State

RED, BLUE, WRONG_RED, WRONG_BLUE = "▲", "●", "△", "○"
BOUNDARY, TRUE_LINE, BOTH_LINES, RED_SIDE = "█", "░", "▓", "·"
MAX_ROWS = 21
CHROME_ROWS = 7  # title, two border rows, status, legend, keys, message
KEY_HELP = {"gradient": "n/space Next iteration   q quit",
            "thompson": "n/space Next iteration   " + "   ".join(f"{i} {b}" for i, b in enumerate(BUTTONS, 1))
                        + "   q quit"}
ANSI = {RED: "31", WRONG_RED: "31", BLUE: "34", WRONG_BLUE: "34", BOUNDARY: "1", BOTH_LINES: "1"}


def grid_size(columns: int, lines: int) -> tuple[int, int]:
    """(width, height) in cells of the square that fits a terminal of this size."""
    height = max(5, min(MAX_ROWS, lines - CHROME_ROWS))
    return max(9, min(2 * height - 1, columns - 2)), height


def _crosses(a: float, b: float, c: float, x: np.ndarray, y: np.ndarray, dx: float, dy: float) -> np.ndarray:
    # the line a·x + b·y + c = 0 passes through a cell when |value at its centre| <= the value's half-range
    return np.abs(a * x + b * y + c) <= 0.5 * (abs(a) * dx + abs(b) * dy)


def _cell(value: np.ndarray, cells: int) -> np.ndarray:
    return np.clip(((value + 1.0) / 2.0 * cells).astype(int), 0, cells - 1)


def square(state: State, width: int, height: int) -> list[list[str]]:
    """The cells of the square: side shading, the two lines, then the points on top."""
    dx, dy = 2.0 / width, 2.0 / height
    x = -1.0 + (np.arange(width) + 0.5) * dx
    y = 1.0 - (np.arange(height) + 0.5) * dy
    x, y = np.meshgrid(x, y)
    w1, w2, b = state.params
    cells = np.where(w1 * x + w2 * y + b > 0, RED_SIDE, " ").astype(object)
    boundary = _crosses(w1, w2, b, x, y, dx, dy)
    true_line = _crosses(*state.data.separator, x, y, dx, dy)
    cells[true_line] = TRUE_LINE
    cells[boundary] = BOUNDARY
    cells[boundary & true_line] = BOTH_LINES
    points, labels = state.data.points, state.data.labels > 0.5
    predicted = points @ np.array([w1, w2]) + b > 0
    columns, rows = _cell(points[:, 0], width), _cell(-points[:, 1], height)
    glyphs = np.where(labels, np.where(predicted, RED, WRONG_RED), np.where(predicted, WRONG_BLUE, BLUE))
    # misclassified points last, so that a cell holding both shows the mistake
    for index in np.argsort(labels == predicted, kind="stable")[::-1]:
        cells[rows[index], columns[index]] = glyphs[index]
    return [list(row) for row in cells]


def _paint(row: list[str], colour: bool) -> str:
    if not colour:
        return "".join(row)
    return "".join(f"\x1b[{ANSI[c]}m{c}\x1b[0m" if c in ANSI else c for c in row)


def status(state: State, head_hash: str) -> str:
    m = state.metrics
    button = state.last_button or "-"
    return (f"step {state.seq - 1}   accuracy {m.accuracy:.3f}   score {m.score:.3f}   "
            f"last button {button}   head {head_hash[:12]}")


def render(state: State, label: str, head_hash: str, message: str = "", columns: int = 80, lines: int = 24,
           colour: bool = False) -> list[str]:
    """The whole screen, one string per line, fitted to a terminal of `columns` × `lines`."""
    width, height = grid_size(columns, lines)
    body = ["│" + _paint(row, colour) + "│" for row in square(state, width, height)]
    legend = (f"{RED} red  {BLUE} blue  {WRONG_RED}{WRONG_BLUE} predicted wrong  "
              f"{BOUNDARY} boundary  {TRUE_LINE} true line  {RED_SIDE} called red")
    chrome = [status(state, head_hash), legend, KEY_HELP[state.settings.learner], message]
    return [f"nnreplay play · {label} · {state.settings.learner}"[:columns],
            "┌" + "─" * width + "┐", *body, "└" + "─" * width + "┘", *(line[:columns] for line in chrome)]
