"""Recording speed: `nnreplay simulate` events/s per group, and `nnreplay demo` wall time.

    python bench/bench_record.py              # 5 sessions x 2,000 presses per group, then the full demo
    python bench/bench_record.py --quick      # small sizes, to check that the script runs

simulate runs as a user runs it (a subprocess, process start included), into a fresh database. Baselines
measured in the same run on the same presses: (a) one commit per press, what a loop over `record` with a
single command costs (`play` and `rate` commit that way, as they must); (b) the engine alone, deciding and
folding in memory with no database: the ceiling for any recorder.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from engine import Settings, Start, decide, evolve, rng_for  # noqa: E402
from engine.person import script  # noqa: E402
from store import EventLog  # noqa: E402

GROUPS = (("gradient", "next"), ("thompson", "next"), ("thompson", "person"))


def nnreplay(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cli", *args], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def simulate_rate(folder: str, learner: str, rater: str, sessions: int, presses: int) -> float:
    db = os.path.join(folder, f"{learner}-{rater}.db")
    seconds = nnreplay("--db", db, "simulate", "--learner", learner, "--rater", rater, "--sessions",
                       str(sessions), "--presses", str(presses), "--seed", "0")
    return sessions * presses / seconds


def one_commit_per_press_rate(folder: str, learner: str, rater: str, presses: int) -> float:
    with EventLog(os.path.join(folder, f"single-{learner}-{rater}.db")) as log:
        info = log.new_session(Settings(learner=learner, seed=0))
        started = time.perf_counter()
        for _ in range(presses):
            log.record(info.id, script(rater, 1), batch=1)
        return presses / (time.perf_counter() - started)


def engine_only_rate(learner: str, rater: str, presses: int) -> float:
    state = evolve(None, decide(None, Start(Settings(learner=learner, seed=0)), rng_for(0, 1))[0])
    started = time.perf_counter()
    for command in script(rater, presses):
        command = command(state) if callable(command) else command
        for event in decide(state, command, rng_for(0, state.seq + 1)):
            state = evolve(state, event)
    return presses / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--presses", type=int, default=2000)
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    sessions, presses = (2, 200) if options.quick else (options.sessions, options.presses)
    single = min(presses, 1000)
    with tempfile.TemporaryDirectory() as folder:
        print(f"simulate, {sessions} sessions x {presses} presses per group (events/s)")
        print(f"{'group':<22} {'simulate':>9} {'1 commit/press':>15} {'engine only':>12} {'vs 1/press':>11}")
        for learner, rater in GROUPS:
            batched = simulate_rate(folder, learner, rater, sessions, presses)
            baseline = one_commit_per_press_rate(folder, learner, rater, single)
            ceiling = engine_only_rate(learner, rater, presses)
            print(f"{learner + ' by ' + rater:<22} {batched:>9,.0f} {baseline:>15,.0f} {ceiling:>12,.0f} "
                  f"{batched / baseline:>10.1f}x")
        print("\ndemo wall time (s), process start included")
        quick = nnreplay("demo", "--quick", "--out", os.path.join(folder, "quick"))
        print(f"  demo --quick   {quick:6.1f}")
        if not options.quick:
            full = nnreplay("demo", "--out", os.path.join(folder, "full"))
            print(f"  demo           {full:6.1f}   ({full / 60:.0%} of the one-minute budget)")


if __name__ == "__main__":
    main()
