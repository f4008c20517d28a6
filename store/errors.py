"""Errors of the event store; all derive from the one root in engine.errors."""

from engine.errors import NnreplayError


class StoreError(NnreplayError):
    """Something about the database file or its contents."""


class NotADatabase(StoreError):
    """The path is missing, a directory, not SQLite, not nnreplay's, or damaged."""


class NewerSchema(StoreError):
    """The database was written by a newer nnreplay."""


class ReadOnly(StoreError):
    """The database cannot be written."""


class SessionNotFound(StoreError):
    """No session has that id, id prefix or name."""


class AmbiguousSession(StoreError):
    """An id prefix that matches more than one session."""


class NameTaken(StoreError):
    """Another session already has that name."""


class InvalidName(StoreError):
    """A session name that cannot be used."""


class Conflict(StoreError):
    """A concurrent writer kept winning the race for the same session's next seq."""


class Busy(StoreError):
    """Another process held the write lock for longer than the busy timeout."""


class Unreachable(Busy):
    """The database server dropped the connection or cannot be reached: like Busy, try again later (a web
    front end answers 503)."""


class UnsoundLog(StoreError):
    """A session whose log fails its audit, so it cannot be forked or exported as a trustworthy copy."""


class InvalidExport(StoreError):
    """An export file that is not one, or fails the checks an audit makes; the message names the line."""


class SessionExists(StoreError):
    """An import whose session id is already in the database."""


class OtherArithmetic(UnsoundLog):
    """A session recorded in machine arithmetic (release 0.1/0.2) whose replay on this machine departs from
    its record while its hash chain is intact: not a changed log, another machine's arithmetic. `seq` is
    where the replay departs, `head_hash` the record's head (what `audit --expect-head` checks)."""

    def __init__(self, message: str, seq: int | None = None, head_hash: str | None = None):
        super().__init__(message)
        self.seq, self.head_hash = seq, head_hash


class ForeignSchema(UnsoundLog):
    """The file's schema is not one nnreplay creates (store.contract): nothing is written to it."""


class ForeignWal(UnsoundLog):
    """The -wal file beside the database belongs to another database: nothing is read from or written to it."""


class Diverged(StoreError):
    """A press whose resulting state is not finite (NaN or infinite parameters or loss): nothing is written."""


class Abandoned(Busy):
    """Work a server abandoned (it is stopping, or the request's client already got its answer): rolled back."""
