"""The one exception hierarchy of nnreplay.

Every error a person can cause derives from `NnreplayError`; its message is a sentence meant for that person.
Only the CLI turns these into `Error: ...` lines; libraries raise them and never print.
"""


class NnreplayError(Exception):
    """Root of every error nnreplay raises on purpose."""


class InvalidSetting(NnreplayError):
    """A session setting is out of range (points, noise, learning rate, ...)."""


class InvalidCommand(NnreplayError):
    """A press that does not fit the session (a feedback button on a gradient session, an unknown button)."""


class InvalidEvent(NnreplayError):
    """An event that cannot be read: unknown type, unknown schema version, or a payload that breaks its schema."""
