"""Re-press: a new session that presses another session's presses again, in order, in portable arithmetic.

It is how a session recorded by nnreplay 0.1/0.2 in machine-dependent arithmetic carries on portably, and
how a person's feedback stream is replayed under other settings (what-if: another discount, prior, step,
lr or model). The presses are the original's events after its first (Next iterations and the four
buttons, a fork's parent steps included, since a fork's log holds them); the data set and every learner
draw are the new session's own, decided in portable arithmetic from its seed. The new session's first
event names the original (its id, head hash and head seq) and the settings given anew.
"""

import attrs

from engine import InvalidCommand, InvalidSetting, Next, Rate, Settings
from engine.arithmetic import PORTABLE_NAME
from engine.events import Origin
from store import EventLog, SessionInfo
from store.errors import NameTaken, StoreError

from service.sessions import check_name_field, check_name_free, free_name, settings_from


def refuse_class_record(info: SessionInfo, member) -> None:
    """A copy of a class record would be a second record of the same class: forks and re-presses of a
    student's session are theirs, of the record none."""
    if member is not None and member.is_record:
        raise InvalidCommand(f"{info.label} is the record of class {member.name!r}; a copy of it would be a second "
                             f"record of that class, so it is not forked or re-pressed (start a session with "
                             f"`nnreplay new` to try its settings)", field="ref")


WINDOW = 1_000  # rows read at a time: no cursor stays open while the new session's batches are written


def _presses(log: EventLog, info: SessionInfo, head: int):
    for start in range(2, head + 1, WINDOW):
        for row in list(log.rows(info.id, start, min(start + WINDOW - 1, head))):
            payload = row.decoded()
            yield (Rate(payload["button"], payload["source"]) if row.type == "feedback_given"
                   else Next(payload["source"]))


def plan(log: EventLog, ref: str, overrides: dict) -> tuple[SessionInfo, Settings, Origin]:
    """(original, the new session's settings, its origin), checked before anything is written: the
    original's chain must be intact, a button stream needs a thompson learner, and a class record (whose
    name is its class's) is not re-pressed."""
    from store.departure import chain_intact

    info = log.resolve(ref)
    intact, head_hash = chain_intact(log, info.id)
    if not intact:
        raise StoreError(f"{info.label}: its hash chain does not verify, so its presses cannot be trusted and "
                         f"nothing was re-pressed; `nnreplay audit {info.label}` says where it breaks")
    head, _ = log.head(info.id)
    first = next(log.rows(info.id, 1, 1)).event()
    refuse_class_record(info, first.member)
    original = first.settings
    given = {key: value for key, value in overrides.items() if value is not None}
    merged = {**{f.name: getattr(original, f.name) for f in attrs.fields(Settings) if f.name != "arithmetic"}, **given}
    settings = attrs.evolve(settings_from(merged), arithmetic=PORTABLE_NAME)
    if settings.learner != "thompson":
        buttons = log._read("SELECT COUNT(*) FROM events WHERE session_id = ? AND type = 'feedback_given'",
                            (info.id,))[0][0]
        if buttons:
            raise InvalidSetting(f"{info.label} has {buttons} feedback press{'es' if buttons != 1 else ''}; the four "
                                 f"buttons train thompson sessions, so a {settings.learner} learner cannot take them",
                                 field="learner")
    changed = tuple(sorted(key for key, value in given.items() if getattr(original, key) != getattr(settings, key)))
    return info, settings, Origin(info.id, head_hash, head, changed)


def repress(log: EventLog, ref: str, name: str | None = None, on_commit=None, **overrides) -> tuple[SessionInfo, SessionInfo]:
    """Record the re-pressed session; returns (original, new session). `overrides` are settings of `new`
    (None for "the original's"); `on_commit(n)` hears how many presses each committed batch held. Without
    a name the new session is called ORIGINAL-repress (-2, -3, ... when that is taken)."""
    if name is not None:
        check_name_field(name)
    original, settings, origin = plan(log, ref, overrides)
    if name is None:
        name = free_name(log, f"{original.label}-repress")
    check_name_free(log, name)
    # a student's re-press is theirs too: it keeps the original's class member
    member = next(log.rows(original.id, 1, 1)).event().member
    try:
        info = log.new_session(settings, name=name, origin=origin, member=member)
    except NameTaken as error:
        error.field = "name"
        raise
    if origin.seq > 1:
        log.record(info.id, _presses(log, original, origin.seq), on_commit=on_commit)
    return original, info
