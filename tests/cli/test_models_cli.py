"""The models through the CLI: new/simulate options, show --json's model keys, log --metrics, plot, replay,
and a hidden-layer session's log travelling through export/import and fork, auditing clean."""

import json

import pytest
from PIL import Image


@pytest.fixture
def net(nnreplay):
    """A gradient session with one hidden layer on xor, a fifth of the points held out, 20 presses."""
    nnreplay("new", "--data", "xor", "--hidden", "4", "--activation", "relu", "--test-share", "0.2",
             "--points", "50", "--seed", "3", "--name", "net")
    nnreplay("next", "net", "-n", "20")
    return "net"


def test_show_json_names_the_model_and_its_arrays(nnreplay, net):
    """model, params (W1 2x4, b1, W2 4x1, b2), the held-out points and their metrics; no perceptron keys."""
    shown = nnreplay.json("show", net, "--json")
    assert shown["model"] == {"features": ["x", "y"], "hidden": [4], "activation": "relu"}
    params = shown["params"]
    assert list(params) == ["W1", "b1", "W2", "b2"]
    assert [len(params["W1"]), len(params["W1"][0]), len(params["b1"]), len(params["W2"]), len(params["b2"])] == [2, 4, 4, 4, 1]
    assert len(shown["test_points"]) == 10 and shown["test_points"] == shown["points"][-10:]
    assert 0 <= shown["test_accuracy"] <= 1 and shown["test_loss"] > 0
    assert shown["settings"]["hidden"] == [4] and shown["settings"]["test_share"] == 0.2
    assert "weights" not in shown and "bias" not in shown


def test_a_default_session_keeps_weights_and_bias_and_no_model_settings(nnreplay):
    """The perceptron on x, y: weights/bias as before, params as W1 2x1 and b1, settings without model keys
    but with the portable arithmetic that folds every new session."""
    nnreplay("new", "--seed", "1", "--name", "p")
    shown = nnreplay.json("show", "p", "--json")
    assert shown["params"] == {"W1": [[shown["weights"][0]], [shown["weights"][1]]], "b1": [shown["bias"]]}
    assert set(shown["settings"]) == {"learner", "seed", "points", "noise", "lr", "step", "discount", "prior",
                                      "arithmetic"}
    assert shown["settings"]["arithmetic"] == shown["arithmetic"] == "portable-1"
    assert shown["test_points"] == [] and shown["test_accuracy"] is None


def test_show_prints_the_model_and_the_held_out_metrics(nnreplay, net):
    text = nnreplay("show", net).stdout
    assert "data      xor   features x,y   hidden 4   activation relu   17 parameters" in text
    assert "W1        2x4" in text and "held out  10 points" in text


def test_log_metrics_carries_held_out_loss_and_accuracy(nnreplay, net):
    """log --metrics --json has test_loss/test_accuracy per event; the CSV gains their columns."""
    records = nnreplay.json("log", net, "--metrics", "--json")
    assert len(records) == 21 and all(r["test_loss"] > 0 and 0 <= r["test_accuracy"] <= 1 for r in records)
    header = nnreplay("log", net, "--metrics", "--csv").stdout.splitlines()[0]
    assert header.endswith("loss,accuracy,score,test_loss,test_accuracy")


@pytest.mark.parametrize("args, message", [
    (["--data", "moons"], "Error: --data must be one of: linear, xor, circle, gauss, spiral, pg-circle, pg-xor, "
                           "pg-gauss, pg-spiral; got 'moons'\n"),
    (["--hidden", "8,x"], "Error: --hidden takes layer sizes separated by commas, like 8 or 8,4; got '8,x'\n"),
    (["--features", "x,z"], "Error: --features are a comma-separated list of: x, y, x2, y2, xy, sinx, siny; got 'x,z'\n"),
    (["--activation", "relu"], "Error: --activation shapes hidden units; add hidden layers (hidden 8) or leave the "
                               "activation out\n"),
    (["--test-share", "0.95"], "Error: --test-share is the share of points held out, from 0 to 0.9; got 0.95\n"),
])
def test_bad_model_options_are_refused_in_one_line_and_write_nothing(nnreplay, db_path, args, message):
    import os

    result = nnreplay("new", *args, ok=False)
    assert result.exit_code == 1 and result.stderr == message and result.stdout == ""
    assert not os.path.exists(db_path)


def test_simulate_plot_and_replay_a_hidden_layer_group(nnreplay, tmp_path):
    """simulate takes the model options; plot groups by model and plots held-out accuracy; replay draws it."""
    ids = nnreplay("simulate", "--learner", "gradient", "--data", "circle", "--hidden", "6", "--test-share", "0.25",
                   "--points", "40", "--sessions", "3", "--seed", "0", "--presses", "30").stdout.split()
    assert len(ids) == 3
    table = nnreplay.json("plot", *ids, "--metric", "test_accuracy", "-o", tmp_path / "held.png", "--json")
    assert [g["group"] for g in table["groups"]] == ["gradient · circle, hidden 6 tanh, 25% held out"]
    assert 0 <= table["groups"][0]["final"] <= 1
    nnreplay("replay", *ids[:2], "-o", tmp_path / "two.gif", "--max-frames", "8")
    with Image.open(tmp_path / "two.gif") as gif:
        assert gif.n_frames > 1


def test_a_hidden_layer_log_survives_export_import_and_fork(nnreplay, net, tmp_path):
    """Export, import into a fresh database and fork: the copies have the same digests and audit clean."""
    exported = tmp_path / "net.jsonl"
    nnreplay("export", net, "-o", exported)
    digest = nnreplay.json("show", net, "--json")["digest"]
    other = str(tmp_path / "other.db")
    nnreplay("--db", other, "import", exported)
    assert nnreplay.json("--db", other, "show", net, "--json")["digest"] == digest
    forked = nnreplay("fork", net, "--at", "10", "--name", "early").stdout.strip()
    assert nnreplay.json("show", forked, "--json")["seq"] == 10
    assert nnreplay.json("audit", "--json")["ok"] and nnreplay.json("--db", other, "audit", "--json")["ok"]


def test_thompson_on_a_hidden_layer_model_names_its_arms(nnreplay):
    """2P arms, named by array and index; the buttons work as on the perceptron."""
    nnreplay("new", "--learner", "thompson", "--data", "xor", "--hidden", "2", "--seed", "5", "--name", "th")
    nnreplay("next", "th", "-n", "3")
    nnreplay("rate", "th", "good")
    shown = nnreplay.json("show", "th", "--json")
    assert len(shown["posteriors"]) == 2 * (2 * 2 + 2 + 2 + 1)
    assert shown["posteriors"][0]["action"] == "W1[0,0]+" and shown["pending_action"] in {p["action"] for p in shown["posteriors"]}
    events = nnreplay.json("log", "th", "--json")
    assert len(events[-1]["payload"]["draws"]) == 18
