"""Running `nnreplay serve` for tests: a real process on 127.0.0.1 at a free port."""

import os
import re
import subprocess
import sys
import threading

import httpx

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM = "/usr/bin/chromium"


class Server:
    """`nnreplay --db PATH serve --port 0 [args]` in its own process; `url` once it listens."""

    def __init__(self, db: str, *args: str, env: dict | None = None, before: str = ""):
        """`before`: Python run in the server process before the CLI (a setting a test needs small)."""
        env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), **(env or {})}
        self.process = subprocess.Popen([sys.executable, "-c", f"{before}\nimport cli; cli.main()", "--db", db, "serve",
                                         "--port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, env=env, cwd=ROOT)
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
