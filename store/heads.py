"""The heads read model: each session's head seq, hash, digest and metrics, for listings that must not
fold every session.

It is a cache like the snapshots. Appends write it in the same transaction as their events
(`EventLog._flush`); a reader uses a row only when its seq, hash and digest are those of the session's
last event, and folds the log otherwise; `fill_heads` rebuilds it; audit compares it with the replay.
"""

import math

import attrs

from engine import evolve, state_digest
from engine.arith import exp
from store.errors import StoreError, UnsoundLog
from store.recorder import SESSION_COLUMNS, SessionInfo

METRICS = ("loss", "accuracy", "score")


@attrs.frozen
class Summary:
    """One line of `sessions`: the session, its head, and its metrics, or why they cannot be had."""

    info: SessionInfo
    events: int | None
    head_hash: str | None
    metrics: dict | None
    problem: tuple[int, str] | None = None  # (seq, reason) for a session whose log cannot be read
    # "broken", or "other arithmetic" for a release-0.1/0.2 session whose replay departs here (store/departure)
    verdict: str = "broken"

    def to_json(self) -> dict:
        i, m = self.info, self.metrics or dict.fromkeys(METRICS)
        out = {"id": i.id, "name": i.name, "learner": i.learner, "seed": i.seed, "events": self.events,
               "accuracy": m["accuracy"], "score": m["score"], "loss": m["loss"], "head_hash": self.head_hash,
               "created_at": i.created_at, "parent_id": i.parent_id, "parent_seq": i.parent_seq,
               "ok": self.problem is None}
        if self.problem is not None:
            out["problem"] = {"seq": self.problem[0], "reason": self.problem[1], "verdict": self.verdict}
        return out


def summaries(log, ids: list[str] | None = None) -> list[Summary]:
    """Every session (or those of `ids`), oldest first; a session that cannot be read is listed with its
    problem, not raised."""
    if not log.exists or ids == []:
        return []
    if ids is not None:
        found = []
        for start in range(0, len(ids), 500):  # SQLite caps the number of parameters of one statement
            chunk = tuple(ids[start:start + 500])
            found += _summaries(log, f"WHERE s.id IN ({', '.join('?' * len(chunk))})", chunk)
        return sorted(found, key=lambda summary: (summary.info.created_at, summary.info.id))
    return _summaries(log)


def _summaries(log, where: str = "", params: tuple = ()) -> list[Summary]:
    heads = log.has_heads()
    join = ("LEFT JOIN heads h ON h.session_id = s.id" if heads else
            "LEFT JOIN (SELECT NULL AS session_id, NULL AS seq, NULL AS hash, NULL AS state_digest, NULL AS loss, "
            "NULL AS accuracy, NULL AS score) h ON 0")
    columns = ", ".join(f"s.{c.strip()}" for c in SESSION_COLUMNS.split(","))
    sql = (f"SELECT {columns}, e.seq, e.hash, e.state_digest, h.seq, h.hash, h.state_digest, h.loss, h.accuracy, "
           f"h.score FROM sessions s {join} LEFT JOIN events e ON e.session_id = s.id AND e.seq = "
           f"(SELECT MAX(seq) FROM events WHERE session_id = s.id) {where} ORDER BY s.created_at, s.id")
    return [_summary(log, tuple(row)) for row in log._listing(sql, params)]


def _summary(log, row: tuple) -> Summary:
    info = SessionInfo(*row[:7])
    seq, hash_, digest, cached = row[7], row[8], row[9], row[10:]
    if seq is None:
        return Summary(info, 0, None, None, (1, "the session has no events"))
    if cached[:3] == (seq, hash_, digest) and plausible(*cached[3:]):
        return Summary(info, seq, hash_, dict(zip(METRICS, cached[3:])))
    state, problem = fold_head(log, info.id, seq, digest, info.label)
    if problem is not None and len(problem) == 3:
        return Summary(info, seq, hash_, None, problem[:2], problem[2])
    return Summary(info, seq, hash_, None if state is None else metrics_of(state), problem)


def plausible(loss, accuracy, score) -> bool:
    """Whether cached metrics could be the engine's: floats, a finite loss of at least 0, an accuracy in
    [0, 1] and score = exp(-loss) exactly (as engine.metrics computes it: nnreplay's portable exp, or for a
    session of release 0.1/0.2 the C library's). A row edited by hand that fails
    this is not believed (the head is folded instead), so `sessions` never prints Infinity or NaN, which
    is no JSON. A row edited to other metrics that pass it shows until `audit` (check 6) reports it: only
    folding can tell, and a listing must not fold every session."""
    return (all(type(v) is float for v in (loss, accuracy, score)) and math.isfinite(loss) and loss >= 0
            and 0.0 <= accuracy <= 1.0 and score in (exp(-loss), math.exp(-loss)))


def metrics_of(state) -> dict:
    m = state.metrics
    return {"loss": m.loss, "accuracy": m.accuracy, "score": m.score}


def fold_head(log, session_id: str, seq: int, digest: str, label: str | None = None):
    """(state, None) when folding the log reproduces the digest recorded at `seq`, else (None, (seq, why)),
    or (None, (seq, why, "other arithmetic")) for a machine-arithmetic session that departs here."""
    try:
        state = log._state(session_id, seq)
    except log._driver_error as error:
        raise log._translate(error) from None
    except StoreError as error:
        if not isinstance(error, UnsoundLog):  # the database itself failed (busy, gone): not a finding
            raise
        return None, unreadable_at(log, session_id) or (seq, "its log does not fold")
    except Exception:  # noqa: BLE001 - a hand-edited row can fail in any way: a finding, not a crash
        return None, unreadable_at(log, session_id) or (seq, "its log does not fold")
    if state_digest(state) != digest:
        from store.departure import VERDICT, explain

        other = explain(log, session_id, label or session_id[:12], state.settings)
        if other is not None:
            return None, (other.seq, str(other), VERDICT)
        return None, (seq, "replaying the log does not give the state recorded at the head; run `nnreplay audit`")
    return state, None


def unreadable_at(log, session_id: str) -> tuple[int, str] | None:
    """(seq, reason) of the first event that does not fold, folding from the start without snapshots; None
    when every event folds."""
    state, at = None, 1
    try:
        for row in log.rows(session_id):
            at = row.seq
            state = evolve(state, row.event())
    except log._driver_error as error:
        raise log._translate(error) from None
    except Exception as error:  # noqa: BLE001
        if isinstance(error, StoreError) and not isinstance(error, UnsoundLog):
            raise
        if isinstance(error, UnsoundLog):  # EventRow.decoded: the stored text is not (strict) JSON
            return at, "its stored payload is not valid JSON"
        return at, f"it does not fold ({type(error).__name__}: {error})"
    return None if state is not None else (1, "the session has no events")


def fill_heads(log) -> int:
    """Write the heads row of every session that has none and whose log folds to its recorded head."""
    missing = log._read("SELECT s.id FROM sessions s LEFT JOIN heads h ON h.session_id = s.id "
                        "WHERE h.session_id IS NULL")
    written = 0
    with log._write():
        for (session_id,) in missing:
            head = log._sql("SELECT seq, hash, state_digest FROM events WHERE session_id = ? "
                            "ORDER BY seq DESC LIMIT 1", (session_id,)).fetchone()
            if head is None:
                continue
            state, problem = fold_head(log, session_id, head[0], head[2])
            if state is None:
                continue
            log._sql(log._upsert_head, (session_id, *head, *metrics_of(state).values()))
            written += 1
    return written
