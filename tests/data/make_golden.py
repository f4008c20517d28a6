"""Record the golden corpus of portable sessions: tests/data/golden-portable.db and golden-portable.json.

    python tests/data/make_golden.py

Run once per arithmetic version (the corpus is committed, never rewritten by tests): every data set, model,
activation, both learners, the four buttons, held-out points, a fork, an import and a re-press. The suite
re-derives every digest and head hash on whatever machine runs it (tests/cli/test_golden_corpus.py), so a
change to the portable arithmetic, or a machine that folds differently, fails there.
"""

import io
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import service  # noqa: E402
from engine import state_digest  # noqa: E402
from store import open_log  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DB, JSON = os.path.join(HERE, "golden-portable.db"), os.path.join(HERE, "golden-portable.json")

SESSIONS = [
    ("gradient", dict(seed=101), [("next", 60)]),
    ("gradient-noisy-held-out", dict(seed=102, noise=0.15, test_share=0.25, points=80, lr=2.0), [("next", 60)]),
    ("thompson-next", dict(learner="thompson", seed=103), [("next", 120)]),
    ("thompson-buttons", dict(learner="thompson", seed=104, discount=0.8, prior=2.0),
     [("good", 3), ("bad", 2), ("meh", 4), ("great", 3), ("next", 5), ("good", 3)]),
    ("xor-hidden-tanh", dict(data="xor", hidden=(8,), seed=105, points=100), [("next", 80)]),
    ("circle-features", dict(data="circle", features=("x2", "y2"), seed=106), [("next", 50)]),
    ("gauss-relu", dict(data="gauss", hidden=(4,), activation="relu", seed=107), [("next", 40)]),
    ("spiral-deep-sigmoid", dict(data="spiral", hidden=(8, 8), activation="sigmoid", seed=108, points=120),
     [("next", 40)]),
    ("linear-linear-sin", dict(hidden=(3,), activation="linear", features=("x", "y", "sinx", "siny"), seed=109),
     [("next", 30)]),
    ("thompson-net", dict(learner="thompson", data="xor", hidden=(4,), seed=110, test_share=0.2),
     [("next", 30), ("great", 5), ("meh", 5)]),
]


def main() -> None:
    for path in (DB, DB + "-wal", DB + "-shm"):
        if os.path.exists(path):
            os.remove(path)
    with open_log(DB, create=True) as log:
        for name, settings, presses in SESSIONS:
            service.new_session(log, name=name, **settings)
            for press, count in presses:
                service.record(log, name, press, count, source="golden")
        service.fork(log, "thompson-buttons", 9, "thompson-buttons-fork")
        service.record(log, "thompson-buttons-fork", "great", 4, source="golden")
        buffer = io.StringIO()
        service.export(log, "xor-hidden-tanh", buffer)
        verified = service.read_export(io.BytesIO(buffer.getvalue().encode()), "golden export", "xor-imported")
        service.import_export(log, verified, "xor-imported")
        service.repress(log, "thompson-buttons", "thompson-buttons-repressed", discount=0.5)
        sessions = []
        for info in log.sessions():
            head, head_hash = log.head(info.id)
            digests = {str(row.seq): row.state_digest for row in log.rows(info.id)
                       if row.seq in (1, 2, head // 2, head)}
            sessions.append({"name": info.name, "session_id": info.id, "seq": head, "head_hash": head_hash,
                             "digest": state_digest(log.state(info.id)), "digests": digests})
    with open(JSON, "w", encoding="utf-8") as handle:
        json.dump({"arithmetic": "portable-1", "sessions": sessions}, handle, indent=1)
        handle.write("\n")
    print(f"wrote {DB} and {JSON}: {len(sessions)} sessions")


if __name__ == "__main__":
    main()
