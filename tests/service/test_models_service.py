"""The service layer with models: sessions from model keywords, the show object, what a page draws."""

import pytest

import service
from engine import InvalidSetting
from store import EventLog


@pytest.fixture
def log(db_path):
    with EventLog(db_path) as opened:
        yield opened


def test_model_keywords_start_a_session_and_show_names_the_model(log):
    info = service.new_session(log, name="ring", seed=2, points=30, data="circle", hidden=(5,), test_share=0.1)
    service.record(log, "ring", "next", 5)
    _, state, shown = service.show(log, info.id)
    assert shown["model"] == {"features": ["x", "y"], "hidden": [5], "activation": "tanh"}
    assert len(shown["test_points"]) == 3 and shown["test_accuracy"] is not None


def test_a_bad_model_keyword_names_its_field(log):
    with pytest.raises(InvalidSetting) as caught:
        service.new_session(log, data="moons")
    assert caught.value.field == "data" and str(caught.value).startswith("data ")


def test_drawing_sends_the_true_rule_and_the_training_count(log):
    """A page gets the circle's rule on the grid (positive inside) and how many points train."""
    service.new_session(log, name="ring", seed=2, points=30, data="circle", features=("x2", "y2"), test_share=0.2)
    _, state, _ = service.show(log, "ring")
    drawn = service.drawing(state, 9)
    assert drawn["truth"][4][4] > 0 > drawn["truth"][0][0] and drawn["train_points"] == 24
    assert len(drawn["predicted"]) == 30
    service.new_session(log, name="swirl", seed=2, data="spiral", hidden=(4,))
    assert service.drawing(service.show(log, "swirl")[1], 9)["truth"] is None
