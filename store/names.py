"""Session ids and names: ids are 32 lowercase hex digits everywhere, and a name can never be read as one.

`EventLog.resolve` looks a reference up as an id or id prefix first (4 to 32 hex digits, either case) and as
a name only after; `check_name`, the one rule for names at `new`, `fork`, `simulate` and `import`, refuses
exactly the names that could be read that way, so no name can capture a press meant for an id.
"""

from engine.names import HEX, ID_LENGTH, MAX_NAME, MIN_PREFIX, could_be_id, name_problem  # noqa: F401
from store.errors import InvalidName


def is_session_id(text) -> bool:
    """Session ids are exactly 32 lowercase hex digits, wherever they come from."""
    return isinstance(text, str) and len(text) == ID_LENGTH and set(text) <= HEX


def parent_fits(session_id: str, parent_id: str, parent_seq: int, events: int) -> bool:
    """Whether a fork's parent fields can be true: another session, and a shared prefix the fork holds."""
    return parent_id != session_id and parent_seq <= events


def check_name(name) -> str:
    """One rule for names at `new`, `fork`, `simulate` and `import`; the message says what is wrong."""
    problem = name_problem(name)
    if problem is not None:
        raise InvalidName(problem)
    return name
