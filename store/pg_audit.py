"""Audit on PostgreSQL: the checks and reports of store.audit, over a PgEventLog.

Checks 1-6 are the same verifying fold (store.verify.Verifier) fed from the `events` table; check 7 reads
PostgreSQL's catalogue (store.pg_guards). One sequential pass per session: the parallel split of long
sessions in store.audit opens the SQLite file from worker processes and is not ported yet. A draft
(issue 12, phase 1): phase 2 makes store.audit take its rows from either backend and drops this module.
"""

from engine import ENGINE_VERSION, evolve, parse
from store import pg_guards
from store.audit import PROGRESS_STEP, AuditReport, SessionReport
from store.pg_schema import SCHEMA, translate
from store.verify import Verifier, decode_payload

_ROWS = (f"SELECT seq, type, schema_version, payload, recorded_at, prev_hash, hash, state_digest "
         f"FROM {SCHEMA}.events WHERE session_id = %s ORDER BY seq")


def audit_session(log, info, guards, expect_head: str | None = None, on_rows=None) -> SessionReport:
    """Every check on one session of the open PgEventLog `log`; `on_rows(n)` hears about progress."""
    conn = log.conn
    snaps = {seq: (text, digest) for seq, text, digest in conn.execute(
        f"SELECT seq, state, state_digest FROM {SCHEMA}.snapshots WHERE session_id = %s AND engine_version = %s",
        (info.id, ENGINE_VERSION))}
    verifier = Verifier(info.id, snaps, expect_head=expect_head)
    first, fed = None, 0
    with conn.cursor() as cursor:
        for seq, type_, version, payload, recorded_at, prev_hash, hash_, digest in cursor.stream(_ROWS, (info.id,)):
            decoded = decode_payload(payload)
            verifier.feed(seq, type_, version, decoded, recorded_at, prev_hash, hash_, digest)
            if seq == 1:
                first = _first_settings(type_, version, decoded)
            fed += 1
            if on_rows is not None and fed % PROGRESS_STEP == 0:
                on_rows(PROGRESS_STEP)
    if on_rows is not None:
        on_rows(fed % PROGRESS_STEP)
    if first is not None and (first.learner, first.seed) != (info.learner, info.seed):
        verifier.fail("parse", 1, f"session_started says learner {first.learner}, seed {first.seed}; the "
                                  f"sessions table says {info.learner}, {info.seed}")
    checks = verifier.finish()
    return SessionReport(info.id, info.name, info.learner, verifier.count, verifier.head_hash,
                         (*checks[:6], guards, *checks[6:]))


def _first_settings(type_, version, payload):
    try:
        return evolve(None, parse(type_, version, payload)).settings
    except Exception:  # a damaged first event: the fold has already said what is wrong with it
        return None


def audit_database(log, sessions, expect_head: str | None = None, on_rows=None) -> AuditReport:
    """Audit each of `sessions` (SessionInfo) of the open PgEventLog `log`, and its guards."""
    import psycopg

    try:
        guards = pg_guards.check_guards(log.conn)
        reports = tuple(audit_session(log, info, guards, expect_head, on_rows) for info in sessions)
    except psycopg.Error as error:
        raise translate(error, log.path) from None
    return AuditReport(log.path, guards, reports)
