"""Scripted recording: sessions pressed by `Next` or by a simulated person (engine.person)."""

from engine import InvalidCommand, Settings, person
from store import EventLog
from store.errors import NameTaken
from store.log import check_name

from service.sessions import check_count, settings_from

MAX_SESSIONS = 10_000


def plan(learner: str, rater: str, presses: int, seed: int, count: int, points: int, noise: float,
         name: str | None, model: dict | None = None) -> list[tuple[Settings, str | None]]:
    """(settings, name) of every session to record; refuses bad values before anything is written.
    `model` holds further settings keywords (data, features, hidden, activation, test_share)."""
    check_count(presses, field="presses")
    if not 1 <= count <= MAX_SESSIONS:
        raise InvalidCommand(f"sessions must be from 1 to {MAX_SESSIONS:,}, got {count}", field="sessions")
    if rater not in person.RATERS:
        raise InvalidCommand(f"unknown rater {rater!r}; choose one of: {', '.join(person.RATERS)}", field="rater")
    if rater == "person" and learner == "gradient":
        raise InvalidCommand("the simulated person presses the feedback buttons, which train thompson sessions; "
                             "use --learner thompson, or --rater next for gradient", field="rater")
    names = [None] * count if name is None else [check_name(f"{name}-{k}") for k in range(1, count + 1)]
    return [(settings_from(dict(learner=learner, seed=seed + k, points=points, noise=noise, **(model or {}))),
             names[k]) for k in range(count)]


def check_names_free(log: EventLog, planned: list[tuple]) -> None:
    taken = sorted({n for _, n in planned if n is not None} & {info.name for info in log.sessions()})
    if taken:
        raise NameTaken(f"the name {taken[0]!r} is taken by another session; choose another --name", field="name")


def simulate_session(log: EventLog, session_id: str, rater: str, presses: int, on_commit=None):
    """Record `presses` scripted presses, one commit per batch; returns the final state."""
    return log.record(session_id, person.script(rater, presses), on_commit=on_commit)


def simulate(log: EventLog, planned: list[tuple], rater: str, presses: int, on_commit=None,
             on_created=None) -> list:
    """Record every planned session; returns their final states. Each session is created just before its
    presses and announced through `on_created(session_id)`, so that an interruption can say what it kept."""
    check_names_free(log, planned)
    finals = []
    for settings, label in planned:
        session_id = log.new_session(settings, name=label).id
        if on_created is not None:
            on_created(session_id)
        finals.append(simulate_session(log, session_id, rater, presses, on_commit))
    return finals


def presses_kept(log: EventLog, session_ids: list[str]) -> int:
    """Presses durable in the log, counted afresh: an interruption can land between a commit and its
    on_commit."""
    return sum(log.head(session_id)[0] - 1 for session_id in session_ids)
