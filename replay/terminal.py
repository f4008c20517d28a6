"""The `play` screen as plain text: the square with its points, both boundaries, and a status line.

Pure: a state in, lines of text out; the caller owns the terminal. A terminal cell is about twice as tall
as it is wide, so the square is drawn twice as many columns wide as it is rows high. Any model draws the
same way: the engine gives its logit at the cells' corners (`engine.view`), a cell whose corners disagree
in sign holds the boundary, and the data set's rule is drawn the same way.

    ▲ red point   ● blue point   (hollow △ ○: the model predicts the other colour)
    ◆ ■ held-out red and blue points (hollow ◇ □ when predicted wrong)
    █ current boundary   ░ true boundary   · the side the model calls red
"""

import numpy as np

from engine import BUTTONS, State
from engine.dataset import truth
from engine.view import logit, probability

RED, BLUE, WRONG_RED, WRONG_BLUE = "▲", "●", "△", "○"
HELD_RED, HELD_BLUE, HELD_WRONG_RED, HELD_WRONG_BLUE = "◆", "■", "◇", "□"
BOUNDARY, TRUE_LINE, BOTH_LINES, RED_SIDE = "█", "░", "▓", "·"
MAX_ROWS = 21
CHROME_ROWS = 7  # title, two border rows, status, legend, keys, message
KEY_HELP = {"gradient": "n/space Next iteration   q quit",
            "thompson": "n/space Next iteration   " + "   ".join(f"{i} {b}" for i, b in enumerate(BUTTONS, 1))
                        + "   q quit"}
ANSI = {RED: "31", WRONG_RED: "31", HELD_RED: "31", HELD_WRONG_RED: "31", BLUE: "34", WRONG_BLUE: "34",
        HELD_BLUE: "34", HELD_WRONG_BLUE: "34", BOUNDARY: "1", BOTH_LINES: "1"}


def grid_size(columns: int, lines: int) -> tuple[int, int]:
    """(width, height) in cells of the square that fits a terminal of this size."""
    height = max(5, min(MAX_ROWS, lines - CHROME_ROWS))
    return max(9, min(2 * height - 1, columns - 2)), height


def _straddles(corners: np.ndarray) -> np.ndarray:
    """Cells (rows, columns) whose four corner values do not all have the same sign."""
    positive = corners > 0
    quad = (positive[:-1, :-1], positive[:-1, 1:], positive[1:, :-1], positive[1:, 1:])
    return ~(np.logical_and.reduce(quad) | ~np.logical_or.reduce(quad))


def _cell(value: np.ndarray, cells: int) -> np.ndarray:
    return np.clip(((value + 1.0) / 2.0 * cells).astype(int), 0, cells - 1)


def square(state: State, width: int, height: int) -> list[list[str]]:
    """The cells of the square: side shading, the two boundaries, then the points on top."""
    dx, dy = 2.0 / width, 2.0 / height
    cx = -1.0 + (np.arange(width) + 0.5) * dx
    cy = 1.0 - (np.arange(height) + 0.5) * dy
    x, y = np.meshgrid(cx, cy)
    centres = np.column_stack([x.ravel(), y.ravel()])
    cells = np.where(probability(state, centres).reshape(height, width) > 0.5, RED_SIDE, " ").astype(object)
    ex, ey = np.meshgrid(np.linspace(-1, 1, width + 1), np.linspace(1, -1, height + 1))
    edges = np.column_stack([ex.ravel(), ey.ravel()])
    boundary = _straddles(logit(state, edges).reshape(height + 1, width + 1))
    rule = truth(state.data.kind, state.data.separator, edges)
    true_line = np.zeros_like(boundary) if rule is None else _straddles(rule.reshape(height + 1, width + 1))
    cells[true_line] = TRUE_LINE
    cells[boundary] = BOUNDARY
    cells[boundary & true_line] = BOTH_LINES
    data = state.data
    points, labels = data.points, data.labels > 0.5
    predicted = probability(state, points) > 0.5
    held = np.arange(len(labels)) >= data.n_train
    columns, rows = _cell(points[:, 0], width), _cell(-points[:, 1], height)
    glyphs = np.where(labels, np.where(predicted, RED, WRONG_RED), np.where(predicted, WRONG_BLUE, BLUE))
    held_glyphs = np.where(labels, np.where(predicted, HELD_RED, HELD_WRONG_RED),
                           np.where(predicted, HELD_WRONG_BLUE, HELD_BLUE))
    glyphs = np.where(held, held_glyphs, glyphs)
    # misclassified points last, so that a cell holding both shows the mistake
    for index in np.argsort(labels == predicted, kind="stable")[::-1]:
        cells[rows[index], columns[index]] = glyphs[index]
    return [list(row) for row in cells]


def _paint(row: list[str], colour: bool) -> str:
    if not colour:
        return "".join(row)
    return "".join(f"\x1b[{ANSI[c]}m{c}\x1b[0m" if c in ANSI else c for c in row)


def status(state: State, head_hash: str, columns: int = 200) -> str:
    m = state.metrics
    parts = [f"step {state.seq - 1}", f"accuracy {m.accuracy:.3f}"]
    parts += [] if m.test_accuracy is None else [f"held out {m.test_accuracy:.3f}"]
    parts += [f"score {m.score:.3f}", f"head {head_hash[:12]}", f"last button {state.last_button or '-'}"]
    return fitted(parts, columns)


def fitted(parts: list[str], columns: int) -> str:
    """The parts joined by wide gaps, or narrower ones, then without the last parts, so that the line fits
    `columns` whole instead of being cut in the middle of a word ("head c603e7…" read "he")."""
    for gap in ("   ", "  "):
        if len(gap.join(parts)) <= columns:
            return gap.join(parts)
    while len(parts) > 1 and len("  ".join(parts)) > columns:
        parts = parts[:-1]
    return "  ".join(parts)[:columns]


def render(state: State, label: str, head_hash: str, message: str = "", columns: int = 80, lines: int = 24,
           colour: bool = False) -> list[str]:
    """The whole screen, one string per line, fitted to a terminal of `columns` × `lines`."""
    width, height = grid_size(columns, lines)
    body = ["│" + _paint(row, colour) + "│" for row in square(state, width, height)]
    legend = [f"{RED} red", f"{BLUE} blue", f"{WRONG_RED}{WRONG_BLUE} predicted wrong",
              *([f"{HELD_RED}{HELD_BLUE} held out"] if state.data.n_test else []), f"{BOUNDARY} boundary",
              f"{TRUE_LINE} truth", f"{RED_SIDE} called red"]
    chrome = [status(state, head_hash, columns), fitted(legend, columns), KEY_HELP[state.settings.learner], message]
    model = state.settings.model_label  # the data set and model, where not release 0.1's
    title = f"nnreplay play · {label} · {state.settings.learner}" + (f", {model}" if model else "")
    return [title if len(title) <= columns else title[:columns - 1] + "…",
            "┌" + "─" * width + "┐", *body, "└" + "─" * width + "┘", *(line[:columns] for line in chrome)]
