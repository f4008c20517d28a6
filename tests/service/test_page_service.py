"""What the page is sent beyond `show --json`: the step, a fork's origin, the network's insides, fork names."""

import numpy as np
import pytest

import service
from engine.view import probability_grid
from store import EventLog
from store.errors import StoreError


@pytest.fixture
def log(db_path):
    with EventLog(db_path) as opened:
        service.new_session(opened, name="grad", learner="gradient", seed=3)
        service.record(opened, "grad", "next", 5)
        yield opened


def test_a_state_names_its_step_as_presses_since_the_start(log):
    """The state after event seq is step seq - 1, the number `frame` and `replay` print."""
    state = service.page_state(log, "grad", 4, points=False)
    assert (state["seq"], state["step"]) == (4, 3)


def test_a_fork_without_a_name_is_named_after_its_origin(log):
    """`grad` forked at 3 is `grad-fork-3`; a second fork there is `grad-fork-3-2`; its state names its parent."""
    first, second = service.fork(log, "grad", 3), service.fork(log, "grad", 3)
    assert (first.name, second.name) == ("grad-fork-3", "grad-fork-3-2")
    shown = service.page_state(log, first.id, points=False)
    assert (shown["parent_id"], shown["parent_seq"]) == (log.resolve("grad").id, 3)
    assert service.page_state(log, "grad", points=False)["parent_id"] is None


def test_the_network_holds_every_unit_and_weight_of_a_hidden_layer_model(log):
    """With units=N: a grid per input feature and per hidden unit, and every layer's weights, as recorded."""
    service.new_session(log, name="net", learner="gradient", seed=3, hidden=(4, 2), data="xor",
                        features=("x", "y", "xy"))
    service.record(log, "net", "next", 2)
    network = service.page_state(log, "net", units=8, points=False)["network"]
    assert network["features"] == ["x", "y", "xy"]
    assert [len(layer) for layer in network["hidden"]] == [4, 2]
    assert np.asarray(network["hidden"][0]).shape == (4, 8, 8)
    assert np.asarray(network["inputs"]).shape == (3, 8, 8)
    params = service.show(log, "net")[2]["params"]
    assert network["layers"][0]["weights"] == params["W1"] and network["layers"][2]["bias"] == params["b3"]


def test_the_units_grid_is_checked_and_costs_nothing_when_not_asked(log):
    """units out of 2..48 is refused naming `units`; without it the answer has no network; truth=False
    leaves the data set's rule out (a scrubber has it from its first answer)."""
    with pytest.raises(StoreError) as refused:
        service.page_state(log, "grad", units=1)
    assert refused.value.field == "units"
    assert "network" not in service.page_state(log, "grad", points=False)
    assert "truth" not in service.page_state(log, "grad", points=False, truth=False)
    assert service.page_state(log, "grad", points=False)["truth"] is not None


def test_a_perceptrons_input_grids_are_x_and_y(log):
    """The perceptron's diagram: inputs x and y on the cell centres, no hidden layer, one layer of weights."""
    network = service.page_state(log, "grad", units=4, points=False)["network"]
    assert network["inputs"][0][0] == [-0.75, -0.25, 0.25, 0.75] and network["hidden"] == []
    assert len(network["layers"]) == 1
    state = log.state(log.resolve("grad").id)
    assert probability_grid(state, 4).shape == (4, 4)


def test_the_metric_series_carries_held_out_columns(log):
    """metrics has test_loss and test_accuracy, null for a session that holds nothing out."""
    series = service.metric_series(log, "grad")
    assert len(series["test_accuracy"]) == 6 and set(series["test_accuracy"]) == {None}
