"""Copies of sessions: fork at a seq, export as JSON Lines, import an export."""

from typing import BinaryIO, TextIO

from store import EventLog, SessionInfo
from store.errors import InvalidExport, NameTaken, StoreError
from store.targets import check_target

from service.sessions import MAX_NAME, check_name_field, check_name_free, free_name

__all__ = ["check_target", "export", "export_to_file", "fork", "import_export", "import_exports", "read_export",
           "read_exports"]


def fork(log: EventLog, ref: str, at: int, name: str | None = None) -> SessionInfo:
    """A new session sharing session `ref`'s events 1..at (refused if that prefix fails its audit). Without
    a name it is called after its origin, `PARENT-fork-AT` (`-2`, `-3`, ... when that is taken)."""
    from store.fork import fork as fork_session

    if name is not None:
        check_name_field(name)
    from service.repress import refuse_class_record

    parent = log.resolve(ref)
    refuse_class_record(parent, next(log.rows(parent.id, 1, 1)).event().member)
    check_name_free(log, name)
    head, _ = log.head(parent.id)
    if isinstance(at, bool) or not isinstance(at, int) or not 1 <= at <= head:
        raise StoreError(f"at must be a seq of session {parent.label} (1..{head}), got {at}", field="at")
    named = name is not None
    base = parent.label[:MAX_NAME - len(f"-fork-{at}") - 6] + f"-fork-{at}"
    for _ in range(5):  # a name of our choosing that another writer took meanwhile: choose again
        try:
            return fork_session(log, parent, at, name if named else free_name(log, base))
        except NameTaken as error:
            if named:
                error.field = "name"
                raise
    raise NameTaken(f"no free name like {base!r}: other forks keep taking them; give --name", field="name")


def export(log: EventLog, ref: str, out: TextIO) -> tuple[SessionInfo, int]:
    """Write session `ref` to `out` as JSON Lines; returns (session, event count)."""
    from store.portable import export as export_session

    info = log.resolve(ref)
    return info, export_session(log, info, out)


def export_to_file(log: EventLog, ref: str, path: str) -> tuple[SessionInfo, int]:
    """Write session `ref` to the file `path` (atomically: a failed export leaves no file)."""
    from store.portable import export_to_file as export_file

    info = log.resolve(ref)
    return info, export_file(log, info, path)


def read_export(lines: BinaryIO, source: str, name: str | None = None):
    """Read and verify an export before any database is opened: a refused import writes nothing, not even
    a new database file. Returns what `import_export` writes."""
    from store.portable import read_export as read

    if name is not None:
        check_name_field(name)
    return read(bounded_lines(lines, source), source, renamed=name is not None)


def read_exports(lines: BinaryIO, source: str, name: str | None = None) -> list:
    """`read_export` of a file holding one session or several one after another (a class export); a
    new `name` renames one session only (InvalidExport, field `name`, for a file of several)."""
    from store.portable import read_exports as read

    if name is not None:
        check_name_field(name)
    found = read(bounded_lines(lines, source), source, renamed=name is not None)
    if name is not None and len(found) > 1:
        raise InvalidExport(f"name renames one session, and {source} holds {len(found)} (a class export keeps "
                            f"its sessions' names and ids): import it without a name", field="name")
    return found


def import_exports(log: EventLog, verified: list, name: str | None = None) -> list[tuple[SessionInfo, bool]]:
    """`import_export` of each session `read_exports` verified. Several sessions (a class) keep their ids:
    one already here is refused before any is written."""
    from store.errors import SessionExists

    if len(verified) > 1:
        for header, _ in verified:
            if _holds(log, header["session"]["id"]):
                raise SessionExists(f"session {header['session']['id']} ({header['session']['name']}) is already "
                                    f"in {log.path}: nothing of this file was imported")
    return [import_export(log, one, name) for one in verified]


# the longest line nnreplay writes is a session_started of 10,000 points (under 1 MB) or a thompson press on
# the largest network (under 200 KB); a longer one is not an export, and reading it whole could exhaust memory
MAX_LINE = 16 * 2**20


def bounded_lines(stream: BinaryIO, source: str, limit: int = MAX_LINE):
    """The lines of `stream`, each read with a bound: a file with no line end (`/dev/zero`, a gigabyte of
    one JSON value) is refused at the bound instead of being read whole into memory."""
    number = 0
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit:
            raise InvalidExport(f"{source}, line {number}: longer than {limit // 2**20} MB without a line end; no "
                                f"line of an export is that long")
        yield line


def import_export(log: EventLog, verified, name: str | None = None) -> tuple[SessionInfo, bool]:
    """Write a verified export; returns (session, whether it kept the exported id)."""
    from store.portable import import_session

    header, copy = verified
    if name is not None:
        check_name_free(log, name)
    elif not _holds(log, header["session"]["id"]):  # a present id is refused by import_session, by reading
        check_name_free(log, header["session"]["name"])
    info, _ = import_session(log, header, copy, name)
    return info, info.id == header["session"]["id"]


def _holds(log: EventLog, session_id: str) -> bool:
    try:
        return log.resolve(session_id).id == session_id
    except StoreError:  # not found, or a prefix of several (a full id never is)
        return False
