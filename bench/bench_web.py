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
    with EventLog(db) as log:
        service.new_session(log, name="bench-press", learner="thompson", seed=1)
        service.new_session(log, name="bench-service", learner="thompson", seed=1)
        ref = log.resolve("bench-service").id

        def press_and_answer():
            info, state = service.record(log, ref, "next", source="bench")
            service.page_state(log, info.id, state=state)

        record_only = timed(lambda: service.record(log, ref, "next", source="bench"), presses)
        with_answer = timed(press_and_answer, presses)
    with server.client() as http:
        http.post("/api/sessions/bench-press/presses", json={"press": "next"})  # warm the connection
        over_http = timed(lambda: http.post("/api/sessions/bench-press/presses", json={"press": "next"})
                          .raise_for_status(), presses)
    rows = [("service.record", record_only), ("service.record + page_state", with_answer),
            ("HTTP POST presses", over_http)]
    base = percentiles(record_only)
    print(f"\npress, {presses} each (thompson, Next)          p50 ms   p99 ms   p50 ratio   p99 ratio")
    for label, values in rows:
        p50, p99 = percentiles(values)
        print(f"  {label:<40} {p50:7.2f}  {p99:7.2f}   {p50 / base[0]:8.2f}x   {p99 / base[1]:8.2f}x")


def long_session(db: str, events: int) -> str:
    with EventLog(db) as log:
        info = service.new_session(log, name="long", learner="thompson", seed=2)
        service.record(log, info.id, "next", events - 1, source="bench")
    return info.id


def state_figures(db: str, server, session_id: str, events: int, samples: int) -> None:
    rng = random.Random(0)
    steps = [rng.randint(1, events) for _ in range(samples)]
    with EventLog(db) as log:
        it = iter(steps)
        from_service = timed(lambda: service.page_state(log, session_id, next(it), points=False), samples)
    with server.client() as http:
        it = iter(steps)
        over_http = timed(lambda: http.get(f"/api/sessions/{session_id}",
                                           params={"at": next(it), "points": "false"}).raise_for_status(), samples)
    print(f"\nstate at a random step of a {events:,}-event session, {samples} samples     p50 ms   p99 ms")
    for label, values in (("service.page_state", from_service), ("HTTP GET ?at=SEQ&points=false", over_http)):
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
        print(f"\nscrubbing the {session_id[:8]} session in Chromium for {seconds:.0f} s    frames/s   new steps painted/s")
        print(f"  {'idle page (baseline)':<44} {idle:8.1f}")
        for stride in (1, 7):
            result = page.evaluate(SCRUB, [seconds, stride])
            print(f"  {f'dragging, {stride} step(s) per frame':<44} {result['fps']:8.1f}   {result['paints']:8.1f}")
        browser.close()


def import_figures(db: str, repeat: int) -> None:
    env = {**os.environ, "PYTHONPATH": ROOT}

    def run(*args):
        return min(timed(lambda: subprocess.run([sys.executable, *args], check=True, env=env, cwd=ROOT,
                                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), repeat))

    base = run("-c", "import numpy, typer, sqlite_utils")
    cli = run("-c", "import cli")
    press = run("-m", "cli", "--db", db, "next", "bench-press")
    print(f"\nstart-up, best of {repeat}                                  ms    ratio")
    for label, value in (("python -c 'import numpy, typer, sqlite_utils'", base), ("python -c 'import cli'", cli),
                         ("nnreplay next (a whole press)", press)):
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
