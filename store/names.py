"""Session ids and names: ids are 32 lowercase hex digits everywhere, and a name can never be read as one.

`EventLog.resolve` looks a reference up as an id or id prefix first (4 to 32 hex digits, either case) and as
a name only after; `check_name`, the one rule for names at `new`, `fork`, `simulate` and `import`, refuses
exactly the names that could be read that way, so no name can capture a press meant for an id.
"""

from store.errors import InvalidName

MIN_PREFIX = 4
MAX_NAME = 200
ID_LENGTH = 32
HEX = frozenset("0123456789abcdef")


def is_session_id(text) -> bool:
    """Session ids are exactly 32 lowercase hex digits, wherever they come from."""
    return isinstance(text, str) and len(text) == ID_LENGTH and set(text) <= HEX


def parent_fits(session_id: str, parent_id: str, parent_seq: int, events: int) -> bool:
    """Whether a fork's parent fields can be true: another session, and a shared prefix the fork holds."""
    return parent_id != session_id and parent_seq <= events


def could_be_id(text: str) -> bool:
    # what `resolve` reads as an id or id prefix: 4 to 32 hex digits, in either case
    return MIN_PREFIX <= len(text) <= ID_LENGTH and set(text.lower()) <= HEX


def check_name(name) -> str:
    """One rule for names at `new`, `fork`, `simulate` and `import`; the message says what is wrong."""
    if not isinstance(name, str) or not name or not name.strip():
        raise InvalidName("a session name cannot be empty")
    if len(name) > MAX_NAME:
        raise InvalidName(f"a session name can be at most {MAX_NAME} characters, got {len(name):,}")
    if "\0" in name:
        raise InvalidName("a session name cannot contain a NUL character")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidName("a session name must be valid text (it holds a lone surrogate)") from None
    if could_be_id(name):
        raise InvalidName(f"the name {name!r} could be read as a session id prefix (4 to 32 hex digits), and "
                          f"ids win over names; choose a name with another character in it")
    return name
