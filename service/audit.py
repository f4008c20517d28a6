"""Audit orchestration: which sessions, how many events (for progress), and the report."""

from store import EventLog, SessionInfo


def sessions_to_audit(log: EventLog, refs: list[str] | None) -> list[SessionInfo]:
    """The sessions named by `refs` (each once, in order), or every session when none is named."""
    infos = [log.resolve(ref) for ref in dict.fromkeys(refs)] if refs else log.sessions()
    return list({info.id: info for info in infos}.values())


def count_events(log: EventLog, infos: list[SessionInfo]) -> int:
    """How many events an audit of `infos` reads: the total a progress bar counts to."""
    from store.audit import count_events as count

    return count(log, infos)


def audit(log: EventLog, infos: list[SessionInfo], expect_head: str | None = None, on_rows=None):
    """The store's AuditReport of `infos` and the database's guards; `on_rows(n)` follows progress."""
    from store.audit import audit_database

    return audit_database(log, infos, expect_head, on_rows=on_rows)
