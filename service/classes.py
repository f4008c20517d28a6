"""Classes: a class record (the teacher's session, named after the class) and its students' sessions.

Everything about a class is in the log (docs/classes.md): the `class` member of each session's first event
says which class it belongs to and as what; `class_paused` / `class_resumed` events of the record say
whether students may press. Plain values in and out, nnreplay's errors naming their field; never prints.
"""

import hashlib
import unicodedata

import attrs

from engine import InvalidCommand, InvalidSetting, NnreplayError, PauseClass
from engine.membership import LESSONS, MAX_DISPLAY_NAME, ClassMember, display_name_problem
from store import EventLog, SessionInfo, head_states
from store.errors import AmbiguousSession, InvalidName, NameTaken, SessionNotFound, StoreError
from store.names import MAX_NAME

from service.members import Member, class_members, member
from service.sessions import (SETTINGS, check_name_field, free_name, list_sessions, new_session, random_seed,
                              settings_from)

LEARNER = {"supervised": "gradient", "feedback": "thompson", "auto-scored": "thompson"}
MAX_STUDENTS = 200
_SHOWN_TRIES = 1_000

__all__ = ["ClassFull", "ClassInfo", "ClassNotFound", "ClassPaused", "LESSONS", "MAX_STUDENTS", "Member", "Student",
           "boards", "check_display_name", "check_not_paused", "class_audit", "class_export", "class_sessions",
           "find_class", "join", "list_classes", "member", "new_student_session", "open_class", "set_paused",
           "student_by_token", "students"]


class ClassNotFound(SessionNotFound):
    """No class has that name (HTTP 404, field `class`)."""


class ClassFull(NnreplayError):
    """The class has its most students already (HTTP 409, field `class`)."""


class ClassPaused(NnreplayError):
    """The teacher paused the class: a student's press waits for Resume (HTTP 423, field `class`)."""


class NotYours(NnreplayError):
    """A student acting on a session that is not theirs, or that does not exist (HTTP 403, field `ref`)."""


NOT_YOURS = "this session is not yours: in a class you open and press only your own sessions"


@attrs.frozen
class ClassInfo:
    id: str
    name: str
    lesson: str
    settings: dict
    paused: bool
    students: int

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "lesson": self.lesson, "settings": self.settings,
                "paused": self.paused, "students": self.students}


@attrs.frozen
class Student:
    """One student: the shown name, their sessions (the first is their board) and its head metrics."""

    name: str
    token_hash: str
    session: str
    sessions: tuple[str, ...]
    joined_at: str
    presses: int | None
    accuracy: float | None
    score: float | None
    held_out_accuracy: float | None

    def to_json(self) -> dict:  # the token hash stays on the server
        return {"name": self.name, "session": self.session, "sessions": list(self.sessions),
                "joined_at": self.joined_at, "presses": self.presses, "accuracy": self.accuracy,
                "score": self.score, "held_out_accuracy": self.held_out_accuracy}


# -- the class record -----------------------------------------------------------------------------------
def open_class(log: EventLog, name: str, lesson: str | None = None, **settings) -> ClassInfo:
    """The class `name`, made now (its record starts with the lesson's settings) or continued: a lesson
    or setting given that differs from the recorded one is refused naming it; giving none is fine."""
    _check_class_name(name)
    given = {key: value for key, value in settings.items() if value is not None}
    if lesson is not None and lesson not in LESSONS:
        raise InvalidSetting(f"lesson must be one of {', '.join(LESSONS)}, got {lesson!r}", field="lesson")
    try:
        found = find_class(log, name)
    except ClassNotFound:
        found = None
    if found is not None:
        _refuse_changes(found, lesson, given)
        return found
    lesson = lesson or "supervised"
    learner = given.setdefault("learner", LEARNER[lesson])
    if learner != LEARNER[lesson]:
        raise InvalidSetting(f"learner: the {lesson} lesson trains a {LEARNER[lesson]} learner, not {learner}",
                             field="learner")
    try:
        new_session(log, name=name, member=ClassMember("class", name, lesson=lesson), **given)
    except NameTaken:
        raise NameTaken(f"the name {name!r} is taken by a session that is not a class; choose another class "
                        f"name", field="class") from None
    return find_class(log, name)


def _check_class_name(name) -> None:
    try:
        check_name_field(name)
    except StoreError as error:
        raise InvalidName(f"class: {error}", field="class") from None


def _refuse_changes(found: ClassInfo, lesson: str | None, given: dict) -> None:
    if lesson is not None and lesson != found.lesson:
        raise InvalidSetting(f"lesson: class {found.name!r} is a {found.lesson} lesson, not {lesson}; give none "
                             f"to continue it", field="lesson")
    recorded = {key: value for key, value in found.settings.items() if key in SETTINGS}
    merged = settings_from({**recorded, **given})
    for key in given:
        if getattr(merged, key) != getattr(settings_from(recorded), key):
            raise InvalidSetting(f"{key}: class {found.name!r} was started with {key} {recorded.get(key)!r}; a "
                                 f"class keeps its lesson's settings (give none to continue it)", field=key)


def find_class(log: EventLog, name: str) -> ClassInfo:
    """The class record named `name` (ClassNotFound, field `class`, when there is none)."""
    members = class_members(log)
    record = _record(log, members, name)
    return _info(log, record, members)


def _record(log: EventLog, members: dict[str, Member], name) -> SessionInfo:
    if not isinstance(name, str) or not name:
        raise ClassNotFound("class must be a class's name", field="class")
    try:
        info = log.resolve(name)
    except StoreError:
        info = None
    found = None if info is None else members.get(info.id)
    if found is None or found.role != "class" or found.class_name != name or info.name != name:
        known = sorted(m.class_name for m in members.values() if m.role == "class")
        hint = f"; the classes are: {', '.join(known[:10])}" if known else "; this database holds no class"
        raise ClassNotFound(f"no class named {name!r}{hint}", field="class")
    return info


def list_classes(log: EventLog) -> list[ClassInfo]:
    """Every class of the database, oldest first."""
    members = class_members(log)
    records = sorted((m for m in members.values() if m.role == "class"), key=lambda m: m.order)
    out = []
    for record in records:
        try:
            out.append(_info(log, _record(log, members, record.class_name), members))
        except ClassNotFound:  # a record renamed on import: audit reports it
            continue
    return out


def _info(log: EventLog, record: SessionInfo, members: dict[str, Member]) -> ClassInfo:
    first = next(log.rows(record.id, 1, 1)).decoded()
    tokens = {m.token_hash for m in members.values() if m.role == "student" and m.class_id == record.id}
    return ClassInfo(record.id, record.name, first["class"]["lesson"], first["settings"], _paused(log, record.id),
                     len(tokens))


def _paused(log: EventLog, record_id: str) -> bool:
    rows = log._read("SELECT type FROM events WHERE session_id = ? AND type IN ('class_paused', 'class_resumed') "
                     "ORDER BY seq DESC LIMIT 1", (record_id,))
    return bool(rows) and rows[0][0] == "class_paused"


def set_paused(log: EventLog, class_name: str, paused: bool) -> ClassInfo:
    """Pause (or resume) the class: a `class_paused` (`class_resumed`) event of its record, none when the
    class is already so."""
    if not isinstance(paused, bool):
        raise InvalidCommand(f"paused must be true or false, got {paused!r}", field="paused")
    info = find_class(log, class_name)
    if info.paused != paused:
        try:
            log.record(info.id, [PauseClass(paused)])
        except InvalidCommand as error:
            if error.field != "paused":  # another process paused (resumed) it first: it is so now
                raise
    return find_class(log, class_name)


def check_not_paused(log: EventLog, session_id: str, found: Member | None = None) -> None:
    """Refuse (ClassPaused) a press on a student's session while their class is paused. The web calls it
    before pressing, with the membership it has just read (`found`); the command line does not (the teacher
    at the terminal is trusted)."""
    if found is None or found.session_id != session_id:
        found = member(log, session_id)
    if found is not None and found.role == "student" and _paused(log, found.class_id):
        raise ClassPaused(f"the class {found.class_name!r} is paused by the teacher; presses wait until it "
                          f"is resumed", field="class")


def claim(log: EventLog, ref: str, token_hash: str, writing: bool = False) -> str:
    """The id of the session `ref` names, which must be a session of the student whose token hashes to
    `token_hash` (NotYours otherwise, also for a name no session has: names are not a student's to probe);
    `writing` also refuses while their class is paused (ClassPaused)."""
    if not isinstance(ref, str) or len(ref) > MAX_NAME:
        raise NotYours(NOT_YOURS, field="ref")
    try:
        info = log.resolve(ref)
    except (SessionNotFound, AmbiguousSession):
        raise NotYours(NOT_YOURS, field="ref") from None
    found = member(log, info.id)
    if found is None or found.role != "student" or found.token_hash != token_hash:
        raise NotYours(NOT_YOURS, field="ref")
    if writing:
        check_not_paused(log, info.id, found)
    return info.id


# -- students -------------------------------------------------------------------------------------------
def check_display_name(text) -> str:
    """The shown name a student asked for: stripped, NFC-normalised, 1 to 40 printable characters (no
    control or invisible formatting characters such as right-to-left marks; emoji are fine). Field `name`."""
    if not isinstance(text, str):
        raise InvalidName("name must be text", field="name")
    shown = unicodedata.normalize("NFC", text.strip())
    problem = display_name_problem(shown)
    if problem is not None:
        raise InvalidName(problem, field="name")
    return shown


def class_sessions(log: EventLog, class_name: str) -> list[Member]:
    """The record and every student's session of the class, the record first, then by joining time."""
    members = class_members(log)
    return _sessions_of(members, _record(log, members, class_name).id)


def _sessions_of(members: dict[str, Member], record_id: str) -> list[Member]:
    mine = [m for m in members.values() if m.role == "student" and m.class_id == record_id]
    return [members[record_id], *sorted(mine, key=lambda m: m.order)]


def _by_student(log: EventLog, class_name: str, members: dict[str, Member] | None = None,
                record_id: str | None = None) -> dict[str, list[Member]]:
    """Each student's sessions, first session first, by token hash; `members` and `record_id` when the
    caller has just read them."""
    if members is None or record_id is None:
        members = class_members(log)
        record_id = _record(log, members, class_name).id
    grouped: dict[str, list[Member]] = {}
    for found in _sessions_of(members, record_id)[1:]:
        grouped.setdefault(found.token_hash, []).append(found)
    return grouped


def first_sessions(log: EventLog, class_name: str) -> list[Member]:
    """Each student's first session (their board), in joining order."""
    return [found[0] for found in _by_student(log, class_name).values()]


def students(log: EventLog, class_name: str) -> list[Student]:
    """Every student of the class, in joining order, with their first session's head metrics (from the
    heads read model; held-out accuracy from the head's state, kept per head hash)."""
    return _with_metrics(log, _by_student(log, class_name))


def _with_metrics(log: EventLog, grouped: dict[str, list[Member]]) -> list[Student]:
    from store.heads import summaries

    firsts = [found[0].session_id for found in grouped.values()]
    heads = {summary.info.id: summary for summary in summaries(log, firsts)}
    out = []
    for token_hash, found in grouped.items():
        head = heads.get(found[0].session_id)
        metrics = (head.metrics if head is not None else None) or {}
        presses = None if head is None or head.events is None else max(0, head.events - 1)
        held_out = None if head is None or head.head_hash is None else _held_out(log, head)
        out.append(Student(found[0].student, token_hash, found[0].session_id, tuple(m.session_id for m in found),
                           found[0].joined_at, presses, metrics.get("accuracy"), metrics.get("score"), held_out))
    return out


_HELD_OUT: dict[tuple[str, str], float | None] = {}


def _held_out(log: EventLog, head) -> float | None:
    """Held-out accuracy at the head (None for a session that holds none out), folded once per head hash."""
    key = (head.info.id, head.head_hash)
    if key not in _HELD_OUT:
        if len(_HELD_OUT) > 10_000:
            _HELD_OUT.clear()
        try:
            state = head_states.head_state(log, head.info.id, head.events, head.head_hash)
            _HELD_OUT[key] = state.metrics.test_accuracy
        except NnreplayError:  # a log that does not fold: `sessions` and audit say why
            return None
    return _HELD_OUT[key]


def student_by_token(log: EventLog, class_name: str, token_hash: str) -> Student | None:
    """The student whose cookie token hashes to `token_hash`, or None (only that student's head is read)."""
    found = _by_student(log, class_name).get(token_hash)
    return None if found is None else _with_metrics(log, {token_hash: found})[0]


def join(log: EventLog, class_name: str, display_name: str, token_hash: str,
         max_students: int = MAX_STUDENTS, pending=()) -> tuple[SessionInfo, str]:
    """A new student's first session in the lesson; returns (session, shown name). A shown name taken in the
    class gets " 2", " 3", ...; the session is named CLASS/SHOWN, so the sessions table's UNIQUE name settles
    two joins racing for one shown name (the loser takes the next suffix). ClassFull beyond `max_students`."""
    wanted = check_display_name(display_name)
    _check_token_hash(token_hash)
    members = class_members(log)  # read once for the class and its students: a join of the 200th reads 200
    info = _info(log, _record(log, members, class_name), members)
    grouped = _by_student(log, class_name, members, info.id)
    if token_hash in grouped:  # the same cookie joining again: their own session, not a second student
        first = grouped[token_hash][0]
        return log.resolve(first.session_id), first.student
    # `pending`: the tokens of other joins under way (a server's), which may not be in the log yet: their
    # seats are taken too, so joins racing for the last seats never seat more than max_students
    if len(set(grouped) | set(pending)) >= max_students:
        raise ClassFull(f"the class {class_name!r} is full: it has its {max_students} students", field="class")
    taken = {found[0].student for found in grouped.values()}
    for n in range(1, _SHOWN_TRIES):
        suffix = "" if n == 1 else f" {n}"
        shown = wanted[:MAX_DISPLAY_NAME - len(suffix)].rstrip() + suffix
        if shown in taken:
            continue
        member_ = ClassMember("student", class_name, class_id=info.id, student=shown, token=token_hash)
        try:
            return _student_session(log, info, member_, _session_name(class_name, shown)), shown
        except NameTaken:  # a racing join took this shown name (or another session has the name): the next
            taken.add(shown)
    raise ClassFull(f"no free name like {wanted!r} in class {class_name!r}", field="name")


def _session_name(class_name: str, shown: str) -> str:
    # "/" keeps the name from ever reading as a hex id (store.names)
    return f"{class_name[:MAX_NAME - len(shown) - 1]}/{shown}"


def _check_token_hash(token_hash) -> None:
    if not (isinstance(token_hash, str) and len(token_hash) == 64 and set(token_hash) <= set("0123456789abcdef")):
        raise InvalidCommand("token_hash must be the sha256 of the student's token, as 64 lowercase hex digits",
                             field="token")


def token_hash_of(token: str) -> str:
    """The sha256 (hex) of a cookie token: what the log keeps instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _student_session(log: EventLog, info: ClassInfo, member_: ClassMember, name: str) -> SessionInfo:
    settings = {key: value for key, value in info.settings.items() if key in SETTINGS}
    settings["seed"] = random_seed()  # each student draws their own data set and start; recorded in settings
    return new_session(log, name=name, member=member_, **settings)


def new_student_session(log: EventLog, class_name: str, token_hash: str, name: str | None = None) -> SessionInfo:
    """Another session in the lesson for the student of `token_hash` (a seed of its own); named `name`, or
    CLASS/SHOWN-2, -3, ..."""
    found = _by_student(log, class_name).get(token_hash)
    if found is None:
        raise SessionNotFound(f"no student of class {class_name!r} has that token", field="token")
    info = find_class(log, class_name)
    first = found[0]
    member_ = ClassMember("student", class_name, class_id=info.id, student=first.student, token=token_hash)
    if name is None:
        name = free_name(log, _session_name(class_name, first.student))
    return _student_session(log, info, member_, name)


# -- reading a whole class ------------------------------------------------------------------------------
def class_listing(log: EventLog, class_name: str) -> list[dict]:
    """`sessions --json` objects of the class's sessions: the record, then the students' in joining order."""
    ids = {found.session_id: found for found in class_sessions(log, class_name)}
    listed = {entry["id"]: entry for entry in list_sessions(log) if entry["id"] in ids}
    out = []
    for session_id, found in ids.items():
        if session_id in listed:
            out.append({**listed[session_id], "role": found.role, "student": found.student})
    return out


def class_export(log: EventLog, class_name: str):
    """The class as JSON Lines: the record's export, then each student's sessions', one after another
    (`nnreplay import` reads such a file whole, each session verified before anything is written)."""
    import io

    from store.portable import export

    for found in class_sessions(log, class_name):
        out = io.StringIO()
        export(log, log.resolve(found.session_id), out)
        yield from out.getvalue().splitlines(keepends=True)


def class_audit(log: EventLog, class_name: str, parallel: bool = True):
    """The store's AuditReport of the class's sessions (with the class check: every student's session names
    this record, under its name)."""
    from service.audit import audit

    return audit(log, [log.resolve(found.session_id) for found in class_sessions(log, class_name)], parallel=parallel)


MAX_PANELS = 36  # a class GIF's grid of boards: 6 x 6 at most, each still big enough to read


def replay_sessions(log: EventLog, class_name: str) -> tuple[list[str], int]:
    """(the first sessions of the first MAX_PANELS students in joining order, how many students there are):
    what `replay --class` puts side by side."""
    firsts = [first.session_id for first in first_sessions(log, class_name)]
    if not firsts:
        raise InvalidCommand(f"the class {class_name!r} has no students yet: there is nothing to replay", field="class")
    return firsts[:MAX_PANELS], len(firsts)


def boards(log: EventLog, class_name: str, grid: int = 24, sessions=None) -> list[dict]:
    """Each student's first session, or the students' sessions among `sessions` (any other id is left out),
    drawn small (service.class_boards). Only the boards asked for are read: the overview asks for the few
    that moved."""
    from service.class_boards import board

    if isinstance(grid, bool) or not isinstance(grid, int) or not 2 <= grid <= 64:
        raise InvalidCommand(f"grid must be a whole number from 2 to 64, got {grid!r}", field="grid")
    if sessions is None:
        firsts = first_sessions(log, class_name)
    else:  # each session's own membership (kept per process), not the whole class's: the overview asks often
        record_id = _record_id(log, class_name)
        found = (member(log, session_id) for session_id in sessions)
        firsts = sorted((one for one in found if one is not None and one.role == "student"
                         and one.class_id == record_id), key=lambda one: one.order)
    return [board(log, first.session_id, first.student, grid) for first in firsts]


def _record_id(log: EventLog, class_name: str) -> str:
    """The id of the class record named `class_name`, read from its own membership (find_class, which reads
    every member, says why when it is not one)."""
    try:
        info = log.resolve(class_name)
    except StoreError:
        info = None
    found = None if info is None else member(log, info.id)
    if (info is None or found is None or found.role != "class" or found.class_name != class_name
            or info.name != class_name):
        return find_class(log, class_name).id
    return info.id
