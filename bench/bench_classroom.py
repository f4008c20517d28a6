"""A classroom under load: simulated students pressing Next through the HTTP API of `nnreplay serve`.

    python bench/bench_classroom.py                 # 30 and 200 students, human pace and flat out, 30 s each,
                                                    # on SQLite, PostgreSQL, and 3 servers on one PostgreSQL
    python bench/bench_classroom.py --quick         # 30 students, 5 s per configuration: checks the script
    python bench/bench_classroom.py --students 200 --pace human   # one class size, one pace
    python bench/bench_classroom.py --sqlite-only --students 30 --pace flat --seconds 20   # one SQLite row

Each student has a session of their own and one kept-alive connection, and presses Next (one event) either
at a human pace (a press, then a pause drawn uniformly from 1-3 s, the first press at a random moment in
the first 3 s) or flat out (the next press as soon as the answer came). Students are spread round-robin over
the server processes of a configuration. Traffic goes only to 127.0.0.1; every run is bounded by its
duration (answers still in flight get REQUEST_TIMEOUT_S) and stops by itself; servers are stopped and the
throwaway PostgreSQL cluster (tests/pgserver.py, started durable: fsync and synchronous commit on, as a
real server) is removed when the script exits.

Figures per configuration: presses answered 200 per second, p50 and p99 of a press's latency (from the
request's start to the answer's end), errors (any other status or a transport error), and the audit of the
whole database afterwards: every event checked, and the count of events equal to sessions + answered
presses, give or take presses whose answer was an error (nothing lost, nothing duplicated). The baseline of each row is the same class at the same
pace on SQLite (one `serve`), measured in the same run just before: each PostgreSQL row
ends with its presses/s and p99 as multiples of that row's.
"""

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests", "web"))

import httpx  # noqa: E402

import service  # noqa: E402
import store  # noqa: E402
from serving import Server  # noqa: E402

REQUEST_TIMEOUT_S = 30
MAX_PRESSES = 500_000  # a bound on any one run whatever the duration


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] if ordered else float("nan")


def make_sessions(target: str, students: int) -> list[str]:
    with store.open_log(target, create=True) as log:
        return [service.new_session(log, learner="gradient", seed=1000 + i).id for i in range(students)]


async def student(http: httpx.AsyncClient, sid: str, human: bool, until: float, out: dict, rng: random.Random):
    if human:
        await asyncio.sleep(rng.uniform(0, 3))
    while time.monotonic() < until and out["count"] < MAX_PRESSES:
        out["count"] += 1
        start = time.perf_counter()
        try:
            answer = await http.post(f"/api/sessions/{sid}/presses", json={"press": "next"})
            kind = answer.status_code
        except httpx.HTTPError as error:
            kind = type(error).__name__
        elapsed = time.perf_counter() - start
        if kind == 200:
            out["latencies"].append(elapsed)
            out["per_session"][sid] = out["per_session"].get(sid, 0) + 1
        else:  # the press may still have been recorded (a timeout): audited() allows for it
            out["errors"][kind] = out["errors"].get(kind, 0) + 1
            out["failed"][sid] = out["failed"].get(sid, 0) + 1
        if human:
            await asyncio.sleep(rng.uniform(1, 3))


async def drive(urls: list[str], sids: list[str], human: bool, seconds: float) -> dict:
    out = {"count": 0, "latencies": [], "errors": {}, "per_session": {}, "failed": {}}
    rng = random.Random(7)
    limits = httpx.Limits(max_connections=len(sids), max_keepalive_connections=len(sids))
    clients = [httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S, limits=limits) for url in urls]
    started = time.monotonic()
    try:
        await asyncio.gather(*(student(clients[i % len(clients)], sid, human, started + seconds, out, rng)
                               for i, sid in enumerate(sids)))
    finally:
        for client in clients:
            await client.aclose()
    out["wall"] = time.monotonic() - started
    return out


def audited(target: str, sids: list[str], per_session: dict, failed: dict) -> tuple[int, bool, bool]:
    """(events audited, audit ok, no press lost or doubled: each session holds 1 + its answered presses,
    plus at most its presses whose answer was an error, which may have been recorded before it failed)."""
    from store.audit import audit_database

    with store.open_log(target) as log:
        report = audit_database(log, log.sessions())
        counts = {r.session_id: r.events for r in report.sessions}
    exact = all(0 <= counts.get(sid, 0) - 1 - per_session.get(sid, 0) <= failed.get(sid, 0) for sid in sids)
    return report.events, report.ok, exact


def versus(row: dict, baseline: dict | None) -> str:
    if baseline is None or not baseline["per_s"] or not baseline["p99"] == baseline["p99"]:
        return ""
    return f"  vs sqlite: presses/s x{row['per_s'] / baseline['per_s']:.2f}, p99 x{row['p99'] / baseline['p99']:.2f}"


def run(label: str, target: str, servers: int, students: int, human: bool, seconds: float,
        baseline: dict | None = None) -> dict:
    sids = make_sessions(target, students)
    running = [Server(target) for _ in range(servers)]
    try:
        out = asyncio.run(drive([s.url for s in running], sids, human, seconds))
    finally:
        for server in running:
            server.stop()
    events, ok, exact = audited(target, sids, out["per_session"], out["failed"])
    errors = sum(out["errors"].values())
    ms = [s * 1000 for s in out["latencies"]]
    row = {"config": label, "students": students, "pace": "human" if human else "flat out",
           "presses": len(ms), "per_s": len(ms) / out["wall"], "p50": statistics.median(ms) if ms else float("nan"),
           "p99": percentile(ms, 0.99), "max": max(ms, default=float("nan")), "errors": errors, "audited": events, "audit_ok": ok and exact}
    print(f"{row['config']:<22} {students:>4} {row['pace']:<9} {row['presses']:>7} {row['per_s']:>9.1f} "
          f"{row['p50']:>8.1f} {row['p99']:>8.1f} {row['max']:>8.1f} {row['errors']:>6} {events:>8} "
          f"{'clean' if row['audit_ok'] else 'FAILED'}{versus(row, baseline)}"
          f"{'  errors: ' + ', '.join(f'{n} x {k}' for k, n in out['errors'].items()) if errors else ''}", flush=True)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="30 students, 5 s per configuration")
    parser.add_argument("--seconds", type=float, default=30.0, help="duration of each configuration")
    parser.add_argument("--servers", type=int, default=3, help="server processes on one PostgreSQL database")
    parser.add_argument("--students", help="class sizes, comma-separated (default 30,200)")
    parser.add_argument("--pace", choices=("human", "flat", "both"), default="both")
    parser.add_argument("--sqlite-only", action="store_true", help="only the SQLite rows (no PostgreSQL started)")
    parser.add_argument("--pg-url", help="a PostgreSQL server to create databases on (default: a throwaway one)")
    args = parser.parse_args()
    sizes, seconds = ([30], 5.0) if args.quick else ([30, 200], args.seconds)
    if args.students:
        sizes = [min(int(n), 1000) for n in args.students.split(",")]
    seconds = min(seconds, 120.0)
    paces = {"human": (True,), "flat": (False,), "both": (True, False)}[args.pace]

    import pgserver

    cluster = pg = None
    admin = args.pg_url
    if args.sqlite_only:
        pass
    elif admin is None:
        cluster = pgserver.start_cluster(os.getpid(), durable=True)
        admin = cluster.url()
    if not args.sqlite_only:
        pg = pgserver.Server(admin)
    folder = tempfile.mkdtemp(prefix="nnreplay-classroom-")
    made = []
    print(f"{'configuration':<22} {'stud':>4} {'pace':<9} {'presses':>7} {'presses/s':>9} {'p50 ms':>8} "
          f"{'p99 ms':>8} {'max ms':>8} {'errors':>6} {'audited':>8} audit", flush=True)
    try:
        for students in sizes:
            for human in paces:
                path = os.path.join(folder, f"class-{students}-{int(human)}.db")
                baseline = run("sqlite, 1 server", path, 1, students, human, seconds)
                for servers in () if pg is None else (1, args.servers):
                    name = pg.create_database()
                    made.append(name)
                    run(f"postgresql, {servers} server{'s' if servers > 1 else ''}", pg.url(name), servers, students,
                        human, seconds, baseline)
    finally:
        for name in made:
            pg.drop_database(name)
        if pg is not None:
            pg.close()
        if cluster is not None:
            cluster.stop()
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
