"""What the page draws and follows: a state with its picture, metric series, heads, replay downloads.

The picture is computed by the engine (engine.view): a grid of the model's probability of red and each
point's predicted label, so the page draws any model without knowing its maths.
"""

import io
import json
import math
import os
import tempfile

from engine import state_digest
from store import EventLog
from store.errors import StoreError

from service.history import as_recorded, tracks
from service.sessions import check_at, drawing, record_fields, state_json
from service.units import MAX_UNIT_GRID, network

GRID = 32
MAX_GRID = 128


def page_state(log: EventLog, ref: str, at: int | None = None, grid: int = GRID, points: bool = True,
               state=None, units: int | None = None, truth: bool = True) -> dict:
    """The show object at `at` (default: the head) plus the picture, the event recorded at that seq and,
    for thompson, a credible band per arm. `points=False` leaves out what never changes within a session
    (points, test_points, separator, settings), for a scrubber that already has them. `state`, when the caller has just
    recorded it, saves folding it again. `truth=False` leaves out `truth` (the data set's rule: the same at
every step, so a scrubber that has it asks for less). `units=N` adds `network` (service.units): the inputs' and hidden
    units' outputs on an N x N grid and every layer's weights, for a network diagram."""
    if isinstance(grid, bool) or not isinstance(grid, int) or not 2 <= grid <= MAX_GRID:
        raise StoreError(f"grid must be from 2 to {MAX_GRID}, got {grid}", field="grid")
    if units is not None and (isinstance(units, bool) or not isinstance(units, int) or not 2 <= units <= MAX_UNIT_GRID):
        raise StoreError(f"units must be from 2 to {MAX_UNIT_GRID}, got {units}", field="units")
    info = log.resolve(ref)
    head, head_hash = log.head(info.id)
    if state is None or state.seq != head or at is not None:
        state = log.state(info.id, check_at(log, info, at))
    row = next(log.rows(info.id, state.seq, state.seq))
    digest = state_digest(state)
    out = state_json(info, state, row.hash, digest)
    out.update(record_fields(log, info, state, row, digest))
    # what the CLI's show says with exit 1 (or 3): the state is drawn (for whoever investigates), flagged;
    # record_fields has already said why for a session recorded on other arithmetic
    out["ok"] = digest == row.state_digest
    out.setdefault("problem", None if out["ok"] else {
        "seq": state.seq, "reason": f"folding the log does not give the state recorded at seq {state.seq}; "
                                    f"run `nnreplay audit`"})
    # a step counts presses, as `frame`, `replay` and `play` do: the state after event seq is step seq - 1
    out.update(drawing(state, grid, truth), step=state.seq - 1, head=head, session_head_hash=head_hash, grid_size=grid,
               event={"type": row.type, "payload": json.loads(row.payload), "recorded_at": row.recorded_at},
               # a seed drawn from the OS has 63 bits; JavaScript's numbers keep 53, so the page shows this
               seed_text=str(state.settings.seed))
    if units is not None:
        out["network"] = network(state, units)
    for arm in out.get("posteriors", ()):
        arm["low"], arm["high"] = _band(arm["alpha"], arm["beta"])
    if not points:
        for key in ("points", "test_points", "separator", "settings"):
            out.pop(key)
    return out


def _unless_abandoned(done: int, total: int) -> None:
    # a server's request whose client left (or a server stopping): stop drawing between frames
    from store import progress
    from store.errors import Abandoned

    if progress.abandoned():
        raise Abandoned("the drawing was abandoned: its client left, or the server is stopping")


def setting_choices() -> dict[str, list[str]]:
    """The values a setting can take where they are a fixed list, for a form to offer."""
    from engine.dataset import KINDS
    from engine.features import FEATURES
    from engine.model import ACTIVATIONS
    from engine.settings import LEARNERS

    return {"learner": list(LEARNERS), "data": list(KINDS), "activation": list(ACTIVATIONS),
            "features": list(FEATURES)}


def _band(a: float, b: float) -> tuple[float, float]:
    """Mean ± 2 standard deviations of Beta(a, b), clipped to [0, 1]: a credible band without quantiles."""
    mean = a / (a + b)
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    return max(0.0, mean - 2 * sd), min(1.0, mean + 2 * sd)


def metric_series(log: EventLog, ref: str) -> dict:
    """Loss, accuracy and score (and the held-out loss and accuracy, null where none are held out) after
    every event of session `ref`, as columns (index 0 is seq 1)."""
    info = log.resolve(ref)
    series = {"session_id": info.id, "label": info.label, "learner": info.learner,
              "loss": [], "accuracy": [], "score": [], "test_loss": [], "test_accuracy": []}
    for _, state in as_recorded(info, log.states(info.id), log):  # never plotted as the log's when it is not
        m = state.metrics
        for key in ("loss", "accuracy", "score", "test_loss", "test_accuracy"):
            series[key].append(getattr(m, key))
    return series


def heads(log: EventLog) -> dict[str, int]:
    """The last seq of every session: what a page compares to notice presses made elsewhere."""
    return log.head_seqs()


def data_version(log: EventLog):
    """A cheap "did anything change?": a value that differs after any other connection's commit (SQLite's
    data_version; on PostgreSQL a summary of the heads cache). Compared for equality only."""
    return log.change_token()


def export_text(log: EventLog, ref: str) -> tuple[str, str]:
    """(session label, the export as JSON Lines text)."""
    from store.portable import export

    info = log.resolve(ref)
    out = io.StringIO()
    export(log, info, out)
    return info.label, out.getvalue()


def replay_gif(log: EventLog, ref: str, max_frames: int = 120, size: int = 480) -> tuple[str, bytes]:
    """(session label, an animated GIF of its history drawn by replay/)."""
    from replay import check_options, render_gif

    check_options(12, max_frames, size)
    made, steps = tracks(log, [ref], max_frames=max_frames)
    handle, path = tempfile.mkstemp(suffix=".gif")
    os.close(handle)
    try:
        render_gif(made, steps, path, fps=12, size=size, on_frame=_unless_abandoned)
        with open(path, "rb") as gif:
            return made[0].title, gif.read()
    finally:
        os.unlink(path)
