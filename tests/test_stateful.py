"""Stateful property test: random interleavings of store operations keep the log equal to an in-memory model.

The model is the engine alone: for every session it keeps the events that `decide` makes for the presses
applied so far and the state `evolve` folds from them, with no database involved. After every step, each
session's stored state (through snapshots, and by folding its parsed rows) must equal the model's, and the
audit must pass on every session the step touched.
"""

import io
import shutil
import tempfile

import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, precondition, rule

from engine import BUTTONS, InvalidCommand, Next, PauseClass, Rate, Settings, Start, decide, fold, rng_for, state_digest
from engine.membership import ClassMember
from store import EventLog
from store.audit import audit
from store.fork import fork
from store.portable import export, import_session, read_export

POINTS = 12  # small data sets keep each fold cheap; the store does not care about the size


class Model:
    """One session as the engine alone sees it: its events and their fold."""

    def __init__(self, events):
        self.events = list(events)
        self.state = fold(self.events)

    def press(self, command) -> None:
        for event in decide(self.state, command, rng_for(self.state.settings.seed, self.state.seq + 1)):
            self.events.append(event)
            self.state = fold([event], self.state)

    def prefix(self, at: int) -> "Model":
        return Model(self.events[:at])


class StoreMachine(RuleBasedStateMachine):
    sessions = Bundle("sessions")

    def __init__(self):
        super().__init__()
        self.folder = tempfile.mkdtemp(prefix="nnreplay-stateful-")
        self.path = f"{self.folder}/log.db"
        self.log = EventLog(self.path)
        self.models: dict[str, Model] = {}
        self.dirty: set[str] = set()
        self.copies = 0
        self.classes: list[tuple[str, str]] = []  # (record id, class name)

    def teardown(self):
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _touch(self, session_id: str) -> str:
        self.dirty.add(session_id)
        return session_id

    # -- recording ---------------------------------------------------------------------------------------
    @initialize(target=sessions, learner=st.sampled_from(["gradient", "thompson"]), seed=st.integers(0, 2**32))
    def first_session(self, learner, seed):
        return self.new(learner, seed)

    @rule(target=sessions, learner=st.sampled_from(["gradient", "thompson"]), seed=st.integers(0, 2**32))
    def new(self, learner, seed):
        settings_ = Settings(learner=learner, seed=seed, points=POINTS)
        info = self.log.new_session(settings_)
        self.models[info.id] = Model(decide(None, Start(settings_), rng_for(seed, 1)))
        return self._touch(info.id)

    @rule(target=sessions, role=st.sampled_from(["class", "student"]), seed=st.integers(0, 2**32))
    def new_in_a_class(self, role, seed):
        """A class record named after its class, or a student's session of the newest class (made first
        when there is none), so that the audit's class check holds as it must."""
        if role == "student" and not self.classes:
            self.new_in_a_class("class", seed)
        if role == "class":
            name = f"Form {len(self.classes) + 1}"
            member = ClassMember("class", name, lesson="auto-scored")
        else:
            record_id, name = self.classes[-1]
            member = ClassMember("student", name, class_id=record_id, student="Kofi", token="d" * 64)
        settings_ = Settings(learner="thompson", seed=seed, points=POINTS)
        info = self.log.new_session(settings_, name=name if role == "class" else None, member=member)
        if role == "class":
            self.classes.append((info.id, name))
        self.models[info.id] = Model(decide(None, Start(settings_, member=member), rng_for(seed, 1)))
        return self._touch(info.id)

    @rule(session=sessions)
    def pause_or_resume(self, session):
        """A class record toggles; any other session refuses, writing nothing."""
        model = self.models[session]
        command = PauseClass(not model.state.paused)
        if model.state.member is None or model.state.member.role != "class":
            head = self.log.head(session)
            try:
                self.log.record(session, [command])
            except InvalidCommand:
                assert self.log.head(session) == head
                return
            raise AssertionError("a pause was recorded on a session that is not a class record")
        self.log.record(session, [command])
        model.press(command)
        self._touch(session)

    @rule(session=sessions, count=st.integers(1, 6), batch=st.integers(1, 4))
    def next(self, session, count, batch):
        self.log.record(session, [Next()] * count, batch=batch)
        for _ in range(count):
            self.models[session].press(Next())
        self._touch(session)

    @rule(session=sessions)
    def next_past_a_snapshot(self, session):
        """Enough presses to cross the next snapshot boundary (every 100 events)."""
        count = 101 - self.models[session].state.seq % 100
        self.log.record(session, [Next()] * count)
        for _ in range(count):
            self.models[session].press(Next())
        self._touch(session)

    @rule(session=sessions, button=st.sampled_from(sorted(BUTTONS)))
    def rate(self, session, button):
        model = self.models[session]
        if model.state.learner is None:
            head = self.log.head(session)
            try:
                self.log.record(session, [Rate(button)])
            except InvalidCommand:
                assert self.log.head(session) == head  # a refused press writes nothing
                return
            raise AssertionError("a feedback button on a gradient session was recorded")
        self.log.record(session, [Rate(button)])
        model.press(Rate(button))
        self._touch(session)

    def _is_record(self, session: str) -> bool:
        """A copy of a class record would be a second record of its class, named otherwise: the service
        refuses to fork one, and the audit's class check would rightly report it."""
        member = self.models[session].state.member
        return member is not None and member.is_record

    # -- copies ------------------------------------------------------------------------------------------
    @rule(target=sessions, session=sessions, data=st.data())
    def fork_session(self, session, data):
        if self._is_record(session):
            return multiple()
        at = data.draw(st.integers(1, self.models[session].state.seq), label="at")
        info = fork(self.log, self.log.resolve(session), at)
        self.models[info.id] = self.models[session].prefix(at)
        return self._touch(info.id)

    @rule(target=sessions, session=sessions)
    def export_and_import(self, session):
        if self._is_record(session):
            return multiple()
        out = io.StringIO()
        export(self.log, self.log.resolve(session), out)
        header, copy = read_export(io.StringIO(out.getvalue()), "memory")
        self.copies += 1
        info, _ = import_session(self.log, header, copy, name=f"copy-{self.copies}")
        assert info.id != session  # the id was taken, so the copy got its own
        self.models[info.id] = self.models[session].prefix(self.models[session].state.seq)
        return self._touch(info.id)

    # -- the cache and the connection --------------------------------------------------------------------
    @rule(session=st.one_of(st.none(), sessions))
    def delete_snapshots(self, session):
        self.log.delete_snapshots(session)
        self.dirty.update(self.models if session is None else [session])

    @rule()
    def reopen(self):
        self.log.close()
        self.log = EventLog(self.path, create=False)

    # -- invariants --------------------------------------------------------------------------------------
    @invariant()
    def every_stored_state_equals_the_model(self):
        for session_id, model in self.models.items():
            expected = state_digest(model.state)
            assert state_digest(self.log.state(session_id)) == expected, f"state of {session_id[:8]}"

    @precondition(lambda self: self.dirty)
    @invariant()
    def touched_sessions_fold_to_the_model_and_pass_the_audit(self):
        for session_id in sorted(self.dirty):
            rows = list(self.log.rows(session_id))
            assert len(rows) == self.models[session_id].state.seq
            assert state_digest(fold(row.event() for row in rows)) == state_digest(self.models[session_id].state)
        infos = [self.log.resolve(session_id) for session_id in sorted(self.dirty)]
        reports = audit(self.log, infos)
        assert [(r.session_id[:8], [c.name for c in r.checks if not c.ok]) for r in reports if not r.ok] == []
        self.dirty.clear()


TestStoreMachine = StoreMachine.TestCase
TestStoreMachine.settings = settings(max_examples=12, stateful_step_count=20, deadline=None)
