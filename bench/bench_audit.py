"""Audit throughput (events/s), against baselines measured in the same run on the same rows.

    python bench/bench_audit.py [--events 20000] [--sessions 2] [--learner thompson]

Baselines: (a) sqlite3 reading the rows only; (b) sqlite3 + json + hashlib re-verifying the hash chain
from its documented form, which is what anyone can do without nnreplay (audit check 2 alone). The audit
runs all seven checks: chain, schemas, the evolve fold with digests, decide re-run per press, snapshots
and triggers; "as the CLI runs it" splits sessions of 20,000 events or more into parallel segments.
Target: at least 20,000 events/s for thompson sessions. The machine's load average is printed because
other processes on a 2-CPU machine change every figure.
"""

import argparse
import hashlib
import json
import os
import sqlite3
import tempfile
import time

from engine import Next, Rate, Settings
from store import EventLog
from store.audit import audit_database

SQL = ("SELECT session_id, seq, type, schema_version, payload, recorded_at, prev_hash, hash FROM events "
       "ORDER BY session_id, seq")


def record(path: str, learner: str, sessions: int, events: int) -> None:
    presses = ([Next()] * 4 + [Rate("good")]) if learner == "thompson" else [Next()]
    with EventLog(path) as log:
        for k in range(sessions):
            info = log.new_session(Settings(learner=learner, seed=100 + k))
            log.record(info.id, (presses[i % len(presses)] for i in range(events - 1)))


def read_only(path: str) -> int:
    with sqlite3.connect(path) as conn:
        return len(conn.execute(SQL).fetchall())


def chain_only(path: str) -> int:
    count = 0
    with sqlite3.connect(path) as conn:
        for session_id, seq, type_, version, payload, recorded_at, prev_hash, hash_ in conn.execute(SQL):
            record_ = {"session_id": session_id, "seq": seq, "type": type_, "schema_version": version,
                       "payload": json.loads(payload), "recorded_at": recorded_at, "prev_hash": prev_hash}
            text = json.dumps(record_, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            assert hashlib.sha256(text.encode("utf-8")).hexdigest() == hash_
            count += 1
    return count


def full_audit(path: str, **tuning) -> int:
    with EventLog(path, create=False) as log:
        report = audit_database(log, log.sessions(), **tuning)
    assert report.ok, report.to_json()
    return report.events


def one_process(path: str) -> int:
    return full_audit(path, parallel_from=10**12)


def best_rate(fn, path: str, repeat: int) -> float:
    """Events per second of the fastest of `repeat` runs (the least disturbed by the machine)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        count = fn(path)
        best = min(best, time.perf_counter() - started)
    return count / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per session")
    parser.add_argument("--sessions", type=int, default=2)
    parser.add_argument("--learner", choices=("thompson", "gradient"), default="thompson")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "bench.db")
        started = time.perf_counter()
        record(path, args.learner, args.sessions, args.events)
        total = args.sessions * args.events
        print(f"recorded {args.sessions} {args.learner} sessions x {args.events:,} events "
              f"in {time.perf_counter() - started:.1f} s")
        rates = {"sqlite3 read": best_rate(read_only, path, args.repeat),
                 "sqlite3 + hashlib chain": best_rate(chain_only, path, args.repeat),
                 "audit, one process": best_rate(one_process, path, args.repeat),
                 "audit (as the CLI runs it)": best_rate(full_audit, path, args.repeat)}
    chain = rates["sqlite3 + hashlib chain"]
    for name, rate in rates.items():
        print(f"{name:<28} {rate:>12,.0f} events/s   {rate / chain:6.2f}x the chain-only baseline")
    audit_rate = rates["audit (as the CLI runs it)"]
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"audit of {total:,} events: {total / audit_rate:.2f} s on {os.cpu_count()} CPUs (load average {load}); "
          f"target 20,000 events/s: {'met' if audit_rate >= 20_000 else 'NOT met'}")


if __name__ == "__main__":
    main()
