"""Output targets: no file that a command writes (export, GIF, PNG, demo folder) may land on a database.

`check_target` refuses, before any work is done, a path that is the open database or one of its `-wal`,
`-shm` and `-journal` files, or any existing SQLite file. The open database is recognised by identity
(device and inode: a symlink, `./`, `..` or a hard link are the same file), and its companion files also
by resolved name, since a `-wal` that does not exist yet would still be read by SQLite once written.
"""

import contextlib
import os
import secrets
import stat

from store.errors import StoreError

SQLITE_MAGIC = b"SQLite format 3\x00"
COMPANIONS = ("", "-wal", "-shm", "-journal")


class UnsafeTarget(StoreError):
    """An output path that would overwrite a database or one of its files."""


def _identity(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _is_sqlite(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:  # a directory, a file we may not read: other checks speak about those
        return False


def check_target(path: str, database: str | None, what: str = "output") -> str:
    """`path` if writing there cannot destroy a database; raises UnsafeTarget otherwise."""
    if not path:
        raise UnsafeTarget(f"the {what} path is empty; give a file name")
    if database:
        target, resolved = _identity(path), os.path.realpath(path)
        for suffix in COMPANIONS:
            companion = database + suffix
            same = target is not None and target == _identity(companion)
            if same or resolved == os.path.realpath(companion):
                which = "the database" if not suffix else f"the database's {suffix} file"
                raise UnsafeTarget(f"{path} is {which} ({database}); writing the {what} there would destroy "
                                   f"the log: choose another file name")
    if os.path.isfile(path) and _is_sqlite(path):
        raise UnsafeTarget(f"{path} is an SQLite database; nnreplay never overwrites one with its {what}: "
                           f"choose another file name")
    resolved = os.path.realpath(path)
    for suffix in COMPANIONS[1:]:
        # another database's -wal may hold its only copy of committed transactions; its -journal, the way
        # back from a half-written one
        if resolved.endswith(suffix) and _is_sqlite(resolved[:-len(suffix)]):
            raise UnsafeTarget(f"{path} is the {suffix} file of the SQLite database {resolved[:-len(suffix)]}; "
                               f"writing the {what} there could destroy it: choose another file name")
    return path


def is_special(path: str) -> bool:
    """Whether `path` (followed through symlinks) exists and is not a regular file: a device such as
    /dev/null, /dev/stdout's pipe or terminal, a FIFO, a socket."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode) and not os.path.isdir(path)
    except OSError:
        return False


@contextlib.contextmanager
def atomic_text(path: str):
    """A text file written under a temporary name beside `path` and renamed into place on success, with the
    permissions of any file the user makes (umask). Any exception, including an interruption, removes the
    temporary file: a failed or stopped write leaves nothing behind.

    A `path` that is a device, FIFO or socket (`-o /dev/stdout`, `-o /dev/null`, `-o >(gzip > x.gz)`) is
    written into as it is: renaming over it would replace the device node itself (as root, /dev/null
    becomes a plain file) instead of writing to what it stands for."""
    if is_special(path):
        with open(path, "w", encoding="utf-8") as out:
            yield out
        return
    folder = os.path.dirname(os.path.abspath(path))
    # named here and created inside the try: a signal that lands right after the file appears (a SIGTERM
    # between mkstemp's return and a try) would otherwise leave it behind
    temporary = os.path.join(folder, f".nnreplay-{secrets.token_hex(8)}.part")
    try:
        try:
            # "x": created exclusively, with the permissions of any file the user makes (umask)
            out = open(temporary, "x", encoding="utf-8")
        except FileExistsError:  # not ours: never removed
            temporary = None
            raise
        with out:
            yield out
        os.replace(temporary, path)
    except BaseException:
        if temporary is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        raise
