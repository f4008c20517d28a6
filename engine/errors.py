"""The one exception hierarchy of nnreplay.

Every error a person can cause derives from `NnreplayError`; its message is a sentence meant for that person.
Only the CLI turns these into `Error: ...` lines; libraries raise them and never print.
"""


class NnreplayError(Exception):
    """Root of every error nnreplay raises on purpose.

    `field` names the input the error concerns ("at", "count", "points", ...) when there is one, so that
    each front end can point at its own spelling of it (the CLI's `--at`, the API's `at`). A message
    about a field starts with the field's name, which the CLI swaps for the option.
    """

    def __init__(self, message: str = "", field: str | None = None):
        super().__init__(message)
        self.field = field


class InvalidSetting(NnreplayError):
    """A session setting is out of range (points, noise, learning rate, ...)."""


class InvalidCommand(NnreplayError):
    """A press that does not fit the session (a feedback button on a gradient session, an unknown button)."""


class InvalidEvent(NnreplayError):
    """An event that cannot be read: unknown type, unknown schema version, or a payload that breaks its schema."""
