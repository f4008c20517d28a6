"""The event log of nnreplay: schema, append, read, snapshots, hash chain; SQLite or PostgreSQL.

`open_log(target)` is the one place that turns a --db value into an open log: a `postgresql://` or
`postgres://` URL opens store.pg_log.PgEventLog (psycopg is imported then, and only then), anything else is
an SQLite file (store.log.EventLog). Both behave as store.recorder.Recorder says.
"""

from store.chain import GENESIS, canonical_bytes, verify_hash
from store.errors import (AmbiguousSession, Busy, Conflict, InvalidName, NameTaken, NewerSchema, NotADatabase,
                          ReadOnly, SessionNotFound, StoreError)
from store.log import EventLog, EventRow, SessionInfo


def is_url(target: str) -> bool:
    """Whether a --db value names a PostgreSQL database rather than an SQLite file."""
    return target.startswith(("postgresql://", "postgres://"))


def describe(target: str) -> str:
    """The --db value as messages may show it: a URL without its password."""
    if is_url(target):
        from store.pg_schema import describe as without_password

        return without_password(target)
    return target


def short_name(target: str) -> str:
    """What a page may show of the database: a file's name, or a URL's database name (never a password)."""
    if is_url(target):
        from urllib.parse import urlsplit

        try:
            # from the URL without its password: "bob:a/b@host/db" would otherwise give "b@host/db"
            return urlsplit(describe(target)).path.lstrip("/") or "postgres"
        except ValueError:
            return "postgres"
    import os

    return os.path.basename(target)


def open_log(target: str, create: bool = False, **options):
    """The log at `target` (a file path or a PostgreSQL URL); `create` allows a new store to be made."""
    if is_url(target):
        from store.pg_log import PgEventLog

        return PgEventLog(target, create=create, **options)
    return EventLog(target, create=create, **options)


__all__ = ["AmbiguousSession", "Busy", "Conflict", "EventLog", "EventRow", "GENESIS", "InvalidName",
           "NameTaken", "NewerSchema", "NotADatabase", "ReadOnly", "SessionInfo", "SessionNotFound",
           "StoreError", "canonical_bytes", "describe", "is_url", "open_log", "short_name", "verify_hash"]
