"""Audit orchestration: which sessions, how many events (for progress), and the report."""

import sys

from store import EventLog, SessionInfo


def sessions_to_audit(log: EventLog, refs: list[str] | None) -> list[SessionInfo]:
    """The sessions named by `refs` (each once, in order), or every session when none is named: those of
    the sessions table, then any whose events have no row there (audit reports them)."""
    infos = [log.resolve(ref) for ref in dict.fromkeys(refs)] if refs else log.sessions() + log.unlisted_sessions()
    return list({info.id: info for info in infos}.values())


def count_events(log: EventLog, infos: list[SessionInfo]) -> int:
    """How many events an audit of `infos` reads: the total a progress bar counts to."""
    from store.audit import count_events as count

    return count(log, infos)


def audit(log: EventLog, infos: list[SessionInfo], expect_head: str | None = None, on_rows=None,
          parallel: bool = True):
    """The store's AuditReport of `infos` and the database's guards; `on_rows(n)` follows progress.
    `parallel=False` keeps to this process: a threaded server must not fork worker processes."""
    from store.audit import audit_database

    tuning = {} if parallel else {"parallel_from": sys.maxsize}
    return audit_database(log, infos, expect_head, on_rows=on_rows, **tuning)
