"""The rule for session names, kept in the engine because a class's name is a session name that the
engine's strict parsing of `session_started` checks too (store.names raises it as InvalidName)."""

MIN_PREFIX = 4
MAX_NAME = 200
ID_LENGTH = 32
HEX = frozenset("0123456789abcdef")


def could_be_id(text: str) -> bool:
    # what `resolve` reads as an id or id prefix: 4 to 32 hex digits, in either case
    return MIN_PREFIX <= len(text) <= ID_LENGTH and set(text.lower()) <= HEX


def name_problem(name) -> str | None:
    """What is wrong with `name` as a session name, as a sentence; None when it is a name."""
    if not isinstance(name, str) or not name or not name.strip():
        return "a session name cannot be empty"
    if len(name) > MAX_NAME:
        return f"a session name can be at most {MAX_NAME} characters, got {len(name):,}"
    if "\0" in name:
        return "a session name cannot contain a NUL character"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "a session name must be valid text (it holds a lone surrogate)"
    if could_be_id(name):
        return (f"the name {name!r} could be read as a session id prefix (4 to 32 hex digits), and ids win over "
                f"names; choose a name with another character in it")
    return None
