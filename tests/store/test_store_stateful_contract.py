"""Stateful property test of the store contract on both backends: random interleavings of new sessions,
presses, refused presses, reopening and dropping the snapshot cache keep every session equal to the engine
alone folding the same presses (the model), bit for bit, through snapshots and without."""

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from engine import BUTTONS, InvalidCommand, Next, Rate, Settings, Start, decide, fold, rng_for, state_digest

POINTS = 12


class Model:
    """One session as the engine alone sees it."""

    def __init__(self, settings_: Settings):
        self.events = decide(None, Start(settings_), rng_for(settings_.seed, 1))
        self.state = fold(self.events)

    def press(self, command) -> None:
        for event in decide(self.state, command, rng_for(self.state.settings.seed, self.state.seq + 1)):
            self.events.append(event)
            self.state = fold([event], self.state)


def machine_for(open_store):
    class StoreContract(RuleBasedStateMachine):
        sessions = Bundle("sessions")

        def __init__(self):
            super().__init__()
            self.log = open_store(snapshot_every=7)
            self.models: dict[str, Model] = {}

        def teardown(self):
            self.log.close()

        @rule(target=sessions, learner=st.sampled_from(["gradient", "thompson"]), seed=st.integers(0, 2**32))
        def new(self, learner, seed):
            settings_ = Settings(learner=learner, seed=seed, points=POINTS)
            info = self.log.new_session(settings_)
            self.models[info.id] = Model(settings_)
            return info.id

        @rule(session=sessions, count=st.integers(1, 9), batch=st.integers(1, 4))
        def next(self, session, count, batch):
            self.log.record(session, [Next()] * count, batch=batch)
            for _ in range(count):
                self.models[session].press(Next())

        @rule(session=sessions, button=st.sampled_from(sorted(BUTTONS)))
        def rate(self, session, button):
            if self.models[session].state.learner is None:
                head = self.log.head(session)
                with pytest.raises(InvalidCommand):
                    self.log.record(session, [Rate(button)])
                assert self.log.head(session) == head  # a refused press writes nothing
                return
            self.log.record(session, [Rate(button)])
            self.models[session].press(Rate(button))

        @rule()
        def reopen(self):
            self.log.close()
            self.log = open_store(create=False, snapshot_every=7)

        @rule(session=sessions)
        def drop_snapshots(self, session):
            self.log.delete_snapshots(session)

        @invariant()
        def every_session_equals_its_model(self):
            for session_id, model in self.models.items():
                expected = state_digest(model.state)
                assert state_digest(self.log.state(session_id)) == expected
                assert state_digest(self.log.state(session_id, use_snapshots=False)) == expected
                rows = list(self.log.rows(session_id))
                assert [row.event() for row in rows] == model.events

    return StoreContract


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_store_equals_the_engine_alone_under_random_operations(backend, tmp_path, request):
    if backend == "sqlite":
        from store import EventLog

        path = str(tmp_path / "log.db")
        open_store = lambda **options: EventLog(path, **options)  # noqa: E731
    else:
        from store.pg_log import PgEventLog

        url = request.getfixturevalue("pg_url")
        open_store = lambda **options: PgEventLog(url, **options)  # noqa: E731
    # one database for every example: each example checks only the sessions it started
    run_state_machine_as_test(machine_for(open_store), settings=settings(
        max_examples=15, stateful_step_count=12, deadline=None, suppress_health_check=[HealthCheck.too_slow]))
