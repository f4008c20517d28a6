"""Running the server: bind, say where, serve until Ctrl-C, stop within a second with streams open."""

import ipaddress
import os
import socket
import sys
import threading

import uvicorn

import store
from web import codes
from web.app import build
from web.classroom import Classroom
from web.guard import LOOPBACK, WILDCARDS, allowed_hosts

GRACE_SECONDS = 1  # open responses get this long to finish after Ctrl-C; live streams end at once


def is_loopback(host: str) -> bool:
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Server(uvicorn.Server):
    """uvicorn's server, whose exit signal also ends the live streams (else shutdown waits for them)."""

    def __init__(self, config, live, db):
        super().__init__(config)
        self.live, self.db = live, db

    def handle_exit(self, sig, frame) -> None:
        self.live.stopping.set()
        # every request in flight is answered 503 at once and rolls back (web.database): the server stops
        # within GRACE_SECONDS even with workers folding or drawing, and commits nothing after that answer
        self.db.stop()
        super().handle_exit(sig, frame)


def bind(host: str, port: int) -> socket.socket:
    """The listening socket; a refused bind is one clear error, before anything else starts."""
    from store.errors import StoreError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host.strip("[]"), port), family=family, reuse_port=False)
    except OSError as exc:
        raise StoreError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", field="port") from None
    # accepted connections inherit this: without it a kept-alive client waits ~40 ms per answer for
    # a delayed ACK (Nagle's algorithm holding the body behind the headers)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def prepare(path: str, read_only: bool) -> None:
    """Open the database once before serving: a bad file is refused now, not on the first request.
    A missing one is created now (the page can start sessions; every request opens the database as it is),
    except for --read-only."""
    with store.open_log(path, create=not read_only) as log:
        if not read_only and not log.exists:  # an existing file is left as it is until the first press
            log.materialise()


def _say(text: str, err: bool = False) -> None:
    print(text, file=sys.stderr if err else sys.stdout, flush=True)


def serve(path: str, host: str = "127.0.0.1", port: int = 8765, read_only: bool = False,
          open_browser: bool = False, say=_say, lesson: dict | None = None) -> None:
    """Serve the page and the API on the database at `path` until Ctrl-C. `lesson` runs a class:
    {"name", "lesson", "settings", "max_students"} (web/classroom.py)."""
    sock = bind(host, port)  # first: a port that is taken leaves no new database file behind
    port = sock.getsockname()[1]
    try:
        prepare(path, read_only)
        room = secret = None
        if lesson is not None:
            with store.open_log(path) as log:
                room, secret = Classroom.open(log, lesson["name"], lesson["lesson"], lesson["settings"],
                                              lesson["max_students"], f"http://{_reachable(host)}:{port}/join")
    except BaseException:
        sock.close()
        raise
    # CPython's GIL switch interval is left at its 5 ms: a 1 ms one was for work now done in worker processes
    # (web/jobs.py), and its forced switches among the threads cost a busy class server 5-18% of its presses
    # a second (bench/bench_class.py --flat 60), while bench/bench_costly.py's other client still waits
    # at most 31-34 ms with either
    app = build(path, allowed_hosts(host, port), read_only, room)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", ws="none",
                            timeout_graceful_shutdown=GRACE_SECONDS, server_header=False)
    server = _Server(config, app.app.state.live, app.app.state.db)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else '[::1]' if host == '::' else shown}:{port}/"
    if not is_loopback(host) and room is None:
        say(f"warning: listening on {host}: anyone who can reach this machine on port {port} can read every "
            f"session{'' if read_only else ' and press into it'}", err=True)
    where = store.describe(path) if store.is_url(path) else os.path.abspath(path)
    say(f"serving {where}{' read-only' if read_only else ''} at {url}  (Ctrl-C to stop)")
    if room is not None:
        # the only place the secret is ever written: uvicorn's access log is off (access_log=False above)
        say(f"students: open {room.join_address} and type the code {codes.shown_code(room.code)}")
        url = f"http://{_reachable(host)}:{port}/teacher/{secret}"
        say(f"teacher: open {url} (keep it to yourself: it opens the class's overview)")
    if open_browser:
        threading.Thread(target=_open_when_started, args=(server, url), daemon=True).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the signal it caught once it has shut down
        pass
    finally:
        sock.close()
    say("stopped", err=True)


def _reachable(host: str) -> str:
    """The address others type to reach this server: for a wildcard bind, this machine's address on the
    network its default route leaves by (no packet is sent; 127.0.0.1 when there is no network)."""
    if host not in WILDCARDS:
        return f"[{host}]" if ":" in host else host
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1 (RFC 5737): never routed anywhere for real
        return probe.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        probe.close()


def _open_when_started(server, url: str) -> None:
    import time
    import webbrowser

    while not server.started and not server.should_exit:
        time.sleep(0.05)
    if server.started:
        webbrowser.open(url)

