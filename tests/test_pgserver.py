"""The throwaway PostgreSQL server of the tests and CI (tests/pgserver.py) never outlives its owner."""

import os
import signal
import subprocess
import sys
import time

import pgserver

OWNER = """
import sys
sys.path.insert(0, sys.argv[1])
import pgserver
cluster = pgserver.start_cluster(__import__("os").getpid())
print(cluster.folder, flush=True)
__import__("time").sleep(600)
"""


def postmaster(folder: str) -> int:
    with open(os.path.join(folder, "data", "postmaster.pid")) as pidfile:
        return int(pidfile.readline())


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"  # a zombie has exited already
    except FileNotFoundError:
        return False


def test_a_cluster_stops_and_its_folder_goes_when_its_owner_is_killed():
    """SIGKILL leaves the owner no chance to clean up: the watchdog stops the server and removes the folder."""
    try:
        pgserver.find_bindir()
    except pgserver.Unavailable as error:
        pgserver.unavailable(str(error))
    owner = subprocess.Popen([sys.executable, "-c", OWNER, os.path.dirname(os.path.abspath(__file__))],
                             stdout=subprocess.PIPE, text=True)
    folder = owner.stdout.readline().strip()
    pid = postmaster(folder)
    assert running(pid)
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    deadline = time.monotonic() + 30
    while os.path.exists(folder) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not os.path.exists(folder) and not running(pid)


def test_urls_name_the_socket_folder_only():
    """The server listens on a Unix socket in its own folder: the URL names that folder, no TCP host."""
    cluster = pgserver.Cluster("/tmp/nnreplay-pg-example")
    assert cluster.url("db") == "postgresql://postgres@/db?host=/tmp/nnreplay-pg-example/socket"
