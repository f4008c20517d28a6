"""Models beyond the perceptron, measured against same-run baselines (ratios, not wall times to trust).

1. The engine: decide+evolve events/s of the gradient learner on a 2-8-8-1 tanh network and 200 points,
   against a plain numpy forward+backward step of the same network (matrix products, no events, no state).
2. Recording: events/s through the SQLite store (decide, evolve, digest, hash chain, commits) against (1).
3. Replay: a 4-panel comparison of hidden-layer sessions rendered by `replay.render_gif` against the plain
   matplotlib baseline: FuncAnimation redrawing contourf of the model's probability, the points and the
   titles every frame, saved with PillowWriter. Same sessions, size and frame count; each in its own process.

    python bench/bench_models.py            # all three
    python bench/bench_models.py --quick    # fewer steps and frames, to check that the script runs
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

NET = {"data": "xor", "points": 200, "hidden": (8, 8)}
PANELS = [("perceptron", {"data": "xor", "points": 100}), ("x,y,xy", {"data": "xor", "points": 100, "features": ("x", "y", "xy")}),
          ("hidden 8", {"data": "xor", "points": 100, "hidden": (8,)}),
          ("hidden 8,8", {"data": "xor", "points": 100, "hidden": (8, 8), "test_share": 0.2})]


def rate(function, count: int) -> float:
    start = time.perf_counter()
    function(count)
    return count / (time.perf_counter() - start)


def engine_rates(steps: int) -> tuple[float, float]:
    import numpy as np

    from engine import Next, Settings, Start, apply, decide, evolve, rng_for

    state0 = apply(None, Start(Settings(seed=1, **NET)))

    def ours(count):
        state = state0
        for _ in range(count):
            for event in decide(state, Next(), rng_for(1, state.seq + 1)):
                state = evolve(state, event)

    x, y = state0.data.inputs, state0.data.labels
    arrays = state0.settings.model.arrays(state0.params)
    w1, b1, w2, b2, w3, b3 = (arrays[k].copy() for k in ("W1", "b1", "W2", "b2", "W3", "b3"))

    def plain(count):
        nonlocal w1, b1, w2, b2, w3, b3
        n = len(y)
        for _ in range(count):
            h1 = np.tanh(x @ w1 + b1)
            h2 = np.tanh(h1 @ w2 + b2)
            p = 1 / (1 + np.exp(-(h2 @ w3 + b3)))[:, 0]
            e = (p - y)[:, None] / n
            d2 = (e @ w3.T) * (1 - h2 ** 2)
            d1 = (d2 @ w2.T) * (1 - h1 ** 2)
            w3, b3 = w3 - h2.T @ e, b3 - e.sum(0)
            w2, b2 = w2 - h1.T @ d2, b2 - d2.sum(0)
            w1, b1 = w1 - x.T @ d1, b1 - d1.sum(0)

    return rate(ours, steps), rate(plain, steps)


def store_rate(steps: int) -> float:
    from engine import Next, Settings
    from store.log import EventLog

    with tempfile.TemporaryDirectory() as tmp, EventLog(os.path.join(tmp, "bench.db")) as log:
        info = log.new_session(Settings(seed=1, **NET))
        return rate(lambda count: log.record(info.id, [Next()] * count), steps)


def sessions(presses: int):
    from engine import Next, Settings, Start, apply

    runs = []
    for title, settings in PANELS:
        state = apply(None, Start(Settings(seed=3, **settings)))
        pairs = [(state, None)]
        for _ in range(presses):
            state = apply(state, Next())
            pairs.append((state, None))
        runs.append((title, "gradient", pairs))
    return runs


def render_ours(runs, frames: int, out: str) -> None:
    from replay import collect, render_gif, sample_steps

    steps = sample_steps(len(runs[0][2]), frames)
    render_gif([collect(t, learner, p, steps) for t, learner, p in runs], steps, out, fps=12, size=800)


def render_plain(runs, frames: int, out: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.animation import FuncAnimation, PillowWriter

    from engine.view import probability

    fig, axes = plt.subplots(2, 2, figsize=(8, 8), dpi=100)
    xs = np.linspace(-1, 1, 64)
    gx, gy = np.meshgrid(xs, xs)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    indices = np.linspace(0, len(runs[0][2]) - 1, frames).round().astype(int)

    def draw(i):
        for ax, (title, learner, pairs) in zip(axes.ravel(), runs):
            state = pairs[indices[i]][0]
            ax.clear()
            p = probability(state, grid).reshape(64, 64)
            ax.contourf(gx, gy, p, levels=np.linspace(0, 1, 9), cmap="RdBu_r", alpha=0.5)
            ax.contour(gx, gy, p, levels=[0.5], colors="black")
            pts, labels = state.data.points, state.data.labels
            ax.scatter(pts[:, 0], pts[:, 1], c=np.where(labels > 0.5, "tab:red", "tab:blue"), edgecolors="white")
            m = state.metrics
            ax.set_title(f"{title} · {learner}\nstep {state.seq - 1}  accuracy {m.accuracy:.2f}")

    FuncAnimation(fig, draw, frames=frames).save(out, writer=PillowWriter(fps=12))


def child(renderer: str, presses: int, frames: int) -> None:
    runs = sessions(presses)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.gif")
        start = time.perf_counter()
        (render_ours if renderer == "ours" else render_plain)(runs, frames, out)
        print(json.dumps({"seconds": time.perf_counter() - start}))


def replay_seconds(renderer: str, presses: int, frames: int) -> float:
    done = subprocess.run([sys.executable, __file__, "--child", renderer, str(presses), str(frames)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="fewer steps and frames")
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), int(args.child[2]))
        return
    steps, frames = (300, 20) if args.quick else (3000, 120)
    ours, plain = engine_rates(steps)
    print(f"engine, 2-8-8-1 tanh on 200 points: decide+evolve {ours:,.0f} events/s; "
          f"numpy forward+backward alone {plain:,.0f} steps/s; ratio {ours / plain:.2f}")
    recorded = store_rate(steps)
    print(f"recording through SQLite: {recorded:,.0f} events/s; {recorded / ours:.2f} of decide+evolve in memory")
    seconds = {r: replay_seconds(r, 300, frames) for r in ("plain", "ours")}
    print(f"replay, 4 panels (perceptron, features, hidden 8, hidden 8,8 with held-out points), 800 px, "
          f"{frames} frames: plain matplotlib {seconds['plain']:.2f} s, nnreplay {seconds['ours']:.2f} s, "
          f"speed-up {seconds['plain'] / seconds['ours']:.1f}x")


if __name__ == "__main__":
    main()
