"""Property tests: the same presses give bit-identical states, however and wherever they are rebuilt."""

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings, strategies as st

from engine import Next, PauseClass, Rate, Settings, fold, state_digest
from engine.membership import ClassMember
from store import EventLog

ROOT = Path(__file__).resolve().parent.parent

presses = st.lists(st.one_of(st.just(Next()), st.sampled_from([Rate(b) for b in ("bad", "meh", "good", "great")]),
                             st.just("pause")), min_size=0, max_size=60)
# a session may be a class record (whose "pause" presses toggle Pause and Resume) or a student's
MEMBERS = {"none": None, "class": ClassMember("class", "Year 9", lesson="supervised"),
           "student": ClassMember("student", "Year 9", class_id="1" * 32, student="Ana", token="e" * 64)}
sessions = st.fixed_dictionaries({
    "learner": st.sampled_from(["gradient", "thompson"]),
    "seed": st.integers(0, 2**63 - 1),
    "points": st.integers(1, 60),
    "noise": st.sampled_from([0.0, 0.1, 0.5]),
    "role": st.sampled_from(sorted(MEMBERS)),
})


def record(path, config, commands, snapshot_every):
    """Record the presses (feedback only where the learner takes it, pauses only on a class record) and
    return every digest by seq."""
    config = dict(config)
    member = MEMBERS[config.pop("role", "none")]
    if config["learner"] == "gradient":
        commands = [c for c in commands if not isinstance(c, Rate)]
    if member is None or member.role != "class":
        commands = [c for c in commands if c != "pause"]
    paused = False
    with EventLog(str(path), snapshot_every=snapshot_every) as log:
        info = log.new_session(Settings(**config), member=member)
        for command in commands:  # one transaction per press, as the CLI does
            if command == "pause":
                paused = not paused
                command = PauseClass(paused)
            log.record(info.id, [command])
        return info.id, [row.state_digest for row in log.rows(info.id)]


@settings(max_examples=25)
@given(config=sessions, commands=presses)
def test_two_fresh_databases_give_identical_digests(tmp_path_factory, config, commands):
    """Recording the same presses into two new databases gives the same digest after every event."""
    folder = tmp_path_factory.mktemp("twin")
    _, first = record(folder / "a.db", config, commands, 7)
    _, second = record(folder / "b.db", config, commands, 1000)
    assert first == second


@settings(max_examples=25)
@given(config=sessions, commands=presses, data=st.data())
def test_rebuilding_from_any_snapshot_or_none_gives_the_recorded_state(tmp_path_factory, config, commands, data):
    """At any seq the folded state from the nearest snapshot, from none, and the in-memory fold all agree
    with the digest recorded in the event."""
    path = tmp_path_factory.mktemp("rebuild") / "log.db"
    session_id, digests = record(path, config, commands, 5)
    with EventLog(str(path), create=False) as log:
        seq = data.draw(st.integers(1, len(digests)))
        from_snapshot = log.state(session_id, seq)
        from_scratch = log.state(session_id, seq, use_snapshots=False)
        in_memory = fold(row.event() for row in log.rows(session_id, 1, seq))
        assert state_digest(from_snapshot) == state_digest(from_scratch) == state_digest(in_memory)
        assert state_digest(from_scratch) == digests[seq - 1]
        assert from_snapshot == from_scratch
        log.delete_snapshots()
        assert state_digest(log.state(session_id, seq)) == digests[seq - 1]


def test_a_fresh_process_rebuilds_the_same_state(tmp_path):
    """A new interpreter, with or without snapshots, folds the log to the digest the recorder wrote."""
    path = tmp_path / "log.db"
    session_id, digests = record(path, {"learner": "thompson", "seed": 99, "points": 30, "noise": 0.0},
                                 [Next(), Rate("good")] * 130, 50)
    code = ("import json, sys\nfrom store import EventLog\nfrom engine import state_digest\n"
            "log = EventLog(sys.argv[1], create=False)\n"
            "print(json.dumps([state_digest(log.state(sys.argv[2], use_snapshots=u)) for u in (True, False)]))\n")
    out = subprocess.run([sys.executable, "-c", code, str(path), session_id], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert json.loads(out) == [digests[-1], digests[-1]]
