"""Reading at scale (issue 9, class 12): wall time and peak memory of the reading commands on one session of
1,000,000 events and on a database of 10,000 sessions, against `python -c "import numpy, typer,
sqlite_utils"` measured in the same run (the floor any nnreplay command stands on).

    python bench/bench_reading.py [--events 1000000] [--sessions 10000] [--folder /tmp/nnreplay-bench]
                                  [--tree DIR]   (run the commands of another checkout, e.g. the last release)

The databases are built once into --folder (reused when present: building a million events takes about a
minute) with EventLog.record in large batches and `synchronous = OFF`, which is fine for a throwaway file.
Each command runs as its own process; its peak RSS comes from wait4, its wall time from the clock.
"""

import argparse
import functools
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)


def build_long(path: str, events: int) -> None:
    from engine import Next, Settings
    from store import EventLog

    with EventLog(path) as log:
        log.conn.execute("PRAGMA synchronous = OFF")
        info = log.new_session(Settings(learner="gradient", seed=1), name="long")
        log.record(info.id, (Next() for _ in range(events - 1)), batch=100_000)


def build_many(path: str, sessions: int) -> None:
    from engine import Next, Settings
    from store import EventLog

    with EventLog(path) as log:
        log.conn.execute("PRAGMA synchronous = OFF")
        for k in range(sessions):
            info = log.new_session(Settings(learner="thompson" if k % 2 else "gradient", seed=k))
            log.record(info.id, [Next()] * (PRESSES_EACH - 1))


PRESSES_EACH = 30  # events per session of the many-sessions database (folding them is what `sessions` avoids)


def build(kind: str, path: str, size: int) -> None:
    """Build in a child process: a parent grown by the build would inflate every later child's peak RSS
    (a forked child counts its parent's pages until it execs)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--build", kind, path + ".part", str(size)], check=True,
                   env={**os.environ, "PYTHONPATH": HERE})
    os.replace(path + ".part", path)
    print(f"built {path} in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def measure(argv: list[str], first_line_only: bool = False, tree: str = HERE) -> tuple[float, float, int, int]:
    """(seconds to exit, seconds to the first line, peak RSS in MB) of one process; stdout is discarded
    (or, with first_line_only, the pipe is closed after the first line, as `| head -1` does)."""
    env = {**os.environ, "PYTHONPATH": tree}
    started = time.perf_counter()
    # run from the tree itself: `python -m` puts the working directory before PYTHONPATH
    process = subprocess.Popen(argv, stdout=subprocess.PIPE if first_line_only else subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=env, cwd=tree)
    first = None
    if first_line_only:
        process.stdout.readline()
        first = time.perf_counter() - started
        process.stdout.close()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - started
    return elapsed, first if first is not None else elapsed, usage.ru_maxrss // 1024, process.returncode


def main() -> None:
    if sys.argv[1:2] == ["--build"]:
        kind, path, size = sys.argv[2:5]
        (build_long if kind == "long" else build_many)(path, int(size))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--folder", default="/tmp/nnreplay-bench")
    parser.add_argument("--tree", default=HERE, help="the checkout whose cli.py runs the commands")
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    long_db = os.path.join(args.folder, f"long-{args.events}.db")
    many_db = os.path.join(args.folder, f"many-{args.sessions}x{PRESSES_EACH}.db")
    for kind, path, size in (("long", long_db, args.events), ("many", many_db, args.sessions)):
        if not os.path.exists(path):
            build(kind, path, size)
    python, cli = sys.executable, [sys.executable, "-m", "cli"]
    baseline = measure([python, "-c", "import numpy, typer, sqlite_utils"])
    run = functools.partial(measure, tree=os.path.abspath(args.tree))
    runs = [
        ("import numpy, typer, sqlite_utils (baseline)", baseline),
        (f"log | head -1  ({args.events:,} events)", run([*cli, "--db", long_db, "log", "long"], True)),
        (f"log --json  ({args.events:,} events)", run([*cli, "--db", long_db, "log", "long", "--json"])),
        (f"log --csv --metrics  ({args.events:,} events)",
         run([*cli, "--db", long_db, "log", "long", "--csv", "--metrics"])),
        (f"export  ({args.events:,} events)", run([*cli, "--db", long_db, "export", "long"])),
        (f"sessions  ({args.sessions:,} sessions)", run([*cli, "--db", many_db, "sessions"])),
        (f"sessions --json  ({args.sessions:,} sessions)", run([*cli, "--db", many_db, "sessions", "--json"])),
    ]
    print(f"{'command':<46} {'wall s':>8} {'first line s':>12} {'x baseline':>10} {'peak RSS MB':>12} {'exit':>5}")
    for label, (wall, first, rss, code) in runs:
        print(f"{label:<46} {wall:8.2f} {first:12.2f} {wall / baseline[0]:10.1f} {rss:12d} {code:5d}")
    print(f"(commands from {os.path.abspath(args.tree)}; `log | head -1` exits when its pipe closes, so its "
          f"exit code is that of a closed pipe)")


if __name__ == "__main__":
    main()
