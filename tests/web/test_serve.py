"""`nnreplay serve` as a process: many clients at once, presses from a terminal, the live channel, Ctrl-C."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx

from store import EventLog
from serving import ROOT, Server


def events_of(db_path: str, ref: str) -> list[dict]:
    with EventLog(db_path) as log:
        info = log.resolve(ref)
        return [row.to_json() for row in log.rows(info.id)]


def terminal(db_path: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import cli; cli.main()", "--db", db_path, *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_eight_clients_and_a_terminal_pressing_at_once_lose_and_duplicate_nothing(server, recorded):
    """8 HTTP clients x 10 presses and a terminal's 10 presses on one session: 90 new events, seq 2..94 with
    no gap, each web press recorded once with source web."""
    barrier = threading.Barrier(9)
    failures = []

    def presser():
        with server.client() as http:
            barrier.wait()
            for _ in range(10):
                answer = http.post("/api/sessions/th/presses", json={"press": "next"})
                if answer.status_code != 200:
                    failures.append(answer.text)

    threads = [threading.Thread(target=presser) for _ in range(8)]
    for thread in threads:
        thread.start()
    barrier.wait()
    done = terminal(recorded, "next", "th", "-n", "10")
    for thread in threads:
        thread.join()
    assert failures == [] and done.returncode == 0, (failures, done.stderr)
    events = events_of(recorded, "th")
    assert [e["seq"] for e in events] == list(range(1, 95))
    sources = [e["payload"]["source"] for e in events[4:]]
    assert sources.count("web") == 80 and sources.count("cli") == 10


def read_stream(server, into: list, stop: threading.Event) -> None:
    with httpx.Client(base_url=server.url, timeout=None) as http:
        with http.stream("GET", "/api/live") as stream:
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    into.append(json.loads(line[6:]))
                if stop.is_set():
                    return


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_a_terminal_press_reaches_the_live_channel(server, recorded):
    """A press by `nnreplay next` in another process is pushed to an open stream with the new head."""
    messages, stop = [], threading.Event()
    threading.Thread(target=read_stream, args=(server, messages, stop), daemon=True).start()
    assert wait_for(lambda: messages, 10)
    th = EventLog(recorded).resolve("th").id
    assert messages[0]["changed"][th] == 4
    assert terminal(recorded, "next", "th").returncode == 0
    assert wait_for(lambda: any(m["changed"].get(th) == 5 for m in messages), 10), messages
    stop.set()


def test_ctrl_c_stops_within_two_seconds_with_streams_open_in_one_line(recorded):
    """SIGINT with three live streams open: the process ends promptly, says one line, no traceback."""
    server = Server(recorded)
    try:
        stops = [threading.Event() for _ in range(3)]
        received: list = []
        for stop in stops:
            threading.Thread(target=read_stream, args=(server, received, stop), daemon=True).start()
        assert wait_for(lambda: len(received) >= 3, 10)
        started = time.monotonic()
        server.process.send_signal(signal.SIGINT)
        server.process.wait(10)
        took = time.monotonic() - started
        err = server.process.stderr.read()
        assert took < 2.0, f"took {took:.2f} s"  # the bound; typically ~0.3 s
        assert err.strip().splitlines() == ["stopped"] and "Traceback" not in err
    finally:
        server.stop()


def test_a_non_loopback_host_is_served_with_a_warning(recorded):
    """--host 0.0.0.0 prints that anyone who reaches it can press; --read-only says they can only read."""
    server = Server(recorded, "--host", "0.0.0.0")
    server.stop()
    assert "warning: listening on 0.0.0.0: anyone who can reach this machine" in server.process.stderr.read()


def test_a_server_on_every_address_answers_addresses_and_its_own_names_but_not_other_names(recorded):
    """--host 0.0.0.0: any IP address and this machine's name are answered (people on the network type
    them); another name is refused, since a hostile site whose name resolves here (DNS rebinding) would
    otherwise press through any visiting browser: its Origin matches its own Host."""
    server = Server(recorded, "--host", "0.0.0.0")
    port = server.url.rsplit(":", 1)[1]
    try:
        with server.client() as http:
            for host in (f"127.0.0.1:{port}", f"10.1.2.3:{port}", f"[::1]:{port}", f"{socket.gethostname()}:{port}"):
                assert http.get("/api/server", headers={"host": host}).status_code == 200, host
            answer = http.post("/api/sessions/th/presses", json={"press": "next"},
                               headers={"host": f"rebind.example:{port}", "origin": f"http://rebind.example:{port}"})
            assert answer.status_code == 403 and answer.json()["field"] == "Host"
            assert http.get("/api/server", headers={"host": f"127.0.0.1:{int(port) + 1}"}).status_code == 403
    finally:
        server.stop()
    assert len(events_of(recorded, "th")) == 4


def test_a_missing_database_is_refused_read_only_and_a_busy_port_is_one_line(tmp_path, recorded):
    """--read-only on a missing file creates nothing; a port already taken is one error line, exit 1."""
    missing = str(tmp_path / "none.db")
    result = terminal(missing, "serve", "--read-only", "--port", "0")
    assert result.returncode == 1 and result.stderr.startswith("Error: ") and not os.path.exists(missing)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = terminal(recorded, "serve", "--port", str(taken.getsockname()[1]))
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "cannot listen" in result.stderr


def test_serving_a_database_that_does_not_exist_yet_gives_a_working_page(tmp_path):
    """`nnreplay serve` on a new file (a fresh clone's first run): the list is empty, not an error, and
    the first session can be started from the page's API; a busy port leaves no file behind."""
    fresh = str(tmp_path / "fresh.db")
    server = Server(fresh)
    try:
        with server.client() as http:
            assert http.get("/api/sessions").json() == []
            made = http.post("/api/sessions", json={"seed": 1, "name": "first"})
            assert made.status_code == 201, made.text
            assert http.get("/api/sessions").json()[0]["name"] == "first"
    finally:
        server.stop()
    assert "Traceback" not in server.process.stderr.read()
    other = str(tmp_path / "other.db")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = terminal(other, "serve", "--port", str(taken.getsockname()[1]))
    assert result.returncode == 1 and not os.path.exists(other)


def test_import_cli_loads_no_server_library():
    """`import cli` loads neither starlette, uvicorn nor asyncio: a terminal press never pays for the server."""
    code = "import sys, cli; print(sorted(m for m in ('starlette', 'uvicorn', 'asyncio', 'web') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": ROOT})
    assert result.stdout.strip() == "[]"


def test_open_starts_the_browser_on_the_page_once_it_serves(recorded, tmp_path):
    """--open hands the page's address to the user's browser ($BROWSER here: a command that writes it down)."""
    opened = tmp_path / "opened.txt"
    server = Server(recorded, "--open", env={"BROWSER": f"sh -c 'echo %s > {opened}'"})
    try:
        assert wait_for(lambda: opened.exists() and opened.read_text().strip(), 10)
        assert opened.read_text().strip() == server.url + "/"
    finally:
        server.stop()


def test_a_database_locked_past_the_busy_timeout_is_a_503_that_writes_nothing(recorded):
    """Another process holding the write lock longer than the store waits: 503, one JSON line, no event.
    (The server's busy timeout is set to 0.3 s here; it is 30 s in use.)"""
    import sqlite3

    server = Server(recorded, before="import store.log, store.schema; "
                                     "store.log.BUSY_TIMEOUT_MS = store.schema.BUSY_TIMEOUT_MS = 300")
    holder = sqlite3.connect(recorded, isolation_level=None)
    try:
        before = len(events_of(recorded, "th"))
        holder.execute("BEGIN IMMEDIATE")
        with server.client() as http:
            answer = http.post("/api/sessions/th/presses", json={"press": "next"})
        assert answer.status_code == 503 and "busy" in answer.json()["error"] and "\n" not in answer.text
        holder.execute("ROLLBACK")
        assert len(events_of(recorded, "th")) == before
    finally:
        holder.close()
        server.stop()
