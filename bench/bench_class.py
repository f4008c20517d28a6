"""A class under load: students joining `nnreplay serve --class` and pressing at a human pace while the
teacher's overview follows every board.

    python bench/bench_class.py                  # 30 and 200 students, 30 s per run, SQLite
    python bench/bench_class.py --quick          # 30 students, 6 s per run: checks the script
    python bench/bench_class.py --students 200 --seconds 40
    python bench/bench_class.py --flat 60        # how many presses a second one server takes (below)

Each class size runs twice on a fresh database, in the same run: first the baseline (the same students
joining and pressing, no overview open), then with the overview open. Students join at a random moment in
the first 10 s (POST /api/join with the printed code), then press Next, pausing 1-3 s between presses, each
on a kept-alive connection of their own. The overview does what the teacher's page does: it opens the
teacher link, reads /api/class and every board, follows /api/live, and on each `heads` message fetches the
boards of the students' sessions that moved (one fetch at a time; what moves meanwhile is fetched next);
a `class` message names who joined, whose boards are fetched the same way, and /api/class is read again
only when its count of students differs from the boards held (one read at a time, as the page does).
Students press with the page's own request (grid 64, no points, no true boundary: session.js).

Figures: press p50/p99 (request start to answer end), press p99 once every student has joined ("p99
after": presses started 2 s after the last join could begin), the overview's update delay (from a press's
answer to the overview holding a board at that seq or later; p50, p99, and presses it never saw), the bytes
per second the overview received (the live stream and the answers it fetched), and "gen lag": the longest
the load generator's own event loop was late (ms), a stall that every latency measured at that moment
includes and that is not the server's. "speed": the machine's speed just before the run, as milliseconds
for a fixed loop of pure Python (smaller is faster); it is printed at the end too. The development VM ran
that loop in 10-13 ms when rested and 20-28 ms after a minute or two of this load, and every figure moves
with it.

`--flat N`: N students press back to back instead, for presses a second and the server's CPU time a press,
in class mode against a server without a class (the baseline), three rounds interleaved.

Traffic goes to 127.0.0.1 only; every run stops by itself after its duration.
"""

import argparse
import asyncio
import json
import os
import random
import ssl
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests", "web"))

import httpx  # noqa: E402

from serving import Server, cpu_seconds  # noqa: E402

REQUEST_TIMEOUT_S = 30
JOIN_SPREAD_S = 10  # a class reading the code off the projector joins over several seconds, not at once
MAX_RUN_S = 60

# what the student's page asks with a press (web/static/session.js): its grid, the units it draws, and
# neither the points nor the true boundary, which it already holds
PAGE_PRESS = "?grid=64&units=16&points=false&truth=false"

# one TLS context for every student's client, though the traffic is plain HTTP: httpx builds a context per
# client by default, loading the system's certificates, 39 ms of this process's one event loop each; 200
# students joining in 10 s then spent 8 s of it there, and every request measured waited behind them
TLS = ssl.create_default_context()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] if ordered else float("nan")


class Tally:
    def __init__(self):
        self.latencies: list[float] = []
        self.errors: dict = {}
        self.answered: dict[tuple[str, int], float] = {}  # (session, seq) -> when its press was answered
        self.shown: dict[str, tuple[int, float]] = {}  # session -> (seq the overview holds, when it got it)
        self.delays: list[float] = []
        self.bytes = 0
        self.joins: list[float] = []
        self.steady: list[float] = []  # press latencies once the joining is over
        self.lag = 0.0  # the longest this process's event loop was late: a stall of the load generator itself
        self.started = time.monotonic()


async def watch_lag(tally: Tally, until: float) -> None:
    """How late a 10 ms sleep of the load generator wakes, at worst: every latency measured here includes
    such a stall (the VM pausing, the generator busy), which is not the server's."""
    while time.monotonic() < until:
        start = time.perf_counter()
        await asyncio.sleep(0.01)
        tally.lag = max(tally.lag, time.perf_counter() - start - 0.01)


async def student(server: Server, index: int, until: float, tally: Tally, rng: random.Random):
    await asyncio.sleep(rng.uniform(0, JOIN_SPREAD_S))
    async with httpx.AsyncClient(base_url=server.url, timeout=REQUEST_TIMEOUT_S, verify=TLS) as http:
        start = time.perf_counter()
        joined = await http.post("/api/join", json={"code": server.code, "name": f"student {index}"})
        tally.joins.append(time.perf_counter() - start)
        if joined.status_code != 201:
            tally.errors[f"join {joined.status_code}"] = tally.errors.get(f"join {joined.status_code}", 0) + 1
            return
        session = joined.json()["session"]
        while time.monotonic() < until:
            start = time.perf_counter()
            try:
                answer = await http.post(f"/api/sessions/{session}/presses{PAGE_PRESS}", json={"press": "next"})
                kind = answer.status_code
            except httpx.HTTPError as error:
                kind = type(error).__name__
            if kind == 200:
                tally.latencies.append(time.perf_counter() - start)
                if time.monotonic() - tally.started > JOIN_SPREAD_S + 2:  # every student has joined
                    tally.steady.append(time.perf_counter() - start)
                tally.answered[(session, answer.json()["seq"])] = time.monotonic()
            else:
                tally.errors[kind] = tally.errors.get(kind, 0) + 1
            await asyncio.sleep(rng.uniform(1, 3))


class Overview:
    """The teacher's page, as far as the server can tell: the requests it makes and when."""

    def __init__(self, server: Server, tally: Tally):
        self.server, self.tally = server, tally
        self.boards: set[str] = set()
        self.pending: set[str] = set()
        self.wake = asyncio.Event()
        self.reloading, self.again, self.http = None, False, None

    async def run(self, until: float) -> None:
        async with httpx.AsyncClient(base_url=self.server.url, timeout=REQUEST_TIMEOUT_S) as http:
            self.http = http
            await http.get(self.server.teacher_link.removeprefix(self.server.url))
            await self.roster(http)
            await self.fetch(http, None)
            fetcher = asyncio.create_task(self.fetch_loop(http, until))
            try:
                await asyncio.wait_for(self.follow(http), max(0.1, until - time.monotonic()))
            except TimeoutError:
                pass
            fetcher.cancel()

    async def get(self, http, path: str):
        """An answer, or None after a transport error (counted): uvicorn closes a kept-alive connection
        idle for 5 s, and a request may race that close."""
        try:
            answer = await http.get(path)
        except httpx.HTTPError as error:
            kind = f"overview {type(error).__name__}"
            self.tally.errors[kind] = self.tally.errors.get(kind, 0) + 1
            return None
        if answer.status_code != 200:
            kind = f"overview {answer.status_code}"
            self.tally.errors[kind] = self.tally.errors.get(kind, 0) + 1
            return None
        return answer

    async def roster(self, http) -> None:
        answer = await self.get(http, "/api/class")
        if answer is None:
            return
        self.tally.bytes += len(answer.content)
        self.add({row["session"] for row in answer.json()["students"]})
        if self.again:  # students joined while this reload was under way
            self.again = False
            self.reloading = asyncio.ensure_future(self.roster(http))

    def add(self, sessions: set[str]) -> None:
        new = sessions - self.boards
        self.boards |= new
        self.pending |= new
        self.wake.set()

    def reload(self) -> None:
        if self.reloading is None or self.reloading.done():
            self.reloading = asyncio.ensure_future(self.roster(self.http))
        else:
            self.again = True

    async def follow(self, http) -> None:
        async with http.stream("GET", "/api/live", timeout=httpx.Timeout(REQUEST_TIMEOUT_S, read=None)) as live:
            name = None
            async for line in live.aiter_lines():
                self.tally.bytes += len(line) + 1
                if line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data = json.loads(line[5:])
                    if name == "class":  # as the page does: add who joined, else read the class again
                        if "joined" in data:
                            self.add({row["session"] for row in data["joined"]})
                        if data["students"] != len(self.boards):  # one reload at a time, never holding up the stream
                            self.reload()
                    elif name == "heads":
                        self.pending |= set(data["changed"]) & self.boards
                        self.wake.set()

    async def fetch_loop(self, http, until: float) -> None:
        while time.monotonic() < until:
            await self.wake.wait()
            self.wake.clear()
            if self.pending:
                wanted, self.pending = self.pending, set()
                await self.fetch(http, wanted)

    async def fetch(self, http, sessions: set[str] | None) -> None:
        query = "" if sessions is None else "&sessions=" + ",".join(sorted(sessions))
        answer = await self.get(http, f"/api/class/boards?grid=24{query}")
        if answer is None:
            self.pending |= sessions or set()  # asked again with the next change
            return
        now = time.monotonic()
        self.tally.bytes += len(answer.content)
        for board in answer.json()["boards"]:
            self.tally.shown[board["session"]] = (board["seq"], now)
            # every press of that session up to the board's seq is now on the overview
            for seq in range(2, board["seq"] + 1):
                answered = self.tally.answered.pop((board["session"], seq), None)
                if answered is not None:
                    self.tally.delays.append(max(0.0, now - answered))


async def drive(server: Server, students: int, seconds: float, overview: bool) -> tuple[Tally, float]:
    tally, rng = Tally(), random.Random(7)
    started = time.monotonic()
    until = started + seconds
    tasks = [student(server, i, until, tally, rng) for i in range(students)] + [watch_lag(tally, until)]
    watcher = Overview(server, tally) if overview else None
    if watcher is not None:
        tasks.append(watcher.run(until + 2))  # 2 s more: presses answered near the end get their chance to show
    await asyncio.gather(*tasks)
    return tally, time.monotonic() - started


def run(folder: str, students: int, seconds: float, overview: bool, baseline: dict | None) -> dict:
    path = os.path.join(folder, f"class-{students}-{int(overview)}.db")
    speed = machine_speed()
    server = Server(path, "--class", "bench", "--max-students", str(students))
    try:
        tally, wall = asyncio.run(drive(server, students, seconds, overview))
    finally:
        server.stop()
    ms = [s * 1000 for s in tally.latencies]
    row = {"p50": statistics.median(ms) if ms else float("nan"), "p99": percentile(ms, 0.99), "presses": len(ms)}
    steady = [s * 1000 for s in tally.steady]
    joins = [s * 1000 for s in tally.joins]
    delays = [d * 1000 for d in tally.delays]
    shown = f"{'-':>8} {'-':>8} {'-':>6} {'-':>9}"
    if overview:
        unseen = len(tally.answered)
        shown = (f"{statistics.median(delays) if delays else float('nan'):>8.0f} {percentile(delays, 0.99):>8.0f} "
                 f"{unseen:>6} {tally.bytes / wall:>9,.0f}")
    other = "the baseline" if overview else "the run with the overview open"
    ratio = f"  press p99 x{row['p99'] / baseline['p99']:.2f} of {other}" if baseline else ""
    errors = sum(tally.errors.values())
    print(f"{students:>4} {'overview open' if overview else 'baseline':<14} {statistics.median(joins):>8.0f} "
          f"{percentile(joins, 0.99):>8.0f} {row['presses']:>7} {row['p50']:>8.1f} "
          f"{row['p99']:>8.1f} {percentile(steady, 0.99):>9.1f} {shown} {tally.lag * 1000:>7.0f} {errors:>6} "
          f"{speed:>5.1f}{ratio}"
          f"{'  errors: ' + ', '.join(f'{n} x {k}' for k, n in tally.errors.items()) if errors else ''}", flush=True)
    return row


async def flat_out(server: Server, students: int, seconds: float, joined: bool) -> tuple[float, float]:
    """(presses a second, server CPU ms a press) with `students` clients pressing back to back, each on a
    session of their own: students who joined the class (`joined`), or sessions of a server without one."""
    clients = [httpx.AsyncClient(base_url=server.url, timeout=REQUEST_TIMEOUT_S, verify=TLS) for _ in range(students)]
    sessions = []
    for index, http in enumerate(clients):
        if joined:
            answer = await http.post("/api/join", json={"code": server.code, "name": f"student {index}"})
            sessions.append(answer.json()["session"])
        else:
            sessions.append((await http.post("/api/sessions", json={})).json()["id"])
    done = [0]

    async def press(http, session: str, until: float) -> None:
        while time.monotonic() < until:
            answer = await http.post(f"/api/sessions/{session}/presses{PAGE_PRESS}", json={"press": "next"})
            if answer.status_code == 200:
                done[0] += 1
            else:  # a student pressing over 20 a second is told to wait (429): so they do
                await asyncio.sleep(0.05)

    await asyncio.gather(*(press(http, session, time.monotonic() + 2) for http, session in zip(clients, sessions)))
    done[0], used, started = 0, cpu_seconds(server.process.pid), time.monotonic()
    await asyncio.gather(*(press(http, session, started + seconds) for http, session in zip(clients, sessions)))
    wall, used = time.monotonic() - started, cpu_seconds(server.process.pid) - used
    for http in clients:
        await http.aclose()
    return done[0] / wall, used / max(done[0], 1) * 1000


def capacity(folder: str, students: int, seconds: float) -> None:
    """Presses a second through one server with `students` pressing flat out, in class mode and, as the
    baseline of the same run, without a class; three rounds, interleaved, since the VM's speed drifts."""
    print(f"{students} clients pressing back to back with the page's request, {seconds:g} s a round; this "
          f"machine's speed: {machine_speed():.1f} ms for the reference loop (smaller is faster)")
    for round_ in range(3):
        figures = {}
        for joined in (False, True):
            server = Server(os.path.join(folder, f"flat-{round_}-{int(joined)}.db"),
                            *(("--class", "bench", "--max-students", str(students)) if joined else ()))
            try:
                figures[joined] = asyncio.run(flat_out(server, students, seconds, joined))
            finally:
                server.stop()
        (owner, owner_ms), (klass, klass_ms) = figures[False], figures[True]
        print(f"round {round_ + 1}: without a class {owner:6.1f} presses/s ({owner_ms:.2f} ms of server CPU each); "
              f"a class {klass:6.1f} presses/s ({klass_ms:.2f} ms each): x{klass / owner:.2f} of the baseline",
              flush=True)


def machine_speed() -> float:
    """Milliseconds for a fixed piece of pure Python, best of five: the VM's speed varied up to twofold
    within an hour, and every figure here moves with it."""
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        sum(i * i for i in range(200_000))
        best = min(best, time.perf_counter() - start)
    return best * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="30 students, 6 s per run")
    parser.add_argument("--seconds", type=float,
                        help=f"duration of each run (default 30, with --flat 8; at most {MAX_RUN_S})")
    parser.add_argument("--students", help="class sizes, comma-separated (default 30,200)")
    parser.add_argument("--overview-first", action="store_true",
                        help="run each size with the overview open first, then the baseline")
    parser.add_argument("--flat", type=int, metavar="N",
                        help="instead: N students pressing back to back, presses a second with and without a class")
    args = parser.parse_args()
    sizes, seconds = ([30], 6.0) if args.quick else ([30, 200], 8.0 if args.flat else 30.0)
    if args.students:
        sizes = [min(int(n), 500) for n in args.students.split(",")]
    seconds = min(args.seconds or seconds, MAX_RUN_S)
    folder = tempfile.mkdtemp(prefix="nnreplay-class-")
    try:
        if args.flat:
            capacity(folder, min(args.flat, 200), seconds)
            return 0
        print(f"SQLite, {seconds:g} s per run, students joining over the first {JOIN_SPREAD_S} s, then a press "
              f"every 1-3 s each; this machine's speed: {machine_speed():.1f} ms for the reference loop (smaller "
              f"is faster)")
        print(f"{'stud':>4} {'run':<14} {'join p50':>8} {'join p99':>8} {'presses':>7} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'p99 after':>9} {'upd p50':>8} {'upd p99':>8} {'unseen':>6} {'bytes/s':>9} {'gen lag':>7} "
              f"{'errors':>6} {'speed':>5}", flush=True)
        for students in sizes:
            if args.overview_first:
                open_ = run(folder, students, seconds, True, None)
                run(folder, students, seconds, False, open_)
            else:
                baseline = run(folder, students, seconds, False, None)
                run(folder, students, seconds, True, baseline)
        print(f"the reference loop at the end: {machine_speed():.1f} ms")
    finally:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
