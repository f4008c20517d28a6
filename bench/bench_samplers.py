"""µs per call of the portable samplers against numpy's own, measured in the same run (best of --runs).

    python bench/bench_samplers.py [--runs 7] [--sweep] [--engine]

Prints, for 6, 50 and 256 arms, samplers.beta_draws (what thompson's decide calls: the twin's pure-Python
path up to SCALAR_ARMS arms, numpy above), each of the two paths forced, and numpy's `rng.beta` loop
(machine-dependent, the speed to beat); then samplers.gaussian(1000) against rng.standard_normal(1000).
--sweep prints both paths for 1 … 256 arms, to choose SCALAR_ARMS. Shapes are thompson-like (1 to 20).
--engine adds thompson's decide + evolve for the default perceptron (events/s of CPU time, best of
--runs), and the µs per event that seeding the event's generator and drawing its Beta take in it.
"""

import argparse
import math
import os
import sys
import time
import timeit

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from engine import samplers, scalar  # noqa: E402


def best_us(fn, runs: int, budget: float = 0.05) -> float:
    """Best per-call time in µs over `runs` runs of about `budget` seconds each, in this process's CPU time
    (time.process_time: other load on a shared machine disturbs it far less than the wall clock)."""
    number = max(1, int(budget / max(timeit.timeit(fn, number=3) / 3, 1e-7)))
    return min(timeit.repeat(fn, number=number, repeat=runs, timer=time.process_time)) / number * 1e6


def shapes(arms: int, seed: int = 5):
    rng = np.random.default_rng([seed, arms])
    return (1.0 + rng.integers(0, 20, arms) * rng.random(arms)).tolist(), (1.0 + 5.0 * rng.random(arms)).tolist()


def beta_row(arms: int, runs: int) -> dict:
    rng = np.random.default_rng(1)
    a, b = shapes(arms)
    aa, bb = np.array(a), np.array(b)
    draw = lambda k: rng.random(k).tolist()  # noqa: E731
    return {
        "ours": best_us(lambda: samplers.beta_draws(rng, a, b), runs),
        "twin path": best_us(lambda: scalar._beta(draw, a, b, math.sqrt), runs),
        "numpy path": best_us(lambda: samplers._beta_array(rng, aa, bb).tolist(), runs),
        "rng.beta loop": best_us(lambda: [rng.beta(x, y) for x, y in zip(a, b)], runs),
    }


def engine_thompson(runs: int, n: int = 2000) -> None:
    from engine import Next, Settings, Start, decide, evolve, rng_for

    def once() -> float:
        state = evolve(None, decide(None, Start(Settings(learner="thompson", seed=11)), rng_for(11, 1))[0])
        started = time.process_time()
        for _ in range(n):
            for event in decide(state, Next(), rng_for(11, state.seq + 1)):
                state = evolve(state, event)
        return n / (time.process_time() - started)

    rate = max(once() for _ in range(runs))
    a, b = shapes(6)
    seq = iter(range(10**9))
    seeding = best_us(lambda: rng_for(11, next(seq)).random(1), runs)
    drawing = best_us(lambda: samplers.beta_draws(rng_for(11, next(seq)), a, b), runs) - seeding
    print(f"thompson decide+evolve (perceptron, 6 arms): {rate:,.0f} events/s = {1e6 / rate:.1f} µs per event, "
          f"of which seeding the event's generator {seeding:.1f} µs and the Beta draws {drawing:.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--engine", action="store_true")
    args = parser.parse_args()
    print(f"SCALAR_ARMS = {samplers.SCALAR_ARMS}, SCALAR_LANES = {samplers.SCALAR_LANES}; "
          f"µs of CPU per call, best of {args.runs}")
    sizes = [1, 2, 4, 6, 8, 12, 16, 20, 24, 32, 40, 50, 64, 96, 128, 256] if args.sweep else [6, 50, 256]
    print(f"{'arms':>5} {'ours':>9} {'twin path':>10} {'numpy path':>11} {'rng.beta loop':>14} {'ours/loop':>10}")
    for arms in sizes:
        row = beta_row(arms, args.runs)
        print(f"{arms:>5} {row['ours']:>9.1f} {row['twin path']:>10.1f} {row['numpy path']:>11.1f} "
              f"{row['rng.beta loop']:>14.1f} {row['ours'] / row['rng.beta loop']:>9.2f}x")
    rng = np.random.default_rng(2)
    ours = best_us(lambda: samplers.gaussian(rng, 1000), args.runs)
    theirs = best_us(lambda: rng.standard_normal(1000), args.runs)
    print(f"normal(1000): ours {ours:.1f} µs, rng.standard_normal {theirs:.1f} µs ({ours / theirs:.1f}x)")
    one = best_us(lambda: samplers.gaussian(rng), args.runs)
    print(f"normal(): ours {one:.2f} µs, rng.standard_normal() {best_us(rng.standard_normal, args.runs):.2f} µs")
    if args.engine:
        engine_thompson(args.runs)


if __name__ == "__main__":
    main()
