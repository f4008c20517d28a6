"""Replay speed and memory: nnreplay's blitting, palette-streaming renderer against plain matplotlib.

The baseline is what one writes first: `FuncAnimation` + `PillowWriter`, every frame clearing the axes
and plotting everything again, Pillow quantising and saving all frames at the end. Both draw the same
sessions (recorded in memory with the engine, no database) at the same size and frame count. Each case
runs in its own process, so that its peak resident memory (ru_maxrss) is its own.

    python bench/bench_replay.py            # both cases, both renderers, prints a table and the ratios
    python bench/bench_replay.py --quick    # fewer frames, to check that the script runs
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CASES = {"one": {"sessions": 1, "size": 400, "frames": 200}, "four": {"sessions": 4, "size": 800, "frames": 300}}


def record(learner: str, seed: int, presses: int, buttons=None) -> list:
    from engine import Next, Rate, Settings, Start, decide, evolve, rng_for

    state = evolve(None, decide(None, Start(Settings(learner=learner, seed=seed, lr=0.3)), rng_for(seed, 1))[0])
    pairs = [(state, None)]
    for i in range(presses):
        command = Rate(buttons[i % len(buttons)]) if buttons else Next()
        for event in decide(state, command, rng_for(seed, state.seq + 1)):
            state = evolve(state, event)
        pairs.append((state, command.button if buttons else None))
    return pairs


def sessions(count: int, frames: int) -> list[tuple[str, str, list]]:
    kinds = [("gradient", "gradient", None), ("thompson-next", "thompson", None),
             ("thompson-rated", "thompson", ["good", "meh", "great", "bad"]), ("gradient-2", "gradient", None)]
    return [(title, learner, record(learner, 7, frames - 1, buttons)) for title, learner, buttons in kinds[:count]]


def run_ours(runs, size: int, frames: int, out: str) -> int:
    from replay import collect, render_gif, sample_steps

    steps = sample_steps(max(len(p) for _, _, p in runs), frames)
    tracks = [collect(title, learner, pairs, steps) for title, learner, pairs in runs]
    return render_gif(tracks, steps, out, fps=12, size=size)["steps"]


def run_plain(runs, size: int, frames: int, out: str) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.animation import FuncAnimation, PillowWriter

    n = len(runs)
    columns = min(n, 2) if n == 4 else n
    rows = (n + columns - 1) // columns
    fig = plt.figure(figsize=(size / 100, size / 100 * (rows * 1.1 + (0.25 if n > 1 else 0)) / columns), dpi=100)
    grid = fig.add_gridspec(rows + (1 if n > 1 else 0), columns)
    axes = [fig.add_subplot(grid[i // columns, i % columns]) for i in range(n)]
    strip = fig.add_subplot(grid[rows, :]) if n > 1 else None
    xs = np.linspace(-1, 1, 64)
    gx, gy = np.meshgrid(xs, xs)

    def draw(i):
        for ax, (title, learner, pairs) in zip(axes, runs):
            state = pairs[min(i, len(pairs) - 1)][0]
            w1, w2, b = state.params
            ax.clear()
            ax.imshow(gx * w1 + gy * w2 + b > 0, extent=(-1, 1, -1, 1), origin="lower", cmap="coolwarm",
                      alpha=0.2, vmin=0, vmax=1)
            pts, labels = state.data.points, state.data.labels
            red = pts @ np.array([w1, w2]) + b > 0
            ax.scatter(pts[:, 0], pts[:, 1], c=np.where(labels > 0.5, "tab:red", "tab:blue"),
                       edgecolors=np.where(red, "tab:red", "tab:blue"), linewidths=2)
            a, b2, c = state.data.separator
            ax.plot(xs, -(a * xs + c) / b2, "--", color="grey")
            if abs(w2) > 1e-9:
                ax.plot(xs, -(w1 * xs + b) / w2, color="black")
            ax.set_xlim(-1, 1)
            ax.set_ylim(-1, 1)
            m = state.metrics
            ax.set_title(f"{title} · {learner}\nstep {state.seq - 1}  accuracy {m.accuracy:.2f}  score {m.score:.2f}")
        if strip is not None:
            strip.clear()
            for title, _, pairs in runs:
                strip.plot([s.metrics.accuracy for s, _ in pairs], label=title)
            strip.axvline(i, color="black")
            strip.legend()

    animation = FuncAnimation(fig, draw, frames=frames)
    animation.save(out, writer=PillowWriter(fps=12))
    return frames


def child(case: str, renderer: str) -> None:
    spec = CASES[case]
    runs = sessions(spec["sessions"], spec["frames"])
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.gif")
        start = time.perf_counter()
        frames = (run_ours if renderer == "ours" else run_plain)(runs, spec["size"], spec["frames"], out)
        seconds = time.perf_counter() - start
        size = os.path.getsize(out)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"frames": frames, "seconds": seconds, "fps": frames / seconds, "peak_mb": peak,
                      "before_mb": rss_before, "gif_mb": size / 1e6}))


def measure(case: str, renderer: str, quick: bool) -> dict:
    env = dict(os.environ, BENCH_QUICK="1" if quick else "")
    done = subprocess.run([sys.executable, __file__, "--child", case, renderer], capture_output=True, text=True,
                          env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("CASE", "RENDERER"), help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="a tenth of the frames")
    args = parser.parse_args()
    if os.environ.get("BENCH_QUICK"):
        for spec in CASES.values():
            spec["frames"] //= 10
    if args.child:
        child(*args.child)
        return
    print(f"{'case':<32} {'renderer':<8} {'frames':>6} {'seconds':>8} {'frames/s':>9} {'peak MB':>8} {'GIF MB':>7}")
    for case, spec in CASES.items():
        results = {r: measure(case, r, args.quick) for r in ("plain", "ours")}
        label = f"{spec['sessions']} panel(s), {spec['size']} px, {spec['frames'] // (10 if args.quick else 1)} frames"
        for renderer, r in results.items():
            print(f"{label:<32} {renderer:<8} {r['frames']:>6} {r['seconds']:>8.2f} {r['fps']:>9.1f} "
                  f"{r['peak_mb']:>8.0f} {r['gif_mb']:>7.2f}")
        print(f"{'':<32} speed-up {results['ours']['fps'] / results['plain']['fps']:.1f}x, "
              f"memory {results['ours']['peak_mb']:.0f} MB vs {results['plain']['peak_mb']:.0f} MB "
              f"(before rendering: {results['ours']['before_mb']:.0f} MB)")


if __name__ == "__main__":
    main()
