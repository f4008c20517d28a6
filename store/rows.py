"""The values a log hands out: a session's row, an event's row, and the columns they are read from."""

from datetime import datetime, timezone

import attrs

from engine.events import Event
from store.chain import decode_strict
from store.errors import UnsoundLog

EVENT_COLUMNS = "session_id, seq, type, schema_version, payload, recorded_at, prev_hash, hash, state_digest"
SESSION_COLUMNS = "id, name, learner, seed, created_at, parent_id, parent_seq"
INSERT_EVENT = f"INSERT INTO events ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
INSERT_SESSION = f"INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"


def utc_now() -> str:
    """UTC ISO-8601 with microseconds, e.g. 2026-11-25T21:33:14.196716+00:00."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


@attrs.frozen
class SessionInfo:
    id: str
    name: str | None
    learner: str
    seed: int
    created_at: str
    parent_id: str | None
    parent_seq: int | None

    @property
    def label(self) -> str:
        return self.name if self.name is not None else self.id[:8]


@attrs.frozen
class UnlistedSession(SessionInfo):
    """Events whose session has no row in `sessions` (it was deleted): audit reports them, so that no event
    of the file goes unaccounted for. Learner and seed come from its first event when that one parses."""


@attrs.frozen
class EventRow:
    """One stored event, as in the table."""

    session_id: str
    seq: int
    type: str
    schema_version: int
    payload: str
    recorded_at: str
    prev_hash: str
    hash: str
    state_digest: str

    def decoded(self):
        """The payload, read as strictly as audit reads it; a damaged one is an error naming the seq."""
        try:
            return decode_strict(self.payload)
        except ValueError as error:
            raise UnsoundLog(f"session {str(self.session_id)[:12]}, seq {self.seq}: the stored payload cannot be "
                             f"read ({error}); run `nnreplay audit` for the details") from None

    def event(self) -> Event:
        from engine import parse

        return parse(self.type, self.schema_version, self.decoded())

    def to_json(self) -> dict:
        return {"seq": self.seq, "type": self.type, "schema_version": self.schema_version,
                "payload": self.decoded(), "recorded_at": self.recorded_at,
                "prev_hash": self.prev_hash, "hash": self.hash, "state_digest": self.state_digest}
