"""The page and its API: press latency over HTTP, state at a random step, scrubbing fps, `import cli` time.

    python bench/bench_web.py            # 400 presses each way, a 10,000-event session, 4 s of scrubbing
    python bench/bench_web.py --quick    # small sizes, to check that the script runs

Every figure comes with a baseline measured in the same run:
- a press through HTTP (POST .../presses to a real `nnreplay serve` process, one kept-alive connection)
  against the same press through the service layer alone in this process (`service.record`, and
  `service.record` + `service.page_state`, which is all the handler adds);
- the state at a random step of a 10,000-event session, over HTTP (what the scrubber asks for) and from
  the service layer;
- frames per second in Chromium while the scrubber is dragged across that session, counted with
  requestAnimationFrame in the page, and how many of those frames painted a new step;
- `python -c "import cli"` and `nnreplay next` against `python -c "import numpy, typer, sqlite_utils"`.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests", "web"))

import service  # noqa: E402
from serving import Server  # noqa: E402
from store import EventLog  # noqa: E402


def percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = sorted(s * 1000 for s in seconds)
    return statistics.median(ms), ms[min(len(ms) - 1, int(round(0.99 * (len(ms) - 1))))]


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def press_figures(db: str, server, presses: int) -> None:
    """The three ways of pressing, interleaved press by press, so that the VM's drifting speed hits
    each of them alike."""
    times = {"service.record": [], "service.record + page_state": [], "HTTP POST presses": [],
             "HTTP POST presses, as the page asks": []}
    with EventLog(db) as log, server.client() as http:
        refs = {}
        for label in times:
            refs[label] = service.new_session(log, name=f"bench-{len(refs)}", learner="thompson", seed=1).id
        http.post(f"/api/sessions/{refs['HTTP POST presses']}/presses", json={"press": "next"})  # a warm connection

        def press_and_answer(ref):
            info, state = service.record(log, ref, "next", source="bench")
            service.page_state(log, info.id, state=state)

        ways = {"service.record": lambda ref: service.record(log, ref, "next", source="bench"),
                "service.record + page_state": press_and_answer,
                "HTTP POST presses": lambda ref: http.post(f"/api/sessions/{ref}/presses", json={"press": "next"})
                .raise_for_status(),
                # the page's own press: a 64 x 64 grid, the network's unit grids, no points (common.js)
                "HTTP POST presses, as the page asks": lambda ref: http.post(
                    f"/api/sessions/{ref}/presses", params=PAGE_QUERY, json={"press": "next"}).raise_for_status()}
        for _ in range(presses):
            for label, way in ways.items():
                started = time.perf_counter()
                way(refs[label])
                times[label].append(time.perf_counter() - started)
    base = percentiles(times["service.record"])
    print(f"\npress, {presses} each, interleaved (thompson, Next)    p50 ms   p99 ms   p50 ratio   p99 ratio")
    for label, values in times.items():
        p50, p99 = percentiles(values)
        print(f"  {label:<40} {p50:7.2f}  {p99:7.2f}   {p50 / base[0]:8.2f}x   {p99 / base[1]:8.2f}x")


PAGE_QUERY = {"grid": 64, "units": 16, "points": "false", "truth": "false"}


def long_session(db: str, events: int) -> str:
    with EventLog(db) as log:
        info = service.new_session(log, name="long", learner="thompson", seed=2)
        service.record(log, info.id, "next", events - 1, source="bench")
    return info.id


def state_figures(db: str, server, session_id: str, events: int, samples: int) -> None:
    rng = random.Random(0)
    times = {"service.page_state": [], "HTTP GET ?at=SEQ&points=false": [],
             "service.page_state, as the page asks": [], "HTTP GET, as the page asks": []}
    with EventLog(db) as log, server.client() as http:
        ways = {"service.page_state": lambda seq: service.page_state(log, session_id, seq, points=False),
                "HTTP GET ?at=SEQ&points=false": lambda seq: http.get(
                    f"/api/sessions/{session_id}", params={"at": seq, "points": "false"}).raise_for_status(),
                "service.page_state, as the page asks": lambda seq: service.page_state(
                    log, session_id, seq, grid=64, points=False, units=16, truth=False),
                "HTTP GET, as the page asks": lambda seq: http.get(
                    f"/api/sessions/{session_id}", params={"at": seq, **PAGE_QUERY}).raise_for_status()}
        for _ in range(samples):
            seq = rng.randint(1, events)
            for label, way in ways.items():
                started = time.perf_counter()
                way(seq)
                times[label].append(time.perf_counter() - started)
    print(f"\nstate at a random step of a {events:,}-event session, {samples} samples     p50 ms   p99 ms")
    for label, values in times.items():
        p50, p99 = percentiles(values)
        print(f"  {label:<58} {p50:7.2f}  {p99:7.2f}")


SCRUB = """async ([seconds, stride]) => {
    const slider = document.getElementById('scrubber'), head = Number(slider.max);
    let frames = 0, paints = 0, seq = 1;
    const board = NNDraw.board;
    NNDraw.board = (...args) => { paints++; return board(...args); };
    const started = performance.now();
    await new Promise((done) => {
        const tick = () => {
            frames++;
            seq = seq + stride > head ? 1 : seq + stride;       // a drag: a new step every frame
            slider.value = String(seq);
            slider.dispatchEvent(new Event('input', { bubbles: true }));
            if (performance.now() - started < seconds * 1000) requestAnimationFrame(tick); else done();
        };
        requestAnimationFrame(tick);
    });
    NNDraw.board = board;
    const elapsed = (performance.now() - started) / 1000;
    return { fps: frames / elapsed, paints: paints / elapsed };
}"""

IDLE = """async (seconds) => {
    let frames = 0; const started = performance.now();
    await new Promise((done) => { const tick = () => { frames++;
        if (performance.now() - started < seconds * 1000) requestAnimationFrame(tick); else done(); };
        requestAnimationFrame(tick); });
    return frames / ((performance.now() - started) / 1000);
}"""


def fps_figures(server, session_id: str, seconds: float) -> None:
    if not os.path.exists("/usr/bin/chromium"):
        print("\nscrubbing fps: skipped, /usr/bin/chromium is missing")
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": 820})
        page.goto(f"{server.url}/sessions/{session_id}")
        page.locator("#r-step").wait_for()
        page.wait_for_timeout(500)
        idle = page.evaluate(IDLE, seconds / 2)
        print(f"\nscrubbing the {session_id[:8]} session in Chromium for {seconds:.0f} s"
              "    frames/s   new steps painted/s")
        print(f"  {'idle page (baseline)':<44} {idle:8.1f}")
        for stride in (1, 7):
            result = page.evaluate(SCRUB, [seconds, stride])
            print(f"  {f'dragging, {stride} step(s) per frame':<44} {result['fps']:8.1f}   {result['paints']:8.1f}")
        browser.close()


def import_figures(db: str, repeat: int) -> None:
    """Best of `repeat` rounds, each round running all three once (interleaved, for a drifting VM)."""
    env = {**os.environ, "PYTHONPATH": ROOT}
    commands = {"python -c 'import numpy, typer, sqlite_utils'": ["-c", "import numpy, typer, sqlite_utils"],
                "python -c 'import cli'": ["-c", "import cli"],
                "nnreplay next (a whole press)": ["-m", "cli", "--db", db, "next", "bench-0"]}
    best = dict.fromkeys(commands, float("inf"))
    for _ in range(repeat):
        for label, args in commands.items():
            [took] = timed(lambda: subprocess.run([sys.executable, *args], check=True, env=env, cwd=ROOT,
                                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), 1)
            best[label] = min(best[label], took)
    base = next(iter(best.values()))
    print(f"\nstart-up, best of {repeat} interleaved rounds                  ms    ratio")
    for label, value in best.items():
        print(f"  {label:<52} {value * 1000:6.0f}   {value / base:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    presses, events, samples, seconds, repeat = (40, 500, 40, 1.0, 3) if quick else (400, 10_000, 400, 4.0, 7)
    with tempfile.TemporaryDirectory() as folder:
        db = os.path.join(folder, "bench.db")
        session_id = long_session(db, events)
        server = Server(db)
        try:
            press_figures(db, server, presses)
            state_figures(db, server, session_id, events, samples)
            fps_figures(server, session_id, seconds)
        finally:
            server.stop()
        import_figures(db, repeat)


if __name__ == "__main__":
    main()
