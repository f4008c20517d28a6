"""Running `nnreplay serve` for tests: a real process on 127.0.0.1 at a free port."""

import os
import re
import socket
import subprocess
import sys
import threading
import time

import httpx

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM = "/usr/bin/chromium"


class Server:
    """`nnreplay --db PATH serve --port 0 [args]` in its own process; `url` once it listens."""

    def __init__(self, db: str, *args: str, env: dict | None = None, before: str = "", group: bool = False):
        """`before`: Python run in the server process before the CLI (a setting a test needs small);
        `group`: in a process group of its own, as a terminal starts it (a Ctrl-C reaches the whole group)."""
        env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), **(env or {})}
        self.process = subprocess.Popen([sys.executable, "-c", f"{before}\nimport cli; cli.main()", "--db", db, "serve",
                                         "--port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, env=env, cwd=ROOT, start_new_session=group)
        line = self.process.stdout.readline()
        found = re.search(r"at (http://\S+/)", line)
        if not found:
            self.process.kill()
            raise RuntimeError(f"the server did not start: {line!r} {self.process.stderr.read()!r}")
        self.url = found.group(1).rstrip("/")
        self.host = self.url.removeprefix("http://")
        self.code = self.teacher_link = None
        if "--class" in args:  # class mode prints the students' code and the teacher's link next
            students, teacher = self.process.stdout.readline(), self.process.stdout.readline()
            self.code = re.search(r"code (\S+)", students).group(1)
            self.teacher_link = re.search(r"open (http://\S+)", teacher).group(1)
            self.class_lines = [students, teacher]
        self.stdout_rest: list[str] = []
        threading.Thread(target=lambda: self.stdout_rest.extend(self.process.stdout), daemon=True).start()

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (the server's workers)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if int(stat(int(name))[1]) == pid:
                    found.append(int(name))
            except (OSError, IndexError):
                pass  # ended meanwhile
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time of the server and its workers: its own, its reaped children's, and its live children's."""
    fields = stat(pid)
    total = sum(int(value) for value in fields[11:15])
    for child in children(pid):
        try:
            total += sum(int(value) for value in stat(child)[11:13])
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def quiet(pid: int) -> None:
    """Wait until the server and its workers stop computing (less than 0.04 s of CPU in 0.2 s)."""
    last = cpu_seconds(pid)
    deadline = time.monotonic() + 60
    while True:
        time.sleep(0.2)
        now = cpu_seconds(pid)
        if now - last < 0.04:
            return
        last = now
        assert time.monotonic() < deadline, "the server never went quiet"


def busy_until(process, seconds: float) -> None:
    """Wait until the server has worked `seconds` of CPU past its start (the request is being computed)."""
    start = cpu_seconds(process.pid)
    deadline = time.monotonic() + 60
    while cpu_seconds(process.pid) - start < seconds:
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)


def press_and_leave(server: Server, ref: str, count: int) -> None:
    """POST a press of `count` Next steps and close the connection once the server is computing it."""
    body = f'{{"press": "next", "count": {count}}}'
    request = (f"POST /api/sessions/{ref}/presses HTTP/1.1\r\nHost: {server.host}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}")
    host, port = server.host.rsplit(":", 1)
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(request.encode())
        busy_until(server.process, 0.4)


def run_async(coroutine):
    """asyncio.run(coroutine) in a thread of its own: the browser tests' Playwright keeps an event loop
    running in the main thread for the whole session, where asyncio.run refuses to start another."""
    import asyncio

    out: dict = {}

    def target():
        try:
            out["value"] = asyncio.run(coroutine)
        except BaseException as error:  # noqa: BLE001  (raised again in the test's thread)
            out["error"] = error

    worker = threading.Thread(target=target)
    worker.start()
    worker.join()
    if "error" in out:
        raise out["error"]
    return out["value"]
