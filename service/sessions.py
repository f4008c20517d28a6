"""Sessions: start, list, press, show, read the log. Plain values in and out; nnreplay's errors; no printing.

Every function takes an open `store.EventLog`; the front end decides where it comes from (the CLI opens one
per command, the server one per worker thread).
"""

import os
import re

import attrs
import numpy as np

from engine import BUTTONS, InvalidCommand, InvalidSetting, Next, Rate, Settings, decide, rng_for, state_digest
from engine.view import model_fields, probability, probability_grid, truth_grid
from store import EventLog, SessionInfo
from store.errors import NameTaken, SessionNotFound, StoreError
from store.log import check_name
from store.names import MAX_NAME

MAX_COUNT = 1_000_000
# a thompson press records one posterior draw per arm (~20 bytes each, two arms per parameter): 128
# parameters keep a press under ~6 KB; older sessions keep whatever size they were recorded with
MAX_THOMPSON_PARAMS = 128
PRESSES = ("next", *BUTTONS)
# every setting a front end may give; the arithmetic is not one: every new session is portable
SETTINGS = tuple(field.name for field in attrs.fields(Settings) if field.name != "arithmetic")
# what a front end offers for each setting (and the JSON kind of its value), without knowing the engine
SETTING_DEFAULTS = {field.name: field.default.factory() if isinstance(field.default, attrs.Factory)
                    and not field.default.takes_self else field.default for field in attrs.fields(Settings)
                    if field.name in SETTINGS}


def random_seed() -> int:
    """A seed drawn from the OS, for a session whose seed was not given (63 bits: it fits SQLite's integer)."""
    return int.from_bytes(os.urandom(8), "little") >> 1


def check_count(count: int, field: str = "count") -> int:
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise InvalidCommand(f"{field} must be from 1 to {MAX_COUNT:,}, got {count}", field=field)
    return count


def settings_from(values: dict) -> Settings:
    """`Settings` from keyword values, each checked against the fields Settings declares, so that a setting
    the engine gains reaches every front end without code here. A refusal names the field at fault."""
    for key in values:
        if key not in SETTINGS:
            raise InvalidSetting(f"{key} is not a setting; the settings are: {', '.join(SETTINGS)}", field=key)
    values = {key: _as_default_type(value, SETTING_DEFAULTS[key]) for key, value in values.items()}
    check_hidden(values.get("hidden"))
    try:
        settings = Settings(**values)
    except InvalidSetting as error:
        raise InvalidSetting(str(error), field=_field_at_fault(values, str(error))) from None
    except (TypeError, ValueError) as error:  # a value of a type attrs cannot even hold, or cannot convert
        field = _field_at_fault(values)
        raise InvalidSetting(f"{field or 'a setting'} cannot be read: {str(error)[:120]}", field=field) from None
    if settings.learner == "thompson" and settings.model.size > MAX_THOMPSON_PARAMS:
        raise InvalidSetting(f"hidden layers of that size make {settings.model.size:,} parameters; a thompson "
                             f"learner nudges one at a time and records a draw per arm (two per parameter), so "
                             f"new thompson sessions take at most {MAX_THOMPSON_PARAMS} parameters", field="hidden")
    return settings


def check_hidden(text) -> None:
    """The engine reads "8,4" with int(), which also takes "８", "٣", "1_0" and " 8": only ASCII digits
    here, and "²" (which int() refuses with a ValueError) is refused naming the field."""
    if isinstance(text, str) and text.strip(" ") and not re.fullmatch(r" *[0-9]{1,6} *(, *[0-9]{1,6} *){0,15}", text):
        # the engine's own wording, which it gives for "8,x"
        raise InvalidSetting(f"hidden takes layer sizes separated by commas, like 8 or 8,4; got {text[:40]!r}",
                             field="hidden")


def _as_default_type(value, default):
    # JSON has one number type: 1 for a float setting is 1.0, so that the log records what the CLI would;
    # a JSON list for a tuple setting is that tuple
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(default, tuple) and isinstance(value, list):
        return tuple(value)
    return value


def _field_at_fault(values: dict, message: str = "") -> str | None:
    # Settings checks its fields together; trying each given value alone against the defaults finds which,
    # and a refusal of two values together (test_share with too few points) names its field first
    for key, value in values.items():
        try:
            Settings(**{key: value})
        except (InvalidSetting, TypeError, ValueError):
            return key
    return next((key for key in values if message.startswith(f"{key} ")), None)


def check_new_session(name: str | None = None, **settings) -> None:
    """Refuse a bad name or settings before anything (even a database file) is made."""
    if name is not None:
        check_name_field(name)
    settings_from({**settings, "seed": 0} if settings.get("seed") is None else settings)


def new_session(log: EventLog, name: str | None = None, member=None, **settings) -> SessionInfo:
    """Start a session from keyword settings (learner, seed, points, ...); the seed is drawn when omitted.
    `member` (engine.membership.ClassMember) makes it a class record or a student's session."""
    if name is not None:
        check_name_field(name)
        check_name_free(log, name)
    if settings.get("seed") is None:
        settings["seed"] = random_seed()
    made = settings_from(settings)
    from service.budget import check_settings

    check_settings(made)
    try:
        return log.new_session(made, name=name, member=member)
    except NameTaken as error:
        error.field = "name"
        raise


def check_name_free(log: EventLog, name: str | None) -> None:
    """Refuse a name another session has, by reading, before anything is written: a refused request must
    leave the file as it was, and the first write to an older database also adds the heads cache. (The
    UNIQUE index still settles a race between two writers.)"""
    if name is None:
        return
    try:
        log.resolve(name)  # a valid name never reads as an id, so this finds it by name or not at all
    except SessionNotFound:
        return
    raise NameTaken(f"the name {name!r} is taken by another session; choose another", field="name")


def free_name(log: EventLog, base: str) -> str:
    """`base` if no session has it, else the first free of `base-2`, `base-3`, ... (cut to fit a name)."""
    for n in range(1, 10_000):
        suffix = "" if n == 1 else f"-{n}"
        name = base[:MAX_NAME - len(suffix)] + suffix
        try:
            log.resolve(name)
        except SessionNotFound:
            return name
        except StoreError:  # reads as an ambiguous id prefix: not a name we can give
            continue
    raise StoreError(f"no free name like {base!r}", field="name")


def refuse_early(log: EventLog, info: SessionInfo, command) -> None:
    """Decide `command` once on the head, by reading, so that a press the engine refuses (a button on a
    gradient session) is refused before the log is opened for writing. Only buttons can be refused."""
    if isinstance(command, Rate):
        state = log.state(info.id)
        decide(state, command, rng_for(state.settings.seed, state.seq + 1))


def check_name_field(name) -> str:
    if not isinstance(name, str):
        raise StoreError(f"name must be text, got {name!r}", field="name")
    try:
        return check_name(name)
    except StoreError as error:
        raise type(error)(str(error), field="name") from None


def list_sessions(log: EventLog) -> list[dict]:
    """The objects of `sessions --json`: every session with learner, length, accuracy and score, read from
    the heads read model where it agrees with the log (folded otherwise). A session that cannot be read
    is listed too, with `ok: false` and `problem: {seq, reason}`, so that it hides no other."""
    from store.heads import summaries

    return [summary.to_json() for summary in summaries(log)]


def check_press(press, allowed=PRESSES) -> str:
    """`press` itself when it is one of `allowed` ("next" and the four buttons)."""
    if press not in allowed:
        raise InvalidCommand(f"unknown button {press!r}; press one of: {', '.join(allowed)}", field="press")
    return press


def commands(press: str, count: int = 1, source: str = "cli") -> list:
    """The engine commands of pressing `press` ("next" or a button) `count` times."""
    check_count(count)
    if check_press(press) == "next":
        return [Next(source=source)] * count
    return [Rate(press, source=source)] * count


def record(log: EventLog, ref: str, press: str, count: int = 1, source: str = "cli", on_commit=None):
    """Press `press` `count` times on session `ref`; returns (session, state after the last press)."""
    from store.departure import message
    from store.errors import OtherArithmetic

    presses = commands(press, count, source)
    info = log.resolve(ref)
    refuse_early(log, info, presses[0])
    try:
        return info, log.record(info.id, presses, on_commit=on_commit)
    except OtherArithmetic as error:  # said with the name the person knows the session by
        raise OtherArithmetic(message(info.label, error.seq, error.head_hash), error.seq, error.head_hash) from None


MAX_KEY = 200


def record_once(log: EventLog, ref: str, press: str, count: int, key: str, source: str = "web"):
    """`record` under an idempotency key: the presses are one batch committed with the key, and a key
    recorded before (by a request that got no answer, say) presses nothing: the answer is the first one's
    state. Returns (session, state, whether it was that earlier result)."""
    from store.recorder import KeyRecorded

    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY or not key.isascii() or not key.isprintable():
        raise InvalidCommand(f"key must be 1 to {MAX_KEY} printable ASCII characters", field="key")
    request = f"{press} x{count}"
    presses = commands(press, count, source)
    info = log.resolve(ref)
    found = log.recorded_by(key)
    if found is None:
        refuse_early(log, info, presses[0])
        try:
            return info, log.record(info.id, presses, batch=len(presses), key=key, request=request), False
        except KeyRecorded:  # a twin of this request committed first
            found = log.recorded_by(key)
    session_id, first_request, _, last_seq = found
    if (session_id, first_request) != (info.id, request):
        raise InvalidCommand(f"key {key[:40]!r} was used for another request ({first_request} on session "
                             f"{session_id[:12]}); use a new key for a new request", field="key")
    return info, log.state(info.id, last_seq), True


def session_settings(log: EventLog, ref: str):
    """(session, its settings, its head seq): what a budget is reckoned from (seq 1 holds every setting)."""
    info = log.resolve(ref)
    head, _ = log.head(info.id)
    return info, log.state(info.id, 1).settings, head


def check_at(log: EventLog, info: SessionInfo, at) -> int:
    """The head seq when `at` is None, else `at` itself once it is a seq of the session."""
    head, _ = log.head(info.id)
    if at is None:
        return head
    if isinstance(at, bool) or not isinstance(at, int) or not 1 <= at <= head:
        raise StoreError(f"at {at} is outside this session's history (1..{head})", field="at")
    return at


def state_json(info: SessionInfo, state, head_hash: str, digest: str) -> dict:
    """The object of `show --json`. `points` lists every point of the data set; the held-out ones are also
    `test_points` (the last of `points`). `weights` and `bias` are there for release 0.1's perceptron on
    (x, y); every model has `model` and `params` (see engine.view.model_fields)."""
    m = state.metrics
    model = state.settings.model
    out = {
        "session_id": info.id, "name": info.name, "seq": state.seq, "learner": state.settings.learner,
        "parent_id": info.parent_id, "parent_seq": info.parent_seq,
        "settings": state.settings.to_dict(),
        "loss": m.loss, "accuracy": m.accuracy, "score": m.score, "head_hash": head_hash, "digest": digest,
        "arithmetic": state.settings.arithmetic,
        "last_button": state.last_button, "separator": list(state.data.separator),
        "points": [[float(x), float(y), int(label)] for (x, y), label in zip(state.data.points, state.data.labels)],
        **model_fields(state),
    }
    if model.legacy:
        w1, w2, b = (float(v) for v in state.params)
        out.update(weights=[w1, w2], bias=b)
    if state.learner is not None:
        p = state.learner.posteriors
        arms = model.arms
        out["pending_action"] = None if state.learner.pending is None else arms[state.learner.pending]
        out["posteriors"] = [{"action": action, "alpha": a, "beta": b_, "mean": a / (a + b_)}
                             for action, a, b_ in zip(arms, p.alpha, p.beta)]
    return out


def show(log: EventLog, ref: str, at: int | None = None) -> tuple[SessionInfo, object, dict]:
    """(session, state, show object) at the head or after event `at`. Besides `state_json`'s keys:
    `recorded_digest`, the digest the log records there, and `replay`: "as recorded" when this machine's
    fold gives that state, "other arithmetic" when it does not but the session was recorded in machine
    arithmetic with its chain intact (`problem` then says where it departs and what to do), "differs"
    otherwise (the log does not fold to its record: `audit` says why)."""
    info = log.resolve(ref)
    seq = check_at(log, info, at)
    state = log.state(info.id, seq)
    row = next(log.rows(info.id, seq, seq))
    out = state_json(info, state, row.hash, state_digest(state))
    # `show` folds a release-0.1/0.2 session whole, as `next` does before pressing: one verdict for both
    out.update(record_fields(log, info, state, row, out["digest"], whole=True))
    return info, state, out


_ORIGINS: dict[tuple[str, str], str | None] = {}  # (session id, seq 1's payload) -> its origin


def _origin(first) -> str | None:
    """The session a session re-presses (None for most), read from its first event once per process: a
    page's press answer says it, and reading seq 1 strictly was a tenth of a press's time. Keyed by the
    payload itself, so a different first event is read again."""
    key = (first.session_id, first.payload)
    if key not in _ORIGINS:
        if len(_ORIGINS) >= 4096:
            _ORIGINS.clear()
        _ORIGINS[key] = first.decoded().get("origin")
    return _ORIGINS[key]


def record_fields(log: EventLog, info: SessionInfo, state, row, digest: str, whole: bool = False) -> dict:
    """What the log records beside a folded state: `origin` (the session this one re-presses, or None),
    `recorded_digest`, and `replay` ("as recorded", "other arithmetic" with a `problem` saying where it
    departs and what to do, or "differs"), so that no front end presents a fold as the log's word. With
    `whole`, a release-0.1/0.2 session whose state here matches the record but whose fold departed from it
    before (and met it again) says so too, as `next` refuses it: this folds the whole log."""
    from store.departure import VERDICT, explain, whole_fold_departs
    from store.errors import OtherArithmetic

    first = row if row.seq == 1 else next(log.rows(info.id, 1, 1))
    out = {"origin": _origin(first), "recorded_digest": row.state_digest, "replay": "as recorded"}
    if digest != row.state_digest:
        other = explain(log, info.id, info.label, state.settings)
        out["replay"] = "differs" if other is None else VERDICT
        if other is not None:
            out["problem"] = {"seq": other.seq, "reason": str(other)}
    elif whole and not state.settings.portable:  # met the record again after departing from it on the way
        departed = whole_fold_departs(log, info.id, info.label, state.settings)
        if departed is not None and (getattr(departed, "seq", None) or 0) <= row.seq:
            out["replay"] = VERDICT if isinstance(departed, OtherArithmetic) else "differs"
            out["problem"] = {"seq": getattr(departed, "seq", None), "reason": str(departed)}
    return out


def recorded_digest(log: EventLog, info: SessionInfo, seq: int) -> str:
    """The state digest the event at `seq` records. A front end must not present a folded state as the
    log's when its digest differs (the log was changed after recording; `audit` says where)."""
    return next(log.rows(info.id, seq, seq)).state_digest


def drawing(state, grid: int, truth: bool = True) -> dict:
    """What a page draws of a state, computed by the engine: the model's probability of red on a grid
    (rows bottom to top), the predicted label of every point, the data set's rule on the same grid (its zero
    contour is the true boundary; null for a data set without one; left out with `truth=False`) and how
    many of the points train (the rest, the last ones, are held out)."""
    predicted = probability(state, state.data.points) > 0.5
    field = truth_grid(state, grid) if truth else None
    # four decimals are finer than any screen shows, and keep the answer small (numpy rounds the whole
    # grid at once: per value, rounding was a quarter of a scrubbing answer's time)
    out = {"grid": np.round(probability_grid(state, grid), 4).tolist(), "predicted": [int(p) for p in predicted]}
    if truth:
        out["truth"] = None if field is None else np.round(field, 4).tolist()
    out["train_points"] = state.data.n_train
    return out


def events(log: EventLog, ref: str, metrics: bool = False, after: int = 0, limit: int | None = None,
           checked: bool = False) -> list[dict]:
    """The objects of `log --json` (with `--metrics`: each event's resulting loss, accuracy and score, and
    test_loss and test_accuracy on the held-out points, null for a session that holds none out),
    for events after seq `after`, at most `limit` of them. `checked`: metrics only of states that are the
    ones their events record (UnsoundLog otherwise, as a drawing is refused)."""
    return list(iter_events(log, ref, metrics, after, limit, checked))


def iter_events(log: EventLog, ref: str, metrics: bool = False, after: int = 0, limit: int | None = None,
                checked: bool = False):
    """`events`, one at a time as they are read: memory does not grow with the session. The arguments are
    checked and the session resolved before the first event is asked for."""
    for value, field, least in ((after, "after", 0), (limit, "limit", 1)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < least):
            raise StoreError(f"{field} must be a whole number of at least {least}, got {value}", field=field)
    info = log.resolve(ref)
    head, _ = log.head(info.id)
    start = after + 1
    end = head if limit is None else min(head, after + limit)
    if start > end:
        return iter(())
    if metrics:
        pairs = log.states(info.id, start, end)
        if checked:
            from service.history import as_recorded

            pairs = as_recorded(info, pairs)
    else:
        pairs = ((row, None) for row in log.rows(info.id, start, end))
    return (_record(row, state) for row, state in pairs)


def _record(row, state) -> dict:
    record = row.to_json()
    if state is not None:
        m = state.metrics
        record.update(loss=m.loss, accuracy=m.accuracy, score=m.score, test_loss=m.test_loss,
                      test_accuracy=m.test_accuracy)
    return record
