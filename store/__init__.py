"""The SQLite event log of nnreplay: schema, append, read, snapshots, hash chain."""

from store.chain import GENESIS, canonical_bytes, verify_hash
from store.errors import (AmbiguousSession, Busy, Conflict, InvalidName, NameTaken, NewerSchema, NotADatabase,
                          ReadOnly, SessionNotFound, StoreError)
from store.log import EventLog, EventRow, SessionInfo

__all__ = ["AmbiguousSession", "Busy", "Conflict", "EventLog", "EventRow", "GENESIS", "InvalidName",
           "NameTaken", "NewerSchema", "NotADatabase", "ReadOnly", "SessionInfo", "SessionNotFound",
           "StoreError", "canonical_bytes", "verify_hash"]
