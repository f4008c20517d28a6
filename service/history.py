"""Histories for drawing: replay ranges, tracks of sampled states, learning curves and their tables.

replay/ draws plain engine states and never touches the database; these functions read the log and hand
it what it draws. Rendering modules (matplotlib) are imported only inside the functions that need them.
"""

import math
import statistics

from engine import NnreplayError, state_digest
from store import EventLog, SessionInfo
from store.errors import UnsoundLog


def button_of(row) -> str | None:
    """The feedback button pressed at this event, if it was one."""
    return row.decoded().get("button") if row.type == "feedback_given" else None


def replay_range(log: EventLog, info: SessionInfo, start: int, end: int | None) -> tuple[int, int]:
    """(first, last) seq to replay: `end` clipped to the head; refused when nothing lies between."""
    from replay import ReplayError

    head, _ = log.head(info.id)
    last = head if end is None else min(end, head)
    if start < 1:
        raise ReplayError(f"from must be a seq, at least 1, got {start}", field="from")
    if start > last:
        raise ReplayError(f"{info.label}: no events between --from {start} and --to {end if end is not None else head}"
                          f" (the session has events 1 to {head})", field="from")
    return start, last


def as_recorded(info: SessionInfo, pairs, log: EventLog | None = None):
    """The (row, state) pairs, each state checked against the digest its event records (a digest costs a
    few microseconds, a step tens to hundreds): a log edited after recording (payloads re-hashed, say) is
    never drawn or plotted as if it were sound. A session of release 0.1/0.2 recorded on other arithmetic
    (chain intact) is drawn as this machine folds it, so that it can be compared with its re-press; the
    front ends say which it is (`show`, the page's notice)."""
    lenient = False
    for row, state in pairs:
        if not lenient:
            lenient = refuse_unrecorded(info, state, row.state_digest, log)
        yield row, state


def refuse_unrecorded(info: SessionInfo, state, recorded: str, log: EventLog | None = None) -> bool:
    """Refuse a state that is not the one its event records; True (drawn as folded here) for a session
    recorded on other arithmetic, False for a state that is the record's."""
    if state_digest(state) == recorded:
        return False
    if log is not None:
        from store.departure import explain

        if explain(log, info.id, info.label, state.settings) is not None:
            return True
    error = UnsoundLog(f"{info.label}: folding its log does not give the state recorded at seq {state.seq}, so "
                       f"it is not drawn; run `nnreplay audit`")
    error.seq = state.seq
    raise error


def tracks(log: EventLog, refs: list[str], start: int = 1, end: int | None = None, max_frames: int = 300):
    """(tracks, steps) of sessions `refs` over [start, end], sampled evenly down to `max_frames` steps."""
    from replay import collect, sample_steps

    infos = [log.resolve(ref) for ref in refs]
    ranges = [replay_range(log, info, start, end) for info in infos]
    steps = sample_steps(max(last - first + 1 for first, last in ranges), max_frames)
    made = [collect(info.label, info.learner,
                    ((state, button_of(row)) for row, state in as_recorded(info, log.states(info.id, first, last), log)),
                    steps)
            for info, (first, last) in zip(infos, ranges)]
    return made, steps


def frame_track(log: EventLog, ref: str, at: int | None = None):
    """A one-frame track of session `ref` after event `at` (default: the head), for a still."""
    from replay import collect

    from service.sessions import check_at

    info = log.resolve(ref)
    head, _ = log.head(info.id)
    seq = check_at(log, info, at)
    state = log.state(info.id, seq)
    row = next(log.rows(info.id, seq, seq))
    refuse_unrecorded(info, state, row.state_digest, log)
    return collect(info.label, info.learner, [(state, button_of(row))], [0], last_seq=head)


def curves(log: EventLog, infos: list[SessionInfo], metric: str) -> list:
    """One learning curve (the metric after each press) per session."""
    from replay.curves import curve

    return [curve(info.learner, ((row.event(), state) for row, state in as_recorded(info, log.states(info.id), log)),
                  metric) for info in infos]


def _median_of_finals(values) -> float | None:
    # a held-out metric is NaN for sessions that hold no points out: they have no final value
    finals = [float(v[-1]) for v in values if not math.isnan(v[-1])]
    return float(statistics.median(finals)) if finals else None


def readable_curves(log: EventLog, infos: list[SessionInfo], metric: str) -> tuple[list, list[dict]]:
    """`curves` of every session whose log can be read, and {id, name, seq, reason} of each one that
    cannot: one broken session hides no other."""
    from store.heads import unreadable_at

    made, skipped = [], []
    for info in infos:
        try:
            made.extend(curves(log, [info], metric))
        except (NnreplayError, ValueError, TypeError, KeyError, IndexError, ArithmeticError) as error:
            seq, reason = unreadable_at(log, info.id) or (
                getattr(error, "seq", None), "replaying it does not give the state recorded there")
            skipped.append({"id": info.id, "name": info.name, "seq": seq, "reason": reason})
    return made, skipped


def held_out_curves(curves_: list) -> tuple[list, int]:
    """The curves that have values (a held-out metric is NaN all along for a session that holds no points
    out), and how many were left out for having none."""
    kept = [item for item in curves_ if not all(math.isnan(v) for v in item.values)]
    return kept, len(curves_) - len(kept)


def curve_table(curves_: list, steps: list[int]) -> list[dict]:
    """Each group's session count, median metric after each of `steps` presses, and median final value."""
    from replay.curves import grouped, median_at

    return [{"group": group, "sessions": len(values),
             "at": {str(step): median_at(values, step) for step in steps},
             "final": _median_of_finals(values)}
            for group, values in grouped(curves_).items()]
