"""`nnreplay demo`: the one-command tour, end to end with small settings."""

import os
import signal
import subprocess
import sys
import time

from PIL import Image


def test_demo_writes_a_gif_a_png_and_a_clean_audited_log(nnreplay, tmp_path, db_path):
    """The demo records three showcase sessions and the curve seeds, renders, audits, and says where it all is."""
    out = tmp_path / "tour"
    result = nnreplay("demo", "--out", out, "--quick")
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[1:4]] == ["gradient", "thompson-next", "thompson-person"]
    assert "thompson by simulated person" in lines[3] and " 30 " in lines[3]
    assert [line.split()[0] for line in lines[4:6]] == ["xor-perceptron", "xor-hidden-8"]
    assert "audit: 11 sessions, 341 events: every check holds" in result.stdout
    assert f"--db {out / 'demo.db'} play thompson-person" in result.stdout
    assert f"--db {out / 'demo.db'} serve --open" in result.stdout  # the page, named on the first run
    with Image.open(out / "compare.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames > 1 and gif.size[0] == 600
    with Image.open(out / "curves.png") as png:
        assert png.format == "PNG"
    with Image.open(out / "lesson.gif") as gif:
        assert gif.n_frames > 1 and gif.size[0] == 400
    assert sorted(os.listdir(out)) == ["compare.gif", "curves.png", "demo.db", "lesson.gif"]
    audit = nnreplay("--db", out / "demo.db", "audit", "--json", ok=False)
    assert audit.exit_code == 0 and '"ok": true' in audit.stdout
    assert not os.path.exists(db_path)  # the user's own database is left alone


def test_demo_showcase_sessions_share_one_data_set_and_head_hashes_match(nnreplay, tmp_path):
    """The three showcase sessions use the same data seed, and the printed head hashes are the logs' heads."""
    out = tmp_path / "tour"
    stdout = nnreplay("demo", "--out", out, "--quick", "--seed", "4").stdout
    db = str(out / "demo.db")
    for line in stdout.splitlines()[1:4]:
        name, head = line.split()[0], line.split()[-1]
        shown = nnreplay.json("--db", db, "show", name, "--json")
        assert shown["settings"]["seed"] == 4 and shown["head_hash"].startswith(head)


def test_demo_refuses_an_existing_folder_and_changes_nothing(nnreplay, tmp_path):
    """A second run into the same folder exits 1 with one Error line and leaves the first run's files as they were."""
    out = tmp_path / "tour"
    nnreplay("demo", "--out", out, "--quick")
    before = {name: (out / name).read_bytes() for name in os.listdir(out)}
    result = nnreplay("demo", "--out", out, "--quick", ok=False)
    assert result.exit_code == 1 and result.stderr == f"Error: {out} already exists; the demo never overwrites: " \
                                                      f"remove it or pass --out NEW_DIR\n"
    assert {name: (out / name).read_bytes() for name in os.listdir(out)} == before
    assert sorted(os.listdir(tmp_path)) == ["tour"]


def test_demo_refuses_a_missing_parent_folder(nnreplay, tmp_path):
    """--out inside a folder that does not exist exits 1 and creates nothing."""
    result = nnreplay("demo", "--out", tmp_path / "no" / "tour", "--quick", ok=False)
    assert result.exit_code == 1 and "does not exist" in result.stderr
    assert os.listdir(tmp_path) == []


def test_demo_defaults_to_nnreplay_demo_in_the_current_folder(nnreplay, tmp_path, monkeypatch):
    """Without --out the demo writes ./nnreplay-demo/."""
    monkeypatch.chdir(tmp_path)
    nnreplay("demo", "--quick")
    assert sorted(os.listdir(tmp_path / "nnreplay-demo")) == ["compare.gif", "curves.png", "demo.db", "lesson.gif"]


def test_interrupted_demo_leaves_no_folder_behind(tmp_path):
    """Ctrl-C while the demo records exits 130 and removes its unfinished folder."""
    process = subprocess.Popen([sys.executable, "-m", "cli", "demo", "--out", str(tmp_path / "tour")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint)
    deadline = time.monotonic() + 60
    while not any((tmp_path / name / "demo.db").exists() for name in os.listdir(tmp_path)):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert os.listdir(tmp_path) == []


def _default_sigint() -> None:
    # a child of a shell's background job starts with SIGINT ignored, and Python keeps it ignored
    signal.signal(signal.SIGINT, signal.SIG_DFL)
