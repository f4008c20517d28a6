"""A corpus recorded under one numpy dispatch level audits clean under another, with the same digests.

numpy picks SIMD kernels (AVX-512, AVX2, SSE) at run time; NPY_DISABLE_CPU_FEATURES switches the dispatchable
ones off in a subprocess. Its np.tanh and np.exp give other last bits without them, so a log of machine
arithmetic recorded one way may not replay the other; a portable log must, both ways round, through the
real CLI. (OPENBLAS_* variables are never touched: some machines need them to compute correctly.)
"""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

RECORD = """
import json, sys
sys.path.insert(0, sys.argv[1])
import service
from store import open_log
from engine import state_digest

specs = [
    ("gradient", dict(learner="gradient", seed=3), [("next", 30)]),
    ("thompson-next", dict(learner="thompson", seed=4), [("next", 40)]),
    ("thompson-buttons", dict(learner="thompson", seed=5), [("good", 3), ("next", 2), ("bad", 1), ("great", 4)]),
    ("xor-net", dict(data="xor", hidden=(6,), seed=6, test_share=0.25), [("next", 25)]),
    ("spiral-deep", dict(data="spiral", hidden=(5, 4), activation="sigmoid", seed=7, points=60), [("next", 20)]),
    ("circle-features", dict(data="circle", features=("x2", "y2", "sinx"), seed=8, noise=0.1), [("next", 20)]),
    ("gauss-relu", dict(data="gauss", hidden=(4,), activation="relu", seed=9, lr=2.0), [("next", 20)]),
    ("thompson-net", dict(learner="thompson", data="xor", hidden=(3,), seed=10), [("next", 15), ("meh", 5)]),
]
with open_log(sys.argv[2], create=True) as log:
    for name, settings, presses in specs:
        service.new_session(log, name=name, **settings)
        for press, count in presses:
            service.record(log, name, press, count)
    service.fork(log, "thompson-buttons", 6, "fork")
    service.record(log, "fork", "meh", 3)
    out = {info.name: [log.head(info.id)[1], state_digest(log.state(info.id))] for info in log.sessions()}
print(json.dumps(out))
"""


def dispatchable() -> list[str]:
    """The SIMD families numpy dispatches to at run time on this CPU (numpy refuses to disable baseline ones)."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:
        from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    return [name for name in __cpu_dispatch__ if __cpu_features__.get(name)]


def environment(restricted: bool) -> dict:
    env = {key: value for key, value in os.environ.items() if key != "NPY_DISABLE_CPU_FEATURES"}
    if restricted:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(dispatchable())
    return env


def record(db: str, restricted: bool) -> dict:
    done = subprocess.run([sys.executable, "-c", RECORD, ROOT, db], env=environment(restricted), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def cli(db: str, restricted: bool, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", "--db", db, *args], env=environment(restricted), cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("recorded_restricted", [True, False], ids=["recorded-restricted", "recorded-full"])
def test_a_portable_corpus_audits_clean_under_the_other_dispatch(tmp_path, recorded_restricted):
    """Every session (both learners, buttons, each data set, hidden layers, features, held-out points, a fork)
    audits clean (exit 0) under the other dispatch level, and shows the same head and digest there."""
    if not dispatchable():
        pytest.skip("numpy dispatches no SIMD family on this CPU: both runs would be the same run")
    db = str(tmp_path / "corpus.db")
    recorded = record(db, recorded_restricted)
    audited = cli(db, not recorded_restricted, "audit", "--json")
    assert audited.returncode == 0, audited.stdout[-2000:] + audited.stderr
    report = json.loads(audited.stdout)
    assert {s["name"] for s in report["sessions"]} == set(recorded) and report["ok"]
    for name, (head, digest) in recorded.items():
        shown = json.loads(cli(db, not recorded_restricted, "show", name, "--json").stdout)
        assert (shown["head_hash"], shown["digest"], shown["replay"]) == (head, digest, "as recorded"), name


def test_both_dispatch_levels_record_the_same_states(tmp_path):
    """The same commands give the same state digests whichever SIMD kernels numpy picks."""
    if not dispatchable():
        pytest.skip("numpy dispatches no SIMD family on this CPU")
    full = record(str(tmp_path / "full.db"), False)
    restricted = record(str(tmp_path / "restricted.db"), True)
    assert {name: digest for name, (_, digest) in full.items()} == \
        {name: digest for name, (_, digest) in restricted.items()}
