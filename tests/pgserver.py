"""A throwaway PostgreSQL server for the tests and for CI, and the pytest fixtures that use it.

The server is a fresh cluster in a temporary folder: `initdb` and `pg_ctl` run as the `postgres` user when
we are root (initdb refuses root), the server listens on a Unix socket in that folder only
(listen_addresses=''), trusts local connections (nobody else can reach the folder), and skips fsync (the
data lives as long as the test run). A watchdog process stops it and removes the folder when its owner
exits, even if the owner is killed, so no run leaves a server behind.

Two ways in:
- pytest: `pg_url` gives each test a fresh empty database and drops it afterwards. The server is started
  on first use, once per test run, or taken from `NNREPLAY_TEST_PG` (a libpq URL of a server we may create
  databases on). Where no server can be started the tests skip with the reason, except with `CI=true` or
  `NNREPLAY_TEST_PG` set, where they fail: there a missing server is a broken build, not a missing tool.
- a shell (`.ci/run`): `python3 tests/pgserver.py start DIR --owner PID` prints the URL; `stop DIR`.

Only the standard library is imported at module level: the CLI mode runs before any virtual environment.
"""

import argparse
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

BIN_ENV = "NNREPLAY_PG_BIN"
URL_ENV = "NNREPLAY_TEST_PG"
START_TIMEOUT_S = 60


class Unavailable(Exception):
    """No PostgreSQL server can be started here; the message says why."""


def find_bindir() -> str:
    """The folder holding initdb, pg_ctl and postgres: $NNREPLAY_PG_BIN if set (and only it), else Debian's
    15, else the newest other version, else the one on PATH."""
    if os.environ.get(BIN_ENV):
        candidates = [os.environ[BIN_ENV]]
    else:
        candidates = ["/usr/lib/postgresql/15/bin"]
        candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_major, reverse=True)
        pg_ctl = shutil.which("pg_ctl")
        if pg_ctl:
            candidates.append(os.path.dirname(os.path.realpath(pg_ctl)))
    for folder in candidates:
        if all(os.access(os.path.join(folder, tool), os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise Unavailable(f"no PostgreSQL server binaries (initdb, pg_ctl, postgres) in {', '.join(candidates)}; "
                      f"install them with `apt-get install -y --no-install-recommends postgresql` or point "
                      f"{BIN_ENV} at their folder")


def _major(path: str) -> int:
    version = path.split(os.sep)[-2]
    return int(version) if version.isdigit() else 0


class Cluster:
    """One cluster in `folder`: data/, socket/ and server.log; run as `postgres` when we are root."""

    def __init__(self, folder: str, bindir: str | None = None):
        self.folder = os.path.abspath(folder)
        self.bindir = bindir
        self.data = os.path.join(self.folder, "data")
        self.socket = os.path.join(self.folder, "socket")
        self.log = os.path.join(self.folder, "server.log")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@/{dbname}?host={self.socket}"

    def _run(self, *argv: str, timeout: float = START_TIMEOUT_S) -> subprocess.CompletedProcess:
        command = [os.path.join(self.bindir or find_bindir(), argv[0]), *argv[1:]]
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                raise Unavailable("running as root without `runuser`: cannot run initdb as the postgres user")
            command = [runuser, "-u", "postgres", "--", *command]
        try:
            return subprocess.run(command, cwd=self.folder, capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise Unavailable(f"{argv[0]} failed: {error}") from None

    def start(self, durable: bool = False) -> None:
        """initdb and start; `durable` keeps PostgreSQL's fsync and synchronous commit (for benchmarks)."""
        self.bindir = self.bindir or find_bindir()
        os.makedirs(self.socket, exist_ok=True)
        if os.geteuid() == 0:
            self._hand_to_postgres()
        done = self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                         "--locale=C", "--no-sync", "--no-instructions")
        if done.returncode != 0:
            raise Unavailable(f"initdb failed: {_last_line(done.stderr or done.stdout)}")
        options = f"-c listen_addresses='' -k {self.socket} -c max_connections=300"
        if not durable:
            options += " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        done = self._run("pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "-t",
                         str(START_TIMEOUT_S), "start")
        if done.returncode != 0:
            raise Unavailable(f"the server did not start: {_last_line(self._log_tail() or done.stderr)}")

    def _hand_to_postgres(self) -> None:
        import pwd

        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            raise Unavailable("there is no `postgres` user to run the server as (initdb refuses root)") from None
        for path in (self.folder, self.socket):
            os.chown(path, user.pw_uid, user.pw_gid)
            os.chmod(path, 0o700)

    def _log_tail(self) -> str:
        try:
            with open(self.log, encoding="utf-8", errors="replace") as log:
                return log.read()[-2000:]
        except OSError:
            return ""

    def running(self) -> bool:
        return os.path.exists(os.path.join(self.data, "postmaster.pid"))

    def stop(self) -> None:
        """Stop the server (fast, then by signal) and remove the folder; harmless if already gone."""
        if self.running():
            done = self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "-t", "20", "stop", timeout=30)
            if done.returncode != 0:
                self._kill_postmaster()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _kill_postmaster(self) -> None:
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as pidfile:
                os.kill(int(pidfile.readline()), signal.SIGQUIT)
        except (OSError, ValueError):
            pass


def _last_line(text: str) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no message"


def start_cluster(owner_pid: int, parent: str | None = None, durable: bool = False) -> Cluster:
    """A running cluster in a new temporary folder, watched so that it stops when `owner_pid` exits."""
    cluster = Cluster(tempfile.mkdtemp(prefix="nnreplay-pg-", dir=parent))
    try:
        cluster.start(durable)
    except BaseException:
        cluster.stop()
        raise
    subprocess.Popen([sys.executable, os.path.abspath(__file__), "watch", cluster.folder, "--owner",
                      str(owner_pid)], start_new_session=True, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True)
    return cluster


def _watch(cluster: Cluster, owner_pid: int) -> None:
    while os.path.isdir(cluster.folder):
        try:
            os.kill(owner_pid, 0)
        except ProcessLookupError:
            cluster.stop()
            return
        except PermissionError:
            pass  # alive, owned by someone else
        time.sleep(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A throwaway PostgreSQL cluster for nnreplay's tests.")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start a cluster in a new folder under PARENT; print 'URL FOLDER'")
    start.add_argument("parent", nargs="?")
    start.add_argument("--owner", type=int, default=os.getppid(), help="stop the cluster when this process exits")
    stop = commands.add_parser("stop", help="stop the cluster in FOLDER and remove FOLDER")
    stop.add_argument("folder")
    watch = commands.add_parser("watch")
    watch.add_argument("folder")
    watch.add_argument("--owner", type=int, required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            cluster = start_cluster(args.owner, args.parent)
            print(cluster.url(), cluster.folder)
        elif args.command == "stop":
            Cluster(args.folder).stop()
        else:
            _watch(Cluster(args.folder), args.owner)
    except Unavailable as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    return 0


# -- pytest fixtures ---------------------------------------------------------------------------------------
try:
    import pytest
except ImportError:  # the CLI mode, before the test dependencies are installed
    pytest = None


def _required() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1") or bool(os.environ.get(URL_ENV))


def unavailable(reason: str):
    """Skip the test for want of a server, or fail it where PostgreSQL is required."""
    if _required():
        pytest.fail(f"PostgreSQL is required here (CI=true or {URL_ENV} set) but: {reason}", pytrace=False)
    pytest.skip(f"no PostgreSQL server: {reason}", allow_module_level=True)


def import_psycopg():
    """psycopg, or the test skipped (failed where PostgreSQL is required) with the extra to install."""
    try:
        import psycopg
    except ImportError:
        unavailable("psycopg is not installed (pip install -e '.[postgres]')")
    return psycopg


class Server:
    """A server we may create databases on: `admin_url` reaches its maintenance database."""

    def __init__(self, admin_url: str):
        import psycopg

        self.admin_url = admin_url
        self.admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=10)

    def url(self, dbname: str) -> str:
        """The admin URL with its database replaced by `dbname`."""
        from urllib.parse import urlsplit, urlunsplit

        return urlunsplit(urlsplit(self.admin_url)._replace(path="/" + dbname))

    def create_database(self) -> str:
        name = f"nnreplay_test_{uuid.uuid4().hex[:16]}"
        self.admin.execute(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0')
        return name

    def drop_database(self, name: str) -> None:
        self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        self.admin.close()


if pytest is not None:

    @pytest.fixture(scope="session")
    def pg_server():
        """The run's PostgreSQL server ($NNREPLAY_TEST_PG, else a throwaway cluster started now)."""
        psycopg = import_psycopg()
        cluster = None
        try:
            url = os.environ.get(URL_ENV)
            if not url:
                cluster = start_cluster(os.getpid())
                url = cluster.url()
            server = Server(url)
        except (Unavailable, psycopg.Error) as error:
            if cluster is not None:
                cluster.stop()
            unavailable(str(error).strip())
        try:
            yield server
        finally:
            server.close()
            if cluster is not None:
                cluster.stop()

    @pytest.fixture
    def pg_url(pg_server):
        """A libpq URL of a fresh, empty database (dropped after the test, connections and all)."""
        name = pg_server.create_database()
        try:
            yield pg_server.url(name)
        finally:
            pg_server.drop_database(name)


if __name__ == "__main__":
    sys.exit(main())
