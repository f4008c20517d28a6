"""Issue 17, item 7's worst case: the most a client may ask of `nnreplay serve`, and what everyone else sees.

    python bench/bench_costly.py              # 20 s of load
    python bench/bench_costly.py --seconds 5  # shorter

A real `nnreplay serve` process on 127.0.0.1 holds a gradient session on a 64,64 network over 10,000 points
(the issue's `{"hidden":[64,64],"points":10000}`). The load: two clients from 127.0.0.1, one pressing it as
hard as a request allows (`count` 5, about 2 s of work each), one asking for a state at random `?at=` (a
fold from the nearest snapshot). Meanwhile, measured in the same run without and then with that load:

- another writer: a separate process pressing another session of the same file through the store (what a
  terminal's `nnreplay next` does), one commit per press: its press latency, p50, p99 and the longest;
- the server's other requests: a client from 127.0.0.2 asking for a cheap session's state at the head
  (`GET /api/sessions/grad?points=false`), p50, p99 and the longest.

Ratios are against the same measurement with no load. Traffic goes to 127.0.0.1 only.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests", "web"))

import httpx  # noqa: E402

import service  # noqa: E402
from serving import Server  # noqa: E402
from store import EventLog  # noqa: E402

WRITER = """
import sys, time
from store import EventLog
from engine import Next
path, sid, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
with EventLog(path) as log:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.perf_counter()
        log.record(sid, [Next(source="bench")])
        print(time.perf_counter() - started, flush=True)
"""


def figures(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, int(round(0.99 * (len(ms) - 1))))]
    return f"n={len(ms):5d}  p50 {statistics.median(ms):8.1f} ms  p99 {p99:8.1f} ms  max {ms[-1]:8.1f} ms"


def measure(db: str, server: Server, writer_sid: str, seconds: float) -> tuple[list[float], list[float]]:
    """(another writer's press latencies, the other client's request latencies) over `seconds`."""
    writer = subprocess.Popen([sys.executable, "-c", WRITER, db, writer_sid, str(seconds)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": ROOT})
    answers: list[float] = []
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=server.url, timeout=60, transport=transport) as other:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.perf_counter()
            assert other.get("/api/sessions/grad", params={"points": "false"}).status_code == 200
            answers.append(time.perf_counter() - started)
            time.sleep(0.02)
    out, _ = writer.communicate(timeout=120)
    return [float(line) for line in out.split()], answers


def load(server: Server, stop: threading.Event, counts: dict) -> list[threading.Thread]:
    def presser():
        with httpx.Client(base_url=server.url, timeout=120) as http:
            while not stop.is_set():
                answer = http.post("/api/sessions/heavy/presses", json={"press": "next", "count": 5})
                counts[answer.status_code] = counts.get(answer.status_code, 0) + 1

    def scrubber():
        import random

        rng = random.Random(1)
        with httpx.Client(base_url=server.url, timeout=120) as http:
            while not stop.is_set():
                head = http.get("/api/sessions/heavy", params={"points": "false"}).json()["head"]
                answer = http.get("/api/sessions/heavy", params={"at": rng.randint(1, head), "points": "false"})
                counts[answer.status_code] = counts.get(answer.status_code, 0) + 1

    threads = [threading.Thread(target=presser, daemon=True), threading.Thread(target=scrubber, daemon=True)]
    for thread in threads:
        thread.start()
    return threads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nnreplay-costly-") as folder:
        db = os.path.join(folder, "costly.db")
        with EventLog(db) as log:
            service.new_session(log, name="heavy", hidden=(64, 64), points=10000, seed=3)
            service.new_session(log, name="grad", seed=4)
            service.record(log, "grad", "next", 20)
            writer_sid = service.new_session(log, name="terminal", learner="thompson", seed=5).id
        server = Server(db)
        try:
            quiet_writer, quiet_other = measure(db, server, writer_sid, args.seconds)
            stop, counts = threading.Event(), {}
            threads = load(server, stop, counts)
            time.sleep(1.0)  # the first heavy press is under way
            busy_writer, busy_other = measure(db, server, writer_sid, args.seconds)
            stop.set()
            for thread in threads:
                thread.join(120)
        finally:
            server.stop()
    print(f"load: {counts} (status: requests) from the heavy client, over {args.seconds:.0f} s")
    print(f"another writer, no load:      {figures(quiet_writer)}")
    print(f"another writer, under load:   {figures(busy_writer)}   "
          f"p99 x{percentile(busy_writer) / percentile(quiet_writer):.2f}")
    print(f"other client, no load:        {figures(quiet_other)}")
    print(f"other client, under load:     {figures(busy_other)}   "
          f"p99 x{percentile(busy_other) / percentile(quiet_other):.2f}")
    print(f"longest wait of another writer under load: {max(busy_writer):.3f} s (goal: under 1 s); "
          f"longest answer to the other client: {max(busy_other) * 1000:.0f} ms (goal: under 100 ms)")


def percentile(seconds: list[float], q: float = 0.99) -> float:
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


if __name__ == "__main__":
    main()
