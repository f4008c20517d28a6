"""Sustained load: four writer processes pressing Next, one commit per press, while two readers fold the state.

    python bench/bench_load.py                  # 30 s of load, writers sharing one thompson session
    python bench/bench_load.py --seconds 10 --own-sessions

Prints presses/s, the p50/p99 latency of one press (decide, evolve, append, COMMIT with synchronous=FULL),
reads/s and read latency, and errors, which must be 0. The baseline, measured first in the same run, is one
writer alone with no readers: the load figures are shown as ratios against it.
"""

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from engine import Next, Settings  # noqa: E402
from store import EventLog, open_log  # noqa: E402


def write(db: str, session_id: str, start: float, seconds: float) -> tuple[list[float], list[str]]:
    """Press Next, one commit each, from `start` for `seconds`; returns press latencies and errors. `db` is
    an SQLite file or a PostgreSQL URL (bench_pg_store runs the same writer on both)."""
    latencies, errors = [], []
    with open_log(db) as log:
        while time.time() < start:
            time.sleep(0.001)
        while time.time() < start + seconds:
            began = time.perf_counter()
            try:
                log.record(session_id, [Next(source="bench")])
            except Exception as error:  # counted, not hidden: the figure that must stay 0
                errors.append(f"{type(error).__name__}: {error}")
                continue
            latencies.append(time.perf_counter() - began)
    return latencies, errors


def read(db: str, session_ids: list[str], start: float, seconds: float) -> tuple[list[float], list[str]]:
    """What `show` does, over and over: resolve, fold to the head (from the nearest snapshot), read the head."""
    latencies, errors, turn = [], [], 0
    with EventLog(db, create=False) as log:
        while time.time() < start:
            time.sleep(0.001)
        while time.time() < start + seconds:
            session_id = session_ids[turn % len(session_ids)]
            turn += 1
            began = time.perf_counter()
            try:
                log.state(log.resolve(session_id).id)
                log.head(session_id)
            except Exception as error:
                errors.append(f"{type(error).__name__}: {error}")
                continue
            latencies.append(time.perf_counter() - began)
    return latencies, errors


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else float("nan")


def phase(db: str, writer_sessions: list[str], readers: int, seconds: float) -> dict:
    """Run the writers and readers in their own processes, all starting at the same moment."""
    context = multiprocessing.get_context("spawn")
    start = time.time() + 1.5  # time for every process to start and open the database
    with ProcessPoolExecutor(len(writer_sessions) + readers, mp_context=context) as pool:
        writes = [pool.submit(write, db, sid, start, seconds) for sid in writer_sessions]
        reads = [pool.submit(read, db, sorted(set(writer_sessions)), start, seconds) for _ in range(readers)]
        w = [future.result() for future in writes]
        r = [future.result() for future in reads]
    press = [x for lat, _ in w for x in lat]
    looks = [x for lat, _ in r for x in lat]
    return {"presses": len(press), "rate": len(press) / seconds, "p50": percentile(press, 50),
            "per_writer": sorted(len(lat) for lat, _ in w),
            "p99": percentile(press, 99), "max": max(press, default=float("nan")),
            "reads": len(looks) / seconds, "read_p99": percentile(looks, 99),
            "errors": [e for _, errs in w + r for e in errs]}


def show(label: str, result: dict, base: dict | None) -> None:
    ratio = "" if base is None else (f"   x{result['rate'] / base['rate']:.2f} presses/s, "
                                     f"x{result['p99'] / base['p99']:.2f} p99 vs baseline")
    reads = f"   reads {result['reads']:7.1f}/s p99 {result['read_p99'] * 1000:6.1f} ms" if result["reads"] else ""
    print(f"{label:<34} {result['rate']:8.1f} presses/s   p50 {result['p50'] * 1000:6.1f} ms   "
          f"p99 {result['p99'] * 1000:6.1f} ms   max {result['max'] * 1000:7.1f} ms{reads}   "
          f"errors {len(result['errors'])}{ratio}")
    if len(result["per_writer"]) > 1:  # a writer starved by the others shows here, not in the p99
        print(f"    presses per writer: {', '.join(f'{n:,}' for n in result['per_writer'])}")
    for error in sorted(set(result["errors"]))[:5]:
        print(f"    {error}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the load phase (default 30)")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--own-sessions", action="store_true", help="each writer on its own session")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="nnreplay-bench-load-")
    db = os.path.join(folder, "load.db")
    with EventLog(db) as log:
        shared = log.new_session(Settings(learner="thompson", seed=1)).id
        own = [log.new_session(Settings(learner="thompson", seed=10 + k)).id for k in range(args.writers)]
    print(f"database {db}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    base = phase(db, [own[0]], 0, max(3.0, args.seconds / 3))
    show("baseline: 1 writer, no readers", base, None)
    sessions = own if args.own_sessions else [shared] * args.writers
    where = "own sessions" if args.own_sessions else "one session"
    load = phase(db, sessions, args.readers, args.seconds)
    show(f"{args.writers} writers ({where}) + {args.readers} readers", load, base)
    with EventLog(db, create=False) as log:
        gaps = [sid for sid in set(sessions) if log.head(sid)[0] != len(list(log.rows(sid)))]
    print(f"load phase: {load['presses']:,} presses in {args.seconds:.0f} s; seq gaps: {len(gaps)}; "
          f"load average now {os.getloadavg()[0]:.1f}")
    return 1 if load["errors"] or base["errors"] or gaps else 0


if __name__ == "__main__":
    sys.exit(main())
