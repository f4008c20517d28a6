"""A student's board for the teacher's overview: the model's probabilities on a small grid and the points,
as compact bytes (docs/classes.md, `boards`). Display only: fast numpy is fine, nothing here is digested."""

import base64

import numpy as np

from engine import NnreplayError, state_digest
from engine.view import probability_grid
from store import head_states

MAX_POINTS = 200
# (session id, head hash, grid) -> the drawn fields: a board is drawn again only when its session moved
_DRAWN: dict[tuple[str, str, int], dict] = {}
_MOST = 20_000


def board(log, session_id: str, name: str, grid: int) -> dict:
    """{session, name, seq, presses, accuracy, score, held_out_accuracy (None when the lesson holds no points
    out), grid, probabilities, points}: `probabilities` is base64
    of grid x grid bytes (round(255 p), rows from the top: y from 1 to -1, x from -1 to 1), `points` base64
    of 3 bytes per point (x and y from [-1, 1] to 0..255, the true label 0 or 1), at most 200 points. A
    session whose fold is not the state its log records has `problem` instead of pictures. Drawn once per
    head; the head's state comes from the process's kept states (store.head_states), which a press made
    through this process has just left there."""
    seq, head_hash = log.head(session_id)
    out = {"session": session_id, "name": name, "seq": seq, "presses": seq - 1, "grid": grid}
    key = (session_id, head_hash, grid)
    if key not in _DRAWN:
        if len(_DRAWN) > _MOST:
            _DRAWN.clear()
        _DRAWN[key] = _draw(log, session_id, seq, head_hash, grid)
    return {**out, **_DRAWN[key]}


def _draw(log, session_id: str, seq: int, head_hash: str, grid: int) -> dict:
    nothing = {"probabilities": None, "points": None, "accuracy": None, "score": None, "held_out_accuracy": None}
    try:
        state = head_states.head_state(log, session_id, seq, head_hash)
    except NnreplayError as error:
        return {**nothing, "problem": str(error)}
    if state_digest(state) != next(log.rows(session_id, seq, seq)).state_digest:
        return {**nothing, "problem": "replaying the log does not give the state it records; run `nnreplay audit`"}
    p = probability_grid(state, grid)[::-1]  # the engine's rows run bottom to top; a picture's top to bottom
    cells = np.rint(np.clip(p, 0.0, 1.0) * 255.0).astype(np.uint8)
    xy = state.data.points[:MAX_POINTS]
    points = np.empty((len(xy), 3), dtype=np.uint8)
    points[:, :2] = np.rint((np.clip(xy, -1.0, 1.0) + 1.0) * 127.5)
    points[:, 2] = state.data.labels[:MAX_POINTS] > 0.5
    return {"accuracy": state.metrics.accuracy, "score": state.metrics.score,
            "held_out_accuracy": state.metrics.test_accuracy,
            "probabilities": base64.b64encode(cells.tobytes()).decode(),
            "points": base64.b64encode(points.tobytes()).decode()}
