"""The service layer: plain values in and out, errors that name their field, on a real database file."""

import json

import pytest

import service
from engine import InvalidCommand, InvalidSetting, NnreplayError
from store import EventLog, SessionNotFound
from store.errors import StoreError


@pytest.fixture
def log(db_path):
    with EventLog(db_path) as opened:
        yield opened


@pytest.fixture
def thompson(log):
    info = service.new_session(log, name="th", learner="thompson", seed=3)
    service.record(log, "th", "next", 4)
    return info


def test_new_session_builds_settings_from_keywords(log):
    """Every keyword is a Settings field; the seed is drawn when omitted and recorded in seq 1."""
    info = service.new_session(log, learner="gradient", points=12, noise=0.1, lr=0.5)
    _, state, shown = service.show(log, info.id)
    assert shown["settings"]["points"] == 12 and shown["settings"]["lr"] == 0.5
    assert state.seq == 1 and 0 <= info.seed < 2**63


@pytest.mark.parametrize("settings, field", [({"points": 0}, "points"), ({"noise": 0.9}, "noise"),
                                             ({"lr": "fast"}, "lr"), ({"colour": "red"}, "colour"),
                                             ({"learner": "sgd"}, "learner"), ({"seed": -1}, "seed")])
def test_a_refused_setting_names_its_field_and_writes_nothing(log, settings, field):
    """A bad or unknown setting raises InvalidSetting naming that setting; no session is created."""
    with pytest.raises(InvalidSetting) as refused:
        service.new_session(log, **settings)
    assert refused.value.field == field and str(refused.value)
    assert log.sessions() == []


def test_errors_stay_compatible_without_a_field():
    """NnreplayError(message) still works, with field None."""
    error = NnreplayError("plain")
    assert str(error) == "plain" and error.field is None


def test_presses_record_their_source(log, thompson):
    """record() appends `count` presses with the given source and returns the state after the last."""
    info, state = service.record(log, "th", "good", 2, source="web")
    assert state.seq == 7 and info.id == thompson.id
    payloads = [row["payload"] for row in service.events(log, "th", after=5)]
    assert [p["source"] for p in payloads] == ["web", "web"] and payloads[0]["button"] == "good"


@pytest.mark.parametrize("press, count, field", [("superb", 1, "press"), ("next", 0, "count"),
                                                 ("next", True, "count"), ("next", 10**7, "count")])
def test_a_refused_press_names_its_field(log, thompson, press, count, field):
    """An unknown press or a count out of range is refused before anything is written."""
    with pytest.raises(InvalidCommand) as refused:
        service.record(log, "th", press, count)
    assert refused.value.field == field
    assert log.head(thompson.id)[0] == 5


def test_show_at_a_seq_matches_the_fold_and_refuses_outside(log, thompson):
    """show(at=) gives that seq's state and hash; a seq outside the history names `at`."""
    _, state, shown = service.show(log, "th", at=3)
    assert shown["seq"] == 3 == state.seq
    assert shown["head_hash"] == service.events(log, "th", after=2, limit=1)[0]["hash"]
    for at in (0, 6, "3"):
        with pytest.raises(StoreError) as refused:
            service.show(log, "th", at=at)
        assert refused.value.field == "at"


def test_events_page_with_after_and_limit_and_metrics(log, thompson):
    """events(after, limit) is a window of `log --json`; with metrics each row has the state's numbers."""
    rows = service.events(log, "th", metrics=True, after=1, limit=2)
    assert [row["seq"] for row in rows] == [2, 3] and {"loss", "accuracy", "score"} <= set(rows[0])
    assert service.events(log, "th", after=5) == []
    with pytest.raises(StoreError) as refused:
        service.events(log, "th", limit=0)
    assert refused.value.field == "limit"


def test_drawing_gives_a_grid_and_predictions_from_the_engine(log, thompson):
    """drawing() sends a probability grid and a predicted label per point, each probability in [0, 1]."""
    _, state, shown = service.show(log, "th")
    drawn = service.drawing(state, 8)
    assert len(drawn["grid"]) == 8 and all(len(row) == 8 for row in drawn["grid"])
    assert all(0.0 <= p <= 1.0 for row in drawn["grid"] for p in row)
    assert len(drawn["predicted"]) == len(shown["points"])
    json.dumps(drawn)


def test_fork_names_at_and_unknown_sessions_are_not_found(log, thompson):
    """fork(at) outside the history names `at`; an unknown reference raises SessionNotFound."""
    with pytest.raises(StoreError) as refused:
        service.fork(log, "th", 99)
    assert refused.value.field == "at"
    child = service.fork(log, "th", 3, name="child")
    assert log.head(child.id)[0] == 3 and child.parent_id == thompson.id
    with pytest.raises(SessionNotFound):
        service.show(log, "nobody")


def test_list_sessions_has_the_contract_keys(log, thompson):
    """list_sessions() gives the objects of `sessions --json`."""
    [item] = service.list_sessions(log)
    assert {"id", "name", "learner", "events", "accuracy"} <= set(item) and item["events"] == 5


def test_page_state_adds_the_picture_and_can_leave_out_what_never_changes(log, thompson):
    """page_state() is show() plus grid, predictions, truth, head and event; points=False drops the points."""
    full = service.page_state(log, "th", at=2, grid=6)
    _, _, shown = service.show(log, "th", at=2)
    assert {k: full[k] for k in shown if k != "posteriors"} == {k: v for k, v in shown.items() if k != "posteriors"}
    assert full["head"] == 5 and len(full["grid"]) == 6 and len(full["truth"]) == 6
    assert full["train_points"] == len(full["points"])
    assert full["event"]["type"] == "iterated"
    small = service.page_state(log, "th", at=2, points=False)
    assert "points" not in small and small["grid"] == service.page_state(log, "th", at=2)["grid"]
    with pytest.raises(StoreError) as refused:
        service.page_state(log, "th", grid=1)
    assert refused.value.field == "grid"


def test_heads_follow_every_append_and_new_session(log, thompson):
    """heads() maps every session to its last seq, as the live channel reports it."""
    assert service.heads(log) == {thompson.id: 5}
    other = service.new_session(log, learner="gradient", seed=1)
    service.record(log, "th", "next")
    assert service.heads(log) == {thompson.id: 6, other.id: 1}


def test_json_numbers_become_the_settings_types(log):
    """A whole number for a float setting is recorded as a float, as the CLI records it."""
    info = service.new_session(log, learner="gradient", seed=1, lr=2, noise=0)
    settings = service.show(log, info.id)[2]["settings"]
    assert settings["lr"] == 2.0 and isinstance(settings["lr"], float) and isinstance(settings["noise"], float)
