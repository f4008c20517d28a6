"""Who belongs to which class, read from each session's first event and kept per process.

A session's membership is the `class` member of its `session_started` (seq 1), which the guards keep from
ever changing. So it is read once per process and kept, keyed by the session id and seq 1's hash: a key
that no longer matches what the log holds (another database, a file edited by hand) is read again. With 200
students a listing costs one query for the keys and nothing more once they are known.
"""

import attrs

from engine import NnreplayError
from engine.membership import ClassMember
from store.chain import decode_strict

# (session id, seq 1 hash) -> (member or None, seq 1 recorded_at); bounded so a long-lived server stays small
_KNOWN: dict[tuple[str, str], tuple[ClassMember | None, str]] = {}
_MOST = 100_000


@attrs.frozen
class Member:
    """A session's place in a class: `role` "class" (the class record) or "student"; `class_id` is the
    class record's id (its own for a record), `joined_at` seq 1's `recorded_at`, `created_at` the session
    row's (a fork copies seq 1, so it joined when its parent did, and was created later)."""

    session_id: str
    role: str
    class_name: str
    class_id: str
    student: str | None
    token_hash: str | None
    joined_at: str
    created_at: str = ""

    @classmethod
    def of(cls, session_id: str, member: ClassMember, joined_at: str, created_at: str = "") -> "Member":
        class_id = session_id if member.is_record else member.class_id
        return cls(session_id, member.role, member.name, class_id, member.student, member.token, joined_at,
                   created_at)

    @property
    def order(self) -> tuple:
        """A student's first session is the one that joined first, then was created first, then by id."""
        return (self.joined_at, self.created_at, self.session_id)


def class_members(log) -> dict[str, Member]:
    """Every session that belongs to a class (records and students), by session id."""
    keys = log._read("SELECT s.id, e.hash, s.created_at FROM sessions s JOIN events e ON e.session_id = s.id "
                     "AND e.seq = 1 WHERE e.schema_version >= 3")
    _learn(log, [(session_id, hash_) for session_id, hash_, _ in keys if (session_id, hash_) not in _KNOWN])
    out = {}
    for session_id, hash_, created_at in keys:
        member, joined_at = _KNOWN.get((session_id, hash_), (None, ""))
        if member is not None:
            out[session_id] = Member.of(session_id, member, joined_at, created_at)
    return out


def member(log, session_id: str) -> Member | None:
    """The class membership of one session, or None (not in a class, or no such session)."""
    rows = log._read("SELECT hash, recorded_at FROM events WHERE session_id = ? AND seq = 1", (session_id,))
    if not rows:
        return None
    key = (session_id, rows[0][0])
    if key not in _KNOWN:
        _learn(log, [key])
    found, joined_at = _KNOWN.get(key, (None, ""))
    return None if found is None else Member.of(session_id, found, joined_at)


def _learn(log, keys: list[tuple[str, str]]) -> None:
    if len(_KNOWN) + len(keys) > _MOST:
        _KNOWN.clear()
    for start in range(0, len(keys), 500):  # SQLite caps the number of parameters of one statement
        chunk = dict(keys[start:start + 500])
        marks = ", ".join("?" * len(chunk))
        rows = log._read(f"SELECT session_id, hash, recorded_at, schema_version, payload FROM events WHERE seq = 1 "
                         f"AND session_id IN ({marks})", tuple(chunk))
        for session_id, hash_, recorded_at, version, payload in rows:
            _KNOWN[(session_id, hash_)] = (_parse(version, payload), recorded_at)


def _parse(version, payload: str) -> ClassMember | None:
    # a first event that does not read is no member of any class; audit says what is wrong with it
    try:
        found = decode_strict(payload).get("class") if version >= 3 else None
        return None if found is None else ClassMember.from_payload(found)
    except (NnreplayError, ValueError, AttributeError, TypeError):
        return None
