"""The store under concurrent writers, SQLite against PostgreSQL (issue 12, phase 1: the store layer only;
the classroom through `serve`'s HTTP API is phase 2).

    python bench/bench_pg_store.py                        # 1, 4 and 8 writers, 10 s each, own sessions
    python bench/bench_pg_store.py --writers 8 --shared   # eight writers on one session

Each writer is a process pressing Next flat out, one commit per press (decide, evolve, append, COMMIT).
SQLite runs as nnreplay runs it (WAL, synchronous = FULL); PostgreSQL is a throwaway cluster started here
with its durable defaults (fsync on, synchronous_commit on: unlike the test server), reached over a Unix
socket. Prints presses/s, p50/p99 of one press and errors (must be 0) per configuration, the PostgreSQL
figures as ratios against SQLite's measured in the same run, and audits every event afterwards.
"""

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests"), os.path.join(ROOT, "bench")]

from bench_load import percentile, write  # noqa: E402
from engine import Settings  # noqa: E402
from store import open_log  # noqa: E402


def run(db: str, writers: int, shared: bool, seconds: float) -> dict:
    with open_log(db, create=True) as log:
        sessions = [log.new_session(Settings(learner="thompson", seed=n)).id for n in range(1 if shared else writers)]
    start = time.time() + 2.0  # every process started and connected
    with ProcessPoolExecutor(writers, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = [f.result() for f in [pool.submit(write, db, sessions[n % len(sessions)], start, seconds)
                                        for n in range(writers)]]
    latencies = [x for lat, _ in results for x in lat]
    errors = [e for _, errs in results for e in errs]
    return {"rate": len(latencies) / seconds, "p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
            "errors": len(errors), "first_error": errors[0] if errors else ""}


def audit_all(db: str) -> tuple[int, bool]:
    from store.audit import audit_database

    with open_log(db) as log:
        report = audit_database(log, log.sessions())
        return report.events, report.ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", default="1,4,8", help="writer process counts, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--shared", action="store_true", help="all writers on one session")
    args = parser.parse_args()
    import psycopg
    from pgserver import start_cluster

    cluster = start_cluster(os.getpid(), durable=True)
    try:
        with tempfile.TemporaryDirectory() as folder, psycopg.connect(cluster.url(), autocommit=True) as admin:
            for writers in map(int, args.writers.split(",")):
                admin.execute(f"CREATE DATABASE bench_{writers}")
                dbs = {"sqlite": os.path.join(folder, f"bench-{writers}.db"), "postgres": cluster.url(f"bench_{writers}")}
                figures = {name: run(db, writers, args.shared, args.seconds) for name, db in dbs.items()}
                base = figures["sqlite"]
                for name, db in dbs.items():
                    f, (events, ok) = figures[name], audit_all(db)
                    ratio = "" if name == "sqlite" else (f"  (x{f['rate'] / base['rate']:.2f} presses/s, "
                                                         f"x{f['p99'] / base['p99']:.2f} p99 of SQLite's)")
                    print(f"{writers} writer(s) {'on one session' if args.shared else 'on own sessions'}, "
                          f"{name:8}: {f['rate']:7.1f} presses/s, p50 {f['p50'] * 1000:6.1f} ms, "
                          f"p99 {f['p99'] * 1000:6.1f} ms, errors {f['errors']}, audit of {events} events "
                          f"{'ok' if ok else 'FAILED'}{ratio}", flush=True)
                    if f["errors"]:
                        print(f"    first error: {f['first_error']}")
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
