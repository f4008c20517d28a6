"""Recording, replay and rebuild figures for the engine and the event store, with same-run baselines.

    python bench/bench_core.py [--events 5000] [--long 100000]

Prints events/s of decide + evolve alone, of recording through engine + store (batched, and one commit per
event), of raw sqlite3 inserts of the same rows; evolve throughput per learner; the time to rebuild the
head of a long session with and without snapshots; and the wall time of one `nnreplay next` on a
10,000-event session against `python -c "import numpy, typer, sqlite_utils"`.
"""

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from engine import Next, Settings, Start, decide, evolve, rng_for  # noqa: E402
from store import EventLog  # noqa: E402


def fresh(folder: str, name: str) -> str:
    return os.path.join(folder, name)


def engine_alone(learner: str, n: int, arithmetic: str = "portable-1") -> float:
    settings = Settings(learner=learner, seed=11, arithmetic=arithmetic)
    state = evolve(None, decide(None, Start(settings), rng_for(11, 1))[0])
    started = time.perf_counter()
    for _ in range(n):
        for event in decide(state, Next(), rng_for(11, state.seq + 1)):
            state = evolve(state, event)
    return n / (time.perf_counter() - started)


RELEASE_0_1 = "d4f30fb"  # the last commit of release 0.1 (the perceptron alone, numpy's arithmetic)
RELEASE_ENGINE = """
import sys, time
from engine import Next, Settings, Start, decide, evolve, rng_for
learner, n = sys.argv[1], int(sys.argv[2])
state = evolve(None, decide(None, Start(Settings(learner=learner, seed=11)), rng_for(11, 1))[0])
started = time.perf_counter()
for _ in range(n):
    for event in decide(state, Next(), rng_for(11, state.seq + 1)):
        state = evolve(state, event)
print(n / (time.perf_counter() - started))
"""


def release_engine(folder: str) -> str | None:
    """Release 0.1's engine/ unpacked from git into `folder`, or None outside a git checkout."""
    target = os.path.join(folder, "release-0.1")
    os.makedirs(target, exist_ok=True)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    archive = subprocess.run(["git", "-C", root, "archive", RELEASE_0_1, "engine"], capture_output=True)
    if archive.returncode != 0:
        return None
    subprocess.run(["tar", "-x", "-C", target], input=archive.stdout, check=True)
    return target


def release_alone(path: str, learner: str, n: int) -> float:
    done = subprocess.run([sys.executable, "-c", RELEASE_ENGINE, learner, str(n)], cwd=path, check=True,
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=path))
    return float(done.stdout)


def record(folder: str, learner: str, n: int, batch: int) -> tuple[float, str]:
    path = fresh(folder, f"rec-{learner}-{batch}.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    with EventLog(path) as log:
        info = log.new_session(Settings(learner=learner, seed=11))
        started = time.perf_counter()
        log.record(info.id, (Next() for _ in range(n)), batch=batch)
        return n / (time.perf_counter() - started), path


def raw_inserts(folder: str, source: str, batch: int) -> float:
    """The same rows through bare sqlite3: same table, same pragmas, no triggers, no engine."""
    with sqlite3.connect(source) as conn:
        schema = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'events'").fetchone()[0]
        rows = conn.execute("SELECT * FROM events ORDER BY seq").fetchall()
    path = fresh(folder, f"raw-{batch}-{os.path.basename(source)}")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(schema)
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows[start:start + batch])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return len(rows) / elapsed


def replay_rate(path: str) -> float:
    with EventLog(path, create=False) as log:
        [info] = log.sessions()
        events = [row.event() for row in log.rows(info.id)]
    started = time.perf_counter()
    state = None
    for event in events:
        state = evolve(state, event)
    return len(events) / (time.perf_counter() - started)


def rebuild(path: str, long: int) -> tuple[float, float]:
    with EventLog(path, create=False) as log:
        [info] = log.sessions()
        timings = {}
        for use in (True, False):
            runs = []
            for _ in range(3 if use else 1):
                started = time.perf_counter()
                log.state(info.id, use_snapshots=use)
                runs.append(time.perf_counter() - started)
            timings[use] = min(runs)
    return timings[True], timings[False]


def wall(argv: list[str], env: dict, runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000, help="events per recording measurement")
    parser.add_argument("--long", type=int, default=100_000, help="length of the long session to rebuild")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure; the best is printed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print(f"recording {args.events} Next presses per figure (events/s; higher is better)")
        print(f"(best of {args.repeat} interleaved runs each: this machine is a shared VM whose speed drifts)")
        release = release_engine(folder)
        for learner in ("gradient", "thompson"):
            alone = machine = old = batched = single = raw_batched = raw_single = 0.0
            for _ in range(args.repeat):
                alone = max(alone, engine_alone(learner, args.events))
                machine = max(machine, engine_alone(learner, args.events, "machine"))
                if release is not None:
                    old = max(old, release_alone(release, learner, args.events))
                rate, path = record(folder, learner, args.events, 500)
                batched = max(batched, rate)
                single = max(single, record(folder, learner, min(args.events, 500), 1)[0])
                raw_batched = max(raw_batched, raw_inserts(folder, path, 500))
                raw_single = max(raw_single, raw_inserts(folder, path, 1))
            print(f"  {learner:<9} decide+evolve alone {alone:>9,.0f}   portable arithmetic; machine arithmetic "
                  f"(release 0.1/0.2 logs) {machine:,.0f} ({alone / machine:.2f}x)"
                  + (f"; release 0.1's engine {old:,.0f} ({alone / old:.2f}x)" if old else ""))
            print(f"  {learner:<9} engine+store batched {batched:>8,.0f}   = {batched / alone:.2f}x engine alone,"
                  f" raw sqlite3 batched {raw_batched:,.0f} ({batched / raw_batched:.2f}x)")
            print(f"  {learner:<9} one commit per event {single:>8,.0f}   raw sqlite3 one commit per row "
                  f"{raw_single:,.0f} ({single / raw_single:.2f}x)")
            replay = max(replay_rate(path) for _ in range(args.repeat))
            print(f"  {learner:<9} replay (evolve only) {replay:>8,.0f}")

        print(f"\nrebuilding the head of a {args.long:,}-event thompson session")
        long_path = fresh(folder, "long.db")
        with EventLog(long_path) as log:
            info = log.new_session(Settings(learner="thompson", seed=5))
            log.record(info.id, (Next() for _ in range(args.long - 1)), batch=5000)
        with_snap, without = rebuild(long_path, args.long)
        print(f"  with snapshots {with_snap * 1000:8.1f} ms   without {without * 1000:8.1f} ms   "
              f"({without / with_snap:.0f}x faster)")

        print("\none `nnreplay next` on a 10,000-event session (median wall time of 7 runs)")
        mid_path = fresh(folder, "mid.db")
        with EventLog(mid_path) as log:
            info = log.new_session(Settings(learner="thompson", seed=6), name="bench")
            log.record(info.id, (Next() for _ in range(9999)), batch=5000)
        env = dict(os.environ, NNREPLAY_DB=mid_path)
        root = os.path.join(os.path.dirname(__file__), "..")
        floor = wall([sys.executable, "-c", "import numpy, typer, sqlite_utils"], env)
        press = wall([sys.executable, "-c", "import sys; sys.argv[0] = 'nnreplay'; import cli; cli.main()",
                      "next", "bench"], dict(env, PYTHONPATH=root))
        print(f"  nnreplay next {press * 1000:7.0f} ms   python -c 'import numpy, typer, sqlite_utils' "
              f"{floor * 1000:5.0f} ms   ratio {press / floor:.2f}x")


if __name__ == "__main__":
    main()
